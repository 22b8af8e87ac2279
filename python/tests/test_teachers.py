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


#: GoalGAN needs the success threshold (expert level low); small networks keep the test quick.
GOAL_GAN_CONFIG = {
    "expert_knowledge": ADR_CONFIG["expert_knowledge"],
    "generator_hidden": [16, 16],
    "discriminator_hidden": [8, 8],
    "pretrain_outer_iters": 20,
    "outer_iters": 20,
    "update_size": 20,
}


def one_student_classroom(space: teachgym.TaskSpace, kc_len: int = 4) -> dict:
    """An inline classroom (the JSON of ``teachgym classroom build``) of one student whose
    curriculum is one Gaussian near the space's lower corner: enough for the teacher contract."""
    low, high = space.low, space.high
    d = len(low)
    mean = [float(l + 0.1 * (h - l)) for l, h in zip(low, high)] + [0.5]
    covariance = [0.0] * (d + 1) ** 2
    for i in range(d):
        covariance[i * (d + 1) + i] = max((0.05 * float(high[i] - low[i])) ** 2, 1e-6)
    covariance[-1] = 0.01
    return {
        "format_version": 1,
        "task_space": [
            {"name": n, "low": float(l), "high": float(h), "doc": ""} for n, l, h in zip(space.names, low, high)
        ],
        "students": [{
            "name": "minimal",
            "params": {},
            "kc_vectors": [{"epoch": e, "episodes": 250 * e, "scores": [0.0] * kc_len} for e in (1, 2, 3)],
            "final_scores": [1.0] * kc_len,
            "history": {"fits": [{
                "episode": 250,
                "gaussians": [{"weight": 1.0, "mean": mean, "covariance": covariance}],
                "episodes": {"tasks": mean[:d], "returns": [0.5], "origins": [0]},
            }]},
        }],
    }


def _make(cls: type[teachers.Teacher], space: teachgym.TaskSpace, seed: int = 0) -> teachers.Teacher:
    config = {teachers.ADR: ADR_CONFIG, teachers.GoalGAN: GOAL_GAN_CONFIG}.get(cls, {})
    if cls is teachers.Again:
        config = {"classroom": one_student_classroom(space)}
    if cls is teachers.QWebSchedule:  # its default dimensions are the web form's
        config = {"dimensions": list(space.names[:2]), "horizon": 100}
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


def test_update_from_info_reads_the_episode_end_and_names_what_is_missing() -> None:
    """Feeding a teacher by hand: the info of the last step carries what update() needs; any
    other info gets a KeyError that says which info to pass."""
    env = gym.make("teachgym/PointMass-v0")
    fed = teachers.ALPGMM(env.unwrapped.task_space, seed=0)
    by_hand = teachers.ALPGMM(env.unwrapped.task_space, seed=0)
    task = fed.sample_task()
    assert np.array_equal(task, by_hand.sample_task())
    _, info = env.reset(seed=0, options={"task": task})
    with pytest.raises(KeyError, match="'episode_return', 'is_success', 'episode_length'.*ended the episode"):
        fed.update_from_info(task, info)
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        done = terminated or truncated
    fed.update_from_info(task, info)
    by_hand.update(task, info["episode_return"], info["is_success"], info["episode_length"])
    assert fed.state_dict() == by_hand.state_dict()
    with pytest.raises(TypeError, match="dict a step returned"):
        fed.update_from_info(task, [1, 2])
    vector_info = {k: np.array([v]) for k, v in info.items() if k != "task"}
    with pytest.raises(TypeError, match="vector env"):
        fed.update_from_info(task, vector_info)


def test_adr_runs_with_the_envs_expert_knowledge() -> None:
    env = gym.make("teachgym/StumpTracks-v0").unwrapped
    high = env.expert_knowledge("high")
    assert high["success_threshold"] == 230.0
    assert high["reward_thresholds"] == {"min_reward": 0.0, "max_reward": 180.0}
    assert high["initial_distribution"]["mean"] == [0.0, 6.0]
    assert "initial_distribution" not in env.expert_knowledge("low") or env.expert_knowledge("low")["initial_distribution"] is None
    teacher = teachers.ADR(env.task_space, seed=0, expert_knowledge=high)
    assert env.task_space.contains(teacher.sample_task())
    with pytest.raises(ValueError, match="needs expert knowledge"):
        teachers.ADR(env.task_space, seed=0)
    with pytest.raises(ValueError, match="unknown level `medium`"):
        env.expert_knowledge("medium")
    with pytest.raises(TypeError, match="level must be"):
        env.expert_knowledge(2)


def test_again_replays_the_classroom_curriculum_after_the_pretest() -> None:
    """AGAIN samples with its ALP-GMM until the evaluation at epoch ``pretrain_epochs``, then
    from the classroom expert's Gaussian (pool replay, no ALP-GMM mixed in, no random tasks)."""
    space = teachgym.TaskSpace(["x", "y"], [0.0, 0.0], [10.0, 10.0])
    teacher = teachers.Again(space, seed=0, classroom=one_student_classroom(space), replay="pool",
                             use_alp_gmm=False, random_task_ratio=0.0)
    before = np.array([teacher.sample_task() for _ in range(200)])
    assert before.mean(axis=0).min() > 3.0  # the pre-test's uniform tasks
    teacher.record_evaluation(1, np.zeros(4), episodes=200, scores=[0.0, 0.0, 0.0, 0.0])
    after = np.array([teacher.sample_task() for _ in range(200)])
    np.testing.assert_allclose(after.mean(axis=0), [1.0, 1.0], atol=0.2)  # the expert's Gaussian
    assert not teacher.wants_student_restart


def test_record_evaluation_checks_its_input() -> None:
    space = teachgym.TaskSpace(["x"], [0.0], [1.0])
    teacher = teachers.Again(space, seed=0, classroom=one_student_classroom(space))
    with pytest.raises(TypeError, match="give scores .* or score_range"):
        teacher.record_evaluation(1, [1.0, 2.0, 3.0, 4.0], episodes=10)
    with pytest.raises(ValueError, match="returns\\[1\\] is nan"):
        teacher.record_evaluation(1, [1.0, float("nan"), 0.0, 0.0], episodes=10, score_range=(0, 1))
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        teacher.record_evaluation(1, [1.0] * 4, episodes=10, scores=[0.5, 1.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="3 values but returns has 4"):
        teacher.record_evaluation(1, [1.0] * 4, episodes=10, scores=[0.5] * 3)
    with pytest.raises(ValueError, match="epoch"):
        teacher.record_evaluation(-1, [1.0] * 4, episodes=10, scores=[0.5] * 4)
    with pytest.raises(ValueError, match="KC vector|kc|length"):  # the classroom's test set has 4 tasks
        teacher.record_evaluation(1, [1.0] * 3, episodes=10, score_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="classroom"):
        teachers.Again(space, seed=0)
    # Teachers that use no evaluations accept and ignore them.
    alp = teachers.ALPGMM(space, seed=0)
    state = alp.state_dict()
    alp.record_evaluation(1, [3.0, -2.0], episodes=5, score_range=(-150.0, 350.0))
    assert alp.state_dict() == state and not alp.wants_student_restart
