"""The teacher in a Ray actor, shared by Ray workers as RLlib env runners would share it."""

from __future__ import annotations

import time
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'teachgym[ray]')")

import teachgym  # noqa: E402
from teachgym.ray_teacher import RayTeacherClient, teacher_actor  # noqa: E402
from teachgym.server import TeacherServerGone, replay  # noqa: E402
from teachgym.teachers import ALPGMM  # noqa: E402

ENV_ID = "teachgym/PointMass-v0"


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _teacher() -> ALPGMM:
    return ALPGMM(gym.make(ENV_ID).unwrapped.task_space, seed=1, fit_rate=10)


@ray.remote
def _run_episodes(teacher, seed: int, steps: int) -> list[tuple]:
    """A worker: one env whose teacher is the shared one; the episodes it ran."""
    import teachgym  # noqa: F401  (registers the ids in the worker)

    env = gym.make(ENV_ID, teacher=teacher, config={"max_episode_steps": 10})
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    task, episodes = info["task"], []
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
        if terminated or truncated:
            episodes.append((tuple(task), info["episode_return"], info["is_success"], info["episode_length"]))
            _, info = env.reset()
            task = info["task"]
    return episodes


def test_ray_workers_share_one_teacher(local_ray) -> None:
    client = teacher_actor(_teacher())
    assert isinstance(client, RayTeacherClient)
    assert client.task_space == gym.make(ENV_ID).unwrapped.task_space
    episodes = [e for run in ray.get([_run_episodes.remote(client, s, 60) for s in range(2)]) for e in run]
    log = client.log()
    updates = [(tuple(c.args[0]), c.args[1], c.args[2], c.kwargs["length"]) for c in log if c.method == "update"]
    assert len(episodes) >= 12
    assert Counter(updates) == Counter(episodes)
    local = _teacher()
    replay(log, local, check=True)
    assert local.state_dict() == client.state_dict()
    assert isinstance(teachgym.teacher_actor, type(teacher_actor))


def test_killed_actor_is_a_clear_error(local_ray) -> None:
    client = teacher_actor(_teacher())
    client.sample_task()
    ray.kill(client.actor)
    # ray.kill returns before the actor is down: calls fail from then on.
    deadline = time.monotonic() + 30
    with pytest.raises(TeacherServerGone, match="actor is gone"):
        while time.monotonic() < deadline:
            client.sample_task()
            time.sleep(0.05)
