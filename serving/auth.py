"""Optional HTTP basic auth for team servers (see docs/deployment.md).

Users come from ``RNNX_AUTH_USERS`` and/or the file named by ``RNNX_AUTH_FILE`` (the file wins
on clashes); with no user configured, auth is off. File lines are ``user:password``, ``#`` lines
skipped, never split on commas. In ``RNNX_AUTH_USERS`` entries are split on commas or newlines,
but a comma piece without a ``:`` belongs to the previous password (``alice:a,b,bob:pw``: alice
``a,b``, bob ``pw``), and ``\\,`` is always a literal comma. A password may be a werkzeug hash
(``scrypt:...``/``pbkdf2:...``, from ``python -m serving.auth hash PASSWORD``).

A hash is checked once per login: a good login gets a signed HttpOnly cookie (``rnnx_auth``)
naming the user and a keyed digest of the stored credential, so a new password ends old logins.
Every attempt costs the same work, for unknown, clear-text and hashed users alike; failed logins are counted per client address and
per user name in the shared sessions cache (429 past the limit). No secret is ever logged.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import diskcache
from flask import Flask, Response, after_this_request, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from model import cache, config
from services import identity

HASH_PREFIXES = ("scrypt:", "pbkdf2:")
REALM = "RNN Explorer"
COOKIE = "rnnx_auth"
_SALT = "rnnx-auth"
_FAIL_PREFIX = "auth-fail:"
_DUMMY_CLEAR = b"rnnx-dummy-password-for-unknown-users"
_ESCAPED_COMMA = re.compile(r"(?<!\\),")


def _env_int(name: str, default: int) -> int:
    return max(int(config.env_number(name, default)), 1)


def _entry(text: str, where: str) -> tuple[str, str] | None:
    """``(user, password)`` of one entry, None for blank/comment; errors name ``where`` and the user only."""
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    name, sep, password = text.partition(":")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"{where}: expected 'user:password'")
    if not password:
        raise ValueError(f"{where} (user {name!r}): empty password")
    return name, password


def _collect(entries: Iterable[str], label: str) -> dict[str, str]:
    """``{user: password}`` of numbered entries; later entries win."""
    parsed = (_entry(text, f"{label} {number}") for number, text in enumerate(entries, 1))
    return dict(pair for pair in parsed if pair)


def parse_users(text: str) -> dict[str, str]:
    """``RNNX_AUTH_USERS``: entries split on newlines and unescaped commas (see the module docstring)."""
    entries: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        for i, piece in enumerate(_ESCAPED_COMMA.split(line)):
            piece = piece.replace("\\,", ",")
            if i > 0 and ":" not in piece:
                entries[-1] += "," + piece
            else:
                entries.append(piece)
    return _collect(entries, "RNNX_AUTH_USERS entry")


def parse_file(text: str) -> dict[str, str]:
    """``RNNX_AUTH_FILE``: one ``user:password`` a line, never split on commas."""
    return _collect(text.splitlines(), "RNNX_AUTH_FILE line")


def load_users(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The configured users, from ``RNNX_AUTH_USERS`` and ``RNNX_AUTH_FILE`` (file wins on clashes)."""
    env = os.environ if environ is None else environ
    users = parse_users(env.get("RNNX_AUTH_USERS", ""))
    path = env.get("RNNX_AUTH_FILE", "").strip()
    if path:
        users.update(parse_file(Path(path).expanduser().read_text()))
    return users


@functools.lru_cache(maxsize=8)
def _dummy_hash(method: str) -> str:
    """A hash of a random password with ``method``, made once, for checks of unknown users."""
    try:
        return generate_password_hash(os.urandom(16).hex(), method=method)
    except (ValueError, TypeError):
        return generate_password_hash(os.urandom(16).hex())


def _method_of(stored: str | None) -> str | None:
    """The hash method of a stored password (``scrypt:32768:8:1``, cost included), None for clear text."""
    return stored.split("$", 1)[0] if stored and stored.startswith(HASH_PREFIXES) else None


def _hash_methods(users: Mapping[str, str]) -> list[str]:
    """Every hash method among the configured passwords (empty when all are clear text)."""
    return sorted({method for method in map(_method_of, users.values()) if method})


def _verify_hash(stored: str, password: str) -> bool:
    try:
        return check_password_hash(stored, password)
    except (ValueError, TypeError):  # a malformed stored hash never matches
        return False


