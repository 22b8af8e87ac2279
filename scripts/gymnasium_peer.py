"""Peer measurements on gymnasium's BipedalWalker-v3 (Box2D), for BENCHMARKS.md.

Prints one JSON line per measurement:
- throughput: steps/s of `gym.make("BipedalWalker-v3")` under uniform random actions (resets
  included), and the mean reset time;
- random-policy statistics over N steps: falls (reward -100), time-outs, mean episode length.
"""
import argparse
import json
import time

import gymnasium as gym
import gymnasium.envs.box2d.bipedal_walker as bipedal_walker
import numpy as np
from gymnasium.wrappers import TimeLimit


def throughput(steps, resets, seed):
    env = gym.make("BipedalWalker-v3")
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(rng.uniform(-1, 1, 4).astype(np.float32))
        if term or trunc:
            env.reset()
    step_time = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(resets):
        env.reset(seed=i)
    reset_time = time.perf_counter() - start
    return {"steps_per_second": steps / step_time, "reset_us": reset_time * 1e6 / resets}


def flat_bipedal_walker():
    """BipedalWalker-v3 with its terrain roughness removed (teachgym's flat track), 1600 steps.

    The roughness is one line of the generator; the class is rebuilt from its own source with
    that term set to zero, so nothing else changes.
    """
    source = open(bipedal_walker.__file__).read()
    rough = "velocity += self.np_random.uniform(-1, 1) / SCALE"
    assert rough in source, "gymnasium's terrain generator changed; update this script"
    namespace = {}
    exec(compile(source.replace(rough, "velocity += 0.0"), bipedal_walker.__file__, "exec"), namespace)
    return TimeLimit(namespace["BipedalWalker"](), 1600)


def random_stats(steps, seed, flat=False):
    env = flat_bipedal_walker() if flat else gym.make("BipedalWalker-v3")
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    episodes = falls = timeouts = total_len = length = 0
    for _ in range(steps):
        _, reward, term, trunc, _ = env.step(rng.uniform(-1, 1, 4).astype(np.float32))
        length += 1
        if term or trunc:
            episodes += 1
            falls += int(term and reward == -100)
            timeouts += int(trunc)
            total_len += length
            length = 0
            env.reset()
    return {
        "steps": steps,
        "episodes": episodes,
        "falls": falls,
        "timeouts": timeouts,
        "mean_length": total_len / max(episodes, 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--resets", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flat-runs", type=int, default=8, help="50k-step random runs, flat terrain")
    parser.add_argument("--first-run", type=int, default=0, help="seed of the first throughput run")
    parser.add_argument(
        "--throughput-only", action="store_true", help="skip the random-policy statistics"
    )
    args = parser.parse_args()
    for r in range(args.first_run, args.first_run + args.repeat):
        print(json.dumps({"gymnasium_throughput": throughput(args.steps, args.resets, r)}))
    if args.throughput_only:
        return
    print(json.dumps({"gymnasium_random_policy": random_stats(args.steps, 0)}))
    for seed in range(args.flat_runs):
        print(json.dumps({"gymnasium_random_policy_flat": random_stats(50_000, seed, flat=True)}))


if __name__ == "__main__":
    main()
