"""Teachers that learn from the student's value estimates (SPDL): the env hands them, after each
finished episode, ``value_fn``'s value of the episode's first observation and its discounted
return; single, native vector and ``Curriculum``-wrapped envs agree; bad input is refused."""

from __future__ import annotations

import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import teachgym
from teachgym import teachers

#: SPDL updating every 40 env steps from the start, so a few point-mass episodes move it.
SPDL_FAST = {"update_frequency": 40, "update_offset": 0, "alpha_offset": 0}
POINT_MASS = "teachgym/PointMass-v0"


class RecordingTeacher:
    """A Python teacher that asks for value estimates and records every call it gets."""

    value_estimate_discount = 0.9

    def __init__(self, space: teachgym.TaskSpace) -> None:
        self.space = space
        self.rng = np.random.default_rng(0)
        self.calls: list[tuple[str, Any]] = []

    def sample_task(self) -> np.ndarray:
        return self.rng.uniform(self.space.low, self.space.high)

    def update(self, task: np.ndarray, episode_return: float, success: bool) -> None:
        self.calls.append(("update", (task.tolist(), episode_return)))

    def record_value_estimate(self, task: np.ndarray, initial_value: float, discounted_return: float) -> None:
        self.calls.append(("value", (task.tolist(), initial_value, discounted_return)))


def _first_coordinate(observation: np.ndarray, task: np.ndarray) -> float:
    """A stand-in critic: any deterministic function of the observation will do."""
    return float(observation[0]) + 0.1 * float(task[0])


def test_the_env_hands_the_first_observation_and_the_discounted_return() -> None:
    space = gym.make(POINT_MASS).unwrapped.task_space
    teacher = RecordingTeacher(space)
    seen: list[np.ndarray] = []

    def value_fn(observation: np.ndarray, task: np.ndarray) -> float:
        seen.append(observation.copy())
        return 2.5

    env = gym.make(POINT_MASS, teacher=teacher, value_fn=value_fn)
    rng = np.random.default_rng(1)
    for episode in range(3):
        obs, _ = env.reset(seed=episode)
        first, rewards, done = obs.copy(), [], False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
            rewards.append(reward)
            done = terminated or truncated
        kind, args = teacher.calls[-1]
        assert kind == "value" and teacher.calls[-2][0] == "update", "the estimate follows the update"
        expected = sum(r * 0.9**t for t, r in enumerate(rewards))
        assert args[1] == 2.5
        assert args[2] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_array_equal(seen[-1], first)
    # An episode cut by a reset still reaches the teacher, with its estimate.
    env.reset(seed=9)
    env.step(np.zeros(2, dtype=np.float32))
    n = len(teacher.calls)
    env.reset(seed=10)
    assert [c[0] for c in teacher.calls[n:]] == ["update", "value"]


def test_spdl_moves_with_value_estimates_and_single_vector_and_wrapper_agree() -> None:
    space = gym.make(POINT_MASS).unwrapped.task_space

    def run_single(wrapper: bool) -> dict[str, Any]:
        teacher = teachers.SPDL(space, seed=3, **SPDL_FAST)
        if wrapper:
            env = teachgym.Curriculum(gym.make(POINT_MASS), teacher, value_fn=_first_coordinate)
        else:
            env = gym.make(POINT_MASS, teacher=teacher, value_fn=_first_coordinate)
        envs = gym.vector.SyncVectorEnv([lambda: env])
        envs.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(400):
            envs.step(rng.uniform(-1, 1, (1, 2)).astype(np.float32))
        return teacher.state_dict()

    def run_native() -> dict[str, Any]:
        teacher = teachers.SPDL(space, seed=3, **SPDL_FAST)
        envs = gym.make_vec(POINT_MASS, num_envs=1, vectorization_mode="vector_entry_point",
                            teacher=teacher, value_fn=_first_coordinate)
        envs.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(400):
            envs.step(rng.uniform(-1, 1, (1, 2)).astype(np.float32))
        return teacher.state_dict()

    single = run_single(wrapper=False)
    assert single["state"]["updates"] > 0, "SPDL never updated: no value estimates reached it"
    assert single["state"]["buffer"] == [] or single["state"]["episodes"] > 0
    assert run_single(wrapper=True) == single
    assert run_native() == single
    # Without estimates nothing moves: the same run with a teacher fed by hand, no estimates.
    idle = teachers.SPDL(space, seed=3, **SPDL_FAST)
    for _ in range(20):
        task = idle.sample_task()
        idle.update(task, 1.0, False, 50)
    assert idle.state_dict()["state"]["updates"] == 0


