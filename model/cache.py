"""The disk caches, split by purpose so one kind can never evict another.

* ``results``: every heavy result (classifiers, states, projections), keyed by
  everything it depends on, size-limited by ``RNNX_CACHE_LIMIT_GB``.
* ``uploads``: what bring-your-own preparations produce (keys starting with
  ``upload``), with their own quota ``RNNX_UPLOAD_QUOTA_GB``. It never evicts by itself:
  which prepared uploads may go is decided from the sessions that hold them
  (:mod:`model.upload_store`, ``services.upload_results``).
* ``sessions``: per-browser state (keys starting with ``session``), in a
  writable state folder with its own limit ``RNNX_SESSION_LIMIT_MB``.

Large per-state arrays (hidden and cell states, EP, distances, projections) are
not pickled into these caches: :mod:`model.arrays` keeps them as memory-mapped
folders under ``<cache>/arrays/``, sharing each cache's size limit.

Keys are hashes of a JSON description (kind, inputs, schema version).  In demo
mode the results cache is opened read-only (SQLite ``mode=ro``), so the app
serves from a read-only volume; writes raise nothing and store nothing.  A
write that fails (disk full, read-only folder, limit smaller than the value)
raises :class:`CacheWriteError` with a message meant for the user.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import diskcache

from model import config

SCHEMA_VERSION = 4
UPLOAD_PREFIX = "upload"
SESSION_PREFIX = "session"
T = TypeVar("T")
log = logging.getLogger("rnnx.cache")


class CacheWriteError(OSError):
    """A result could not be stored; the message says why and what to do."""


def _open(directory: str, size_limit: int, policy: str = "least-recently-used") -> diskcache.Cache:
    """One Cache per folder and process: a forked child (a background job) must not reuse its
    parent's SQLite connections, or the parent stops seeing what the child wrote.

    ``policy``: diskcache's eviction policy (``"none"``: it never culls; :mod:`model.arrays` then
    culls nothing in that folder either)."""
    return _open_in_process(directory, size_limit, os.getpid(), policy)


@lru_cache(maxsize=16)
def _open_in_process(directory: str, size_limit: int, _pid: int, policy: str) -> diskcache.Cache:
    return diskcache.Cache(directory, size_limit=size_limit, eviction_policy=policy)


class ReadOnlyCache:
    """Reads a diskcache folder without ever writing to it (demo mode, read-only volumes)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._disk = diskcache.Disk(directory)
        self._local = threading.local()

    def _sql(self) -> sqlite3.Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            db = Path(self.directory) / "cache.db"
            if not db.exists():
                return None
            # Without a live write-ahead log, open it immutable: SQLite then creates no -wal/-shm
            # files and takes no locks, so a demo server writes nothing into the folder it serves.
            # With one (a writer is at work), read-only mode sees its latest entries.
            live_wal = db.with_name("cache.db-wal").exists()
            queries = ("mode=ro", "mode=ro&immutable=1") if live_wal else ("mode=ro&immutable=1", "mode=ro")
            for query in queries:
                try:
                    conn = sqlite3.connect(f"file:{db}?{query}", uri=True, check_same_thread=False)
                    conn.execute("SELECT 1 FROM Cache LIMIT 1")
                    break
                except sqlite3.Error:
                    conn = None
            self._local.conn = conn
        return conn

    def _row(self, key: str):
        conn = self._sql()
        if conn is None:
            return None
        row = conn.execute(
            "SELECT expire_time, mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (key,)
        ).fetchone()
        if row is None or (row[0] is not None and row[0] < time.time()):
            return None
        return row

    def get(self, key: str, default: Any = None, **_kwargs: Any) -> Any:
        row = self._row(key)
        if row is None:
            return default
        try:
            return self._disk.fetch(row[1], row[2], row[3], False)
        except OSError:
            return default

    def __contains__(self, key: str) -> bool:
        return self._row(key) is not None

    def __len__(self) -> int:
        conn = self._sql()
        return 0 if conn is None else conn.execute("SELECT COUNT(*) FROM Cache").fetchone()[0]


