"""A gymnasium wrapper that plugs a curriculum into any teachgym env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from .envs import TeachgymEnv
from .tasks import TeacherTasks

__all__ = ["Curriculum"]


class Curriculum(gym.Wrapper):
    """Makes ``teacher`` the task source of the teachgym env inside ``env``: the teacher picks
    the task of every episode (including autoresets in vector envs and SB3) and receives every
    finished one. ``episodes_reported`` counts them.

    ``value_fn(observation, task) -> float`` is the student's value of an episode's first
    observation, for teachers that learn from value estimates (SPDL); see
    :mod:`teachgym.tasks`.

    >>> env = Curriculum(gym.make("teachgym/StumpTracks-v0"), ALPGMM(...))  # doctest: +SKIP
    >>> env = Curriculum(gym.make("teachgym/StumpTracks-v0"), SPDL(...), value_fn=critic)  # doctest: +SKIP
    """

    def __init__(self, env: gym.Env, teacher: Any, value_fn: Any = None) -> None:
        super().__init__(env)
        inner = env.unwrapped
        if not isinstance(inner, TeachgymEnv):
            raise TypeError(f"Curriculum wraps teachgym envs; got {type(inner).__name__}")
        self.teacher = teacher
        self._source = TeacherTasks(teacher, value_fn)
        inner.set_task_source(self._source)

    @property
    def episodes_reported(self) -> int:
        """Finished episodes the teacher has received."""
        return self._source.episodes_reported
