"""Same seed, same trajectories, in two separate Python processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import hashlib, sys
import gymnasium as gym
import numpy as np
import teachgym
from conftest import ENV_IDS, trajectory_digest

out = []
for env_id in ENV_IDS:
    out.append(trajectory_digest(gym.make(env_id, max_episode_steps=60), seed=123, steps=150))
teacher_env = gym.make("teachgym/StumpTracks-v0", max_episode_steps=30)
teacher_env.unwrapped.set_task_source(teachgym.teachers.ALPGMM(teacher_env.unwrapped.task_space, seed=1, fit_rate=5))
out.append(trajectory_digest(teacher_env, seed=5, steps=300))
envs = gym.make_vec("teachgym/StumpTracks-v0", num_envs=4, max_episode_steps=25)
h = hashlib.sha256()
obs, _ = envs.reset(seed=9)
rng = np.random.default_rng(0)
for _ in range(100):
    o, r, te, tr, _ = envs.step(rng.uniform(-1, 1, (4, 4)).astype(np.float32))
    h.update(o.tobytes()); h.update(r.tobytes()); h.update(te.tobytes()); h.update(tr.tobytes())
out.append(h.hexdigest())
print(" ".join(out))
"""


def _run() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
        # A different hash seed per process, so nothing may depend on dict/set ordering.
        env={**__import__("os").environ, "PYTHONHASHSEED": "random"},
    )
    return result.stdout.split()


def test_two_processes_produce_identical_trajectories() -> None:
    from conftest import ENV_IDS

    first, second = _run(), _run()
    # One digest per env, then the teacher-driven env and the vector env.
    assert len(first) == len(ENV_IDS) + 2
    assert first == second
    assert len(set(first)) == len(first)  # different envs give different digests
