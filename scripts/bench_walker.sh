#!/usr/bin/env bash
# Walker throughput and calibration, measured in one run against gymnasium's BipedalWalker-v3.
#
#   bash scripts/bench_walker.sh            # results on stdout, as JSON lines
#
# Installs gymnasium[box2d] into a throwaway venv (removed at exit), builds teachgym in release
# mode and with profile-guided optimisation (scripts/build_pgo.sh), then measures on this machine:
#   1. single-thread steps/s and reset time: teachgym Stump Tracks (classic_bipedal), plain and
#      PGO builds, and gymnasium BipedalWalker-v3, in three interleaved rounds (so that all three
#      see the same machine load), and the ratios;
#   2. random-policy statistics with 1600-step episodes (gymnasium's limit): falls, time-outs,
#      mean length; teachgym's old_classic_bipedal (gymnasium's body) on a flat track, 8 × 50k
#      steps, against gymnasium on its own terrain (20k steps) and on a flat terrain (8 × 50k).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$VENV")"' EXIT
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q 'gymnasium[box2d]' numpy
cargo build -q --release -p teachgym
bash scripts/build_pgo.sh >/dev/null
TG=target/release/teachgym
TG_PGO=target/pgo/release/teachgym
OUT="$(dirname "$VENV")"

echo "# machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores"
echo "# throughput (stump_tracks, classic_bipedal, task 1.5,3; gymnasium BipedalWalker-v3), 3 rounds"
declare -A BIN=([plain]="$TG" [pgo]="$TG_PGO")
for round in 0 1 2; do
  for build in plain pgo; do
    "${BIN[$build]}" bench --env stump_tracks --body classic_bipedal --task 1.5,3 --steps 200000 \
      --resets 2000 --repeat 1 \
      | sed -n "1s/^/{\"build\": \"$build\", \"run\": /; 1s/\$/}/p" | tee -a "$OUT/tg.json"
  done
  "$VENV/bin/python" scripts/gymnasium_peer.py --steps 20000 --resets 200 --repeat 1 \
    --first-run "$round" --throughput-only | tee -a "$OUT/gym.json"
done
echo "# gymnasium random policy"
"$VENV/bin/python" scripts/gymnasium_peer.py --repeat 0
echo "# teachgym random policy, flat track, 1600-step episodes, 8 runs of 50k steps"
for run in 0 1 2 3 4 5 6 7; do
  printf '{"body": "old_classic_bipedal", "stats": %s}\n' \
    "$($TG stats --env stump_tracks --body old_classic_bipedal --task 0,6 --max-episode-steps 1600 --steps 50000 --seed $((run * 1000)))"
done
OUT="$OUT" "$VENV/bin/python" - <<'PY'
import json, os, statistics
out = os.environ["OUT"]
tg = [json.loads(l) for l in open(f"{out}/tg.json")]
gy = [json.loads(l)["gymnasium_throughput"] for l in open(f"{out}/gym.json")]
gy_med = statistics.median(g["steps_per_second"] for g in gy)
summary = {"gymnasium_median": gy_med,
           "reset_us_gymnasium": statistics.median(g["reset_us"] for g in gy)}
for build in ("plain", "pgo"):
    runs = [t["run"] for t in tg if t["build"] == build]
    med = statistics.median(r["steps_per_second"] for r in runs)
    summary[f"teachgym_{build}_median"] = med
    summary[f"ratio_{build}"] = med / gy_med
    summary[f"reset_us_teachgym_{build}"] = statistics.median(r["reset_us"] for r in runs)
print(json.dumps(summary))
PY
