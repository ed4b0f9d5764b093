"""Claim links: hand an upload prepared outside the page (``rnnx.explore``) to the browser that opens it.

A prepared upload is shown only to the browser session that owns it (``services.uploads``). A
notebook prepares its model in its own process, where there is no browser session yet, so it
:func:`issue` s a claim token: 32 random bytes (``secrets.token_urlsafe``), the only capability
the link carries (never a path). The first browser session that opens ``<prefix>claim/<token>``
(``serving.claim_route``) gets the upload registered as its own (:func:`claim`); the token is then
bound to that session, so the same browser may open the link again (a notebook re-rendering its
output) while any other session, like an unknown or expired token, is refused with one message.

Tokens live in the sessions cache (the state folder, shared by every worker and by the notebook's
process), stored under a hash of the token, and expire after ``RNNX_CLAIM_TTL_H`` (default 12).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from model import cache, config
from services import identity, uploads
from services.datasets import UPLOAD_ID
from services.validation import InvalidInput

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
MAX_LABEL = 200
UNKNOWN = (
    "This RNN Explorer link is unknown, has expired or was already opened in another browser: "
    "run rnnx.explore again for a new link."
)


class Unclaimable(InvalidInput):
    """A token that names nothing this session may claim; the message is meant for the user."""


def ttl_seconds() -> float:
    """How long a claim link stays valid (``RNNX_CLAIM_TTL_H``, default 12 hours, at most 30 days)."""
    hours = config.env_number("RNNX_CLAIM_TTL_H", 12.0, minimum=1 / 60)
    return min(hours, 30 * 24) * 3600


def _key(token: str) -> str:
    """The store key of ``token``: its hash, so the store itself holds no usable link."""
    return "explore-claim:" + hashlib.sha256(token.encode()).hexdigest()


def issue(dataset: str, label: str) -> str:
    """A fresh claim token for the prepared upload ``dataset`` (shown as ``label`` in the page's list)."""
    if not isinstance(dataset, str) or not UPLOAD_ID.match(dataset):
        raise InvalidInput("Only a prepared upload can be claimed.")
    token = secrets.token_urlsafe(32)
    seconds = ttl_seconds()
    record = {
        "dataset": dataset,
        "label": str(label)[:MAX_LABEL],
        "session": None,
        "expires": time.time() + seconds,
    }
    try:
        cache.sessions_cache().set(_key(token), record, expire=seconds)
    except OSError as error:
        raise cache.CacheWriteError(f"The link could not be stored ({error.strerror}).") from error
    return token


def claim(token: object) -> str:
    """Register the upload of ``token`` for this request's session; returns its dataset id.

    Unclaimable (one message for every case, so a guess learns nothing) when the token is
    malformed, unknown, expired or bound to another session; NoRoom (from
    ``services.uploads.register_dataset``) when its results do not fit.
    """
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise Unclaimable(UNKNOWN)
    sid = identity.current_session()
    store, key = cache.sessions_cache(), _key(token)
    with store.transact():  # two first visits at once: one of them binds the token
        record = store.get(key)
        remaining = record["expires"] - time.time() if isinstance(record, dict) else 0
        if remaining <= 0 or record.get("session") not in (None, sid):
            raise Unclaimable(UNKNOWN)
        if record["session"] is None:
            store.set(key, {**record, "session": sid}, expire=remaining)
    uploads.register_dataset(record["dataset"], record["label"])
    return record["dataset"]
