"""The web forms in a real browser: ``teachgym/WebFormBrowser-v0`` and the browser evaluation.

Every web form renders as a working HTML page (``RustEnv.webform_html``: a small inline script
implements the widgets, pages and Submit as the simulator defines them, and ``window.teachgym``
reads the page's state back). :class:`FormPage` shows such a page in headless Chromium
(:mod:`teachgym.webdriver`) and performs the env's actions on it as a person would: ``Click(slot)``
is a real mouse click on the element behind the slot, ``Type(slot, field)`` a click into it, then
Control+A and the field's value typed key by key. An action the page's element does not take
(a click on a label, typing into a button, a slot with no element) does nothing, as in the
simulator, where it is an invalid action.

:class:`WebFormBrowserEnv` (``teachgym/WebFormBrowser-v0``) has the same observation and action
spaces as ``teachgym/WebForm-v0`` and acts on the page. The Rust simulator runs in lock-step:
it encodes the observations and computes the rewards, and after every action the page's state
(every widget's value, the page shown, the open pop-up, the widgets marked invalid after a
refused Next, the verdict of a submission, whether the action was taken) is read back and must
equal the simulator's, else :class:`BrowserDivergence`.
So a policy stepping this env sees exactly what the page shows; ``info["browser_success"]`` is
the page's own verdict.

``python -m teachgym.browser eval CHECKPOINT`` (what ``teachgym eval --browser`` runs) replays a
trained QWeb student's greedy policy on its test set in Chromium and reports the success rate in
the browser beside the simulator's.

Needs Chromium and chromedriver (Debian: ``apt-get install chromium chromium-driver``); without
them constructing the env raises :class:`~teachgym.webdriver.BrowserNotFound`. The env closes its
browser on :meth:`~WebFormBrowserEnv.close`, when it is garbage-collected, and at exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, SupportsFloat

from .envs import WebFormEnv
from .webdriver import BrowserError, BrowserNotFound, Chromium

__all__ = [
    "BrowserDivergence",
    "BrowserError",
    "BrowserNotFound",
    "FormPage",
    "WebFormBrowserEnv",
    "compare_states",
    "evaluate_checkpoint",
]


class BrowserDivergence(BrowserError):
    """The page's state after an action differs from the simulator's."""


class FormPage:
    """A teachgym form page shown in a :class:`~teachgym.webdriver.Chromium`."""

    def __init__(self, browser: Chromium) -> None:
        self.browser = browser
        self._path = os.path.join(browser.workdir, "form.html")

    def show(self, html: str) -> None:
        """Loads the page ``html``; :class:`BrowserError` if it does not come up with its script."""
        with open(self._path, "w", encoding="utf-8") as f:
            f.write(html)
        self.browser.open("file://" + self._path)
        ready = self.browser.execute("return !!(window.teachgym && window.teachgym.ready);")
        if ready is not True:
            raise BrowserError(
                "the form page did not load: window.teachgym is missing after loading "
                f"{self._path} (not a teachgym form page, or its script failed)"
            )

    def act(self, slot: int, field: int | None) -> bool:
        """``Click(slot)`` (``field`` None) or ``Type(slot, field)`` on the page; whether the
        page's element took the action (False: nothing was done, an invalid action)."""
        element, clickable, typable, text = self.browser.execute(
            "var t = window.teachgym;"
            "return t.locate(arguments[0]).concat([t.fieldText(arguments[1])]);",
            slot,
            -1 if field is None else field,
        )
        if element is None:
            return False
        if field is None:
            if not clickable:
                return False
            self.browser.click(element)
            return True
        if not typable or text is None:
            return False
        self.browser.click(element)
        self.browser.type(element, text)
        return True

    def state(self) -> dict[str, Any]:
        """``{"page", "popup", "widgets", "ended"}`` as the page reports it (``ended``: None,
        ``"success"`` or ``"failure"``)."""
        state = self.browser.execute("return window.teachgym ? window.teachgym.state() : null;")
        if state is None:
            raise BrowserError("the form page is gone (window.teachgym is missing): did it navigate away?")
        return state


def compare_states(simulator: dict[str, Any], page: dict[str, Any]) -> str | None:
    """The first difference between the simulator's page state (``RustEnv.webform_state``) and
    the page's (``FormPage.state`` without ``ended``), or None."""
    for key in ("page", "popup", "invalid"):
        if simulator[key] != page[key]:
            return f"{key}: simulator {simulator[key]!r}, page {page[key]!r}"
    for w, (s, p) in enumerate(zip(simulator["widgets"], page["widgets"])):
        if s != p:
            return f"widget {w}: simulator {s!r}, page {p!r}"
    if len(simulator["widgets"]) != len(page["widgets"]):
        return f"{len(simulator['widgets'])} widgets in the simulator, {len(page['widgets'])} on the page"
    return None


