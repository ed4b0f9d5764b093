"""Optional HTTP basic auth for team servers.

Users come from ``RNNX_AUTH_USERS`` (``alice:secret,bob:pw``) and/or the file
named by ``RNNX_AUTH_FILE`` (one ``user:password`` a line, ``#`` comments).  A
password may be a werkzeug hash (``scrypt:...`` or ``pbkdf2:...``, made with
``python -m serving.auth hash``), so the file need not hold clear text.
When no user is configured, auth is off.
"""

from __future__ import annotations

import hmac
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.security import check_password_hash, generate_password_hash

HASH_PREFIXES = ("scrypt:", "pbkdf2:")
REALM = "RNN Explorer"


def parse_users(text: str) -> dict[str, str]:
    """``user:password`` pairs separated by commas or newlines; blank and ``#`` lines skipped."""
    users: dict[str, str] = {}
    for line in text.replace(",", "\n").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, password = line.partition(":")
        if not sep or not name.strip() or not password:
            raise ValueError(f"auth entry without 'user:password': {name.strip()!r}")
        users[name.strip()] = password
    return users


def load_users(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The configured users, from ``RNNX_AUTH_USERS`` and ``RNNX_AUTH_FILE`` (file wins on clashes)."""
    env = os.environ if environ is None else environ
    users = parse_users(env.get("RNNX_AUTH_USERS", ""))
    path = env.get("RNNX_AUTH_FILE", "").strip()
    if path:
        users.update(parse_users(Path(path).expanduser().read_text()))
    return users


def check(users: Mapping[str, str], username: str | None, password: str | None) -> bool:
    """True when the credentials match a configured user (constant-time for clear-text passwords)."""
    if not username or password is None or username not in users:
        return False
    stored = users[username]
    if stored.startswith(HASH_PREFIXES):
        return check_password_hash(stored, password)
    return hmac.compare_digest(stored.encode(), password.encode())


def install(server: Flask, users: Mapping[str, str], exempt: Iterable[str] = ("/healthz",)) -> None:
    """Refuse every request but the ``exempt`` paths without valid credentials.

    The hook runs before Dash's own, so no page, asset or callback answers a stranger.
    """
    if not users:
        return
    users = dict(users)
    open_paths = frozenset(exempt)

    def require_login() -> Response | None:
        if request.path in open_paths:
            return None
        given = request.authorization
        if given is not None and check(users, given.username, given.password):
            return None
        return Response(
            "Login required.\n", 401, {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'}
        )

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
