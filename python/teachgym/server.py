"""One teacher for many worker processes.

Subprocess vector envs (gymnasium's ``AsyncVectorEnv``, SB3's ``SubprocVecEnv``) pickle their
envs into worker processes, so a teacher passed to the envs would be copied, one curriculum per
worker. :class:`TeacherServer` keeps the one teacher in one process and serves it over a Unix
socket (``multiprocessing.connection``, authenticated by a random token); every worker gets a
:class:`TeacherClient`, which pickles as the server's address and token and offers the teacher's
methods (``sample_task``, ``update``, ``state_dict``, ...), so it is passed wherever a teacher
goes (``teacher=`` of the envs, :class:`teachgym.Curriculum`)::

    from teachgym.server import TeacherServer

    with TeacherServer.spawn(ALPGMM(space, seed=0)) as server:   # the teacher in its own process
        client = server.client()
        envs = gym.vector.AsyncVectorEnv(
            [lambda: gym.make("teachgym/StumpTracks-v0", teacher=client) for _ in range(4)]
        )
        ...
        checkpoint = client.state_dict()

The server runs one call at a time, in the order the calls arrive, so the teacher makes the
decisions an in-process teacher would make when fed the same calls in that order. It keeps that
order: :meth:`TeacherServer.log` lists every call that changes the teacher (``sample_task``,
``update``, ``update_from_info``, ``record_value_estimate``, ``load_state_dict``) with its
arguments and result, and :func:`replay` feeds a log to an in-process teacher (the same
constructor, the same seed) to reproduce the run, e.g. to debug one decision.

A client whose server has stopped or died raises :class:`TeacherServerGone` (a
``ConnectionError``); a wrong token raises :class:`TeacherServerAuthError`. Ray users:
:mod:`teachgym.ray_teacher` serves the teacher from a Ray actor with the same client interface.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterable, Mapping
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, NamedTuple

import numpy as np

from .tasks import _accepts_length

__all__ = [
    "TeacherServer",
    "TeacherServerProcess",
    "TeacherClient",
    "TeacherServerGone",
    "TeacherServerAuthError",
    "LoggedCall",
    "replay",
]

#: Teacher methods that change its future decisions: the server logs them.
LOGGED_METHODS = frozenset({"sample_task", "update", "update_from_info", "record_value_estimate", "load_state_dict"})


class TeacherServerGone(ConnectionError):
    """The teacher server a client talks to has stopped or died."""


class TeacherServerAuthError(ConnectionError):
    """The teacher server refused the client's token."""


