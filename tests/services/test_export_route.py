"""Exports against a real server: built as a background job, downloaded by a handle bound to the session.

The server serves this module as its data pipeline: the synthetic analyses, plus ``imdb~all`` as a
larger one (several chunks of states). Every request is what a browser or a script could send: the
export callback, the job's polls, ``GET /download/<token>`` with and without the right cookie.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import time
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest

from model import export_stream
from tests.support import synthetic
from tests.support.browser import start_app
from tests.support.dash_client import DashClient, text_of
from tests.support.servers import stop_server
from tests.support.synthetic import *  # noqa: F403 - the stand-in pipeline's other functions

BIG = "imdb~all"
REQUEST = "analytics-export-job.data"
BUILD = "analytics-export-file.data"
TRIGGERS = {
    "states": "analytics-export-states.n_clicks",
    "parquet": "analytics-export-parquet.n_clicks",
    "sequences": "analytics-export-sequences.n_clicks",
    "projector": "analytics-export-tensorboard.n_clicks",
}


def load_analysis(dataset: str, n_sequences: int | None = None):
    if dataset == BIG:
        return synthetic.synthetic_analysis("imdb", 2_500, seed=3)
    return synthetic.load_analysis(dataset, n_sequences)


def load_projection(dataset: str, method: str, n_sequences: int | None = None):
    analysis = load_analysis(dataset, n_sequences)
    return None if analysis is None else synthetic.synthetic_projection(analysis)


def load_states(dataset: str, n_sequences: int | None = None):
    analysis = load_analysis(dataset, n_sequences)
    if analysis is None:
        return None
    hidden = np.random.default_rng(5).normal(0, 0.5, size=(analysis.n_states, 8)).astype(np.float16)
    return {"hidden": hidden, "cell": None}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    proc, url = start_app({}, tmp_path_factory.mktemp("exports"), pipeline=__name__)
    yield url
    stop_server(proc)


class Session:
    """One browser session: a cookie, the page's ``endId`` (background handles are bound to it)."""

    def __init__(self, base: str) -> None:
        self.client = DashClient(base)
        status, page = self.client.get("/analytics")
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)
        assert status == 200 and config
        self.end_id = json.loads(config.group(1))["end_id"]

    def body(self, output: str, values: dict, trigger: str) -> dict:
        dep = self.client.callback(output, trigger)
        outputs = [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
            for part in dep["output"].strip(".").split("...")
        ]

        def items(specs: list[dict]) -> list[dict]:
            return [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in specs]

        return {
            "output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": items(dep["inputs"]),
            "state": items(dep["state"]),
            "changedPropIds": [trigger],
        }

    def post(self, body: dict, query: str = "") -> dict:
        status, reply = self.client.raw_post_to(f"/_dash-update-component?endId={self.end_id}{query}", body)
        assert status in (200, 204), (status, reply)
        return reply or {}

    def ask(self, dataset: str, kind: str, hidden: bool = True) -> dict:
        """Click an export: the reply of the request callback (a handle, a file, or a message)."""
        values = {
            TRIGGERS[kind]: 1,
            "analytics-dataset.value": dataset,
            "analytics-projection-method.value": "pca",
            "analytics-export-hidden.value": hidden,
        }
        return self.post(self.body(REQUEST, values, TRIGGERS[kind]))

    def build(self, job: dict, replies: list | None = None) -> dict:
        """Start the build job for ``job`` and poll it to its end (its last reply); every reply is
        kept in ``replies``."""
        body = self.body(BUILD, {REQUEST: job}, REQUEST)
        handles = self.post(body)
        assert {"cacheKey", "job"} <= set(handles), handles
        query = f"&cacheKey={handles['cacheKey']}&job={handles['job']}"
        deadline = time.time() + 90
        while time.time() < deadline:
            reply = self.post(body, query)
            if replies is not None:
                replies.append(reply)
            if "response" in reply or "sideUpdate" in reply:
                return reply
            time.sleep(0.2)
        raise AssertionError("the export job never answered")

    def export(self, dataset: str, kind: str, hidden: bool = True, replies: list | None = None) -> dict:
        """``{"url", "name"}`` of the file, built now or before."""
        reply = self.ask(dataset, kind, hidden)
        if replies is not None:
            replies.append(reply)
        response = reply["response"]
        if "analytics-export-file" in response:
            return response["analytics-export-file"]["data"]
        job = response["analytics-export-job"]["data"]
        return self.build(job, replies)["response"]["analytics-export-file"]["data"]

    def download(self, url: str) -> tuple[int, dict, bytes]:
        return fetch(self.client.opener, self.client.base + url)


