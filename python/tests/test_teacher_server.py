"""One teacher served to many worker processes: the served teacher hears exactly the episodes
the workers ran and ends in the state of an in-process teacher fed the same calls in the same
order."""

from __future__ import annotations

import pickle
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AsyncVectorEnv

import teachgym
from teachgym.server import (
    LoggedCall,
    TeacherClient,
    TeacherServer,
    TeacherServerAuthError,
    TeacherServerGone,
    replay,
)
from teachgym.teachers import ALPGMM, SPDL

ENV_ID = "teachgym/PointMass-v0"
KWARGS = {"config": {"max_episode_steps": 12}}


def _space() -> teachgym.TaskSpace:
    return gym.make(ENV_ID).unwrapped.task_space


def _teacher() -> ALPGMM:
    return ALPGMM(_space(), seed=3, fit_rate=15)


def _outcome(call: LoggedCall) -> tuple:
    task, episode_return, success = call.args
    return (tuple(task), episode_return, success, call.kwargs.get("length"))


def _make_env(client: TeacherClient):
    return lambda: gym.make(ENV_ID, teacher=client, **KWARGS)


def test_async_vector_env_shares_one_teacher() -> None:
    with TeacherServer.spawn(_teacher()) as server:
        client = server.client()
        envs = AsyncVectorEnv([_make_env(client) for _ in range(4)])
        episodes = []
        try:
            _, info = envs.reset(seed=0)
            tasks = info["task"].copy()
            rng = np.random.default_rng(0)
            for _ in range(120):
                _, _, _, _, info = envs.step(rng.uniform(-1, 1, (4, 2)).astype(np.float32))
                if "task" in info:  # the autoresets (NEXT_STEP): new tasks
                    tasks[info["_task"]] = info["task"][info["_task"]]
                if "episode_return" in info:
                    for i in np.flatnonzero(info["_episode_return"]):
                        episodes.append(
                            (
                                tuple(tasks[i]),
                                float(info["episode_return"][i]),
                                bool(info["is_success"][i]),
                                int(info["episode_length"][i]),
                            )
                        )
        finally:
            envs.close()
        log = server.log()
        checkpoint = server.state_dict()
    assert len(episodes) >= 4 * 120 // 12 - 4
    # The teacher heard of exactly the episodes that ran, each once.
    updates = [_outcome(c) for c in log if c.method == "update"]
    assert Counter(updates) == Counter(episodes)
    # Every task the workers used came from it.
    sampled = Counter(tuple(c.result) for c in log if c.method == "sample_task")
    assert Counter(e[0] for e in episodes) <= sampled
    # An in-process teacher fed the same calls in the same order decides the same and ends in the
    # same state.
    local = _teacher()
    replay(log, local, check=True)
    assert local.state_dict() == checkpoint


def test_sb3_subproc_vec_env_with_the_served_teacher() -> None:
    sb3 = pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    with TeacherServer.spawn(_teacher(), start_method="fork") as server:
        client = server.client()
        envs = make_vec_env(
            ENV_ID, n_envs=2, seed=0, vec_env_cls=SubprocVecEnv,
            vec_env_kwargs={"start_method": "fork"}, env_kwargs={"teacher": client, **KWARGS},
        )
        try:
            model = sb3.PPO("MlpPolicy", envs, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu",
                            policy_kwargs={"net_arch": [16]})
            model.learn(total_timesteps=256)
            monitored = sorted(r for rs in envs.env_method("get_episode_rewards") for r in rs)
        finally:
            envs.close()
        updates = sorted(c.args[1] for c in server.log() if c.method == "update")
        assert len(monitored) >= 256 // 12 - 2
        np.testing.assert_allclose(updates, monitored, atol=1e-5)


