"""Every Rust teacher as a Python class: sampling, updates, checkpoints, pickling."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

import teachgym
from teachgym import teachers

ADR_CONFIG = {
    "expert_knowledge": {
        "level": "low",
        "success_threshold": 230.0,
        "reward_thresholds": {"min_reward": -150.0, "max_reward": 350.0},
    }
}


def _make(cls: type[teachers.Teacher], space: teachgym.TaskSpace, seed: int = 0) -> teachers.Teacher:
    config = ADR_CONFIG if cls is teachers.ADR else {}
    return cls(space, seed=seed, **config)


def _drive(teacher: teachers.Teacher, episodes: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    tasks = []
    for _ in range(episodes):
        task = teacher.sample_task()
        tasks.append(task)
        ret = float(100 * task.sum() / teacher.task_space.high.sum() + rng.normal())
        teacher.update(task, ret, ret > 80)
    return tasks


def test_every_registry_teacher_has_a_class() -> None:
    assert sorted(teachers.TEACHER_CLASSES) == sorted(teachgym.TEACHER_NAMES)


@pytest.mark.parametrize("cls", list(teachers.TEACHER_CLASSES.values()))
def test_teachers_sample_inside_the_space_and_restore_exactly(cls) -> None:
    space = gym.make("teachgym/StumpTracks-v0").unwrapped.task_space
    teacher = _make(cls, space, seed=5)
    tasks = _drive(teacher, 250, seed=1)
    assert all(space.contains(t) and t.dtype == np.float64 for t in tasks)
    state = teacher.state_dict()
    assert state["teacher"] == cls.NAME
    restored = _make(cls, space, seed=99)
    restored.load_state_dict(state)
    np.testing.assert_array_equal(_drive(teacher, 60, 2), _drive(restored, 60, 2))
    clone = pickle.loads(pickle.dumps(teacher))
    np.testing.assert_array_equal(_drive(teacher, 30, 3), _drive(clone, 30, 3))
    # Same seed, same outcomes: same tasks.
    np.testing.assert_array_equal(_drive(_make(cls, space, 7), 200, 4), _drive(_make(cls, space, 7), 200, 4))


def test_low_high_in_place_of_a_task_space() -> None:
    teacher = teachers.ALPGMM(low=[0.0, 0.0], high=[3.0, 6.0], seed=1, fit_rate=50)
    assert teacher.task_space.names == ("dim_0", "dim_1")
    assert teacher.name == "alp_gmm"
    _drive(teacher, 120, 0)
    samples = teacher.non_exploratory_samples(10)
    assert samples.shape == (10, 2)
    assert teachers.make_teacher("riac", teacher.task_space).name == "riac"


def test_alp_gmm_learns_where_progress_is() -> None:
    """Returns grow over time only on the low half of dim 0: the curriculum must move there."""
    space = teachgym.TaskSpace(["x", "y"], [0.0, 0.0], [1.0, 1.0])
    teacher = teachers.ALPGMM(space, seed=0, fit_rate=50)
    counts: dict[tuple, int] = {}
    for t in range(1500):
        task = teacher.sample_task()
        cell = (round(float(task[0]), 1), round(float(task[1]), 1))
        counts[cell] = counts.get(cell, 0) + 1
        ret = counts[cell] * 1.0 if task[0] < 0.5 else 0.0
        teacher.update(task, ret, False)
    late = np.array([teacher.sample_task()[0] for _ in range(300)])
    assert (late < 0.5).mean() > 0.7, (late < 0.5).mean()
