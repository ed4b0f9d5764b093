"""A job process lives no longer than the process that started it.

After ``kill -9`` of a server, a forked background job (and the ``model.prepare`` process it runs)
would otherwise keep running, still holding the server's listening socket, so a restart failed
with "Address already in use". :func:`detach_from_server` closes inherited listening sockets;
:func:`follow_parent` ends this process, and every process it started, once its parent is gone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import time

POLL_S = 1.0


def listening_sockets() -> list[int]:
    """File descriptors of this process that are listening sockets (inherited from a server)."""
    found = []
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return found
    for fd in fds:
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            probe = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                found.append(fd)
        except OSError:
            pass
        finally:
            probe.close()
    return found


def detach_from_server() -> None:
    """Close every listening socket this (forked) process inherited, and follow the parent."""
    for fd in listening_sockets():
        with contextlib.suppress(OSError):
            os.close(fd)
    follow_parent()


def _end_family() -> None:
    try:
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    except Exception:  # noqa: BLE001 - best effort: this process ends anyway
        pass
    os._exit(1)


def follow_parent(poll_s: float = POLL_S) -> threading.Thread:
    """Watch the parent from a daemon thread; when it is gone, kill this process's children and exit."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                _end_family()

    thread = threading.Thread(target=watch, name="rnnx-lifeline", daemon=True)
    thread.start()
    return thread


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one owned by another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
