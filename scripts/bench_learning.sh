#!/usr/bin/env bash
# The learning benchmark of the students issue: PPO with the Random teacher on Stump Tracks,
# 5M env steps, 3 seeds, on the whole task space (the learning curve of % mastered on the 10x10
# test grid) and on the easy sub-space stump_height in [0, 0.5], spacing in [4, 6] (mean test
# return, to compare with the 230 mastery threshold).
#
#   bash scripts/bench_learning.sh [OUT_DIR] [SEEDS...]     # default runs/bench-learning, 0 1 2
#
# Each run takes about 5-10 minutes on one core of a 2-core VM; runs go two at a time. The
# summary (one JSON line per run, then a table) is printed at the end and can be re-made from
# the run directories with `bash scripts/bench_learning.sh OUT_DIR --summary`.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/bench-learning}"
shift || true
SUMMARY_ONLY=0
if [[ "${1:-}" == "--summary" ]]; then SUMMARY_ONLY=1; shift; fi
SEEDS=("${@:-0 1 2}")
# shellcheck disable=SC2206
SEEDS=(${SEEDS[*]})
mkdir -p "$OUT"
if [[ $SUMMARY_ONLY == 0 ]]; then
  cargo build -q --release -p teachgym
  for space in easy random; do
    for seed in "${SEEDS[@]}"; do
      dir="$OUT/$space-$seed"
      if [[ -f "$dir/checkpoint.json" ]]; then resume=(--resume); else resume=(); fi
      target/release/teachgym train --quiet --threads 1 "${resume[@]}" \
        --config "examples/configs/stump_tracks_$space.toml" --seed "$seed" --out "$dir" \
        > "$dir.log" 2>&1 &
      # Two runs at a time on a 2-core machine.
      while (( $(jobs -r | wc -l) >= 2 )); do sleep 5; done
    done
  done
  wait
fi
echo "# machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores"
python3 - "$OUT" <<'PY'
import csv, json, pathlib, sys
out = pathlib.Path(sys.argv[1])
rows = []
for run in sorted(out.iterdir()):
    evals = run / "evaluations.csv"
    if not evals.is_file():
        continue
    curve = [(int(r["global_step"]), float(r["mastered_percent"]), float(r["mean_return"]))
             for r in csv.DictReader(open(evals))]
    rows.append({"run": run.name, "curve": curve})
    print(json.dumps({"run": run.name, "final_step": curve[-1][0], "mastered_percent": curve[-1][1],
                      "mean_test_return": curve[-1][2],
                      "curve_mastered": [c[1] for c in curve]}))
print("| run | steps | % mastered (final) | mean test return (final) | best % mastered |")
print("|---|---|---|---|---|")
for r in rows:
    s, m, ret = r["curve"][-1]
    print(f"| {r['run']} | {s:,} | {m:.0f} | {ret:.1f} | {max(c[1] for c in r['curve']):.0f} |")
PY
