"""``GET claim/<token>``: the link ``rnnx.explore`` prints, handing its prepared upload to this browser.

The view registers the token's upload for the visiting session (``services.claims``: the first
session binds the token, only that one may open it again) and redirects to the analytics page
showing it. An unknown, expired or someone else's token gets a 404 page with a message; no room
for its results a 507; a read-only demo server a 403. Nothing from the request reaches the page
but the token, checked against a fixed pattern; the redirect names only the dataset id.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from flask import Flask, Response, redirect

from serving import settings

RULE = "claim/<token>"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RNN Explorer</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem; max-width: 40rem">
<h1 style="font-size: 1.4rem">RNN Explorer</h1><p>{message}</p><p><a href="{home}">Open RNN Explorer</a></p>
</body></html>
"""


def _page(status: int, message: str, home: str) -> Response:
    body = PAGE.format(message=html.escape(message), home=html.escape(home))
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token never travels further
    return response


def make_view(page_prefix: str):
    """The view; ``page_prefix``: where the browser reaches the pages (Dash's requests prefix)."""

    def claim(token: str) -> Response:
        from services import claims, identity, uploads

        if not settings.uploads_allowed():
            return _page(403, "This read-only demo server does not take your own models.", page_prefix)
        try:
            dataset = claims.claim(token)
        except claims.Unclaimable as refused:
            return _page(404, str(refused), page_prefix)
        except uploads.NoRoom as refused:
            return _page(507, str(refused), page_prefix)
        except (uploads.UploadRefused, identity.SessionError) as refused:
            return _page(403, str(refused), page_prefix)
        response = redirect(f"{page_prefix}analytics?dataset={quote(dataset)}", code=303)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return claim


def install(server: Flask, routes_prefix: str = "/", page_prefix: str = "/") -> None:
    """Serve :data:`RULE` at the root and, behind a URL prefix, under it too (as ``/download``)."""
    view = make_view(page_prefix)
    server.add_url_rule(f"/{RULE}", "explore_claim", view)
    if routes_prefix != "/":
        server.add_url_rule(f"{routes_prefix}{RULE}", "explore_claim_prefixed", view)
