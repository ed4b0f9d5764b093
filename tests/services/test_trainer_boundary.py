"""The trainer against crafted requests on a real server: nothing the browser sends is trusted.

Each request is built the way the Dash renderer builds it (the callback's exact
output string, inputs and state from ``/_dash-dependencies``) and sent with the
signed session cookie the server issued on ``GET /trainer``. Bad values get a
message in ``trainer-notice`` (never a 500 or a stall); demo mode trains
nothing and writes no result; Step clicks are never lost; the session store's
failures (Redis refused, out of memory) become messages too.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import make_driver
from tests.support.servers import ROOT, free_port, start_server, stop_server

UPDATE = "trainer-play-label.children"  # of the server callbacks, only update_trainer pauses play
EXAMPLE = "learning-rate.value"  # only load_example sets the sliders
SESSION = "trainer-session.data"
TIMEOUT_S = 600  # generous: the first trainer request of a server imports TensorFlow


def server_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "RNNX_CACHE_DIR": str(cache_dir), "HOST": "127.0.0.1", "RNNX_WARMUP": "0", **extra}
    for name in (
        "RNNX_DEMO_MODE",
        "REDIS_URL",
        "RNNX_SESSION_REDIS_URL",
        "RNNX_AUTH_USERS",
        "RNNX_AUTH_FILE",
        "RNNX_BASE_PATH",
        "RNNX_STATE_DIR",
    ):
        if name not in extra:
            env.pop(name, None)
    return env


def launch(cache_dir: Path, **extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = start_server(
        [sys.executable, "app.py"], {**server_env(cache_dir, **extra), "PORT": str(port)}, port
    )
    return proc, f"http://127.0.0.1:{port}"


class Tab:
    """One browser tab: a cookie jar with the signed session, the callback map, the tab's ids."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        assert self.get("/trainer")[0] == 200
        self.deps = json.loads(self.get("/_dash-dependencies")[1])
        self.view = secrets.token_hex(16)
        self.tab = self.init_session()

    def get(self, path: str, timeout: float = 60) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=timeout) as response:
            return response.status, response.read().decode()

    def dep(self, output: str, trigger: str) -> dict:
        for dep in self.deps:
            inputs = {f"{i['id']}.{i['property']}" for i in dep["inputs"]}
            if not dep.get("clientside_function") and output in dep["output"] and trigger in inputs:
                return dep
        raise LookupError(f"no server callback with output {output!r} and input {trigger!r}")

    def body(self, output: str, trigger: str, values: dict[str, Any], changed: str | None = None) -> bytes:
        """The JSON the renderer posts; pattern (ALL) inputs are lists, here given in ``values`` or empty."""
        dep = self.dep(output, trigger)

        def item(spec: dict) -> dict | list:
            name = f"{spec['id']}.{spec['property']}"
            if spec["id"].startswith("{"):
                return values.get(name, [])
            return {"id": spec["id"], "property": spec["property"], "value": values.get(name)}

        parts = dep["output"][2:-2].split("...") if dep["output"].startswith("..") else [dep["output"]]
        outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts]
        body = {
            "output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": [item(s) for s in dep["inputs"]],
            "state": [item(s) for s in dep["state"]],
            "changedPropIds": [changed or trigger],
        }
        return json.dumps(body, allow_nan=True).encode()

    def send(self, data: bytes, timeout: float = TIMEOUT_S) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + "/_dash-update-component", data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")[:2000]

    def post(self, output: str, trigger: str, values: dict[str, Any], changed: str | None = None):
        return self.send(self.body(output, trigger, values, changed))

    def init_session(self) -> str:
        status, reply = self.post(SESSION, "trainer-result.id", {"trainer-result.id": "trainer-result"})
        assert status == 200, reply
        tab = reply["response"]["trainer-session"]["data"]
        assert isinstance(tab, str) and len(tab) == 32 and int(tab, 16) >= 0
        return tab

    def values(self, **changes: Any) -> dict[str, Any]:
        values = {
            "trainer-session.data": self.tab,
            "trainer-view.data": self.view,
            "trainer-input-select.value": "sine",
            "cell-type.value": "lstm",
            "add-layer.n_clicks": None,
            "reset-button.n_clicks": None,
            "step-button.n_clicks": None,
            "trainer-request.data": 0,
            "learning-rate.value": -1.6,
            "batch-size.value": 25,
            "noise.value": 0.0,
            "trainer-fast.value": False,
        }
        return {**values, **{k.replace("__", "."): v for k, v in changes.items()}}

    def step(self, clicks: int, **changes: Any) -> tuple[int, Any]:
        values = self.values(**{"step-button.n_clicks": clicks, **changes})
        return self.post(UPDATE, "step-button.n_clicks", values)

    def load(self, **changes: Any) -> tuple[int, Any]:
        return self.post(UPDATE, SESSION, self.values(**changes))


