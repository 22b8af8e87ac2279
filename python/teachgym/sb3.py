"""The native vector env as a Stable-Baselines3 ``VecEnv``.

:class:`SB3VecEnv` wraps a :class:`teachgym.vector.TeachgymVectorEnv` (N Rust envs stepped in one
call with the GIL released) and speaks SB3's vector-env protocol, with the semantics of SB3's
``DummyVecEnv`` over the single envs (``gymnasium.make(env_id)`` wrapped in ``Monitor``, what
``make_vec_env`` builds) with the same seeds:

- ``reset()`` uses the seeds of ``seed()`` (``seed + i`` for env ``i``) and the options of
  ``set_options()`` once, then forgets them; ``reset_infos[i]`` holds env ``i``'s reset info
  (``{"task": ...}``).
- ``step()`` resets an env in the step its episode ends (SAME_STEP autoreset): the returned
  observation is the new episode's first one, ``infos[i]["terminal_observation"]`` the last
  one of the ended episode, and ``infos[i]["TimeLimit.truncated"]`` says the episode was
  truncated, not terminated (every info has the key, as in ``DummyVecEnv``). Rewards are
  float32, ``dones = terminated | truncated``.
- The info of an episode's last step holds the env's ``episode_return``, ``episode_length`` and
  ``is_success`` (SB3's success rate), and ``episode = {"r", "l", "t"}`` as ``Monitor`` writes
  it (SB3's ``rollout/ep_rew_mean``; no ``Monitor``/``VecMonitor`` is needed).
- The task source (a teacher) is shared by every sub-env; it chooses the task of every
  reset, autoresets included, and learns from every finished episode, in env order as a
  ``DummyVecEnv`` of single envs sharing the teacher calls it.

``get_attr``/``set_attr``/``env_method`` answer as a ``DummyVecEnv`` of the single envs would,
for what the native env can tell per env: ``get_attr("task")`` gives each env's current task,
``get_attr("task_space")``, ``get_attr("task_source")`` and ``get_attr("render_mode")`` the
shared values, ``observation_space``/``action_space`` the single env's spaces;
``env_method("set_task_source", teacher)`` and ``set_attr("task_source", teacher)`` set the
shared task source (for all envs: ``indices`` must name every env);
``env_method("expert_knowledge", "low")`` gives what a teacher may know of the env. Any other
attribute or method is looked up on the native vector env, called once and its result given
for every index.

>>> from teachgym.sb3 import make_sb3_vec_env  # doctest: +SKIP
>>> from stable_baselines3 import PPO  # doctest: +SKIP
>>> env = make_sb3_vec_env("teachgym/StumpTracks-v0", 16, seed=0, teacher=ALPGMM(space, seed=0))  # doctest: +SKIP
>>> PPO("MlpPolicy", env, seed=0).learn(100_000)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

try:
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError(
        "teachgym.sb3 needs Stable-Baselines3: pip install 'teachgym[sb3]' (or stable-baselines3>=2.4)"
    ) from e

from .envs import _REGISTRY
from .vector import VECTOR_ENV_CLASSES, TeachgymVectorEnv

__all__ = ["SB3VecEnv", "make_sb3_vec_env"]

#: gymnasium id -> native vector env class.
_VECTOR_CLASS_BY_ID: dict[str, type[TeachgymVectorEnv]] = {
    f"teachgym/{_REGISTRY[name][0]}": cls for name, cls in VECTOR_ENV_CLASSES.items()
}

#: Attributes each single env has per env; the native env holds them for all.
_PER_ENV_ATTRIBUTES = {"task"}
#: Methods of the single envs that change what every sub-env shares here.
_SHARED_SETTERS = {"set_task_source"}


class SB3VecEnv(VecEnv):
    """``vector_env``, a teachgym native vector env, as an SB3 ``VecEnv`` (see the module docs).

    The native env must autoreset in ``SAME_STEP`` mode (:func:`make_sb3_vec_env` builds it so).
    """

    def __init__(self, vector_env: TeachgymVectorEnv) -> None:
        if not isinstance(vector_env, TeachgymVectorEnv):
            raise TypeError(
                f"SB3VecEnv wraps a teachgym native vector env (gymnasium.make_vec('teachgym/...')), "
                f"got {type(vector_env).__name__}; for other envs use SB3's DummyVecEnv/SubprocVecEnv"
            )
        if vector_env.autoreset_mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"SB3 resets an env in the step its episode ends: build the native env with "
                f"autoreset_mode=AutoresetMode.SAME_STEP (it has {vector_env.autoreset_mode.name}), "
                "or use make_sb3_vec_env"
            )
        #: The native vector env stepped by this adapter.
        self.vector_env = vector_env
        self._started = False
        super().__init__(vector_env.num_envs, vector_env.single_observation_space, vector_env.single_action_space)
        self.metadata = dict(vector_env.metadata, render_modes=self.metadata["render_modes"])
        self._actions: Any = None
        # Monitor's "t": seconds since the env was made.
        self._t0 = time.time()

    # -- the teachgym side -------------------------------------------------------------------
    @property
    def task_space(self) -> Any:
        """The task space of every sub-env."""
        return self.vector_env.task_space

    @property
    def task_source(self) -> Any:
        """The task source shared by every sub-env."""
        return self.vector_env.task_source

    def set_task_source(self, source: Any, value_fn: Any = None) -> None:
        """Sets the shared task source (``None``, a task, a teacher, a task-source object), from
        each env's next reset; see :meth:`TeachgymVectorEnv.set_task_source`."""
        self.vector_env.set_task_source(source, value_fn)

    @property
    def tasks(self) -> np.ndarray:
        """The current task of every sub-env, ``(num_envs, task_dim)``."""
        return self.vector_env.tasks

    # -- SB3 VecEnv --------------------------------------------------------------------------
    def reset(self) -> Any:
        """Resets every env, with the seeds of :meth:`seed` and the options of
        :meth:`set_options` if given since the last reset (then forgotten)."""
        seeds = list(self._seeds)
        options = list(self._options)
        # Forgotten even if the reset raises, as DummyVecEnv's first failing env leaves them.
        self._reset_seeds()
        self._reset_options()
        seed_arg = None if all(s is None for s in seeds) else seeds
        if all(not o for o in options):
            obs, info = self.vector_env.reset(seed=seed_arg)
        elif all(o == options[0] for o in options):
            obs, info = self.vector_env.reset(seed=seed_arg, options=dict(options[0]))
        else:
            # Different options per env: one env at a time, in env order (the order in which
            # DummyVecEnv resets them and asks the task source).
            for i, opts in enumerate(options):
                if not isinstance(opts, dict):
                    raise TypeError(f"options of env {i} must be a dict, got {type(opts).__name__}")
                mask = np.zeros(self.num_envs, dtype=np.bool_)
                mask[i] = True
                obs, info = self.vector_env.reset(seed=seed_arg, options={**opts, "reset_mask": mask})
        self._started = True
        tasks = info["task"]
        self.reset_infos = [{"task": tasks[i].copy()} for i in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise ValueError("step_wait() without step_async(actions): call step(actions)")
        if not self._started:
            raise ValueError("step() called before reset(); call reset() first")
        actions, self._actions = self._actions, None
        obs, reward, terminated, truncated, info = self.vector_env.step(actions)
        dones = terminated | truncated
        time_limit = truncated & ~terminated
        infos: list[dict[str, Any]] = [{"TimeLimit.truncated": bool(t)} for t in time_limit]
        ended = np.flatnonzero(dones)
        if ended.size:
            final_obs, final_info, tasks = info["final_obs"], info["final_info"], info["task"]
            elapsed = round(time.time() - self._t0, 6)
            for i in ended:
                ret = float(final_info["episode_return"][i])
                length = int(final_info["episode_length"][i])
                infos[i].update(
                    episode_return=ret,
                    episode_length=length,
                    is_success=bool(final_info["is_success"][i]),
                    terminal_observation=final_obs[i],
                    episode={"r": round(ret, 6), "l": length, "t": elapsed},
                )
                self.reset_infos[i] = {"task": tasks[i].copy()}
        return obs, reward.astype(np.float32), dones, infos

    def close(self) -> None:
        self.vector_env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            gym.logger.warn(
                f"the render mode is {self.render_mode}; build the env with render_mode='rgb_array' for images"
            )
            return [None] * self.num_envs
        frames = self.vector_env.render()
        assert frames is not None
        return list(frames)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of each env of ``indices`` (see the module docs)."""
        idx = self._indices(indices)
        if attr_name == "task":
            if not self._started:
                return [None] * len(idx)
            tasks = self.vector_env.tasks
            return [tasks[i] for i in idx]
        if attr_name == "observation_space":
            value = self.vector_env.single_observation_space
        elif attr_name == "action_space":
            value = self.vector_env.single_action_space
        elif attr_name.startswith("_"):
            raise AttributeError(f"{attr_name!r} is private")
        else:
            try:
                value = getattr(self.vector_env, attr_name)
            except AttributeError:
                raise AttributeError(
                    f"the teachgym envs have no attribute {attr_name!r}"
                ) from None
        return [value] * len(idx)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Sets a shared attribute (``task_source`` sets the teacher; ``indices`` must name every
        env). The task of an env is chosen at its reset: set it through the task source or
        ``set_options({"task": ...})``."""
        if attr_name in _PER_ENV_ATTRIBUTES:
            raise AttributeError(
                f"{attr_name!r} is chosen at each reset: use set_options({{'task': ...}}) before "
                "reset() or set the task source (set_attr('task_source', source))"
            )
        self._require_all(indices, f"set_attr({attr_name!r})")
        if attr_name == "task_source":
            self.vector_env.set_task_source(value)
        elif attr_name.startswith("_"):
            raise AttributeError(f"{attr_name!r} is private")
        else:
            setattr(self.vector_env, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any) -> list[Any]:
        """Calls a method of the envs of ``indices`` (see the module docs)."""
        idx = self._indices(indices)
        if method_name == "render":
            frames = self.vector_env.render()
            return [None if frames is None else frames[i] for i in idx]
        if method_name in _SHARED_SETTERS:
            self._require_all(indices, f"env_method({method_name!r})")
        if method_name.startswith("_"):
            raise AttributeError(f"{method_name!r} is private")
        method = getattr(self.vector_env, method_name, None)
        if not callable(method):
            raise AttributeError(f"the teachgym envs have no method {method_name!r}")
        result = method(*method_args, **method_kwargs)
        return [result] * len(idx)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """No gymnasium wrapper is inside the native env: ``False`` for each env."""
        return [False] * len(self._indices(indices))

    # -- internals ---------------------------------------------------------------------------
    def _indices(self, indices: VecEnvIndices) -> list[int]:
        n = self.vector_env.num_envs  # (SB3's constructor asks get_attr before num_envs is set)
        if indices is None:
            return list(range(n))
        if isinstance(indices, (bool, np.bool_)):
            raise TypeError(f"indices must be an int, a sequence of ints or None, got {indices!r}")
        if isinstance(indices, (int, np.integer)):
            idx = [int(indices)]
        elif isinstance(indices, Iterable):
            idx = [int(i) for i in indices]
        else:
            raise TypeError(f"indices must be an int, a sequence of ints or None, got {indices!r}")
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise IndexError(f"env indices {bad} out of range for {n} envs")
        return idx

    def _require_all(self, indices: VecEnvIndices, what: str) -> None:
        if indices is not None and sorted(set(self._indices(indices))) != list(range(self.num_envs)):
            raise ValueError(
                f"{what}: the native vector env's sub-envs share one task source; "
                "apply it to every env (indices=None)"
            )

    def __repr__(self) -> str:
        return f"SB3VecEnv({self.vector_env!r})"


def make_sb3_vec_env(
    env_id: str,
    num_envs: int,
    *,
    seed: int | None = None,
    teacher: Any = None,
    **kwargs: Any,
) -> SB3VecEnv:
    """``num_envs`` envs of ``env_id`` (``"teachgym/StumpTracks-v0"``, ...) in one native vector
    env, as an SB3 ``VecEnv``; the counterpart of SB3's ``make_vec_env(env_id, num_envs,
    seed=seed, env_kwargs=kwargs)`` (same seeds give the same episodes).

    ``teacher``: the task source shared by every env; ``kwargs``: the env's keywords (``body``,
    ``bounds``, ``config``, ``task``, ``value_fn``, ``render_mode``, ...) and the native env's
    ``num_threads``."""
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a str, got {type(env_id).__name__}")
    try:
        cls = _VECTOR_CLASS_BY_ID[env_id]
    except KeyError:
        raise ValueError(f"{env_id!r} is not a teachgym env; known: {', '.join(_VECTOR_CLASS_BY_ID)}") from None
    if "autoreset_mode" in kwargs:
        raise TypeError("make_sb3_vec_env sets autoreset_mode itself (SB3 autoresets in the same step)")
    vector_env = cls(num_envs, teacher=teacher, autoreset_mode=AutoresetMode.SAME_STEP, **kwargs)
    env = SB3VecEnv(vector_env)
    if seed is not None:
        env.seed(seed)
    return env