def test_gone_server_is_a_clear_error() -> None:
    server = TeacherServer.spawn(_teacher(), start_method="fork")
    client = server.client()
    env = gym.make(ENV_ID, teacher=client, **KWARGS)
    env.reset(seed=0)
    server.process.kill()
    server.process.join()
    with pytest.raises(TeacherServerGone, match="is gone") as e:
        client.sample_task()
    assert isinstance(e.value, ConnectionError)
    with pytest.raises(TeacherServerGone, match="start a new server"):
        env.reset()
    server.stop()  # after the kill: only cleans up
    with pytest.raises(TeacherServerGone, match="no call reached it"):
        server.client().sample_task()


def test_wrong_token_is_refused() -> None:
    with TeacherServer(_teacher()).start() as server:
        with pytest.raises(TeacherServerAuthError, match="refused the token"):
            TeacherClient(server.address, b"not the token").sample_task()
        # The server serves on.
        assert server.client().sample_task().shape == (2,)
        with pytest.raises(TypeError, match="token"):
            TeacherClient(server.address, "a str")  # type: ignore[arg-type]


def test_in_process_server_errors_and_pickling() -> None:
    with TeacherServer(_teacher()).start() as server:
        client = server.client()
        copy = pickle.loads(pickle.dumps(client))
        assert copy.task_space == _space()
        env = teachgym.Curriculum(gym.make(ENV_ID, **KWARGS), copy)
        env.reset(seed=1)
        for _ in range(30):
            _, _, terminated, truncated, _ = env.step(np.zeros(2, dtype=np.float32))
            if terminated or truncated:
                env.reset()
        assert env.episodes_reported == sum(c.method == "update" for c in server.log()) >= 2
        # The teacher's own errors come back as they are.
        with pytest.raises(ValueError):
            client.update([0.0, 0.0, 0.0], 1.0, False)
        with pytest.raises(AttributeError, match="no method"):
            client.call("no_such_method")
        with pytest.raises(AttributeError, match="public"):
            client.call("_core")
        local = _teacher()
        replay(server.log(), local, check=True)
        assert local.state_dict() == client.state_dict()
    with pytest.raises(TeacherServerGone):
        client.sample_task()


def test_served_spdl_gets_value_estimates() -> None:
    space = _space()
    spdl = SPDL(space, seed=0, update_frequency=40, update_offset=0, alpha_offset=0)
    with TeacherServer(spdl).start() as server:
        client = server.client()
        assert client.value_estimate_discount == spdl.value_estimate_discount
        env = gym.make(ENV_ID, teacher=client, value_fn=lambda obs, task: float(obs.sum()), **KWARGS)
        env.reset(seed=0)
        for _ in range(100):
            _, _, terminated, truncated, _ = env.step(np.full(2, 0.3, dtype=np.float32))
            if terminated or truncated:
                env.reset()
        methods = [c.method for c in server.log()]
        assert methods.count("record_value_estimate") == methods.count("update") >= 3
        local = SPDL(space, seed=0, update_frequency=40, update_offset=0, alpha_offset=0)
        replay(server.log(), local, check=True)
        assert local.state_dict() == client.state_dict()


class PlainTeacher:
    """A user's teacher: update without a length, no task space."""

    def __init__(self) -> None:
        self.updates: list[tuple] = []

    def sample_task(self) -> list[float]:
        return [0.5, 1.0]

    def update(self, task, episode_return, success) -> None:
        self.updates.append((tuple(task), episode_return, success))


def test_any_teacher_object_is_served() -> None:
    with TeacherServer(PlainTeacher()).start() as server:
        client = server.client()
        assert client.value_estimate_discount is None and client.task_space is None
        env = gym.make(ENV_ID, teacher=client, **KWARGS)
        env.reset(seed=0)
        for _ in range(12):
            _, _, terminated, truncated, _ = env.step(np.zeros(2, dtype=np.float32))
            if terminated or truncated:
                break
        assert len(server.teacher.updates) == 1
        assert replay(server.log(), PlainTeacher(), check=True)[0] == [0.5, 1.0]
    with pytest.raises(TypeError, match="sample_task"):
        TeacherServer(object())
    # A server never started stops at once.
    TeacherServer(PlainTeacher()).stop()
