"""The native vector env against N single envs in gymnasium's SyncVectorEnv, same seeds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import teachgym
from teachgym.teachers import ALPGMM

N = 5


class RecordingTeacher:
    """A teacher that logs every call and wraps a Rust teacher, to compare call sequences."""

    def __init__(self, task_space: teachgym.TaskSpace) -> None:
        self.inner = ALPGMM(task_space, seed=4, fit_rate=20)
        self.calls: list[tuple] = []

    def sample_task(self) -> np.ndarray:
        task = self.inner.sample_task()
        self.calls.append(("sample", tuple(task)))
        return task

    def update(self, task, episode_return, success) -> None:
        self.calls.append(("update", tuple(task), episode_return, success))
        self.inner.update(task, episode_return, success)


def _pair(env_id: str, mode: AutoresetMode, teacher: bool, **kwargs):
    single_space = gym.make(env_id).unwrapped.task_space
    t_native = RecordingTeacher(single_space) if teacher else None
    t_sync = RecordingTeacher(single_space) if teacher else None
    native = gym.make_vec(env_id, num_envs=N, autoreset_mode=mode, teacher=t_native, **kwargs)
    sync = SyncVectorEnv(
        [lambda: gym.make(env_id, teacher=t_sync, **kwargs).unwrapped for _ in range(N)],
        autoreset_mode=mode,
    )
    return native, sync, t_native, t_sync


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize(
    "env_id,kwargs,teacher,steps",
    [
        ("teachgym/PointMass-v0", {"config": {"max_episode_steps": 15}}, True, 120),
        ("teachgym/StumpTracks-v0", {"config": {"max_episode_steps": 40}}, True, 100),
    ],
)
def test_vector_env_equals_single_envs(env_id, kwargs, teacher, steps, mode) -> None:
    native, sync, t_native, t_sync = _pair(env_id, mode, teacher, **kwargs)
    assert isinstance(native, teachgym.TeachgymVectorEnv)
    assert native.metadata["autoreset_mode"] == mode
    obs_n, info_n = native.reset(seed=7)
    obs_s, info_s = sync.reset(seed=7)
    np.testing.assert_array_equal(obs_n, obs_s)
    np.testing.assert_array_equal(info_n["task"], info_s["task"])
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(steps):
        if t == 1:
            # Stagger the episodes, so that ends and autoresets fall on the same steps.
            staggered = np.arange(N) % 2 == 0
            for envs in (native, sync):
                envs.reset(options={"reset_mask": staggered.copy()})
        actions = rng.uniform(-1, 1, size=native.action_space.shape).astype(np.float32)
        out_n = native.step(actions)
        out_s = sync.step(actions)
        for a, b in zip(out_n[:4], out_s[:4]):
            np.testing.assert_array_equal(a, b)
        info_n, info_s = out_n[4], out_s[4]
        if mode == AutoresetMode.SAME_STEP and "final_obs" in info_s:
            np.testing.assert_array_equal(info_n["_final_obs"], info_s["_final_obs"])
            for i in np.flatnonzero(info_s["_final_obs"]):
                np.testing.assert_array_equal(info_n["final_obs"][i], info_s["final_obs"][i])
            fi_n, fi_s = info_n["final_info"], info_s["final_info"]
            np.testing.assert_array_equal(fi_n["_episode_return"], fi_s["_episode_return"])
            np.testing.assert_array_equal(fi_n["episode_return"], fi_s["episode_return"])
            ended += int(info_s["_final_obs"].sum())
        elif "episode_return" in info_s:
            np.testing.assert_array_equal(info_n["_episode_return"], info_s["_episode_return"])
            np.testing.assert_array_equal(info_n["episode_return"], info_s["episode_return"])
            np.testing.assert_array_equal(info_n["is_success"], info_s["is_success"])
            ended += int(info_s["_episode_return"].sum())
        if "task" in info_s:
            mask = info_s["_task"]
            np.testing.assert_array_equal(info_n["_task"], mask)
            np.testing.assert_array_equal(info_n["task"][mask], info_s["task"][mask])
    assert ended >= N, "the run must cover autoresets"
    if teacher:
        # The cut episodes (the partial reset) reached the teacher too.
        assert sum(c[0] == "update" for c in t_native.calls) == ended + int(staggered.sum())
        # Same calls in the same order, hence the same curriculum.
        assert t_native.calls == t_sync.calls


def test_results_do_not_depend_on_the_thread_count() -> None:
    outs = []
    for threads in (1, 2, 3):
        envs = teachgym.StumpTracksVectorEnv(num_envs=7, num_threads=threads, max_episode_steps=30)
        assert envs.num_threads == threads
        obs, _ = envs.reset(seed=1)
        rng = np.random.default_rng(2)
        seq = [obs]
        for _ in range(60):
            o, r, te, tr, _ = envs.step(rng.uniform(-1, 1, (7, 4)).astype(np.float32))
            seq += [o, r, te, tr]
        outs.append(seq)
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            np.testing.assert_array_equal(a, b)


def test_make_vec_returns_the_native_env_with_its_kwargs() -> None:
    envs = gym.make_vec(
        "teachgym/StumpTracks-v0",
        num_envs=16,
        vectorization_mode="vector_entry_point",
        body="small_bipedal",
        bounds={"stump_height": (0, 9)},
    )
    assert isinstance(envs.unwrapped, teachgym.StumpTracksVectorEnv)
    assert envs.num_envs == 16
    assert envs.observation_space.shape == (16, 24) and envs.action_space.shape == (16, 4)
    assert envs.unwrapped.task_space.high.tolist() == [9.0, 6.0]
    obs, info = envs.reset(seed=0)
    assert obs.dtype == np.float32 and envs.observation_space.contains(obs)
    o, r, te, tr, _ = envs.step(envs.action_space.sample())
    assert r.dtype == np.float64 and te.dtype == np.bool_ and tr.dtype == np.bool_
    # Default vectorisation mode uses the entry point too.
    assert isinstance(gym.make_vec("teachgym/PointMass-v0", num_envs=2).unwrapped, teachgym.PointMassVectorEnv)


def test_reset_options_per_env_tasks_and_masks() -> None:
    envs = teachgym.PointMassVectorEnv(num_envs=3, autoreset_mode=AutoresetMode.DISABLED, max_episode_steps=2)
    tasks = [[0.3, 1.0], [0.5, 1.5], [0.9, 2.0]]
    _, info = envs.reset(seed=0, options={"tasks": tasks})
    np.testing.assert_array_equal(info["task"], tasks)
    envs.step(np.zeros((3, 2), np.float32))
    _, _, _, truncated, _ = envs.step(np.zeros((3, 2), np.float32))
    assert truncated.all()
    with pytest.raises(ValueError, match="DISABLED"):
        envs.step(np.zeros((3, 2), np.float32))
    mask = np.array([True, False, True])
    _, info = envs.reset(options={"reset_mask": mask, "task": [0.4, 1.0]})
    np.testing.assert_array_equal(info["_task"], mask)
    np.testing.assert_array_equal(envs.tasks[1], tasks[1])
    np.testing.assert_array_equal(envs.tasks[0], [0.4, 1.0])


def test_vector_render_and_copy() -> None:
    envs = teachgym.StumpTracksVectorEnv(num_envs=2, render_mode="rgb_array", copy=False)
    obs, _ = envs.reset(seed=0)
    frames = envs.render()
    assert len(frames) == 2 and frames[0].shape == (400, 600, 3)
    o2, *_ = envs.step(np.zeros((2, 4), np.float32))
    assert o2 is obs  # copy=False hands out the buffer itself


def test_vector_env_pickles() -> None:
    import pickle

    envs = teachgym.PointMassVectorEnv(num_envs=3, autoreset_mode=AutoresetMode.SAME_STEP, task=[0.5, 1.0])
    clone = pickle.loads(pickle.dumps(envs))
    assert clone.num_envs == 3 and clone.autoreset_mode == AutoresetMode.SAME_STEP
    a, _ = envs.reset(seed=4)
    b, info = clone.reset(seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(info["task"], [[0.5, 1.0]] * 3)


def test_subprocess_vector_env_runs_teachgym_envs() -> None:
    # gymnasium's AsyncVectorEnv pickles the env constructors into worker processes.
    envs = gym.make_vec("teachgym/PointMass-v0", num_envs=2, vectorization_mode="async")
    try:
        obs, _ = envs.reset(seed=0)
        single = gym.make("teachgym/PointMass-v0")
        np.testing.assert_array_equal(obs[1], single.reset(seed=1)[0])
        envs.step(np.zeros((2, 2), np.float32))
    finally:
        envs.close()
