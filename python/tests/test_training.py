"""``teachgym.train``: the Rust trainer from Python gives the command line's run, bit for bit;
progress reaches the callback; an exception in the callback stops the run with a checkpoint
that ``resume=True`` continues; bad arguments raise ``ValueError``/``TypeError``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import teachgym

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "env": "point_mass",
    "teacher": "alp_gmm",
    "trainer": {"total_steps": 6144, "eval_every": 2048, "num_envs": 4, "threads": 1},
}


def test_python_train_equals_the_command_line(tmp_path: Path) -> None:
    reports = []
    result = teachgym.train(CONFIG, tmp_path / "py", progress=False, callback=reports.append)
    assert result.finished and result.global_step == 6144
    assert [e["global_step"] for e in result.evaluations] == [0, 2048, 4096, 6144]
    assert [e["global_step"] for r in reports for e in r["new_evaluations"]] == [0, 2048, 4096, 6144]
    assert reports[-1]["global_step"] == reports[-1]["planned_steps"] == 6144
    binary = Path(os.environ.get("TEACHGYM_BIN", ROOT / "target" / "debug" / "teachgym"))
    if not binary.is_file():
        pytest.skip(f"no teachgym binary at {binary} to compare with")
    subprocess.run(
        [str(binary), "train", "--quiet", "--env", "point_mass", "--teacher", "alp_gmm", "--steps", "6144",
         "--eval-every", "2048", "--num-envs", "4", "--threads", "1", "--out", str(tmp_path / "cli")],
        check=True, timeout=300,
    )
    for name in ("episodes.csv", "evaluations.jsonl", "config.toml"):
        assert (tmp_path / "py" / name).read_text() == (tmp_path / "cli" / name).read_text(), name


def test_an_exception_in_the_callback_stops_the_run_resumably(tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def stop_late(report: dict) -> None:
        if report["global_step"] >= 3000:
            raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        teachgym.train(CONFIG, tmp_path / "run", progress=False, callback=stop_late)
    assert (tmp_path / "run" / "checkpoint.json").is_file()
    resumed = teachgym.train(CONFIG, tmp_path / "run", resume=True, progress=True)
    whole = teachgym.train(CONFIG, tmp_path / "whole", progress=False)
    assert resumed.evaluations == whole.evaluations
    assert (tmp_path / "run" / "episodes.csv").read_text() == (tmp_path / "whole" / "episodes.csv").read_text()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown teacher"):
        teachgym.train({**CONFIG, "teacher": "alp-gmm"}, tmp_path / "a", progress=False)
    with pytest.raises(ValueError, match="total_stepz|unknown field"):
        teachgym.train({"trainer": {"total_stepz": 5}}, tmp_path / "b", progress=False)
    with pytest.raises(ValueError, match="not a file"):
        teachgym.train(str(tmp_path / "missing.toml"), tmp_path / "c", progress=False)
    with pytest.raises(TypeError):
        teachgym.train(42, tmp_path / "d")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stop_after"):
        teachgym.train(CONFIG, tmp_path / "e", stop_after=-1)
    teachgym.train(CONFIG, tmp_path / "f", progress=False, stop_after=2048)
    with pytest.raises(ValueError, match="already holds a run"):
        teachgym.train(CONFIG, tmp_path / "f", progress=False)
    config_file = tmp_path / "run.toml"
    config_file.write_text('env = "point_mass"\n[trainer]\ntotal_steps = 2048\neval_every = 2048\nnum_envs = 4\n')
    assert teachgym.train(config_file, tmp_path / "g", progress=False).finished


def test_a_classroom_from_python_runs_and_an_again_run(tmp_path: Path) -> None:
    """Meta-ACL from Python: ALP-GMM runs write their classroom entries, build_classroom
    assembles them (as ``teachgym classroom build``), and an AGAIN run trains with it."""
    runs = []
    for seed in (1, 2):
        run = tmp_path / f"alp-{seed}"
        teachgym.train({**CONFIG, "seed": seed}, run, progress=False)
        assert (run / "classroom_entry.json").is_file()
        runs.append(run)
    with pytest.raises(ValueError, match="left out|nobody|no student|enter"):
        teachgym.build_classroom(runs, tmp_path / "none.json", alp_threshold=1e9)
    built = teachgym.build_classroom(runs, tmp_path / "classroom.json", keep_all=True)
    assert sorted(built.entered) == ["alp-1", "alp-2"] and built.left_out == []
    with pytest.raises(ValueError, match="classroom_entry.json"):
        teachgym.build_classroom([tmp_path], tmp_path / "bad.json")
    with pytest.raises(TypeError, match="list of run directories"):
        teachgym.build_classroom(runs[0], tmp_path / "bad.json")
    config = {**CONFIG, "teacher": "again", "seed": 3, "teacher_config": {"classroom": str(built.path)}}
    result = teachgym.train(config, tmp_path / "again", progress=False)
    assert result.finished and [e["global_step"] for e in result.evaluations] == [0, 2048, 4096, 6144]
    # The Python class takes the same file (a path-like), on the env's task space.
    teacher = teachgym.teachers.Again(_point_mass_space(), seed=0, classroom=built.path)
    assert teacher.name == "again"


def _point_mass_space() -> teachgym.TaskSpace:
    import gymnasium as gym

    return gym.make("teachgym/PointMass-v0").unwrapped.task_space
