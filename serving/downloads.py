"""``GET /download/<token>``: an export built on disk, streamed to the session it was issued to.

The token is the opaque, random handle ``services.exports.request`` gave the page; any other
session (or a made-up, expired token) gets a 404 with a message, a file still being built a 409.
The file is sent from disk in blocks (``send_file``: the server's file wrapper, ``sendfile`` under
gunicorn), never read into memory, with a plain ASCII name in ``Content-Disposition``.
"""

from __future__ import annotations

from flask import Flask, Response, send_file

RULE = "download/<token>"


def download(token: str) -> Response:
    """The file of ``token`` as an attachment, or a short plain-text message with the status."""
    from services import exports

    try:
        served = exports.resolve(token)
        response = send_file(
            served.path,
            mimetype=served.media_type,
            as_attachment=True,
            download_name=served.filename,
            conditional=True,
            etag=True,
            max_age=0,
        )
    except exports.NotServed as refused:
        return _message(refused.status, str(refused))
    except FileNotFoundError:  # removed to make room between the check and the open
        return _message(409, "This file was removed to make room: export it again from the analytics page.")
    response.headers["Cache-Control"] = "private, max-age=0"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _message(status: int, text: str) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def install(server: Flask, routes_prefix: str = "/") -> None:
    """Serve :data:`RULE` at the root and, behind a URL prefix, under it too (as ``/healthz``)."""
    server.add_url_rule(f"/{RULE}", "download", download)
    if routes_prefix != "/":
        server.add_url_rule(f"{routes_prefix}{RULE}", "download_prefixed", download)
