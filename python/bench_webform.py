"""Throughput of the web forms from Python: the single env with a random valid action per step,
and 16 envs in the native vector env against gymnasium's SyncVectorEnv.

Run after `pip install ./python` (numbers in BENCHMARKS.md section 9):

    python python/bench_webform.py [rounds]

Prints the median and every round of each configuration, in env-steps per second.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

# Import the installed package (with its compiled module), not the source tree next to this file.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import teachgym  # noqa: E402, F401  (registers the ids)

SINGLE_STEPS = 5_000
NUM_ENVS = 16
VECTOR_CALLS = 300


def single(env_id: str) -> float:
    """Steps/s of one env, a uniformly random valid action (from the mask) per step."""
    env = gym.make(env_id).unwrapped
    width = 1 + int(env.action_space.nvec[2]) if env_id.endswith("MD-v0") else 0
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(SINGLE_STEPS):
        a = int(rng.choice(np.flatnonzero(obs["action_mask"])))
        if width:
            slot, j = divmod(a, width)
            a = [slot, 0, 0] if j == 0 else [slot, 1, j - 1]
        obs, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            obs, _ = env.reset()
    return SINGLE_STEPS / (time.perf_counter() - start)


def vector(mode: str, **kwargs) -> float:
    """Env-steps/s of NUM_ENVS flat web forms, each stepped with its first valid action."""
    envs = gym.make_vec("teachgym/WebForm-v0", num_envs=NUM_ENVS, vectorization_mode=mode, **kwargs)
    obs, _ = envs.reset(seed=0)
    start = time.perf_counter()
    for _ in range(VECTOR_CALLS):
        obs, *_ = envs.step(np.argmax(obs["action_mask"], axis=1))
    return NUM_ENVS * VECTOR_CALLS / (time.perf_counter() - start)


CONFIGS = {
    "WebForm-v0 single, random valid action": lambda: single("teachgym/WebForm-v0"),
    "WebFormMD-v0 single, random valid action": lambda: single("teachgym/WebFormMD-v0"),
    f"native vector N={NUM_ENVS}, threads=1": lambda: vector("vector_entry_point", num_threads=1),
    f"native vector N={NUM_ENVS}, threads=2": lambda: vector("vector_entry_point", num_threads=2),
    f"native vector N={NUM_ENVS}, threads=1, copy=False": lambda: vector(
        "vector_entry_point", num_threads=1, copy=False
    ),
    f"SyncVectorEnv N={NUM_ENVS}": lambda: vector("sync"),
}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    # Interleaved rounds, so that a change of machine load hits every configuration alike.
    results: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(rounds):
        for name, run in CONFIGS.items():
            results[name].append(run())
    for name, runs in results.items():
        print(f"{name}: {statistics.median(runs):,.0f} ({', '.join(f'{r:,.0f}' for r in runs)})")


if __name__ == "__main__":
    main()