def notice_of(reply: Any) -> str:
    assert isinstance(reply, dict), reply
    return str(reply["response"]["trainer-notice"]["children"])


def epoch_of(reply: Any) -> str:
    return reply["response"]["epoch-counter"]["children"]


def alive(base: str) -> None:
    """The server still answers its health check (a generous bound: a liveness check, not a timing)."""
    with urllib.request.urlopen(base + "/healthz", timeout=30) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> str:
    proc, base = launch(tmp_path_factory.mktemp("trainer-boundary"))
    yield base
    stop_server(proc)


@pytest.fixture()
def fresh_server(tmp_path: Path) -> str:
    """A server nobody has asked anything yet (its first trainer request is the slow one)."""
    proc, base = launch(tmp_path / "cache")
    yield base
    stop_server(proc)


# ---------------------------------------------------------------- bad values → a message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"learning-rate.value": 100000000}, "Learning rate"),
        ({"learning-rate.value": "NaN"}, "Learning rate"),
        ({"learning-rate.value": "Infinity"}, "Learning rate"),
        ({"learning-rate.value": float("nan")}, "Learning rate"),  # a bare NaN in the JSON
        ({"noise.value": "-Infinity"}, "Noise"),
        ({"batch-size.value": 0}, "Batch size"),
        ({"batch-size.value": 10**9}, "Batch size"),
        ({"batch-size.value": 12.5}, "Batch size"),
        ({"noise.value": -0.1}, "Noise"),
        ({"trainer-input-select.value": "../../etc/passwd"}, "Input"),
        ({"cell-type.value": "transformer"}, "Cell type"),
        ({"trainer-units.value": 65}, "Units per layer"),
        ({"trainer-units.value": 3}, "Units per layer"),
        ({"trainer-units.value": 10**9}, "Units per layer"),
        ({"trainer-units.value": 16.5}, "Units per layer"),
        ({"step-button.n_clicks": -1}, "Clicks"),
        ({"trainer-session.data": "x" * 500_000}, "Page session id"),  # bigger: 413 (RNNX_MAX_CALLBACK_KB)
        ({"trainer-session.data": "not-hex"}, "Page session id"),
        ({"trainer-view.data": "y" * 100}, "Page view id"),
        ({"trainer-fast.value": {"a": 1}}, "Fast mode"),
    ],
)
@pytest.mark.heavy
def test_a_bad_value_gets_a_message_and_the_server_keeps_answering(server: str, changes, expected) -> None:
    tab = Tab(server)
    status, reply = tab.step(1, **changes)
    assert status == 200, reply
    assert expected in notice_of(reply) and reply["response"]["trainer-notice"]["is_open"] is True
    assert "trainer-result" not in reply["response"]  # nothing was computed
    alive(server)
    status, reply = tab.load()  # the session is not poisoned: a good request still works
    assert status == 200 and epoch_of(reply) == "0"