def fetch(opener, url: str) -> tuple[int, dict, bytes]:
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_session_exports_a_file_and_downloads_it_by_its_handle(base) -> None:
    alice = Session(base)
    replies: list = []
    file = alice.export("imdb", "sequences", replies=replies)
    assert (
        re.fullmatch(r"/download/[A-Za-z0-9_-]{32}", file["url"])
        and file["name"] == "rnnx-imdb-sequences.csv"
    )
    status, headers, data = alice.download(file["url"])
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"] == "attachment; filename=rnnx-imdb-sequences.csv"
    frame = pd.read_csv(io.BytesIO(data))
    analysis = synthetic.load_analysis("imdb")
    assert frame["sequence"].tolist() == list(range(analysis.n_sequences))
    assert frame["text"].tolist() == analysis.texts
    for reply in replies:  # the callbacks carry a handle and messages, never the file
        assert "sequence,length" not in text_of(reply) and len(text_of(reply)) < 20_000
    # asked again, by the same or another session: built already, the reply names the file at once
    bob = Session(base)
    again = bob.ask("imdb", "sequences")["response"]
    assert "analytics-export-job" not in again and "is downloading" in text_of(again)
    status, _headers, same = bob.download(again["analytics-export-file"]["data"]["url"])
    assert status == 200 and same == data


def test_another_session_or_no_session_cannot_use_a_handle(base) -> None:
    alice, bob = Session(base), Session(base)
    url = alice.export("reuters", "projector")["url"]
    assert alice.download(url)[0] == 200
    for status, _headers, body in (
        bob.download(url),
        fetch(urllib.request.build_opener(), base + url),  # no cookie at all
        alice.download("/download/" + "A" * 32),  # a made-up handle
        alice.download(url[:-1] + ("x" if url[-1] != "x" else "y")),
    ):
        assert status == 404 and b"another browser session" in body and b"PK" not in body[:4]
    _status, headers, body = alice.download("/download/..%2F..%2Fetc%2Fpasswd")  # the app's page, no file
    assert "Content-Disposition" not in headers and b"root:" not in body
    # a job for another session's handle builds nothing and says why
    token = url.rsplit("/", 1)[1]
    reply = bob.build({"token": token})
    assert "another browser session" in text_of(reply) and "analytics-export-file" not in text_of(reply)


def test_a_crafted_post_for_a_large_dataset_gets_a_handle_never_bytes(base) -> None:
    client = Session(base)
    client.client.jar.clear()  # anonymous: the server issues a session with the reply
    reply = client.ask(BIG, "states", hidden=True)
    response = reply["response"]
    assert set(response["analytics-export-job"]["data"]) == {"token"} and "being built" in text_of(response)
    assert "analytics-export-file" not in response and len(text_of(reply)) < 5_000
    replies: list = []
    done = client.build(response["analytics-export-job"]["data"], replies)
    file = done["response"]["analytics-export-file"]["data"]
    assert all(len(text_of(r)) < 20_000 and "h_0" not in text_of(r) for r in replies)
    status, headers, data = client.download(file["url"])
    assert status == 200 and headers["Content-Type"] == "application/gzip"
    assert file["name"] == "rnnx-imdb-all-pca-states.csv.gz"
    frame = pd.read_csv(io.BytesIO(gzip.decompress(data)))
    analysis = load_analysis(BIG)
    assert len(frame) == analysis.n_states > 2 * export_stream.CHUNK_ROWS  # several chunks
    hidden = load_states(BIG)["hidden"]
    np.testing.assert_allclose(frame[[f"h_{i}" for i in range(8)]].to_numpy(), hidden.astype(np.float32))
    np.testing.assert_allclose(frame["ep_positive"], analysis.ep[:, 1], atol=1e-6)


