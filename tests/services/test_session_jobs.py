"""Background jobs belong to their session, and heavy work waits in one bounded queue (issue 19).

A real server over a stand-in pipeline (this module) whose preparation takes about a second,
reports progress, notes when it ran, and answers with a number derived from the session that
started it: a reply that reaches another session is caught by its number.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from bench import load
from tests.support.dash_client import DashClient
from tests.support.servers import free_port, start_server, stop_server
from tests.support.synthetic import *  # noqa: F403 - the stand-in pipeline's other functions

RUNS_ENV = "RNNX_TEST_RUNS_DIR"
SECRET = "test-secret-of-the-session-jobs-server"
HANG_ENV = "RNNX_TEST_HANG_DIR"
STEP_ENV = "RNNX_TEST_STEP_S"  # how long each of the stand-in preparation's five steps takes
CHILD = "from model import lifeline; lifeline.follow_parent(0.2); import time; time.sleep(120)"


def session_number() -> int:
    """A number only the requesting session's job can produce (from its signed session id)."""
    from services import identity

    return int(hashlib.sha256(identity.current_session().encode()).hexdigest()[:6], 16)


def run_prepare_subprocess(dataset, projection, n_sequences, on_progress, **kwargs) -> dict:
    """A one-second stand-in preparation that records its start and end (for the queue's bound)."""
    if os.environ.get(HANG_ENV):  # a preparation that runs a child process and never ends by itself
        import subprocess

        child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=Path(__file__).resolve().parents[2])
        (Path(os.environ[HANG_ENV]) / "pids.json").write_text(json.dumps([os.getpid(), child.pid]))
        child.wait()
    started = time.time()
    step_s = float(os.environ.get(STEP_ENV, "0.2"))
    for step in range(5):
        on_progress(step / 5, f"working {dataset}")
        time.sleep(step_s)
    runs = os.environ.get(RUNS_ENV)
    if runs:
        (Path(runs) / f"{started:.6f}-{os.getpid()}.json").write_text(json.dumps([started, time.time()]))
    return {"n_sequences": session_number(), "n_hidden_states": 1, "seconds": {"total": 1.0}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    (root / "runs").mkdir()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "RNNX_CACHE_DIR": str(root / "cache"),
        "RNNX_TEST_PIPELINE": __name__,
        "RNNX_MAX_JOBS": "1",
        "RNNX_SECRET_KEY": SECRET,
        RUNS_ENV: str(root / "runs"),
    }
    proc = start_server([sys.executable, "-m", "tests.support.serve"], env, port)
    yield f"http://127.0.0.1:{port}", root / "runs"
    stop_server(proc)


class Page:
    """One browser page load of one session: its end id and the Prepare button's request."""

    def __init__(self, base: str) -> None:
        self.client = DashClient(base)
        status, html = self.client.get("/analytics")
        assert status == 200
        self.end_id = load.end_id(html)

    def body(self, dataset: str, method: str = "pca") -> dict:
        return load.prepare_body(self.client.deps, dataset, method)

    def post(self, body: dict, query: str = "") -> dict:
        status, reply = self.client.raw_post_to(f"/_dash-update-component?endId={self.end_id}{query}", body)
        assert status == 200, (status, reply)
        return reply

    def start(self, dataset: str, method: str = "pca") -> dict:
        handles = self.post(self.body(dataset, method))
        assert {"cacheKey", "job"} <= set(handles), handles
        return handles

    def poll(self, handles: dict, body: dict, end_id: str | None = None) -> dict:
        query = f"&cacheKey={handles['cacheKey']}&job={handles['job']}"
        status, reply = self.client.raw_post_to(
            f"/_dash-update-component?endId={end_id or self.end_id}{query}", body
        )
        assert status in (200, 204), (status, reply)
        return reply or {}


def until_done(page: Page, handles: dict, body: dict, seen: list[str] | None = None) -> dict:
    deadline = time.time() + 90
    while time.time() < deadline:
        reply = page.poll(handles, body)
        if seen is not None and "progress" in reply:
            seen.append(json.dumps(reply["progress"]))
        if "response" in reply:
            return reply["response"]
        time.sleep(0.2)
    raise AssertionError("the job never answered")


def _number(response: dict) -> int:
    text = json.dumps(response)
    match = re.search(r"Prepared (\d+) sequences", text)
    assert match, text
    return int(match.group(1))


