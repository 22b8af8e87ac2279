"""Task sources: where an environment gets the task of each episode when ``reset`` is not given
one in ``options["task"]``.

An env asks its source on every reset, including the autoresets of vector envs and of
Stable-Baselines3, and reports every finished episode back to it, so a teacher plugged in as the
source drives the curriculum with no change to the training loop.

- :class:`UniformTasks` (the default): uniform over the task space, drawn from the env's
  ``np_random`` so that ``reset(seed=...)`` makes it reproducible.
- :class:`FixedTask`: always the same task.
- :class:`TeacherTasks`: asks a teacher (any object with ``sample_task()`` and
  ``update(task, episode_return, success)``, such as :mod:`teachgym.teachers`).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from .spaces import TaskSpace

__all__ = [
    "TaskSource",
    "UniformTasks",
    "FixedTask",
    "TeacherTasks",
    "as_task_source",
    "draw_reset",
]


@runtime_checkable
class TaskSource(Protocol):
    """What an env needs from a task source."""

    def next_task(self, np_random: np.random.Generator) -> Any:
        """The task of the next episode; ``np_random`` is the env's generator."""
        ...

    def episode_end(self, task: np.ndarray, episode_return: float, success: bool, length: int) -> None:
        """Called once per finished episode."""
        ...


class UniformTasks:
    """Uniform over the task space, drawn from the env's ``np_random``."""

    def __init__(self, task_space: TaskSpace) -> None:
        self.task_space = task_space

    def next_task(self, np_random: np.random.Generator) -> np.ndarray:
        return np_random.uniform(self.task_space.low, self.task_space.high)

    def episode_end(self, task: np.ndarray, episode_return: float, success: bool, length: int) -> None:
        pass

    def __repr__(self) -> str:
        return f"UniformTasks({self.task_space!r})"


class FixedTask:
    """Always ``task``."""

    def __init__(self, task: Any, task_space: TaskSpace) -> None:
        self.task = task_space.validate(task)

    def next_task(self, np_random: np.random.Generator) -> np.ndarray:
        return self.task.copy()

    def episode_end(self, task: np.ndarray, episode_return: float, success: bool, length: int) -> None:
        pass

    def __repr__(self) -> str:
        return f"FixedTask({self.task.tolist()})"


class TeacherTasks:
    """Tasks chosen by ``teacher``, which learns from every finished episode."""

    def __init__(self, teacher: Any) -> None:
        if not (callable(getattr(teacher, "sample_task", None)) and callable(getattr(teacher, "update", None))):
            raise TypeError(
                f"a teacher needs sample_task() and update(task, episode_return, success); got {teacher!r}"
            )
        self.teacher = teacher
        self.episodes_reported = 0

    def next_task(self, np_random: np.random.Generator) -> Any:
        return self.teacher.sample_task()

    def episode_end(self, task: np.ndarray, episode_return: float, success: bool, length: int) -> None:
        self.teacher.update(task, episode_return, success)
        self.episodes_reported += 1

    def __repr__(self) -> str:
        return f"TeacherTasks({self.teacher!r})"


def as_task_source(source: Any, task_space: TaskSpace) -> Any:
    """Turns what a user passes as ``task``/``teacher`` into a task source.

    ``None`` gives :class:`UniformTasks`; an object with ``next_task``/``episode_end`` is used as
    is; one with ``sample_task``/``update`` is wrapped in :class:`TeacherTasks`; anything else
    must be a task (a sequence of numbers) and gives :class:`FixedTask`.
    """
    if source is None:
        return UniformTasks(task_space)
    if callable(getattr(source, "next_task", None)) and callable(getattr(source, "episode_end", None)):
        return source
    if callable(getattr(source, "sample_task", None)):
        teacher_space = getattr(source, "task_space", None)
        if isinstance(teacher_space, TaskSpace) and teacher_space.shape != task_space.shape:
            raise ValueError(
                f"the teacher's task space {teacher_space!r} does not match the env's {task_space!r}"
            )
        return TeacherTasks(source)
    return FixedTask(source, task_space)


def draw_reset(
    np_random: np.random.Generator, source: Any, task_space: TaskSpace, task: Any = None
) -> tuple[int, np.ndarray]:
    """The Rust seed and the task of a reset: the task (given, or from the source) first, then a
    63-bit seed from ``np_random``. Single and vector envs both reset through this function, so
    the same seeds give the same episodes in both."""
    if task is None:
        task = source.next_task(np_random)
    task = task_space.validate(task)
    seed = int(np_random.integers(0, 2**63 - 1, dtype=np.int64))
    return seed, task
