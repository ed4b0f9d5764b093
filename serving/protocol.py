"""Dash's callback protocol, checked before Dash reads a request.

Dash answers a malformed ``/_dash-update-component`` body, or one naming an output no server
callback has (a made-up id, a clientside callback's output), with an HTML 500 from deep in its
dispatch. Checked here first, such a request gets a 400 with a short JSON message instead; a
well-formed call to a real callback goes on to Dash untouched. The same 400 answers a body nested
more deeply than any callback's values (``MAX_DEPTH``; the JSON parser itself would fail with a
RecursionError past about a thousand levels) and one whose outputs, inputs or states are fewer,
more or of another shape than the callback declares.

A callback body over ``RNNX_MAX_CALLBACK_KB`` (``settings.callback_limit_bytes``) is refused with
a 413 before it is read: from its Content-Length when it has one, else as soon as reading passes
the limit (a chunked body). Files never travel in callbacks: they go to ``serving.upload_route``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from model import nesting
from serving import settings

ENDPOINT = "_dash-update-component"
MAX_DEPTH = 100  # of a request body's arrays and objects; the app's deepest values are a few levels


def problem(body: object, callbacks: Mapping[str, dict]) -> str | None:
    """What is wrong with a callback request body (None: nothing; Dash takes it from here).

    ``callbacks``: Dash's callback map (output -> spec); a server callback's spec holds its ``callback``."""
    output = body.get("output") if isinstance(body, dict) else None
    lists = isinstance(body, dict) and all(isinstance(body.get(k, []), list) for k in ("inputs", "state"))
    if not isinstance(output, str) or not lists:
        return "This is not a Dash callback request."
    spec = callbacks.get(output) or {}
    if "callback" not in spec:
        return "No callback of this server has that output."
    for part in ("inputs", "state"):
        sent, declared = body.get(part, []), spec.get(part) or []
        if len(sent) != len(declared) or not all(_is_item(item) for item in sent):
            return (
                f"The request's {part} do not match the callback: it takes {len(declared)} "
                f"{'input' if part == 'inputs' else 'state'} value(s), each an id, a property and a value."
            )
    if not _outputs_match(body.get("outputs"), output):
        return "The request's outputs do not match the callback's."
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "The request's changedPropIds are malformed."
    return None


def _outputs_match(outputs: object, output: str) -> bool:
    """Whether ``outputs`` names the callback's outputs as the renderer sends them: one output as an
    ``{"id", "property"}`` object (a list of them for a pattern-matching id), several
    (``..a.b...c.d..``) as a list of as many."""
    if not output.startswith(".."):
        return _output_item(outputs, output)
    parts = output[2:-2].split("...")
    return (
        isinstance(outputs, list)
        and len(outputs) == len(parts)
        and all(_output_item(one, part) for one, part in zip(outputs, parts, strict=True))
    )


def _output_item(item: object, part: str) -> bool:
    return _is_item(item) and (isinstance(item, dict) or part.startswith("{"))


def _is_item(item: object) -> bool:
    """One input, state or output of a callback request: ``{"id", "property", ...}``, or a list of
    them (a pattern-matching one)."""
    if isinstance(item, list):
        return all(isinstance(one, dict) and _is_item(one) for one in item)
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str | dict)
        and isinstance(item.get("property"), str)
    )


def parse(raw: bytes) -> tuple[object, str | None]:
    """A request body's JSON (None if it is none) and, for one nested too deeply, why it is refused."""
    try:
        return nesting.loads(raw, MAX_DEPTH, "The request"), None
    except nesting.TooDeep as error:
        return None, str(error)
    except ValueError:
        return None, None


def install(server: Flask, callbacks: Callable[[], Mapping[str, dict]]) -> None:
    """Check every callback request against ``callbacks()``, read per request: Dash adds the pages
    router's callback on the first request, after the app is built."""

    def check():
        if request.method != "POST" or not request.path.endswith(ENDPOINT):
            return None
        limit = settings.callback_limit_bytes()
        if (request.content_length or 0) > limit:  # refused unread
            return too_large(limit)
        request.max_content_length = limit  # a chunked body: reading stops at the limit
        raw = request.get_data(cache=True)
        if request.content_length is None and len(raw) >= limit:
            return too_large(limit)
        body, message = parse(raw)
        message = message or problem(body, callbacks())
        return None if message is None else (jsonify({"message": message}), 400)

    server.before_request(check)
    server.register_error_handler(RequestEntityTooLarge, lambda _error: too_large(_limit_here()))


def too_large(limit: int):
    """The JSON 413 of a body over ``limit`` bytes."""
    what = "a page request may be" if request.path.endswith(ENDPOINT) else "the server accepts"
    message = f"This request is larger than {what} ({limit / 1024:,.0f} KB): it was refused."
    if request.path.endswith(ENDPOINT):
        message += " The limit is RNNX_MAX_CALLBACK_KB; files go through the upload panel."
    return jsonify({"message": message}), 413


def _limit_here() -> int:
    """The body limit of this request: a callback's, or Flask's (an upload's)."""
    if request.path.endswith(ENDPOINT):
        return settings.callback_limit_bytes()
    return settings.request_limit_bytes()