def _open_read_only(directory: str) -> ReadOnlyCache:
    return _read_only_in_process(directory, os.getpid())


@lru_cache(maxsize=4)
def _read_only_in_process(directory: str, _pid: int) -> ReadOnlyCache:
    return ReadOnlyCache(directory)


def read_only() -> bool:
    """True in demo mode (``RNNX_DEMO_MODE``), where nothing new is written to the results cache."""
    return config.env_flag("RNNX_DEMO_MODE")


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def state_dir() -> Path:
    """A writable folder for sessions, jobs and secrets (``RNNX_STATE_DIR``, else inside the cache).

    When the cache is a read-only volume (demo), a folder in the temp directory is used instead.
    """
    named = config.env_text("RNNX_STATE_DIR")
    path = Path(named).expanduser() if named else config.cache_dir() / "state"
    if _writable(path):
        return path
    fallback = Path(tempfile.gettempdir()) / f"rnnx-state-{os.getuid()}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _limit(name: str, default: float, unit: int) -> int:
    return max(int(config.env_number(name, default) * unit), 1)


def get_cache() -> diskcache.Cache | ReadOnlyCache:
    """The results cache in ``RNNX_CACHE_DIR`` (read-only in demo mode)."""
    directory = config.cache_dir()
    if read_only():
        return _open_read_only(str(directory))
    directory.mkdir(parents=True, exist_ok=True)
    return _open(str(directory), config.cache_size_limit())


def upload_quota_bytes() -> int:
    """What the results of prepared uploads may take together (``RNNX_UPLOAD_QUOTA_GB``, default 2)."""
    return _limit("RNNX_UPLOAD_QUOTA_GB", 2, 1024**3)


def uploads_cache() -> diskcache.Cache:
    """The cache of bring-your-own results, with its own quota (``RNNX_UPLOAD_QUOTA_GB``, default 2).

    Nothing in it is evicted by least-recent use (policy ``"none"``; entries that expire still go):
    a prepared upload another session is using must stay, so room is made by
    ``services.upload_results``, which knows who holds what."""
    directory = config.cache_dir() / "uploads-cache"
    if read_only() or not _writable(directory):
        directory = state_dir() / "uploads-cache"
    return _open(str(directory), upload_quota_bytes(), policy="none")


def sessions_cache() -> diskcache.Cache:
    """The cache of per-browser sessions (``RNNX_SESSION_LIMIT_MB``, default 512): never evicts results."""
    return _open(str(state_dir() / "sessions"), _limit("RNNX_SESSION_LIMIT_MB", 512, 1024**2))


def store_for(key: str) -> diskcache.Cache | ReadOnlyCache:
    """The cache a key belongs to, by its kind's prefix."""
    if key.startswith(SESSION_PREFIX):
        return sessions_cache()
    if key.startswith(UPLOAD_PREFIX):
        return uploads_cache()
    return get_cache()


