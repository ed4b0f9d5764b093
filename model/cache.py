"""The shared disk cache: every heavy result, keyed by everything it depends on.

Keys are hashes of a JSON description (what kind of result, its inputs, the
schema version).  diskcache writes the value before it commits the row in one
SQLite transaction, so a process killed mid-write leaves no entry behind, and
bumping ``SCHEMA_VERSION`` makes every old entry unreachable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
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
    import os

    return os.environ.get("RNNX_DEMO_MODE", "").lower() in {"1", "true", "yes"}


def memoize(key: str, compute: Callable[[], T], lock_seconds: float = 3600) -> tuple[T, bool]:
    """Return ``(value, was_cached)``, computing and storing it at most once.

    A cross-process lock keeps two workers from computing the same result at
    the same time; it expires, so a killed worker cannot block others forever.
    """
    missing = object()
    value = get(key, missing)
    if value is not missing:
        return value, True
    with diskcache.Lock(get_cache(), f"lock:{key}", expire=lock_seconds):
        value = get(key, missing)
        if value is not missing:
            return value, True
        value = compute()
        put(key, value)
        return value, False
