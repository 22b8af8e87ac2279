"""Curriculum teachers: every teacher of the Rust registry as a Python class.

>>> import teachgym
>>> from teachgym.teachers import ALPGMM
>>> teacher = ALPGMM(low=[0.0, 0.0], high=[3.0, 6.0], seed=0, fit_rate=100)
>>> task = teacher.sample_task()
>>> teacher.update(task, episode_return=12.5, success=False)

Keyword arguments are the fields of the teacher's Rust configuration (unknown ones raise
``ValueError``); nested fields are dicts, e.g. ``ADR(space, expert_knowledge={...})``. Pass a
teacher as ``teacher=`` to any teachgym env (single or vector) and it chooses the task of every
episode and learns from every finished one.

``shuffle_dimensions=True`` (any teacher) is TeachMyAgent's "rugged difficulty": the teacher
samples in a space whose dimensions are each cut into 4 intervals and permuted (seeded with
``seed``); its tasks are mapped back before an env sees them, and episodes are credited to the
teacher's own tasks.

SPDL learns from the student's value estimates (:attr:`Teacher.value_estimate_discount` is not
``None``): give the env a ``value_fn`` (``value_fn(observation, task) -> float``, the student's
value of an episode's first observation) and it hands the teacher, after each finished episode,
that value and the episode's discounted return; or call :meth:`Teacher.record_value_estimate`
yourself after each :meth:`Teacher.update`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from . import _teachgym
from .envs import to_json
from .spaces import TaskSpace

__all__ = [
    "Teacher",
    "Random",
    "ALPGMM",
    "CovarGMM",
    "RIAC",
    "ADR",
    "GoalGAN",
    "SetterSolver",
    "SPDL",
    "Again",
    "QWebSchedule",
    "TEACHER_CLASSES",
    "make_teacher",
]


class Teacher:
    """A Rust teacher over a task space. Subclasses fix :attr:`NAME`."""

    #: Name in the Rust registry.
    NAME: ClassVar[str]

    def __init__(
        self,
        task_space: TaskSpace | None = None,
        *,
        low: Sequence[float] | np.ndarray | None = None,
        high: Sequence[float] | np.ndarray | None = None,
        seed: int = 0,
        shuffle_dimensions: bool = False,
        **config: Any,
    ) -> None:
        if task_space is None:
            if low is None or high is None:
                raise TypeError("give a task_space, or low= and high= arrays")
            task_space = TaskSpace.from_bounds(low, high)
        elif low is not None or high is not None:
            raise TypeError("give a task_space or low=/high=, not both")
        if not isinstance(task_space, TaskSpace):
            raise TypeError(
                f"task_space must be a teachgym TaskSpace (e.g. env.unwrapped.task_space), got {type(task_space).__name__}"
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
            raise ValueError(f"seed must be an int in [0, 2**64), got {seed!r}")
        if not isinstance(shuffle_dimensions, (bool, np.bool_)):
            raise TypeError(f"shuffle_dimensions must be a bool, got {shuffle_dimensions!r}")
        self._task_space = task_space
        self._seed = int(seed)
        self._shuffle_dimensions = bool(shuffle_dimensions)
        self._config = dict(config)
        self._core = _teachgym.RustTeacher(
            self.NAME,
            list(task_space.names),
            task_space.low.tolist(),
            task_space.high.tolist(),
            self._seed,
            to_json(self._config, ""),
            self._shuffle_dimensions,
        )

    @property
    def task_space(self) -> TaskSpace:
        """The task space the teacher samples from."""
        return self._task_space

    @property
    def name(self) -> str:
        """Registry name."""
        return self.NAME

    @property
    def value_estimate_discount(self) -> float | None:
        """The discount γ of the value estimates the teacher learns from (SPDL: 0.99), or
        ``None`` for teachers that use none. See :meth:`record_value_estimate`."""
        return self._core.value_estimate_discount

    def sample_task(self) -> np.ndarray:
        """The task of the next episode (float64, inside the task space)."""
        return self._core.sample_task()

    def update(self, task: Any, episode_return: float, success: bool, length: int = 0) -> None:
        """Learns from an episode on ``task`` with undiscounted return ``episode_return``.

        ``success`` is the env's verdict, ``info["is_success"]`` of the step that ended the
        episode (the key Stable-Baselines3 reads too; there is no ``info["success"]``, and a
        ``False`` passed in its place would tell the teacher that nothing is ever mastered).
        :meth:`update_from_info` reads the three values from that ``info`` itself."""
        task = self._task_space.validate(task)
        if isinstance(episode_return, (bool, np.bool_)) or not isinstance(episode_return, (int, float, np.integer, np.floating)):
            raise TypeError(f"episode_return must be a real number, got {episode_return!r}")
        if not isinstance(success, (bool, np.bool_)):
            raise TypeError(f"success must be a bool, got {success!r}")
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or not 0 <= length < 2**32:
            raise ValueError(f"length must be an int in [0, 2**32), got {length!r}")
        try:
            episode_return = float(episode_return)
        except OverflowError:
            raise ValueError(f"episode_return {episode_return} does not fit a float") from None
        self._core.update(task, episode_return, bool(success), int(length))

    def update_from_info(self, task: Any, info: Mapping[str, Any]) -> None:
        """Learns from the episode that ended with ``info`` (the info dict of the step whose
        ``terminated`` or ``truncated`` was true): its ``episode_return``, ``is_success`` and
        ``episode_length``. ``KeyError`` naming the missing key for any other info (a mid-episode
        step's, or a wrapper's that dropped them); ``TypeError`` for a vector env's info of
        arrays (feed each ended sub-env's entries to :meth:`update`)."""
        if not isinstance(info, Mapping):
            raise TypeError(f"info must be the dict a step returned, got {type(info).__name__}")
        missing = [k for k in ("episode_return", "is_success", "episode_length") if k not in info]
        if missing:
            raise KeyError(
                f"info has no {', '.join(repr(k) for k in missing)}: pass the info of the step "
                "that ended the episode (terminated or truncated), as the env returned it"
            )
        if isinstance(info["is_success"], np.ndarray):
            raise TypeError(
                "info holds arrays (a vector env's info): call update() for each sub-env i whose "
                'episode ended, with info["episode_return"][i], info["is_success"][i] and '
                'info["episode_length"][i]'
            )
        self.update(task, info["episode_return"], info["is_success"], info["episode_length"])

    def record_value_estimate(self, task: Any, initial_value: float, discounted_return: float) -> None:
        """For teachers with a :attr:`value_estimate_discount`: the student's value estimate of
        the first observation of an episode on ``task`` that :meth:`update` has received, and
        that episode's return discounted by γ (``Σ γᵗ rₜ``). Call it after the episode's
        :meth:`update`, in the same order; an env given ``value_fn=`` does it for you.
        ``ValueError`` for a task with no such episode or a non-finite value; teachers without
        a discount ignore it."""
        task = self._task_space.validate(task)
        values = []
        for name, value in (("initial_value", initial_value), ("discounted_return", discounted_return)):
            if isinstance(value, np.ndarray) and value.size == 1:
                value = value.reshape(()).item()
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name} must be a real number (a scalar), got {value!r}")
            try:
                values.append(float(value))
            except OverflowError:
                raise ValueError(f"{name} {value} does not fit a float") from None
        self._core.record_value_estimate(task, values[0], values[1])

    def record_evaluation(
        self,
        epoch: int,
        returns: Sequence[float] | np.ndarray,
        *,
        episodes: int,
        scores: Sequence[float] | np.ndarray | None = None,
        score_range: tuple[float, float] | None = None,
    ) -> None:
        """Hands the teacher one evaluation of the student on a fixed test set (``teachgym
        train`` does it after each evaluation). ``epoch`` counts the evaluations since training
        began from 1 (0 is the untrained student's), ``episodes`` the training episodes so far,
        ``returns`` the return of each test task in test-set order. ``scores`` are the same
        tasks' scores in [0, 1] (AGAIN's knowledge-component vector); or give ``score_range=(low,
        high)`` and the returns are mapped linearly from it and clipped (the reference maps walker
        returns from (-150, 350)). Teachers that use no evaluations (all but AGAIN) ignore it.
        ``ValueError`` for non-finite values, scores outside [0, 1] or lengths that differ."""
        for name, value in (("epoch", epoch), ("episodes", episodes)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) < 2**64:
                raise ValueError(f"{name} must be an int in [0, 2**64), got {value!r}")
        returns_array = _finite_vector(returns, "returns")
        if scores is not None and score_range is not None:
            raise TypeError("give scores or score_range, not both")
        if scores is not None:
            scores_array = _finite_vector(scores, "scores")
            if scores_array.shape != returns_array.shape:
                raise ValueError(f"scores has {scores_array.size} values but returns has {returns_array.size}")
            outside = np.flatnonzero((scores_array < 0.0) | (scores_array > 1.0))
            if outside.size:
                raise ValueError(f"scores must be in [0, 1]; scores[{outside[0]}] = {scores_array[outside[0]]}")
            self._core.record_evaluation(int(epoch), int(episodes), returns_array.tolist(), scores_array.tolist())
        elif score_range is not None:
            low, high = (float(v) for v in score_range)
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"score_range must be finite (low, high) with low < high, got {score_range!r}")
            # Mapped in Rust (EvaluationResult::from_returns), as the trainer maps its scores.
            self._core.record_evaluation(int(epoch), int(episodes), returns_array.tolist(), None, (low, high))
        else:
            raise TypeError("give scores (each in [0, 1]) or score_range=(low, high)")

    @property
    def wants_student_restart(self) -> bool:
        """Whether the teacher asks for a fresh student (AGAIN with ``restart_after_pretrain``,
        "trying again"): replace the student, then call :meth:`acknowledge_student_restart`."""
        return self._core.wants_student_restart

    def acknowledge_student_restart(self) -> None:
        """Tells the teacher the student was replaced by a fresh one."""
        self._core.acknowledge_student_restart()

    def non_exploratory_samples(self, n: int) -> np.ndarray | None:
        """``n`` tasks of the current curriculum without exploration (for plots), or ``None``
        when the teacher has no such distribution; never changes future decisions."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"n must be an int, got {n!r}")
        if not 0 <= int(n) <= _teachgym.MAX_NON_EXPLORATORY_SAMPLES:
            raise ValueError(f"n must be in [0, {_teachgym.MAX_NON_EXPLORATORY_SAMPLES}], got {n}")
        samples = self._core.non_exploratory_samples(int(n))
        return None if samples is None else np.asarray(samples, dtype=np.float64).reshape(-1, self._task_space.shape[0])

    def state_dict(self) -> dict[str, Any]:
        """The full state (configuration, statistics, random streams) as a JSON-compatible dict;
        :meth:`load_state_dict` restores it exactly."""
        return json.loads(self._core.save_state())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state from :meth:`state_dict` of the same teacher kind and task space
        (``ValueError`` otherwise; the teacher is unchanged then)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(), got {type(state).__name__}")
        self._core.load_state(to_json(state, "state").encode())

    def __getstate__(self) -> dict[str, Any]:
        return {
            "task_space": self._task_space,
            "seed": self._seed,
            "shuffle_dimensions": self._shuffle_dimensions,
            "config": self._config,
            "state": self._core.save_state(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        type(self).__init__(
            self,
            state["task_space"],
            seed=state["seed"],
            shuffle_dimensions=state.get("shuffle_dimensions", False),
            **state["config"],
        )
        self._core.load_state(state["state"])

    def __repr__(self) -> str:
        shuffled = ", shuffle_dimensions=True" if self._shuffle_dimensions else ""
        return f"{type(self).__name__}({self._task_space!r}, seed={self._seed}{shuffled})"


class Random(Teacher):
    """Uniform tasks (the baseline)."""

    NAME = "random"


class ALPGMM(Teacher):
    """ALP-GMM (Portelas et al. 2019): Gaussian mixtures over (task, absolute learning progress)."""

    NAME = "alp_gmm"


class CovarGMM(Teacher):
    """Covar-GMM (Moulin-Frier et al. 2014): mixtures over (task, return, time)."""

    NAME = "covar_gmm"


class RIAC(Teacher):
    """RIAC (Baranes & Oudeyer 2009): regions split by learning progress."""

    NAME = "riac"


class ADR(Teacher):
    """Automatic Domain Randomization (OpenAI 2019); needs ``expert_knowledge`` with reward
    thresholds."""

    NAME = "adr"


class GoalGAN(Teacher):
    """GoalGAN (Florensa et al. 2018): a GAN proposing goals of intermediate difficulty; needs
    ``expert_knowledge`` with at least the success threshold (level ``low``, e.g. from
    ``env.unwrapped.expert_knowledge("low")``)."""

    NAME = "goal_gan"


class SetterSolver(Teacher):
    """Setter-Solver (Racanière et al. 2020): a conditional RealNVP setter and a judge of
    feasibility; reads the episodes' success flags, no expert knowledge."""

    NAME = "setter_solver"