def make_key(kind: str, **parts: Any) -> str:
    """A stable key for a result of ``kind`` computed from ``parts``."""
    description = json.dumps({"kind": kind, "schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str)
    return f"{kind}:{hashlib.sha256(description.encode()).hexdigest()[:32]}"


def get(key: str, default: Any = None) -> Any:
    """The stored value of ``key``, else ``default``; a value whose file is damaged counts as absent."""
    try:
        return store_for(key).get(key, default=default)
    except (OSError, sqlite3.Error):
        return default
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        log.warning("The cached value %s is damaged (%s): it counts as absent.", key, type(error).__name__)
        return default


def contains(key: str) -> bool:
    try:
        return key in store_for(key)
    except (OSError, sqlite3.Error):
        return False


def put(key: str, value: Any, expire: float | None = None) -> None:
    """Store ``value`` atomically; CacheWriteError when it cannot be kept (nothing is written in demo)."""
    store = store_for(key)
    if isinstance(store, ReadOnlyCache):
        return
    try:
        store.set(key, value, expire=expire)
    except (OSError, sqlite3.Error) as error:
        _remove_partial_files(store)
        raise CacheWriteError(write_message(store, error)) from error
    if key not in store and not _fits(value, store.size_limit):
        raise CacheWriteError(
            f"The result is larger than the cache limit ({store.size_limit / 2**20:.0f} MB) and was "
            "dropped at once: raise RNNX_CACHE_LIMIT_GB (or the limit of this cache)."
        )


def _fits(value: Any, limit: int) -> bool:
    """Whether ``value`` is clearly smaller than ``limit``: then a missing key was evicted by a
    concurrent writer's cull, a normal cache event, not dropped for its size."""
    size = getattr(value, "nbytes", None)
    if isinstance(value, (bytes, bytearray, str)):
        size = len(value)
    elif isinstance(value, dict):
        parts = [getattr(item, "nbytes", None) for item in value.values()]
        size = sum(parts) if parts and None not in parts else None
    return size is not None and size < limit


def write_message(store: diskcache.Cache, error: Exception) -> str:
    """A user-facing message for a failed cache write (disk full, read-only folder, other).

    Messages reach the browser, so they name the setting, never a server path; the path is logged.
    """
    log.warning("A cache write in %s failed: %s", getattr(store, "directory", "?"), error)
    text = str(error).lower()
    if getattr(error, "errno", None) in (27, 28, 122) or "full" in text or "no space" in text:
        return "The disk holding the cache is full: free space or move RNNX_CACHE_DIR."
    if "read-only" in text or "readonly" in text or getattr(error, "errno", None) in (13, 30):
        return "The cache folder (RNNX_CACHE_DIR) is read-only: make it writable or use demo mode."
    detail = getattr(error, "strerror", None) or str(error)  # strerror: an OSError's words, no file name
    directory = str(getattr(store, "directory", "") or "")
    if directory:
        detail = detail.replace(directory, "the cache folder")
    return f"The result could not be written to the cache ({type(error).__name__}: {detail[:160]})."


def _remove_partial_files(store: diskcache.Cache) -> None:
    """Delete value files a failed write left behind (files no cache row refers to, written just now)."""
    root = Path(store.directory)
    cutoff = time.time() - 600
    try:
        rows = {r[0] for r in store._sql("SELECT filename FROM Cache WHERE filename IS NOT NULL").fetchall()}
    except (OSError, sqlite3.Error):
        return
    for path in root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*.val"):
        relative = str(path.relative_to(root))
        try:
            if relative not in rows and path.stat().st_mtime > cutoff:
                path.unlink()
        except OSError:
            continue


def delete(key: str) -> None:
    store = store_for(key)
    if not isinstance(store, ReadOnlyCache):
        store.delete(key)


def memoize(key: str, compute: Callable[[], T], lock_seconds: float = 3600) -> tuple[T, bool]:
    """Return ``(value, was_cached)``, computing and storing it at most once.

    A cross-process lock keeps two workers from computing the same result at
    the same time. A lock whose holder has died (same machine, pid gone) is
    broken at once; one held from another machine expires after ``lock_seconds``.
    """
    missing = object()
    value = get(key, missing)
    if value is not missing:
        return value, True
    if isinstance(store_for(key), ReadOnlyCache):
        return compute(), False
    with computing_lock(key, lock_seconds):
        value = get(key, missing)
        if value is not missing:
            return value, True
        value = compute()
        put(key, value)
        return value, False


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _holder_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = int(rest.split(":")[0]) if rest.split(":")[0].isdigit() else -1
    if host != socket.gethostname() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def computing_lock(key: str, expire: float = 3600, poll: float = 0.1) -> Iterator[None]:
    """Hold ``lock:<key>`` across processes; break it when its holder process is gone."""
    store = store_for(key)
    lock_key, me = f"lock:{key}", _owner()
    while not store.add(lock_key, me, expire=expire, retry=True):
        owner = store.get(lock_key)
        if isinstance(owner, str) and _holder_is_dead(owner):
            with store.transact(retry=True):
                if store.get(lock_key) == owner:
                    store.delete(lock_key, retry=True)
            continue
        time.sleep(poll)
    try:
        yield
    finally:
        with store.transact(retry=True):
            if store.get(lock_key) == me:
                store.delete(lock_key, retry=True)
