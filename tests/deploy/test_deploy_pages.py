"""The real pages under ``gunicorn -w 4``: trainer sessions stay apart, analytics answers agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.load import DashClient, TrainerTab, analytics_select, open_trainer, trainer_values
from tests.support.servers import ROOT, free_port, start_server, stop_server


@pytest.fixture(scope="module")
def four_workers(tmp_path_factory: pytest.TempPathFactory) -> str:
    """gunicorn with 4 workers on a cache where IMDB is prepared (quick profile)."""
    cache_dir = tmp_path_factory.mktemp("deploy-pages-cache")
    env = {**os.environ, "RNNX_CACHE_DIR": str(cache_dir), "RNNX_PROFILE": "quick"}
    for name in ("RNNX_AUTH_USERS", "RNNX_AUTH_FILE", "RNNX_DEMO_MODE", "RNNX_BASE_PATH", "REDIS_URL"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "model.prepare", "--dataset", "imdb", "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    env.update(HOST="127.0.0.1", PORT=str(port))
    proc = start_server(
        [sys.executable, "-m", "gunicorn", "-w", "4", "--threads", "2", "app:server"], env, port
    )
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


def fresh(base: str, deps: list[dict], cookies: dict[str, str] | None = None) -> DashClient:
    """A client on a new connection (same browser cookies), so the next request may land on any worker."""
    return DashClient(base, deps, cookies=cookies)


def _tab(base: str) -> tuple[TrainerTab, dict[str, str]]:
    client = DashClient(base)
    tab = open_trainer(client)
    client.close()
    return tab, client.cookies


def test_two_trainer_sessions_in_parallel_never_share_a_model(four_workers: str) -> None:
    deps = DashClient(four_workers).deps
    plans = {"lstm": (*_tab(four_workers), 4), "gru": (*_tab(four_workers), 7)}

    def session(cell: str) -> list[tuple[str, str]]:
        tab, cookies, steps = plans[cell]
        seen = []
        for i in range(steps + 1):
            client = fresh(four_workers, deps, cookies)
            tab.clicks = i
            values = {**trainer_values(tab), "cell-type.value": cell}
            status, body = client.call(
                "trainer-result.data", values, ["cell-type.value" if i == 0 else "step-button.n_clicks"]
            )
            client.close()
            assert status == 200
            response = body["response"]
            seen.append((response["epoch-counter"]["children"], response["trainer-layer-count"]["children"]))
        return seen

    with ThreadPoolExecutor(2) as pool:
        lstm, gru = pool.map(session, ["lstm", "gru"])
    assert [epoch for epoch, _ in lstm] == [str(i) for i in range(5)]
    assert [epoch for epoch, _ in gru] == [str(i) for i in range(8)]
    assert "LSTM" in lstm[0][1] and "GRU" in gru[0][1]
    # Reopening each session, from whichever worker answers, shows its own model and epoch.
    for cell, (tab, cookies, steps) in plans.items():
        client = fresh(four_workers, deps, cookies)
        values = {**trainer_values(tab), "cell-type.value": cell}
        status, body = client.call("trainer-result.data", values, ["trainer-session.data"])
        client.close()
        assert status == 200 and body["response"]["epoch-counter"]["children"] == str(steps)
        assert cell.upper() in body["response"]["trainer-layer-count"]["children"].upper()


def test_analytics_selections_agree_across_workers(four_workers: str) -> None:
    deps = DashClient(four_workers).deps

    def select(job: tuple[int, int]) -> tuple[int, int, str]:
        seq, _ = job
        client = fresh(four_workers, deps)
        status, body = analytics_select(client, "imdb", seq)
        pid = json.loads(client.get("/healthz")[1])["pid"]  # same keep-alive connection, same worker
        client.close()
        assert status == 200
        # the unit matches and the neighbours say how long their search took: the parts that may differ
        shown = {k: v for k, v in body["response"].items() if k not in ("unit-matches", "neighbors-list")}
        return seq, pid, json.dumps(shown, sort_keys=True)

    jobs = [(seq, repeat) for seq in (0, 7, 42) for repeat in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(select, jobs))
    for seq in (0, 7, 42):
        bodies = {body for s, _, body in answers if s == seq}
        assert len(bodies) == 1, f"workers disagree on sequence {seq}"
        assert "sequence-text" in next(iter(bodies))
    assert len({pid for _, pid, _ in answers}) >= 2, "answers should come from several workers"
    assert len({body for _, _, body in answers}) == 3, "different sequences give different views"
