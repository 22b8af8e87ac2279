#!/usr/bin/env bash
# Parkour (issue 17): throughput and reset time of every body against gymnasium's
# BipedalWalker-v3 in the same run, and random-policy episode statistics per body.
#
#   bash scripts/bench_parkour.sh [ROUNDS]     # JSON lines, then a Markdown summary, on stdout
#
# Uses $GYM_VENV if it has gymnasium[box2d], else installs it into a throwaway venv. Measures:
#   1. single-thread steps/s (uniform random actions, resets included) and the mean reset time
#      (CPPN + terrain + world build) of each body on the first task of the walking test set
#      (dry) and of the swimming test set (water up to the ceiling), interleaved with gymnasium's
#      BipedalWalker-v3 in ROUNDS rounds (default 3) so that all see the same machine load;
#   2. per body, the random policy's episodes on the first 10 tasks of each set (20k steps per
#      task): falls, deaths by water, mean return, length and final x.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
VENV="${GYM_VENV:-$OUT/venv}"
if ! "$VENV/bin/python" -c "import gymnasium.envs.box2d" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'gymnasium[box2d]' numpy
fi
cargo build -q --release -p teachgym
TG=target/release/teachgym
BODIES=$(python3 -c "
import re; src = open('envs/src/walker/body.rs').read()
print(' '.join(re.findall(r'Embodiment::\w+ => \"(\w+)\"', src)))")
task_of() { sed -n "$2p" "examples/test_sets/parkour_$1.csv"; }

echo "# machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores; bodies: $BODIES"
for round in $(seq 1 "$ROUNDS"); do
  for set in walking swimming; do
    for body in $BODIES; do
      $TG bench --env parkour --body "$body" --task="$(task_of $set 2)" --steps 50000 --resets 500 \
        --repeat 1 | sed -n "1s/^/{\"set\": \"$set\", \"body\": \"$body\", \"run\": /; 1s/\$/}/p" \
        | tee -a "$OUT/tg.json"
    done
  done
  "$VENV/bin/python" scripts/gymnasium_peer.py --steps 20000 --resets 200 --repeat 1 \
    --first-run "$round" --throughput-only | tee -a "$OUT/gym.json"
done
for set in walking swimming; do
  for body in $BODIES; do
    for row in $(seq 2 11); do
      printf '{"set": "%s", "body": "%s", "stats": %s}\n' "$set" "$body" \
        "$($TG stats --env parkour --body "$body" --task="$(task_of $set "$row")" --steps 20000 --seed "$row")"
    done
  done
done | tee "$OUT/stats.json"
OUT="$OUT" "$VENV/bin/python" - <<'PY'
import json, os, statistics
out = os.environ["OUT"]
tg = [json.loads(l) for l in open(f"{out}/tg.json")]
gy = statistics.median(json.loads(l)["gymnasium_throughput"]["steps_per_second"] for l in open(f"{out}/gym.json"))
stats = [json.loads(l) for l in open(f"{out}/stats.json")]
print(f"\ngymnasium BipedalWalker-v3: {gy:,.0f} steps/s (median)\n")
print("| body | set | steps/s | vs gymnasium | reset µs | episodes | falls | deaths | mean return | mean length | mean final x (m) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for body in dict.fromkeys(t["body"] for t in tg):
    for s in ("walking", "swimming"):
        runs = [t["run"] for t in tg if t["body"] == body and t["set"] == s]
        sps = statistics.median(r["steps_per_second"] for r in runs)
        reset = statistics.median(r["reset_us"] for r in runs)
        st = [x["stats"] for x in stats if x["body"] == body and x["set"] == s]
        eps = sum(x["episodes"] for x in st)
        w = lambda k: sum(x[k] * x["episodes"] for x in st) / max(eps, 1)
        print(f"| `{body}` | {s} | {sps:,.0f} | {sps / gy:.1f}× | {reset:.0f} | {eps} | "
              f"{sum(x['falls'] for x in st)} | {sum(x['deaths'] for x in st)} | {w('mean_return'):.1f} | "
              f"{w('mean_length'):.0f} | {w('mean_final_x'):.1f} |")
PY
