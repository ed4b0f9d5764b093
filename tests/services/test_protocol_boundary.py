"""Crafted callback requests that are not a call of a server callback get a 400 with a message, not Dash's 500."""

from __future__ import annotations

import json

import pytest

from bench.load import DashClient, callback_body
from serving import protocol


def _post(client: DashClient, body: object) -> tuple[int, dict | None]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, reply = client.request("POST", "/_dash-update-component", raw)
    try:
        return status, json.loads(reply)
    except ValueError:
        return status, None


@pytest.mark.parametrize(
    "body",
    [
        {"output": "no-such-component.data", "outputs": {"id": "no-such-component", "property": "data"}},
        {"output": "/etc/passwd", "inputs": []},
        {"output": "x" * 100_000, "inputs": []},
        {"output": ["projection-graph.figure"], "inputs": []},
        {"output": "projection-graph.figure", "inputs": "not a list"},
        {"output": "projection-graph.figure", "inputs": [], "state": {"a": 1}},
        [1, 2, 3],
        b"not json at all",
    ],
)
def test_a_request_that_calls_no_server_callback_gets_a_message(app_server: str, body) -> None:
    client = DashClient(app_server)
    status, reply = _post(client, body)
    assert status == 400 and reply and reply["message"] and "Traceback" not in json.dumps(reply)


def test_a_clientside_callbacks_output_is_not_a_server_call(app_server: str) -> None:
    client = DashClient(app_server)
    clientside = next(d for d in client.deps if d.get("clientside_function"))
    status, reply = _post(client, {"output": clientside["output"], "inputs": [], "state": []})
    assert status == 400 and reply == {"message": "No callback of this server has that output."}
    served = next(d for d in client.deps if not d.get("clientside_function"))
    spec = {"callback": print, "inputs": served["inputs"], "state": served["state"]}
    callbacks = {served["output"]: spec, clientside["output"]: {}}
    body = json.loads(callback_body(client.deps, served["output"], {}, []))  # as the renderer sends it
    assert protocol.problem(body, callbacks) is None
    assert protocol.problem({"output": clientside["output"], "inputs": []}, callbacks)
    status, _reply = client.call(
        "trainer-result", {}, ["trainer-session.data"]
    )  # a real call still reaches Dash
    assert status in (200, 204)
