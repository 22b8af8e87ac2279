"""Type stubs of the compiled module ``teachgym._teachgym`` (see python/src/lib.rs)."""

import os
from collections.abc import Callable
from typing import Any, final

import numpy as np
import numpy.typing as npt
from typing_extensions import Self

__all__ = [
    "RustEnv",
    "RustVectorEnv",
    "RustTeacher",
    "QwebPolicy",
    "env_registry",
    "train",
    "build_classroom",
    "benchmark_plan",
    "TEACHER_NAMES",
    "BODY_NAMES",
    "MAX_NUM_ENVS",
    "MAX_NON_EXPLORATORY_SAMPLES",
    "__version__",
]

__version__: str
TEACHER_NAMES: list[str]
BODY_NAMES: list[str]
MAX_NUM_ENVS: int
MAX_NON_EXPLORATORY_SAMPLES: int

def build_classroom(
    runs: list[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    alp_threshold: float | None = None,
    keep_all: bool = False,
) -> tuple[list[str], list[str]]: ...
def train(
    config_text: str,
    config_format: str,
    out: str | os.PathLike[str],
    resume: bool = False,
    stop_after: int | None = None,
    progress: Callable[[tuple[int, int, int, float, list[tuple[int, float, float]]]], object] | None = None,
) -> tuple[bool, int, int]: ...

def benchmark_plan(
    specs: list[str],
    out: str | os.PathLike[str],
    overrides_json: str,
) -> list[tuple[str, str, str]]:
    """``(run directory relative to out, state, configuration TOML)`` of every run of the specs."""

def env_registry() -> list[tuple[str, str, int | None, int, float | None, str]]:
    """``(name, gym_id, max_episode_steps, render_fps, success_return, summary)`` of every env."""


@final
class RustEnv:
    def __new__(cls, name: str, options_json: str) -> Self: ...
    def __getnewargs__(self) -> tuple[str, str]: ...
    @property
    def name(self) -> str: ...
    @property
    def action_kind(self) -> str: ...
    def observation_space(self) -> dict[str, Any]: ...
    def action_space(self) -> dict[str, Any]: ...
    def task_space(self) -> tuple[list[str], list[float], list[float], list[str]]: ...
    def expert_knowledge(self, level: str) -> str: ...
    def reset(
        self, seed: int, task: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float32] | dict[str, npt.NDArray[Any]], dict[str, Any]]: ...
    def step(
        self, action: npt.NDArray[np.float32] | int | list[int] | npt.NDArray[np.int64]
    ) -> tuple[
        npt.NDArray[np.float32] | dict[str, npt.NDArray[Any]], float, bool, bool, dict[str, Any]
    ]: ...
    def render(self) -> npt.NDArray[np.uint8]: ...
    def render_text(self) -> str | None: ...
    def webform_html(self) -> str: ...
    def webform_state(self) -> str: ...
    def webform_oracle_action(self) -> int: ...
    def webform_decode(self, action: int) -> tuple[int, int | None]: ...

@final
class QwebPolicy:
    def __new__(cls, checkpoint: str | os.PathLike[str], test_set: str | os.PathLike[str] | None = None) -> Self: ...
    @property
    def env_name(self) -> str: ...
    @property
    def env_config_json(self) -> str: ...
    @property
    def eval_seed(self) -> int: ...
    @property
    def global_step(self) -> int: ...
    @property
    def tasks(self) -> list[list[float]]: ...
    def act(self, env: RustEnv) -> int: ...

@final
class RustVectorEnv:
    def __new__(cls, name: str, options_json: str, num_envs: int, num_threads: int) -> Self: ...
    @property
    def num_threads(self) -> int: ...
    def run(
        self,
        ops: npt.NDArray[np.uint8],
        actions: npt.NDArray[np.float32] | npt.NDArray[np.int64],
        seeds: npt.NDArray[np.uint64],
        tasks: npt.NDArray[np.float64],
        obs: npt.NDArray[np.float32] | list[npt.NDArray[Any]],
        reward: npt.NDArray[np.float64],
        terminated: npt.NDArray[np.bool_],
        truncated: npt.NDArray[np.bool_],
        episode_return: npt.NDArray[np.float64],
        episode_length: npt.NDArray[np.int64],
        success: npt.NDArray[np.bool_],
    ) -> None: ...
    def render(self, index: int) -> npt.NDArray[np.uint8]: ...
    def __getnewargs__(self) -> tuple[str, str, int, int]: ...

@final
class RustTeacher:
    def __new__(
        cls,
        name: str,
        names: list[str],
        low: list[float],
        high: list[float],
        seed: int,
        config_json: str,
        shuffle_dimensions: bool = False,
    ) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def value_estimate_discount(self) -> float | None: ...
    def sample_task(self) -> npt.NDArray[np.float64]: ...
    def record_value_estimate(
        self, task: npt.NDArray[np.float64], initial_value: float, discounted_return: float
    ) -> None: ...
    def update(
        self, task: npt.NDArray[np.float64], episode_return: float, success: bool, length: int
    ) -> None: ...
    def record_evaluation(
        self,
        epoch: int,
        episodes: int,
        returns: list[float],
        scores: list[float] | None = None,
        score_range: tuple[float, float] | None = None,
    ) -> None: ...
    @property
    def wants_student_restart(self) -> bool: ...
    def acknowledge_student_restart(self) -> None: ...
    def non_exploratory_samples(self, n: int) -> list[list[float]] | None: ...
    def save_state(self) -> bytes: ...
    def load_state(self, state: bytes) -> None: ...
