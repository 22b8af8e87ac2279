"""Bad input raises TypeError/ValueError with a message naming the problem; panics surface."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import teachgym
from teachgym import _teachgym
from teachgym.teachers import ALPGMM, ADR


@pytest.fixture
def env() -> teachgym.TeachgymEnv:
    e = teachgym.StumpTracksEnv()
    e.reset(seed=0)
    return e


def test_non_finite_actions(env: teachgym.TeachgymEnv) -> None:
    with pytest.raises(ValueError, match="component 1 is not finite"):
        env.step(np.array([0.0, np.nan, 0.0, 0.0], np.float32))
    with pytest.raises(ValueError, match="not finite"):
        env.step(np.array([np.inf, 0.0, 0.0, 0.0]))
    # The env is unchanged and still usable.
    env.step(np.zeros(4, np.float32))


def test_wrong_action_shapes_and_dtypes(env: teachgym.TeachgymEnv) -> None:
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(4,\)"):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((2, 2), np.float32))
    with pytest.raises(TypeError, match="real numbers"):
        env.step(np.array(["a", "b", "c", "d"]))
    with pytest.raises(TypeError, match="real numbers"):
        env.step(np.zeros(4, np.complex64))
    with pytest.raises(TypeError, match="real numbers"):
        env.step(np.zeros(4, bool))
    # Lists, ints and float64 are converted.
    env.step([0, 1, 0, -1])
    env.step(np.zeros(4, np.float64))


def test_tasks_out_of_bounds_or_malformed(env: teachgym.TeachgymEnv) -> None:
    with pytest.raises(ValueError, match=r"`stump_height` = 4.0 is outside its bounds \[0.0, 3.0\]"):
        env.reset(options={"task": [4.0, 1.0]})
    with pytest.raises(ValueError, match="obstacle_spacing"):
        env.reset(options={"task": [1.0, np.nan]})
    with pytest.raises(ValueError, match="2 dimensions"):
        env.reset(options={"task": [1.0]})
    with pytest.raises(TypeError, match="real numbers"):
        env.reset(options={"task": ["x", "y"]})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"taks": [1.0, 1.0]})
    with pytest.raises(ValueError, match="outside its bounds"):
        teachgym.StumpTracksEnv(task=[9.0, 1.0])
    # The Rust layer checks too, whatever the Python layer lets through.
    with pytest.raises(ValueError, match="outside its bounds"):
        env._core.reset(0, np.array([5.0, 1.0]))


def test_unknown_or_bad_keywords() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'hardcore'"):
        gym.make("teachgym/StumpTracks-v0", hardcore=True)
    with pytest.raises(ValueError, match="unknown body `quadruped`.*classic_bipedal"):
        teachgym.StumpTracksEnv(body="quadruped")
    with pytest.raises(ValueError, match="unknown task dimension `height`"):
        teachgym.StumpTracksEnv(bounds={"height": (0, 1)})
    with pytest.raises(ValueError, match="stump_height"):
        teachgym.StumpTracksEnv(bounds={"stump_height": (3, 0)})
    with pytest.raises(ValueError, match="pair"):
        teachgym.StumpTracksEnv(bounds={"stump_height": (1, 2, 3)})
    with pytest.raises(ValueError, match="solver_iteration"):
        teachgym.StumpTracksEnv(config={"physics": {"solver_iteration": 8}})
    with pytest.raises(ValueError, match="max_episode_steps"):
        teachgym.StumpTracksEnv(max_episode_steps=0)
    with pytest.raises(TypeError, match="max_episode_steps"):
        teachgym.StumpTracksEnv(max_episode_steps=2.5)
    with pytest.raises(ValueError, match="render_mode"):
        teachgym.StumpTracksEnv(render_mode="human")
    with pytest.raises(ValueError, match="not both"):
        teachgym.StumpTracksEnv(task=[1.0, 1.0], teacher=ALPGMM(low=[0, 0], high=[3, 6]))
    with pytest.raises(ValueError, match="single body"):
        teachgym.PointMassEnv(body="classic_bipedal")


def test_step_before_reset_and_after_the_end() -> None:
    env = teachgym.PointMassEnv(max_episode_steps=2)
    with pytest.raises(ValueError, match="before reset"):
        env.step(np.zeros(2, np.float32))
    env.reset(seed=0)
    env.step(np.zeros(2, np.float32))
    _, _, _, truncated, _ = env.step(np.zeros(2, np.float32))
    assert truncated
    with pytest.raises(ValueError, match="after the episode ended"):
        env.step(np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="before reset"):
        teachgym.StumpTracksEnv(render_mode="rgb_array").render()


def test_vector_env_bad_input() -> None:
    envs = teachgym.PointMassVectorEnv(num_envs=3)
    with pytest.raises(ValueError, match="before reset"):
        envs.step(np.zeros((3, 2), np.float32))
    envs.reset(seed=0)
    bad = np.zeros((3, 2), np.float32)
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="env 2: action component 1 is not finite"):
        envs.step(bad)
    with pytest.raises(ValueError, match=r"shape \(2, 2\), expected \(3, 2\)"):
        envs.step(np.zeros((2, 2), np.float32))
    with pytest.raises(TypeError, match="real numbers"):
        envs.step(np.full((3, 2), "a"))
    with pytest.raises(ValueError, match="target_distance"):
        envs.reset(options={"tasks": [[0.5, 1.0], [0.5, 1.0], [9.0, 1.0]]})
    with pytest.raises(ValueError, match="num_envs"):
        teachgym.PointMassVectorEnv(num_envs=0)
    with pytest.raises(ValueError, match="autoreset_mode"):
        teachgym.PointMassVectorEnv(num_envs=2, autoreset_mode="sometimes")
    with pytest.raises(TypeError, match="unexpected keyword"):
        gym.make_vec("teachgym/PointMass-v0", num_envs=2, colour="red")
    envs.step(np.zeros((3, 2), np.float32))  # still usable after every refusal


def test_teacher_bad_input() -> None:
    teacher = ALPGMM(low=[0.0, 0.0], high=[3.0, 6.0], seed=0)
    with pytest.raises(ValueError, match="outside its bounds"):
        teacher.update([4.0, 1.0], 1.0, False)
    with pytest.raises(ValueError, match="not finite"):
        teacher.update([1.0, 1.0], float("nan"), False)
    with pytest.raises(TypeError, match="success"):
        teacher.update([1.0, 1.0], 1.0, "yes")
    with pytest.raises(ValueError, match="unknown field `fitrate`"):
        ALPGMM(low=[0.0], high=[1.0], fitrate=3)
    with pytest.raises(ValueError, match="expert knowledge"):
        ADR(low=[0.0], high=[1.0])
    with pytest.raises(ValueError, match="invalid bounds"):
        ALPGMM(low=[1.0], high=[0.0])
    with pytest.raises(ValueError, match="wider than the largest f64"):
        ALPGMM(low=[-1.7e308], high=[1.7e308])
    with pytest.raises(ValueError, match="wider than the largest f64"):
        teachgym.TaskSpace(["x"], [-1.7e308], [1.7e308])
    with pytest.raises(TypeError, match="low= and high="):
        ALPGMM()
    with pytest.raises(ValueError, match="cannot restore"):
        teacher.load_state_dict({"format_version": 99, "teacher": "alp_gmm", "state": {}})
    with pytest.raises(ValueError, match="unknown teacher"):
        teachgym.teachers.make_teacher("goalgan", teacher.task_space)
    with pytest.raises(ValueError, match="expert knowledge"):
        teachgym.teachers.GoalGAN(low=[0.0], high=[1.0])


def test_a_rust_panic_becomes_a_python_exception() -> None:
    # pyo3 turns a panic into PanicException (a BaseException), never an abort. The hook
    # exists only in builds with the `test-hooks` feature, as scripts/test_python.sh makes.
    hook = getattr(_teachgym, "_panic_for_tests", None)
    assert hook is not None, "build the extension with --features test-hooks (scripts/test_python.sh does)"
    with pytest.raises(BaseException, match="deliberate") as info:
        hook("deliberate")
    assert type(info.value).__name__ == "PanicException"
