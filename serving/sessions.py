"""The one store of per-tab trainer sessions, readable by any worker or machine.

With ``RNNX_SESSION_REDIS_URL`` (else ``REDIS_URL``) set, sessions live in
Redis, so several machines can serve one team; otherwise in the sessions disk
cache (:func:`model.cache.sessions_cache`), which has its own size limit and
can never evict prepared results. Values are pickled and expire
``RNNX_SESSION_TTL_S`` seconds after their last write.

Keys are built by the caller from the signed cookie's session and a validated
tab id (``services.identity.tab_key``), so they are short and bound to one
browser. Every failure of the store (Redis refused or out of memory, a disk
error, a lock that cannot be had) becomes :class:`SessionUnavailable`, whose
text is meant for the user.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Protocol

from model import cache
from serving import settings

PREFIX = "session:trainer:"
LOCK_EXPIRE_S = 180.0  # a holder that died frees its session after this long
LOCK_WAIT_S = (
    90.0  # how long a request waits for the same tab's previous one (a fresh server's first is slow)
)
log = logging.getLogger("rnnx.sessions")


class SessionUnavailable(RuntimeError):
    """The session store cannot be used right now; ``str(error)`` is the message for the user."""


class SessionStore(Protocol):
    """What the trainer needs: read, write, forget one session's state, and lock it."""

    def get(self, key: str) -> Any | None: ...
    def put(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...
    def lock(self, key: str) -> contextlib.AbstractContextManager: ...


def ttl_seconds() -> int:
    """Seconds an idle session is kept (``RNNX_SESSION_TTL_S``, default 24 h, at least a minute)."""
    try:
        return max(int(settings.session_ttl_seconds()), 60)
    except ValueError:
        return 24 * 3600


def _busy() -> SessionUnavailable:
    return SessionUnavailable(
        "This page is still busy with an earlier request (another tab or a slow step): try again in a moment."
    )


class DiskSessionStore:
    """Sessions in the sessions cache shared by the processes of one machine."""

    def _cache(self):
        return cache.sessions_cache()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (OSError, sqlite3.Error) as error:
            log.warning("session store: %s", error)
            raise SessionUnavailable(
                "Your training session could not be read or saved (the server's session folder is not "
                "usable): try again later or tell the administrator."
            ) from error

    def get(self, key: str) -> Any | None:
        with self._errors():
            return self._cache().get(PREFIX + key)

    def put(self, key: str, value: Any) -> None:
        with self._errors():
            self._cache().set(PREFIX + key, value, expire=ttl_seconds())

    def delete(self, key: str) -> None:
        with self._errors():
            self._cache().delete(PREFIX + key)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Serialise read-modify-write of one session across this machine's processes (only that one)."""
        store, name = self._cache(), f"lock:{PREFIX}{key}"
        me = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"
        deadline = time.monotonic() + LOCK_WAIT_S
        with self._errors():
            while not store.add(name, me, expire=LOCK_EXPIRE_S, retry=True):
                holder = store.get(name)
                if isinstance(holder, str) and cache._holder_is_dead(holder):  # its process is gone
                    with store.transact(retry=True):
                        if store.get(name) == holder:
                            store.delete(name, retry=True)
                    continue
                if time.monotonic() > deadline:
                    raise _busy()
                time.sleep(0.01)
        try:
            yield
        finally:
            with self._errors(), store.transact(retry=True):
                if store.get(name) == me:
                    store.delete(name, retry=True)


class RedisSessionStore:
    """Sessions in Redis, shared by every machine of a team server."""

    def __init__(self, url: str) -> None:
        try:
            self.client = _redis_client(url)
        except ValueError as error:
            log.warning("session store URL: %s", error)
            raise SessionUnavailable(
                "The session store is misconfigured (its Redis URL is invalid): tell the administrator."
            ) from error

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        import redis

        try:
            yield
        except redis.exceptions.RedisError as error:
            raise _redis_unavailable(error) from error

    def get(self, key: str) -> Any | None:
        with self._errors():
            raw = self.client.get(PREFIX + key)
        if raw is None:
            return None
        try:
            return pickle.loads(raw)
        except Exception:  # noqa: BLE001 - a value from an older version of the app: start over
            return None

    def put(self, key: str, value: Any) -> None:
        with self._errors():
            self.client.set(PREFIX + key, pickle.dumps(value), ex=ttl_seconds())

    def delete(self, key: str) -> None:
        with self._errors():
            self.client.delete(PREFIX + key)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Serialise read-modify-write of one session across every machine (a Redis lock)."""
        import redis

        lock = self.client.lock(f"lock:{PREFIX}{key}", timeout=LOCK_EXPIRE_S, blocking_timeout=LOCK_WAIT_S)
        with self._errors():
            acquired = lock.acquire()
        if not acquired:
            raise _busy()
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.RedisError as error:  # expired meanwhile, or Redis went away
                log.warning("session lock release: %s", error)


def _redis_unavailable(error: Exception) -> SessionUnavailable:
    import redis

    log.warning("session store (Redis): %s", error)
    text = str(error).lower()
    if isinstance(error, redis.exceptions.LockError):
        return _busy()
    if "maxmemory" in text or text.startswith("oom"):
        why = "the session store (Redis) is full"
    elif isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        why = "the session store (Redis) cannot be reached"
    else:
        why = "the session store (Redis) refused the request"
    return SessionUnavailable(
        f"Your training session could not be read or saved: {why}. Try again later or tell the administrator."
    )


@lru_cache(maxsize=4)
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)


def redis_url() -> str | None:
    """``RNNX_SESSION_REDIS_URL`` when set, else ``REDIS_URL``, else None (disk)."""
    return settings.session_redis_url()


def session_store() -> SessionStore:
    """The store for this configuration: Redis when a URL is set, else the sessions disk cache."""
    url = redis_url()
    return RedisSessionStore(url) if url else DiskSessionStore()
