"""Run directories of ``teachgym train``: ``teachgym.runs.load`` reads them as DataFrames, and
the TensorBoard event file holds the same numbers, read back with TensorBoard's own reader.

The run comes from the command-line binary (``$TEACHGYM_BIN``, which scripts/test_python.sh
builds; else ``target/debug/teachgym``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import teachgym

ROOT = Path(__file__).resolve().parents[2]


def _binary() -> Path:
    path = Path(os.environ.get("TEACHGYM_BIN", ROOT / "target" / "debug" / "teachgym"))
    if not path.is_file():
        pytest.skip(f"no teachgym binary at {path}: run `cargo build --bin teachgym` or set TEACHGYM_BIN")
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "point_mass"
    subprocess.run(
        [str(_binary()), "train", "--quiet", "--env", "point_mass", "--teacher", "alp_gmm", "--steps", "6144",
         "--eval-every", "2048", "--num-envs", "4", "--out", str(out)],
        check=True, timeout=300,
    )
    return out


def test_load_returns_the_run_as_dataframes(run_dir: Path) -> None:
    run = teachgym.runs.load(run_dir)
    assert run.config["env"] == "point_mass" and run.config["teacher"] == "alp_gmm"
    assert list(run.evaluations["global_step"]) == [0, 2048, 4096, 6144]
    assert run.task_dimensions == ["target_distance", "mass"]
    assert set(run.task_dimensions) <= set(run.episodes.columns)
    assert run.episodes["success"].dtype == bool
    assert len(run.evaluations["returns"][0]) == len(run.test_set)
    np.testing.assert_allclose(
        run.evaluations["mean_return"], [np.mean(r) for r in run.evaluations["returns"]], rtol=1e-12
    )


def test_load_refuses_what_is_not_a_run(tmp_path: Path, run_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="config.toml"):
        teachgym.runs.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        teachgym.runs.load(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.toml", "episodes.csv", "test_set.csv"):
        (broken / name).write_bytes((run_dir / name).read_bytes())
    (broken / "evaluations.jsonl").write_text('{"global_step": 0}\nnot json\n')
    with pytest.raises(ValueError, match="line 2"):
        teachgym.runs.load(broken)


def test_tensorboard_reads_the_same_numbers(run_dir: Path) -> None:
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    files = list(run_dir.glob("*tfevents*"))
    assert [f.name for f in files] == ["events.out.tfevents.teachgym"]
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    run = teachgym.runs.load(run_dir)
    mastered = acc.Scalars("eval/mastered_percent")
    assert [e.step for e in mastered] == list(run.evaluations["global_step"])
    np.testing.assert_allclose([e.value for e in mastered], run.evaluations["mastered_percent"], rtol=1e-6)
    np.testing.assert_allclose(
        [e.value for e in acc.Scalars("eval/mean_return")], run.evaluations["mean_return"], rtol=1e-6
    )
    returns = acc.Scalars("train/episode_return")
    assert [e.step for e in returns] == list(run.episodes["global_step"])
    np.testing.assert_allclose([e.value for e in returns], run.episodes["episode_return"], rtol=1e-6)
    # Each evaluation's curriculum histogram counts the episodes that ended since the previous.
    histograms = acc.Histograms("curriculum/target_distance")
    steps = list(run.evaluations["global_step"])
    for h in histograms:
        i = steps.index(h.step)
        previous = steps[i - 1] if i else -1
        window = run.episodes[(run.episodes["global_step"] > previous) & (run.episodes["global_step"] <= h.step)]
        assert h.histogram_value.num == len(window)
        assert h.histogram_value.min == pytest.approx(window["target_distance"].min())
    assert sum(h.histogram_value.num for h in histograms) == len(run.episodes)
