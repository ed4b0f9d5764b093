"""The projection's zoom events under crafted posts to the real server: a set above the point budget gets
the states in view (a Patch and the stored view); a bad value gets a message, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.support.browser import start_app
from tests.support.dash_client import DashClient, text_of
from tests.support.servers import stop_server

OUTPUT = "projection-view.data"
TRIGGER = "projection-graph.relayoutData"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A session on the real app serving the synthetic analyses, with a point budget below their size."""
    env = {"RNNX_POINT_BUDGET": "300"}
    proc, url = start_app(env, tmp_path_factory.mktemp("cb"), pipeline="tests.support.synthetic")
    yield DashClient(url)
    stop_server(proc)


def _zoom(
    client: DashClient, event: object, stored: object = None, dataset: object = "imdb"
) -> tuple[int, object]:
    return client.post(
        OUTPUT,
        {
            TRIGGER: event,
            "projection-view.data": stored,
            "analytics-dataset.value": dataset,
            "analytics-projection-method.value": "pca",
            "analytics-color-mode.value": "ep",
            "analytics-fade.value": "none",
            "analytics-final-only.value": False,
        },
        TRIGGER,
    )


def _view(reply: object) -> object:
    return reply["response"]["projection-view"]["data"]


def test_a_small_zoom_sends_points_and_stores_the_view(client):
    status, reply = _zoom(client, {"xaxis.range": [30000, 34000], "yaxis.range": [9000, 13000]})
    assert status == 200
    assert _view(reply) == {"key": "imdb/pca", "x": [30000.0, 34000.0], "y": [9000.0, 13000.0]}
    text = text_of(reply["response"]["projection-graph"])
    assert '"bdata"' in text and "in view as points" in text


def test_a_zoom_with_too_many_states_sends_the_density_of_the_view(client):
    status, reply = _zoom(
        client, {"xaxis.range[0]": 0, "xaxis.range[1]": 65535, "yaxis.range[0]": 0, "yaxis.range[1]": 30000}
    )
    assert status == 200 and _view(reply)["x"] == [0.0, 65535.0]
    assert "data:image/png;base64," in text_of(reply) and "as density" in text_of(reply)


def test_a_reset_forgets_the_view(client):
    stored = {"key": "imdb/pca", "x": [0, 10], "y": [0, 10]}
    status, reply = _zoom(client, {"xaxis.autorange": True, "yaxis.autorange": True}, stored)
    assert status == 200 and _view(reply) is None
    assert "zoom in to see points" in text_of(reply)


def test_other_layout_events_change_nothing(client):
    status, reply = _zoom(client, {"dragmode": "lasso"})
    assert status == 204 or "projection-view" not in text_of(reply)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"xaxis.range": [0, 1e300], "yaxis.range": [0, 1]}, "within"),
        ({"xaxis.range": ["0", "1"]}, "must be numbers"),
        ({"xaxis.range": [[0], [1]]}, "must be numbers"),
        ({"xaxis.range": [True, 5]}, "must be numbers"),
        ({"xaxis.range": [5, 5]}, "must not be empty"),
        ({"xaxis.range": [0, 1, 2]}, "two numbers"),
        ({"xaxis.range": {"a": 1}}, "two numbers"),
        ({"xaxis.range[0]": 3}, "both ends"),
        ([0, 1, 0, 1], "malformed"),
        ("zoom", "malformed"),
        ({f"k{i}": i for i in range(100)}, "malformed"),
        ({"selections": "x" * 250_000}, "malformed"),
    ],
)
def test_crafted_zoom_events_are_refused_with_a_message(client, event, message):
    status, reply = _zoom(client, event)
    assert status == 200
    assert message in text_of(reply)
    assert "projection-view" not in json.dumps(reply.get("response", {}))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_ranges_are_refused(client, bad):
    status, reply = _zoom(client, {"xaxis.range": [0, bad], "yaxis.range": [0, 1]})  # sent as NaN / Infinity
    assert status == 200
    assert "finite" in text_of(reply)


@pytest.mark.parametrize(
    "stored",
    [
        {"key": "imdb/pca", "x": [0, 1]},
        {"key": "imdb/pca", "x": [0, "1"], "y": [0, 1]},
        {"key": "k" * 500, "x": [0, 1], "y": [0, 1]},
        {"key": "imdb/pca", "x": [0, 1], "y": [0, 1], "extra": 1},
        "imdb/pca",
    ],
)
def test_a_crafted_stored_view_is_refused_with_a_message(client, stored):
    status, reply = _zoom(client, {"xaxis.range": [0, 100], "yaxis.range": [0, 100]}, stored)
    assert status == 200
    assert "projection view" in text_of(reply).lower() or "projection range" in text_of(reply).lower()


@pytest.mark.parametrize("dataset", ["../../etc/passwd", "upload-" + "0" * 24, 7])
def test_a_foreign_or_malformed_dataset_draws_nothing(client, dataset):
    status, reply = _zoom(client, {"xaxis.range": [0, 100], "yaxis.range": [0, 100]}, None, dataset)
    assert status in (200, 204)
    assert "bdata" not in text_of(reply)