class WebFormBrowserEnv(WebFormEnv):  # type: ignore[valid-type,misc]
    """``teachgym/WebForm-v0`` acted out on a real page in headless Chromium (see the module
    docs). Keywords: those of ``WebFormEnv`` (``config``, ``task``, ``teacher``, ...), and
    ``chromium`` / ``chromedriver`` (paths; default: ``TEACHGYM_CHROMIUM`` /
    ``TEACHGYM_CHROMEDRIVER``, else ``PATH``) and ``timeout`` (seconds per browser command).

    ``info`` holds the simulator's keys and ``browser_success`` (bool: the page's verdict is a
    correct submission)."""

    def __init__(
        self,
        *,
        chromium: str | None = None,
        chromedriver: str | None = None,
        timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.browser = Chromium(chromium, chromedriver, timeout=timeout)
        self.page = FormPage(self.browser)
        self._step_count = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        self.page.show(self._core.webform_html())
        self._step_count = 0
        info["browser_success"] = self._check(info, taken=None, terminated=False)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self._running:
            # Before a reset or after the end: the simulator's error.
            return super().step(action)
        a = self._checked_action(action)
        slot, field = self._core.webform_decode(a)
        taken = self.page.act(slot, field)
        obs, reward, terminated, truncated, info = super().step(a)
        self._step_count += 1
        info["browser_success"] = self._check(info, taken=taken, terminated=terminated)
        return obs, reward, terminated, truncated, info

    def _check(self, info: dict[str, Any], *, taken: bool | None, terminated: bool) -> bool:
        """Raises :class:`BrowserDivergence` unless the page agrees with the simulator; returns
        whether the page's verdict is a success."""
        page = self.page.state()
        where = f"after step {self._step_count}" if taken is not None else "at reset"
        difference = compare_states(json.loads(self._core.webform_state()), page)
        expected_end = ("success" if info["success"] else "failure") if terminated else None
        if difference is None and page["ended"] != expected_end:
            difference = f"verdict: simulator {expected_end!r}, page {page['ended']!r}"
        if difference is None and taken is not None and taken == info["invalid_action"]:
            difference = f"the page {'took' if taken else 'refused'} an action the simulator found {'invalid' if taken else 'valid'}"
        if difference is not None:
            raise BrowserDivergence(f"the page differs from the simulator {where}: {difference}")
        return page["ended"] == "success"

    def close(self) -> None:
        """Quits the browser (Chromium and chromedriver)."""
        browser = getattr(self, "browser", None)
        if browser is not None:
            browser.close()
        super().close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a WebFormBrowserEnv holds a running browser and cannot be pickled")


def evaluate_checkpoint(
    checkpoint: str,
    test_set: str | None = None,
    *,
    max_tasks: int | None = None,
    chromium: str | None = None,
    chromedriver: str | None = None,
) -> dict[str, Any]:
    """Plays a QWeb checkpoint's greedy policy on its test set (as ``teachgym eval``: task
    ``j`` with reset seed ``eval_seed + j``) in Chromium; returns the success rates in the
    browser and in the simulator, the mean return and any divergences."""
    from ._teachgym import QwebPolicy

    policy = QwebPolicy(checkpoint, test_set)
    tasks = policy.tasks if max_tasks is None else policy.tasks[:max_tasks]
    env = WebFormBrowserEnv(config=json.loads(policy.env_config_json), chromium=chromium, chromedriver=chromedriver)
    browser_successes = simulator_successes = 0
    returns = []
    divergences = []
    try:
        for j, task in enumerate(tasks):
            seed = policy.eval_seed + j
            try:
                env.reset(options={"task": task, "rust_seed": seed})
                while True:
                    action = policy.act(env._core)
                    _, _, terminated, truncated, info = env.step(action)
                    if terminated or truncated:
                        break
            except BrowserDivergence as e:
                divergences.append({"task": j, "message": str(e)})
                env._running = False
                continue
            browser_successes += bool(info["browser_success"])
            simulator_successes += bool(info["is_success"])
            returns.append(float(info["episode_return"]))
    finally:
        env.close()
    n = len(tasks)
    return {
        "global_step": policy.global_step,
        "test_tasks": n,
        "browser_success_percent": 100.0 * browser_successes / n,
        "simulator_success_percent": 100.0 * simulator_successes / n,
        "mean_return": sum(returns) / len(returns) if returns else float("nan"),
        "divergences": divergences,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m teachgym.browser", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ev = commands.add_parser("eval", help="replay a QWeb checkpoint's greedy policy on its test set in Chromium")
    ev.add_argument("checkpoint", help="a run's checkpoint.json (student dqn with [qweb], env webform/webform_md)")
    ev.add_argument("--test-set", help="test set CSV (default: the run's test_set.csv, as teachgym eval)")
    ev.add_argument("--max-tasks", type=int, help="only the first N test tasks")
    ev.add_argument("--chromium", help="Chromium binary (default: TEACHGYM_CHROMIUM, else PATH)")
    ev.add_argument("--chromedriver", help="chromedriver binary (default: TEACHGYM_CHROMEDRIVER, else PATH)")
    args = parser.parse_args(argv)
    try:
        result = evaluate_checkpoint(
            args.checkpoint,
            args.test_set,
            max_tasks=args.max_tasks,
            chromium=args.chromium,
            chromedriver=args.chromedriver,
        )
    except (BrowserError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    agree = not result["divergences"] and result["browser_success_percent"] == result["simulator_success_percent"]
    if not agree:
        print("error: the browser and the simulator disagree (see divergences)", file=sys.stderr)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
