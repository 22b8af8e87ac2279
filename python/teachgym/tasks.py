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

Value estimates (SPDL): a source whose ``value_discount`` attribute is a float γ asks the env
for more. The env then keeps each episode's first observation and its return discounted by γ,
and after ``episode_end`` calls ``record_value(task, initial_observation, discounted_return)``.
:class:`TeacherTasks` does so for a teacher with a ``value_estimate_discount`` when it is given
a ``value_fn``, and calls ``teacher.record_value_estimate(task, value_fn(observation, task),
discounted_return)``. Sources without the attribute cost nothing extra.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .spaces import TaskSpace

__all__ = [
    "ValueTracker",
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


def _accepts_length(update: Any) -> bool:
    """Whether ``update`` takes a ``length`` keyword."""
    try:
        parameters = inspect.signature(update).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return any(
        p.name == "length" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) or p.kind == p.VAR_KEYWORD
        for p in parameters
    )


def _value_discount(teacher: Any) -> float | None:
    """The teacher's ``value_estimate_discount`` (``None`` when it has none)."""
    discount = getattr(teacher, "value_estimate_discount", None)
    return None if discount is None else float(discount)


class TeacherTasks:
    """Tasks chosen by ``teacher``, which learns from every finished episode.

    ``value_fn(observation, task) -> float``: the student's value estimate of an episode's first
    observation, required by teachers that learn from value estimates (SPDL) and refused by the
    others."""

    def __init__(self, teacher: Any, value_fn: Any = None) -> None:
        if not (callable(getattr(teacher, "sample_task", None)) and callable(getattr(teacher, "update", None))):
            raise TypeError(
                f"a teacher needs sample_task() and update(task, episode_return, success); got {teacher!r}"
            )
        if value_fn is not None and not callable(value_fn):
            raise TypeError(f"value_fn must be callable as value_fn(observation, task) -> float, got {value_fn!r}")
        discount = _value_discount(teacher)
        if discount is not None and value_fn is None:
            raise ValueError(
                f"teacher {getattr(teacher, 'name', type(teacher).__name__)!r} learns from the "
                "student's value estimates: pass value_fn=f, where f(observation, task) returns the "
                "student's value of an episode's first observation (or drive the teacher yourself "
                "and call teacher.record_value_estimate after each update)"
            )
        if discount is None and value_fn is not None:
            raise ValueError(
                f"teacher {getattr(teacher, 'name', type(teacher).__name__)!r} uses no value "
                "estimates; drop value_fn"
            )
        self.teacher = teacher
        # Episode lengths reach teachers whose update takes them (teachgym's teachers: SPDL
        # counts env steps); a user's update(task, episode_return, success) gets three arguments.
        self._pass_length = _accepts_length(teacher.update)
        self.value_fn = value_fn
        #: γ of the discounted returns the env computes for the teacher (``None``: none).
        self.value_discount = discount
        self.episodes_reported = 0

    def next_task(self, np_random: np.random.Generator) -> Any:
        return self.teacher.sample_task()

    def episode_end(self, task: np.ndarray, episode_return: float, success: bool, length: int) -> None:
        if self._pass_length:
            self.teacher.update(task, episode_return, success, length=length)
        else:
            self.teacher.update(task, episode_return, success)
        self.episodes_reported += 1

    def record_value(self, task: np.ndarray, initial_observation: Any, discounted_return: float) -> None:
        """Hands the teacher ``value_fn``'s estimate of the episode's first observation and its
        discounted return (called by the env after :meth:`episode_end`)."""
        value = self.value_fn(initial_observation, task)
        if isinstance(value, np.ndarray):
            if value.size != 1:
                raise ValueError(
                    f"value_fn must return one number (the value of one observation), got an array of shape {value.shape}"
                )
            value = value.reshape(()).item()
        elif hasattr(value, "item") and callable(value.item) and not isinstance(value, (int, float)):
            value = value.item()  # a torch scalar tensor
        self.teacher.record_value_estimate(task, value, discounted_return)

    def __repr__(self) -> str:
        return f"TeacherTasks({self.teacher!r})"


def as_task_source(source: Any, task_space: TaskSpace, value_fn: Any = None) -> Any:
    """Turns what a user passes as ``task``/``teacher`` (and ``value_fn``) into a task source.

    ``None`` gives :class:`UniformTasks`; an object with ``next_task``/``episode_end`` is used as
    is; one with ``sample_task``/``update`` is wrapped in :class:`TeacherTasks` (with
    ``value_fn``); anything else must be a task (a sequence of numbers) and gives
    :class:`FixedTask`. ``value_fn`` belongs to a teacher only.
    """
    is_teacher = source is not None and callable(getattr(source, "sample_task", None))
    if value_fn is not None and not is_teacher:
        raise ValueError("value_fn is for teachers that learn from value estimates; give teacher= too")
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
        return TeacherTasks(source, value_fn)
    return FixedTask(source, task_space)


class ValueTracker:
    """What an env keeps for a source that asks for value estimates (``value_discount``): each
    episode's first observation and its discounted return, over ``n`` sub-envs. Envs whose
    source asks for none hold ``None`` instead and pay nothing."""

    def __init__(self, discount: float, n: int) -> None:
        if not (0.0 <= discount <= 1.0):
            raise ValueError(f"value_estimate_discount must be in [0, 1], got {discount}")
        self.discount = discount
        self.initial_observation: list[Any] = [None] * n
        self.discounted_return = np.zeros(n, dtype=np.float64)
        self.weight = np.ones(n, dtype=np.float64)

    def start(self, i: int, observation: Any) -> None:
        """Episode start of sub-env ``i`` with ``observation`` (kept as a copy)."""
        self.initial_observation[i] = _copy_observation(observation)
        self.discounted_return[i] = 0.0
        self.weight[i] = 1.0

    def add(self, rewards: np.ndarray, stepped: np.ndarray | None = None) -> None:
        """Rewards of one step (``stepped``: which sub-envs stepped; all when ``None``)."""
        if stepped is None:
            self.discounted_return += self.weight * rewards
            self.weight *= self.discount
        else:
            self.discounted_return += np.where(stepped, self.weight * rewards, 0.0)
            self.weight = np.where(stepped, self.weight * self.discount, self.weight)

    @classmethod
    def for_source(cls, source: Any, n: int) -> ValueTracker | None:
        discount = getattr(source, "value_discount", None)
        return None if discount is None else cls(float(discount), n)


def _copy_observation(observation: Any) -> Any:
    if isinstance(observation, dict):
        return {k: np.array(v, copy=True) for k, v in observation.items()}
    return np.array(observation, copy=True)


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
