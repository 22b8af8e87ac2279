"""The single envs against gymnasium's and Stable-Baselines3's checkers, and their keywords."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import teachgym
from conftest import scripted_actions, trajectory_digest


def test_every_env_is_registered_with_its_vector_entry_point() -> None:
    assert teachgym.ENV_IDS == [
        "teachgym/StumpTracks-v0",
        "teachgym/HexagonTracks-v0",
        "teachgym/Parkour-v0",
        "teachgym/PointMass-v0",
        "teachgym/GridWorld-v0",
        "teachgym/WebForm-v0",
        "teachgym/WebFormMD-v0",
    ]
    for env_id in teachgym.ENV_IDS:
        spec = gym.spec(env_id)
        assert spec.vector_entry_point is not None
        # The Rust env truncates itself; a registered limit would add gymnasium's TimeLimit.
        assert spec.max_episode_steps is None


def test_spec_reward_threshold_render_modes_and_fps_follow_the_registry() -> None:
    rows = {row[1]: row for row in teachgym._teachgym.env_registry()}
    for env_id in teachgym.ENV_IDS:
        _, _, steps, fps, success, _ = rows[env_id.split("/")[1]]
        env = gym.make(env_id)
        assert env.spec.max_episode_steps == steps, env_id
        assert env.spec.reward_threshold == success, env_id
        assert env.metadata["render_fps"] == fps
        assert not any(isinstance(w, gym.wrappers.TimeLimit) for w in _wrappers(env)), env_id
    assert gym.make("teachgym/StumpTracks-v0").spec.reward_threshold == 230.0
    # The env's own limit, however it is set, is the spec's; and episodes end there, inside.
    env = gym.make("teachgym/PointMass-v0", config={"max_episode_steps": 7})
    assert env.spec.max_episode_steps == 7
    env.reset(seed=0)
    for step in range(1, 8):
        _, _, terminated, truncated, info = env.step(np.zeros(2, dtype=np.float32))
        if terminated or truncated:
            break
    assert step <= 7 and "episode_return" in info
    assert teachgym.PointMassEnv(max_episode_steps=11).spec is None  # not made by gymnasium
    assert gym.make("teachgym/PointMass-v0", max_episode_steps=5).spec.max_episode_steps == 5


def _wrappers(env: gym.Env) -> list[gym.Env]:
    out = []
    while isinstance(env, gym.Wrapper):
        out.append(env)
        env = env.env
    return out


def test_web_forms_render_as_text() -> None:
    for env_id in ("teachgym/WebForm-v0", "teachgym/WebFormMD-v0"):
        env = gym.make(env_id, render_mode="ansi")
        assert "ansi" in env.metadata["render_modes"]
        env.reset(seed=3)
        text = env.render()
        assert isinstance(text, str) and text.count("\n") >= 2, text
        instruction = env.unwrapped._core.render_text()
        assert text == instruction
    with pytest.raises(ValueError, match="render_mode"):
        gym.make("teachgym/StumpTracks-v0", render_mode="ansi")


def test_the_package_exposes_exactly_the_rust_registry() -> None:
    """The Rust env registry (which `teachgym train` reads too) is the one list of envs: every
    entry has a single-env class, a vector class and a gymnasium id, and nothing else does."""
    rows = teachgym._teachgym.env_registry()
    names = [row[0] for row in rows]
    assert len(set(names)) == len(names)
    assert list(teachgym.ENV_CLASSES) == names
    assert list(teachgym.VECTOR_ENV_CLASSES) == names
    assert teachgym.ENV_IDS == [f"teachgym/{row[1]}" for row in rows]
    for name, gym_id, _steps, fps, _success, summary in rows:
        env = gym.make(f"teachgym/{gym_id}")
        assert env.unwrapped.ENV_NAME == name
        assert env.metadata["render_fps"] == fps
        assert summary in type(env.unwrapped).__doc__
        env.reset(seed=0)
        env.step(env.action_space.sample())
        envs = gym.make_vec(f"teachgym/{gym_id}", num_envs=2)
        envs.reset(seed=0)
        envs.step(envs.action_space.sample())


def test_gymnasium_check_env_wrapped_and_unwrapped(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "env is wrapped", "Box bound is infinite"
        env = gym.make(env_id, render_mode="rgb_array")
        check_env(env)
        check_env(env.unwrapped)
        check_env(gym.make(env_id))  # render_mode=None as well


def test_sb3_check_env(env_id: str) -> None:
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb3_checker.check_env(gym.make(env_id), warn=True)
        sb3_checker.check_env(gym.make(env_id).unwrapped, warn=True)


def test_returned_types_match_the_spaces(env_id: str) -> None:
    env = gym.make(env_id)
    obs, info = env.reset(seed=3)
    assert obs.dtype == np.float32 and obs.shape == env.observation_space.shape
    assert env.observation_space.contains(obs)
    assert info["task"].dtype == np.float64
    assert env.unwrapped.task_space.contains(info["task"])
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
        assert env.observation_space.contains(obs)
        assert all(type(v) is float for v in info.values()), info


def test_episode_end_reports_stable_types() -> None:
    env = gym.make("teachgym/PointMass-v0", config={"max_episode_steps": 5})
    env.reset(seed=0)
    for _ in range(5):
        _, _, terminated, truncated, info = env.step(np.zeros(2, np.float32))
    assert truncated and not terminated
    assert type(info["episode_return"]) is float
    assert type(info["episode_length"]) is int and info["episode_length"] == 5
    assert info["is_success"] is False


def info_at_end(env: gym.Env) -> int:
    """Runs the episode in progress to its end and returns the length the Rust env reported."""
    env.reset(seed=1)
    while True:
        _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated or truncated:
            return info["episode_length"]


def test_step_limits_through_make() -> None:
    # `config={"max_episode_steps": n}` sets the Rust limit through gymnasium.make ...
    assert info_at_end(gym.make("teachgym/PointMass-v0", config={"max_episode_steps": 9})) == 9
    # ... while make's own `max_episode_steps` adds gymnasium's TimeLimit, whose cut episodes
    # still reach the task source (at the next reset).
    teacher = teachgym.teachers.Random(gym.make("teachgym/PointMass-v0").unwrapped.task_space)
    seen = []
    source = teachgym.TeacherTasks(teacher)
    source.episode_end = lambda task, ret, success, length: seen.append((length, success))
    env = gym.make("teachgym/PointMass-v0", max_episode_steps=4)
    env.unwrapped.set_task_source(source)
    env.reset(seed=0)
    for _ in range(4):
        *_, truncated, _ = env.step(np.zeros(2, np.float32))
    assert truncated and seen == []
    env.reset()
    assert seen == [(4, False)]


def test_task_space_api() -> None:
    space = gym.make("teachgym/StumpTracks-v0").unwrapped.task_space
    assert space.names == ("stump_height", "obstacle_spacing")
    assert space.low.tolist() == [0.0, 0.0] and space.high.tolist() == [3.0, 6.0]
    assert space.contains(space.sample())
    assert space.contains([1.0, 2.0]) and not space.contains([4.0, 2.0])
    assert not space.contains([np.nan, 1.0]) and not space.contains([1.0])
    hexagon = gym.make("teachgym/HexagonTracks-v0").unwrapped.task_space
    assert hexagon.shape == (12,) and hexagon.names[0] == "vertex0_dx"


def test_keywords_reach_the_rust_config() -> None:
    env = teachgym.StumpTracksEnv(
        body="small_bipedal",
        bounds={"stump_height": (0, 9)},
        max_episode_steps=7,
        config={"physics": {"solver_iterations": 8}},
    )
    assert env.unwrapped.task_space.high.tolist() == [9.0, 6.0]
    env.reset(seed=0, options={"task": [0.0, 6.0]})
    steps = 0
    truncated = terminated = False
    while not (terminated or truncated):
        _, _, terminated, truncated, _ = env.step(np.zeros(4, np.float32))
        steps += 1
    assert steps == 7 and truncated
    assert info_at_end(env) == 7
    # The body changes the dynamics: the same seed and actions give another trajectory.
    classic = gym.make("teachgym/StumpTracks-v0")
    small = gym.make("teachgym/StumpTracks-v0", body="small_bipedal")
    assert trajectory_digest(classic, 1, 30) != trajectory_digest(small, 1, 30)


# TeachMyAgent's table: (actions, observation size) of each walking body.
BODY_SIZES = {
    "classic_bipedal": (4, 24),
    "small_bipedal": (4, 24),
    "old_classic_bipedal": (4, 24),
    "big_quadru": (8, 34),
    "spider": (12, 42),
    "millipede": (16, 54),
    "wheel": (8, 34),
    "profile_chimpanzee": (14, 50),
    "fish": (4, 26),
    "amphibious_bipedal": (4, 24),
    # Climbers hang from Parkour's ceiling: no Stump Tracks observation.
    "climbing_profile_chimpanzee": (12, None),
    "climbing_chest_profile_chimpanzee": (8, None),
}

# Parkour observation sizes of the climbers (the others: Stump Tracks' plus 12).
CLIMBER_PARKOUR_OBSERVATIONS = {"climbing_profile_chimpanzee": 54, "climbing_chest_profile_chimpanzee": 44}

# Parkour adds is_under_water, is_dead and ten lidar surface flags to the observation.
PARKOUR_EXTRA_OBSERVATIONS = 12


def test_every_body_builds_with_the_reference_sizes_and_steps_reproducibly() -> None:
    assert sorted(teachgym.BODY_NAMES) == sorted(BODY_SIZES)
    for body, (actions, stump_observations) in BODY_SIZES.items():
        if stump_observations is None:
            with pytest.raises(ValueError, match="climber"):
                gym.make("teachgym/StumpTracks-v0", body=body)
            cases = [("teachgym/Parkour-v0", CLIMBER_PARKOUR_OBSERVATIONS[body])]
        else:
            cases = [
                ("teachgym/StumpTracks-v0", stump_observations),
                ("teachgym/Parkour-v0", stump_observations + PARKOUR_EXTRA_OBSERVATIONS),
            ]
        for env_id, observations in cases:
            env = gym.make(env_id, body=body)
            assert env.action_space.shape == (actions,), (env_id, body)
            assert env.observation_space.shape == (observations,), (env_id, body)
            obs, _ = env.reset(seed=3)
            assert obs.shape == (observations,) and env.observation_space.contains(obs), body
            assert trajectory_digest(env, 3, 20) == trajectory_digest(env, 3, 20), body


def test_parkour_task_space_and_water_observations() -> None:
    env = gym.make("teachgym/Parkour-v0", body="fish")
    space = env.unwrapped.task_space
    assert list(space.names[:4]) == ["input_vector_0", "input_vector_1", "input_vector_2", "water_level"]
    # Under water from the start (water up to the ceiling): is_under_water = 1, is_dead = 0.
    task = [-0.15, 0.9, 0.1, 1.0, 0.25, 1.0, 3.0, 10.0]
    obs, _ = env.reset(seed=0, options={"task": task})
    assert obs[4] == 1.0 and obs[5] == 0.0
    with pytest.raises(ValueError, match="water_level"):
        env.reset(seed=0, options={"task": [-0.15, 0.9, 0.1, 2.0, 0.25, 1.0, 3.0, 10.0]})
    with pytest.raises(ValueError, match="cppn_weights"):
        gym.make("teachgym/Parkour-v0", config={"track": {"kind": "parkour", "cppn_weights": "/nope"}})
    # TeachMyAgent's movable creepers: a config option, deterministic like the rest.
    rollouts = []
    for _ in range(2):
        movable = gym.make(
            "teachgym/Parkour-v0",
            body="climbing_profile_chimpanzee",
            config={"track": {"kind": "parkour", "movable_creepers": True}},
        )
        obs, _ = movable.reset(seed=1, options={"task": [-0.15, 0.9, 0.1, 0.0, 0.25, 2.0, 1.0, 10.0]})
        steps = [obs]
        for _ in range(20):
            steps.append(movable.step(np.full(12, 0.5, dtype=np.float32))[0])
        rollouts.append(np.stack(steps))
    np.testing.assert_array_equal(rollouts[0], rollouts[1])


def test_reset_options_task_and_task_sources() -> None:
    env = gym.make("teachgym/StumpTracks-v0")
    _, info = env.reset(seed=0, options={"task": [2.5, 1.0]})
    assert info["task"].tolist() == [2.5, 1.0]
    assert env.unwrapped.task.tolist() == [2.5, 1.0]
    fixed = gym.make("teachgym/StumpTracks-v0", task=[1.0, 2.0])
    for seed in range(3):
        assert fixed.reset(seed=seed)[1]["task"].tolist() == [1.0, 2.0]
    # Uniform tasks follow the seed.
    a = [env.reset(seed=s)[1]["task"] for s in (5, 6)]
    b = [env.reset(seed=s)[1]["task"] for s in (5, 6)]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])


def test_render_returns_the_rust_frame() -> None:
    env = gym.make("teachgym/StumpTracks-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[:2] == (400, 600)
    assert frame.std() > 0  # a drawing, not a blank image
    env.step(np.ones(4, np.float32))
    pm = gym.make("teachgym/PointMass-v0", render_mode="rgb_array")
    pm.reset(seed=0)
    assert pm.render().shape == (64, 64, 3)
    assert gym.make("teachgym/PointMass-v0").unwrapped.render() is None


def test_envs_pickle_with_their_config_rng_and_task_source(env_id: str) -> None:
    env = gym.make(env_id, max_episode_steps=40).unwrapped
    env.reset(seed=11)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.task_space == env.task_space
    # Same RNG state: the next unseeded resets and trajectories agree.
    actions = scripted_actions(env.action_space.shape[0], 50)
    for e in (env, clone):
        e.reset()
    for a in actions:
        r1 = env.step(a)
        r2 = clone.step(a)
        np.testing.assert_array_equal(r1[0], r2[0])
        assert r1[1:4] == r2[1:4]
        if r1[2] or r1[3]:
            break


def test_teacher_pickles_inside_an_env() -> None:
    env = gym.make("teachgym/PointMass-v0").unwrapped
    env.set_task_source(teachgym.teachers.ALPGMM(env.task_space, seed=3))
    clone = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(
        env.task_source.teacher.sample_task(), clone.task_source.teacher.sample_task()
    )
