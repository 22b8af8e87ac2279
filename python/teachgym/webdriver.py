"""A minimal W3C WebDriver client for headless Chromium, on the standard library alone.

teachgym drives Chromium through ``chromedriver`` (Debian: ``apt-get install chromium
chromium-driver``) with the handful of WebDriver commands its browser env needs: open a page,
run a script, click an element, type into it. Plain HTTP and JSON through :mod:`urllib`, so the
browser env and its tests need no Python package beyond the standard library.

:class:`Chromium` starts ``chromedriver`` in a process group of its own, opens a session (which
starts Chromium, headless, with a throw-away profile) and, on :meth:`Chromium.close`, on garbage
collection or at interpreter exit, ends the session and kills the whole group, so no browser
process outlives it. Failures are :class:`BrowserError`: :class:`BrowserNotFound` when no
Chromium or chromedriver is installed, and a crashed or vanished browser names itself as such.

Binaries: ``TEACHGYM_CHROMIUM`` / ``TEACHGYM_CHROMEDRIVER``, else ``chromium`` (or
``chromium-browser``, ``google-chrome``) and ``chromedriver`` on ``PATH``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from typing import Any

__all__ = ["BrowserError", "BrowserNotFound", "Chromium", "find_binaries"]

#: The key under which WebDriver passes element references (W3C).
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
#: The WebDriver key code of Control and the null key (releases modifiers).
CONTROL, NULL_KEY = "\ue009", "\ue000"


class BrowserError(RuntimeError):
    """The browser could not be started, crashed, or did not do what was asked."""


class BrowserNotFound(BrowserError):
    """No Chromium or no chromedriver is installed (or the configured path does not exist)."""


def find_binaries(chromium: str | None = None, chromedriver: str | None = None) -> tuple[str, str]:
    """Paths of Chromium and chromedriver: the arguments, else ``TEACHGYM_CHROMIUM`` /
    ``TEACHGYM_CHROMEDRIVER``, else the usual names on ``PATH``; :class:`BrowserNotFound`
    otherwise."""
    hint = (
        "install them (Debian/Ubuntu: `apt-get install chromium chromium-driver`) or set "
        "TEACHGYM_CHROMIUM and TEACHGYM_CHROMEDRIVER"
    )

    def find(given: str | None, variable: str, names: tuple[str, ...], what: str) -> str:
        given = given or os.environ.get(variable)
        if given:
            path = shutil.which(given)
            if path is None:
                raise BrowserNotFound(f"{what} `{given}` does not exist or is not executable; {hint}")
            return path
        for name in names:
            path = shutil.which(name)
            if path is not None:
                return path
        raise BrowserNotFound(f"no {what} found on PATH (looked for {', '.join(names)}); {hint}")

    return (
        find(chromium, "TEACHGYM_CHROMIUM", ("chromium", "chromium-browser", "google-chrome"), "Chromium"),
        find(chromedriver, "TEACHGYM_CHROMEDRIVER", ("chromedriver",), "chromedriver"),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shutdown(process: subprocess.Popen[bytes], session_url: str | None, profile: str) -> None:
    """Ends the session (Chromium quits), then the driver's whole process group; removes the
    profile. Safe to call twice; used by ``close`` and by the finalizer."""
    if session_url is not None and process.poll() is None:
        try:
            request = urllib.request.Request(session_url, method="DELETE")
            urllib.request.urlopen(request, timeout=5).read()
        except (OSError, urllib.error.URLError):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait()
    # Chromium's own children leave the group last; wait until none is left alive (bounded;
    # zombies waiting for their new parent to reap them are gone already).
    deadline = time.monotonic() + 3
    while _live_members(process.pid) and time.monotonic() < deadline:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
        time.sleep(0.02)
    shutil.rmtree(profile, ignore_errors=True)


def _live_members(pgid: int) -> bool:
    """Whether process group ``pgid`` has a member that is not a zombie (Linux's /proc; elsewhere
    whether the group exists at all)."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