def test_layer_counts_and_indices_out_of_bounds_get_a_message(server: str) -> None:
    """The layer count the page sends (its +/- presses, whole) and the layer it opens are checked."""
    tab = Tab(server)
    for count in ({"layers": 99}, {"layers": 0}, {"layers": "3; drop"}, {"layers": 3, "evil": 1}, 3, [3]):
        values = tab.values(**{"trainer-layers-sent.data": count})
        status, reply = tab.post(UPDATE, "trainer-layers-sent.data", values)
        assert status == 200, reply
        assert "Layers" in notice_of(reply) or "layer count" in notice_of(reply), (count, notice_of(reply))
        assert "trainer-result" not in reply["response"]  # nothing was built
    assert epoch_of(tab.load()[1]) == "0"  # the session's network: three layers
    status, reply = tab.post(
        UPDATE, "trainer-layers-sent.data", tab.values(**{"trainer-layers-sent.data": {"layers": 5, "n": 1}})
    )
    assert status == 200 and "layers changed" in notice_of(reply)
    assert reply["response"]["trainer-layers-built"]["data"]["layers"] == 5
    assert reply["response"]["trainer-layer-count"]["children"].startswith("5 layers")
    for index in (99, -1, "0; drop", 10**12):
        status, reply = tab.post(
            "cell-view.hidden",
            "trainer-selected-layer.data",
            {"trainer-selected-layer.data": index, "trainer-session.data": tab.tab},
        )
        assert status == 200, reply
        assert "Layer" in str(reply["response"]["cell-check"]["children"]), reply
    alive(server)


def test_unknown_example_and_slider_values_get_a_message(server: str) -> None:
    tab = Tab(server)
    status, reply = tab.post(
        EXAMPLE,
        "trainer-example.value",
        {"trainer-example.value": "lr-evil", "trainer-session.data": tab.tab},
    )
    assert status == 200 and "Example must be one of" in notice_of(reply)
    status, reply = tab.post(
        "trainer-lr-value.children",
        "learning-rate.value",
        {
            "learning-rate.value": 100000000,
            "batch-size.value": 25,
            "noise.value": 0,
            "trainer-input-select.value": "sine",
        },
    )
    assert status == 200 and "Learning rate" in notice_of(reply)
    alive(server)


@pytest.mark.heavy
def test_a_foreign_tab_id_reaches_nothing(server: str) -> None:
    owner, stranger = Tab(server), Tab(server)  # two browsers: two signed cookies
    status, reply = owner.load()
    assert status == 200 and epoch_of(reply) == "0" and notice_of(reply) == ""
    status, reply = stranger.step(1, **{"trainer-session.data": owner.tab})
    assert status == 200 and "belongs to another browser" in notice_of(reply)
    assert "epoch-counter" not in reply["response"]
    # and a reload of the stranger's page with that id gets an id of its own
    status, reply = stranger.post(
        SESSION,
        "trainer-result.id",
        {"trainer-result.id": "trainer-result", "trainer-session.data": owner.tab},
    )
    assert status == 200 and reply["response"]["trainer-session"]["data"] not in (owner.tab, None)
    status, reply = owner.load()
    assert status == 200 and epoch_of(reply) == "0"  # the owner's session was never touched
    alive(server)


# ---------------------------------------------------------------- Step clicks are never lost


@pytest.mark.heavy
def test_three_quick_steps_on_a_fresh_server_give_epoch_three(fresh_server: str) -> None:
    tab = Tab(fresh_server)
    bodies = {
        n: tab.body(UPDATE, "step-button.n_clicks", tab.values(**{"step-button.n_clicks": n}))
        for n in (1, 2, 3)
    }
    replies: dict[int, tuple[int, Any]] = {}

    def click(n: int) -> None:
        replies[n] = tab.send(bodies[n])

    threads = [threading.Thread(target=click, args=(n,)) for n in (1, 2, 3)]
    for thread in threads:  # like three clicks: each request starts before the previous one is answered
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert all(status == 200 for status, _ in replies.values()), replies
    assert epoch_of(replies[3][1]) == "3"  # the answer the renderer keeps (the newest) shows all three
    tab.view = secrets.token_hex(16)  # a reloaded page: its clicks count from 0 again
    status, reply = tab.load()
    assert status == 200 and epoch_of(reply) == "3"