def test_native_vector_env_with_several_envs_gives_every_episode_its_estimate() -> None:
    space = gym.make(POINT_MASS).unwrapped.task_space
    for mode in ("NextStep", "SameStep"):
        teacher = RecordingTeacher(space)
        envs = gym.make_vec(POINT_MASS, num_envs=3, vectorization_mode="vector_entry_point",
                            teacher=teacher, value_fn=_first_coordinate, autoreset_mode=mode)
        envs.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(300):
            envs.step(rng.uniform(-1, 1, (3, 2)).astype(np.float32))
        kinds = [c[0] for c in teacher.calls]
        assert kinds.count("update") >= 3
        assert kinds == ["update", "value"] * (len(kinds) // 2), f"{mode}: {kinds[:8]}"
        for (_, update), (_, value) in zip(teacher.calls[::2], teacher.calls[1::2]):
            assert update[0] == value[0], "the estimate is for the updated episode's task"


def test_bad_value_input_is_refused_clearly() -> None:
    space = gym.make(POINT_MASS).unwrapped.task_space
    with pytest.raises(ValueError, match="value_fn"):
        gym.make(POINT_MASS, teacher=teachers.SPDL(space))
    with pytest.raises(ValueError, match="drop value_fn"):
        gym.make(POINT_MASS, teacher=teachers.ALPGMM(space), value_fn=_first_coordinate)
    with pytest.raises(ValueError, match="give teacher="):
        gym.make(POINT_MASS, value_fn=_first_coordinate)
    with pytest.raises(TypeError, match="callable"):
        gym.make(POINT_MASS, teacher=teachers.SPDL(space), value_fn=3.0)
    for bad, error in (
        (lambda o, t: np.zeros(2), ValueError),  # a value of the wrong shape
        (lambda o, t: float("nan"), ValueError),
        (lambda o, t: "high", TypeError),
    ):
        env = gym.make(POINT_MASS, teacher=teachers.SPDL(space, **SPDL_FAST), value_fn=bad)
        env.reset(seed=0)
        env.step(np.zeros(2, dtype=np.float32))
        with pytest.raises(error):
            env.reset(seed=1)  # the cut episode reaches the teacher, with its estimate
    teacher = teachers.SPDL(space)
    task = teacher.sample_task()
    with pytest.raises(ValueError, match="waiting for a value estimate"):
        teacher.record_value_estimate(task, 1.0, 1.0)  # no update on that task yet
    teacher.update(task, 1.0, False, 10)
    with pytest.raises(ValueError):
        teacher.record_value_estimate(task[:1], 1.0, 1.0)
    with pytest.raises(TypeError):
        teacher.record_value_estimate(task, np.zeros(3), 1.0)
    teacher.record_value_estimate(task, np.float32(0.5), np.array([0.25]))
    assert teachers.ALPGMM(space).value_estimate_discount is None
    assert teacher.value_estimate_discount == pytest.approx(0.99)


def test_shuffle_dimensions_permutes_the_tasks_and_survives_pickling() -> None:
    space = gym.make("teachgym/StumpTracks-v0").unwrapped.task_space
    plain = teachers.Random(space, seed=4)
    shuffled = teachers.Random(space, seed=4, shuffle_dimensions=True)
    a = np.array([plain.sample_task() for _ in range(200)])
    b = np.array([shuffled.sample_task() for _ in range(200)])
    assert all(space.contains(t) for t in b)
    assert (a != b).any(axis=1).mean() > 0.5, "the shuffle left most tasks where they were"
    for task in b[:20]:
        shuffled.update(task, 1.0, False)
    clone = pickle.loads(pickle.dumps(shuffled))
    assert "shuffle_dimensions=True" in repr(clone)
    np.testing.assert_array_equal(
        [shuffled.sample_task() for _ in range(20)], [clone.sample_task() for _ in range(20)]
    )
    restored = teachers.Random(space, seed=0, shuffle_dimensions=True)
    restored.load_state_dict(shuffled.state_dict())
    np.testing.assert_array_equal(shuffled.sample_task(), restored.sample_task())
    with pytest.raises(ValueError):
        teachers.Random(space, seed=0).load_state_dict(shuffled.state_dict())
    with pytest.raises(TypeError):
        teachers.Random(space, shuffle_dimensions="yes")
