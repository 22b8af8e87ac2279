"""The native vector env: N Rust envs stepped in one call with the GIL released.

``gymnasium.make_vec("teachgym/StumpTracks-v0", num_envs=16)`` returns it (it is each id's
``vector_entry_point``). It writes into preallocated numpy buffers, steps the envs over
``num_threads`` Rust threads (results do not depend on the thread count), and supports the
``NEXT_STEP`` (default), ``SAME_STEP`` and ``DISABLED`` autoreset modes with the same
observations, rewards, flags and teacher calls as a ``gymnasium.vector.SyncVectorEnv`` of the
single envs with the same seeds.

The web forms' vector envs return a dict of ``(num_envs, ...)`` arrays and take ``Discrete``
actions as an int array ``(num_envs,)`` or ``MultiDiscrete`` ones as ``(num_envs, 3)``.

Info keys: ``task`` (on resets), ``episode_return``, ``episode_length``, ``is_success`` (on the
step that ends an episode; inside ``final_info`` in ``SAME_STEP`` mode), each with its ``_key``
mask.

A task source that raises (in ``next_task``/``sample_task`` or ``episode_end``/``update``)
propagates its exception out of ``step``/``reset``, and the vector env stays consistent: every
env that ended is reset by the next call, and each finished episode reaches the task source
exactly once (the outcomes not yet given when it raised are given by the next call; the one
whose ``episode_end`` raised counts as given).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import _teachgym
from .envs import _REGISTRY, check_action, check_seed, options_json, task_space_of
from .spaces import TaskSpace, space_from_description
from .tasks import ValueTracker, as_task_source, draw_reset

__all__ = [
    "TeachgymVectorEnv",
    "StumpTracksVectorEnv",
    "HexagonTracksVectorEnv",
    "ParkourVectorEnv",
    "PointMassVectorEnv",
    "GridWorldVectorEnv",
    "WebFormVectorEnv",
    "WebFormMDVectorEnv",
    "VECTOR_ENV_CLASSES",
]

_SKIP, _RESET, _STEP = 0, 1, 2
_NONE = np.zeros(0, dtype=np.intp)


def _default_threads(num_envs: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, num_envs))


class TeachgymVectorEnv(VectorEnv):
    """``num_envs`` teachgym envs of one kind, stepped natively (keywords as the single env,
    plus ``autoreset_mode``, ``num_threads`` (default: one per core, at most one per env) and
    ``copy`` (return copies of the observation buffer; ``False`` returns the buffer itself,
    overwritten by the next call))."""

    ENV_NAME: ClassVar[str]
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        *,
        body: str | None = None,
        bounds: Mapping[str, Any] | None = None,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        task: Any = None,
        teacher: Any = None,
        config: Mapping[str, Any] | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        num_threads: int | None = None,
        copy: bool = True,
        value_fn: Any = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)):
            raise TypeError(f"num_envs must be an int, got {num_envs!r}")
        if not 1 <= num_envs <= _teachgym.MAX_NUM_ENVS:
            raise ValueError(f"num_envs must be in [1, {_teachgym.MAX_NUM_ENVS}], got {num_envs}")
        if num_threads is not None and (
            isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) or num_threads < 1
        ):
            raise ValueError(f"num_threads must be a positive int or None, got {num_threads!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r} is not supported; choose 'rgb_array' or None")
        if task is not None and teacher is not None:
            raise ValueError("give either a fixed task or a teacher, not both")
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError as e:
            raise ValueError(
                f"autoreset_mode={autoreset_mode!r}; choose from {[m.value for m in AutoresetMode]}"
            ) from e
        n = int(num_envs)
        options = options_json(body, bounds, max_episode_steps, config)
        # More threads than envs would idle: the Rust batch uses at most one per env.
        threads = _default_threads(n) if num_threads is None else min(int(num_threads), n)
        self._core = _teachgym.RustVectorEnv(self.ENV_NAME, options, n, threads)
        probe = _teachgym.RustEnv(self.ENV_NAME, options)

        self.num_envs = n
        self.render_mode = render_mode
        self.copy = bool(copy)
        self.metadata = {
            "render_modes": ["rgb_array"],
            "render_fps": _REGISTRY[self.ENV_NAME][2],
            "autoreset_mode": self.autoreset_mode,
        }
        self.single_observation_space = space_from_description(probe.observation_space())
        self.single_action_space = space_from_description(probe.action_space())
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)
        #: The task space shared by every sub-env.
        self.task_space: TaskSpace = task_space_of(probe)
        self._task_source = as_task_source(teacher if teacher is not None else task, self.task_space, value_fn)
        self._values = ValueTracker.for_source(self._task_source, n)
        # Answers what holds for every sub-env alike (expert knowledge).
        self._probe = probe
        self._success_return = _REGISTRY[self.ENV_NAME][3]

        self._action_kind = probe.action_kind
        act_dim = 1 if self._action_kind == "discrete" else int(np.prod(self.single_action_space.shape))
        dim = self.task_space.shape[0]
        space = self.single_observation_space
        self._obs: Any
        if isinstance(space, spaces.Dict):
            # One buffer per entry, in the Rust entries' order (gymnasium sorts the Dict's keys).
            keys = [key for key, _ in probe.observation_space()["entries"]]
            self._obs = {k: np.zeros((n, *(space[k].shape or ())), dtype=space[k].dtype) for k in keys}
            self._obs_arg: Any = list(self._obs.values())
        else:
            self._obs = np.zeros((n, int(np.prod(space.shape))), dtype=np.float32)
            self._obs_arg = self._obs
        self._reward = np.zeros(n, dtype=np.float64)
        self._terminated = np.zeros(n, dtype=np.bool_)
        self._truncated = np.zeros(n, dtype=np.bool_)
        self._ep_return = np.zeros(n, dtype=np.float64)
        self._ep_length = np.zeros(n, dtype=np.int64)
        self._success = np.zeros(n, dtype=np.bool_)
        self._outs = (self._reward, self._terminated, self._truncated, self._ep_return, self._ep_length, self._success)
        # Resets in SAME_STEP mode must not overwrite the step's reward and flags.
        self._scratch = [np.zeros(n, dtype=t) for t in (np.float64, np.bool_, np.bool_, np.float64, np.int64, np.bool_)]
        self._ops = np.zeros(n, dtype=np.uint8)
        self._seeds = np.zeros(n, dtype=np.uint64)
        self._tasks = np.zeros((n, dim), dtype=np.float64)
        continuous = self._action_kind == "continuous"
        self._no_actions = np.zeros((n, act_dim), dtype=np.float32 if continuous else np.int64)
        single = self.single_action_space
        if isinstance(single, spaces.Discrete):
            self._nvec = np.full(n, int(single.n), dtype=np.int64)
        elif isinstance(single, spaces.MultiDiscrete):
            self._nvec = np.tile(single.nvec.astype(np.int64), (n, 1))
        self._action_shape: tuple[int, ...] = (n, act_dim) if continuous else self._nvec.shape
        self._rngs: list[np.random.Generator | None] = [None] * n
        # Per env: its episode ended (the Rust env must be reset before it steps again) ...
        self._needs_reset = np.zeros(n, dtype=np.bool_)
        # ... the ended episode's outcome is not yet given to the task source (kept below) ...
        self._unreported = np.zeros(n, dtype=np.bool_)
        self._end_return = np.zeros(n, dtype=np.float64)
        self._end_length = np.zeros(n, dtype=np.int64)
        self._end_success = np.zeros(n, dtype=np.bool_)
        # ... the seed and task of its next reset are drawn (in _seeds/_tasks), not yet applied.
        self._drawn = np.zeros(n, dtype=np.bool_)
        self._running = np.zeros(n, dtype=np.bool_)
        self._steps = np.zeros(n, dtype=np.int64)
        self._returns = np.zeros(n, dtype=np.float64)
        self._ctor = dict(
            num_envs=n, body=body, bounds=bounds, max_episode_steps=max_episode_steps,
            render_mode=render_mode, config=config, autoreset_mode=self.autoreset_mode,
            num_threads=num_threads, copy=copy,
        )

    # -- task source -------------------------------------------------------------------------
    @property
    def task_source(self) -> Any:
        """Where resets without a given task get theirs (shared by every sub-env)."""
        return self._task_source

    def set_task_source(self, source: Any, value_fn: Any = None) -> None:
        """``None`` (uniform), a task, a teacher or a task-source object (with ``value_fn`` for a
        teacher that learns from value estimates), from the next reset."""
        self._task_source = as_task_source(source, self.task_space, value_fn)
        self._values = ValueTracker.for_source(self._task_source, self.num_envs)

    def expert_knowledge(self, level: str) -> dict[str, Any]:
        """What a teacher may know in advance about these envs at TeachMyAgent's
        expert-knowledge ``level`` (see :meth:`teachgym.TeachgymEnv.expert_knowledge`)."""
        if not isinstance(level, str):
            raise TypeError(f"level must be one of 'none', 'low', 'high', got {level!r}")
        return json.loads(self._probe.expert_knowledge(level))

    @property
    def tasks(self) -> np.ndarray:
        """The current task of every sub-env, ``(num_envs, task_dim)``."""
        return self._tasks.copy()

    @property
    def num_threads(self) -> int:
        """Threads stepping the envs."""
        return int(self._core.num_threads)

    # -- gymnasium API -----------------------------------------------------------------------
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Resets every sub-env (or those of ``options["reset_mask"]``). An int seed gives
        ``seed, seed+1, ...``; ``options["task"]`` sets one task for all, ``options["tasks"]``
        one per env."""
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
            first = check_seed(seed)
            assert first is not None
            seeds = [first + i for i in range(n)]
        else:
            if isinstance(seed, (str, bytes)) or not isinstance(seed, (Sequence, np.ndarray)):
                raise TypeError(f"seed must be an int, a sequence of ints (or None) or None, got {seed!r}")
            seeds = [check_seed(s) for s in seed]
            if len(seeds) != n:
                raise ValueError(f"{len(seeds)} seeds given for {n} envs")
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict, got {type(options).__name__}")
        super().reset(seed=seeds[0] if isinstance(seed, (int, np.integer)) else None)
        options = dict(options or {})
        unknown = set(options) - {"task", "tasks", "reset_mask"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: 'task', 'tasks', 'reset_mask'")
        if "task" in options and "tasks" in options:
            raise ValueError("give options['task'] (one for all) or options['tasks'] (one per env), not both")
        mask = options.get("reset_mask")
        if mask is None:
            mask = np.ones(n, dtype=np.bool_)
        else:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_ or mask.shape != (n,):
                raise ValueError(f"options['reset_mask'] must be a bool array of shape ({n},), got {mask.dtype} {mask.shape}")
            if not mask.any():
                raise ValueError("options['reset_mask'] resets no env")
        # Every given task is checked before any env or generator changes.
        given = options.get("tasks")
        if given is not None:
            if np.ndim(given) != 2 or len(given) != n:
                raise ValueError(
                    f"options['tasks'] must have shape ({n}, {self.task_space.shape[0]}), got {np.shape(given)}"
                )
            given = [self.task_space.validate(t) for t in given]
        elif options.get("task") is not None:
            options["task"] = self.task_space.validate(options["task"])

        idx = np.flatnonzero(mask)
        for i in idx:
            self._report_cut_episode(i)
            if seeds[i] is not None:
                self._rngs[i] = seeding.np_random(seeds[i])[0]
            elif self._rngs[i] is None:
                self._rngs[i] = seeding.np_random(None)[0]
            task = given[i] if given is not None else options.get("task")
            self._draw(i, task)
        self._ops[:] = np.where(mask, _RESET, _SKIP)
        self._run(self._no_actions, self._outs)
        self._after_reset(idx)
        info: dict[str, Any] = {"task": self._tasks.copy(), "_task": mask.copy()}
        return self._observations(), info

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Steps every sub-env (autoresetting as ``autoreset_mode`` says)."""
        if self._action_kind != "continuous":
            actions = _check_discrete_actions(actions, self._nvec, self._no_actions.shape)
        elif not (
            type(actions) is np.ndarray
            and actions.dtype == np.float32
            and actions.shape == self._action_shape
            and actions.flags.c_contiguous
        ):
            actions = check_action(actions, self._action_shape, what="actions (num_envs, action_dim) have")
        idle = ~(self._running | self._needs_reset)
        if idle.any():
            # Never reset (or a reset that raised before reaching them): nothing may move.
            which = "" if idle.all() else f" for envs {np.flatnonzero(idle).tolist()}"
            raise ValueError(f"step() called before reset(){which}; call reset() first")
        mode = self.autoreset_mode
        pending = self._needs_reset.copy()
        any_pending = bool(pending.any())
        if mode == AutoresetMode.DISABLED and any_pending:
            raise ValueError(
                f"envs {np.flatnonzero(pending).tolist()} ended; with autoreset_mode=DISABLED call "
                "reset(options={'reset_mask': ...}) before stepping"
            )
        if any_pending:
            self._ops[:] = np.where(pending, _SKIP, _STEP)
        else:
            self._ops.fill(_STEP)
        self._run(actions, self._outs)
        stepped = ~pending
        ended = (self._terminated | self._truncated) & stepped
        self._steps += stepped
        self._returns += np.where(stepped, self._reward, 0.0)
        if self._values is not None:
            self._values.add(self._reward, stepped)
        # The step has happened: record every end before a task source is called (and may raise).
        self._record_ends(ended)
        ended_idx = np.flatnonzero(ended)
        info: dict[str, Any] = {}
        same_step = mode == AutoresetMode.SAME_STEP
        if same_step and ended_idx.size:
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in ended_idx:
                final_obs[i] = self._row(int(i))
            info["final_obs"], info["_final_obs"] = final_obs, ended.copy()
            info["final_info"] = self._episode_info(ended)
            info["_final_info"] = ended.copy()
        # NEXT_STEP resets what ended before this call; SAME_STEP also what ended in it.
        resetting = pending | ended if same_step else pending
        # Task-source calls in env order, as a SyncVectorEnv of single envs makes them.
        self._settle(np.flatnonzero(pending | ended), resetting)
        if resetting.any():
            self._ops[:] = np.where(resetting, _RESET, _SKIP)
            if same_step:
                # The step's rewards and flags stay; rows of envs only reset read as a reset.
                self._run(self._no_actions, self._scratch)
                self._reward[pending] = 0.0
                self._terminated[pending] = False
                self._truncated[pending] = False
            else:
                self._run(self._no_actions, self._outs)
            self._after_reset(np.flatnonzero(resetting))
            info["task"], info["_task"] = self._tasks.copy(), resetting.copy()
        if not same_step and ended_idx.size:
            info.update(self._episode_info(ended))

        return (
            self._observations(),
            self._reward.copy(),
            self._terminated.copy(),
            self._truncated.copy(),
            info,
        )

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One ``(H, W, 3)`` uint8 frame per sub-env when ``render_mode="rgb_array"``."""
        if self.render_mode is None:
            return None
        return tuple(self._core.render(i) for i in range(self.num_envs))

    # -- internals ---------------------------------------------------------------------------
    def _run(self, actions: np.ndarray, outs: Sequence[np.ndarray]) -> None:
        self._core.run(self._ops, actions, self._seeds, self._tasks, self._obs_arg, *outs)

    def _observations(self) -> Any:
        if not self.copy:
            return self._obs
        if isinstance(self._obs, dict):
            return {k: v.copy() for k, v in self._obs.items()}
        return self._obs.copy()

    def _row(self, i: int) -> Any:
        """A copy of env ``i``'s observation."""
        if isinstance(self._obs, dict):
            return {k: v[i].copy() for k, v in self._obs.items()}
        return self._obs[i].copy()

    def _draw(self, i: int, task: Any) -> None:
        rng = self._rngs[i]
        if rng is None:
            rng = self._rngs[i] = seeding.np_random(None)[0]
        seed, t = draw_reset(rng, self._task_source, self.task_space, task)
        self._seeds[i] = seed
        self._tasks[i] = t
        self._drawn[i] = True

    def _after_reset(self, idx: np.ndarray) -> None:
        self._running[idx] = True
        self._needs_reset[idx] = False
        self._drawn[idx] = False
        self._steps[idx] = 0
        self._returns[idx] = 0.0
        if self._values is not None:
            for i in idx:
                self._values.start(int(i), self._row(int(i)))

    def _record_ends(self, ended: np.ndarray) -> None:
        """Envs of ``ended`` finished their episode in the last run: they need a reset, and their
        outcome waits for the task source (see :meth:`_settle`)."""
        if not ended.any():
            return
        self._running[ended] = False
        self._needs_reset |= ended
        self._unreported |= ended
        self._end_return[ended] = self._ep_return[ended]
        self._end_length[ended] = self._ep_length[ended]
        self._end_success[ended] = self._success[ended]

    def _settle(self, idx: np.ndarray, resetting: np.ndarray) -> None:
        """For each env of ``idx`` in order: its waiting outcome to the task source, then, if it
        is ``resetting``, the seed and task of its reset (unless drawn already). Each flag is
        updated as its call completes, so an exception leaves the rest for the next call."""
        for i in idx:
            self._give_waiting_outcome(i)
            if resetting[i] and not self._drawn[i]:
                self._draw(i, None)

    def _give_waiting_outcome(self, i: int) -> None:
        """Env ``i``'s recorded outcome, if it waits, to the task source; given at most once
        (an ``episode_end`` that raises has seen it)."""
        if not self._unreported[i]:
            return
        self._unreported[i] = False
        self._task_source.episode_end(
            self._tasks[i].copy(),
            float(self._end_return[i]),
            bool(self._end_success[i]),
            int(self._end_length[i]),
        )
        self._give_value(i)

    def _give_value(self, i: int) -> None:
        """After env ``i``'s ``episode_end``: its first observation and discounted return to a
        source that asks for value estimates (a source set mid-episode has none to give)."""
        values = self._values
        if values is not None and values.initial_observation[i] is not None:
            self._task_source.record_value(
                self._tasks[i].copy(), values.initial_observation[i], float(values.discounted_return[i])
            )
            values.initial_observation[i] = None

    def _episode_info(self, ended: np.ndarray) -> dict[str, Any]:
        return {
            "episode_return": np.where(ended, self._end_return, 0.0),
            "_episode_return": ended.copy(),
            "episode_length": np.where(ended, self._end_length, 0),
            "_episode_length": ended.copy(),
            "is_success": self._end_success & ended,
            "_is_success": ended.copy(),
        }

    def _report_cut_episode(self, i: int) -> None:
        """Before env ``i`` is reset by :meth:`reset`: its waiting outcome, or its running
        episode as a cut one, goes to the task source. The env then counts as ended until the
        reset completes, so a raising task source leaves nothing to report twice."""
        cut = self._running[i] and self._steps[i] > 0
        self._running[i] = False
        self._needs_reset[i] = True
        if self._unreported[i]:
            self._give_waiting_outcome(i)
        elif cut:
            ret = float(self._returns[i])
            success = self._success_return is not None and ret > self._success_return
            self._task_source.episode_end(self._tasks[i].copy(), ret, success, int(self._steps[i]))
            self._give_value(i)

    def __getstate__(self) -> dict[str, Any]:
        return {"ctor": self._ctor, "task_source": self._task_source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Rebuilt from its constructor arguments; episodes in progress are not kept.
        type(self).__init__(self, **state["ctor"])
        self._task_source = state["task_source"]
        self._values = ValueTracker.for_source(self._task_source, self.num_envs)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_envs={self.num_envs}, autoreset_mode={self.autoreset_mode.name}, "
            f"num_threads={self.num_threads}, task_source={self._task_source!r})"
        )


def _check_discrete_actions(actions: Any, nvec: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Batched ``Discrete`` (``nvec`` of shape ``(n,)``) or ``MultiDiscrete`` (``(n, k)``)
    actions as a contiguous ``(n, k)`` int64 array, or ``TypeError``/``ValueError``."""
    arr = np.asarray(actions)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"discrete actions must be ints, got dtype {arr.dtype}")
    if arr.shape != nvec.shape:
        raise ValueError(f"actions have shape {arr.shape}, expected {nvec.shape}")
    bad = np.argwhere((arr < 0) | (arr >= nvec))
    if bad.size:
        where = tuple(int(b) for b in bad[0])
        raise ValueError(
            f"env {where[0]}: action {arr[where]} at {where} is outside [0, {nvec[where] - 1}]"
        )
    return np.ascontiguousarray(arr.reshape(shape), dtype=np.int64)


def _vector_class(name: str, class_name: str) -> type[TeachgymVectorEnv]:
    gym_id = _REGISTRY[name][0]
    return type(
        class_name,
        (TeachgymVectorEnv,),
        {
            "ENV_NAME": name,
            "__doc__": f"Native vector env of ``teachgym/{gym_id}``.",
            "__module__": __name__,
            "__qualname__": class_name,
        },
    )


StumpTracksVectorEnv = _vector_class("stump_tracks", "StumpTracksVectorEnv")
HexagonTracksVectorEnv = _vector_class("hexagon_tracks", "HexagonTracksVectorEnv")
ParkourVectorEnv = _vector_class("parkour", "ParkourVectorEnv")
PointMassVectorEnv = _vector_class("point_mass", "PointMassVectorEnv")
GridWorldVectorEnv = _vector_class("grid_world", "GridWorldVectorEnv")
WebFormVectorEnv = _vector_class("webform", "WebFormVectorEnv")
WebFormMDVectorEnv = _vector_class("webform_md", "WebFormMDVectorEnv")

#: Every vector env class by Rust registry name.
VECTOR_ENV_CLASSES: dict[str, type[TeachgymVectorEnv]] = {
    c.ENV_NAME: c
    for c in (
        StumpTracksVectorEnv,
        HexagonTracksVectorEnv,
        ParkourVectorEnv,
        PointMassVectorEnv,
        GridWorldVectorEnv,
        WebFormVectorEnv,
        WebFormMDVectorEnv,
    )
}
