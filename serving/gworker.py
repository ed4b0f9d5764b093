"""gunicorn worker: health is never queued, and a slow client never holds a thread.

In gunicorn's ``gthread`` worker every accepted connection goes straight to the thread pool, and a
pool thread then blocks reading the request head. So a handful of slow clients (slowloris: a
partial head, one header line every few seconds) hold every thread, and ``/healthz`` waits
behind them and behind slow callbacks until the container's health check gives up.

:class:`HealthWorker` (``worker_class`` in ``gunicorn.conf.py``) is that worker with one change: a
connection, new or kept alive, is read in the worker's main loop (non-blocking, as it becomes
readable) until its whole request head has arrived, and a small body too (``Content-Length`` up to
:data:`BODY_BUFFER`). Only then is it queued to the pool, with those bytes handed to gunicorn's own
parser, so a pool thread never waits on a client. On the way:

* ``GET``/``HEAD /healthz`` is answered right there, in the main loop: the same JSON as the Flask
  view (``serving.readiness.liveness``), no I/O, then the connection is closed;
* ``GET``/``HEAD /readyz`` is answered from a result a background thread refreshes every
  :data:`READY_REFRESH_S` seconds while ``/readyz`` is being asked (and not at all otherwise);
  a request that finds no fresh result waits off the pool, parked, for the next one (about 2 s);
* both also at ``RNNX_BASE_PATH`` (``/rnn/healthz``), like the Flask routes;
* a connection that has not sent its head within ``RNNX_HEADER_TIMEOUT_S`` (10 s) gets a 408 and
  is closed (one that never sent a byte is just closed); a head over :data:`HEAD_LIMIT` gets a 431.

The bytes are read rather than peeked (``MSG_PEEK``): the poller is level-triggered, so a socket
holding half a head stays readable and a peeking loop would spin on it. TLS, HTTP/2 prior
knowledge and the uWSGI protocol are left to the stock code path (this project uses none of them).
"""

from __future__ import annotations

import contextlib
import errno
import json
import selectors
import threading
import time
from email.utils import formatdate
from functools import partial
from typing import Any, NamedTuple

