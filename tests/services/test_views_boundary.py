"""The newer analytics views under crafted posts to the real server: a bad value gets a message, never a 500."""

from __future__ import annotations

import pytest

from tests.support.browser import start_app
from tests.support.dash_client import DashClient, text_of
from tests.support.servers import stop_server


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A session on the real app serving the synthetic analyses."""
    proc, url = start_app({}, tmp_path_factory.mktemp("vb"), pipeline="tests.support.synthetic")
    yield DashClient(url)
    stop_server(proc)


def _slice(client: DashClient, row_ids: object, dataset: object = "imdb") -> tuple[int, str]:
    status, reply = client.post(
        "slice-summary.children",
        {"analytics-dataset.value": dataset, "sequence-table.derived_virtual_row_ids": row_ids},
    )
    return status, text_of(reply)


def test_slice_metrics_answer_a_real_slice(client):
    status, text = _slice(client, [0, 1, 2, 3])
    assert status == 200 and "4 of " in text and "accuracy" in text


@pytest.mark.parametrize(
    ("row_ids", "message"),
    [
        ([10**9], "not in this analysis"),
        ([-3], "not in this analysis"),
        (["0; drop"], "whole numbers"),
        ([[1, 2]], "whole numbers"),
        ({"a": 1}, "malformed"),
        (list(range(200_000)), "malformed"),
        ([1] * 3_000_000, "Table rows"),
    ],
)
def test_slice_metrics_refuse_crafted_row_ids_with_a_message(client, row_ids, message):
    status, text = _slice(client, row_ids)
    assert status == 200
    assert message in text


@pytest.mark.parametrize("dataset", ["../../etc/passwd", "upload-" + "0" * 24, 7, "x" * 500])
def test_slice_metrics_refuse_a_foreign_or_malformed_dataset(client, dataset):
    status, text = _slice(client, [0], dataset)
    assert status == 200
    assert "sequences · accuracy" not in text
