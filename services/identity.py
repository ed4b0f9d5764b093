"""Who is asking: a server-issued session id in a signed cookie, and the secret that signs it.

The browser never chooses its session id. The first request without a valid
cookie gets a fresh id (32 hex digits) signed with the server's secret; every
handle the browser later sends (uploads, datasets, trainer tabs) is checked
against the session in this cookie. Background jobs read the same cookie from
Dash's callback context.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from flask import Flask, Response, g, has_request_context, request
from itsdangerous import BadSignature, URLSafeSerializer

from model import cache, config

COOKIE = "rnnx_session"
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
TAB_ID = re.compile(r"^[0-9a-f]{32}$")
_SALT = "rnnx-session"


class SessionError(PermissionError):
    """The request carries no valid session; the message is meant for the user."""


def secret_key() -> str:
    """The signing secret: ``RNNX_SECRET_KEY``, else one kept in the state folder (shared by workers)."""
    key = config.env_text("RNNX_SECRET_KEY")
    if key:
        return key
    path = cache.state_dir() / "secret.key"
    try:
        key = path.read_text().strip()
        if key:
            return key
    except OSError:
        pass
    key = secrets.token_hex(32)
    try:
        _write_once(path, key)
        key = path.read_text().strip()
    except OSError:
        os.environ["RNNX_SECRET_KEY"] = key  # children (background jobs) inherit it
    return key


def _write_once(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless another process got there first (atomic link)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink(missing_ok=True)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(), salt=_SALT)


def sign(session_id: str) -> str:
    return _serializer().dumps(session_id)


def verify(cookie: str | None) -> str | None:
    """The session id in a cookie value, or None when it is missing, forged or malformed."""
    if not isinstance(cookie, str) or not cookie or len(cookie) > 200:
        return None
    try:
        value = _serializer().loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) and SESSION_ID.match(value) else None


def _cookies() -> dict:
    if has_request_context():
        return request.cookies
    import dash

    try:
        return dash.callback_context.cookies or {}
    except Exception:  # noqa: BLE001 - outside any callback: no session
        return {}


def current_session() -> str:
    """The session id of the request (or background job) being served; SessionError if none."""
    if has_request_context() and getattr(g, "rnnx_session", None):
        return g.rnnx_session
    sid = verify(_cookies().get(COOKIE))
    if sid is None:
        raise SessionError("Your browser session is missing or has expired: reload the page.")
    return sid


def install(server: Flask, base_path: str = "/") -> None:
    """Issue a signed session cookie to every browser that has none (or a forged one)."""

    def ensure_session() -> None:
        sid = verify(request.cookies.get(COOKIE))
        g.rnnx_new_session = sid is None
        g.rnnx_session = sid or secrets.token_hex(16)

    def set_cookie(response: Response) -> Response:
        if getattr(g, "rnnx_new_session", False):
            response.set_cookie(
                COOKIE,
                sign(g.rnnx_session),
                httponly=True,
                samesite="Lax",
                secure=config.env_flag("RNNX_SECURE_COOKIES"),
                path=base_path,
            )
        return response

    server.before_request(ensure_session)
    server.after_request(set_cookie)


def check_tab(tab: object) -> str:
    """A browser tab's id as issued by the page (32 hex digits); SessionError otherwise."""
    if isinstance(tab, str) and TAB_ID.match(tab):
        return tab
    raise SessionError("This page's session id is malformed: reload the page.")


def tab_key(tab: object) -> str:
    """A per-tab key bound to the cookie's session: another browser's tab id reaches nothing."""
    return f"{current_session()}-{check_tab(tab)}"
