"""The app server ``rnnx.explore`` shows its pages on: one per notebook (or script) process, reused.

The server is ``rnnx serve`` in a child process (the same app as ``python app.py``, without the
warm-up), not a thread of the notebook's kernel: the app forks a process per background job,
and forking a kernel that holds TensorFlow, ZeroMQ and the notebook's threads can hang. The
child shares the notebook's cache and state folders (``RNNX_CACHE_DIR``), which is how the claim
link issued here (``services.claims``) reaches it.

**Notebook-process state.** :data:`SERVERS` maps ``(host, port)`` to the child started by this
process: the one mutable module global of ``rnnx``, by design (a kernel is one user's). A later
``explore`` reuses a child that still answers; every child is stopped when the process exits.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from model import cache, config

START_TIMEOUT_S = 180.0
LOCAL = "127.0.0.1"
LOG_TAIL = 2000


class ServerError(RuntimeError):
    """The app server did not start; the message says why (the tail of its log)."""


@dataclass
class Server:
    """A running child: its process, where it listens and its log file."""

    process: subprocess.Popen
    host: str
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"


SERVERS: dict[tuple[str, int], Server] = {}  # notebook-process state: this process's children


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _answers(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL:]
    except OSError:
        return ""


def ensure(host: str | None = None, port: int | None = None, wait: bool = True) -> Server:
    """A server of this process that answers at ``host``/``port`` (any free port when None); started if none.

    ``host`` defaults to 127.0.0.1 (not ``HOST``, which may be a wildcard no browser can open).
    ``wait=False`` returns a starting server at once (:func:`ready` waits for it), so it starts
    while the notebook prepares its model."""
    host = host or LOCAL
    for (known_host, known_port), server in list(SERVERS.items()):
        if known_host == host and port in (None, known_port):
            if server.process.poll() is None:
                return ready(server) if wait else server
            stop(server)
    server = launch(host, port or free_port(host))
    return ready(server) if wait else server


def launch(host: str, port: int) -> Server:
    """Start ``rnnx serve`` on ``host:port`` in a child process (not waiting for it to answer)."""
    root = Path(__file__).resolve().parents[1]
    log = cache.state_dir() / "explore" / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    # At the root of its own port, whatever prefix a team server of this machine is configured with.
    env = {**os.environ, "RNNX_CACHE_DIR": str(config.cache_dir()), "RNNX_WARMUP": "0", "RNNX_BASE_PATH": "/"}
    env.pop("RNNX_PROXY_STRIPS_PREFIX", None)
    command = [sys.executable, "-m", "rnnx.cli", "serve", "--host", host, "--port", str(port), "--no-warmup"]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=root if (root / "app.py").is_file() else None,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # an interrupt in the notebook does not reach the server
        )
    server = Server(process, host, port, log)
    SERVERS[(host, port)] = server
    return server


def ready(server: Server) -> Server:
    """``server`` once ``/healthz`` answers; ServerError (with its log's tail) if it stops or stays silent."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            stop(server)
            raise ServerError(f"The RNN Explorer server stopped:\n{_tail(server.log)}")
        if _answers(f"{server.base}/healthz", 2.0):
            return server
        time.sleep(0.3)
    stop(server)
    raise ServerError(
        f"The RNN Explorer server did not answer within {START_TIMEOUT_S:.0f} s:\n{_tail(server.log)}"
    )


def stop(server: Server) -> None:
    """Stop one child (terminate, then kill after 10 s) and forget it."""
    SERVERS.pop((server.host, server.port), None)
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


def stop_all() -> None:
    """Stop every server this process started (also run at exit)."""
    for server in list(SERVERS.values()):
        stop(server)


atexit.register(stop_all)
