"""Honest health: how a Redis outage reaches the page, and riding out a restart.

* What ``/readyz`` checks is :mod:`serving.readiness`.
* :func:`is_dependency_error` recognises a lost Redis (redis-py or kombu errors, anywhere in the
  exception's chain); :func:`install_error_handlers` turns one that escapes a callback into a
  readable alert in the page (``app-error``) and, elsewhere, into a JSON 503.
* :class:`ResilientCeleryManager` is Dash's CeleryManager whose poll requests answer "still
  running" (with a notice for the page) while Redis is unreachable, instead of failing the
  request and abandoning the job: after a short restart the job's result still arrives.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from functools import lru_cache
from typing import Any

from celery.backends.redis import RedisBackend
from dash import CeleryManager
from flask import Flask, jsonify, request

log = logging.getLogger("rnnx.health")

ALERT_ID = "app-error"  # the app-level dbc.Alert created in app.create_app

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
