"""The native vector env as an SB3 VecEnv: equal to SB3's DummyVecEnv of the single envs (with
Monitor, as make_vec_env builds it) step for step, and under PPO for whole rollouts."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import teachgym
from teachgym.teachers import ALPGMM

sb3 = pytest.importorskip("stable_baselines3")
import torch  # noqa: E402

torch.set_num_threads(1)
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.utils import check_for_correct_spaces  # noqa: E402
from stable_baselines3.common.vec_env import (  # noqa: E402
    DummyVecEnv,
    VecCheckNan,
    VecEnv,
    VecMonitor,
    VecNormalize,
)

from teachgym.sb3 import SB3VecEnv, make_sb3_vec_env  # noqa: E402

POINT_MASS = ("teachgym/PointMass-v0", {"config": {"max_episode_steps": 15}})
STUMPS = ("teachgym/StumpTracks-v0", {"config": {"max_episode_steps": 40}})


class RecordingTeacher:
    """ALP-GMM that logs its calls, to compare the call sequences of two runs."""

    def __init__(self, task_space: teachgym.TaskSpace) -> None:
        self.inner = ALPGMM(task_space, seed=2, fit_rate=10)
        self.calls: list[tuple] = []

    def sample_task(self) -> np.ndarray:
        task = self.inner.sample_task()
        self.calls.append(("sample", tuple(task)))
        return task

    def update(self, task, episode_return, success, length=0) -> None:
        self.calls.append(("update", tuple(task), episode_return, success, length))
        self.inner.update(task, episode_return, success, length)


def _task_space(env_id: str) -> teachgym.TaskSpace:
    return gym.make(env_id).unwrapped.task_space


def _pair(env_id: str, kwargs: dict, n: int, seed: int) -> tuple[SB3VecEnv, VecEnv, RecordingTeacher, RecordingTeacher]:
    t_native, t_dummy = RecordingTeacher(_task_space(env_id)), RecordingTeacher(_task_space(env_id))
    native = make_sb3_vec_env(env_id, n, seed=seed, teacher=t_native, **kwargs)
    dummy = make_vec_env(env_id, n_envs=n, seed=seed, env_kwargs={"teacher": t_dummy, **kwargs})
    assert isinstance(dummy, DummyVecEnv)
    return native, dummy, t_native, t_dummy


def _assert_infos_equal(native: list[dict], dummy: list[dict]) -> None:
    for a, b in zip(native, dummy, strict=True):
        # The native env reports no per-step diagnostics; every key it gives, DummyVecEnv gives.
        assert set(a) <= set(b), (set(a), set(b))
        assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
        for key in ("episode_return", "episode_length", "is_success"):
            if key in b:
                assert a[key] == b[key]
        if "terminal_observation" in b:
            np.testing.assert_array_equal(a["terminal_observation"], b["terminal_observation"])
        if "episode" in b:
            assert a["episode"]["l"] == b["episode"]["l"]
            assert a["episode"]["r"] == pytest.approx(b["episode"]["r"], abs=2e-6)
        assert ("terminal_observation" in a) == ("terminal_observation" in b)
        assert ("episode" in a) == ("episode" in b)


@pytest.mark.parametrize("env_id,kwargs,steps", [(*POINT_MASS, 80), (*STUMPS, 90)])
def test_steps_equal_dummy_vec_env(env_id, kwargs, steps) -> None:
    native, dummy, t_native, t_dummy = _pair(env_id, kwargs, 4, seed=11)
    np.testing.assert_array_equal(native.reset(), dummy.reset())
    for a, b in zip(native.reset_infos, dummy.reset_infos, strict=True):
        np.testing.assert_array_equal(a["task"], b["task"])
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(steps):
        actions = rng.uniform(-1, 1, size=(4, *native.action_space.shape)).astype(np.float32)
        obs_n, rew_n, done_n, infos_n = native.step(actions)
        obs_d, rew_d, done_d, infos_d = dummy.step(actions)
        np.testing.assert_array_equal(obs_n, obs_d)
        assert rew_n.dtype == rew_d.dtype == np.float32
        np.testing.assert_array_equal(rew_n, rew_d)
        np.testing.assert_array_equal(done_n, done_d)
        _assert_infos_equal(infos_n, infos_d)
        for i in np.flatnonzero(done_d):
            np.testing.assert_array_equal(native.reset_infos[i]["task"], dummy.reset_infos[i]["task"])
        ends += int(done_d.sum())
    assert ends >= 8
    # One shared teacher, called in the same order with the same values.
    assert t_native.calls == t_dummy.calls
    assert len([c for c in t_native.calls if c[0] == "update"]) == ends


class _Rollouts(BaseCallback):
    """Copies of the rollout buffer at the end of every rollout."""

    def __init__(self) -> None:
        super().__init__()
        self.buffers: list[dict[str, np.ndarray]] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buf = self.model.rollout_buffer
        self.buffers.append(
            {
                k: getattr(buf, k).copy()
                for k in ("observations", "actions", "rewards", "episode_starts", "values", "log_probs", "returns", "advantages")
            }
        )


def test_ppo_rollouts_equal_dummy_vec_env() -> None:
    env_id, kwargs = POINT_MASS
    runs = []
    for use_native in (True, False):
        native, dummy, t_native, t_dummy = _pair(env_id, kwargs, 4, seed=5)
        env, teacher = (native, t_native) if use_native else (dummy, t_dummy)
        model = sb3.PPO(
            "MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu",
            policy_kwargs={"net_arch": [32, 32]},
        )
        record = _Rollouts()
        model.learn(total_timesteps=2 * 64 * 4, callback=record)
        params = torch.nn.utils.parameters_to_vector(model.policy.parameters()).detach().numpy().copy()
        runs.append((record.buffers, params, teacher.calls, [e["r"] for e in model.ep_info_buffer]))
    (buf_n, par_n, calls_n, ep_n), (buf_d, par_d, calls_d, ep_d) = runs
    assert len(buf_n) == len(buf_d) == 2
    for a, b in zip(buf_n, buf_d):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_array_equal(par_n, par_d)
    assert calls_n == calls_d
    # Episode info reached SB3's logger (rollout/ep_rew_mean) as Monitor's does.
    assert len(ep_n) == len(ep_d) > 0
    np.testing.assert_allclose(ep_n, ep_d, atol=2e-6)


def test_ppo_and_sac_learn_with_a_teacher() -> None:
    env_id, kwargs = POINT_MASS
    space = _task_space(env_id)
    for algo, options, steps in (
        (sb3.PPO, {"n_steps": 128, "batch_size": 128, "n_epochs": 2}, 3072),
        (sb3.SAC, {"learning_starts": 200, "batch_size": 64, "buffer_size": 10_000}, 1600),
    ):
        teacher = ALPGMM(space, seed=0, fit_rate=20)
        counted = RecordingTeacher(space)
        counted.inner = teacher
        env = make_sb3_vec_env(env_id, 4, seed=1, teacher=counted, **kwargs)
        model = algo("MlpPolicy", env, seed=0, device="cpu", policy_kwargs={"net_arch": [32, 32]}, **options)
        model.learn(total_timesteps=steps)
        assert model.num_timesteps >= steps
        updates = [c for c in counted.calls if c[0] == "update"]
        assert len(updates) >= steps // 15 - 4
        # Every episode SB3 logged is one the teacher heard of (the last 100 in SB3's buffer).
        logged = [e["r"] for e in model.ep_info_buffer]
        np.testing.assert_allclose(logged, [round(c[2], 6) for c in updates[-len(logged):]], atol=1e-6)
        # The SB3 success rate comes from the adapter's is_success.
        assert len(model.ep_success_buffer) == len(logged)


def test_sb3_vec_env_checks() -> None:
    env_id, kwargs = STUMPS
    env = make_sb3_vec_env(env_id, 3, seed=0, **kwargs)
    assert isinstance(env, VecEnv)
    single = gym.make(env_id, **kwargs)
    check_for_correct_spaces(env, single.observation_space, single.action_space)
    wrapped = VecNormalize(VecMonitor(VecCheckNan(env, raise_exception=True)), gamma=0.99)
    wrapped.seed(3)
    obs = wrapped.reset()
    assert obs.shape == (3, *single.observation_space.shape)
    rng = np.random.default_rng(1)
    dones_seen = 0
    for _ in range(100):
        _, rew, dones, infos = wrapped.step(rng.uniform(-1, 1, (3, 4)).astype(np.float32))
        raw_obs = wrapped.get_original_obs()
        assert raw_obs.dtype == np.float32 and all(single.observation_space.contains(o) for o in raw_obs)
        assert rew.shape == (3,) and dones.shape == (3,) and dones.dtype == np.bool_
        assert len(infos) == 3 and all("TimeLimit.truncated" in i for i in infos)
        for i in np.flatnonzero(dones):
            assert infos[i]["terminal_observation"].shape == single.observation_space.shape
            assert set(infos[i]["episode"]) == {"r", "l", "t"}
            dones_seen += 1
    assert dones_seen > 0
    assert wrapped.unwrapped is env
    assert env.env_is_wrapped(gym.Wrapper) == [False] * 3
    env.close()


def test_tasks_through_env_method_get_attr_set_attr() -> None:
    env_id, kwargs = POINT_MASS
    space = _task_space(env_id)
    env = make_sb3_vec_env(env_id, 3, seed=0, **kwargs)
    assert env.get_attr("task") == [None] * 3
    env.reset()
    tasks = env.get_attr("task")
    for t, info in zip(tasks, env.reset_infos, strict=True):
        np.testing.assert_array_equal(t, info["task"])
    np.testing.assert_array_equal(env.get_attr("task", indices=[2])[0], env.tasks[2])
    assert env.get_attr("task_space", indices=0) == [space]
    assert env.get_attr("observation_space")[0] == env.observation_space
    assert env.has_attr("task_source") and not env.has_attr("no_such_attribute")
    assert env.env_method("expert_knowledge", "low", indices=[0, 1]) == [gym.make(env_id).unwrapped.expert_knowledge("low")] * 2

    teacher = RecordingTeacher(space)
    env.env_method("set_task_source", teacher)
    env.reset()
    sampled = [np.array(c[1]) for c in teacher.calls if c[0] == "sample"]
    np.testing.assert_array_equal(np.stack(sampled), env.tasks)

    env.set_attr("task_source", [0.5, 1.0])
    env.reset()
    np.testing.assert_array_equal(env.tasks, np.tile([0.5, 1.0], (3, 1)))

    with pytest.raises(ValueError, match="share one task source"):
        env.env_method("set_task_source", None, indices=[1])
    with pytest.raises(AttributeError, match="chosen at each reset"):
        env.set_attr("task", [0.5, 1.0])
    with pytest.raises(AttributeError):
        env.env_method("no_such_method")
    with pytest.raises(IndexError):
        env.get_attr("task", indices=[3])


def test_seeds_and_options() -> None:
    env_id, kwargs = POINT_MASS
    a = make_sb3_vec_env(env_id, 3, **kwargs)
    b = make_sb3_vec_env(env_id, 3, **kwargs)
    assert a.seed(7) == [7, 8, 9]
    b.seed(7)
    np.testing.assert_array_equal(a.reset(), b.reset())
    # Seeds are used once: the next reset continues each env's stream.
    first = a.tasks
    a.reset()
    assert not np.array_equal(first, a.tasks)

    # One task for all, and one task per env, as DummyVecEnv passes them to the single envs.
    a.set_options({"task": [0.3, 0.6]})
    a.reset()
    np.testing.assert_array_equal(a.tasks, np.tile([0.3, 0.6], (3, 1)))
    per_env = [{"task": [0.2 * (i + 1), 1.5]} for i in range(3)]
    dummy = make_vec_env(env_id, n_envs=3, env_kwargs=kwargs)
    for env in (a, dummy):
        env.seed(3)
        env.set_options(per_env)
    np.testing.assert_array_equal(a.reset(), dummy.reset())
    np.testing.assert_array_equal(a.tasks, [o["task"] for o in per_env])


def test_bad_input() -> None:
    env_id, kwargs = POINT_MASS
    with pytest.raises(TypeError, match="native vector env"):
        SB3VecEnv(gym.make_vec(env_id, num_envs=2, vectorization_mode="sync"))
    with pytest.raises(ValueError, match="SAME_STEP"):
        SB3VecEnv(gym.make_vec(env_id, num_envs=2))
    with pytest.raises(ValueError, match="not a teachgym env"):
        make_sb3_vec_env("CartPole-v1", 2)
    with pytest.raises(TypeError, match="autoreset_mode"):
        make_sb3_vec_env(env_id, 2, autoreset_mode="next_step")
    env = make_sb3_vec_env(env_id, 2, seed=0, **kwargs)
    with pytest.raises(ValueError, match="before reset"):
        env.step(np.zeros((2, 2), dtype=np.float32))
    env.reset()
    with pytest.raises(ValueError, match="NaN|nan|finite"):
        env.step(np.full((2, 2), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((3, 2), dtype=np.float32))
    env.seed(-1)
    with pytest.raises(ValueError, match="seed"):
        env.reset()


def test_lazy_import() -> None:
    # import teachgym imports neither SB3 (torch) nor Ray; the names resolve on first use.
    code = (
        "import sys, teachgym; heavy = {'stable_baselines3', 'torch', 'ray'} & set(sys.modules); "
        "sys.exit(f'imported {heavy}' if heavy else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")
    assert teachgym.make_sb3_vec_env is make_sb3_vec_env
    assert teachgym.SB3VecEnv is SB3VecEnv
    with pytest.raises(AttributeError):
        teachgym.no_such_name  # noqa: B018
