"""Reading the run directories that ``teachgym train`` writes, for notebooks and scripts.

>>> run = teachgym.runs.load("runs/quickstart")  # doctest: +SKIP
>>> run.evaluations.plot(x="global_step", y="mastered_percent")  # doctest: +SKIP

A run directory holds ``config.toml`` (the resolved configuration), ``episodes.csv`` (one row
per finished training episode: its end step, env copy, task, return, length, success),
``evaluations.jsonl`` (one line per evaluation with every test task's return), ``test_set.csv``
and a TensorBoard event file. :func:`load` returns them as pandas DataFrames (pandas is an
optional dependency: ``pip install pandas``, or the ``teachgym[pandas]`` extra).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Run", "load"]

_FILES = ("config.toml", "episodes.csv", "evaluations.jsonl", "test_set.csv")


@dataclass(frozen=True)
class Run:
    """One run directory, read."""

    #: The directory.
    path: Path
    #: The resolved configuration (``config.toml`` as a dict).
    config: dict[str, Any]
    #: One row per finished training episode: ``global_step``, ``env_index``,
    #: ``episode_index``, one column per task dimension, ``episode_return``, ``length``,
    #: ``success`` (bool).
    episodes: Any
    #: One row per evaluation: ``global_step``, ``mastered_percent``, ``mean_return`` and
    #: ``returns`` (the list of every test task's return, in test-set order).
    evaluations: Any
    #: The test tasks, one row each (the columns are the task dimensions).
    test_set: Any

    @property
    def task_dimensions(self) -> list[str]:
        """The names of the task's dimensions (the test set's columns)."""
        return list(self.test_set.columns)


def load(path: str | os.PathLike[str]) -> Run:
    """Reads the run directory ``path`` (as ``teachgym train --out`` names it).

    ``FileNotFoundError`` naming the missing file for a directory that is not a run;
    ``ValueError`` for a file that is not what ``teachgym train`` writes; ``ImportError`` with
    the install line when pandas is missing."""
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - pandas is in the test requirements
        raise ImportError("teachgym.runs needs pandas: pip install pandas (or teachgym[pandas])") from e
    directory = Path(path)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory (give a run directory from teachgym train --out)")
    for name in _FILES:
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory / name} is missing: {directory} is not a teachgym run directory")
    config = _read_toml(directory / "config.toml")
    try:
        episodes = pd.read_csv(directory / "episodes.csv")
        test_set = pd.read_csv(directory / "test_set.csv")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"a CSV file of {directory} is malformed: {e}") from e
    if "success" in episodes and episodes["success"].dtype != bool:
        episodes["success"] = episodes["success"].astype(str).str.lower().map({"true": True, "false": False})
    rows = []
    with open(directory / "evaluations.jsonl", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{directory / 'evaluations.jsonl'} line {number} is not JSON: {e}") from e
    evaluations = pd.DataFrame(rows, columns=["global_step", "mastered_percent", "mean_return", "returns"])
    return Run(path=directory, config=config, episodes=episodes, evaluations=evaluations, test_set=test_set)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return {"raw": path.read_text(encoding="utf-8")}
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path} is not valid TOML: {e}") from e
