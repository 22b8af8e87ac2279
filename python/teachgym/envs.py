"""Single environments: thin ``gymnasium.Env`` subclasses around the Rust envs.

Each class wraps one entry of the Rust registry (``teachgym._teachgym.env_registry()``); the
physics, the observations, the rewards and the step limit live in Rust. Constructor keywords:

- ``body``: the embodiment of a walker, one of ``teachgym.BODY_NAMES`` (``classic_bipedal``,
  the default, ``small_bipedal``, ``old_classic_bipedal``, ``big_quadru``, ``spider``,
  ``millipede``, ``wheel``, ``profile_chimpanzee``, ``fish``, ``amphibious_bipedal``, and on
  Parkour only the climbers ``climbing_profile_chimpanzee`` and
  ``climbing_chest_profile_chimpanzee``); the action and observation sizes follow the body (and the track: Parkour adds ``is_under_water``,
  ``is_dead`` and ten lidar surface flags).
- ``bounds``: ``{dimension: (low, high)}`` overrides of the task space, e.g.
  ``{"stump_height": (0, 9)}``.
- ``max_episode_steps``: the step limit after which the env truncates (the Rust env does it, so
  the episode's return reaches the teacher).
- ``render_mode``: ``None`` or ``"rgb_array"`` (an ``(H, W, 3)`` uint8 frame from Rust).
- ``task``: a fixed task for every episode; ``teacher``: a teacher (or any task source) asked on
  every reset. Without either, tasks are uniform over the task space, drawn from ``np_random``.
- ``config``: further fields of the Rust configuration (its serde form), e.g.
  ``{"physics": {"solver_iterations": 8}}``; unknown fields raise ``ValueError``.

``gymnasium.make(id, max_episode_steps=n)`` does not reach the constructor: gymnasium wraps the
env in its ``TimeLimit`` instead. Episodes it cuts are still reported to the task source, at the
next reset; ``config={"max_episode_steps": n}`` sets the Rust limit through ``make``.

The grid world (``GridWorldEnv``) observes a flat float vector and takes one ``Discrete`` move
per step (an int in ``[0, 4)``); its ``info`` holds ``shortest_path`` (int) at reset.

The web forms (``WebFormEnv``: ``Discrete`` actions, ``WebFormMDEnv``: ``MultiDiscrete``) observe
a ``Dict`` of arrays (token ids as int64, masks as uint8, features as float32), among them
``action_mask`` (1 = valid flat action); they take only ``config`` (e.g.
``{"max_fields": 4, "interaction_level": "widget"}``): their task space is fixed to [0, 1]^8 and
their step limit follows each episode's optimal number of steps. Their ``info`` holds ``success``
and ``invalid_action`` (bools), ``n_correct``, ``n_fields``, ``n_pages``, ``page``,
``optimal_steps`` (ints), ``task_reward``, ``shaping``, ``potential`` (floats).

Pickling keeps the configuration, the task source and ``np_random``, not the episode in
progress (reset the copy). Subprocess vector envs therefore give each worker its own copy of a
teacher; for one shared curriculum use the native vector env, ``SyncVectorEnv``, or serve the
teacher from one process (:mod:`teachgym.server`) and give the workers its client.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

from . import _teachgym
from .spaces import TaskSpace, space_from_description
from .tasks import ValueTracker, as_task_source, draw_reset

__all__ = [
    "TeachgymEnv",
    "StumpTracksEnv",
    "HexagonTracksEnv",
    "ParkourEnv",
    "PointMassEnv",
    "GridWorldEnv",
    "WebFormEnv",
    "WebFormMDEnv",
    "ENV_CLASSES",
]

#: name -> (gym id, default step limit, render fps, success return of a cut episode, summary),
#: from the Rust env registry that the ``teachgym`` command line reads too.
_REGISTRY = {entry[0]: entry[1:] for entry in _teachgym.env_registry()}


def options_json(
    body: str | None,
    bounds: Mapping[str, Any] | None,
    max_episode_steps: int | None,
    config: Mapping[str, Any] | None,
) -> str:
    """The JSON the Rust constructor reads, with Python-side type checks for clear messages."""
    options: dict[str, Any] = {}
    if body is not None:
        if not isinstance(body, str):
            raise TypeError(f"body must be a str, got {type(body).__name__}")
        options["body"] = body
    if bounds is not None:
        if not isinstance(bounds, Mapping):
            raise TypeError(f"bounds must be a dict {{dimension: (low, high)}}, got {type(bounds).__name__}")
        pairs = {}
        for name, pair in bounds.items():
            try:
                arr = np.asarray(pair, dtype=np.float64) if not isinstance(pair, str) else None
            except (TypeError, ValueError, OverflowError):
                arr = None
            if arr is None or arr.shape != (2,):
                raise ValueError(f"bounds[{name!r}] must be a pair (low, high), got {pair!r}")
            pairs[str(name)] = arr.tolist()
        options["bounds"] = pairs
    if max_episode_steps is not None:
        if isinstance(max_episode_steps, bool) or not isinstance(max_episode_steps, (int, np.integer)):
            raise TypeError(f"max_episode_steps must be an int, got {max_episode_steps!r}")
        if not 1 <= int(max_episode_steps) <= 2**32 - 1:
            raise ValueError(f"max_episode_steps must be in [1, 2**32 - 1], got {max_episode_steps}")
        options["max_episode_steps"] = int(max_episode_steps)
    if config is not None:
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        options["config"] = dict(config)
    return to_json(options, "")


def to_json(value: Any, what: str) -> str:
    """``value`` (dicts, lists, numbers, strings, numpy arrays and scalars) as the JSON the Rust
    side reads. NaN and infinities raise ``ValueError`` naming their key: JSON, and the TOML of a
    run's configuration, cannot hold them. ``what`` names ``value`` in messages (``""`` names
    the keys of a dict alone)."""
    return json.dumps(_plain(value, what), allow_nan=False)


def _plain(value: Any, path: str) -> Any:
    """``value`` with numpy objects turned into Python ones, every float checked."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{path}[{k!r}]" if path else str(k)) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"{path} is {value}: configurations are JSON (and TOML in a run directory), which "
            "cannot hold NaN or infinity"
        )
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot pass {value!r} ({type(value).__name__}) at {path} to the Rust configuration")


