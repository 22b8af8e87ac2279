"""Stable-Baselines3 PPO on Stump Tracks with an ALP-GMM curriculum.

The teacher is the task source of every env: it picks the task of each episode (including
SB3's autoresets) and learns from each finished episode, so the SB3 training loop is unchanged.

    pip install ./python stable-baselines3
    python examples/python/sb3_ppo_alpgmm.py --timesteps 200000 --n-envs 4

Prints the curriculum's progress (mean task, mean return of the last episodes) as it trains and
saves the policy and the teacher state at the end.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

import teachgym
from teachgym.teachers import ALPGMM


class CurriculumLog(BaseCallback):
    """Every `every` steps: how many episodes the teacher has seen, their mean return, the tasks."""

    def __init__(self, teacher: "LoggingTeacher", every: int) -> None:
        super().__init__()
        self.teacher, self.every = teacher, every

    def _on_step(self) -> bool:
        if self.num_timesteps % self.every < self.training_env.num_envs and self.teacher.returns:
            recent = self.teacher.returns[-50:]
            tasks = np.array(self.teacher.tasks[-50:])
            print(
                f"steps {self.num_timesteps:>8}  episodes {len(self.teacher.returns):>5}  "
                f"mean return {np.mean(recent):8.1f}  mean task {np.round(tasks.mean(0), 2).tolist()}",
                flush=True,
            )
        return True


class LoggingTeacher(ALPGMM):
    """ALP-GMM that keeps the returns and tasks it was given, for the log."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.returns: list[float] = []
        self.tasks: list[np.ndarray] = []

    def update(self, task, episode_return, success, length=0) -> None:
        super().update(task, episode_return, success, length)
        self.returns.append(float(episode_return))
        self.tasks.append(np.asarray(task))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=200_000)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--body", default="classic_bipedal")
    parser.add_argument("--max-episode-steps", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("out/sb3_ppo_alpgmm"))
    args = parser.parse_args()
    # The MLP is tiny: torch's intra-op threads only add synchronisation on a small machine.
    torch.set_num_threads(1)

    task_space = gym.make("teachgym/StumpTracks-v0").unwrapped.task_space
    teacher = LoggingTeacher(task_space, seed=args.seed)
    env = make_vec_env(
        "teachgym/StumpTracks-v0",
        n_envs=args.n_envs,
        seed=args.seed,
        env_kwargs={
            "body": args.body,
            "teacher": teacher,  # one teacher shared by every env of this process
            "config": {"max_episode_steps": args.max_episode_steps},
        },
    )
    model = PPO("MlpPolicy", env, n_steps=2048 // args.n_envs, batch_size=64, seed=args.seed, device="cpu", verbose=0)
    model.learn(total_timesteps=args.timesteps, callback=CurriculumLog(teacher, every=10_000))

    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "ppo")
    (args.out / "teacher.json").write_text(json.dumps(teacher.state_dict()))
    print(f"saved policy and teacher state to {args.out}; the teacher saw {len(teacher.returns)} episodes")


if __name__ == "__main__":
    main()
