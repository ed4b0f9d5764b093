"""Crafted uploads for the real server: multipart posts to the upload route, as the page's script sends them.

A :class:`~tests.support.dash_client.DashClient` is one browser session (its cookie jar); these
helpers post files with its cookies, or raw bodies over a socket to see what the server does
while a body is still arriving.
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.export_memory import PeakRss  # noqa: F401  re-exported for the upload tests
from tests.support.dash_client import DashClient
from tests.support.servers import free_port, start_server, stop_server

PAGE_HEADER = {"X-Requested-With": "XMLHttpRequest"}


def multipart(data: bytes, name: str, field: str = "file") -> tuple[bytes, str]:
    """A multipart/form-data body holding one file part; (body, content type)."""
    boundary = f"rnnx{secrets.token_hex(12)}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_file(
    client: DashClient, slot: str, data: bytes, name: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Post ``data`` as the file of ``slot`` with the session's cookies; (status, JSON reply)."""
    body, content_type = multipart(data, name)
    sent = {"Content-Type": content_type, **PAGE_HEADER, **(headers or {})}
    request = urllib.request.Request(f"{client.base}/upload/{slot}", data=body, headers=sent)
    try:
        with client.opener.open(request, timeout=60) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text


def reply_of(client: DashClient, reply: dict) -> tuple[int, Any]:
    """Fire the panel's callback with ``reply`` in the upload-reply store (what the page's script sets)."""
    return client.post("analytics-byo-files.data", {"analytics-upload-reply.data": reply})


def cookie_header(client: DashClient) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.jar)


class SlowPost:
    """A POST whose body is sent in 1 MiB pieces by a thread, while the caller reads the answer.

    ``chunked``: Transfer-Encoding chunked (no length announced), else ``length`` is announced.
    ``sent`` counts the bytes the server took before it answered and closed.
    """

    def __init__(self, url: str, path: str, head: dict[str, str], length: int, chunked: bool) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.length, self.chunked, self.sent, self.done = length, chunked, 0, threading.Event()
        self.conn.putrequest("POST", path)
        for key, value in head.items():
            self.conn.putheader(key, value)
        self.conn.putheader(
            *(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(length)))
        )
        self.conn.endheaders()
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self) -> None:
        piece, sock = b"x" * 2**20, self.conn.sock
        try:
            while self.sent < self.length and not self.done.is_set():
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if self.chunked else piece)
                self.sent += len(piece)
            if self.chunked and not self.done.is_set():
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered and closed: what it refused is never sent
            pass

    def answer(self) -> tuple[int, Any]:
        """(status, JSON body) of the server's answer; the sender stops."""
        try:
            response = self.conn.getresponse()
            status, text = response.status, response.read().decode(errors="replace")
        finally:
            self.done.set()
            self.thread.join(timeout=30)
            self.conn.close()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text


@contextmanager
def app_with_uploads(cache_dir: Path, **settings: str) -> Iterator[dict]:
    """``python app.py`` on a free port with its own cache and ``settings`` (environment variables):
    ``{"url", "proc", "cache"}`` for the upload tests."""
    import os
    import sys

    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "RNNX_CACHE_DIR": str(cache_dir), **settings}
    proc = start_server([sys.executable, "app.py"], env, port)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "proc": proc, "cache": cache_dir}
    finally:
        stop_server(proc)
