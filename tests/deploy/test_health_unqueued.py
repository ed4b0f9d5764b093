"""Health is never queued, and slow clients hold no thread (serving.gworker.HealthWorker).

A real gunicorn (gunicorn.conf.py: the HealthWorker) with 1 worker x 2 threads: two uploads that
stall mid-body occupy both pool threads and slowloris clients trickle partial heads, yet
``/healthz`` and ``/readyz`` answer with the Flask views' JSON; the slow heads get a 408 after
``RNNX_HEADER_TIMEOUT_S``, and once the stalled uploads go, the request queued behind them and
new ones are served.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil
import pytest

from bench.health_under_load import router_call
from serving.gworker import BODY_BUFFER, HEAD_LIMIT, Head, body_to_read, head_end, json_body, parse_head
from tests.support.servers import free_port, start_server, stop_server

HEADER_TIMEOUT_S = 2
PREFIX = "/rnn/"


@contextmanager
def server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """gunicorn -w 1 --threads 2 at RNNX_BASE_PATH=/rnn/; yields (port, worker pid)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RNNX_AUTH_USERS", "RNNX_AUTH_FILE")}
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        RNNX_CACHE_DIR=str(tmp_path / "cache"),
        RNNX_BASE_PATH=PREFIX,
        RNNX_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
        RNNX_WARMUP="0",
        RNNX_WORKER_WARM="0",
        RNNX_DEMO_MODE="",
    )
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "2", "app:server"]
    proc = start_server(command, env, port)
    try:
        (worker,) = psutil.Process(proc.pid).children()
        yield port, worker.pid
    finally:
        stop_server(proc)


def connect(port: int, data: bytes, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(data)
    return sock


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def get(port: int, path: str, method: str = "GET", body: bytes | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def stalled_upload(port: int) -> socket.socket:
    """A callback post whose body (over BODY_BUFFER, so queued after its head) stops after one byte."""
    head = (
        f"POST {PREFIX}_dash-update-component HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {4 * BODY_BUFFER}\r\n\r\n{{"
    )
    return connect(port, head.encode())


def test_heads_and_bodies_are_parsed_in_the_main_loop() -> None:
    assert head_end(b"GET / HTTP/1.1\r\nHost: x\r\n") == -1
    assert head_end(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nrest") == len(
        b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert head_end(b"GET / HTTP/1.1\nHost: x\n\n") == len(b"GET / HTTP/1.1\nHost: x\n\n")
    assert head_end(b"\r\n\r\n") == -1
    head = parse_head(b"POST /rnn/x?a=1 HTTP/1.1\r\nContent-Length: 12\r\nHost: x\r\n\r\n")
    assert head == Head("POST", "/rnn/x", "HTTP/1.1", 12, False, False)
    assert body_to_read(head) == 12
    assert parse_head(b"PRI * HTTP/2.0\r\n\r\n") is None
    assert body_to_read(parse_head(b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n")) == 0
    assert body_to_read(parse_head(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n")) == 0
    assert body_to_read(parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")) == 0
    assert (
        body_to_read(parse_head(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")) == 0
    )
    assert (
        body_to_read(parse_head(f"POST / HTTP/1.1\r\nContent-Length: {BODY_BUFFER + 1}\r\n\r\n".encode()))
        == 0
    )


def test_health_answers_while_every_thread_is_held_and_slow_clients_are_dropped(tmp_path: Path) -> None:
    with server(tmp_path) as (port, worker_pid), ExitStack() as stack:
        from serving.version import version

        expected = {
            "status": "ok",
            "version": version(),
            "pid": worker_pid,
            "background": "diskcache",
            "demo_mode": False,
        }
        expected["base_path"] = PREFIX

        # Kept-alive connection: a page, then a small callback post (its body read in the main loop).
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        stack.callback(conn.close)
        for method, path, body in (
            ("GET", PREFIX, None),
            ("POST", f"{PREFIX}_dash-update-component", router_call(PREFIX)),
        ):
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            reply = conn.getresponse()
            assert reply.status == 200, reply.read()[:300]
            reply.read()

        # Slowloris: partial heads, and a whole head whose small body never comes.
        slow = [connect(port, f"GET {PREFIX} HTTP/1.1\r\nHost: t\r\nX-a: {i}\r\n".encode()) for i in range(6)]
        slow.append(
            connect(
                port, f"POST {PREFIX}_dash-update-component HTTP/1.1\r\nContent-Length: 50\r\n\r\n{{".encode()
            )
        )
        for sock in slow:
            stack.callback(sock.close)
        # Both pool threads wait on stalled uploads; a plain page request queues behind them.
        stalled = [stalled_upload(port) for _ in range(2)]
        queued = connect(port, f"GET {PREFIX} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        stack.callback(queued.close)
        queued.settimeout(1.5)
        with pytest.raises(TimeoutError):
            queued.recv(1)  # proof that the pool is full (slowness could only make this pass)

        for path in ("/healthz", f"{PREFIX}healthz", "/healthz?probe=1"):
            status, headers, body = get(port, path)
            assert status == 200, (path, body)
            assert headers["Content-Type"] == "application/json"
            assert json.loads(body) == expected
        status, headers, body = get(port, "/healthz", method="HEAD")
        assert (status, body, headers["Content-Length"]) == (200, b"", str(len(json_body(expected))))
        for path in ("/readyz", f"{PREFIX}readyz"):  # the first waits for the refresher, the second is cached
            status, headers, body = get(port, path)
            report = json.loads(body)
            assert status == (200 if report["status"] == "ready" else 503)
            assert {"results_cache", "state_dir", "disk", "datasets"} <= set(report["checks"])
            assert headers["Cache-Control"] == "no-store"

        huge = connect(port, b"GET / HTTP/1.1\r\nX-Big: " + b"x" * HEAD_LIMIT)
        assert read_all(huge).startswith(b"HTTP/1.1 431 ")
        huge.close()
        # The slow heads and the unfinished small body get a 408 after the header timeout, and are closed.
        for sock in slow:
            assert read_all(sock).startswith(b"HTTP/1.1 408 Request Timeout\r\n")

        # The stalled uploads go away: the queued request and new ones are served.
        for sock in stalled:
            sock.close()
        queued.settimeout(30)
        assert read_all(queued).startswith(b"HTTP/1.1 200 OK\r\n")
        assert get(port, PREFIX)[0] == 200
        status, _, body = get(port, f"{PREFIX}_dash-update-component", "POST", router_call(PREFIX))
        assert status == 200 and json.loads(body)["response"]["_pages_content"]["children"] is not None
        assert get(port, "/healthz/")[0] == 404  # only the exact paths take the fast way
        assert get(port, "/healthz", method="POST")[0] == 405  # the Flask route answers other methods