def check(users: Mapping[str, str], username: str | None, password: str | None) -> bool:
    """True when the credentials match a configured user.

    Every attempt costs the same work, whoever it names: one clear-text comparison and one hash check
    of each hash method configured (the user's own hash for its method, a dummy hash for the others),
    so neither an unknown user nor a clear-text one answers sooner than a user with a hashed password.
    """
    if not username or password is None:
        return False
    stored = users.get(username)
    own = _method_of(stored)
    clear = stored if stored is not None and own is None else None
    clear_ok = hmac.compare_digest(clear.encode() if clear is not None else _DUMMY_CLEAR, password.encode())
    hash_ok = False
    for method in _hash_methods(users):
        if method == own:
            hash_ok = _verify_hash(stored, password)
        else:
            _verify_hash(_dummy_hash(method), password)
    if stored is None:
        return False
    return hash_ok if own is not None else clear_ok


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _fail_keys(address: str | None, username: str) -> list[str]:
    """Bounded cache keys of the failure counters for a client address and a user name."""
    return [f"{_FAIL_PREFIX}addr:{_digest(address or '?')}", f"{_FAIL_PREFIX}user:{_digest(username)}"]


def retry_after(address: str | None, username: str) -> int:
    """Seconds until this address and user may try again; 0 when not blocked (or the cache fails)."""
    limit, now, wait = _env_int("RNNX_AUTH_MAX_FAILURES", 10), time.time(), 0.0
    try:
        store = cache.sessions_cache()
        for key in _fail_keys(address, username):
            count, expires = store.get(key, default=0, expire_time=True)
            if isinstance(count, int) and count >= limit:
                wait = max(wait, (expires or now + 1) - now)
    except (OSError, sqlite3.Error, diskcache.Timeout):
        return 0
    return math.ceil(wait) if wait > 0 else 0


def record_failure(address: str | None, username: str) -> None:
    """Count one failed login for the address and the user, each counter expiring after the window."""
    window = _env_int("RNNX_AUTH_FAIL_WINDOW_S", 300)
    try:
        store = cache.sessions_cache()
        for key in _fail_keys(address, username):
            store.incr(key, retry=True)
            _, expires = store.get(key, default=0, expire_time=True)
            if expires is None:  # a fresh counter: start its window
                store.touch(key, window, retry=True)
    except (OSError, sqlite3.Error, diskcache.Timeout):
        pass


def _challenge() -> Response:
    challenge = f'Basic realm="{REALM}", charset="UTF-8"'
    return Response("Login required.\n", 401, {"WWW-Authenticate": challenge}, mimetype="text/plain")


def _too_many(seconds: int) -> Response:
    message = f"Too many failed logins; try again in {seconds} s.\n"
    return Response(message, 429, {"Retry-After": str(seconds)}, mimetype="text/plain")


def install(
    server: Flask, users: Mapping[str, str], exempt: Iterable[str] = ("/healthz",), secret: str | None = None
) -> None:
    """Refuse every request but the ``exempt`` paths without a valid login cookie or credentials.

    The hook runs before Dash's own, so no page, asset or callback answers a stranger.
    """
    if not users:
        return
    users = dict(users)
    open_paths = frozenset(exempt)
    key = secret or identity.secret_key()
    signer = URLSafeTimedSerializer(key, salt=_SALT)
    max_age = _env_int("RNNX_AUTH_MAX_AGE_S", 12 * 3600)
    tags = {
        name: hmac.new(key.encode(), f"{name}\0{stored}".encode(), hashlib.sha256).hexdigest()[:16]
        for name, stored in users.items()
    }

    def cookie_user() -> str | None:
        raw = request.cookies.get(COOKIE)
        if not raw or len(raw) > 512:
            return None
        try:
            name, tag = signer.loads(raw, max_age=max_age)
        except (BadSignature, ValueError, TypeError):
            return None
        expected = tags.get(name) if isinstance(name, str) else None
        return name if expected and isinstance(tag, str) and hmac.compare_digest(expected, tag) else None

    def require_login() -> Response | None:
        if request.path in open_paths:
            return None
        given = request.authorization
        name = given.username if given is not None and given.type == "basic" else None
        password = given.password if given is not None and name else None
        known = cookie_user()
        if known is not None and (not name or name == known):
            return None
        if not name or password is None:
            return _challenge()
        address = request.remote_addr
        wait = retry_after(address, name)
        if wait:
            return _too_many(wait)
        if not check(users, name, password):
            record_failure(address, name)
            return _challenge()
        value = signer.dumps([name, tags[name]])

        @after_this_request
        def remember(response: Response) -> Response:
            response.set_cookie(
                COOKIE, value, max_age=max_age, httponly=True, samesite="Lax", secure=request.is_secure
            )
            return response

        return None

    server.before_request_funcs.setdefault(None, []).insert(0, require_login)


def main(argv: list[str]) -> int:
    """``python -m serving.auth hash PASSWORD`` prints a hash for RNNX_AUTH_FILE."""
    if len(argv) != 2 or argv[0] != "hash":
        print("usage: python -m serving.auth hash PASSWORD", file=sys.stderr)
        return 2
    print(generate_password_hash(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
