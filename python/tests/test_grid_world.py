"""The grid world (``teachgym/GridWorld-v0``): flat float observations with ``Discrete`` actions,
against gymnasium's and Stable-Baselines3's checkers, in the native vector env, deterministic,
with bad actions refused."""

from __future__ import annotations

import hashlib
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import teachgym

GRID_ID = "teachgym/GridWorld-v0"


def test_checkers_accept_it() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gym.make(GRID_ID).unwrapped)
        sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
        sb3_checker.check_env(gym.make(GRID_ID), warn=True)


def test_spaces_and_info() -> None:
    env = gym.make(GRID_ID, bounds={"size": (4, 6)})
    assert isinstance(env.action_space, gym.spaces.Discrete)
    assert isinstance(env.observation_space, gym.spaces.Box)
    assert env.unwrapped.task_space.high[0] == 6
    obs, info = env.reset(seed=1)
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    assert type(info["shortest_path"]) is int
    obs, reward, terminated, truncated, info = env.step(np.int64(2))
    assert type(reward) is float and env.observation_space.contains(obs)


def rollout_digest(seed: int) -> str:
    env = gym.make(GRID_ID)
    rng = np.random.default_rng(seed)
    h = hashlib.sha256()
    obs, info = env.reset(seed=seed)
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
        h.update(obs.tobytes())
        h.update(np.float64(reward).tobytes())
        if terminated or truncated:
            obs, info = env.reset()
            h.update(info["task"].tobytes())
    return h.hexdigest()


def test_same_seed_same_trajectory() -> None:
    assert rollout_digest(3) == rollout_digest(3)
    assert rollout_digest(3) != rollout_digest(4)


def test_native_vector_env_matches_the_single_env() -> None:
    envs = gym.make_vec(GRID_ID, num_envs=3, task=[5.0, 0.1])
    assert isinstance(envs.unwrapped, teachgym.GridWorldVectorEnv)
    obs, _ = envs.reset(seed=[7, 8, 9])
    single = gym.make(GRID_ID, task=[5.0, 0.1])
    first, _ = single.reset(seed=8)
    np.testing.assert_array_equal(obs[1], first)
    actions = np.array([0, 1, 2])
    obs, reward, terminated, truncated, _ = envs.step(actions)
    expected = single.step(1)
    np.testing.assert_array_equal(obs[1], expected[0])
    assert reward[1] == expected[1]


def test_bad_actions_are_refused() -> None:
    env = gym.make(GRID_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="outside Discrete"):
        env.step(4)
    with pytest.raises(TypeError, match="must be an int"):
        env.step(0.5)
    envs = gym.make_vec(GRID_ID, num_envs=2)
    envs.reset(seed=0)
    with pytest.raises(ValueError):
        envs.step(np.array([0, 7]))
