"""The web forms in headless Chromium (teachgym.browser): parity of the page with the simulator,
action by action, on the oracle's and on random action sequences over forms of every widget
kind at both interaction levels; the browser env's errors and its browser processes; the
browser evaluation of a trained QWeb checkpoint (`teachgym eval --browser`).

Needs Chromium and chromedriver (Debian: `apt-get install chromium chromium-driver`;
scripts/test_python.sh installs them when it runs as root); skipped with a message otherwise.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import teachgym
from teachgym.browser import BrowserDivergence, WebFormBrowserEnv
from teachgym.webdriver import BrowserError, BrowserNotFound, find_binaries

try:
    find_binaries()
    NO_BROWSER = None
except BrowserNotFound as e:
    NO_BROWSER = str(e)

needs_browser = pytest.mark.skipif(
    NO_BROWSER is not None, reason=f"browser tests skipped: {NO_BROWSER}"
)

#: Small forms (fast pages), every widget kind likely, several pages, decoys.
CONFIG = {"max_fields": 5, "max_distractors": 6, "max_pages": 3}
#: widget_complexity 1: non-text widgets (costly ones first); cold_start 1: nothing pre-filled.
HARD = [1.0, 1.0, 0.6, 0.6, 0.3, 0.3, 0.3, 1.0, 1.0]
KINDS = {"text", "select", "radio", "checkbox", "autocomplete", "date"}


def processes_of(env: WebFormBrowserEnv) -> list[int]:
    """Live (non-zombie) processes of the env's browser."""
    return browser_processes(env.browser.process.pid, env.browser.workdir)


