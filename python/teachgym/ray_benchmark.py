"""Ray Tune as the engine of ``teachgym benchmark``: the same specs, the same run directories and
the same results as the local pool, on one machine or a Ray cluster.

>>> from teachgym.ray_benchmark import run_benchmark
>>> run_benchmark(["no_challenge"], "runs/benchmark", seeds=4, address="auto")  # doctest: +SKIP

The command line runs it as ``teachgym benchmark --engine ray [--ray-address ADDRESS] ...``, and
``python -m teachgym.ray_benchmark`` takes the same flags.

How it maps onto Tune:

- **One trial per run.** The specs expand into runs exactly as for the local pool (the expansion
  is the Rust one, :func:`teachgym._teachgym.benchmark_plan`), and each run is a Tune trial
  that trains in its worker with one thread (:func:`teachgym.train`), into the run directory
  ``OUT/<cell>/<teacher>[-<ek>]/seed<N>``. A trial needs one CPU; ``max_concurrent_trials``
  bounds how many run at once.
- **The run directory is the trial's checkpoint.** The trainer checkpoints after every
  evaluation; a trial that starts on a run directory holding a checkpoint resumes from it,
  exactly as if never stopped, and a finished run (``summary.json``) ends its trial at once.
  On a cluster of several machines, ``OUT`` must therefore be a directory every node sees
  (a shared filesystem), as Tune's own ``storage_path`` must.
- **Restore.** Tune's experiment state lives in ``OUT/_ray/<experiment>``, named after the
  planned runs; calling this again with the same specs restores that experiment, and its
  unfinished or failed trials run again from their run directories' checkpoints. Different
  specs or more seeds make a new experiment, in which the runs already finished end at once.

A run's results depend only on its configuration, never on the engine, the number of trials
at a time or the machine: the files of every run (``evaluations.csv``, ``evaluations.jsonl``,
``episodes.csv``, ``summary.json``...) are byte-identical to the local pool's.

Needs Ray Tune: ``pip install 'teachgym[ray]'``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _teachgym

__all__ = ["BenchmarkRuns", "run_benchmark", "main"]

#: Tune's experiment directories, under the benchmark directory.
RAY_DIR = "_ray"
#: The file whose presence marks a finished run (the trainer writes it last).
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class BenchmarkRuns:
    """What :func:`run_benchmark` did."""

    #: Runs of the specs.
    total: int
    #: Runs already finished before the call (their trials end at once).
    skipped: int
    #: Runs finished by this call.
    finished: int
    #: Of those, runs continued from a checkpoint.
    resumed: int
    #: Tune's experiment directory.
    experiment: Path
    #: Whether Tune restored that experiment (an earlier call with the same runs was stopped).
    restored: bool


def _positive(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _names(name: str, value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list of str or None, got {value!r}")
    return list(value)


def _import_tune() -> Any:
    try:
        from ray import tune
    except ImportError as e:  # ray missing, or ray without its Tune dependencies
        raise ImportError(
            f"the Ray engine needs Ray Tune ({e}); install it with: pip install 'teachgym[ray]'"
        ) from e
    return tune


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _run_trial(params: dict[str, Any], *, out: str, configs: dict[str, str]) -> None:
    """One Tune trial: trains its run into its directory, resuming from the directory's
    checkpoint when there is one, and reports each evaluation to Tune."""
    from ray import tune

    from .training import train

    run = params["run"]
    directory = Path(out) / run
    if (directory / SUMMARY_FILE).is_file():
        summary = json.loads((directory / SUMMARY_FILE).read_text(encoding="utf-8"))
        tune.report({"run": run, "already_finished": True, **_numbers(summary)})
        return
    directory.mkdir(parents=True, exist_ok=True)
    resume = (directory / "checkpoint.json").is_file()
    if not resume:
        _write_atomically(directory / "config.toml", configs[run])

    def report(progress: dict[str, Any]) -> None:
        for evaluation in progress["new_evaluations"]:
            tune.report({"run": run, "resumed": resume, **evaluation})

    # The same call as `teachgym train --config DIR/config.toml --out DIR --resume`.
    train(directory / "config.toml", directory, resume=resume, progress=False, callback=report)


def _numbers(summary: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _experiment_name(plan: list[tuple[str, str, str]]) -> str:
    digest = hashlib.sha256()
    for run, _, config in plan:
        digest.update(run.encode())
        digest.update(b"\0")
        digest.update(config.encode())
        digest.update(b"\0")
    return f"benchmark-{digest.hexdigest()[:16]}"


def run_benchmark(
    specs: Sequence[str],
    out: str | os.PathLike[str],
    *,
    seeds: int | None = None,
    budget: int | None = None,
    eval_every: int | None = None,
    teachers: Sequence[str] | None = None,
    expert_knowledge: Sequence[str] | None = None,
    max_concurrent_trials: int | None = None,
    address: str | None = None,
    verbose: int = 0,
) -> BenchmarkRuns:
    """Runs the specs (built-in names or spec files, as ``teachgym benchmark --spec``) on Ray
    Tune, into the benchmark directory ``out``; the keyword overrides are the command line's
    flags of the same names.

    ``address``: the Ray cluster to join (``"auto"``, ``"ray://host:10001"``...); ``None`` joins
    the cluster this process is connected to, or starts a local one. ``max_concurrent_trials``:
    runs at a time (default: as many as the cluster has CPUs). ``verbose``: Tune's verbosity
    (0 silent, 1 status, 2 trial results).

    Raises ``ValueError`` for a bad spec or a run directory that holds another configuration,
    ``TypeError`` for arguments of the wrong type, ``ImportError`` without Ray Tune, and
    ``RuntimeError`` when runs failed (after every other run is done; it names them)."""
    if isinstance(specs, str) or not isinstance(specs, Sequence) or not all(isinstance(s, str) for s in specs):
        raise TypeError(f"specs must be a list of spec names or files, got {specs!r}")
    if not specs:
        raise ValueError("no spec: pass a built-in spec name (teachgym benchmark --list) or a spec file")
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path, got {type(out).__name__}")
    if address is not None and not isinstance(address, str):
        raise TypeError(f"address must be a str or None, got {type(address).__name__}")
    if isinstance(verbose, bool) or not isinstance(verbose, int) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    overrides = {
        "seeds": _positive("seeds", seeds),
        "budget": _positive("budget", budget),
        "eval_every": _positive("eval_every", eval_every),
        "teachers": _names("teachers", teachers),
        "expert_knowledge": _names("expert_knowledge", expert_knowledge),
    }
    max_concurrent_trials = _positive("max_concurrent_trials", max_concurrent_trials)
    tune = _import_tune()
    import ray

    out = Path(out).resolve()
    plan = _teachgym.benchmark_plan(list(specs), os.fspath(out), json.dumps(overrides))
    states = {run: state for run, state, _ in plan}
    configs = {run: config for run, _, config in plan}
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=verbose > 0, configure_logging=False)
    trainable = tune.with_parameters(_run_trial, out=os.fspath(out), configs=configs)
    storage = out / RAY_DIR
    name = _experiment_name(plan)
    experiment = storage / name
    restored = tune.Tuner.can_restore(os.fspath(experiment))
    if restored:
        tuner = tune.Tuner.restore(
            os.fspath(experiment), trainable, resume_unfinished=True, resume_errored=False, restart_errored=True
        )
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={"run": tune.grid_search(list(configs))},
            tune_config=tune.TuneConfig(
                max_concurrent_trials=max_concurrent_trials,
                trial_dirname_creator=lambda trial: trial.config["run"].replace(os.sep, "."),
            ),
            run_config=tune.RunConfig(
                name=name,
                storage_path=os.fspath(storage),
                verbose=verbose,
                # A failed run is reported once every other run is done, as by the local pool.
                failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
            ),
        )
    results = tuner.fit()
    failed = sorted(r.config["run"] for r in results if r.error is not None)
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(plan)} runs failed (Tune's trial logs under {experiment} say why): "
            + ", ".join(failed)
        )
    unfinished = sorted(run for run in configs if not (out / run / SUMMARY_FILE).is_file())
    if unfinished:
        raise RuntimeError(f"runs not finished after the sweep: {', '.join(unfinished)}")
    skipped = sum(state == "finished" for state in states.values())
    return BenchmarkRuns(
        total=len(plan),
        skipped=skipped,
        finished=len(plan) - skipped,
        resumed=sum(state == "checkpointed" for state in states.values()),
        experiment=experiment,
        restored=restored,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m teachgym.ray_benchmark``: ``teachgym benchmark --engine ray``'s flags."""
    parser = argparse.ArgumentParser(
        prog="python -m teachgym.ray_benchmark",
        description="Run teachgym benchmark specs on Ray Tune (one trial per run).",
    )
    parser.add_argument("--spec", action="append", required=True, dest="specs", metavar="NAME|FILE")
    parser.add_argument("--out", default="runs/benchmark")
    parser.add_argument("--jobs", type=int, default=None, help="runs at a time (default: the cluster's CPUs)")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--eval-every", type=int)
    parser.add_argument("--teachers", type=lambda s: s.split(","))
    parser.add_argument("--expert-knowledge", type=lambda s: s.split(","))
    parser.add_argument("--ray-address", default=None, help="the Ray cluster (default: start a local one)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        done = run_benchmark(
            args.specs,
            args.out,
            seeds=args.seeds,
            budget=args.budget,
            eval_every=args.eval_every,
            teachers=args.teachers,
            expert_knowledge=args.expert_knowledge,
            max_concurrent_trials=args.jobs,
            address=args.ray_address,
            verbose=0 if args.quiet else 1,
        )
    except (ValueError, TypeError, ImportError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"{done.total} runs: {done.skipped} finished before, {done.finished} run now "
        f"({done.resumed} resumed); benchmark directory: {args.out}; Tune experiment: {done.experiment}"
        + (" (restored)" if done.restored else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
