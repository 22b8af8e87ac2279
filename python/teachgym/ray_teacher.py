"""One teacher for many Ray workers (RLlib env runners): the teacher in a Ray actor.

:func:`teacher_actor` puts a teacher into an actor and returns a :class:`RayTeacherClient`,
which has the interface of :class:`teachgym.server.TeacherClient` (the teacher's methods,
``log()``) and travels inside Ray tasks, actors and RLlib env configs. The actor runs one call at
a time, in arrival order, so the teacher decides as an in-process teacher fed the same calls in
the same order would (:func:`teachgym.server.replay` reproduces a run from ``client.log()``)::

    import ray
    from teachgym.ray_teacher import teacher_actor

    ray.init()
    teacher = teacher_actor(ALPGMM(space, seed=0))
    config = PPOConfig().environment("teachgym/StumpTracks-v0", env_config={"teacher": teacher})

A client whose actor has died or been killed raises :class:`teachgym.server.TeacherServerGone`.
Needs Ray: ``pip install 'teachgym[ray]'``.
"""

from __future__ import annotations

from typing import Any

from .server import LoggedCall, TeacherHost, TeacherServerGone, _RemoteTeacher

__all__ = ["teacher_actor", "RayTeacherClient"]


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ImportError("teachgym.ray_teacher needs Ray: pip install 'teachgym[ray]' (or ray>=2.9)") from e
    return ray


class _TeacherActor:
    """The actor's class: a :class:`TeacherHost` (Ray runs its calls one at a time)."""

    def __init__(self, teacher: Any, keep_log: bool) -> None:
        self._host = TeacherHost(teacher, keep_log)

    def handle(self, request: Any) -> tuple[bool, Any]:
        return self._host.handle(request)


_ACTOR_CLASS: Any = None


def teacher_actor(teacher: Any, *, keep_log: bool = True, **actor_options: Any) -> RayTeacherClient:
    """A Ray actor holding ``teacher`` (a copy of it, serialised into the actor), as a client.

    ``keep_log``: keep the call log (``client.log()``); ``actor_options``: Ray's
    ``.options(...)`` (``name``, ``lifetime``, ``num_cpus``, ...; the actor reserves no CPU by
    default). Ray must be initialised (``ray.init()``)."""
    global _ACTOR_CLASS
    ray = _ray()
    TeacherHost(teacher)  # the TypeError here rather than in the actor
    if _ACTOR_CLASS is None:
        _ACTOR_CLASS = ray.remote(_TeacherActor)
    options = {"num_cpus": 0, **actor_options, "max_concurrency": 1}
    actor = _ACTOR_CLASS.options(**options).remote(teacher, keep_log)
    return RayTeacherClient(actor)


class RayTeacherClient(_RemoteTeacher):
    """The teacher in a Ray actor, used like the teacher itself (see the module docs).
    ``timeout``: seconds to wait for an answer (``None``: as long as it takes)."""

    def __init__(self, actor: Any, *, timeout: float | None = None) -> None:
        self.actor = actor
        self.timeout = timeout

    def _request(self, op: str, name: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ray = _ray()
        try:
            ok, result = ray.get(self.actor.handle.remote((op, name, args, kwargs)), timeout=self.timeout)
        except ray.exceptions.GetTimeoutError as e:
            raise TimeoutError(
                f"the teacher actor did not answer {name or op} within {self.timeout} s (the call may still run there)"
            ) from e
        except ray.exceptions.RayActorError as e:
            raise TeacherServerGone(
                f"the teacher actor is gone ({type(e).__name__}); the teacher's state since its last "
                "saved checkpoint (client.state_dict()) is lost: start a new actor from that checkpoint "
                "and hand its client to the workers"
            ) from e
        if not ok:
            raise result
        return result

    def log(self) -> list[LoggedCall]:
        """The teacher-changing calls the actor has run, in order."""
        return self._request("log", None, (), {})

    def __getstate__(self) -> dict[str, Any]:
        return {"actor": self.actor, "timeout": self.timeout, "task_space": self._task_space}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["actor"], timeout=state["timeout"])  # type: ignore[misc]
        self._task_space = state["task_space"]

    def __repr__(self) -> str:
        return f"RayTeacherClient({self.actor!r})"
