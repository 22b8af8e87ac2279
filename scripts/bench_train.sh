#!/usr/bin/env bash
# End-to-end training throughput (env + learning) of `teachgym train` PPO on Stump Tracks against
# Stable-Baselines3 PPO on gymnasium's BipedalWalker-v3 with the same hyper-parameters (8 env
# copies, 2048-step rollouts, minibatch 64, 10 epochs, 64-64 tanh networks, observation and
# reward normalisation), in the same run on this machine.
#
#   bash scripts/bench_train.sh [STEPS]      # default 65536 steps each
#
# Installs gymnasium[box2d], stable-baselines3 and CPU torch into a throwaway venv (removed at
# exit). teachgym's run skips evaluations (one cheap test task at the end) so that only training
# is timed; both use 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${1:-65536}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 -m venv "$WORK/venv"
# CPU-only torch: the CPU wheel index when reachable, else PyPI's default wheel.
"$WORK/venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
  || "$WORK/venv/bin/pip" install -q torch
"$WORK/venv/bin/pip" install -q 'gymnasium[box2d]' stable-baselines3 numpy
cargo build -q --release -p teachgym

echo "# machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores"
printf 'stump_height,obstacle_spacing\n0.0,6.0\n' > "$WORK/one_task.csv"
cat > "$WORK/bench.toml" <<TOML
env = "stump_tracks"
teacher = "random"
student = "ppo"
test_set = "$WORK/one_task.csv"
[trainer]
total_steps = $STEPS
num_envs = 8
threads = 2
eval_every = 1000000000000
eval_at_start = false
[ppo]
preset = "clean_rl"       # 2048-step rollouts over 8 envs, minibatch 64, 10 epochs: the peer's
anneal_lr = false         # SB3 keeps the learning rate constant
TOML
start=$(date +%s.%N)
target/release/teachgym train --quiet --config "$WORK/bench.toml" --out "$WORK/run" > /dev/null
end=$(date +%s.%N)
tg=$(python3 -c "print(round($STEPS / ($end - $start)))")
echo "{\"teachgym_train_steps_per_second\": $tg, \"steps\": $STEPS}"
sb3=$("$WORK/venv/bin/python" scripts/sb3_train_peer.py --steps "$STEPS" --threads 2)
echo "$sb3"
python3 - "$tg" "$sb3" <<'PY'
import json, sys
tg = float(sys.argv[1]); sb3 = json.loads(sys.argv[2])["steps_per_second"]
print(json.dumps({"ratio_teachgym_over_sb3": tg / sb3, "teachgym": tg, "sb3": sb3}))
PY
