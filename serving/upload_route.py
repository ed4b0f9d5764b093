"""``POST <prefix>upload/<slot>``: a file for the bring-your-own panel, received as a stream.

The page's script (``assets/uploads.js``) posts the file as ``multipart/form-data`` (one part
named ``file``) with the header ``X-Requested-With: XMLHttpRequest``: a cross-site form cannot
add that header, and a cross-site script cannot send it without a CORS grant this server never
gives. The body is parsed as it arrives and written to disk in chunks; a body announced over the
limit is refused unread, one that passes it while arriving is refused at that moment (413).

The reply is JSON: ``{"slot", "file": {"id", "name", "size", "facts"}}`` for a kept file, else
``{"error": message}`` with a 4xx/5xx status. The file belongs to the session of the signed
cookie (``services.identity``); demo mode refuses every upload.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, File, MultipartDecoder, NeedData

from services import byo, identity, uploads
from serving import settings

PATH = "upload"
HEADER = "X-Requested-With"
CHUNK = 1 << 16
REFUSED = (
    "Uploads are switched off on this read-only demo server: run RNN Explorer yourself to analyse "
    "your own model."
)


def url_rule(prefix: str) -> str:
    """The route under Dash's routes prefix (``/`` or ``/x/``)."""
    return f"{prefix}{PATH}/<slot>"


def _error(message: str, status: int):
    return jsonify({"error": message}), status


def _events(decoder: MultipartDecoder, stream) -> Iterator:
    """The decoder's events, feeding it the body in chunks as it asks for more."""
    while True:
        try:
            event = decoder.next_event()
        except ValueError as error:
            raise uploads.FormError("The upload did not arrive whole: drop the file again.") from error
        if isinstance(event, NeedData):
            chunk = stream.read(CHUNK)
            decoder.receive_data(chunk or None)
            continue
        yield event
        if isinstance(event, Epilogue):
            return


def file_part(stream, boundary: bytes) -> tuple[str | None, Iterator[bytes]]:
    """The file name and the data chunks of the body's part named ``file`` (read lazily)."""
    events = _events(MultipartDecoder(boundary, max_form_memory_size=CHUNK, max_parts=16), stream)
    for event in events:
        if isinstance(event, File) and event.name == "file":
            break
    else:
        raise uploads.FormError("The request holds no file (a form part named 'file').")

    def chunks() -> Iterator[bytes]:
        for part in events:
            if isinstance(part, Data):
                if part.data:
                    yield part.data
                if not part.more_data:
                    return
        raise uploads.FormError("The upload did not arrive whole: drop the file again.")

    return event.filename, chunks()


def _refusal(slot: str) -> tuple[str, int] | None:
    """Why this request may not upload at all (message, status), before its body is read."""
    if not settings.uploads_allowed():
        return REFUSED, 403
    if (
        request.headers.get(HEADER) != "XMLHttpRequest"
        or request.headers.get("Sec-Fetch-Site") == "cross-site"
    ):
        return "Uploads are accepted only from the page itself.", 403
    if getattr(g, "rnnx_new_session", True):
        return "Your browser session is missing or has expired: reload the page.", 403
    if slot not in uploads.SLOTS:
        return "Unknown upload slot: use model, csv or vocab.", 404
    if (request.content_length or 0) > settings.request_limit_bytes():
        return uploads.too_large_message(slot), 413
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        return "Send the file as multipart/form-data.", 400
    return None


def receive(slot: str):
    """The view: keep the posted file for this session, or say why not."""
    refused = _refusal(slot)
    if refused:
        return _error(*refused)
    boundary = parse_options_header(request.headers["Content-Type"])[1]["boundary"].encode("latin-1")
    expected = request.content_length or settings.request_limit_bytes()
    try:
        filename, chunks = file_part(request.stream, boundary)
        staged = uploads.receive(slot, filename, chunks, min(expected, settings.request_limit_bytes()))
    except (uploads.UploadTooLarge, RequestEntityTooLarge):
        return _error(uploads.too_large_message(slot), 413)
    except uploads.FormError as error:
        return _error(str(error), 400)
    except uploads.NoRoom as error:
        return _error(str(error), 507)
    except (uploads.UploadRefused, identity.SessionError) as error:
        return _error(str(error), 403)
    except byo.CacheWriteError as error:
        return _error(str(error), 507)
    except BadRequest:  # the client went away mid-body
        return _error("The upload did not arrive whole: drop the file again.", 400)
    except byo.InputError as error:
        return _error(uploads.public_message(str(error)), 422)
    except (ValueError, UnicodeDecodeError) as error:  # a file the parsers choke on
        return _error(f"This file could not be read ({uploads.public_message(str(error))[:200]}).", 422)
    facts = staged.facts
    return jsonify(
        {"slot": slot, "file": {"id": staged.id, "name": staged.name, "size": staged.size, "facts": facts}}
    )


def install(server: Flask, routes_prefix: str) -> None:
    """Serve uploads at ``<routes_prefix>upload/<slot>`` (the browser adds Dash's requests prefix)."""
    server.add_url_rule(url_rule(routes_prefix), "rnnx_upload", receive, methods=["POST"])
