"""A seeded random barrage (issue 22): random, often bad, constructor keywords, tasks, actions,
configurations, teacher calls and call orders over every registered env, every teacher and the
native vector env. The only errors allowed are the package's documented ones, ``ValueError``
and ``TypeError`` with a message (and the deliberate exception of a flaky test teacher); never a
``PanicException``, another exception type, a non-finite reward or an abort.

Bounded by ``TEACHGYM_FUZZ_SECONDS`` (default 40, split between the three tests) and seeded by
``TEACHGYM_FUZZ_SEED`` (default 0); ``scripts/fuzz.sh`` runs it for longer.
"""

from __future__ import annotations

import math
import os
import pickle
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import teachgym
from teachgym import _teachgym
from teachgym.teachers import TEACHER_CLASSES

SECONDS = float(os.environ.get("TEACHGYM_FUZZ_SECONDS", "40"))
SEED = int(os.environ.get("TEACHGYM_FUZZ_SEED", "0"))
REGISTRY = {row[0]: row for row in _teachgym.env_registry()}
WILD = [0.0, -0.0, 0.5, 1.0, -1.0, 3.0, 100.0, 1e30, -1e30, 1e39, 1e300, -1e300, math.nan, math.inf, -math.inf, 5e-324]
ODD = [None, "x", b"x", [], {}, (), object(), True, 1 + 2j, [1, "a"], [[1.0], [2.0, 3.0]]]
CONFIG_KEYS = {
    "walker": ["max_episode_steps", "seed", ("physics", "pgs_iterations"), ("physics", "solver_iterations"),
               ("physics", "motor_factor"), ("track", "offset_std"), ("track", "stump_height_std"), "zzz"],
    "point_mass": ["dt", "max_force", "damping", "mass_bounds", "success_bonus", "progress_reward", "zzz"],
    "grid_world": ["goal_reward", "step_penalty", "size_bounds", "max_episode_steps", "zzz"],
    "webform": ["max_fields", "max_elements", "max_pages", "instruction_tokens", "tokens_per_string",
                "step_slack", "gamma", "shaping_coef", "task_low", "zzz"],
}
TEACHER_KEYS = ["fit_rate", "max_k", "min_k", "nb_bootstrap", "random_task_ratio", "queue_len", "step_size",
                "boundary_sampling_p", "max_region_size", "nb_split_attempts", "mutation_std", "zzz",
                ("gmm", "max_iter"), ("gmm", "n_init"), ("gmm", "tol")]


class FlakyError(RuntimeError):
    """The deliberate failure of :class:`FlakyTeacher`."""


class FlakyTeacher:
    """Uniform tasks; now and then raises in ``sample_task`` or ``update``."""

    def __init__(self, rng: np.random.Generator, space: Any) -> None:
        self.rng, self.space = rng, space

    def sample_task(self) -> np.ndarray:
        if self.rng.random() < 0.05:
            raise FlakyError("flaky sample_task")
        low, high = np.asarray(self.space.low, dtype=float), np.asarray(self.space.high, dtype=float)
        return low + self.rng.random(low.shape) * (high - low)

    def update(self, task: Any, episode_return: float, success: bool) -> None:
        if self.rng.random() < 0.05:
            raise FlakyError("flaky update")


