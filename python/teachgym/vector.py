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
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import _teachgym
from .envs import _REGISTRY, check_action, options_json, task_space_of
from .spaces import TaskSpace, space_from_description
from .tasks import as_task_source, draw_reset

__all__ = [
    "TeachgymVectorEnv",
    "StumpTracksVectorEnv",
    "HexagonTracksVectorEnv",
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
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
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
        threads = _default_threads(n) if num_threads is None else int(num_threads)
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
        self._task_source = as_task_source(teacher if teacher is not None else task, self.task_space)
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
        self._needs_reset = np.zeros(n, dtype=np.bool_)
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

    def set_task_source(self, source: Any) -> None:
        """``None`` (uniform), a task, a teacher or a task-source object, from the next reset."""
        self._task_source = as_task_source(source, self.task_space)

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
        super().reset(seed=seed if isinstance(seed, (int, np.integer)) else None)
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"{len(seeds)} seeds given for {n} envs")
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
        self._run(self._no_actions, (self._reward, self._terminated, self._truncated, self._ep_return, self._ep_length, self._success))
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
        if not self._running.any() and not self._needs_reset.any():
            raise ValueError("step() called before reset(); call reset() first")
        mode = self.autoreset_mode
        any_pending = bool(self._needs_reset.any())
        pending = np.flatnonzero(self._needs_reset) if any_pending else _NONE
        if mode == AutoresetMode.DISABLED and any_pending:
            raise ValueError(
                f"envs {pending.tolist()} ended; with autoreset_mode=DISABLED call "
                "reset(options={'reset_mask': ...}) before stepping"
            )
        info: dict[str, Any] = {}
        if any_pending:
            self._ops[:] = np.where(self._needs_reset, _SKIP, _STEP)
        else:
            self._ops.fill(_STEP)
        self._run(actions, (self._reward, self._terminated, self._truncated, self._ep_return, self._ep_length, self._success))
        ended = self._terminated | self._truncated
        if any_pending:
            stepped = self._ops == _STEP
            self._steps += stepped
            self._returns += np.where(stepped, self._reward, 0.0)
            ended &= stepped
        else:
            self._steps += 1
            self._returns += self._reward
        ended_idx = np.flatnonzero(ended) if ended.any() else _NONE

        if mode == AutoresetMode.SAME_STEP:
            if ended_idx.size:
                final_obs = np.full(self.num_envs, None, dtype=object)
                for i in ended_idx:
                    final_obs[i] = self._row(int(i))
                    self._end_episode(i)
                    self._draw(i, None)
                info["final_obs"], info["_final_obs"] = final_obs, ended.copy()
                info["final_info"] = self._episode_info(ended)
                info["_final_info"] = ended.copy()
                self._ops[:] = np.where(ended, _RESET, _SKIP)
                self._run(self._no_actions, self._scratch)
                self._after_reset(ended_idx)
                info["task"], info["_task"] = self._tasks.copy(), ended.copy()
        else:
            # Teacher calls in env order, as a SyncVectorEnv of single envs makes them.
            if any_pending or ended_idx.size:
                for i in np.union1d(pending, ended_idx):
                    if self._needs_reset[i]:
                        self._draw(i, None)
                    else:
                        self._end_episode(i)
            if any_pending:
                self._ops[:] = np.where(self._needs_reset, _RESET, _SKIP)
                self._run(self._no_actions, (self._reward, self._terminated, self._truncated, self._ep_return, self._ep_length, self._success))
                self._after_reset(pending)
                reset_mask = self._ops == _RESET
                info["task"], info["_task"] = self._tasks.copy(), reset_mask
            if ended_idx.size:
                info.update(self._episode_info(ended))
            self._needs_reset = ended

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

    def _after_reset(self, idx: np.ndarray) -> None:
        self._running[idx] = True
        self._needs_reset[idx] = False
        self._steps[idx] = 0
        self._returns[idx] = 0.0

    def _end_episode(self, i: int) -> None:
        self._running[i] = False
        self._task_source.episode_end(
            self._tasks[i].copy(), float(self._ep_return[i]), bool(self._success[i]), int(self._ep_length[i])
        )

    def _episode_info(self, ended: np.ndarray) -> dict[str, Any]:
        return {
            "episode_return": np.where(ended, self._ep_return, 0.0),
            "_episode_return": ended.copy(),
            "episode_length": np.where(ended, self._ep_length, 0),
            "_episode_length": ended.copy(),
            "is_success": self._success & ended,
            "_is_success": ended.copy(),
        }

    def _report_cut_episode(self, i: int) -> None:
        if self._running[i] and self._steps[i] > 0:
            ret = float(self._returns[i])
            success = self._success_return is not None and ret > self._success_return
            self._task_source.episode_end(self._tasks[i].copy(), ret, success, int(self._steps[i]))
        self._running[i] = False

    def __getstate__(self) -> dict[str, Any]:
        return {"ctor": self._ctor, "task_source": self._task_source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Rebuilt from its constructor arguments; episodes in progress are not kept.
        type(self).__init__(self, **state["ctor"])
        self._task_source = state["task_source"]

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
        PointMassVectorEnv,
        GridWorldVectorEnv,
        WebFormVectorEnv,
        WebFormMDVectorEnv,
    )
}
