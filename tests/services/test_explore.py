"""``rnnx.explore``: a model prepared in this process, shown by the app to the browser that opens its link.

The link is a one-time claim (``services.claims``, ``serving.claim_route``): the first browser
session that opens it owns the upload and lands on its analytics page; any other session, like a
made-up or malformed token, gets a 404 page with a message. The app is a real child server
(``rnnx.server``), reached over HTTP with a cookie jar as a browser would.
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from services import claims
from tests.support import onnx_models as om
from tests.support.byo_models import FILLER, NEGATIVE, POSITIVE, sentiment_texts
from tests.support.dash_client import DashClient

WORDS = FILLER + POSITIVE + NEGATIVE


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory):
    import rnnx
    from rnnx import server

    folder = tmp_path_factory.mktemp("explore")
    built = om.build(vocab=len(WORDS) + 2, embed=6, hidden=8, classes=2, layers=1, seed=3)
    texts, labels = sentiment_texts(30, seed=4)
    vocabulary = {word: i + 2 for i, word in enumerate(WORDS)}  # a dict, as a notebook holds it
    result = rnnx.explore(
        built.save(folder / "tiny.onnx"), texts, labels, vocabulary=vocabulary, mode="external"
    )
    yield result
    server.stop_all()


def _opener() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def _get(opener, url: str) -> tuple[int, str, str]:
    """(status, final URL after redirects, body)."""
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode(errors="replace")


@pytest.mark.heavy  # starts the app server (about 15 s on two cores)
def test_the_link_gives_this_browser_the_page_of_its_dataset(explored, capsys) -> None:
    assert explored.dataset.startswith("upload-") and explored.summary["n_sequences"] == 30
    assert explored.url.startswith("http://127.0.0.1:") and "/claim/" in explored.url
    token = explored.url.rsplit("/", 1)[1]
    assert claims.TOKEN.fullmatch(token) and "tiny" not in explored.url  # a capability, never a path
    base = explored.url.split("/claim/")[0]

    # a browser opens the link: redirected to the page of its dataset, which its session now owns
    client = DashClient(base, page=f"/claim/{token}")
    status, final, _body = _get(client.opener, explored.url)  # the same browser again: still its own
    assert status == 200 and final == f"{base}/analytics?dataset={explored.dataset}"
    status, reply = client.post(
        "analytics-dataset.options",
        {"analytics-requested-upload.data": explored.dataset},
        trigger="analytics-uploads.data",
    )
    assert status == 200, reply
    listed = reply["response"]["analytics-dataset"]
    assert explored.dataset in [option["value"] for option in listed["options"]]
    assert listed["value"] == explored.dataset  # the page selects it

    # another browser (another session) opening the same link: a 404 page that says why
    other, _jar = _opener()
    status, _final, body = _get(other, explored.url)
    assert status == 404 and "rnnx.explore again" in body
    # made-up and malformed tokens get the same page
    for made_up in ("A" * 43, "A" * 42 + "!", "short", "x" * 300):
        status, _final, body = _get(other, f"{base}/claim/{made_up}")
        assert status == 404 and "unknown" in body


@pytest.mark.heavy
def test_a_second_explore_reuses_the_server_and_hits_the_cache(explored, tmp_path: Path) -> None:
    import rnnx
    from rnnx import server

    folder = tmp_path
    built = om.build(vocab=len(WORDS) + 2, embed=6, hidden=8, classes=2, layers=1, seed=3)
    texts, labels = sentiment_texts(30, seed=4)
    again = rnnx.explore(
        built.save(folder / "tiny.onnx"),
        texts,
        labels,
        vocabulary={word: i + 2 for i, word in enumerate(WORDS)},
        mode="external",
    )
    assert again.dataset == explored.dataset and again.summary["cached"]
    assert again.url != explored.url and again.url.split("/claim/")[0] == explored.url.split("/claim/")[0]
    assert len(server.SERVERS) == 1


def test_bad_arguments_are_refused_before_anything_runs() -> None:
    import rnnx
    from model import byo

    with pytest.raises(byo.InputError, match="mode"):
        rnnx.explore("m.onnx", ["a"], ["x"], mode="popup")
    with pytest.raises(byo.InputError, match="labels"):
        rnnx.explore("m.onnx", ["a", "b"], ["x"], mode="external")


def test_a_claim_token_binds_to_the_first_session_and_expires(monkeypatch) -> None:
    from contextlib import contextmanager

    from flask import Flask, g

    from services import uploads

    server = Flask("claims")

    @contextmanager
    def session(sid: str):
        with server.test_request_context():
            g.rnnx_session = sid
            yield

    first, second = "a" * 32, "b" * 32
    token = claims.issue("upload-00112233aabb", "tiny.onnx on 30 texts")
    assert claims.TOKEN.fullmatch(token)
    with session(first):
        assert claims.claim(token) == "upload-00112233aabb"
        assert uploads.owns("upload-00112233aabb")
        assert claims.claim(token) == "upload-00112233aabb"  # the same browser again
    with session(second):
        with pytest.raises(claims.Unclaimable):
            claims.claim(token)
        assert not uploads.owns("upload-00112233aabb")
        for bad in (None, 7, "A" * 43, "../x", "x" * 400):
            with pytest.raises(claims.Unclaimable):
                claims.claim(bad)
    with pytest.raises(claims.InvalidInput):
        claims.issue("../../etc", "x")
    later = claims.issue("upload-00112233aabb", "x")
    monkeypatch.setattr(claims.time, "time", lambda: 1e12)  # far in the future
    with session(second), pytest.raises(claims.Unclaimable):
        claims.claim(later)
