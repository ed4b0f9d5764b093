"""The shared disk cache: every heavy result, keyed by everything it depends on.

Keys are hashes of a JSON description (what kind of result, its inputs, the
schema version).  diskcache writes the value before it commits the row in one
SQLite transaction, so a process killed mid-write leaves no entry behind, and
bumping ``SCHEMA_VERSION`` makes every old entry unreachable.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import diskcache

from model import config

SCHEMA_VERSION = 3
T = TypeVar("T")


@lru_cache(maxsize=4)
def _open(directory: str, size_limit: int) -> diskcache.Cache:
    return diskcache.Cache(directory, size_limit=size_limit, eviction_policy="least-recently-used")


def get_cache() -> diskcache.Cache:
    """The process's handle on the cache in ``RNNX_CACHE_DIR`` (safe across processes)."""
    directory = config.cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return _open(str(directory), config.cache_size_limit())


def make_key(kind: str, **parts: Any) -> str:
    """A stable key for a result of ``kind`` computed from ``parts``."""
    description = json.dumps({"kind": kind, "schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str)
    return f"{kind}:{hashlib.sha256(description.encode()).hexdigest()[:32]}"


def get(key: str, default: Any = None) -> Any:
    return get_cache().get(key, default=default)


def put(key: str, value: Any, expire: float | None = None) -> None:
    """Store ``value`` atomically (readers see the old entry or the new, never half)."""
    if read_only():
        return
    get_cache().set(key, value, expire=expire)


def delete(key: str) -> None:
    get_cache().delete(key)


def read_only() -> bool:
    """True in demo mode, where nothing new is written to the cache."""
    return os.environ.get("RNNX_DEMO_MODE", "").lower() in {"1", "true", "yes"}


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
    if read_only():
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
    store = get_cache()
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