@pytest.mark.heavy
@pytest.mark.browser
def test_three_quick_clicks_on_a_fresh_page_give_epoch_three(fresh_server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = make_driver()
    try:
        driver.get(fresh_server + "/healthz")
        driver.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")
        driver.get(fresh_server + "/trainer")
        wait = WebDriverWait(driver, TIMEOUT_S, poll_frequency=0.1)
        button = wait.until(lambda d: d.find_element(By.ID, "step-button"))
        for _ in range(3):
            button.click()
        counter = lambda d: d.find_element(By.ID, "epoch-counter").text  # noqa: E731
        wait.until(lambda d: counter(d) == "3")
        driver.refresh()  # the same tab (sessionStorage keeps its id): the clicks were trained once
        wait.until(lambda d: counter(d) == "3")
    finally:
        driver.quit()


# ---------------------------------------------------------------- demo mode


def _results_rows(cache_dir: Path) -> int:
    with sqlite3.connect(f"file:{cache_dir / 'cache.db'}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM Cache").fetchone()[0]


def _files(cache_dir: Path) -> set[str]:
    return {
        str(p.relative_to(cache_dir)) for p in cache_dir.rglob("*") if p.is_file() and p.suffix != ".db-wal"
    }


@pytest.mark.heavy
def test_demo_mode_trains_nothing_and_writes_no_result(tmp_path: Path) -> None:
    cache_dir, state_dir = tmp_path / "results", tmp_path / "state"
    prepare = "from model import trainer; trainer.example_state('lr-good')"  # the demo's prepared example
    env = {**server_env(cache_dir), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", prepare], cwd=ROOT, env=env, check=True, timeout=TIMEOUT_S)
    rows, files = _results_rows(cache_dir), _files(cache_dir)
    proc, base = launch(cache_dir, RNNX_DEMO_MODE="1", RNNX_STATE_DIR=str(state_dir))
    try:
        tab = Tab(base)
        for clicks in (1, 2):
            status, reply = tab.step(clicks)
            assert status == 200 and notice_of(reply).startswith(
                "This is a read-only demo: load a pretrained example"
            )
            assert epoch_of(reply) == "0"
        values = tab.values(**{"trainer-request.data": 1, "trainer-fast.value": True})
        status, reply = tab.post(UPDATE, "trainer-request.data", values)
        assert status == 200 and "read-only demo" in notice_of(reply)
        assert reply["response"]["trainer-playing"]["data"] is False  # play stops
        status, reply = tab.post(
            EXAMPLE, "trainer-example.value", {"trainer-example.value": "lr-good", SESSION: tab.tab}
        )
        assert status == 200 and epoch_of(reply) == "25" and "about right" in notice_of(reply)
        status, reply = tab.post(
            EXAMPLE, "trainer-example.value", {"trainer-example.value": "lr-low", SESSION: tab.tab}
        )
        assert status == 200 and "not part of this read-only demo" in notice_of(reply)
        status, reply = tab.step(3)
        assert status == 200 and epoch_of(reply) == "25"  # the example, still untrained further
        alive(base)
    finally:
        stop_server(proc)
    assert _results_rows(cache_dir) == rows and _files(cache_dir) == files


# ---------------------------------------------------------------- the session store


def _closed_port() -> int:
    port = free_port()
    with socket.socket() as sock:  # nothing listens there
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    return port


def test_an_unreachable_session_store_gives_a_message(tmp_path: Path) -> None:
    proc, base = launch(tmp_path / "cache", RNNX_SESSION_REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        tab = Tab(base)
        status, reply = tab.step(1)
        assert status == 200 and "cannot be reached" in notice_of(reply)
        alive(base)
    finally:
        stop_server(proc)


@pytest.fixture()
def tiny_redis(tmp_path: Path) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


def test_redis_store_expires_sessions_and_turns_errors_into_messages(tiny_redis: str, monkeypatch) -> None:
    from serving import sessions

    monkeypatch.setenv("RNNX_SESSION_REDIS_URL", tiny_redis)
    monkeypatch.setenv("RNNX_SESSION_TTL_S", "300")
    store = sessions.session_store()
    assert isinstance(store, sessions.RedisSessionStore)
    with store.lock("a-b"):
        store.put("a-b", {"epoch": 1})
    assert store.get("a-b") == {"epoch": 1}
    assert 0 < store.client.ttl(sessions.PREFIX + "a-b") <= 300
    with pytest.raises(sessions.SessionUnavailable, match="is full"):
        for i in range(8):  # more than maxmemory
            store.put(f"big-{i}", b"x" * 1_000_000)
    monkeypatch.setenv("RNNX_SESSION_REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    with pytest.raises(sessions.SessionUnavailable, match="cannot be reached"):
        sessions.session_store().get("a-b")
