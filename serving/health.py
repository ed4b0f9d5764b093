"""Honest health: what ``/readyz`` checks, how a Redis outage reaches the page, riding out a restart.

* :func:`readiness` checks every dependency the app needs to do its work (Redis for jobs and
  for sessions, the results cache, the state folder, free disk space, the dataset archives), each
  in its own thread with a short timeout, so ``/readyz`` answers within about two seconds even when
  a dependency hangs.  The reply names each check with a short message and never holds absolute
  paths, URLs or secrets.  ``/healthz`` (liveness) stays in ``app.py``: no I/O at all.
* :func:`is_dependency_error` recognises a lost Redis (redis-py or kombu errors, anywhere in the
  exception's chain); :func:`install_error_handlers` turns one that escapes a callback into a
  readable alert in the page (``app-error``) and, elsewhere, into a JSON 503.
* :class:`ResilientCeleryManager` is Dash's CeleryManager whose poll requests answer "still
  running" (with a notice for the page) while Redis is unreachable, instead of failing the
  request and abandoning the job: after a short restart the job's result still arrives.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from celery.backends.redis import RedisBackend
from dash import CeleryManager
from flask import Flask, jsonify, request

from model import cache, config
from serving import settings

log = logging.getLogger("rnnx.health")

ALERT_ID = "app-error"  # the app-level dbc.Alert created in app.create_app
CHECK_TIMEOUT_S = 2.0  # the longest any one /readyz check may take
REDIS_TIMEOUT_S = 1.0  # socket and connect timeout of the Redis probes
CELERY_POLICY = "noeviction"  # Celery's Redis must never drop a queued job or a result

OUTAGE_MESSAGE = (
    "The server cannot reach Redis (its job queue and session store) right now, so this action did "
    "not run. Try again in a minute; if it keeps failing, tell whoever runs this server."
)
FULL_MESSAGE = (
    "Redis (the server's job queue and session store) is out of memory, so this action did not run. "
    "Try again later, and tell whoever runs this server."
)
POLL_NOTICE = (
    "The server lost its connection to Redis for a moment. Your job keeps running on the worker; "
    "this page keeps asking for its result."
)


# ---------------------------------------------------------------- recognising an outage


@lru_cache(maxsize=1)
def dependency_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean "Redis is unreachable or refuses writes"."""
    import redis

    types: list[type[BaseException]] = [
        redis.exceptions.ConnectionError,  # includes BusyLoadingError (a restart still loading)
        redis.exceptions.TimeoutError,
        redis.exceptions.OutOfMemoryError,
    ]
    with contextlib.suppress(ImportError):
        import kombu.exceptions

        types.append(kombu.exceptions.OperationalError)  # the broker: publishing a job, revoking it
    return tuple(types)


