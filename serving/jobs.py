"""Background-callback managers whose jobs belong to the session that started them.

Dash keys a background job by the callback's source and arguments only, so two sessions clicking
the same button with the same values shared one job: the second read the first one's reply
(another user's upload name, row count and accuracy) and its own was lost. Here every job key
starts with a tag of the requesting session (:func:`session_tag`, a hash: the id itself never
appears) followed by a hash of the session and Dash's key; polls, progress, results and
``set_props`` updates are answered only for keys of the polling session. Two sessions may still
share a cached artefact (``model.cache``); never a job's reply.

Jobs forked on this machine (:class:`SessionDiskcacheManager`) close the listening socket they
inherited and end with the web process (``model.lifeline``), so a server killed with ``-9``
restarts at once.
"""

from __future__ import annotations

import hashlib
from typing import Any

from dash import DiskcacheManager

from model import lifeline
from serving import health

TAG_LENGTH = 16


def session_tag(session_id: str) -> str:
    """The first characters of every job key of ``session_id`` (a hash; the id is not recoverable)."""
    return hashlib.sha256(f"rnnx-job|{session_id}".encode()).hexdigest()[:TAG_LENGTH]


def _requesting_session() -> str:
    from services import identity

    try:
        return identity.current_session()
    except identity.SessionError:
        return "anonymous"


def session_key(session_id: str, dash_key: str) -> str:
    """A job key bound to ``session_id``: its tag, then a hash of the session and Dash's own key."""
    return session_tag(session_id) + hashlib.sha256(f"{session_id}|{dash_key}".encode()).hexdigest()


class SessionJobs:
    """Mixin for a Dash background-callback manager: job keys, polls and results per session."""

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
        dash_key = super().build_cache_key(fn, args, cache_args_to_ignore, triggered)
        return session_key(_requesting_session(), dash_key)

    @staticmethod
    def mine(key: object) -> bool:
        """Whether job ``key`` belongs to the session of the request being served."""
        return isinstance(key, str) and key.startswith(session_tag(_requesting_session()))

    def get_progress(self, key):
        return super().get_progress(key) if self.mine(key) else None

    def result_ready(self, key):
        return bool(self.mine(key) and super().result_ready(key))

    def get_result(self, key, job):
        return super().get_result(key, job) if self.mine(key) else self.UNDEFINED

    def get_updated_props(self, key):
        return super().get_updated_props(key) if self.mine(key) else {}


def _detached(job_fn):
    """``job_fn`` run in a forked process that first lets go of the server (``model.lifeline``)."""

    def run(*args: Any) -> Any:
        lifeline.detach_from_server()
        return job_fn(*args)

    return run


class SessionDiskcacheManager(SessionJobs, DiskcacheManager):
    """Jobs in processes forked on this machine, results in diskcache; per session."""

    def call_job_fn(self, key, job_fn, args, context):
        return super().call_job_fn(key, _detached(job_fn), args, context)


class SessionCeleryManager(SessionJobs, health.ResilientCeleryManager):
    """Jobs on Celery workers (polls survive a Redis restart); per session."""
