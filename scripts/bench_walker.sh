#!/usr/bin/env bash
# Walker throughput and calibration, measured in one run against gymnasium's BipedalWalker-v3.
#
#   bash scripts/bench_walker.sh            # results on stdout, as JSON lines
#
# Installs gymnasium[box2d] into a throwaway venv (removed at exit), builds teachgym in release
# mode, then measures on this machine:
#   1. single-thread steps/s and reset time: teachgym Stump Tracks (classic_bipedal) and
#      gymnasium BipedalWalker-v3, and their ratio;
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
TG=target/release/teachgym

echo "# machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores"
echo "# teachgym throughput (stump_tracks, classic_bipedal, task 1.5,3)"
$TG bench --env stump_tracks --body classic_bipedal --task 1.5,3 --steps 200000 --resets 2000 --repeat 3 | tee /tmp/tg_bench.json
echo "# gymnasium peer"
"$VENV/bin/python" scripts/gymnasium_peer.py --steps 20000 --resets 200 --repeat 3 | tee /tmp/gym_bench.json
echo "# teachgym random policy, flat track, 1600-step episodes, 8 runs of 50k steps"
for run in 0 1 2 3 4 5 6 7; do
  printf '{"body": "old_classic_bipedal", "stats": %s}\n' \
    "$($TG stats --env stump_tracks --body old_classic_bipedal --task 0,6 --max-episode-steps 1600 --steps 50000 --seed $((run * 1000)))"
done
"$VENV/bin/python" - <<'PY'
import json, statistics
tg = [json.loads(l) for l in open("/tmp/tg_bench.json")]
gy = [json.loads(l)["gymnasium_throughput"] for l in open("/tmp/gym_bench.json") if "throughput" in l]
tg_med = tg[-1]["steps_per_second_median"]
gy_med = statistics.median(g["steps_per_second"] for g in gy)
print(json.dumps({"ratio_steps_per_second_median": tg_med / gy_med,
                  "teachgym_median": tg_med, "gymnasium_median": gy_med,
                  "reset_us_teachgym": tg[-1]["reset_us_median"],
                  "reset_us_gymnasium": statistics.median(g["reset_us"] for g in gy)}))
PY
