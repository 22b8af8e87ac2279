"""Shared fixtures: the registered ids and a helper that runs a scripted trajectory."""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
import pytest

import teachgym

#: The continuous-control ids (scripted float actions); the web forms are tested in
#: test_webform.py, the grid world in test_grid_world.py.
ENV_IDS = [
    i for i in teachgym.ENV_IDS if not i.startswith(("teachgym/WebForm", "teachgym/GridWorld"))
]
WEBFORM_IDS = ["teachgym/WebForm-v0", "teachgym/WebFormMD-v0"]


@pytest.fixture(params=ENV_IDS)
def env_id(request: pytest.FixtureRequest) -> str:
    return request.param


def scripted_actions(action_dim: int, steps: int, seed: int = 0) -> np.ndarray:
    """A fixed, seed-dependent action sequence in [-1, 1] (not from the env's RNG)."""
    return np.random.default_rng(seed).uniform(-1, 1, size=(steps, action_dim)).astype(np.float32)


def trajectory_digest(env: gym.Env, seed: int, steps: int) -> str:
    """sha256 over every obs, reward, flag and task of `steps` steps with resets."""
    h = hashlib.sha256()
    obs, info = env.reset(seed=seed)
    h.update(obs.tobytes())
    h.update(info["task"].tobytes())
    for a in scripted_actions(env.action_space.shape[0], steps, seed):
        obs, reward, terminated, truncated, info = env.step(a)
        h.update(obs.tobytes())
        h.update(np.float64(reward).tobytes())
        h.update(bytes([terminated, truncated]))
        if terminated or truncated:
            obs, info = env.reset()
            h.update(obs.tobytes())
            h.update(info["task"].tobytes())
    return h.hexdigest()
