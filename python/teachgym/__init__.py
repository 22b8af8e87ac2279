"""teachgym: procedural RL environments whose difficulty is set by a task vector, curriculum
teachers, and a native vector env, for gymnasium and Stable-Baselines3.

Importing the package registers ``teachgym/StumpTracks-v0``, ``teachgym/HexagonTracks-v0``,
``teachgym/Parkour-v0``, ``teachgym/PointMass-v0``, ``teachgym/GridWorld-v0`` (``Discrete`` actions) and the web forms ``teachgym/WebForm-v0`` (``Discrete`` actions) and
``teachgym/WebFormMD-v0`` (``MultiDiscrete``, both with ``Dict`` observations) with gymnasium,
each with the native vector env as its ``vector_entry_point``, and ``teachgym/WebFormBrowser-v0``
(the web forms acted out on a real page in headless Chromium, :mod:`teachgym.browser`)::

    import gymnasium as gym
    import teachgym
    from teachgym.teachers import ALPGMM

    env = gym.make("teachgym/StumpTracks-v0", body="small_bipedal")
    env.unwrapped.set_task_source(ALPGMM(env.unwrapped.task_space, seed=0))
    envs = gym.make_vec("teachgym/StumpTracks-v0", num_envs=16)

Stable-Baselines3 on the native vector env: ``teachgym.make_sb3_vec_env`` / ``teachgym.SB3VecEnv``
(:mod:`teachgym.sb3`, imported on first use, so ``import teachgym`` imports neither SB3 nor
torch). One teacher for many worker processes: :class:`TeacherServer` and :class:`TeacherClient`
(:mod:`teachgym.server`), or a Ray actor (``teachgym.teacher_actor``, :mod:`teachgym.ray_teacher`).
"""

from __future__ import annotations

from typing import Any as _Any

import gymnasium as _gym

from . import runs, teachers
from ._teachgym import BODY_NAMES, TEACHER_NAMES, __version__
from .envs import (
    ENV_CLASSES,
    GridWorldEnv,
    HexagonTracksEnv,
    ParkourEnv,
    PointMassEnv,
    StumpTracksEnv,
    TeachgymEnv,
    WebFormEnv,
    WebFormMDEnv,
)
from .server import TeacherClient, TeacherServer, TeacherServerAuthError, TeacherServerGone, replay
from .spaces import TaskSpace
from .tasks import FixedTask, TaskSource, TeacherTasks, UniformTasks
from .vector import (
    VECTOR_ENV_CLASSES,
    GridWorldVectorEnv,
    HexagonTracksVectorEnv,
    ParkourVectorEnv,
    PointMassVectorEnv,
    StumpTracksVectorEnv,
    TeachgymVectorEnv,
    WebFormMDVectorEnv,
    WebFormVectorEnv,
)
from .training import ClassroomBuild, TrainResult, build_classroom, train
from .wrappers import Curriculum

__all__ = [
    "__version__",
    "ENV_IDS",
    "BROWSER_ENV_ID",
    "TEACHER_NAMES",
    "BODY_NAMES",
    "TaskSpace",
    "TaskSource",
    "UniformTasks",
    "FixedTask",
    "TeacherTasks",
    "TeachgymEnv",
    "StumpTracksEnv",
    "HexagonTracksEnv",
    "ParkourEnv",
    "PointMassEnv",
    "GridWorldEnv",
    "WebFormEnv",
    "WebFormMDEnv",
    "TeachgymVectorEnv",
    "StumpTracksVectorEnv",
    "HexagonTracksVectorEnv",
    "ParkourVectorEnv",
    "PointMassVectorEnv",
    "GridWorldVectorEnv",
    "WebFormVectorEnv",
    "WebFormMDVectorEnv",
    "Curriculum",
    "build_classroom",
    "ClassroomBuild",
    "TeacherServer",
    "TeacherClient",
    "TeacherServerGone",
    "TeacherServerAuthError",
    "replay",
    "teachers",
    "runs",
    "train",
    "TrainResult",
]


#: Names imported on first use, from the modules that need an optional dependency (left out of
#: ``__all__``, so that ``from teachgym import *`` needs neither).
_LAZY = {
    "SB3VecEnv": "sb3",
    "make_sb3_vec_env": "sb3",
    "teacher_actor": "ray_teacher",
    "RayTeacherClient": "ray_teacher",
    "WebFormBrowserEnv": "browser",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'teachgym' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)


def _register() -> list[str]:
    from .envs import _REGISTRY

    ids = []
    for name, (gym_id, _steps, _fps, success, _summary) in _REGISTRY.items():
        env_id = f"teachgym/{gym_id}"
        if env_id not in _gym.registry:
            # No `max_episode_steps` in the registered spec: gymnasium would wrap a TimeLimit at
            # that value, which cuts episodes from outside (before the env reports their return
            # to the task source) whenever `config` gives the env a longer limit. The env sets
            # its own limit in the spec of each instance instead (`TeachgymEnv.spec`).
            # `reward_threshold` is the mastery return (TeachMyAgent's 230 on the walkers).
            _gym.register(
                id=env_id,
                entry_point=f"teachgym.envs:{ENV_CLASSES[name].__name__}",
                vector_entry_point=f"teachgym.vector:{VECTOR_ENV_CLASSES[name].__name__}",
                reward_threshold=success,
            )
        ids.append(env_id)
    return ids


#: The gymnasium ids this package registers, one per env of the Rust registry.
ENV_IDS: list[str] = _register()

#: The web forms on a real page in Chromium (:class:`teachgym.browser.WebFormBrowserEnv`; not
#: in ``ENV_IDS``: it needs a browser).
BROWSER_ENV_ID = "teachgym/WebFormBrowser-v0"
if BROWSER_ENV_ID not in _gym.registry:
    _gym.register(id=BROWSER_ENV_ID, entry_point="teachgym.browser:WebFormBrowserEnv")
