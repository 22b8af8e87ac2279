"""Stable-Baselines3 SAC on teachgym's Stump Tracks easy corner (stumps <= 0.5, spacing 4-6, tasks
drawn uniformly), with the values of the teachgym SAC run it is compared with in BENCHMARKS.md
§11.7: 64-64 ReLU, lr 7.3e-4, buffer 300 000, batch 256, gamma 0.99, tau 0.02, alpha tuned,
10 000 steps before learning, one gradient step per env step, one env, one torch thread.

usage: python scripts/sb3_sac_easy_corner.py STEPS OUT.csv [SEED]
(needs the teachgym package and stable-baselines3, e.g. the venv of scripts/test_python.sh).
Writes every training episode (step, return, length) to OUT.csv and prints a running mean.
"""
import csv
import sys
import time

import gymnasium as gym
import numpy as np
import teachgym  # noqa: F401  (registers the teachgym/ envs)
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback

EASY_CORNER = {"stump_height": [0.0, 0.5], "obstacle_spacing": [4.0, 6.0]}


class EpisodeLog(BaseCallback):
    """Keeps every finished episode and prints the mean of the last 20."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, float, int]] = []
        self.start = time.time()

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                self.rows.append((self.num_timesteps, float(info["episode"]["r"]), int(info["episode"]["l"])))
                if len(self.rows) % 20 == 0:
                    last = self.rows[-20:]
                    rate = self.num_timesteps / (time.time() - self.start)
                    print(
                        f"{self.num_timesteps} return {np.mean([r[1] for r in last]):.1f} "
                        f"length {np.mean([r[2] for r in last]):.0f} ({rate:.0f} steps/s)",
                        flush=True,
                    )
        return True


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    steps, out = int(sys.argv[1]), sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 0
    torch.set_num_threads(1)
    env = gym.wrappers.RecordEpisodeStatistics(gym.make("teachgym/StumpTracks-v0", bounds=EASY_CORNER))
    model = SAC(
        "MlpPolicy",
        env,
        learning_rate=7.3e-4,
        buffer_size=300_000,
        batch_size=256,
        gamma=0.99,
        tau=0.02,
        learning_starts=10_000,
        train_freq=1,
        gradient_steps=1,
        ent_coef="auto",
        policy_kwargs={"net_arch": [64, 64]},
        seed=seed,
        device="cpu",
    )
    log = EpisodeLog()
    model.learn(steps, callback=log)
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "return", "length"])
        writer.writerows(log.rows)


if __name__ == "__main__":
    main()
