#!/usr/bin/env bash
# The learning benchmark of the web-form issue (QWeb-style DQN student, `teachgym train --env
# webform --student dqn`):
#   1. easy: 1–3-field single-page forms (every widget kind, semantic level), Random teacher,
#      50k env steps, % mastered on examples/test_sets/webform_easy.csv (30 cold-start forms);
#   2. medium: up to 6 fields, 2 pages, 4 distractors (no instruction noise or label ambiguity),
#      ALP-GMM vs Random at the same budget (40k env steps), % mastered on
#      examples/test_sets/webform_medium.csv (24 forms of 4–6 fields, 2 pages, 2 distractors);
#   3. hard: the whole task space (up to 8 fields, 2 pages, 8 distractors, noise, ambiguity,
#      shuffle, warm starts), ALP-GMM vs Random at the same budget (100k env steps), % mastered
#      on examples/test_sets/webform_hard.csv (240 forms of 6–8 fields, 2 pages, distractors: 12
#      parameter vectors × 20 seeds; its first 24 rows were the whole set before 2026-11-27);
#   4. wide: the env's whole default task space (up to 12 fields, 4 pages, 24 distractors),
#      ALP-GMM vs Random at the same budget (100k env steps), % mastered on
#      examples/test_sets/webform_wide.csv (240 forms of 6–8 fields, 2 pages, 4–8 distractors).
#
#   bash scripts/bench_webform_learning.sh [OUT_DIR] [SEEDS...]   # default runs/bench-webform, 1 2
#   bash scripts/bench_webform_learning.sh OUT_DIR --summary      # re-print the table
#
# Runs go two at a time under `nice -n 19`; each takes minutes on a 2-core VM.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/bench-webform}"
shift || true
SUMMARY_ONLY=0
if [[ "${1:-}" == "--summary" ]]; then SUMMARY_ONLY=1; shift; fi
SEEDS=("${@:-1 2}")
# shellcheck disable=SC2206
SEEDS=(${SEEDS[*]})
mkdir -p "$OUT"
if [[ $SUMMARY_ONLY == 0 ]]; then
  cargo build -q --release -p teachgym
  BIN="${CARGO_TARGET_DIR:-target}/release/teachgym"
  for config in easy medium_alp_gmm medium_random hard_alp_gmm hard_random wide_alp_gmm \
    wide_random; do
    for seed in "${SEEDS[@]}"; do
      dir="$OUT/$config-$seed"
      if [[ -f "$dir/checkpoint.json" ]]; then resume=(--resume); else resume=(); fi
      nice -n 19 "$BIN" train --quiet "${resume[@]}" \
        --config "examples/configs/webform_$config.toml" --seed "$seed" --out "$dir" \
        > "$dir.log" 2>&1 &
      while (( $(jobs -r | wc -l) >= 2 )); do sleep 5; done
    done
  done
  wait
fi
echo "# machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores"
python3 - "$OUT" <<'PY'
import csv, pathlib, sys
out = pathlib.Path(sys.argv[1])
print("| run | seed | % mastered at each evaluation (step: %) | final % |")
print("|---|---|---|---|")
for d in sorted(p for p in out.iterdir() if p.is_dir()):
    rows = list(csv.DictReader(open(d / "evaluations.csv")))
    curve = ", ".join(f"{int(r['global_step'])//1000}k: {float(r['mastered_percent']):.0f}" for r in rows)
    name, seed = d.name.rsplit("-", 1)
    final = float(rows[-1]["mastered_percent"]) if rows else float("nan")
    print(f"| {name} | {seed} | {curve} | {final:.1f} |")
PY