class Barrage:
    """Random values and the check of every call's outcome."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.log: list[str] = []
        self.calls = 0

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, items: list[Any]) -> Any:
        return items[int(self.rng.integers(len(items)))]

    def number(self) -> Any:
        r = self.rng.random()
        if r < 0.5:
            return float(self.rng.uniform(-5, 5))
        if r < 0.7:
            return int(self.rng.integers(-3, 50))
        if r < 0.8:
            return self.pick([0, -1, 2**31, 2**63, 2**64, 10**30, np.int64(7), np.float32(0.25)])
        if r < 0.95:
            return self.pick(WILD)
        return self.pick(ODD)

    def uniform_task(self, space: Any) -> Any:
        # Not `rng.uniform(low, high)`: numpy refuses a range of -0.0 (bounds (0, -0.0) are a
        # valid fixed dimension).
        low, high = np.asarray(space.low, dtype=float), np.asarray(space.high, dtype=float)
        return low + self.rng.random(low.shape) * (high - low)

    def task(self, space: Any) -> Any:
        dim = space.shape[0]
        r = self.rng.random()
        if r < 0.6:
            return self.uniform_task(space)
        if r < 0.8:
            t = self.uniform_task(space)
            t[int(self.rng.integers(dim))] = self.pick(WILD)
            return t
        if r < 0.9:
            return [self.number() for _ in range(int(self.rng.integers(0, dim + 2)))]
        return self.pick(ODD)

    def action(self, shape: tuple[int, ...], kind: str, high: Any) -> Any:
        r = self.rng.random()
        if kind != "continuous":
            if r < 0.7:
                return (self.rng.integers(0, np.asarray(high) + 1, size=shape) if shape else int(self.rng.integers(0, int(high) + 1)))
            if r < 0.85:
                return self.rng.integers(-3, 10**6, size=shape) if shape else self.number()
            return self.pick(ODD + [np.zeros(shape + (1,)), 1.5])
        if r < 0.6:
            return self.rng.uniform(-2, 2, size=shape).astype(self.pick([np.float32, np.float64]))
        if r < 0.8:
            a = self.rng.uniform(-1, 1, size=shape)
            a.flat[int(self.rng.integers(a.size))] = self.pick(WILD)
            return a
        if r < 0.9:
            return self.rng.uniform(-1, 1, size=tuple(int(self.rng.integers(0, 4)) for _ in range(int(self.rng.integers(1, 3)))))
        return self.pick(ODD)

    def config(self, keys: list[Any]) -> Any:
        if self.chance(0.1):
            return self.pick(ODD)
        config: dict[str, Any] = {}
        for _ in range(int(self.rng.integers(0, 3))):
            key = self.pick(keys)
            if isinstance(key, tuple):
                config.setdefault(key[0], {})
                if isinstance(config[key[0]], dict):
                    config[key[0]][key[1]] = self.number()
            else:
                config[key] = self.number() if not self.chance(0.2) else [self.number(), self.number()]
        return config

    def call(self, what: str, f: Callable[[], Any], *allowed: type[BaseException]) -> Any:
        """``f()``; a documented error is fine, anything else fails the test with the log."""
        self.calls += 1
        self.log.append(what)
        del self.log[:-30]
        try:
            return f()
        except (ValueError, TypeError) as e:
            assert str(e), f"{type(e).__name__} without a message from {what}"
        except FlakyError:
            pass
        except BaseException as e:
            if allowed and isinstance(e, allowed):
                return None
            pytest.fail(
                f"{type(e).__name__}: {e} from {what}\nlast calls:\n  " + "\n  ".join(self.log)
                + "\n" + traceback.format_exc()
            )
        return None


def _section(name: str) -> str:
    return "walker" if name in ("stump_tracks", "hexagon_tracks", "parkour") else "webform" if name.startswith("webform") else name


def _env_kwargs(b: Barrage, name: str, space: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if b.chance(0.3):
        kwargs["config"] = b.config(CONFIG_KEYS[_section(name)])
    if b.chance(0.2) and not name.startswith("webform"):
        dims = list(space.names) if space is not None else ["x"]
        kwargs["bounds"] = {b.pick(dims + ["nope"]): (b.number(), b.number()) if b.chance(0.9) else b.number()}
    if b.chance(0.1):
        kwargs["max_episode_steps"] = b.number()
    if b.chance(0.1):
        kwargs["body"] = b.pick(["classic_bipedal", "small_bipedal", "quadruped", 3])
    if b.chance(0.3):
        kwargs["render_mode"] = b.pick(["rgb_array", "rgb_array", "human"])
    if b.chance(0.2) and space is not None:
        kwargs["task"] = b.task(space)
    return kwargs


def _deadline(share: float) -> float:
    return time.monotonic() + SECONDS * share


#: Every env's task space, by registry name.
SPACES = {name: teachgym.ENV_CLASSES[name]().task_space for name in REGISTRY}


def test_fuzz_single_envs() -> None:
    b = Barrage(SEED)
    end = _deadline(0.4)
    while time.monotonic() < end:
        name = b.pick(list(REGISTRY))
        cls = teachgym.ENV_CLASSES[name]
        env = b.call(f"{cls.__name__}(...)", lambda: cls(**_env_kwargs(b, name, SPACES[name])))
        if env is None:
            continue
        kind = env._core.action_kind
        high = getattr(env.action_space, "nvec", getattr(env.action_space, "n", None))
        shape = env.action_space.shape if kind != "discrete" else ()
        for _ in range(int(b.rng.integers(1, 60))):
            op = b.rng.random()
            if op < 0.15:
                options = b.pick([None, None, {"task": b.task(env.task_space)}, {"taks": 1}, "x"])
                seed = b.pick([None, 0, 7, -1, 2**64, 2**70, 1.5, "s", np.int64(3)])
                b.call(f"reset(seed={seed!r}, options={options!r})", lambda: env.reset(seed=seed, options=options))
            elif op < 0.85:
                action = b.action(shape, kind, high)
                out = b.call(f"step({action!r})", lambda: env.step(action))
                if out is not None:
                    assert math.isfinite(out[1]), f"reward {out[1]} from {name} after " + "\n  ".join(b.log)
            elif op < 0.9:
                b.call("render()", env.render)
            elif op < 0.95:
                source = b.pick([None, FlakyTeacher(b.rng, env.task_space), b.task(env.task_space)])
                b.call("set_task_source(...)", lambda: env.set_task_source(source))
            else:
                copy = b.call("pickle", lambda: pickle.loads(pickle.dumps(env)))
                env = copy if copy is not None else env
    assert b.calls > 0


def test_fuzz_vector_envs() -> None:
    b = Barrage(SEED + 1)
    end = _deadline(0.3)
    while time.monotonic() < end:
        name = b.pick(list(REGISTRY))
        cls = teachgym.VECTOR_ENV_CLASSES[name]
        n = b.pick([1, 2, 3, 4, 0, -1, 2**40, 2.0])
        kwargs = _env_kwargs(b, name, SPACES[name])
        kwargs.pop("task", None)
        kwargs["teacher"] = FlakyTeacher(b.rng, SPACES[name]) if b.chance(0.5) else None
        kwargs["autoreset_mode"] = b.pick(["next_step", "same_step", "disabled", "sometimes"])
        kwargs["num_threads"] = b.pick([None, 1, 2, 0, 10**20])
        envs = b.call(f"{cls.__name__}({n!r}, ...)", lambda: cls(n, **kwargs))
        if envs is None:
            continue
        kind = envs._action_kind
        high = (envs._nvec - 1) if kind != "continuous" else None
        shape = envs._action_shape if kind == "continuous" else envs._nvec.shape
        for _ in range(int(b.rng.integers(1, 40))):
            op = b.rng.random()
            if op < 0.15:
                options: Any = b.pick([None, {"task": b.task(envs.task_space)},
                                       {"reset_mask": b.rng.random(envs.num_envs) < 0.5},
                                       {"tasks": [b.task(envs.task_space) for _ in range(envs.num_envs)]}, {"zzz": 0}])
                seed = b.pick([None, 0, 5, -3, [1] * envs.num_envs, [None, 2], "s"])
                b.call(f"reset(seed={seed!r}, options={options!r})", lambda: envs.reset(seed=seed, options=options))
            elif op < 0.9:
                action = b.action(shape, kind, high)
                out = b.call(f"step({action!r})", lambda: envs.step(action))
                if out is not None:
                    assert np.isfinite(out[1]).all(), f"rewards {out[1]} from {name} after " + "\n  ".join(b.log)
            else:
                b.call("render()", envs.render)
    assert b.calls > 0


def test_fuzz_teachers() -> None:
    b = Barrage(SEED + 2)
    end = _deadline(0.3)
    while time.monotonic() < end:
        cls = b.pick(list(TEACHER_CLASSES.values()))
        dim = int(b.rng.integers(1, 4))
        low = [b.number() if b.chance(0.1) else float(b.rng.uniform(-5, 0)) for _ in range(dim)]
        high = [b.number() if b.chance(0.1) else float(b.rng.uniform(0, 5)) for _ in range(dim)]
        config = b.config(TEACHER_KEYS)
        if not isinstance(config, dict):
            config = {}
        if cls.NAME == "adr" and b.chance(0.8):
            config["expert_knowledge"] = {"level": "low", "success_threshold": 1.0,
                                          "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}}
        if cls.NAME == "goal_gan" and b.chance(0.8):  # its success threshold; small networks (fast)
            config["expert_knowledge"] = {"level": "low", "success_threshold": 1.0,
                                          "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}}
            config.setdefault("generator_hidden", [8])
            config.setdefault("discriminator_hidden", [8])
            config.setdefault("pretrain_outer_iters", 3)
            config.setdefault("outer_iters", 3)
        if cls.NAME == "qweb_schedule" and b.chance(0.8):  # the fuzzed space's dimension names
            config.setdefault("dimensions", [f"dim_{i}" for i in range(int(b.rng.integers(1, dim + 1)))])
            config.setdefault("horizon", int(b.rng.integers(1, 50)))
        if cls.NAME == "spdl" and b.chance(0.8):  # updates within the barrage's few episodes
            config.setdefault("update_frequency", int(b.rng.integers(1, 20)))
            config.setdefault("update_offset", 0)
            config.setdefault("alpha_offset", int(b.rng.integers(0, 3)))
        if b.chance(0.2):
            config["shuffle_dimensions"] = b.pick([True, True, False, 1, "yes"])
        small = {"alp_gmm": "fit_rate", "covar_gmm": "fit_rate", "riac": "max_region_size"}
        if cls.NAME in small and b.chance(0.7):  # small enough that refits happen
            config.setdefault(small[cls.NAME], int(b.rng.integers(2, 12)))
        seed = b.pick([0, 1, -1, 2**64, "s", 3])
        teacher = b.call(f"{cls.__name__}(low={low}, high={high}, seed={seed!r}, **{config!r})",
                         lambda: cls(low=low, high=high, seed=seed, **config))
        if teacher is None:
            continue
        for _ in range(int(b.rng.integers(1, 80))):
            op = b.rng.random()
            if op < 0.3:
                task = b.call("sample_task()", teacher.sample_task)
                if task is not None:
                    assert teacher.task_space.contains(task), f"{cls.NAME} sampled {task} outside its space after " + "\n  ".join(b.log)
            elif op < 0.85:
                task = teacher.sample_task() if b.chance(0.8) else b.task(teacher.task_space)
                ret, success, length = b.number(), b.pick([True, False, "yes", 1]), b.pick([0, 5, -1, 2**40, 1.5])
                b.call(f"update({task!r}, {ret!r}, {success!r}, {length!r})",
                       lambda: teacher.update(task, ret, success, length))
            elif op < 0.87:
                # Value estimates: on a recent task (SPDL's pending episode) or any, odd values.
                task = teacher.sample_task() if b.chance(0.3) else b.task(teacher.task_space)
                value, disc = b.number(), b.pick([0.5, b.number(), np.array([1.0]), np.zeros(2), "v"])
                b.call(f"record_value_estimate({task!r}, {value!r}, {disc!r})",
                       lambda: teacher.record_value_estimate(task, value, disc))
            elif op < 0.9:
                k = b.pick([0, 3, -1, 10**15, 2.5, None])
                b.call(f"non_exploratory_samples({k!r})", lambda: teacher.non_exploratory_samples(k))
            elif op < 0.97:
                state = teacher.state_dict()
                text = repr(state)
                if b.chance(0.7):
                    state = _mutate(b, state)
                b.call(f"load_state_dict(mutated {text[:60]}...)", lambda: teacher.load_state_dict(state))
            else:
                copy = b.call("pickle", lambda: pickle.loads(pickle.dumps(teacher)))
                teacher = copy if copy is not None else teacher
    assert b.calls > 0


def _mutate(b: Barrage, value: Any) -> Any:
    """``value`` (a JSON-like state) with some numbers, strings or lists changed."""
    if isinstance(value, dict):
        return {k: _mutate(b, v) for k, v in value.items()}
    if isinstance(value, list):
        if value and b.chance(0.05):
            return value[: int(b.rng.integers(len(value)))]
        return [_mutate(b, v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value if not b.chance(0.02) else b.number()
    if isinstance(value, (int, float)) and b.chance(0.05):
        return b.number()
    return value