class Again(Teacher):
    """AGAIN, meta-ACL (Portelas et al. 2020): pre-tests the student with an internal ALP-GMM,
    finds the most similar students of a ``classroom`` (a file from ``teachgym classroom build``,
    or the same JSON as a dict) by their test scores, and replays the best one's curriculum.
    Needs the student's test results: call :meth:`Teacher.record_evaluation` after each
    evaluation on the classroom's test set (same test set, same score range)."""

    NAME = "again"

    def __init__(self, task_space: TaskSpace | None = None, **kwargs: Any) -> None:
        # The configuration is JSON: a path-like classroom goes as its string.
        if isinstance(kwargs.get("classroom"), os.PathLike):
            kwargs["classroom"] = os.fspath(kwargs["classroom"])
        super().__init__(task_space, **kwargs)


class SPDL(Teacher):
    """SPDL, self-paced deep RL (Klink et al. 2020): a Gaussian over tasks moved by trust-region
    steps towards tasks the student values and, as its returns grow, towards a target
    distribution. Learns from value estimates: give the env ``value_fn=`` (see the module
    docs). ``expert_knowledge`` at level ``high`` gives its initial distribution."""

    NAME = "spdl"


class QWebSchedule(Teacher):
    """QWeb's scheduled curriculum (Gur et al. 2019): the ``dimensions`` it names (default the
    web-form env's ``goal_coverage`` and ``cold_start``: goal simulation and warm start) move from
    their lower (easy) to their upper (hard) bound as training progresses (``horizon`` episodes
    or successes, optionally gated by ``min_success_rate``); the others are uniform. On a space
    without the default dimensions, name the ones to schedule."""

    NAME = "qweb_schedule"


#: Every teacher class by registry name (the same names as ``teachgym._teachgym.TEACHER_NAMES``).
TEACHER_CLASSES: dict[str, type[Teacher]] = {
    c.NAME: c
    for c in (Random, ALPGMM, CovarGMM, RIAC, ADR, GoalGAN, SetterSolver, SPDL, Again, QWebSchedule)
}


def make_teacher(name: str, task_space: TaskSpace | None = None, **kwargs: Any) -> Teacher:
    """The teacher registered as ``name`` (``random``, ``alp_gmm``, ``covar_gmm``, ``riac``,
    ``adr``, ``goal_gan``, ``setter_solver``, ``spdl``, ``again``, ``qweb_schedule``)."""
    try:
        cls = TEACHER_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown teacher {name!r}; known: {', '.join(TEACHER_CLASSES)}") from None
    return cls(task_space, **kwargs)


def _finite_vector(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """``values`` as a 1-D float64 array, every value finite (``ValueError`` naming the first
    bad one, ``TypeError`` for what is not numbers)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of real numbers, got {values!r}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is {array[bad[0]]}: values must be finite")
    return array