from gunicorn import http
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_LIMIT = 64 * 1024  # a longer head gets a 431 (nginx's large_client_header_buffers 4 16k: about as much)
BODY_BUFFER = 64 * 1024  # bodies up to this size are read in the main loop too (callback posts)
RECV_CHUNK = 16 * 1024
READY_REFRESH_S = 5.0  # how often /readyz is recomputed while it is being asked
READY_FRESH_S = 10.0  # the oldest result /readyz answers with at once
READY_ACTIVE_S = 60.0  # refreshing stops this long after the last /readyz
READY_WAIT_S = 5.0  # the longest a /readyz waits, parked, for a fresh result
STOP_LINGER_S = 2.0  # a stopping worker gives unfinished heads this long at most
FAST_METHODS = frozenset({"GET", "HEAD"})
STATUS_TEXT = {
    200: "OK",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


# ---------------------------------------------------------------- request heads (pure)


class Head(NamedTuple):
    """What the main loop needs from a request head."""

    method: str
    path: str  # the target without its query
    version: str
    content_length: int | None  # None: no header; -1: unreadable
    chunked: bool  # Transfer-Encoding present
    expect: bool  # Expect present (the client may wait for 100 Continue before its body)


def head_end(buf: bytes | bytearray) -> int:
    """The index just past the blank line that ends the request head in ``buf``, or -1.

    Empty lines before the request line are skipped (RFC 9112, 2.2); a bare ``LF`` line end counts
    too, so that gunicorn's parser, not a timeout, decides about such a head.
    """
    start = 0
    while start < len(buf) and buf[start] in b"\r\n":
        start += 1
    ends = []
    crlf = buf.find(b"\r\n\r\n", start)
    if crlf >= 0:
        ends.append(crlf + 4)
    lf = buf.find(b"\n\n", start)
    if lf >= 0:
        ends.append(lf + 2)
    return min(ends) if ends else -1


def parse_head(raw: bytes) -> Head | None:
    """The request line and the few headers that matter here; None when it is not HTTP/1."""
    lines = raw.decode("latin-1").lstrip("\r\n").split("\n")
    parts = lines[0].rstrip("\r").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    method, target, version = parts
    length: int | None = None
    chunked = expect = False
    for line in lines[1:]:
        name, sep, value = line.rstrip("\r").partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        if name == "content-length":
            value = value.strip()
            length = int(value) if value.isdigit() and length in (None, int(value)) else -1
        elif name == "transfer-encoding":
            chunked = True
        elif name == "expect":
            expect = True
    return Head(method, target.split("?", 1)[0], version, length, chunked, expect)


def body_to_read(head: Head) -> int:
    """How many body bytes to wait for in the main loop (0: queue right after the head)."""
    if head.chunked or head.expect or head.content_length is None:
        return 0
    return head.content_length if 0 < head.content_length <= BODY_BUFFER else 0


def response(version: str, status: int, body: bytes, head_only: bool, extra: tuple[str, ...] = ()) -> bytes:
    """A whole ``Connection: close`` JSON response, as gunicorn would frame it."""
    lines = [
        f"{'HTTP/1.0' if version == 'HTTP/1.0' else 'HTTP/1.1'} {status} {STATUS_TEXT[status]}",
        "Server: gunicorn",
        f"Date: {formatdate(usegmt=True)}",
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)


def json_body(value: Any) -> bytes:
    """JSON as Flask's ``jsonify`` writes it outside debug mode (sorted keys, compact, a newline)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode() + b"\n"


def fast_paths() -> tuple[frozenset[str], frozenset[str]]:
    """The ``/healthz`` and ``/readyz`` paths the app routes (at the root and at its route prefix)."""
    from serving import settings

    kwargs = settings.dash_path_kwargs()
    prefix = kwargs.get("routes_pathname_prefix") or kwargs.get("url_base_pathname") or "/"
    return (
        frozenset({"/healthz", f"{prefix}healthz"}),
        frozenset({"/readyz", f"{prefix}readyz"}),
    )


# ---------------------------------------------------------------- the worker


class HeadConn(TConn):
    """A gthread connection that also holds the bytes read so far of its next request."""

    def __init__(self, cfg, sock, client, server) -> None:
        super().__init__(cfg, sock, client, server)
        self.head = bytearray()
        self.need = -1  # head + body bytes to wait for; -1 until the head is complete
        self.fast = ("HTTP/1.1", False)  # a /healthz or /readyz being answered: (version, HEAD?)


class HealthWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker that reads request heads in its main loop (module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from serving import settings

        self.header_timeout = settings.header_timeout_s()
        self.health_paths, self.ready_paths = fast_paths()
        self.any_fast_path = self.health_paths | self.ready_paths
        self.gathering: dict[HeadConn, float] = {}  # connection -> deadline, oldest first
        self.parked: dict[HeadConn, float] = {}  # /readyz waiting for a fresh result -> deadline
        self.lingering = False
        self.health_body: bytes | None = None
        self.ready: tuple[float, int, bytes] | None = None  # (when, status, body), set by the refresher
        self.ready_asked = float("-inf")
        self.ready_wake = threading.Event()
        self.ready_thread: threading.Thread | None = None

    # -- connections in and out of the main loop

    def can_gather(self, conn: TConn) -> bool:
        return (
            isinstance(conn, HeadConn)
            and not self.cfg.is_ssl
            and getattr(self.cfg, "protocol", "http") == "http"
            and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)
            and not conn.is_http2
        )

    def accept(self, listener) -> None:
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = HeadConn(self.cfg, sock, client, listener.getsockname())  # non-blocking
        if self.can_gather(conn):
            self.gather(conn)
        else:
            self.enqueue_req(conn)

    def on_client_socket_readable(self, conn, client) -> None:
        """A kept-alive connection sends its next request: read its head here too."""
        if not self.can_gather(conn):
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.gather(conn)
        self.on_readable(conn, client)

    def gather(self, conn: HeadConn) -> None:
        deadline = time.monotonic() + (STOP_LINGER_S if self.lingering else self.header_timeout)
        self.gathering[conn] = deadline
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn))

    def forget(self, conn: HeadConn) -> None:
        self.gathering.pop(conn, None)
        self.parked.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def drop(self, conn: HeadConn, reply: bytes = b"") -> None:
        """Close a connection the pool never saw (after ``reply``, sent if the socket takes it)."""
        self.forget(conn)
        if reply:
            try:
                conn.sock.setblocking(False)
                view = memoryview(reply)
                while view:
                    view = view[conn.sock.send(view) :]
            except OSError:
                pass  # a full buffer or a gone client: the reply is best effort
        self.nr_conns -= 1
        conn.close()

    def hand_off(self, conn: HeadConn) -> None:
        """Queue the connection to the pool, its bytes given back to gunicorn's parser."""
        self.forget(conn)
        data, conn.head, conn.need = bytes(conn.head), bytearray(), -1
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(data)
        conn.data_ready = True  # the pool thread must not wait for the socket: the bytes are here
        self.enqueue_req(conn)

    def on_readable(self, conn: HeadConn, _client=None) -> None:
        try:
            data = conn.sock.recv(RECV_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.drop(conn)
            return
        if not data:
            self.drop(conn)  # the client went away before finishing its request
            return
        conn.head += data
        self.advance(conn)

    def advance(self, conn: HeadConn) -> None:
        if conn.need < 0:
            end = head_end(conn.head)
            if end < 0:
                if len(conn.head) > HEAD_LIMIT:
                    reply = json_body({"status": "request header fields too large"})
                    self.drop(conn, response(parse_version(conn.head), 431, reply, False))
                return
            head = parse_head(bytes(conn.head[:end]))
            if head is None:
                self.hand_off(conn)  # not HTTP/1: gunicorn's parser answers it
                return
            if self.answer_fast(conn, head, end):
                return
            conn.need = end + body_to_read(head)
        if len(conn.head) >= conn.need:
            self.hand_off(conn)

    # -- /healthz and /readyz

    def answer_fast(self, conn: HeadConn, head: Head, end: int) -> bool:
        """Answer ``/healthz`` or ``/readyz`` here; False when the request is not one of them."""
        if (
            head.method not in FAST_METHODS
            or head.path not in self.any_fast_path
            or head.chunked
            or (head.content_length or 0) != 0
            or len(conn.head) != end  # nothing pipelined behind it: closing would lose it
        ):
            return False
        conn.head, conn.need = bytearray(), -1
        conn.fast = (head.version, head.method == "HEAD")
        if head.path in self.health_paths:
            self.drop(conn, response(head.version, 200, self.liveness(), head.method == "HEAD"))
        else:
            self.answer_ready(conn)
        return True

    def liveness(self) -> bytes:
        if self.health_body is None:
            from serving import readiness

            self.health_body = json_body(readiness.liveness(readiness.background_kind()))
        return self.health_body

    def answer_ready(self, conn: HeadConn) -> None:
        now = time.monotonic()
        self.ready_asked = now
        ready = self.ready
        if ready is not None and now - ready[0] <= READY_FRESH_S:
            self.send_ready(conn, ready)
            return
        self.forget(conn)
        self.parked[conn] = now + READY_WAIT_S
        if self.ready_thread is None:
            self.ready_thread = threading.Thread(target=self.refresh_ready, name="rnnx-readyz", daemon=True)
            self.ready_thread.start()
        self.ready_wake.set()

    def send_ready(self, conn: HeadConn, ready: tuple[float, int, bytes]) -> None:
        version, head_only = conn.fast
        _, status, body = ready
        self.drop(conn, response(version, status, body, head_only, ("Cache-Control: no-store",)))

    def answer_parked(self) -> None:
        """Main thread (through the method queue): answer every parked ``/readyz``."""
        ready = self.ready
        if ready is None:
            return
        for conn in list(self.parked):
            self.send_ready(conn, ready)

    def refresh_ready(self) -> None:
        """Background thread: recompute readiness every few seconds while ``/readyz`` is asked."""
        from serving import readiness

        while self.alive:
            if time.monotonic() - self.ready_asked > READY_ACTIVE_S:
                self.ready_wake.wait()
                self.ready_wake.clear()
                continue
            try:
                status, body = readiness.readiness()
            except Exception as error:  # noqa: BLE001 - a broken run is a failed check, never a dead thread
                self.log.exception("readyz: the checks raised")
                status, body = (
                    503,
                    {
                        "status": "not ready",
                        "failing": ["readyz"],
                        "checks": {"readyz": {"ok": False, "message": readiness.reason(error)}},
                    },
                )
            self.ready = (time.monotonic(), status, json_body(body))
            self.method_queue.defer(self.answer_parked)
            self.ready_wake.wait(READY_REFRESH_S)
            self.ready_wake.clear()

    # -- timeouts

    def murder_pending(self) -> None:
        """gthread's pending timeouts, then heads that took too long and ``/readyz`` left waiting."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and not self.lingering:
            self.lingering = True
            for conn, deadline in self.gathering.items():
                self.gathering[conn] = min(deadline, now + STOP_LINGER_S)
        while self.gathering:
            conn, deadline = next(iter(self.gathering.items()))
            if deadline > now:
                break
            version = parse_version(conn.head)
            reply = json_body({"status": "request timeout"}) if conn.head else b""
            self.log.debug("closing %s: no whole request within %.0f s", conn.client, self.header_timeout)
            self.drop(conn, response(version, 408, reply, False) if reply else b"")
        while self.parked:
            conn, deadline = next(iter(self.parked.items()))
            if deadline > now:
                break
            late = {
                "status": "not ready",
                "failing": ["readyz"],
                "checks": {"readyz": {"ok": False, "message": f"no result within {READY_WAIT_S:g} s"}},
            }
            self.send_ready(conn, (now, 503, json_body(late)))


def parse_version(buf: bytes | bytearray) -> str:
    """The HTTP version of a possibly partial request line (HTTP/1.1 when it cannot be told)."""
    line = bytes(buf[:200]).lstrip(b"\r\n").split(b"\n", 1)[0]
    return "HTTP/1.0" if line.rstrip(b"\r").endswith(b"HTTP/1.0") else "HTTP/1.1"


__all__ = ["HealthWorker", "body_to_read", "head_end", "parse_head"]
