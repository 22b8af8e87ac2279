"""Throughput of teachgym through Python, against gymnasium's BipedalWalker-v3 (and EnvPool's,
when it is installed) in the same run.

Measures, with uniform random actions drawn beforehand and a reset whenever an episode ends:
1. single env: ``gym.make("teachgym/StumpTracks-v0")`` (with gymnasium's checker and
   order-enforcing wrappers, as users get it) and its unwrapped env, against
   ``gym.make("BipedalWalker-v3")``;
2. the native vector env (``gym.make_vec``), N envs × T threads, env-steps/s;
3. EnvPool's BipedalWalker-v3 with the same N and T, if ``import envpool`` works.

Repeats are interleaved (one run of every configuration per round) so that a busy machine slows
all of them alike; the medians are reported, with steps per CPU-second of the process (all its
threads), which a busy machine disturbs less than wall-clock rates. Prints JSON lines, then a
Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import gymnasium as gym
import numpy as np

import teachgym

TASK = [1.5, 3.0]  # the task of scripts/bench_walker.sh


def single(make, steps: int, seed: int) -> tuple[float, float]:
    env = make()
    actions = np.random.default_rng(seed).uniform(-1, 1, (steps, 4)).astype(np.float32)
    env.reset(seed=seed)
    start, cpu = time.perf_counter(), time.process_time()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start), steps / (time.process_time() - cpu)


def vector(make, num_envs: int, calls: int, seed: int) -> tuple[float, float]:
    envs = make()
    actions = np.random.default_rng(seed).uniform(-1, 1, (calls, num_envs, 4)).astype(np.float32)
    envs.reset(seed=seed)
    start, cpu = time.perf_counter(), time.process_time()
    for a in actions:
        envs.step(a)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    envs.close()
    return calls * num_envs / elapsed, calls * num_envs / cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--single-steps", type=int, default=20_000)
    p.add_argument("--vector-steps", type=int, default=200_000, help="env-steps per vector run")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--batches", default="16,64")
    p.add_argument("--threads", default="1,2")
    args = p.parse_args()

    try:
        import envpool
    except Exception as e:  # not installed, or no wheel for this platform / numpy
        envpool = None
        print(json.dumps({"envpool": f"unavailable: {e!r}"}))

    configs: dict[str, callable] = {
        "teachgym StumpTracks-v0, gym.make": lambda: single(
            lambda: gym.make("teachgym/StumpTracks-v0", task=TASK), args.single_steps, 0
        ),
        "teachgym StumpTracks-v0, unwrapped": lambda: single(
            lambda: gym.make("teachgym/StumpTracks-v0", task=TASK).unwrapped, args.single_steps, 0
        ),
        "gymnasium BipedalWalker-v3, gym.make": lambda: single(
            lambda: gym.make("BipedalWalker-v3"), args.single_steps // 4, 0
        ),
    }
    for n in map(int, args.batches.split(",")):
        for t in map(int, args.threads.split(",")):
            calls = max(1, args.vector_steps // n)
            configs[f"teachgym native vector, N={n}, threads={t}"] = (
                lambda n=n, t=t, calls=calls: vector(
                    lambda: gym.make_vec("teachgym/StumpTracks-v0", num_envs=n, num_threads=t, task=TASK),
                    n, calls, 0,
                )
            )
            if envpool is not None:
                configs[f"EnvPool BipedalWalker-v3, N={n}, threads={t}"] = (
                    lambda n=n, t=t, calls=calls: vector(
                        lambda: envpool.make_gymnasium("BipedalWalker-v3", num_envs=n, num_threads=t, seed=0),
                        n, max(1, calls // 10), 0,
                    )
                )

    results: dict[str, list[float]] = {k: [] for k in configs}
    per_cpu: dict[str, list[float]] = {k: [] for k in configs}
    for round_ in range(args.repeat):
        for name, run in configs.items():
            sps, cps = run()
            results[name].append(sps)
            per_cpu[name].append(cps)
            print(json.dumps({"round": round_, "config": name, "steps_per_second": round(sps),
                              "steps_per_cpu_second": round(cps)}), flush=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    med_cpu = {k: statistics.median(v) for k, v in per_cpu.items()}
    gym_single = med["gymnasium BipedalWalker-v3, gym.make"]
    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at end {os.getloadavg()[0]:.1f}; python {platform.python_version()}, "
          f"gymnasium {gym.__version__}, teachgym {teachgym.__version__}"
          + (f", envpool {envpool.__version__}" if envpool is not None else ", envpool unavailable"))
    print()
    print("| configuration | steps/s (median) | runs | vs gymnasium single env | steps per CPU-second (median) |")
    print("|---|---|---|---|---|")
    for name, values in results.items():
        runs = ", ".join(f"{v:,.0f}" for v in values)
        print(f"| {name} | **{med[name]:,.0f}** | {runs} | {med[name] / gym_single:.1f}× | {med_cpu[name]:,.0f} |")


if __name__ == "__main__":
    main()