class LoggedCall(NamedTuple):
    """One call the served teacher ran, in the order it ran them."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any


class TeacherHost:
    """The one teacher and what serves it: runs calls one at a time (a lock), logs those that
    change the teacher. Shared by :class:`TeacherServer` and the Ray actor."""

    def __init__(self, teacher: Any, keep_log: bool = True) -> None:
        if not (callable(getattr(teacher, "sample_task", None)) and callable(getattr(teacher, "update", None))):
            raise TypeError(f"a teacher needs sample_task() and update(task, episode_return, success); got {teacher!r}")
        self.teacher = teacher
        self.keep_log = bool(keep_log)
        self._log: list[LoggedCall] = []
        self._lock = threading.Lock()
        self._update_takes_length = _accepts_length(teacher.update)

    def handle(self, request: Any) -> tuple[bool, Any]:
        """``(True, result)`` or ``(False, exception)`` for one request (see :meth:`_run`)."""
        try:
            return True, self._run(request)
        except Exception as e:  # the client re-raises it
            return False, e

    def _run(self, request: Any) -> Any:
        if not (isinstance(request, tuple) and len(request) == 4):
            raise ValueError(f"malformed request {request!r}")
        op, name, args, kwargs = request
        if op == "log":
            with self._lock:
                return list(self._log)
        if op == "ping":
            return "pong"
        if not isinstance(name, str) or name.startswith("_"):
            raise AttributeError(f"{name!r} is not a public attribute of the teacher")
        if op == "getattr":
            return getattr(self.teacher, name, *args)
        if op != "call":
            raise ValueError(f"unknown request {op!r}")
        method = getattr(self.teacher, name, None)
        if not callable(method):
            raise AttributeError(f"the served teacher {type(self.teacher).__name__} has no method {name!r}")
        if name == "update" and "length" in kwargs and not self._update_takes_length:
            # A teacher whose update(task, episode_return, success) takes no length.
            kwargs = {k: v for k, v in kwargs.items() if k != "length"}
        with self._lock:
            result = method(*args, **kwargs)
            if self.keep_log and name in LOGGED_METHODS:
                self._log.append(LoggedCall(name, tuple(args), dict(kwargs), result))
        return result


def replay(log: Iterable[LoggedCall], teacher: Any, *, check: bool = False) -> list[Any]:
    """Feeds the calls of a server's :meth:`~TeacherServer.log` to ``teacher`` (built as the
    served one was: same class, configuration and seed) in their order; returns the results.
    The teacher ends in the served teacher's state. ``check``: ``ValueError`` at the first call
    whose result differs from the logged one."""
    results = []
    accepts_length = _accepts_length(teacher.update)
    for k, call in enumerate(log):
        kwargs = call.kwargs
        if call.method == "update" and "length" in kwargs and not accepts_length:
            kwargs = {key: v for key, v in kwargs.items() if key != "length"}
        result = getattr(teacher, call.method)(*call.args, **kwargs)
        if check and not _same(result, call.result):
            raise ValueError(
                f"call {k} ({call.method}): the served teacher returned {call.result!r}, this one {result!r}"
            )
        results.append(result)
    return results


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    return bool(a == b)


class _RemoteTeacher:
    """The teacher interface over a request function (:meth:`_request`); the client classes
    implement the transport."""

    _task_space: Any = None
    _discount: Any = None

    def _request(self, op: str, name: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Calls ``method`` of the served teacher (any public method) and returns its result."""
        return self._request("call", method, args, kwargs)

    def sample_task(self) -> np.ndarray:
        """The task of the next episode, chosen by the served teacher."""
        return self._request("call", "sample_task", (), {})

    def update(self, task: Any, episode_return: float, success: bool, length: int = 0) -> None:
        """Hands the served teacher an episode's outcome (see :meth:`teachgym.teachers.Teacher.update`)."""
        args = (np.array(task, dtype=np.float64), _real(episode_return), _flag(success))
        self._request("call", "update", args, {"length": _count(length)})

    def update_from_info(self, task: Any, info: Mapping[str, Any]) -> None:
        """:meth:`teachgym.teachers.Teacher.update_from_info` of the served teacher."""
        self._request("call", "update_from_info", (np.array(task, dtype=np.float64), dict(info)), {})

    def record_value_estimate(self, task: Any, initial_value: float, discounted_return: float) -> None:
        """:meth:`teachgym.teachers.Teacher.record_value_estimate` of the served teacher."""
        args = (np.array(task, dtype=np.float64), _real(initial_value), _real(discounted_return))
        self._request("call", "record_value_estimate", args, {})

    def non_exploratory_samples(self, n: int) -> np.ndarray | None:
        return self._request("call", "non_exploratory_samples", (n,), {})

    def state_dict(self) -> dict[str, Any]:
        """The served teacher's checkpoint."""
        return self._request("call", "state_dict", (), {})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores the served teacher from a checkpoint."""
        self._request("call", "load_state_dict", (state,), {})

    @property
    def task_space(self) -> Any:
        """The served teacher's task space (``None`` if it has none); fetched once."""
        if self._task_space is None:
            self._task_space = self._request("getattr", "task_space", (None,), {})
        return self._task_space

    @property
    def name(self) -> str:
        return self._request("getattr", "name", (type(self).__name__,), {})

    @property
    def value_estimate_discount(self) -> float | None:
        """The served teacher's ``value_estimate_discount`` (``None``: it learns from none)."""
        if self._discount is None:
            self._discount = (self._request("getattr", "value_estimate_discount", (None,), {}),)
        return self._discount[0]

    def log(self) -> list[LoggedCall]:
        """The calls the served teacher has run that change it, in order (see :func:`replay`)."""
        return self._request("log", None, (), {})