_F32_MAX = float(np.finfo(np.float32).max)


def check_action(action: Any, shape: tuple[int, ...], *, what: str = "action has") -> np.ndarray:
    """``action`` as a contiguous float32 array of ``shape``, or ``TypeError``/``ValueError``.

    One rule for every value: a finite value is clipped to the action space (by the Rust env),
    NaN and infinities are errors. A finite value beyond float32's range (e.g. ``1e300``) is
    brought to float32's largest magnitude rather than turned into an infinity by the cast, so it
    is clipped like ``1e30``.

    ``what`` starts the shape error (the vector env passes ``"actions have"`` and a batched
    ``shape``)."""
    arr = np.asarray(action)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"actions must be real numbers (float or int), got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{what} shape {arr.shape}, expected {shape}")
    if arr.dtype != np.float32:
        wide = arr.astype(np.float64)
        arr = np.where(np.isfinite(wide), np.clip(wide, -_F32_MAX, _F32_MAX), wide)
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_discrete_action(action: Any, n: int) -> int:
    """``action`` as an int in ``[0, n)``, or ``TypeError``/``ValueError``."""
    if isinstance(action, np.ndarray) and action.shape == ():
        action = action[()]
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
        raise TypeError(f"a Discrete action must be an int, got {action!r} ({type(action).__name__})")
    a = int(action)
    if not 0 <= a < n:
        raise ValueError(f"action {a} is outside Discrete({n}), i.e. [0, {n - 1}]")
    return a


