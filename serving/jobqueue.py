"""One bounded queue for heavy work (preparations, exports), shared by every process of a server.

At most ``RNNX_MAX_JOBS`` jobs run at once (default ``max(1, cores // 2)``), first come first
served, whichever gunicorn worker, forked job or Celery worker asks. Each session may have one
job running and one waiting; a third is refused with a message. The queue lives in files under
``<state>/queue/`` held with ``flock``, so a job whose process dies frees its place at once:

- ``t-<time>-<owner>-<rand>.ticket``: one per job, waiting or running, locked by its process;
  a ticket nobody holds a lock on is stale and removed by the next reader.
- ``slot-<i>.lock``: held while a job runs.
- ``durations.json``: recent run times per kind, for the estimate a waiting page shows.

Two requests for the same artefact never build it twice: :func:`building` serialises them by
the artefact's key, so the second follows the first and then finds it in the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from model import cache, config

POLL_S = 0.5
KEEP_DURATIONS = 20
WaitFn = Callable[[int, "float | None"], None]


class QueueRefused(RuntimeError):
    """This session already has a job running and one waiting (the message is for the user)."""


def max_jobs() -> int:
    """Heavy jobs at once per server: ``RNNX_MAX_JOBS``, default ``max(1, cores // 2)``."""
    default = max(1, (os.cpu_count() or 2) // 2)
    return int(config.env_number("RNNX_MAX_JOBS", default, minimum=1))


def per_session() -> int:
    """Jobs one session may have in the queue, running and waiting together (2)."""
    return 2


def folder() -> Path:
    path = cache.state_dir() / "queue"
    path.mkdir(parents=True, exist_ok=True)
    return path


def owner_tag(owner: str) -> str:
    """A short, path-safe tag of who owns a job (a session id is never written in clear)."""
    return hashlib.sha256(owner.encode()).hexdigest()[:16]


def _held(path: Path) -> bool:
    """Whether some live process holds the lock on ``path`` (False: stale, or gone)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def live_tickets() -> list[Path]:
    """The tickets of jobs waiting or running, oldest first; stale ones are removed."""
    tickets = []
    for path in sorted(folder().glob("t-*.ticket")):
        if _held(path):
            tickets.append(path)
        else:
            path.unlink(missing_ok=True)
    return tickets


def _admit(owner: str) -> tuple[Path, int]:
    """Write and lock a new ticket for ``owner`` (one process at a time decides); QueueRefused if full."""
    tag = owner_tag(owner)
    with _locked(folder() / "admission.lock"):
        mine = [p for p in live_tickets() if p.name.split("-")[2] == tag]
        if len(mine) >= per_session():
            raise QueueRefused(
                "You already have a job running and one waiting: wait for one to finish, then try again."
            )
        path = folder() / f"t-{time.time_ns():020d}-{tag}-{secrets.token_hex(4)}.ticket"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return path, fd


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _try_slot() -> int | None:
    """The fd of a free run slot, now held; None when every slot is taken."""
    for index in range(max_jobs()):
        fd = os.open(folder() / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
    return None


def position(ticket: Path) -> int:
    """0 when ``ticket`` may run now, else its place in the line of waiting jobs (1 = next)."""
    tickets = live_tickets()
    index = tickets.index(ticket) if ticket in tickets else len(tickets)
    return max(0, index - max_jobs() + 1)


def estimate_seconds(kind: str, place: int) -> float | None:
    """About how long a job ``place`` in line waits, from recent run times of ``kind`` (None: no history)."""
    recent = _durations().get(kind) or []
    if not recent or place <= 0:
        return None
    return sum(recent) / len(recent) * place / max_jobs()


def _durations() -> dict[str, list[float]]:
    try:
        data = json.loads((folder() / "durations.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _record(kind: str, seconds: float) -> None:
    with _locked(folder() / "durations.lock"):
        data = _durations()
        data[kind] = [*[float(s) for s in data.get(kind, []) if isinstance(s, int | float)], seconds][
            -KEEP_DURATIONS:
        ]
        partial = folder() / f".durations-{os.getpid()}.json"
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, folder() / "durations.json")


def waiting_label(place: int, estimate: float | None) -> str:
    """What a waiting page shows: "queued, position 2 · about 3 min"."""
    text = f"queued, position {place}"
    if estimate is None:
        return text + " · waiting for a running job to finish"
    if estimate < 60:
        return text + f" · about {max(5, int(round(estimate / 5.0)) * 5)} s"
    return text + f" · about {int(round(estimate / 60.0))} min"


@contextlib.contextmanager
def slot(owner: str, kind: str, on_wait: WaitFn | None = None) -> Iterator[None]:
    """Run the body as one of the server's heavy jobs: wait for a free slot (first come, first served),
    calling ``on_wait(position, estimate_seconds)`` about twice a second while in line.

    ``owner`` is the session (or ``"server"``); ``kind`` names the work for the estimate
    (``prepare``, ``export``). QueueRefused when ``owner`` already has two jobs in the queue.
    """
    ticket, ticket_fd = _admit(owner)
    slot_fd = None
    try:
        while True:
            place = position(ticket)
            if place == 0:
                slot_fd = _try_slot()
                if slot_fd is not None:
                    break
            if on_wait is not None:
                shown = max(place, 1)
                on_wait(shown, estimate_seconds(kind, shown))
            time.sleep(POLL_S)
        started = time.monotonic()
        yield
        _record(kind, time.monotonic() - started)
    finally:
        if slot_fd is not None:
            os.close(slot_fd)
        ticket.unlink(missing_ok=True)
        os.close(ticket_fd)


def _build_path(key: str, suffix: str) -> Path:
    return folder() / f"build-{hashlib.sha256(key.encode()).hexdigest()[:32]}{suffix}"


def publish(key: str, fraction: float, stage: str) -> None:
    """The holder of build ``key`` says how far it is, for requests that joined it."""
    partial = _build_path(key, f".{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps({"fraction": float(fraction), "stage": str(stage)}), encoding="utf-8")
        os.replace(partial, _build_path(key, ".json"))
    except OSError:
        partial.unlink(missing_ok=True)


def progress_of(key: str) -> tuple[float, str]:
    """The last (fraction, stage) the holder of build ``key`` published ((0, "") before any)."""
    try:
        data = json.loads(_build_path(key, ".json").read_text(encoding="utf-8"))
        return float(data["fraction"]), str(data["stage"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0, ""


@contextlib.contextmanager
def building(key: str, on_wait: Callable[[float, str], None] | None = None) -> Iterator[bool]:
    """Hold the build of artefact ``key`` (any process); yields True when another build of it ran
    while this one waited (the caller then finds it in the cache rather than building again).

    While waiting, ``on_wait(fraction, stage)`` gets the other build's progress (:func:`publish`)."""
    fd = os.open(_build_path(key, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    waited = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = True
                if on_wait is not None:
                    on_wait(*progress_of(key))
                time.sleep(POLL_S)
        if not waited:
            _build_path(key, ".json").unlink(missing_ok=True)
        yield waited
    finally:
        os.close(fd)