def _chain(error: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while error is not None and len(seen) < 12 and all(error is not e for e in seen):
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def is_dependency_error(error: BaseException) -> bool:
    """Whether ``error`` (or anything in its cause/context chain) is a lost or full Redis."""
    kinds = dependency_errors()
    return any(isinstance(e, kinds) for e in _chain(error))


def user_message(error: BaseException) -> str:
    """What the page shows for a dependency error: no hosts, ports or tracebacks."""
    import redis

    if any(isinstance(e, redis.exceptions.OutOfMemoryError) for e in _chain(error)):
        return FULL_MESSAGE
    return OUTAGE_MESSAGE


class DependencyUnavailable(RuntimeError):
    """A callback failed because Redis is unreachable; the message is meant for the user."""


def alert_update(message: str, is_open: bool = True) -> dict[str, dict[str, Any]]:
    """A ``sideUpdate`` for the app-level alert."""
    if not is_open:
        return {ALERT_ID: {"is_open": False}}
    return {ALERT_ID: {"children": message, "is_open": True, "color": "warning"}}


def callback_reply(message: str) -> dict[str, Any]:
    """A 200 answer to ``/_dash-update-component``: no output changes, the alert opened.

    The renderer applies ``sideUpdate``, then treats the empty ``response`` as "nothing to
    update"; for a background callback it also ends the job (its ``running`` outputs reset).
    """
    return {"multi": True, "response": {}, "sideUpdate": alert_update(message)}


def on_callback_error(error: Exception) -> None:
    """Dash's ``on_error``: a dependency outage becomes :class:`DependencyUnavailable`, others re-raise.

    Raising (rather than ``set_props`` and returning) is what reaches the page for background
    callbacks too: Dash drops side updates made while a background job is being set up, so the
    Flask handler in :func:`install_error_handlers` writes the alert into the reply instead.
    """
    if is_dependency_error(error):
        log.warning("callback failed, Redis unavailable: %s: %s", type(error).__name__, error)
        raise DependencyUnavailable(user_message(error)) from error
    raise error


def _dependency_reply(error: Exception):
    message = str(error) if isinstance(error, DependencyUnavailable) else user_message(error)
    if not isinstance(error, DependencyUnavailable):
        log.warning("request failed, Redis unavailable: %s: %s", type(error).__name__, error)
    if request.path.endswith("_dash-update-component"):
        return jsonify(callback_reply(message)), 200
    return jsonify({"status": "unavailable", "message": message}), 503


def install_error_handlers(server: Flask) -> None:
    """Dependency errors anywhere in a request: an alert for callbacks, a JSON 503 otherwise."""
    server.register_error_handler(DependencyUnavailable, _dependency_reply)
    for kind in dependency_errors():
        server.register_error_handler(kind, _dependency_reply)


# ---------------------------------------------------------------- background jobs through an outage


class JobResultsBackend(RedisBackend):
    """Celery's Redis result backend, minus the pub/sub subscription a web process makes per job.

    Celery subscribes to each job's result channel when it is sent, for ``AsyncResult.get()``;
    Dash never waits that way (it polls the result key), so the subscription is never read and
    grows by one channel per job. Worse, with Redis down the subscription retries its reconnect
    under the result-write retry policy (about a minute, set for the worker's sake), holding the
    click's request that long before it fails. Selected in ``app.make_celery`` by
    ``serving.health:JobResultsBackend+redis://...``.
    """

    def on_task_call(self, producer, task_id):
        return None


class ResilientCeleryManager(CeleryManager):
    """CeleryManager whose polls survive a short Redis outage.

    While Redis cannot be reached, a poll reports no progress, no result and the job as still
    running (so the renderer polls again) and opens the app-level alert with a notice. Revoking a
    finished job is best effort. Starting a job still fails (the page shows why) after the
    publish retries configured in ``app.make_celery``. Once a poll succeeds again, the notice is
    closed (by whichever web process saw the outage for that job).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lost: set[str] = set()
        self._lost_lock = threading.Lock()

    def _outage(self, key: str | None, error: Exception) -> None:
        log.warning("background job poll: Redis unavailable (%s); answering 'still running'", error)
        if key is not None:
            with self._lost_lock:
                if len(self._lost) > 10_000:  # jobs abandoned during an outage never report back
                    self._lost.clear()
                self._lost.add(key)

    def _recovered(self, key: str) -> bool:
        with self._lost_lock:
            if key in self._lost:
                self._lost.discard(key)
                return True
        return False

    def terminate_job(self, job):
        try:
            return super().terminate_job(job)
        except dependency_errors() as error:
            log.warning("could not revoke job %s, Redis unavailable: %s", job, error)
            return None

    def job_running(self, job):
        try:
            return super().job_running(job)
        except dependency_errors() as error:
            self._outage(None, error)
            return True

    def get_progress(self, key):
        try:
            return super().get_progress(key)
        except dependency_errors() as error:
            self._outage(key, error)
            return None

    def get_result(self, key, job):
        try:
            raw = self.handle.backend.get(key)
        except dependency_errors() as error:
            self._outage(key, error)
            return self.UNDEFINED
        if raw is None:
            return self.UNDEFINED
        result = json.loads(raw)
        try:  # the clean-up of CeleryManager.get_result; a lost write here only leaves a key to expire
            if self.cache_by is None:
                self.clear_cache_entry(key)
            elif self.expire:
                self.handle.backend.expire(key, self.expire)
            self.clear_cache_entry(self._make_progress_key(key))
        except dependency_errors() as error:
            log.warning("job result read, clean-up skipped (Redis unavailable): %s", error)
        self.terminate_job(job)
        return result

    def get_updated_props(self, key):
        try:
            props = super().get_updated_props(key)
        except dependency_errors() as error:
            self._outage(key, error)
            return alert_update(POLL_NOTICE)
        if self._recovered(key):
            return {**alert_update("", is_open=False), **props}
        return props


# ---------------------------------------------------------------- readiness checks


def _ok(message: str, **details: Any) -> dict[str, Any]:
    return {"ok": True, "message": message, **details}


def _fail(message: str, **details: Any) -> dict[str, Any]:
    return {"ok": False, "message": message, **details}


_PATHISH = re.compile(r"(?:[A-Za-z]:)?[/\\][^\s'\"():,]+")
_URLISH = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)


def reason(error: BaseException) -> str:
    """A short, path- and secret-free description of an error."""
    code = getattr(error, "errno", None)
    if isinstance(code, int) and code in errno.errorcode:
        return f"{type(error).__name__}: {errno.errorcode[code]} ({os.strerror(code)})"
    text = _PATHISH.sub("<path>", _URLISH.sub("<url>", str(error)))
    return f"{type(error).__name__}: {text[:120]}" if text else type(error).__name__


@lru_cache(maxsize=8)
def _probe_client(url: str):
    """A Redis client for probes only: 1 s timeouts, no retries, its own small pool."""
    import redis

    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        health_check_interval=0,
        max_connections=4,
    )


def check_redis(url: str, role: str) -> dict[str, Any]:
    """Redis answers PING; its memory policy is reported (Celery's should be ``noeviction``)."""
    import redis

    client = _probe_client(url)
    try:
        try:
            client.ping()
        except redis.exceptions.ConnectionError:  # maybe a pooled connection from before a restart
            client.connection_pool.disconnect()
            client.ping()
    except redis.exceptions.RedisError as error:
        log.warning("readyz: %s Redis unreachable: %s", role, error)
        return _fail(f"unreachable ({type(error).__name__})")
    details: dict[str, Any] = {}
    try:
        memory = client.info("memory")
        details["maxmemory_policy"] = memory.get("maxmemory_policy")
        if memory.get("maxmemory"):
            details["used_percent"] = round(100 * memory.get("used_memory", 0) / memory["maxmemory"], 1)
    except redis.exceptions.RedisError:  # INFO may be refused by an ACL; PING was enough
        pass
    policy = details.get("maxmemory_policy")
    if role == "jobs" and policy and policy != CELERY_POLICY:
        return _ok(
            f"reachable; maxmemory-policy {policy} may evict queued jobs (use {CELERY_POLICY})", **details
        )
    return _ok("reachable", **details)


def _read_only_probe(directory: Path) -> dict[str, Any]:
    if not directory.is_dir():
        return _fail("missing: the results cache folder does not exist")
    db = directory / "cache.db"
    if not db.exists():
        return _ok("read-only (demo), empty", entries=0)
    last: Exception | None = None
    uri = f"file:{urllib.request.pathname2url(str(db))}"
    for query in ("mode=ro&immutable=1", "mode=ro"):  # immutable first: no -wal/-shm files, no locks
        try:
            with contextlib.closing(sqlite3.connect(f"{uri}?{query}", uri=True, timeout=1)) as conn:
                entries = conn.execute("SELECT COUNT(*) FROM Cache").fetchone()[0]
            return _ok("read-only (demo)", entries=entries)
        except sqlite3.Error as error:
            last = error
    return _fail(f"unreadable ({reason(last)})" if last else "unreadable")


def check_results_cache() -> dict[str, Any]:
    """The results cache: readable in demo mode; readable and writable (a probe entry) otherwise."""
    if cache.read_only():
        return _read_only_probe(config.cache_dir())
    key = f"health:probe:{os.getpid()}:{threading.get_ident()}"
    value = time.time()
    try:
        store = cache.get_cache()
        store.set(key, value, expire=60)
        readable = store.get(key) == value
        store.delete(key)
    except (OSError, sqlite3.Error) as error:
        return _fail(f"not writable ({reason(error)})")
    return _ok("readable and writable") if readable else _fail("a value written could not be read back")


def check_state_dir() -> dict[str, Any]:
    """The state folder (sessions, jobs, secrets) takes a file; a fallback to a temp folder is named."""
    named = config.env_text("RNNX_STATE_DIR")
    try:
        path = cache.state_dir()
    except OSError as error:
        return _fail(f"no writable state folder ({reason(error)})")
    if named and path != Path(named).expanduser():
        return _fail("RNNX_STATE_DIR is not writable; sessions and secrets went to a temporary folder")
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".readyz-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as error:
        return _fail(f"not writable ({reason(error)})")
    fallback = not named and path.parent == Path(tempfile.gettempdir())
    return _ok("writable (temporary folder: the cache is read-only)" if fallback else "writable")


def check_disk() -> dict[str, Any]:
    """Free space where the app writes (the cache, unless read-only, and the state folder)."""
    floor = settings.disk_free_floor_mb()
    places = {} if cache.read_only() else {"cache": config.cache_dir()}
    places["state"] = cache.state_dir()
    free: dict[str, int] = {}
    seen: dict[int, str] = {}
    for label, path in places.items():
        try:
            device = path.stat().st_dev
            if device in seen:
                continue
            seen[device] = label
            free[label] = int(shutil.disk_usage(path).free / 2**20)
        except OSError as error:
            return _fail(f"cannot measure the {label} folder ({reason(error)})")
    low = {label: mb for label, mb in free.items() if mb < floor}
    details = {"free_mb": free, "floor_mb": floor}
    if low:
        names = ", ".join(f"{label} {mb} MB" for label, mb in low.items())
        return _fail(f"low on space: {names} free (floor {floor} MB, RNNX_DISK_FREE_MIN_MB)", **details)
    return _ok(f"{min(free.values())} MB free or more", **details)


def check_datasets() -> dict[str, Any]:
    """The built-in datasets' archives are in RNNX_DATA_DIR (file names only in the reply)."""
    from model import datasets

    status = datasets.archive_status()
    archives = {
        name: {
            "present": bool(info.get("present")),
            "file": os.path.basename(str(info.get("path") or "").rstrip("/")) or None,
            "bytes": info.get("bytes"),
        }
        for name, info in status.items()
    }
    missing = [f"{info['file']} ({name})" for name, info in archives.items() if not info["present"]]
    if missing:
        return _fail(f"missing from RNNX_DATA_DIR: {', '.join(missing)}", archives=archives)
    return _ok("all present", archives=archives)


def planned_checks() -> dict[str, Callable[[], dict[str, Any]]]:
    """The checks for this configuration, by name."""
    checks: dict[str, Callable[[], dict[str, Any]]] = {}
    jobs_url = settings.redis_url()
    session_url = settings.session_redis_url()
    if jobs_url:
        checks["redis"] = lambda: check_redis(jobs_url, "jobs")
    if session_url and session_url != jobs_url:
        checks["session_redis"] = lambda: check_redis(session_url, "sessions")
    checks["results_cache"] = check_results_cache
    checks["state_dir"] = check_state_dir
    checks["disk"] = check_disk
    checks["datasets"] = check_datasets
    return checks


def _guarded(name: str, check: Callable[[], dict[str, Any]], results: dict[str, dict]) -> None:
    try:
        results[name] = check()
    except Exception as error:  # noqa: BLE001 - a broken check is a failed check, never a 500
        log.warning("readyz: check %s raised", name, exc_info=True)
        results[name] = _fail(f"check failed ({reason(error)})")


def readiness(timeout_s: float = CHECK_TIMEOUT_S) -> tuple[int, dict[str, Any]]:
    """Run every check in parallel, each bounded by ``timeout_s``; (HTTP status, JSON body)."""
    checks = planned_checks()
    results: dict[str, dict] = {}
    threads = {
        name: threading.Thread(
            target=_guarded, args=(name, check, results), daemon=True, name=f"readyz-{name}"
        )
        for name, check in checks.items()
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    report: dict[str, dict] = {}
    for name in checks:
        found = results.get(name)
        report[name] = found if found is not None else _fail(f"no answer within {timeout_s:g} s")
    failing = [name for name, result in report.items() if not result["ok"]]
    body: dict[str, Any] = {"status": "not ready" if failing else "ready", "checks": report}
    if failing:
        body["failing"] = failing
    return (503 if failing else 200), body


SHARE_S = CHECK_TIMEOUT_S + 1  # how old a result may be to answer a request that came in meanwhile
_last: tuple[float, int, dict[str, Any]] | None = None
_computing = threading.Lock()


def shared_readiness() -> tuple[int, dict[str, Any]]:
    """:func:`readiness`, run by one thread at a time per process.

    ``/readyz`` needs no login and each run starts threads and writes a probe entry, so
    concurrent requests must not multiply that work: a request that arrives while a run is
    in progress gets the previous result when it is at most a few seconds old, else waits for
    the running one (at most about two seconds) and shares its result.
    """
    global _last
    if _computing.acquire(blocking=False):
        try:
            status, body = readiness()
            _last = (time.monotonic(), status, body)
            return status, body
        finally:
            _computing.release()
    last = _last
    if last is not None and time.monotonic() - last[0] < SHARE_S:
        return last[1], last[2]
    if _computing.acquire(timeout=SHARE_S):
        _computing.release()
        last = _last
        if last is not None:
            return last[1], last[2]
    return readiness()


def readyz():
    """The ``/readyz`` view: 200 ``ready`` when every dependency works, else 503 ``not ready``."""
    status, body = shared_readiness()
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