class Chromium:
    """One headless Chromium behind chromedriver, with one WebDriver session.

    ``timeout``: seconds to wait for the driver to start and for each command."""

    def __init__(
        self,
        chromium: str | None = None,
        chromedriver: str | None = None,
        *,
        timeout: float = 30.0,
        window: tuple[int, int] = (1200, 2400),
    ) -> None:
        self.chromium, self.chromedriver = find_binaries(chromium, chromedriver)
        self.timeout = timeout
        #: A directory of this browser's own (the profile, and the pages it shows); removed on close.
        self.workdir = tempfile.mkdtemp(prefix="teachgym-chromium-")
        port = _free_port()
        self._base = f"http://127.0.0.1:{port}"
        self._session: str | None = None
        self.process = subprocess.Popen(
            [self.chromedriver, f"--port={port}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._finalizer = weakref.finalize(self, _shutdown, self.process, None, self.workdir)
        try:
            self._wait_ready()
            args = [
                "--headless=new",
                "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                f"--window-size={window[0]},{window[1]}",
                f"--user-data-dir={os.path.join(self.workdir, 'profile')}",
            ]
            capabilities = {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": self.chromium, "args": args},
                }
            }
            value = self._command("POST", "/session", {"capabilities": capabilities}, what="start Chromium")
            self._session = value["sessionId"]
        except BaseException:
            self.close()
            raise
        self._finalizer.detach()
        self._finalizer = weakref.finalize(
            self, _shutdown, self.process, f"{self._base}/session/{self._session}", self.workdir
        )

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Quits Chromium and the driver (idempotent)."""
        self._finalizer()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            if self.process.poll() is not None:
                raise BrowserError(
                    f"chromedriver ({self.chromedriver}) exited with status {self.process.returncode} at start"
                )
            try:
                with urllib.request.urlopen(f"{self._base}/status", timeout=1) as r:
                    if json.load(r)["value"].get("ready"):
                        return
            except (OSError, urllib.error.URLError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise BrowserError(f"chromedriver did not answer within {self.timeout} s")
            time.sleep(0.02)

    # -- commands ---------------------------------------------------------------------------
    def _command(self, method: str, path: str, body: Any = None, *, what: str) -> Any:
        if self.closed:
            raise BrowserError(f"cannot {what}: the browser is closed")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self._base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            try:
                error = json.load(e)["value"]
                message = f"{error.get('error')}: {error.get('message', '').splitlines()[0]}"
            except (ValueError, KeyError, TypeError, IndexError):
                message = f"HTTP {e.code}"
            if any(s in message for s in ("invalid session id", "not reachable", "crash", "disconnected")):
                raise BrowserError(f"cannot {what}: the browser crashed or was closed ({message})") from None
            raise BrowserError(f"cannot {what}: {message}") from None
        except (OSError, urllib.error.URLError) as e:
            state = "has exited" if self.process.poll() is not None else "does not answer"
            raise BrowserError(f"cannot {what}: the browser driver {state} ({e})") from None

    def _session_command(self, method: str, path: str, body: Any = None, *, what: str) -> Any:
        return self._command(method, f"/session/{self._session}{path}", body, what=what)

    def open(self, url: str) -> None:
        """Navigates to ``url`` and waits for the page to load."""
        self._session_command("POST", "/url", {"url": url}, what=f"open {url}")

    def execute(self, script: str, *args: Any) -> Any:
        """Runs ``script`` (a function body; ``arguments`` holds ``args``) and returns its value;
        elements come back as references that :meth:`click` and :meth:`type` take."""
        return self._session_command("POST", "/execute/sync", {"script": script, "args": list(args)}, what="run a script")

    def click(self, element: dict[str, str]) -> None:
        """A real mouse click at the element's centre (scrolled into view)."""
        self._session_command("POST", f"/element/{element[ELEMENT_KEY]}/click", {}, what="click an element")

    def type(self, element: dict[str, str], text: str) -> None:
        """Key presses into the element: select all (Control+A), then ``text``, so the text
        replaces the content, as a person retyping a field would."""
        keys = CONTROL + "a" + NULL_KEY + text
        self._session_command("POST", f"/element/{element[ELEMENT_KEY]}/value", {"text": keys}, what="type into an element")
