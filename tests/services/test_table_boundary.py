"""The server-side sequence table under crafted posts to the real server: a bad value gets a message, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.support.browser import start_app
from tests.support.dash_client import DashClient, text_of
from tests.support.servers import stop_server


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A session on the real app serving the synthetic analyses (60 IMDB-like sequences)."""
    proc, url = start_app({}, tmp_path_factory.mktemp("tb"), pipeline="tests.support.synthetic")
    yield DashClient(url)
    stop_server(proc)


def _table(
    client: DashClient, trigger: str = "analytics-search.value", **values: object
) -> tuple[int, str, dict]:
    sent = {"analytics-dataset.value": "imdb", "analytics-projection-method.value": "pca", **values}
    status, reply = client.post("sequence-table.data", sent, trigger=trigger)
    response = reply.get("response", {}) if isinstance(reply, dict) else {}
    return status, text_of(reply), response


@pytest.mark.heavy
def test_a_real_request_gets_one_sorted_page_and_its_query(client):
    sort_by = [{"column_id": "confidence", "direction": "desc"}, {"column_id": "id", "direction": "asc"}]
    values = {"sequence-table.page_current": 1, "sequence-table.sort_by": sort_by}
    status, text, response = _table(client, "sequence-table.sort_by", **values)
    assert status == 200, text
    assert response["sequence-table"]["page_current"] == 0  # a new sort starts at the first page
    assert response["analytics-table-query"]["data"]["sort_by"] == sort_by
    status, text, response = _table(client, "sequence-table.page_current", **values)
    rows = response["sequence-table"]["data"]
    assert len(rows) == 10 and response["sequence-table"]["page_current"] == 1
    confidences = [r["confidence"] for r in rows]
    assert confidences == sorted(confidences, reverse=True)
    assert response["analytics-filter-label"]["children"] == "60 of 60 sequences"
    assert "analytics-table-query" not in response  # a page turn publishes no new query


def test_a_lasso_outline_and_a_column_filter_are_applied_on_the_server(client):
    lasso = {"lasso": {"x": [0, 65535, 65535, 0], "y": [0, 0, 32767, 32767]}}
    status, text, response = _table(client, "analytics-lasso.data", **{"analytics-lasso.data": lasso})
    assert status == 200 and "lasso selection" in text
    assert response["analytics-filter"]["data"]["shape"] == {
        "lasso": {"x": [0.0, 65535.0, 65535.0, 0.0], "y": [0.0, 0.0, 32767.0, 32767.0]}
    }
    status, text, response = _table(
        client, "sequence-table.filter_query", **{"sequence-table.filter_query": "{length} >= 30"}
    )
    assert status == 200 and "column filters" in text
    assert all(r["length"] >= 30 for r in response["sequence-table"]["data"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sequence-table.page_current": -1}, "Table page"),
        ({"sequence-table.page_current": 10**7}, "Table page"),
        ({"sequence-table.page_current": "two"}, "Table page"),
        ({"sequence-table.page_current": [1]}, "Table page"),
        ({"sequence-table.sort_by": "id"}, "sort order"),
        ({"sequence-table.sort_by": [{"column_id": "__class__", "direction": "asc"}]}, "cannot sort"),
        ({"sequence-table.sort_by": [{"column_id": "id", "direction": "sideways"}]}, "cannot sort"),
        ({"sequence-table.sort_by": [{"column_id": "id", "direction": "asc", "x": 1}]}, "malformed"),
        ({"sequence-table.sort_by": [{"column_id": "id", "direction": "asc"}] * 9}, "at most 8"),
        ({"sequence-table.filter_query": "{id} = 1 && " * 200}, "limit is 2,000"),
        ({"sequence-table.filter_query": 5}, "Column filter must be text"),
        ({"analytics-lasso.data": {"lasso": {"x": [1.0] * 5_001, "y": [1.0] * 5_001}}}, "5,000"),
        ({"analytics-lasso.data": {"lasso": {"x": [1, "2", 3], "y": [1, 2, 3]}}}, "finite numbers"),
        ({"analytics-lasso.data": {"lasso": {"x": [1, 2, 3], "y": [1, 2]}}}, "do not match"),
        ({"analytics-lasso.data": {"box": {"x": [1, 2, 3], "y": [1, 2, 3]}}}, "do not match"),
        ({"analytics-lasso.data": {"circle": {"x": [1], "y": [1]}}}, "outline is malformed"),
        ({"analytics-lasso.data": [[0, 0], [1, 1]]}, "outline is malformed"),
        ({"analytics-filter.data": {"ids": list(range(10))}}, "filter is malformed"),
        ({"analytics-filter.data": {"actual": "negative"}}, "Class must be a number"),
        ({"analytics-filter.data": {"actual": 10**9, "predicted": 0}}, "Class must be between"),
        ({"analytics-filter.data": {"actual": 7, "predicted": 0}}, "not one of this dataset's classes"),
        ({"analytics-search.value": "x" * 201}, "Search"),
        ({"analytics-dataset.value": "../../etc/passwd"}, "atase"),
    ],
)
def test_malformed_table_values_get_a_message(client, values, message):
    status, text, response = _table(client, **values)
    assert status == 200, text
    assert message in text
    assert "Traceback" not in text
    assert not response.get("sequence-table", {}).get("data")


def test_non_finite_outline_numbers_are_refused(client):
    body = client.callback("sequence-table.data", "analytics-lasso.data")
    assert body  # the lasso store is an input of the table
    status, reply = client.post(
        "sequence-table.data",
        {
            "analytics-dataset.value": "imdb",
            "analytics-lasso.data": {"lasso": {"x": [0, 1, 2], "y": [0, 1, 2]}},
        },
        trigger="analytics-lasso.data",
    )
    assert status == 200
    raw = json.dumps(
        {
            "output": body["output"],
            "outputs": [
                {"id": p.split(".")[0], "property": p.split(".")[1]}
                for p in body["output"].strip(".").split("...")
            ],
            "inputs": [
                {
                    "id": s["id"],
                    "property": s["property"],
                    "value": {"lasso": {"x": [0, float("nan"), 2], "y": [0, 1, 2]}}
                    if s["id"] == "analytics-lasso"
                    else ("imdb" if s["id"] == "analytics-dataset" else None),
                }
                for s in body["inputs"]
            ],
            "state": [{"id": s["id"], "property": s["property"], "value": None} for s in body["state"]],
            "changedPropIds": ["analytics-lasso.data"],
        }
    ).encode()  # Python writes NaN, as a hand-made request could
    status, reply = client.raw_post(raw)
    assert status == 200
    assert "finite numbers" in text_of(reply)


@pytest.mark.parametrize("query", ["{id} = abc", "{nope} contains x", "{id} is blank", "{{", "{id} = 1 &&"])
def test_an_unreadable_column_filter_is_explained_not_a_500(client, query):
    status, text, response = _table(
        client, "sequence-table.filter_query", **{"sequence-table.filter_query": query}
    )
    assert status == 200
    assert "60 of 60 sequences · column filter left out" in response["analytics-filter-label"]["children"]
