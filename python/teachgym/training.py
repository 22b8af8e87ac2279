"""The Rust trainer of ``teachgym train``, called from Python: same configuration schema, same
run directory, same results bit for bit, with a progress bar in terminals and notebooks.

>>> result = teachgym.train({"env": "point_mass", "teacher": "alp_gmm",
...                          "trainer": {"total_steps": 100_000}}, out="runs/pm")  # doctest: +SKIP
>>> result.evaluations[-1]["mastered_percent"]  # doctest: +SKIP

The training runs in Rust with the GIL released, so other Python threads keep running. Ctrl-C
(or an exception from ``callback``) stops it after a checkpoint: ``resume=True`` continues it.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _teachgym
from .envs import to_json

__all__ = ["TrainResult", "train"]


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns."""

    #: The run directory.
    out: Path
    #: Whether the budget is spent (``False`` after ``stop_after``).
    finished: bool
    #: Env steps taken.
    global_step: int
    #: Training episodes finished (over the whole run, including before a resume).
    episodes: int
    #: Every evaluation of the run so far, in order: dicts with ``global_step``,
    #: ``mastered_percent``, ``mean_return`` and ``returns`` (one per test task).
    evaluations: list[dict[str, Any]]


def train(
    config: Mapping[str, Any] | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    resume: bool = False,
    stop_after: int | None = None,
    progress: bool = True,
    callback: Callable[[dict[str, Any]], object] | None = None,
) -> TrainResult:
    """Trains as ``teachgym train --config CONFIG --out OUT`` does.

    ``config``: a dict of the configuration (the fields of a config file, e.g.
    ``{"env": "stump_tracks", "teacher": "alp_gmm", "trainer": {"total_steps": 1_000_000}}``;
    missing fields take their defaults) or the path of a TOML config file. ``resume``: continue
    the run in ``out`` from its checkpoint. ``stop_after``: stop (with a checkpoint) after this
    many env steps. ``progress``: a progress bar (tqdm's, which draws in notebooks too, when
    tqdm is installed; else a line per evaluation on stderr). ``callback(report)``: called after
    each learning iteration with a dict of ``global_step``, ``planned_steps``, ``episodes``,
    ``recent_mean_return`` and ``new_evaluations``; an exception it raises stops the run (after
    a checkpoint) and is raised again.

    ``ValueError`` for a bad configuration (naming the field), a run directory that holds
    another run, a corrupt checkpoint; ``TypeError`` for arguments of the wrong type."""
    if isinstance(config, Mapping):
        text, fmt = to_json(config, "config"), "json"
    elif isinstance(config, (str, os.PathLike)):
        path = Path(config)
        if not path.is_file():
            raise ValueError(f"config {str(config)!r} is not a file; pass a dict or the path of a TOML config file")
        text, fmt = path.read_text(encoding="utf-8"), "toml"
    else:
        raise TypeError(f"config must be a dict or the path of a TOML file, got {type(config).__name__}")
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path, got {type(out).__name__}")
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be a bool, got {resume!r}")
    if stop_after is not None and (isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 0):
        raise ValueError(f"stop_after must be a non-negative int or None, got {stop_after!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    out = Path(out)
    bar = _ProgressBar() if progress else None

    def on_iteration(row: tuple[int, int, int, float, list[tuple[int, float, float]]]) -> None:
        step, planned, episodes, mean_return, evaluations = row
        report = {
            "global_step": step,
            "planned_steps": planned,
            "episodes": episodes,
            "recent_mean_return": mean_return,
            "new_evaluations": [
                {"global_step": s, "mastered_percent": m, "mean_return": r} for s, m, r in evaluations
            ],
        }
        if bar is not None:
            bar.update(report)
        if callback is not None:
            callback(report)

    try:
        finished, global_step, episodes = _teachgym.train(
            text, fmt, os.fspath(out), resume, stop_after, on_iteration
        )
    finally:
        if bar is not None:
            bar.close()
    evaluations = []
    jsonl = out / "evaluations.jsonl"
    if jsonl.is_file():
        with open(jsonl, encoding="utf-8") as f:
            evaluations = [json.loads(line) for line in f if line.strip()]
    return TrainResult(out=out, finished=finished, global_step=global_step, episodes=episodes, evaluations=evaluations)


class _ProgressBar:
    """tqdm's bar (``tqdm.auto``: a widget in notebooks) when tqdm is installed, else a plain
    line per evaluation on stderr."""

    def __init__(self) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self._tqdm_class = tqdm
        self._bar: Any = None
        self._mastered = "-"

    def update(self, report: dict[str, Any]) -> None:
        for e in report["new_evaluations"]:
            self._mastered = f"{e['mastered_percent']:.1f}%"
            if self._tqdm_class is None:
                print(
                    f"step {e['global_step']:>10}: {e['mastered_percent']:5.1f}% of test tasks mastered, "
                    f"mean test return {e['mean_return']:8.2f}",
                    file=sys.stderr,
                )
        if self._tqdm_class is None:
            return
        if self._bar is None:
            self._bar = self._tqdm_class(total=report["planned_steps"], unit="step", unit_scale=True)
        self._bar.n = report["global_step"]
        self._bar.set_postfix(
            episodes=report["episodes"], mean_return=f"{report['recent_mean_return']:.1f}", mastered=self._mastered,
            refresh=False,
        )
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass(frozen=True)
class ClassroomBuild:
    """What :func:`build_classroom` did."""

    #: The classroom file written.
    path: Path
    #: Names (run directory names) of the students that entered.
    entered: list[str]
    #: Names of the students the entry rule left out.
    left_out: list[str]


def build_classroom(
    runs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    alp_threshold: float | None = None,
    keep_all: bool = False,
) -> ClassroomBuild:
    """Assembles a classroom for :class:`teachgym.teachers.Again`, as ``teachgym classroom build
    RUNS... --out OUT`` does: ``runs`` are run directories of ALP-GMM runs (from :func:`train`
    or ``teachgym train``; each writes ``classroom_entry.json``) or entry files. A student
    enters only if its ALP-GMM history has a Gaussian with mean ALP above ``alp_threshold``
    (``None``: the default, 0.2 on the reference's [0, 1] return scale), unless ``keep_all``.
    ``ValueError`` for a run without an entry, entries on other task spaces or test sets, or
    nobody entering."""
    if isinstance(runs, (str, os.PathLike)):
        raise TypeError("runs must be a list of run directories, not one path")
    paths = [os.fspath(r) for r in runs]
    if not paths:
        raise ValueError("no runs given: a classroom needs at least one finished ALP-GMM run")
    if alp_threshold is not None:
        if isinstance(alp_threshold, bool) or not isinstance(alp_threshold, (int, float)):
            raise TypeError(f"alp_threshold must be a number, got {alp_threshold!r}")
        if not math.isfinite(alp_threshold):
            raise ValueError(f"alp_threshold must be finite, got {alp_threshold}")
    if not isinstance(keep_all, bool):
        raise TypeError(f"keep_all must be a bool, got {keep_all!r}")
    entered, left_out = _teachgym.build_classroom(
        paths, os.fspath(out), None if alp_threshold is None else float(alp_threshold), keep_all
    )
    return ClassroomBuild(Path(out), entered, left_out)
