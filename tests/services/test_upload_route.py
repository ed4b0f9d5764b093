"""Files travel to their own route, as multipart streams; callback bodies stay small (issue 19, item 4).

Crafted requests against one real server: what the page's script sends, what another session's
script could send, and bodies over the limits, announced or not, while they are still arriving.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.dash_client import DashClient, text_of
from tests.support.uploads import (
    PAGE_HEADER,
    PeakRss,
    SlowPost,
    app_with_uploads,
    cookie_header,
    multipart,
    post_file,
    reply_of,
)

LIMIT_MB = 2
CALLBACK_KB = 64
CSV = b"id,review,sentiment\n1,good film,pos\n2,bad film,neg\n3,fine film,pos\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_with_uploads(
        tmp_path_factory.mktemp("upload-route"),
        RNNX_UPLOAD_LIMIT_MB=str(LIMIT_MB),
        RNNX_MAX_CALLBACK_KB=str(CALLBACK_KB),
    ) as app:
        yield app


def _incoming(cache: Path) -> list[Path]:
    return [p for p in (cache / "uploads").rglob("incoming/*") if p.is_file()]


def test_a_file_arrives_as_a_stream_and_the_panel_is_filled_from_the_servers_record(server):
    client = DashClient(server["url"])
    status, reply = post_file(client, "csv", CSV, "../../my reviews.csv")
    assert status == 200, reply
    handle = reply["file"]
    assert set(handle) == {"id", "name", "size", "facts"} and handle["name"] == "my_reviews.csv"
    assert handle["size"] == len(CSV) and handle["facts"]["columns"] == ["id", "review", "sentiment"]
    assert str(server["cache"]) not in text_of(reply)
    # The page relays only the slot and the id: names, columns and guesses come from the record.
    status, panel = reply_of(client, {"slot": "csv", "id": handle["id"], "name": "claimed.csv"})
    assert status == 200
    shown = panel["response"]
    assert [o["value"] for o in shown["analytics-text-column"]["options"]] == ["id", "review", "sentiment"]
    assert shown["analytics-text-column"]["value"] == "review"
    assert shown["analytics-label-column"]["value"] == "sentiment"
    assert "my_reviews.csv" in text_of(shown["analytics-upload-csv-name"]) and "3 rows" in text_of(panel)
    assert shown["analytics-byo-files"]["data"]["csv"]["id"] == handle["id"]
    assert shown["analytics-byo-run"]["disabled"] is True  # still needs a model


def test_another_session_can_neither_read_nor_claim_a_staged_id(server):
    owner, stranger = DashClient(server["url"]), DashClient(server["url"])
    status, reply = post_file(owner, "csv", CSV, "owners.csv")
    assert status == 200
    staged = reply["file"]["id"]
    status, panel = reply_of(stranger, {"slot": "csv", "id": staged, "name": "owners.csv"})
    assert status == 200
    assert "belongs to another session" in text_of(panel)
    assert "review" not in text_of(panel)  # none of the owner's columns
    assert panel["response"]["analytics-byo-files"]["data"] == {}
    assert panel["response"]["analytics-byo-run"]["disabled"] is True
    # the stranger's own upload leaves the owner's file where it was
    assert post_file(stranger, "csv", b"a,b\n1,2\n", "theirs.csv")[0] == 200
    status, panel = reply_of(owner, {"slot": "csv", "id": staged})
    assert status == 200 and "owners.csv" in text_of(panel) and "another session" not in text_of(panel)


def test_only_the_page_of_a_live_session_may_upload(server):
    client = DashClient(server["url"])
    for headers, needle in (
        ({"X-Requested-With": ""}, "only from the page"),
        ({"Sec-Fetch-Site": "cross-site"}, "only from the page"),
    ):
        status, reply = post_file(client, "csv", CSV, "a.csv", headers)
        assert (status, needle in text_of(reply)) == (403, True), reply
    body, content_type = multipart(CSV, "a.csv")
    request = urllib.request.Request(  # no cookie: no session to keep it for
        f"{server['url']}/upload/csv", data=body, headers={"Content-Type": content_type, **PAGE_HEADER}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403 and "session" in refused.value.read().decode()
    assert post_file(client, "weights", CSV, "a.csv")[0] == 404
    status, reply = post_file(client, "csv", "review,sentiment\ncafé,pos\n".encode("latin-1"), "l.csv")
    assert status == 422 and "not UTF-8" in reply["error"]
    status, reply = post_file(client, "model", b"PK not a zip", "m.keras")
    assert status == 422 and reply["error"] and str(server["cache"]) not in reply["error"]


def test_a_body_announced_over_the_limit_is_refused_before_it_is_sent(server):
    client = DashClient(server["url"])
    _body, content_type = multipart(b"", "huge.csv")
    head = {"Content-Type": content_type, "Cookie": cookie_header(client), **PAGE_HEADER}
    with PeakRss(server["proc"].pid) as rss:
        post = SlowPost(server["url"], "/upload/csv", head, length=300 * 2**20, chunked=False)
        status, reply = post.answer()
    assert status == 413 and "more than the limit of 2 MB" in reply["error"]
    assert post.sent < 100 * 2**20, "the server read what it had refused"
    assert rss.growth_mb < 100
    assert not _incoming(server["cache"]) or all("huge" not in p.name for p in _incoming(server["cache"]))


def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(server):
    client = DashClient(server["url"])
    before = set(_incoming(server["cache"]))
    _body, content_type = multipart(b"", "endless.csv")
    head = {"Content-Type": content_type, "Cookie": cookie_header(client), **PAGE_HEADER}
    with PeakRss(server["proc"].pid) as rss:
        post = SlowPost(server["url"], "/upload/csv", head, length=400 * 2**20, chunked=True)
        status, reply = post.answer()
    assert status == 413 and "more than the limit" in text_of(reply)
    assert post.sent < 200 * 2**20, "the server went on reading past the limit"
    assert rss.growth_mb < 100
    assert set(_incoming(server["cache"])) == before, "a partial file was left behind"


def test_a_callback_body_over_the_limit_gets_413_unread_and_healthz_answers(server):
    client = DashClient(server["url"])
    head = {"Content-Type": "application/json", "Cookie": cookie_header(client)}
    announced = SlowPost(server["url"], "/_dash-update-component", head, length=228 * 2**20, chunked=False)
    with urllib.request.urlopen(f"{server['url']}/healthz", timeout=10) as response:
        assert response.status == 200 and json.loads(response.read())["status"] == "ok"
    status, reply = announced.answer()
    assert status == 413 and "RNNX_MAX_CALLBACK_KB" in reply["message"]
    assert announced.sent < 100 * 2**20
    status, reply = SlowPost(server["url"], "/_dash-update-component", head, 50 * 2**20, True).answer()
    assert status == 413 and "RNNX_MAX_CALLBACK_KB" in text_of(reply)
    # a long text under the limit still reaches the callback (and its own checks)
    status, reply = client.post(
        "analytics-filter-label.children",
        {"analytics-dataset.value": "imdb", "analytics-search.value": "w" * 40_000},
    )
    assert status == 200 and "Search is 40,000 characters long" in text_of(reply)
    status, _ = client.post(
        "analytics-filter-label.children",
        {"analytics-dataset.value": "imdb", "analytics-search.value": "w" * 70_000},
    )
    assert status == 413
    assert DashClient(server["url"]).get("/healthz")[0] == 200
