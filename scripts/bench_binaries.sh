#!/usr/bin/env bash
# Two builds of `teachgym` against each other on the same training run, in the same run of
# this script: the way to measure a speed-up that must not change results (a kernel, a buffer).
#
#   bash scripts/bench_binaries.sh OLD_BINARY NEW_BINARY CONFIG STEPS [ROUNDS] [RESUME_DIR]
#
# Each round runs `teachgym train --config CONFIG --steps STEPS --threads 1` (one evaluation at
# the end) with OLD, then with NEW, and prints the user CPU seconds of each: on a VM shared with
# other jobs, CPU time moves much less than wall time. With RESUME_DIR (a run directory with a
# checkpoint, e.g. one 500k steps into a long run, whose later steps cost more than a fresh
# run's), each binary instead resumes a copy of it for STEPS more env steps (`--resume
# --stop-after`), so the times include loading and saving its checkpoint.
# At the end it checks that both builds wrote byte-identical episodes.csv and evaluations.csv
# (round 1), and prints the median times and their ratio. Default ROUNDS: 3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 4 ]; then
  sed -n '2,14p' "$0"
  exit 2
fi
OLD="$1"
NEW="$2"
CONFIG="$3"
STEPS="$4"
ROUNDS="${5:-3}"
RESUME="${6:-}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for binary in "$OLD" "$NEW"; do
  [ -x "$binary" ] || { echo "not an executable: $binary" >&2; exit 2; }
done

run() { # run NAME BINARY ROUND -> prints user CPU seconds
  local out="$WORK/$1-r$3"
  local args
  if [ -n "$RESUME" ]; then
    cp -r "$RESUME" "$out"
    local start
    start="$(tail -n 1 "$out/evaluations.csv" | cut -d, -f1)"
    args=(--resume --stop-after "$((start + STEPS))")
  else
    args=(--config "$CONFIG" --steps "$STEPS" --eval-every "$STEPS")
  fi
  /usr/bin/time -f "%U" -o "$out.time" "$2" train --quiet --threads 1 --out "$out" "${args[@]}" \
    >/dev/null 2>"$out.log"
  cat "$out.time"
  # Keep only what the comparison reads: checkpoints of long runs are gigabytes.
  if [ "$3" != 1 ]; then rm -rf "$out"; fi
}

old_times=()
new_times=()
for round in $(seq 1 "$ROUNDS"); do
  old_times+=("$(run old "$OLD" "$round")")
  new_times+=("$(run new "$NEW" "$round")")
  echo "round $round: old ${old_times[-1]} s, new ${new_times[-1]} s (user CPU)"
done
for file in episodes.csv evaluations.csv; do
  if cmp -s "$WORK/old-r1/$file" "$WORK/new-r1/$file"; then
    echo "$file: identical"
  else
    echo "$file: DIFFERENT between the two builds" >&2
    exit 1
  fi
done
python3 - "${old_times[*]}" "${new_times[*]}" <<'EOF'
import statistics, sys
old = statistics.median(map(float, sys.argv[1].split()))
new = statistics.median(map(float, sys.argv[2].split()))
print(f"median user CPU: old {old:.1f} s, new {new:.1f} s, ratio {old / new:.2f}x")
EOF