def check_multi_discrete_action(action: Any, nvec: np.ndarray) -> list[int]:
    """``action`` as a list of ints within ``nvec``, or ``TypeError``/``ValueError``."""
    arr = np.asarray(action)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"a MultiDiscrete action must hold ints, got dtype {arr.dtype} ({action!r})")
    if arr.shape != nvec.shape:
        raise ValueError(f"action has shape {arr.shape}, expected {nvec.shape}")
    bad = np.flatnonzero((arr < 0) | (arr >= nvec))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"action[{i}] = {arr[i]} is outside [0, {nvec[i] - 1}] (MultiDiscrete({nvec.tolist()}))")
    return [int(a) for a in arr]


def check_seed(seed: Any) -> int | None:
    """``seed`` as a non-negative int (or ``None``), or ``TypeError``/``ValueError``."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"a seed must be an int or None, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"a seed must be >= 0, got {seed}")
    return int(seed)


def task_space_of(core: Any) -> TaskSpace:
    names, low, high, docs = core.task_space()
    return TaskSpace(names, low, high, docs)


class TeachgymEnv(gym.Env[np.ndarray, np.ndarray]):
    """A teachgym environment (see the module docs for the keywords)."""

    #: Name of the Rust registry entry.
    ENV_NAME: ClassVar[str]
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 50}
    #: Info keys whose float values from Rust are given another Python type (bool, int), so
    #: that info values keep one type per key.
    INFO_TYPES: ClassVar[dict[str, type]] = {}

    def __init__(
        self,
        *,
        body: str | None = None,
        bounds: Mapping[str, Any] | None = None,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        task: Any = None,
        teacher: Any = None,
        config: Mapping[str, Any] | None = None,
        value_fn: Any = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; choose from {self.metadata['render_modes']} or None"
            )
        if task is not None and teacher is not None:
            raise ValueError("give either a fixed task or a teacher, not both")
        self._kwargs = dict(body=body, bounds=bounds, max_episode_steps=max_episode_steps, config=config)
        self._core = _teachgym.RustEnv(
            self.ENV_NAME, options_json(body, bounds, max_episode_steps, config)
        )
        # The Rust env's own step limit (None where it depends on the episode: the web forms),
        # as the constructor (which has validated it) resolves it: keyword, then config, then the registry's default.
        limit = max_episode_steps
        if limit is None and isinstance(config, Mapping):
            limit = config.get("max_episode_steps")
        self._step_limit: int | None = int(limit) if limit is not None else _REGISTRY[self.ENV_NAME][1]
        self._spec: EnvSpec | None = None
        self.render_mode = render_mode
        self.observation_space = space_from_description(self._core.observation_space())
        self.action_space = space_from_description(self._core.action_space())
        self._action_shape = self.action_space.shape
        #: The task space (names, bounds, ``sample()``, ``contains()``).
        self.task_space: TaskSpace = task_space_of(self._core)
        self._task_source = as_task_source(teacher if teacher is not None else task, self.task_space, value_fn)
        self._values = ValueTracker.for_source(self._task_source, 1)
        self._task: np.ndarray | None = None
        self._running = False
        self._steps = 0
        self._return = 0.0

    # -- gymnasium spec ----------------------------------------------------------------------
    @property  # type: ignore[override]
    def spec(self) -> EnvSpec | None:
        """The spec ``gymnasium.make`` gave this env, with ``max_episode_steps`` set to the env's
        own step limit: the env truncates itself there, and no TimeLimit wrapper is added
        (gymnasium's would cut episodes from outside, before their return reaches the task
        source)."""
        return self._spec

    @spec.setter
    def spec(self, value: EnvSpec | None) -> None:
        if value is not None and value.max_episode_steps is None and self._step_limit is not None:
            value = dataclasses.replace(value, max_episode_steps=self._step_limit)
        self._spec = value

    # -- task source -------------------------------------------------------------------------
    @property
    def task_source(self) -> Any:
        """Where resets without ``options["task"]`` get their task."""
        return self._task_source

    def set_task_source(self, source: Any, value_fn: Any = None) -> None:
        """Sets the task source: ``None`` (uniform), a task, a teacher or a task-source object
        (with ``value_fn`` for a teacher that learns from value estimates). It applies from the
        next reset."""
        self._task_source = as_task_source(source, self.task_space, value_fn)
        self._values = ValueTracker.for_source(self._task_source, 1)

    def expert_knowledge(self, level: str) -> dict[str, Any]:
        """What a teacher may know in advance about this env at TeachMyAgent's expert-knowledge
        ``level`` (``"none"``, ``"low"``: the mastery threshold and ADR's reward thresholds,
        ``"high"``: also a Gaussian around the easiest task), as the ``expert_knowledge``
        keyword of ``ALPGMM``, ``CovarGMM`` and ``ADR``::

            ADR(env.task_space, expert_knowledge=env.expert_knowledge("high"))
        """
        if not isinstance(level, str):
            raise TypeError(f"level must be one of 'none', 'low', 'high', got {level!r}")
        return json.loads(self._core.expert_knowledge(level))

    @property
    def task(self) -> np.ndarray | None:
        """The task of the current episode."""
        return None if self._task is None else self._task.copy()

    # -- gymnasium API -----------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Starts an episode; ``options={"task": ...}`` sets its task, ``options={"rust_seed":
        n}`` the Rust env's seed for it (instead of one drawn from ``np_random``; ``teachgym
        eval`` plays test task ``j`` with ``eval_seed + j``)."""
        super().reset(seed=check_seed(seed))
        task = rust_seed = None
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict, got {type(options).__name__}")
        if options:
            unknown = set(options) - {"task", "rust_seed"}
            if unknown:
                raise ValueError(f"unknown reset options {sorted(unknown)}; the options are 'task' and 'rust_seed'")
            task = options.get("task")
            rust_seed = check_seed(options.get("rust_seed"))
        self._report_cut_episode()
        drawn_seed, task = draw_reset(self.np_random, self._task_source, self.task_space, task)
        if rust_seed is None:
            rust_seed = drawn_seed
        obs, info = self._core.reset(rust_seed, task)
        if self.INFO_TYPES:
            info = self._typed_info(info)
        self._task = task
        self._running, self._steps, self._return = True, 0, 0.0
        if self._values is not None:
            self._values.start(0, obs)
        info["task"] = task.copy()
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """One step; finite action values outside [-1, 1] (of any magnitude) are clipped,
        NaN/inf raise ``ValueError``."""
        obs, reward, terminated, truncated, info = self._core.step(self._checked_action(action))
        if self.INFO_TYPES:
            info = self._typed_info(info)
        self._steps += 1
        self._return += reward
        if self._values is not None:
            self._values.add(np.array([reward]))
        if terminated or truncated:
            self._running = False
            assert self._task is not None
            self._task_source.episode_end(
                self._task, info["episode_return"], info["is_success"], info["episode_length"]
            )
            self._give_value()
        return obs, reward, terminated, truncated, info

    def render(self) -> np.ndarray | str | None:  # type: ignore[override]
        """The current frame as ``(H, W, 3)`` uint8 when ``render_mode="rgb_array"``; the
        current state as text when ``render_mode="ansi"`` (the web forms: instruction, page, one
        line per element with its valid actions)."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode; build the env with render_mode='rgb_array'"
            )
            return None
        if self.render_mode == "ansi":
            text = self._core.render_text()
            assert text is not None, "only envs with a text view list 'ansi' in their render modes"
            return text
        return self._core.render()

    def close(self) -> None:
        """Nothing to release: the Rust env is freed with the object."""

    # -- internals ---------------------------------------------------------------------------
    def _checked_action(self, action: Any) -> Any:
        """The action in the form the Rust env takes (a contiguous float32 vector here)."""
        if not (
            type(action) is np.ndarray
            and action.dtype == np.float32
            and action.shape == self._action_shape
            and action.flags.c_contiguous
        ):
            action = check_action(action, self._action_shape)
        return action

    def _typed_info(self, info: dict[str, Any]) -> dict[str, Any]:
        for key, kind in self.INFO_TYPES.items():
            if key in info:
                info[key] = kind(info[key])
        return info

    def _report_cut_episode(self) -> None:
        """An episode cut before its end (an outer ``TimeLimit``, an early reset) still reaches
        the task source, so a teacher hears of every episode its tasks started."""
        if self._running and self._steps > 0 and self._task is not None:
            threshold = _REGISTRY[self.ENV_NAME][3]
            success = threshold is not None and self._return > threshold
            self._running = False
            self._task_source.episode_end(self._task, float(self._return), success, self._steps)
            self._give_value()
        self._running = False

    def _give_value(self) -> None:
        """After an ``episode_end``: the episode's first observation and discounted return to a
        source that asks for value estimates."""
        # A source set mid-episode has no first observation of it: nothing to estimate.
        if self._values is not None and self._values.initial_observation[0] is not None:
            assert self._task is not None
            self._task_source.record_value(
                self._task, self._values.initial_observation[0], float(self._values.discounted_return[0])
            )

    def __getstate__(self) -> dict[str, Any]:
        # The Rust env pickles as its configuration; the episode in progress is not kept, so the
        # copy must be reset before stepping.
        state = self.__dict__.copy()
        state["_running"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task_space={self.task_space!r}, task_source={self._task_source!r})"


_WEBFORM_INFO_TYPES: dict[str, type] = {
    "success": bool,
    "invalid_action": bool,
    "n_correct": int,
    "n_fields": int,
    "n_pages": int,
    "page": int,
    "optimal_steps": int,
}


class _DiscreteActionEnv(TeachgymEnv):
    """Base of the envs with ``Discrete`` actions (ints in ``[0, n)``)."""

    def _checked_action(self, action: Any) -> Any:
        return check_discrete_action(action, int(self.action_space.n))  # type: ignore[attr-defined]


class _MultiDiscreteActionEnv(TeachgymEnv):
    """Base of the envs with ``MultiDiscrete`` actions (int vectors within ``nvec``)."""

    def _checked_action(self, action: Any) -> Any:
        return check_multi_discrete_action(action, self.action_space.nvec)  # type: ignore[attr-defined]


def _env_class(
    name: str,
    class_name: str,
    base: type[TeachgymEnv] = TeachgymEnv,
    info_types: dict[str, type] | None = None,
    text_view: bool = False,
) -> type[TeachgymEnv]:
    """The class of registry entry ``name``; its docstring is the registry's summary.
    ``text_view``: the env renders as text too (``render_mode="ansi"``)."""
    gym_id, _, fps, _, summary = _REGISTRY[name]
    modes = ["rgb_array", "ansi"] if text_view else ["rgb_array"]
    attributes: dict[str, Any] = {
        "ENV_NAME": name,
        "metadata": {"render_modes": modes, "render_fps": fps},
        "__doc__": f"{summary}\n\ngymnasium id: ``teachgym/{gym_id}``.",
        "__module__": __name__,
        "__qualname__": class_name,
    }
    if info_types is not None:
        attributes["INFO_TYPES"] = info_types
    return type(class_name, (base,), attributes)


StumpTracksEnv = _env_class("stump_tracks", "StumpTracksEnv")
HexagonTracksEnv = _env_class("hexagon_tracks", "HexagonTracksEnv")
ParkourEnv = _env_class("parkour", "ParkourEnv")
PointMassEnv = _env_class("point_mass", "PointMassEnv")
GridWorldEnv = _env_class(
    "grid_world", "GridWorldEnv", _DiscreteActionEnv, {"shortest_path": int}
)
WebFormEnv = _env_class("webform", "WebFormEnv", _DiscreteActionEnv, _WEBFORM_INFO_TYPES, text_view=True)
WebFormMDEnv = _env_class(
    "webform_md", "WebFormMDEnv", _MultiDiscreteActionEnv, _WEBFORM_INFO_TYPES, text_view=True
)

#: Every env class by Rust registry name: one per entry of the Rust registry (a test checks it).
ENV_CLASSES: dict[str, type[TeachgymEnv]] = {
    c.ENV_NAME: c
    for c in (
        StumpTracksEnv,
        HexagonTracksEnv,
        ParkourEnv,
        PointMassEnv,
        GridWorldEnv,
        WebFormEnv,
        WebFormMDEnv,
    )
}