def test_parquet_without_hidden_vectors_and_refusals_in_the_reply(base) -> None:
    client = Session(base)
    file = client.export("reuters", "parquet", hidden=False)
    status, _headers, data = client.download(file["url"])
    frame = pd.read_parquet(io.BytesIO(data))
    assert status == 200 and not [c for c in frame.columns if c.startswith("h_")] and {"x", "y"} <= set(frame)
    assert len(frame) == synthetic.load_analysis("reuters").n_states
    refused = client.ask("upload-" + "ab" * 16, "states")
    assert "belongs to another session" in text_of(refused) and "analytics-export-job" not in text_of(refused)
    malformed = client.build({"token": "../../etc/passwd"})
    assert "Export handle is malformed" in text_of(malformed) and "analytics-export-file" not in text_of(
        malformed
    )
    assert "another browser session" in text_of(client.build({"token": "B" * 32}))


def test_two_requests_for_one_file_join_one_build_and_old_files_make_room(monkeypatch, tmp_path) -> None:
    """Without a server: two jobs for the same file build it once; the folder keeps to its bound."""
    import threading

    from services import analysis as analysis_service
    from services import exports, identity, registry

    monkeypatch.setenv("RNNX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(registry, "current", lambda: registry.Services(pipeline="tests.support.synthetic"))
    monkeypatch.setattr(identity, "current_session", lambda: "c" * 32)
    analysis_service.clear_caches()
    writes: list[str] = []
    real_write = exports._write

    def slow_write(path, kind, *args) -> None:
        writes.append(kind)
        time.sleep(1.0)  # long enough for the second job to find the first one building
        real_write(path, kind, *args)

    monkeypatch.setattr(exports, "_write", slow_write)
    first, second = (exports.request("imdb", "pca", "states", True) for _ in range(2))
    assert first.token != second.token and not first.ready
    stages: list[str] = []
    done: list[exports.Ticket] = []
    jobs = [
        threading.Thread(
            target=lambda t=t: done.append(exports.build(t.token, lambda _f, s: stages.append(s)))
        )
        for t in (first, second)
    ]
    for job in jobs:
        job.start()
        time.sleep(0.2)
    for job in jobs:
        job.join(30)
    assert writes == ["states"] and len(done) == 2 and all(t.ready and t.size > 0 for t in done)
    assert any("joined the same export" in s for s in stages)
    assert exports.request("imdb", "umap", "states", True).ready is False  # another method: another file
    assert exports.request("imdb", "tsne", "sequences", True).ready is False
    monkeypatch.setenv("RNNX_EXPORT_LIMIT_GB", str(1 / 1024**3))  # one byte: only the newest file stays
    exports.build(exports.request("reuters", "pca", "sequences", False).token, lambda _f, _s: None)
    kept = [p.name for p in exports.folder().iterdir()]
    assert len(kept) == 1 and kept[0].endswith(".sequences.csv")
    assert exports.request("imdb", "pca", "states", True).ready is False  # made room: built again on request
    analysis_service.clear_caches()


def test_the_route_is_served_under_the_url_prefix_too() -> None:
    from flask import Flask

    from serving import downloads

    server = Flask(__name__)
    downloads.install(server, "/rnnx/")
    rules = {rule.rule for rule in server.url_map.iter_rules()}
    assert {"/download/<token>", "/rnnx/download/<token>"} <= rules
