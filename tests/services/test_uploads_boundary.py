"""Uploads and datasets as handles: crafted posts to the real server find no path, no foreign id.

Every request here is what a curious or careless user's script could send: paths in file names,
other sessions' upload ids, a zip bomb, a body over the limit, long strings and NaN numbers.
Files go to the upload route (``serving.upload_route``) as multipart posts.
"""

from __future__ import annotations

import contextlib
import http.client
import json
from pathlib import Path

import pytest

from tests.support.bombs import keras_zip_bomb
from tests.support.dash_client import DashClient, text_of
from tests.support.uploads import PeakRss, app_with_uploads, post_file

LIMIT_MB = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_with_uploads(
        tmp_path_factory.mktemp("boundary-cache"), RNNX_UPLOAD_LIMIT_MB=str(LIMIT_MB)
    ) as app:
        yield app


def upload(client: DashClient, slot: str, data: bytes, name: str) -> tuple[int, object]:
    return post_file(client, slot, data, name)


def test_a_received_file_is_a_handle_never_a_server_path(server):
    client = DashClient(server["url"])
    status, reply = upload(
        client, "csv", b"review,sentiment\ngood film,pos\nbad film,neg\n", "../../etc/passwd"
    )
    assert status == 200
    handle = reply["file"]
    assert set(handle) == {"id", "name", "size", "facts"}
    assert handle["id"].startswith("f-") and handle["name"] == "passwd"
    shown = text_of(reply)
    assert str(server["cache"]) not in shown and "/etc" not in shown and "incoming" not in shown


def test_a_foreign_or_made_up_upload_id_is_refused_with_a_message(server):
    owner, stranger = DashClient(server["url"]), DashClient(server["url"])
    upload(owner, "csv", b"text,label\na,1\nb,0\n", "mine.csv")
    dataset = "upload-" + "ab" * 16
    for client in (stranger, owner):  # nobody has prepared it: the owner is refused as well
        status, reply = client.post(
            "analytics-model-bar.children",
            {"analytics-dataset.value": dataset, "analytics-projection-method.value": "pca"},
            trigger="analytics-dataset.value",
        )
        assert status == 200
        assert "belongs to another session" in text_of(reply)
    status, reply = stranger.post(
        "analytics-model-bar.children", {"analytics-dataset.value": "/etc/passwd"}, "analytics-dataset.value"
    )
    assert status == 200 and "Unknown dataset" in text_of(reply)


def test_a_path_or_foreign_id_in_the_url_selects_nothing(server):
    client = DashClient(server["url"])
    status, page = client.get("/analytics?dataset=upload-" + "cd" * 16)
    assert status == 200
    status, reply = client.post(
        "analytics-dataset.options",
        {"analytics-requested-upload.data": "upload-" + "cd" * 16},
        trigger="analytics-uploads.data",
    )
    assert status == 200
    assert "upload-" not in text_of(reply["response"]["analytics-dataset"].get("options"))
    assert "value" not in reply["response"]["analytics-dataset"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"distance-threshold.value": 1e300}, "Threshold must be between 0 and 1"),
        ({"distance-threshold.value": "NaN"}, "Threshold must be a finite number"),
        ({"analytics-ep-threshold.value": -5}, "Threshold must be between 0 and 1"),
        ({"analytics-label-rules.value": ["jump"] * 50}, "Word labels has 50 entries"),
        ({"analytics-trajectory-color.value": "x" * 5000}, "Trajectory colour must be one of"),
        (
            {"analytics-selection.data": {"dataset": "imdb", "seq": 10**12, "step": 0}},
            "Sequence must be between",
        ),
    ],
)
def test_out_of_bounds_values_get_a_message_not_a_500(server, values, message):
    client = DashClient(server["url"])
    base = {"analytics-dataset.value": "imdb", "analytics-projection-method.value": "pca"}
    status, reply = client.post("sequence-text.children", {**base, **values}, "analytics-selection.data")
    assert status == 200, reply
    assert message in text_of(reply)


def test_a_long_search_string_is_refused(server):
    client = DashClient(server["url"])
    status, reply = client.post(
        "analytics-filter-label.children",
        {"analytics-dataset.value": "imdb", "analytics-search.value": "w" * 300_000},
    )
    assert status == 200 and "Search is 300,000 characters long" in text_of(reply)


@pytest.mark.heavy
def test_a_keras_zip_bomb_is_refused_and_the_worker_stays_small(server, tmp_path):
    bomb = keras_zip_bomb(tmp_path / "bomb.keras")
    assert bomb.stat().st_size < 2 * 2**20
    client = DashClient(server["url"])
    with PeakRss(server["proc"].pid) as rss:
        status, reply = upload(client, "model", bomb.read_bytes(), "bomb.keras")
    assert status == 422
    assert "zip bomb" in text_of(reply) or "uncompressed" in text_of(reply)
    assert rss.growth_mb < 300, rss.growth_mb
    print(json.dumps({"zip_bomb_peak_growth_mb": round(rss.growth_mb, 1)}))


def test_a_body_over_the_limit_is_refused_while_it_is_received(server):
    """A 533 MB callback post is answered 413 from its Content-Length: the server never reads or decodes it."""
    host, port = server["url"].removeprefix("http://").split(":")
    with PeakRss(server["proc"].pid) as rss:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.putrequest("POST", "/_dash-update-component")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(533 * 2**20))
        conn.endheaders()
        with contextlib.suppress(OSError):  # the server may close before the first megabyte is sent
            conn.send(b"x" * 2**20)
        status = conn.getresponse().status
        conn.close()
    assert status == 413
    assert rss.growth_mb < 300
    print(json.dumps({"oversized_upload_peak_growth_mb": round(rss.growth_mb, 1)}))


def test_a_file_just_over_the_upload_limit_gets_the_limit_message(server):
    client = DashClient(server["url"])
    status, reply = upload(client, "csv", b"text,label\n" + b"w,1\n" * (LIMIT_MB * 2**18 + 10), "big.csv")
    assert status == 413 and "more than the limit" in text_of(reply)


def test_the_server_keeps_serving_after_every_attack(server):
    status, body = DashClient(server["url"]).get("/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert server["proc"].poll() is None
    assert not list(Path(server["cache"]).rglob("passwd"))
