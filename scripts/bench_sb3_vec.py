"""SB3 PPO end to end (env steps per second of `model.learn`) on the same envs behind three
vector envs: teachgym's native vector env through `teachgym.sb3.make_sb3_vec_env`, SB3's
`SubprocVecEnv` and SB3's `DummyVecEnv` of the single envs (both from SB3's `make_vec_env`).

    python scripts/bench_sb3_vec.py --num-envs 8 --steps 8192 --repeats 2 --num-threads 1

Runs are interleaved (each repeat runs every configuration once); the table gives the median
and every run. Needs teachgym and stable-baselines3 installed (the test venv of
scripts/test_python.sh has both). Tasks are uniform (no teacher), the same for every backend.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import teachgym  # noqa: F401  (registers the ids)
from teachgym.sb3 import make_sb3_vec_env

ENVS = {"PointMass": "teachgym/PointMass-v0", "StumpTracks": "teachgym/StumpTracks-v0"}
BACKENDS = ("native", "subproc", "dummy")


def make_env(backend: str, env_id: str, num_envs: int, seed: int):
    if backend == "native":
        return make_sb3_vec_env(env_id, num_envs, seed=seed)
    cls = SubprocVecEnv if backend == "subproc" else DummyVecEnv
    return make_vec_env(env_id, n_envs=num_envs, seed=seed, vec_env_cls=cls)


def run(backend: str, env_id: str, args: argparse.Namespace, seed: int) -> float:
    env = make_env(backend, env_id, args.num_envs, seed)
    try:
        model = PPO(
            "MlpPolicy", env, n_steps=args.rollout_steps, batch_size=args.batch_size, n_epochs=args.epochs,
            seed=seed, device="cpu",
        )
        start = time.perf_counter()
        model.learn(total_timesteps=args.steps)
        elapsed = time.perf_counter() - start
        return model.num_timesteps / elapsed
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=8192, help="env steps per run (rounded up to rollouts)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--num-threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--rollout-steps", type=int, default=256, help="PPO n_steps (per env)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--envs", default=",".join(ENVS), help=f"comma-separated, from {', '.join(ENVS)}")
    args = parser.parse_args()
    torch.set_num_threads(args.num_threads)
    names = args.envs.split(",")
    results: dict[tuple[str, str], list[float]] = {(n, b): [] for n in names for b in BACKENDS}
    for repeat in range(args.repeats):
        for name in names:
            for backend in BACKENDS:
                rate = run(backend, ENVS[name], args, seed=repeat)
                results[(name, backend)].append(rate)
                print(f"repeat {repeat} {name:12s} {backend:8s} {rate:9.0f} steps/s", flush=True)
    print()
    print(f"SB3 PPO, {args.num_envs} envs, {args.steps} steps per run, n_steps {args.rollout_steps}, "
          f"batch {args.batch_size}, {args.epochs} epochs, torch threads {args.num_threads}")
    print("| env | native adapter | SubprocVecEnv | DummyVecEnv | adapter / subproc | adapter / dummy |")
    print("|---|---|---|---|---|---|")
    for name in names:
        med = {b: statistics.median(results[(name, b)]) for b in BACKENDS}
        runs = {b: ", ".join(f"{r:,.0f}" for r in results[(name, b)]) for b in BACKENDS}
        print(
            f"| {name} | **{med['native']:,.0f}** ({runs['native']}) | {med['subproc']:,.0f} ({runs['subproc']}) "
            f"| {med['dummy']:,.0f} ({runs['dummy']}) | {med['native'] / med['subproc']:.2f}× "
            f"| {med['native'] / med['dummy']:.2f}× |"
        )


if __name__ == "__main__":
    main()