def browser_processes(pgid: int, workdir: str) -> list[int]:
    """Live (non-zombie) processes of a browser: its driver's process group, and anything
    started with its profile directory."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if state != "Z" and (group == pgid or workdir in cmdline):
            found.append(int(entry))
    return found


def oracle_kinds(sim, task, seed):
    """Kinds of the widgets the oracle fills on the form of (task, Rust seed), in the simulator."""
    sim.reset(options={"task": task, "rust_seed": seed})
    kinds, done = set(), False
    while not done:
        before = json.loads(sim._core.webform_state())["widgets"]
        _, _, terminated, truncated, _ = sim.step(sim._core.webform_oracle_action())
        after = json.loads(sim._core.webform_state())["widgets"]
        kinds |= {a["kind"] for a, b in zip(after, before) if a is not None and a != b}
        done = terminated or truncated
    return kinds


def pick_form(sim, rng, wanted):
    """A (task, Rust seed) whose oracle fills a widget of a kind in `wanted` (screened on the
    simulator `sim`, which generates the same form from them), else the last one drawn."""
    for _ in range(200):
        task = list(HARD)
        task[1] = rng.uniform(0.3, 0.8)
        seed = int(rng.integers(1 << 30))
        if not wanted or oracle_kinds(sim, task, seed) & wanted:
            break
    return task, seed


def run_episode(env, sim, rng, mode, stats):
    """One episode: `oracle` actions only, or `random` (mostly valid, some invalid, some
    oracle). The env itself checks the page against the simulator after every action."""
    core = env.unwrapped._core
    task, seed = pick_form(sim, rng, KINDS - stats["kinds"])
    obs, info = env.reset(options={"task": task, "rust_seed": seed})
    before = json.loads(core.webform_state())
    while True:
        if mode == "oracle" or rng.random() < 0.15:
            action = core.webform_oracle_action()
        elif rng.random() < 0.1:
            action = int(rng.integers(env.action_space.n))
        else:
            action = int(rng.choice(np.flatnonzero(obs["action_mask"])))
        obs, _, terminated, truncated, info = env.step(action)
        after = json.loads(core.webform_state())
        stats["steps"] += 1
        stats["invalid"] += info["invalid_action"]
        for b, a in zip(before["widgets"], after["widgets"]):
            if a is not None and a != b:
                stats["kinds"].add(a["kind"])
        if after["popup"] is not None:
            stats["popups"].add(after["popup"]["kind"])
        stats["marked"] += bool(after["invalid"])
        before = after
        if terminated or truncated:
            stats["ends"].add("success" if info["browser_success"] else ("failure" if terminated else "truncated"))
            return info


@needs_browser
@pytest.mark.parametrize("level", ["semantic", "widget"])
def test_the_page_equals_the_simulator_action_by_action(level):
    rng = np.random.default_rng(7)
    stats = {"steps": 0, "invalid": 0, "marked": 0, "kinds": set(), "popups": set(), "ends": set()}
    config = {**CONFIG, "interaction_level": level}
    env = gym.make("teachgym/WebFormBrowser-v0", config=config)
    sim = teachgym.WebFormEnv(config=config)
    try:
        started = time.monotonic()
        for _ in range(3):
            info = run_episode(env, sim, rng, "oracle", stats)
            assert info["browser_success"] and info["is_success"]
        for _ in range(5):
            run_episode(env, sim, rng, "random", stats)
        elapsed = time.monotonic() - started
    finally:
        env.close()
    print(f"{level}: {stats['steps']} steps in {elapsed:.1f} s, {stats}")
    assert stats["kinds"] == KINDS, f"widget kinds never changed: {KINDS - stats['kinds']}"
    assert stats["invalid"] > 0
    # Steps after a refused Next, with the page's validation marks compared too.
    assert stats["marked"] > 0
    assert {"success", "failure"} <= stats["ends"]
    if level == "widget":
        assert stats["popups"] == {"dropdown", "calendar", "suggestions"}


@needs_browser
def test_a_divergence_and_a_page_that_does_not_load_are_errors():
    env = WebFormBrowserEnv(config=CONFIG)
    try:
        env.reset(seed=1, options={"task": HARD})
        # The page changed behind the simulator's back: the next check fails.
        env.browser.execute("document.querySelectorAll('input[type=text]').forEach(function(e){e.value='zzz';});")
        obs_mask = env.unwrapped._core.webform_oracle_action()
        with pytest.raises(BrowserDivergence, match="differs from the simulator"):
            env.step(obs_mask)
        with pytest.raises(BrowserError, match="did not load"):
            env.page.show("<!DOCTYPE html><html><body>not a form</body></html>")
    finally:
        env.close()
    with pytest.raises(BrowserError, match="closed"):
        env.page.state()


@needs_browser
def test_a_crashed_browser_is_an_error():
    env = WebFormBrowserEnv(config=CONFIG)
    try:
        obs, _ = env.reset(seed=2, options={"task": HARD})
        for pid in processes_of(env):
            if pid != env.browser.process.pid:
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        with pytest.raises(BrowserError, match="crashed|closed|gone|not reachable"):
            env.step(int(np.flatnonzero(obs["action_mask"])[0]))
    finally:
        env.close()


def test_a_missing_browser_is_a_clear_error(tmp_path):
    with pytest.raises(BrowserNotFound, match="chromium-driver"):
        WebFormBrowserEnv(chromium=str(tmp_path / "no-chromium"))
    with pytest.raises(BrowserNotFound, match="chromedriver"):
        WebFormBrowserEnv(chromium=sys.executable, chromedriver=str(tmp_path / "no-driver"))


@needs_browser
def test_the_env_leaves_no_browser_process_on_close_or_collection():
    env = WebFormBrowserEnv(config=CONFIG)
    env.reset(seed=3)
    pids = processes_of(env)
    assert len(pids) >= 2, "chromedriver and Chromium should be running"
    probe = (env.browser.process.pid, env.browser.workdir)
    env.close()
    env.close()  # idempotent
    assert processes_of(env) == []
    assert not os.path.exists(probe[1])

    # Garbage collection (no close): the browser goes with the env.
    env = WebFormBrowserEnv(config=CONFIG)
    env.reset(seed=4)
    process, workdir = env.browser.process, env.browser.workdir
    assert browser_processes(process.pid, workdir)
    del env
    gc.collect()
    assert process.poll() is not None
    assert browser_processes(process.pid, workdir) == []
    assert not os.path.exists(workdir)


def binary() -> Path:
    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("TEACHGYM_BIN", root / "target" / "debug" / "teachgym"))
    if not path.exists():
        pytest.skip(f"no teachgym binary at {path}: run `cargo build --bin teachgym` or set TEACHGYM_BIN")
    return path


@needs_browser
def test_eval_in_the_browser_reports_the_simulators_success(tmp_path):
    """`teachgym eval --browser` on a briefly trained QWeb checkpoint: the same success in the
    browser as `teachgym eval` in the simulator, on the same test set."""
    bin_path = binary()
    tasks = tmp_path / "tests.csv"
    names = list(teachgym.WebFormEnv(config={"max_fields": 3}).task_space.names)
    rows = [
        [0.0] * 8 + [1.0],
        [0.3] + [0.0] * 7 + [1.0],
        [0.5, 0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0],
        [0.0, 1.0] + [0.0] * 6 + [1.0],
    ]
    tasks.write_text(",".join(names) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    config = tmp_path / "run.toml"
    config.write_text(
        f'env = "webform"\nstudent = "dqn"\nteacher = "random"\ntest_set = "{tasks}"\n'
        "[webform]\nmax_fields = 3\nmax_distractors = 2\nmax_pages = 2\nmax_elements = 64\n"
    )
    out = tmp_path / "run"
    subprocess.run([bin_path, "train", "--config", config, "--out", out, "--quiet", "--steps", "1024", "--eval-every", "1024", "--num-envs", "2"], check=True, capture_output=True)
    checkpoint = out / "checkpoint.json"
    sim = subprocess.run([bin_path, "eval", "--checkpoint", checkpoint], check=True, capture_output=True, text=True)
    sim_summary = json.loads(sim.stdout)
    env = dict(os.environ, TEACHGYM_PYTHON=sys.executable)
    run = subprocess.run(
        [bin_path, "eval", "--browser", "--checkpoint", checkpoint], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["test_tasks"] == sim_summary["test_tasks"] == len(rows)
    assert summary["divergences"] == []
    assert summary["browser_success_percent"] == summary["simulator_success_percent"]
    assert summary["simulator_success_percent"] == pytest.approx(sim_summary["mastered_percent"], abs=0.01)
    assert summary["mean_return"] == pytest.approx(sim_summary["mean_return"], abs=1e-3)
