#!/usr/bin/env bash
# End-to-end training throughput (env + learning) of `teachgym train` on Stump Tracks against
# Stable-Baselines3 on gymnasium's BipedalWalker-v3 with the same hyper-parameters, in the same
# run on this machine:
# - ppo: 8 env copies, 2048-step rollouts, minibatch 64, 10 epochs, 64-64 tanh networks,
#   observation and reward normalisation;
# - sac: one env, 256-256 ReLU, batch 256, one gradient step per env step, α tuned (the
#   `clean_rl` SAC preset), timed after 1 000 random start steps and 1 000 steps with updates.
#
#   bash scripts/bench_train.sh [STEPS] [ppo|sac]   # default 65536 steps, ppo
#
# Installs gymnasium[box2d], stable-baselines3 and CPU torch into a throwaway venv (removed at
# exit), or uses the venv SB3_VENV names (installing into it once). teachgym's run skips
# evaluations (one cheap test task at the end) so that only training
# is timed; both use 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${1:-65536}"
ALGO="${2:-ppo}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# SB3_VENV: a venv that already has the peer's packages (kept between runs); else a throwaway.
VENV="${SB3_VENV:-$WORK/venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import stable_baselines3, torch, Box2D' 2>/dev/null; then
  python3 -m venv "$VENV"
  # CPU-only torch: the CPU wheel index when reachable, else PyPI's default wheel.
  "$VENV/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
    || "$VENV/bin/pip" install -q torch
  "$VENV/bin/pip" install -q 'gymnasium[box2d]' stable-baselines3 numpy
fi
cargo build -q --release -p teachgym

echo "# machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores"
printf 'stump_height,obstacle_spacing\n0.0,6.0\n' > "$WORK/one_task.csv"
if [ "$ALGO" = sac ]; then
  # The SB3 peer warms up for 2 000 steps (1 000 random ones) and times the rest; teachgym's run
  # is timed from its start, so it does the same 2 000 steps before the timed ones and its
  # time for those 2 000 is measured separately and subtracted.
  WARM=2000
  cat > "$WORK/bench.toml" <<TOML
env = "stump_tracks"
teacher = "random"
student = "sac"
test_set = "$WORK/one_task.csv"
[trainer]
total_steps = $((STEPS + WARM))
num_envs = 1
threads = 2
eval_every = 1000000000000
eval_at_start = false
[sac]
preset = "clean_rl"
start_steps = 1000
learning_starts = 1000
TOML
  sed "s/^total_steps = .*/total_steps = $WARM/" "$WORK/bench.toml" > "$WORK/warm.toml"
  start=$(date +%s.%N)
  target/release/teachgym train --quiet --config "$WORK/warm.toml" --out "$WORK/warm" > /dev/null
  end=$(date +%s.%N)
  warm_seconds=$(python3 -c "print($end - $start)")
  start=$(date +%s.%N)
  target/release/teachgym train --quiet --config "$WORK/bench.toml" --out "$WORK/run" > /dev/null
  end=$(date +%s.%N)
  tg=$(python3 -c "print(round($STEPS / ($end - $start - $warm_seconds)))")
  echo "{\"teachgym_train_steps_per_second\": $tg, \"steps\": $STEPS, \"algo\": \"sac\"}"
  sb3=$("$VENV/bin/python" scripts/sb3_train_peer.py --algo sac --steps "$STEPS" --threads 2)
  echo "$sb3"
  python3 - "$tg" "$sb3" <<'PY'
import json, sys
tg = float(sys.argv[1]); sb3 = json.loads(sys.argv[2])["steps_per_second"]
print(json.dumps({"ratio_teachgym_over_sb3": tg / sb3, "teachgym": tg, "sb3": sb3}))
PY
  exit 0
fi
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
sb3=$("$VENV/bin/python" scripts/sb3_train_peer.py --steps "$STEPS" --threads 2)
echo "$sb3"
python3 - "$tg" "$sb3" <<'PY'
import json, sys
tg = float(sys.argv[1]); sb3 = json.loads(sys.argv[2])["steps_per_second"]
print(json.dumps({"ratio_teachgym_over_sb3": tg / sb3, "teachgym": tg, "sb3": sb3}))
PY
