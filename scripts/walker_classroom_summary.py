#!/usr/bin/env python3
"""The table of the walker classroom (issue 16, BENCHMARKS.md §3.6) from the run directories that
scripts/walker_classroom.sh writes: per teacher, each new student's final % of the test grid
mastered and mean test return, their mean ± std, and one-sided Welch p-values of AGAIN against
ALP-GMM and Random; then the classroom students' final results and which of them entered.

Usage: python3 scripts/walker_classroom_summary.py OUT_DIR   (standard library only)
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import sys
from pathlib import Path

TEACHERS = ("again", "alp_gmm", "random")


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta function (Lentz's method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with df degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def welch_greater(a: list[float], b: list[float]) -> float:
    """One-sided Welch p-value of mean(a) > mean(b); NaN when both samples are constant."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0.0:
        return math.nan
    t = (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return student_t_sf(t, df)


def final_evaluation(run: Path) -> tuple[int, float, float]:
    with open(run / "evaluations.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    last = rows[-1]
    return int(last["global_step"]), float(last["mastered_percent"]), float(last["mean_return"])


def main(out: Path) -> None:
    # Checked values of the t distribution: scipy.stats.t.sf(2, 10), and the density integrated
    # numerically from -1 (trapezoids of 1e-3 up to 2000) for a fractional df.
    assert abs(student_t_sf(2.0, 10) - 0.036694017385370196) < 1e-9
    assert abs(student_t_sf(-1.0, 3.5) - 0.80933136) < 1e-7
    news = sorted(p for p in (out / "new").iterdir() if p.is_dir())
    students = sorted({p.name.split("-", 1)[1] for p in news})
    print("| new student | " + " | ".join(f"{t}: % mastered / mean test return" for t in TEACHERS) + " |")
    print("|---|" + "---|" * len(TEACHERS))
    mastered: dict[str, list[float]] = {t: [] for t in TEACHERS}
    returns: dict[str, list[float]] = {t: [] for t in TEACHERS}
    for student in students:
        cells = []
        for teacher in TEACHERS:
            run = out / "new" / f"{teacher}-{student}"
            if not (run / "summary.json").is_file():
                cells.append("(unfinished)")
                continue
            step, m, r = final_evaluation(run)
            mastered[teacher].append(m)
            returns[teacher].append(r)
            cells.append(f"{m:.0f} / {r:.1f}")
        print(f"| {student} (at {step:,} steps) | " + " | ".join(cells) + " |")
    print("| **mean ± std** | " + " | ".join(
        f"**{statistics.fmean(mastered[t]):.1f} ± {statistics.stdev(mastered[t]):.1f}** / "
        f"{statistics.fmean(returns[t]):.1f} ± {statistics.stdev(returns[t]):.1f}"
        if len(mastered[t]) > 1 else "-" for t in TEACHERS) + " |")
    for other in ("alp_gmm", "random"):
        if len(mastered["again"]) > 1 and len(mastered[other]) > 1:
            print(f"\none-sided Welch p, AGAIN > {other}: % mastered {welch_greater(mastered['again'], mastered[other]):.3g}, "
                  f"mean test return {welch_greater(returns['again'], returns[other]):.3g}")
    classroom = json.loads((out / "walker_classroom.json").read_text())
    entered = {s["name"] for s in classroom["students"]}
    print("\n| classroom student | % mastered / mean test return at the end | entered |")
    print("|---|---|---|")
    for run in sorted(p for p in (out / "classroom").iterdir() if p.is_dir()):
        step, m, r = final_evaluation(run)
        print(f"| {run.name} | {m:.0f} / {r:.1f} | {'yes' if run.name in entered else 'no'} |")
    names = [s["name"] for s in classroom["students"]]
    print()
    for run in sorted(p for p in (out / "new").iterdir() if p.is_dir() and p.name.startswith("again-")):
        # The teacher's state in the run's checkpoint holds its choice of expert.
        teacher = json.loads(json.loads((run / "checkpoint.json").read_text())["trainer"]["teacher"])
        choice = teacher["state"].get("choice")
        if choice:
            neighbours = ", ".join(names[i] for i in choice["neighbours"])
            print(f"- {run.name}: expert {choice['name']} (nearest in KC space: {neighbours})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
