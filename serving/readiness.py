"""What ``/readyz`` checks: every dependency the app needs to do its work.

Redis for jobs and for sessions, the results cache, the state folder, free disk space and the
dataset archives are each checked in their own thread with a short timeout, so ``/readyz``
answers within about two seconds even when a dependency hangs. The reply names each check with a
short message and never holds absolute paths, URLs or secrets. The ``/healthz`` body (liveness,
no I/O at all) is :func:`liveness`. Under gunicorn, ``serving.gworker`` answers both in the
worker's main loop, never queued behind callbacks; the Flask views below serve the rest.
"""

from __future__ import annotations

import contextlib
import errno
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

from flask import jsonify

from model import cache, config
from serving import settings
from serving.version import version

log = logging.getLogger("rnnx.health")

CHECK_TIMEOUT_S = 2.0  # the longest any one /readyz check may take
REDIS_TIMEOUT_S = 1.0  # socket and connect timeout of the Redis probes
CELERY_POLICY = "noeviction"  # Celery's Redis must never drop a queued job or a result


# ---------------------------------------------------------------- liveness


def background_kind() -> str:
    """Where background callbacks run: ``celery`` with ``REDIS_URL``, else ``diskcache`` (app.py)."""
    return "celery" if settings.redis_url() else "diskcache"


def liveness(background: str) -> dict[str, Any]:
    """The ``/healthz`` body: status and what this process serves; no I/O."""
    return {
        "status": "ok",
        "version": version(),
        "pid": os.getpid(),
        "background": background,
        "demo_mode": settings.demo_mode(),
        "base_path": settings.base_path(),
    }


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
