"""Dash's callback protocol, checked before Dash reads a request.

Dash answers a malformed ``/_dash-update-component`` body, or one naming an output no server
callback has (a made-up id, a clientside callback's output), with an HTML 500 from deep in its
dispatch. Checked here first, such a request gets a 400 with a short JSON message instead; a
well-formed call to a real callback goes on to Dash untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask, jsonify, request

ENDPOINT = "_dash-update-component"


def problem(body: object, callbacks: Mapping[str, dict]) -> str | None:
    """What is wrong with a callback request body (None: nothing; Dash takes it from here).

    ``callbacks``: Dash's callback map (output -> spec); a server callback's spec holds its ``callback``."""
    output = body.get("output") if isinstance(body, dict) else None
    lists = isinstance(body, dict) and all(isinstance(body.get(k, []), list) for k in ("inputs", "state"))
    if not isinstance(output, str) or not lists:
        return "This is not a Dash callback request."
    if "callback" not in (callbacks.get(output) or {}):
        return "No callback of this server has that output."
    return None


def install(server: Flask, callbacks: Callable[[], Mapping[str, dict]]) -> None:
    """Check every callback request against ``callbacks()``, read per request: Dash adds the pages
    router's callback on the first request, after the app is built."""

    def check():
        if request.method != "POST" or not request.path.endswith(ENDPOINT):
            return None
        message = problem(request.get_json(silent=True), callbacks())
        return None if message is None else (jsonify({"message": message}), 400)

    server.before_request(check)
