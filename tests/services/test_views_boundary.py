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


def _slice(client: DashClient, query: object) -> tuple[int, str]:
    status, reply = client.post("slice-summary.children", {"analytics-table-query.data": query})
    return status, text_of(reply)


def _query(**fields: object) -> dict:
    """The table's published filter state, as the table card writes it."""
    return {
        "dataset": "imdb",
        "method": "pca",
        "final_only": False,
        "filter_query": "",
        "sort_by": [],
        **fields,
    }


@pytest.mark.heavy
def test_slice_metrics_answer_a_real_slice(client):
    status, text = _slice(client, _query(filter_query="{id} < 4"))
    assert status == 200 and "4 of 60 sequences" in text and "accuracy" in text
    status, text = _slice(client, _query(shape={"box": {"x": [0, 65535], "y": [0, 65535]}}))
    assert status == 200 and "60 of 60 sequences" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (_query(actual=7, predicted=0), "not one of this dataset"),
        (_query(actual=-3, predicted=0), "Class must be between"),
        (_query(shape={"lasso": {"x": ["0; drop"] * 3, "y": [1, 2, 3]}}), "finite numbers"),
        (_query(shape={"lasso": {"x": list(range(5_001)), "y": list(range(5_001))}}), "5,000"),
        (_query(sort_by=[{"column_id": "x", "direction": "asc"}]), "cannot sort"),
        (_query(filter_query="{" * 2_001), "limit is 2,000"),
        (_query(row_ids=[1, 2]), "query is malformed"),
        ({"a": 1}, "query is malformed"),
        ([1] * 200_000, "query is malformed"),  # bigger bodies get 413 (RNNX_MAX_CALLBACK_KB)
    ],
)
def test_slice_metrics_refuse_a_crafted_query_with_a_message(client, query, message):
    status, text = _slice(client, query)
    assert status == 200
    assert message in text


@pytest.mark.parametrize("dataset", ["../../etc/passwd", "upload-" + "0" * 24, 7, "x" * 500])
def test_slice_metrics_refuse_a_foreign_or_malformed_dataset(client, dataset):
    status, text = _slice(client, _query(dataset=dataset))
    assert status == 200
    assert "sequences · accuracy" not in text
