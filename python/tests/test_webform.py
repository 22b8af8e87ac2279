"""The web forms (``teachgym/WebForm-v0``, ``teachgym/WebFormMD-v0``): Dict observations,
Discrete / MultiDiscrete actions, against gymnasium's and Stable-Baselines3's checkers, with
masked random rollouts, determinism, task sources, pickling and bad input."""

from __future__ import annotations

import hashlib
import pickle
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import teachgym
from conftest import WEBFORM_IDS

#: A small form (2 fields, 2 pages at most) so that rollouts are short and reach the end.
SMALL = {"max_fields": 2, "max_elements": 24, "max_pages": 2, "max_distractors": 4}
INFO_TYPES = {
    "success": bool,
    "invalid_action": bool,
    "n_correct": int,
    "n_fields": int,
    "n_pages": int,
    "page": int,
    "optimal_steps": int,
    "task_reward": float,
    "shaping": float,
    "potential": float,
}


@pytest.fixture(params=WEBFORM_IDS)
def webform_id(request: pytest.FixtureRequest) -> str:
    return request.param


def to_action(env: gym.Env, flat: int) -> Any:
    """The env's action for flat action index ``flat`` (``slot * (1 + max_fields) + j``)."""
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        return flat
    width = 1 + int(space.nvec[2])
    slot, j = divmod(flat, width)
    return np.array([slot, 0, 0] if j == 0 else [slot, 1, j - 1], dtype=np.int64)


def masked_rollout(env: gym.Env, seed: int, episodes: int) -> tuple[str, list[bool]]:
    """Random valid actions (drawn from a generator of its own, not the env's): the digest of
    every observation, reward and flag, and each episode's success."""
    rng = np.random.default_rng(seed)
    h = hashlib.sha256()
    successes = []
    obs, info = env.reset(seed=seed)
    while len(successes) < episodes:
        valid = np.flatnonzero(obs["action_mask"])
        assert valid.size > 0
        obs, reward, terminated, truncated, info = env.step(to_action(env, int(rng.choice(valid))))
        assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
        assert info["invalid_action"] is False
        for key, kind in INFO_TYPES.items():
            assert type(info[key]) is kind, key
        for key in sorted(obs):
            h.update(obs[key].tobytes())
        h.update(np.float64(reward).tobytes() + bytes([terminated, truncated]))
        if terminated or truncated:
            assert type(info["is_success"]) is bool and info["is_success"] == info["success"]
            successes.append(info["is_success"])
            obs, info = env.reset()
    return h.hexdigest(), successes


def test_registered_with_the_native_vector_env(webform_id: str) -> None:
    assert webform_id in teachgym.ENV_IDS
    envs = gym.make_vec(webform_id, num_envs=2, config=SMALL)
    assert isinstance(envs, teachgym.TeachgymVectorEnv)
    assert envs.single_observation_space == gym.make(webform_id, config=SMALL).observation_space
    obs, _ = envs.reset(seed=0)
    assert envs.observation_space.contains(obs)
    envs.step(envs.action_space.sample())


