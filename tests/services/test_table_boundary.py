"""The server-side sequence table under crafted posts to the real server: a bad value gets a message, never a 500.

Two callbacks: the filters outside the grid (search, confusion cell, lasso) and the grid's own column
filters become one query (``filter_table``); the grid's infinite row model asks for blocks of rows
(``get_rows``, ``getRowsRequest`` → ``getRowsResponse``).
"""

from __future__ import annotations

import json

import pytest

from tests.support.browser import start_app
from tests.support.dash_client import DashClient, text_of
from tests.support.servers import stop_server

LABEL = "analytics-filter-label.children"
ROWS = "sequence-table.getRowsResponse"
REQUEST = "sequence-table.getRowsRequest"
QUERY = {"dataset": "imdb", "method": "pca", "final_only": False, "search": None, "filter_query": ""}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A session on the real app serving the synthetic analyses (60 IMDB-like sequences)."""
    proc, url = start_app({}, tmp_path_factory.mktemp("tb"), pipeline="tests.support.synthetic")
    yield DashClient(url)
    stop_server(proc)


def _filters(
    client: DashClient, trigger: str = "analytics-search.value", **values: object
) -> tuple[int, str, dict]:
    sent = {"analytics-dataset.value": "imdb", "analytics-projection-method.value": "pca", **values}
    status, reply = client.post(LABEL, sent, trigger=trigger)
    response = reply.get("response", {}) if isinstance(reply, dict) else {}
    return status, text_of(reply), response


def _rows(client: DashClient, request: object, query: object = QUERY) -> tuple[int, str, dict]:
    """The grid's request for a block of rows, as its infinite row model posts it."""
    status, reply = client.post(
        ROWS, {REQUEST: request, "analytics-table-query.data": query}, trigger=REQUEST
    )
    response = reply.get("response", {}) if isinstance(reply, dict) else {}
    return status, text_of(reply), response.get("sequence-table", {}).get("getRowsResponse") or {}


@pytest.mark.heavy
def test_a_real_request_gets_one_sorted_block_and_the_query(client):
    status, text, response = _filters(client)
    assert status == 200, text
    assert response["analytics-filter-label"]["children"] == "60 of 60 sequences"
    query = response["analytics-table-query"]["data"]
    assert response["analytics-table-refresh"]["data"] == query  # the grid is told to ask again
    sort = [{"colId": "confidence", "sort": "desc"}, {"colId": "id", "sort": "asc"}]
    status, text, block = _rows(client, {"startRow": 10, "endRow": 20, "sortModel": sort}, query)
    assert status == 200, text
    assert len(block["rowData"]) == 10 and block["rowCount"] == 60
    confidences = [r["confidence"] for r in block["rowData"]]
    assert confidences == sorted(confidences, reverse=True)
    status, text, block = _rows(client, {"startRow": 50, "endRow": 150}, query)
    assert [r["id"] for r in block["rowData"]] == list(range(50, 60))


def test_a_lasso_outline_and_a_column_filter_are_applied_on_the_server(client):
    lasso = {"lasso": {"x": [0, 65535, 65535, 0], "y": [0, 0, 32767, 32767]}}
    status, text, response = _filters(client, "analytics-lasso.data", **{"analytics-lasso.data": lasso})
    assert status == 200 and "lasso selection" in text
    assert response["analytics-filter"]["data"]["shape"] == {
        "lasso": {"x": [0.0, 65535.0, 65535.0, 0.0], "y": [0.0, 0.0, 32767.0, 32767.0]}
    }
    grid_filter = {"length": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 30}}
    status, text, response = _filters(
        client, "sequence-table.filterModel", **{"sequence-table.filterModel": grid_filter}
    )
    assert status == 200 and "column filters" in text
    assert response["analytics-table-query"]["data"]["filter_query"] == "{length} >= 30.0"
    assert "analytics-table-refresh" not in response  # the grid asks again by itself
    status, text, block = _rows(client, {"startRow": 0, "endRow": 100, "filterModel": grid_filter})
    assert block["rowData"] and all(r["length"] >= 30 for r in block["rowData"])
    assert block["rowCount"] == len(block["rowData"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sequence-table.filterModel": {"__class__": {"type": "contains", "filter": "x"}}}, "no column"),
        ({"sequence-table.filterModel": {"text": {"type": "regex", "filter": ".*"}}}, "not supported"),
        ({"sequence-table.filterModel": {"text": {"type": "contains", "filter": "x" * 81}}}, "80"),
        ({"sequence-table.filterModel": "{id} > 3"}, "column filters are malformed"),
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
def test_malformed_filter_values_get_a_message(client, values, message):
    status, text, response = _filters(client, **values)
    assert status == 200, text
    assert message in text
    assert "Traceback" not in text
    assert not (response.get("analytics-table-query") or {}).get("data")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"startRow": -1, "endRow": 10}, "between 0 and"),
        ({"startRow": "0", "endRow": 10}, "whole number"),
        ({"startRow": 0.5, "endRow": 10}, "between 0 and"),
        ({"startRow": 10**9, "endRow": 10**9 + 10}, "between 0 and"),
        ({"startRow": 0, "endRow": 100_000}, "at most 500 rows"),
        ({"startRow": 20, "endRow": 10}, "at most 500 rows"),
        ({"startRow": 0, "endRow": 10, "sortModel": [{"colId": "__dict__", "sort": "asc"}]}, "cannot sort"),
        ({"startRow": 0, "endRow": 10, "sortModel": [{"colId": "id", "sort": "asc"}] * 9}, "at most 8"),
        (
            {"startRow": 0, "endRow": 10, "filterModel": {"secret": {"type": "equals", "filter": 1}}},
            "no column",
        ),
        ({"startRow": 0, "endRow": 10, "filterModel": {"id": {"type": "blank"}}}, "not supported"),
        (
            {"startRow": 0, "endRow": 10, "filterModel": {"id": {"type": "equals", "filter": "1; drop"}}},
            "number",
        ),
        (
            {
                "startRow": 0,
                "endRow": 10,
                "filterModel": {"text": {"type": "contains", "filter": "y" * 5_000}},
            },
            "80",
        ),
        (
            {"startRow": 0, "endRow": 10, "filterModel": {"id": {"operator": "OR", "conditions": [{}, {}]}}},
            "only be combined with AND",
        ),
        ({"startRow": 0, "endRow": 10, "context": "x" * 10_000}, "malformed"),
        ([0, 10], "malformed"),
    ],
)
def test_malformed_row_requests_get_a_message_and_no_rows(client, request_, message):
    status, text, block = _rows(client, request_)
    assert status == 200, text
    assert message in text
    assert "Traceback" not in text
    assert block == {"rowData": [], "rowCount": 0}


def test_a_malformed_query_store_gets_no_rows(client):
    status, text, block = _rows(client, {"startRow": 0, "endRow": 10}, {**QUERY, "filter_query": 7})
    assert status == 200 and "Column filter must be text" in text
    assert block == {"rowData": [], "rowCount": 0}
    status, text, block = _rows(client, {"startRow": 0, "endRow": 10}, {**QUERY, "secret": 1})
    assert status == 200 and "query is malformed" in text


def test_non_finite_outline_numbers_are_refused(client):
    body = client.callback(LABEL, "analytics-lasso.data")
    assert body  # the lasso store is an input of the table's filters
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