def test_two_sessions_clicking_the_same_button_each_get_their_own_reply(server) -> None:
    base, _runs = server
    alice, bob = Page(base), Page(base)
    body = alice.body("imdb")
    handles_a, handles_b = alice.start("imdb"), bob.start("imdb")  # identical requests
    # Bob replays Alice's handles (as if he had seen them): nothing of hers comes back.
    for _ in range(8):
        stolen = bob.poll(handles_a, body, end_id=alice.end_id)
        assert "Prepared" not in json.dumps(stolen)
        time.sleep(0.2)
    mine_a, mine_b = until_done(alice, handles_a, body), until_done(bob, handles_b, body)
    from itsdangerous import URLSafeSerializer

    from services import identity

    def expected(client: DashClient) -> int:
        cookie = next(c.value for c in client.jar if c.name == identity.COOKIE)
        session_id = URLSafeSerializer(SECRET, salt="rnnx-session").loads(cookie)
        return int(hashlib.sha256(session_id.encode()).hexdigest()[:6], 16)

    assert _number(mine_a) == expected(alice.client)
    assert _number(mine_b) == expected(bob.client)
    assert expected(alice.client) != expected(bob.client)


def test_heavy_jobs_wait_in_one_bounded_queue_and_say_where_they_are(server) -> None:
    base, runs = server
    before = set(runs.iterdir())
    pages = [Page(base) for _ in range(3)]
    work = [("imdb", "umap"), ("reuters", "pca"), ("imdb", "pca")]  # three different builds
    jobs = [(page, page.start(*job), page.body(*job)) for page, job in zip(pages, work, strict=True)]
    seen: list[str] = []
    pending, deadline = list(jobs), time.time() + 90
    while pending and time.time() < deadline:  # polled in turn, as three open pages poll
        for job in list(pending):
            page, handles, body = job
            reply = page.poll(handles, body)
            seen.append(json.dumps(reply.get("progress")))
            if "response" in reply:
                pending.remove(job)
        time.sleep(0.2)
    assert not pending, "a job never answered"
    spans = sorted(json.loads(p.read_text()) for p in set(runs.iterdir()) - before)
    assert len(spans) >= 2
    for (_s1, end), (start, _e2) in zip(spans, spans[1:], strict=False):
        assert start >= end - 0.05, f"two heavy jobs ran at once with RNNX_MAX_JOBS=1: {spans}"
    assert any("queued, position" in text for text in seen), seen


def test_a_session_gets_one_job_running_and_one_waiting_then_a_message(server) -> None:
    base, _runs = server
    page = Page(base)
    other = Page(base)
    blocker = other.start("reuters", "tsne")  # another session's job holds the only slot
    first, second = page.start("imdb", "tsne"), page.start("reuters", "pca")
    time.sleep(1.0)
    third_body = page.body("imdb", "umap")
    third = page.post(third_body)
    reply = until_done(page, third, third_body) if "cacheKey" in third else third
    assert "already have a job running and one waiting" in json.dumps(reply)
    for handles, body in ((first, page.body("imdb", "tsne")), (second, page.body("reuters", "pca"))):
        assert "Prepared" in json.dumps(until_done(page, handles, body))
    until_done(other, blocker, other.body("reuters", "tsne"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_jobs_die_with_a_killed_server_and_a_restart_serves_at_once(tmp_path) -> None:
    import signal

    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "RNNX_CACHE_DIR": str(tmp_path / "cache"),
        "RNNX_TEST_PIPELINE": __name__,
        HANG_ENV: str(tmp_path),
    }
    command = [sys.executable, "-m", "tests.support.serve"]
    server = start_server(command, env, port)
    try:
        page = Page(f"http://127.0.0.1:{port}")
        page.start("imdb")
        deadline = time.time() + 30
        while not (tmp_path / "pids.json").exists() and time.time() < deadline:
            time.sleep(0.1)
        job, child = json.loads((tmp_path / "pids.json").read_text())
        assert _alive(job) and _alive(child)
        os.kill(server.pid, signal.SIGKILL)  # the server only: its job and the job's child are left
        server.wait()
        deadline = time.time() + 10
        while (_alive(job) or _alive(child)) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(job) and not _alive(child), "a job outlived the server"
        restarted = start_server(command, {**env, HANG_ENV: ""}, port)  # the port is free again
        stop_server(restarted)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # whatever is left of the first server's group
