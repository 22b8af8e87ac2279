"""Regression tests of issue 22 ("no input may panic, abort or hang the process"): each quoted
case, from Python."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import teachgym
from teachgym import _teachgym
from teachgym.teachers import ALPGMM, ADR, RIAC

HEXAGON_DIMS = [f"vertex{k}_{a}" for k in range(6) for a in ("dx", "dy")]


# -- case 1: bounds the physics cannot represent ------------------------------------------------
def test_hexagon_offsets_beyond_f32_are_value_errors() -> None:
    huge = {name: (1e39, 1e39) for name in HEXAGON_DIMS}
    with pytest.raises(ValueError, match=r"offset_bounds.*1e39"):
        teachgym.HexagonTracksEnv(bounds=huge)
    with pytest.raises(ValueError, match=r"offset_bounds.*1e39"):
        gym.make_vec("teachgym/HexagonTracks-v0", num_envs=2, bounds=huge)
    with pytest.raises(ValueError, match=r"offset_std.*1e39"):
        teachgym.HexagonTracksEnv(config={"track": {"kind": "hexagon_tracks", "offset_std": 1e39}})
    with pytest.raises(ValueError, match="stump_height_bounds"):
        teachgym.StumpTracksEnv(bounds={"stump_height": (0, 1e300)})
    with pytest.raises(ValueError, match="mass_bounds"):
        teachgym.PointMassEnv(bounds={"mass": (1e-300, 1.0)})


# -- case 2: sizes without upper limits ----------------------------------------------------------
def test_sizes_above_their_caps_are_value_errors() -> None:
    low, high = [0.0, 0.0], [1.0, 1.0]
    with pytest.raises(ValueError, match="fit_rate"):
        ALPGMM(low=low, high=high, fit_rate=10**15)
    with pytest.raises(ValueError, match="max_region_size"):
        RIAC(low=low, high=high, max_region_size=2**63)
    knowledge = {"level": "low", "success_threshold": 1.0, "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}}
    with pytest.raises(ValueError, match="queue_len"):
        ADR(low=low, high=high, queue_len=3 * 10**12, expert_knowledge=knowledge)
    with pytest.raises(ValueError, match="num_envs"):
        gym.make_vec("teachgym/PointMass-v0", num_envs=_teachgym.MAX_NUM_ENVS + 1)
    with pytest.raises(ValueError, match="num_envs"):
        teachgym.PointMassVectorEnv(num_envs=10**30)
    teacher = ALPGMM(low=low, high=high)
    with pytest.raises(ValueError, match=r"\bn\b"):
        teacher.non_exploratory_samples(3 * 10**12)
    with pytest.raises(ValueError, match=r"\bn\b"):
        teacher.non_exploratory_samples(-1)
    with pytest.raises(ValueError, match="instruction_tokens"):
        teachgym.WebFormEnv(config={"instruction_tokens": 10**12})
    # More threads than envs are harmless (the batch uses one per env at most).
    assert teachgym.PointMassVectorEnv(num_envs=2, num_threads=10**30).num_threads == 2


# -- case 3: iteration counts without caps -------------------------------------------------------
def test_pgs_iterations_are_capped() -> None:
    with pytest.raises(ValueError, match="pgs_iterations"):
        teachgym.StumpTracksEnv(config={"physics": {"pgs_iterations": 1_000_000}})


# -- case 4: the vector env after a task-source exception ----------------------------------------
class FlakyTeacher:
    """Uniform tasks; raises once, at the `fail_update`-th update or `fail_sample`-th sample.
    Logs every task sampled and every update received (including the one that raised)."""

    def __init__(self, space: teachgym.TaskSpace, fail_update: int = 0, fail_sample: int = 0) -> None:
        self.space = space
        self.rng = np.random.default_rng(0)
        self.fail_update, self.fail_sample = fail_update, fail_sample
        self.sampled: list[tuple[float, ...]] = []
        self.updated: list[tuple[float, ...]] = []
        self.samples = 0

    def sample_task(self) -> np.ndarray:
        self.samples += 1
        if self.samples == self.fail_sample:
            raise RuntimeError("flaky sample_task")
        task = self.rng.uniform(self.space.low, self.space.high)
        self.sampled.append(tuple(task))
        return task

    def update(self, task, episode_return, success) -> None:
        self.updated.append(tuple(task))
        if len(self.updated) == self.fail_update:
            raise RuntimeError("flaky update")


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize("fail", [{"fail_update": 2}, {"fail_sample": 6}])
def test_vector_env_is_consistent_after_a_task_source_raises(mode, fail) -> None:
    n, limit = 4, 3
    space = teachgym.PointMassEnv().task_space
    teacher = FlakyTeacher(space, **fail)
    envs = teachgym.PointMassVectorEnv(num_envs=n, max_episode_steps=limit, teacher=teacher, autoreset_mode=mode)
    envs.reset(seed=0)
    actions = np.zeros((n, 2), np.float32)  # every env is truncated at the same step
    raised = 0
    for _ in range(4 * (limit + 1)):
        try:
            envs.step(actions)
        except RuntimeError as e:
            assert "flaky" in str(e)
            raised += 1
    assert raised == 1
    # No outcome lost or given twice: each task sampled was reported once, or is still an
    # env's current task (running, or ended and waiting for its reset).
    assert len(set(teacher.updated)) == len(teacher.updated)
    assert set(teacher.updated) <= set(teacher.sampled)
    assert set(teacher.sampled) - set(teacher.updated) <= {tuple(t) for t in envs.tasks}
    assert len(teacher.updated) >= 3 * n
    # And the env goes on stepping.
    envs.step(actions)


def test_vector_env_after_a_task_source_raises_autoresets_what_ended() -> None:
    space = teachgym.PointMassEnv().task_space
    teacher = FlakyTeacher(space, fail_update=1)
    envs = teachgym.PointMassVectorEnv(num_envs=2, max_episode_steps=2, teacher=teacher)
    envs.reset(seed=0)
    envs.step(np.zeros((2, 2), np.float32))
    with pytest.raises(RuntimeError, match="flaky"):
        envs.step(np.zeros((2, 2), np.float32))
    # Formerly: "step() called after the episode ended" until a full reset().
    _, reward, terminated, truncated, info = envs.step(np.zeros((2, 2), np.float32))
    assert info["_task"].all() and not terminated.any() and not truncated.any()
    assert teacher.updated == [tuple(t) for t in teacher.sampled[:2]]


# -- case 7: messages and the one rule for actions -------------------------------------------------
def test_nan_in_config_names_its_key() -> None:
    with pytest.raises(ValueError, match=r"config\['physics'\]\['motor_factor'\] is nan.*cannot hold NaN"):
        teachgym.StumpTracksEnv(config={"physics": {"motor_factor": float("nan")}})
    with pytest.raises(ValueError, match=r"bounds\['mass'\]\[1\] is inf"):
        teachgym.PointMassEnv(bounds={"mass": (0.5, np.inf)})
    with pytest.raises(ValueError, match=r"random_task_ratio is nan"):
        ALPGMM(low=[0.0], high=[1.0], random_task_ratio=np.float64("nan"))
    with pytest.raises(ValueError, match=r"gmm\['tol'\] is nan"):
        gym.make_vec("teachgym/PointMass-v0", num_envs=2, teacher=ALPGMM(low=[0.2, 0.5], high=[1, 2], gmm={"tol": float("nan")}))


def test_render_before_reset_names_render() -> None:
    with pytest.raises(ValueError, match=r"^render\(\) called before reset\(\)"):
        teachgym.PointMassEnv(render_mode="rgb_array").render()
    with pytest.raises(ValueError, match=r"render\(\) called before reset\(\)"):
        teachgym.StumpTracksVectorEnv(num_envs=2, render_mode="rgb_array").render()


@pytest.mark.parametrize("huge", [1e30, 1e300, -1e300])
def test_finite_actions_are_clipped_whatever_their_magnitude(huge) -> None:
    env = teachgym.PointMassEnv()
    env.reset(seed=1)
    clipped = env.step(np.array([1.0, -1.0]))[0]
    env.reset(seed=1)
    assert np.array_equal(env.step(np.array([huge, -1.0]) if huge > 0 else np.array([1.0, huge]))[0], clipped)
    envs = teachgym.PointMassVectorEnv(num_envs=2)
    envs.reset(seed=0)
    envs.step(np.full((2, 2), huge, np.float64))
    for bad in (np.inf, -np.inf, np.nan):
        with pytest.raises(ValueError, match="not finite"):
            env.step(np.array([bad, 0.0]))
        with pytest.raises(ValueError, match="not finite"):
            envs.step(np.array([[0.0, 0.0], [bad, 0.0]]))


def test_the_panic_hook_is_not_public() -> None:
    assert not hasattr(teachgym, "_panic_for_tests")
    assert "_panic_for_tests" not in dir(teachgym)