def _real(x: Any) -> float:
    if isinstance(x, np.ndarray) and x.size == 1:
        x = x.reshape(()).item()
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"expected a real number, got {x!r}")
    return float(x)


def _flag(x: Any) -> bool:
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"success must be a bool, got {x!r}")
    return bool(x)


def _count(x: Any) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"length must be an int, got {x!r}")
    return int(x)


class TeacherClient(_RemoteTeacher):
    """A teacher served by a :class:`TeacherServer`, used like the teacher itself.

    Picklable: a copy (in a worker process) opens its own connection on first use. Thread-safe
    within a process. ``timeout``: seconds to wait for an answer (``None``: as long as it
    takes; a teacher refit can take a while); past it, ``TimeoutError``."""

    def __init__(self, address: str, token: bytes, *, timeout: float | None = None) -> None:
        if not isinstance(address, str):
            raise TypeError(f"address must be the server's socket path (a str), got {address!r}")
        if not isinstance(token, bytes):
            raise TypeError(f"token must be the server's token (bytes), got {type(token).__name__}")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        self.address = address
        self._token = token
        self.timeout = timeout
        self._conn: Connection | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def _connection(self) -> Connection:
        if self._conn is not None:
            return self._conn
        try:
            self._conn = Client(self.address, family="AF_UNIX", authkey=self._token)
        except multiprocessing.AuthenticationError as e:
            raise TeacherServerAuthError(
                f"the teacher server at {self.address} refused the token: pass the token of that "
                "server (server.token, or use server.client())"
            ) from e
        except (FileNotFoundError, ConnectionRefusedError, EOFError, OSError) as e:
            raise self._gone(e, sent=False) from e
        return self._conn

    def _gone(self, cause: BaseException, *, sent: bool) -> TeacherServerGone:
        self._conn = None
        what = (
            "its last call may or may not have reached the teacher"
            if sent
            else "no call reached it"
        )
        return TeacherServerGone(
            f"the teacher server at {self.address} is gone ({type(cause).__name__}: {cause}); {what}. "
            "The teacher's state since its last saved checkpoint (client.state_dict()) is lost: "
            "start a new server, from that checkpoint, and hand its client to the envs"
        )

    def _request(self, op: str, name: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._pid != os.getpid():
            # A forked copy: the parent's connection (and the state of its lock) are not ours.
            self._pid, self._conn, self._lock = os.getpid(), None, threading.Lock()
        with self._lock:
            conn = self._connection()
            try:
                conn.send((op, name, args, kwargs))
            except (OSError, EOFError) as e:
                raise self._gone(e, sent=False) from e
            try:
                if self.timeout is not None and not conn.poll(self.timeout):
                    # The answer would come to the next call: this connection is done.
                    self._conn = None
                    conn.close()
                    raise TimeoutError(
                        f"the teacher server at {self.address} did not answer {name or op} within "
                        f"{self.timeout} s (the call may still run there)"
                    )
                ok, result = conn.recv()
            except (OSError, EOFError) as e:
                raise self._gone(e, sent=True) from e
        if not ok:
            raise result
        return result

    def close(self) -> None:
        """Closes this process's connection (the next call reopens one)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address, "token": self._token, "timeout": self.timeout, "task_space": self._task_space}

    def __setstate__(self, state: dict[str, Any]) -> None:
        TeacherClient.__init__(self, state["address"], state["token"], timeout=state["timeout"])
        self._task_space = state["task_space"]

    def __repr__(self) -> str:
        return f"TeacherClient({self.address!r})"


def _reply(conn: Connection, reply: tuple[bool, Any]) -> None:
    try:
        conn.send(reply)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        # An exception or result that does not pickle: its description instead.
        conn.send((False, RuntimeError(f"the served teacher's answer does not pickle ({e}): {reply[1]!r}")))


class TeacherServer:
    """Serves ``teacher`` over a Unix socket to :class:`TeacherClient` s (see the module docs).

    ``address``: the socket path (default: a fresh private directory); ``token``: the
    authentication key (default: 32 random bytes); ``keep_log``: keep the call log of
    :meth:`log` (it grows by one entry per ``sample_task``/``update``).

    :meth:`start` serves from a background thread of this process; :meth:`spawn` starts the
    server in a process of its own (the usual case: the teacher's work then runs beside the
    training, not under its GIL)."""

    def __init__(
        self, teacher: Any, *, address: str | None = None, token: bytes | None = None, keep_log: bool = True
    ) -> None:
        self._host = TeacherHost(teacher, keep_log)
        self._dir: str | None = None
        if address is None:
            self._dir = tempfile.mkdtemp(prefix="teachgym-teacher-")  # mode 0700: this user only
            address = os.path.join(self._dir, "teacher.sock")
        if token is None:
            token = secrets.token_bytes(32)
        elif not isinstance(token, bytes) or not token:
            raise TypeError("token must be non-empty bytes")
        #: The authentication key clients need.
        self.token: bytes = token
        self._listener = Listener(address, family="AF_UNIX", authkey=token)
        #: The socket path clients connect to.
        self.address: str = str(self._listener.address)
        self._stopping = threading.Event()
        self._connections: set[Connection] = set()
        self._threads: list[threading.Thread] = []
        self._mutex = threading.Lock()

    @property
    def teacher(self) -> Any:
        """The served teacher (in this process)."""
        return self._host.teacher

    def client(self, *, timeout: float | None = None) -> TeacherClient:
        """A client of this server (picklable: hand it to worker processes)."""
        return TeacherClient(self.address, self.token, timeout=timeout)

    def log(self) -> list[LoggedCall]:
        """The teacher-changing calls run so far, in order (see :func:`replay`)."""
        return self._host.handle(("log", None, (), {}))[1]

    def start(self) -> TeacherServer:
        """Serves from a background thread; returns ``self``."""
        thread = threading.Thread(target=self.serve_forever, name="teachgym-teacher-server", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        """Accepts clients until :meth:`stop` (each client is served by its own thread; the
        teacher runs one call at a time)."""
        while not self._stopping.is_set():
            try:
                conn = self._listener.accept()
            except (multiprocessing.AuthenticationError, EOFError, ConnectionError):
                continue  # a client with a wrong token (told so), one that went away, stop()'s wake-up
            except OSError:
                if self._stopping.is_set():
                    break
                raise
            if self._stopping.is_set():
                conn.close()
                break
            with self._mutex:
                self._connections.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), name="teachgym-teacher-client", daemon=True)
            thread.start()

    def _serve(self, conn: Connection) -> None:
        try:
            while True:
                try:
                    request = conn.recv()
                except (EOFError, OSError):
                    break
                except Exception as e:  # a request that does not unpickle here
                    _reply(conn, (False, ValueError(f"request could not be read: {e}")))
                    continue
                if isinstance(request, tuple) and request[:1] == ("shutdown",):
                    _reply(conn, (True, None))
                    threading.Thread(target=self.stop, daemon=True).start()
                    break
                try:
                    _reply(conn, self._host.handle(request))
                except (EOFError, OSError):
                    break
        finally:
            with self._mutex:
                self._connections.discard(conn)
            conn.close()

    def stop(self) -> None:
        """Stops serving: open connections are closed (their clients then raise
        :class:`TeacherServerGone`) and the socket is removed."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        # Wake a thread blocked in accept() with a connection that closes at once (a raw
        # socket: connecting never waits for the handshake).
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wake:
                wake.connect(self.address)
        except OSError:
            pass
        self._listener.close()
        with self._mutex:
            connections = list(self._connections)
        for conn in connections:
            _shutdown(conn)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> TeacherServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @staticmethod
    def spawn(
        teacher: Any,
        *,
        keep_log: bool = True,
        start_method: str = "spawn",
        start_timeout: float = 60.0,
    ) -> TeacherServerProcess:
        """Starts a server for ``teacher`` (pickled into it) in a new process and returns its
        handle once it accepts clients. ``start_method``: the ``multiprocessing`` start method
        (``"spawn"`` is safe with threads and torch; ``"fork"`` starts faster)."""
        return TeacherServerProcess(teacher, keep_log=keep_log, start_method=start_method, start_timeout=start_timeout)

    def __repr__(self) -> str:
        return f"TeacherServer({self.teacher!r}, address={self.address!r})"


def _shutdown(conn: Connection) -> None:
    """Ends ``conn`` so that a thread blocked reading it wakes (closing alone would not)."""
    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


def _serve_in_child(teacher: Any, address: str, token: bytes, keep_log: bool, ready: Connection) -> None:
    try:
        server = TeacherServer(teacher, address=address, token=token, keep_log=keep_log)
    except BaseException as e:
        ready.send((False, repr(e)))
        raise
    ready.send((True, None))
    ready.close()
    server.serve_forever()


class TeacherServerProcess:
    """A :class:`TeacherServer` running in a child process (from :meth:`TeacherServer.spawn`).
    Stop it with :meth:`stop` or a ``with`` block."""

    def __init__(self, teacher: Any, *, keep_log: bool, start_method: str, start_timeout: float) -> None:
        TeacherHost(teacher)  # the same TypeError here as in the child
        ctx: Any = multiprocessing.get_context(start_method)
        self._dir = tempfile.mkdtemp(prefix="teachgym-teacher-")
        #: The socket path clients connect to.
        self.address: str = os.path.join(self._dir, "teacher.sock")
        #: The authentication key clients need.
        self.token: bytes = secrets.token_bytes(32)
        parent, child = ctx.Pipe(duplex=False)
        #: The server's process.
        self.process = ctx.Process(
            target=_serve_in_child,
            args=(teacher, self.address, self.token, keep_log, child),
            name="teachgym-teacher-server",
            daemon=True,
        )
        self.process.start()
        child.close()
        try:
            if not parent.poll(start_timeout):
                raise TimeoutError(f"the teacher server did not start within {start_timeout} s")
            ok, error = parent.recv()
        except EOFError:
            ok, error = False, f"it exited with code {self.process.exitcode}"
        except BaseException:
            self._kill()
            raise
        finally:
            parent.close()
        if not ok:
            self._kill()
            raise RuntimeError(f"the teacher server process failed to start: {error}")
        self._client = self.client()

    def client(self, *, timeout: float | None = None) -> TeacherClient:
        """A client of this server (picklable: hand it to worker processes)."""
        return TeacherClient(self.address, self.token, timeout=timeout)

    def log(self) -> list[LoggedCall]:
        """The teacher-changing calls run so far, in order (see :func:`replay`)."""
        return self._client.log()

    def state_dict(self) -> dict[str, Any]:
        """The served teacher's checkpoint."""
        return self._client.state_dict()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the server and waits for its process to end (killing it past ``timeout``)."""
        if self.process.is_alive():
            try:
                self._client._request("shutdown", None, (), {})
            except (ConnectionError, TimeoutError):
                pass
            self.process.join(timeout)
        self._client.close()
        self._kill()

    def _kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> TeacherServerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process.is_alive() else f"exited ({self.process.exitcode})"
        return f"TeacherServerProcess(pid={self.process.pid}, address={self.address!r}, {state})"