class RecordingTeacher:
    """Logs every call, to compare the call sequences of two vector envs."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.rng = np.random.default_rng(2)

    def sample_task(self) -> np.ndarray:
        task = np.append(self.rng.uniform(0, 1, 8), 1.0)  # goal_coverage fixed at 1 by default
        self.calls.append(("sample", tuple(task)))
        return task

    def update(self, task, episode_return, success) -> None:
        self.calls.append(("update", tuple(task), episode_return, success))


def assert_obs_equal(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert a[key].dtype == b[key].dtype, key


@pytest.mark.parametrize("mode", [gym.vector.AutoresetMode.NEXT_STEP, gym.vector.AutoresetMode.SAME_STEP])
def test_native_vector_env_equals_single_envs(webform_id: str, mode) -> None:
    n = 3
    t_native, t_sync = RecordingTeacher(), RecordingTeacher()
    native = gym.make_vec(
        webform_id, num_envs=n, autoreset_mode=mode, teacher=t_native, config=SMALL, num_threads=2
    )
    sync = gym.vector.SyncVectorEnv(
        [lambda: gym.make(webform_id, teacher=t_sync, config=SMALL).unwrapped for _ in range(n)],
        autoreset_mode=mode,
    )
    single = gym.make(webform_id, config=SMALL)
    obs_n, _ = native.reset(seed=11)
    obs_s, _ = sync.reset(seed=11)
    assert_obs_equal(obs_n, obs_s)
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(60):
        flat = [int(rng.choice(np.flatnonzero(m))) for m in obs_s["action_mask"]]
        actions = np.array([to_action(single, a) for a in flat], dtype=np.int64)
        obs_n, *rest_n, info_n = native.step(actions)
        obs_s, *rest_s, info_s = sync.step(actions)
        assert_obs_equal(obs_n, obs_s)
        for a, b in zip(rest_n, rest_s):
            np.testing.assert_array_equal(a, b)
        if "final_obs" in info_s:
            for i in np.flatnonzero(info_s["_final_obs"]):
                assert_obs_equal(info_n["final_obs"][i], info_s["final_obs"][i])
            ended += int(info_s["_final_obs"].sum())
        elif "episode_return" in info_s:
            np.testing.assert_array_equal(info_n["is_success"], info_s["is_success"])
            ended += int(info_s["_episode_return"].sum())
    assert ended >= n
    assert t_native.calls == t_sync.calls


def test_native_vector_env_bad_actions() -> None:
    envs = teachgym.WebFormMDVectorEnv(2, config=SMALL)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"env 1: action 2 at \(1, 1\) is outside \[0, 1\]"):
        envs.step(np.array([[0, 0, 0], [0, 2, 0]]))
    with pytest.raises(ValueError, match="shape"):
        envs.step(np.zeros((2, 2), np.int64))
    with pytest.raises(TypeError, match="ints"):
        envs.step(np.zeros((2, 3), np.float32))
    flat = teachgym.WebFormVectorEnv(2, config=SMALL)
    flat.reset(seed=0)
    with pytest.raises(ValueError, match="outside"):
        flat.step(np.array([0, -1]))
    flat.step(np.array([0, 0]))
    # The compiled layer refuses out-of-range actions too, before any env moves.
    with pytest.raises(ValueError, match="env 1"):
        flat._core.run(
            np.full(2, 2, np.uint8), np.array([[0], [10**6]]), flat._seeds, flat._tasks,
            flat._obs_arg, *flat._scratch,
        )
    with pytest.raises(TypeError, match="int64 array"):
        flat._core.run(
            np.full(2, 2, np.uint8), np.zeros((2, 1), bool), flat._seeds, flat._tasks,
            flat._obs_arg, *flat._scratch,
        )


def test_gymnasium_check_env_wrapped_and_unwrapped(webform_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "env is wrapped"
        env = gym.make(webform_id, render_mode="rgb_array")
        check_env(env)
        check_env(env.unwrapped)
        check_env(gym.make(webform_id))


def test_sb3_check_env_wrapped_and_unwrapped(webform_id: str) -> None:
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 notes the non-image 2-D and 3-D Boxes
        env = gym.make(webform_id)
        sb3_checker.check_env(env)
        sb3_checker.check_env(env.unwrapped)


def test_spaces_match_the_arrays_exactly(webform_id: str) -> None:
    env = gym.make(webform_id).unwrapped
    config = {"max_fields": 12, "max_elements": 128}
    n_actions = config["max_elements"] * (1 + config["max_fields"])
    if webform_id.endswith("MD-v0"):
        assert env.action_space == gym.spaces.MultiDiscrete([128, 2, 12])
    else:
        assert env.action_space == gym.spaces.Discrete(n_actions)
    space = env.observation_space
    assert isinstance(space, gym.spaces.Dict)
    obs, _ = env.reset(seed=1)
    assert set(obs) == set(space.spaces)
    for key, sub in space.spaces.items():
        assert isinstance(sub, gym.spaces.Box)
        assert obs[key].dtype == sub.dtype and obs[key].shape == sub.shape, key
        assert sub.contains(obs[key]), key
    assert space["action_mask"].shape == (n_actions,)
    assert space["instr_key"].dtype == np.int64 and space["dom_feat"].dtype == np.float32
    assert space["action_mask"].dtype == np.uint8


def test_masked_random_rollouts_are_deterministic(webform_id: str) -> None:
    make = lambda: gym.make(webform_id, config=SMALL)  # noqa: E731
    digest, successes = masked_rollout(make(), seed=4, episodes=30)
    assert masked_rollout(make(), seed=4, episodes=30) == (digest, successes)
    assert masked_rollout(make(), seed=5, episodes=30)[0] != digest
    # Random valid clicks on a small form sometimes submit it correctly, often not.
    assert 0 < sum(successes) < len(successes)


def test_flat_and_multi_discrete_envs_agree() -> None:
    a = gym.make("teachgym/WebForm-v0", config=SMALL)
    b = gym.make("teachgym/WebFormMD-v0", config=SMALL)
    assert masked_rollout(a, seed=7, episodes=10) == masked_rollout(b, seed=7, episodes=10)


def test_invalid_actions_are_no_ops_that_cost_a_step(webform_id: str) -> None:
    env = gym.make(webform_id, config=SMALL)
    obs, info = env.reset(seed=0)
    invalid = int(np.flatnonzero(obs["action_mask"] == 0)[0])
    after, reward, terminated, truncated, info = env.step(to_action(env, invalid))
    assert info["invalid_action"] is True and not terminated
    for key in obs:
        if key != "progress":  # the step counter moved
            np.testing.assert_array_equal(after[key], obs[key])


def test_task_from_options_and_from_a_teacher(webform_id: str) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.updates: list[tuple[list[float], float, bool]] = []

        def sample_task(self) -> np.ndarray:
            return np.append(np.full(8, 0.25), 1.0)

        def update(self, task: np.ndarray, episode_return: float, success: bool) -> None:
            self.updates.append((task.tolist(), episode_return, success))

    hard = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    env = gym.make(webform_id)
    _, info = env.reset(seed=0, options={"task": hard})
    np.testing.assert_array_equal(info["task"], hard)
    assert info["n_fields"] == 12 and info["n_pages"] == 4

    teacher = Recorder()
    env = gym.make(webform_id, config=SMALL, teacher=teacher)
    _, successes = masked_rollout(env, seed=0, episodes=5)
    assert [u[0] for u in teacher.updates] == [[0.25] * 8 + [1.0]] * 5
    assert [u[2] for u in teacher.updates] == successes


def test_render_pickle_and_rebuild(webform_id: str) -> None:
    env = gym.make(webform_id, render_mode="rgb_array", config=SMALL).unwrapped
    obs, _ = env.reset(seed=3)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.std() > 0
    copy = pickle.loads(pickle.dumps(env))
    for a, b in zip(copy.reset(seed=3)[0].values(), obs.values()):
        np.testing.assert_array_equal(a, b)
    assert copy.observation_space == env.observation_space


def test_bad_actions() -> None:
    env = teachgym.WebFormEnv(config=SMALL)
    env.reset(seed=0)
    n = env.action_space.n
    with pytest.raises(ValueError, match=rf"action {n} is outside Discrete\({n}\)"):
        env.step(n)
    with pytest.raises(ValueError, match="outside"):
        env.step(-1)
    for bad in (1.0, True, "3", [1], np.array([1, 2]), np.float32(2)):
        with pytest.raises(TypeError, match="must be an int"):
            env.step(bad)
    env.step(np.int64(0))
    env.step(np.array(0))

    md = teachgym.WebFormMDEnv(config=SMALL)
    md.reset(seed=0)
    with pytest.raises(ValueError, match=r"action\[1\] = 2 is outside \[0, 1\]"):
        md.step([0, 2, 0])
    with pytest.raises(ValueError, match=r"action\[0\] = -1"):
        md.step([-1, 0, 0])
    with pytest.raises(ValueError, match=r"shape \(2,\), expected \(3,\)"):
        md.step([0, 0])
    for bad in ([0.0, 0.0, 0.0], [True, False, False], 3):
        with pytest.raises((TypeError, ValueError)):
            md.step(bad)
    with pytest.raises(TypeError, match="must hold ints"):
        md.step(np.zeros(3, np.float32))
    md.step([0, 0, 0])
    # The compiled layer checks kinds too, whatever the Python layer lets through.
    with pytest.raises(TypeError, match="int actions"):
        env._core.step(np.zeros(1, np.float32))


def test_bad_tasks_and_keywords(webform_id: str) -> None:
    env = gym.make(webform_id).unwrapped
    with pytest.raises(ValueError, match=r"`n_fields` = 1.5 is outside its bounds \[0.0, 1.0\]"):
        env.reset(options={"task": [1.5] + [0.0] * 7 + [1.0]})
    with pytest.raises(ValueError, match="9 dimensions"):
        env.reset(options={"task": [0.5]})
    with pytest.raises(TypeError, match="real numbers"):
        env.reset(options={"task": ["x"] * 9})
    with pytest.raises(ValueError, match="no body"):
        gym.make(webform_id, body="classic_bipedal")
    with pytest.raises(ValueError, match="fixed to"):
        gym.make(webform_id, bounds={"n_fields": (0, 0.5)})
    with pytest.raises(ValueError, match="step_slack"):
        type(env)(max_episode_steps=10)
    with pytest.raises(ValueError, match="max_fields"):
        gym.make(webform_id, config={"max_fields": 99})
    with pytest.raises(ValueError, match="max_feilds"):
        gym.make(webform_id, config={"max_feilds": 3})
    with pytest.raises(ValueError, match="render_mode"):
        type(env)(render_mode="human")


def test_sb3_learns_on_dict_observations(webform_id: str) -> None:
    """Two PPO updates with MultiInputPolicy on SB3's DummyVecEnv run and change the policy
    (Dict obs with int64 token Boxes, Discrete / MultiDiscrete actions)."""
    sb3 = pytest.importorskip("stable_baselines3")
    import torch

    torch.set_num_threads(1)
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env(webform_id, n_envs=2, seed=0, env_kwargs={"config": SMALL})
    model = sb3.PPO("MultiInputPolicy", venv, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=64)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.policy.parameters()))
    obs = venv.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert venv.action_space.contains(actions[0])
