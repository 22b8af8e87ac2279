"""Ray Tune as the engine of ``teachgym benchmark`` (teachgym.ray_benchmark): on a local Ray
cluster, a tiny spec (point mass, two teachers, two seeds) gives run directories byte-identical
to the local pool's (``teachgym benchmark``), and a sweep killed in the middle restores its
experiment and ends identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray.tune", reason="Ray Tune is not installed (pip install 'teachgym[ray]')")

from teachgym.ray_benchmark import RAY_DIR, run_benchmark  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPEC = """
name = "tiny"
description = "point mass, two teachers, two seeds"
teachers = ["random", "alp_gmm"]
seeds = 2
budget = {budget}
eval_every = {eval_every}

[run]
env = "point_mass"
[run.trainer]
num_envs = 4
"""
# What a finished run holds whatever the engine (the logs and plots aside).
RESULT_FILES = ("config.toml", "episodes.csv", "evaluations.csv", "evaluations.jsonl", "summary.json")


def _binary() -> Path:
    path = Path(os.environ.get("TEACHGYM_BIN", ROOT / "target" / "debug" / "teachgym"))
    if not path.is_file():
        pytest.skip(f"no teachgym binary at {path}: run `cargo build --bin teachgym` or set TEACHGYM_BIN")
    return path


def _spec(tmp_path: Path, budget: int, eval_every: int) -> Path:
    path = tmp_path / f"tiny-{budget}.toml"
    path.write_text(SPEC.format(budget=budget, eval_every=eval_every))
    return path


def _runs(out: Path) -> list[Path]:
    return sorted(p.parent.relative_to(out) for p in out.glob("tiny/*/seed*/config.toml"))


def _assert_identical(a: Path, b: Path) -> None:
    runs = _runs(a)
    assert [str(r) for r in runs] == [
        "tiny/alp_gmm-none/seed0", "tiny/alp_gmm-none/seed1", "tiny/random/seed0", "tiny/random/seed1",
    ]
    assert runs == _runs(b)
    for run in runs:
        for name in RESULT_FILES:
            assert (a / run / name).read_bytes() == (b / run / name).read_bytes(), f"{run}/{name}"
    assert (a / "tiny" / "spec.toml").read_bytes() == (b / "tiny" / "spec.toml").read_bytes()


def _local_pool(spec: Path, out: Path) -> None:
    subprocess.run(
        [str(_binary()), "benchmark", "--spec", str(spec), "--out", str(out), "--jobs", "2", "--quiet"],
        check=True, timeout=600,
    )


def test_ray_runs_equal_the_local_pool(tmp_path: Path) -> None:
    import ray

    spec = _spec(tmp_path, 4096, 2048)
    _local_pool(spec, tmp_path / "local")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        done = run_benchmark([str(spec)], tmp_path / "ray", max_concurrent_trials=2)
        assert (done.total, done.skipped, done.finished, done.restored) == (4, 0, 4, False)
        assert done.experiment.parent == (tmp_path / "ray" / RAY_DIR).resolve()
        _assert_identical(tmp_path / "local", tmp_path / "ray")
        # Again: every run is finished, nothing changes.
        again = run_benchmark([str(spec)], tmp_path / "ray", max_concurrent_trials=2)
        assert (again.skipped, again.finished, again.restored) == (4, 0, True)
        _assert_identical(tmp_path / "local", tmp_path / "ray")
        # A run directory of another configuration is refused before anything runs.
        with pytest.raises(ValueError, match="another configuration"):
            run_benchmark([str(spec)], tmp_path / "ray", budget=8192)
    finally:
        ray.shutdown()


def test_a_killed_sweep_restores_and_ends_identical(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 16384, 2048)
    _local_pool(spec, tmp_path / "local")
    out = tmp_path / "ray"
    command = [sys.executable, "-m", "teachgym.ray_benchmark", "--spec", str(spec), "--out", str(out),
               "--jobs", "2", "--quiet"]
    # The sweep (and the local Ray cluster it starts) in its own process group, killed once a
    # run has checkpointed and Tune has saved its experiment, before all runs are finished.
    sweep = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and sweep.poll() is None:
            if any(out.glob("tiny/*/seed*/checkpoint.json")) and any(out.glob(f"{RAY_DIR}/*/experiment_state*")):
                break
            time.sleep(0.05)
        assert sweep.poll() is None, f"the sweep ended before it could be killed: {sweep.stderr.read().decode()}"
    finally:
        os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
    finished = [p for p in out.glob("tiny/*/seed*/summary.json")]
    assert len(finished) < 4, "every run finished before the kill: nothing to restore"
    experiments = list((out / RAY_DIR).iterdir())
    assert len(experiments) == 1
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "4 runs:" in resumed.stdout and "(restored)" in resumed.stdout, resumed.stdout
    assert list((out / RAY_DIR).iterdir()) == experiments, "the same experiment was restored"
    _assert_identical(tmp_path / "local", out)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        run_benchmark("tiny.toml", tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no spec"):
        run_benchmark([], tmp_path)
    with pytest.raises(ValueError, match="seeds"):
        run_benchmark(["no_challenge"], tmp_path, seeds=0)
    with pytest.raises(TypeError, match="teachers"):
        run_benchmark(["no_challenge"], tmp_path, teachers="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="neither a file nor a built-in spec"):
        run_benchmark([str(tmp_path / "missing.toml")], tmp_path)
    with pytest.raises(ValueError, match="unknown teacher"):
        run_benchmark(["no_challenge"], tmp_path, teachers=["alp-gmm"])
