#!/usr/bin/env bash
# The learning benchmarks: `teachgym train` on example configs over several seeds, two runs at a
# time, then one table of the learning curves (% of the test set mastered at each evaluation,
# final mean test return).
#
#   bash scripts/bench_learning.sh SUITE [OUT_DIR] [SEEDS...]
#   bash scripts/bench_learning.sh SUITE OUT_DIR --summary        # re-print the table
#
# Suites (each config is examples/configs/<name>.toml):
#   walker   PPO with the Random teacher on Stump Tracks, 5M env steps: on the whole task space
#            (% mastered on the 10x10 test grid) and on the easy corner stump_height in [0, 0.5],
#            spacing in [4, 6] (mean test return, against the 230 mastery threshold).
#            Configs stump_tracks_easy, stump_tracks_random; default seeds 0 1 2; 5-10 minutes a
#            run on one core of a 2-core VM.
#   walker20m  PPO on the whole Stump Tracks space for 20M env steps with a reward floor of -10,
#            Random against ALP-GMM (issue 14). Configs stump_tracks_full_random,
#            stump_tracks_full_alp_gmm; default seeds 0 1 2; 20-30 minutes a run on one core.
#   webform  The QWeb-style DQN on the web forms: easy (1-3 fields, Random, 50k steps), then
#            ALP-GMM against Random at the same budget on medium (up to 6 fields, 2 pages, 40k
#            steps), hard (up to 8 fields, noise, ambiguity, 100k steps; 240-form test set) and
#            wide (the env's whole default space, 100k steps; 240-form test set), and QWeb's
#            scheduled curriculum on the hard forms with goal simulation opened. Configs
#            webform_*; default seeds 1 2; minutes a run.
#   webform2m  Issue 20.5's recipe (webform_hard_long*: 2M env steps, 200 000-transition replay,
#            the hard 240-form test set every 100k): ALP-GMM, Random, QWeb's schedule, and
#            MetaQWeb without the oracle (`teachgym meta-train`). Default seeds 1 2 3; 1.5-3 hours a
#            run on one core, ~1.4 GB of memory and a ~1.3 GB checkpoint each.
#
# An entry NAME:TEACHER runs examples/configs/NAME.toml with --teacher TEACHER; a config with a
# [meta] section runs through `teachgym meta-train`.
#
# Runs go under `nice -n 19`; an interrupted run is resumed where its checkpoint stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE="${1:-}"
case "$SUITE" in
  walker)
    CONFIGS=(stump_tracks_easy stump_tracks_random)
    DEFAULT_SEEDS="0 1 2"
    ;;
  walker20m)
    CONFIGS=(stump_tracks_full_random stump_tracks_full_alp_gmm)
    DEFAULT_SEEDS="0 1 2"
    ;;
  webform)
    CONFIGS=(webform_easy webform_medium_alp_gmm webform_medium_random webform_hard_alp_gmm
      webform_hard_random webform_wide_alp_gmm webform_wide_random webform_hard_qweb_schedule)
    DEFAULT_SEEDS="1 2"
    ;;
  webform2m)
    CONFIGS=(webform_hard_long webform_hard_long:random webform_hard_long_qweb_schedule
      webform_hard_long_meta)
    DEFAULT_SEEDS="1 2 3"
    ;;
  *)
    echo "usage: bash scripts/bench_learning.sh walker|walker20m|webform|webform2m [OUT_DIR] [SEEDS...|--summary]" >&2
    exit 2
    ;;
esac
shift
OUT="${1:-runs/bench-$SUITE}"
shift || true
SUMMARY_ONLY=0
if [[ "${1:-}" == "--summary" ]]; then SUMMARY_ONLY=1; shift; fi
SEEDS=("${@:-$DEFAULT_SEEDS}")
# shellcheck disable=SC2206
SEEDS=(${SEEDS[*]})
mkdir -p "$OUT"
if [[ $SUMMARY_ONLY == 0 ]]; then
  cargo build -q --release -p teachgym
  BIN="${CARGO_TARGET_DIR:-target}/release/teachgym"
  for entry in "${CONFIGS[@]}"; do
    config="${entry%%:*}"
    teacher=()
    name="$config"
    if [[ "$entry" == *:* ]]; then teacher=(--teacher "${entry#*:}"); name="$config-${entry#*:}"; fi
    command=(train --quiet)
    if grep -q '^\[meta\]' "examples/configs/$config.toml"; then command=(meta-train); fi
    for seed in "${SEEDS[@]}"; do
      dir="$OUT/$name-$seed"
      if [[ -f "$dir/summary.json" && ! -f "$dir/checkpoint.json" && ${command[0]} == meta-train ]]; then
        continue  # a finished meta-train run
      fi
      if [[ -f "$dir/checkpoint.json" ]]; then
        args=(--resume --out "$dir")
      else
        args=(--config "examples/configs/$config.toml" "${teacher[@]}" --seed "$seed" --out "$dir")
      fi
      nice -n 19 "$BIN" "${command[@]}" --threads 1 "${args[@]}" > "$dir.log" 2>&1 &
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
print("| run | seed | % mastered at each evaluation (step: %) | final % | final mean test return |")
print("|---|---|---|---|---|")
for run in sorted(p for p in out.iterdir() if (p / "evaluations.csv").is_file()):
    rows = list(csv.DictReader(open(run / "evaluations.csv")))
    if not rows:
        continue
    curve = ", ".join(f"{int(r['global_step'])//1000}k: {float(r['mastered_percent']):.0f}" for r in rows)
    name, seed = run.name.rsplit("-", 1)
    final = rows[-1]
    print(f"| {name} | {seed} | {curve} | {float(final['mastered_percent']):.1f} "
          f"| {float(final['mean_return']):.2f} |")
    print(json.dumps({"run": run.name, "final_step": int(final["global_step"]),
                      "mastered_percent": float(final["mastered_percent"]),
                      "mean_test_return": float(final["mean_return"])}), file=sys.stderr)
PY
