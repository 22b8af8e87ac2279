"""A Stable-Baselines3 run driven by a teacher: the teacher hears of every episode."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teachgym
from teachgym.teachers import ALPGMM

sb3 = pytest.importorskip("stable_baselines3")
import torch  # noqa: E402

# The policies are tiny: intra-op threads only add synchronisation (5x slower on 2 busy cores).
torch.set_num_threads(1)
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.monitor import Monitor  # noqa: E402


class CountingTeacher:
    """ALP-GMM that counts its calls."""

    def __init__(self, task_space: teachgym.TaskSpace) -> None:
        self.inner = ALPGMM(task_space, seed=0, fit_rate=20)
        self.samples = 0
        self.updates: list[float] = []

    def sample_task(self) -> np.ndarray:
        self.samples += 1
        return self.inner.sample_task()

    def update(self, task, episode_return, success) -> None:
        self.updates.append(episode_return)
        self.inner.update(task, episode_return, success)


def test_sb3_ppo_with_a_teacher_reports_every_episode() -> None:
    space = gym.make("teachgym/StumpTracks-v0").unwrapped.task_space
    teacher = CountingTeacher(space)
    vec = make_vec_env(
        "teachgym/StumpTracks-v0",
        n_envs=2,
        seed=0,
        env_kwargs={"teacher": teacher, "config": {"max_episode_steps": 150}},
    )
    model = sb3.PPO("MlpPolicy", vec, n_steps=256, batch_size=128, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=3000)
    monitored = [ep for env in vec.envs for ep in env.get_episode_rewards()]
    assert len(monitored) >= 20
    # Every finished episode reached the teacher, with the return SB3 logged.
    assert len(teacher.updates) == len(monitored)
    np.testing.assert_allclose(sorted(teacher.updates), sorted(monitored), rtol=1e-5, atol=1e-3)
    # Each episode's task came from the teacher (plus the envs' current episodes).
    assert teacher.samples == len(monitored) + 2


def test_curriculum_wrapper_under_sb3() -> None:
    # make's max_episode_steps: gymnasium's TimeLimit cuts the episodes, which still reach the
    # teacher.
    env = teachgym.Curriculum(
        Monitor(gym.make("teachgym/PointMass-v0", max_episode_steps=50)),
        ALPGMM(gym.make("teachgym/PointMass-v0").unwrapped.task_space, seed=1, fit_rate=10),
    )
    model = sb3.PPO("MlpPolicy", env, n_steps=256, batch_size=128, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=1024)
    assert env.episodes_reported == len(env.env.get_episode_rewards()) >= 20
