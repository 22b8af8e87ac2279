"""Task spaces and the conversion of the Rust space descriptions into ``gymnasium.spaces``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

__all__ = ["TaskSpace", "space_from_description"]


class TaskSpace(spaces.Box):
    """The named, bounded box of difficulty parameters of an environment (float64).

    A ``gymnasium.spaces.Box`` with dimension ``names`` (and ``docs``): ``sample()`` draws
    uniformly, ``contains(task)`` checks length and bounds, ``validate(task)`` returns the task
    as a float64 array or raises ``ValueError`` naming the offending dimension.
    """

    def __init__(
        self,
        names: Sequence[str],
        low: Sequence[float] | np.ndarray,
        high: Sequence[float] | np.ndarray,
        docs: Sequence[str] | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        names = tuple(str(n) for n in names)
        low_arr = np.asarray(low, dtype=np.float64).reshape(-1)
        high_arr = np.asarray(high, dtype=np.float64).reshape(-1)
        if not names:
            raise ValueError("a task space needs at least one dimension")
        if not (len(names) == low_arr.size == high_arr.size):
            raise ValueError(
                f"task space has {len(names)} names, {low_arr.size} lows and {high_arr.size} highs"
            )
        if len(set(names)) != len(names) or "" in names:
            raise ValueError(f"task dimension names must be unique and non-empty, got {names}")
        for name, lo, hi in zip(names, low_arr, high_arr):
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(
                    f"invalid bounds for `{name}`: low = {lo}, high = {hi} (need finite low <= high)"
                )
            with np.errstate(over="ignore"):
                width = hi - lo
            if not np.isfinite(width):
                raise ValueError(
                    f"`{name}` spans [{lo}, {hi}], wider than the largest f64 (high - low overflows)"
                )
        docs = tuple(docs) if docs is not None else ("",) * len(names)
        if len(docs) != len(names):
            raise ValueError(f"{len(docs)} docs given for {len(names)} dimensions")
        super().__init__(low=low_arr, high=high_arr, dtype=np.float64, seed=seed)
        self.names: tuple[str, ...] = names
        self.docs: tuple[str, ...] = docs

    @classmethod
    def from_bounds(cls, low: Sequence[float], high: Sequence[float]) -> TaskSpace:
        """An unnamed space (``dim_0``, ``dim_1``, ...) from bound arrays."""
        n = np.asarray(low).reshape(-1).size
        return cls([f"dim_{i}" for i in range(n)], low, high)

    def validate(self, task: Any) -> np.ndarray:
        """``task`` as a contiguous float64 array, or ``TypeError``/``ValueError`` saying why not."""
        try:
            arr = np.asarray(task)
        except Exception as e:  # ragged sequences and the like
            raise TypeError(f"task must be a sequence of numbers, got {task!r}") from e
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"task must hold real numbers, got dtype {arr.dtype} ({task!r})")
        arr = np.ascontiguousarray(arr, dtype=np.float64)
        if arr.shape != self.shape:
            raise ValueError(
                f"task has shape {arr.shape} but the task space has {self.shape[0]} dimensions "
                f"({', '.join(self.names)})"
            )
        for name, v, lo, hi in zip(self.names, arr, self.low, self.high):
            if not (lo <= v <= hi):  # written so that NaN fails
                raise ValueError(f"task dimension `{name}` = {v} is outside its bounds [{lo}, {hi}]")
        return arr

    def contains(self, x: Any) -> bool:
        """Whether ``x`` has the right length and lies within the bounds (NaN never does)."""
        try:
            self.validate(x)
        except (TypeError, ValueError):
            return False
        return True

    def __repr__(self) -> str:
        dims = ", ".join(f"{n}=[{lo:g}, {hi:g}]" for n, lo, hi in zip(self.names, self.low, self.high))
        return f"TaskSpace({dims})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TaskSpace)
            and self.names == other.names
            and np.array_equal(self.low, other.low)
            and np.array_equal(self.high, other.high)
        )

    __hash__ = None  # type: ignore[assignment]


def space_from_description(d: dict[str, Any]) -> spaces.Space:
    """The ``gymnasium.spaces`` object of a Rust space description."""
    kind = d["kind"]
    if kind == "box":
        dtype = np.dtype(d["dtype"])
        shape = tuple(d["shape"])
        low, high = np.asarray(d["low"]).reshape(shape), np.asarray(d["high"]).reshape(shape)
        low_c, high_c = low.astype(dtype), high.astype(dtype)
        if dtype.kind == "f":
            # Round outwards, so a bound like pi + 1 never excludes a value the env computes
            # in float32 from the same expression.
            low_c = np.where(low_c > low, np.nextafter(low_c, dtype.type(-np.inf)), low_c).astype(dtype)
            high_c = np.where(high_c < high, np.nextafter(high_c, dtype.type(np.inf)), high_c).astype(dtype)
        return spaces.Box(low=low_c, high=high_c, shape=shape, dtype=dtype)
    if kind == "discrete":
        return spaces.Discrete(d["n"])
    if kind == "multi_discrete":
        return spaces.MultiDiscrete(d["nvec"])
    if kind == "dict":
        return spaces.Dict({k: space_from_description(s) for k, s in d["entries"]})
    raise ValueError(f"unknown space kind {kind!r}")
