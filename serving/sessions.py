"""Per-browser-session state (the trainer's small model) that any worker or machine can read.

With ``REDIS_URL`` set the state lives in Redis, so several machines can serve
one team; otherwise it lives in the shared disk cache.  Values are pickled and
expire after ``RNNX_SESSION_TTL_S`` seconds without a write.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Protocol

import diskcache

from model import cache
from serving import settings

PREFIX = "rnnx:session:"


class SessionStore(Protocol):
    """What the trainer needs: read, write, forget one session's state."""

    def get(self, session_id: str) -> Any | None: ...
    def put(self, session_id: str, value: Any) -> None: ...
    def delete(self, session_id: str) -> None: ...
    def lock(self, session_id: str, timeout_s: float = 30.0) -> contextlib.AbstractContextManager: ...


class DiskSessionStore:
    """Sessions in the diskcache shared by the processes of one machine."""

    def get(self, session_id: str) -> Any | None:
        return cache.get_cache().get(PREFIX + session_id)

    def put(self, session_id: str, value: Any) -> None:
        cache.get_cache().set(PREFIX + session_id, value, expire=settings.session_ttl_seconds())

    def delete(self, session_id: str) -> None:
        cache.get_cache().delete(PREFIX + session_id)

    @contextlib.contextmanager
    def lock(self, session_id: str, timeout_s: float = 30.0) -> Iterator[None]:
        """Serialise read-modify-write of one session across this machine's processes."""
        with diskcache.Lock(cache.get_cache(), f"{PREFIX}lock:{session_id}", expire=timeout_s):
            yield


class RedisSessionStore:
    """Sessions in Redis, shared by every machine of a team server."""

    def __init__(self, url: str) -> None:
        self.client = _redis_client(url)

    def get(self, session_id: str) -> Any | None:
        raw = self.client.get(PREFIX + session_id)
        return None if raw is None else pickle.loads(raw)

    def put(self, session_id: str, value: Any) -> None:
        self.client.set(PREFIX + session_id, pickle.dumps(value), ex=settings.session_ttl_seconds())

    def delete(self, session_id: str) -> None:
        self.client.delete(PREFIX + session_id)

    @contextlib.contextmanager
    def lock(self, session_id: str, timeout_s: float = 30.0) -> Iterator[None]:
        """Serialise read-modify-write of one session across every machine (a Redis lock)."""
        with self.client.lock(f"{PREFIX}lock:{session_id}", timeout=timeout_s, blocking_timeout=timeout_s):
            yield


@lru_cache(maxsize=4)
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url)


def session_store() -> SessionStore:
    """The store for this configuration: Redis when ``REDIS_URL`` is set, else the disk cache."""
    url = settings.redis_url()
    return RedisSessionStore(url) if url else DiskSessionStore()
