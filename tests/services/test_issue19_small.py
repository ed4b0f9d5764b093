"""Issue 19, item 9, at the server: crafted requests that were an HTML 500 get a message instead.

A threshold of ``nan`` in the link or ``null`` in a post, a list in the pinned-text store, a body
nested 100,000 arrays deep, a body with fewer states, or no outputs, than its callback declares;
an uploaded CSV of 100,000 columns, a model config or vocabulary nested 20,000 levels deep.
"""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
import uuid
import zipfile

import pytest

from serving import upload_route
from tests.support.browser import start_app
from tests.support.dash_client import DashClient, text_of
from tests.support.servers import stop_server

SELECTED = {"dataset": "imdb", "seq": 3, "step": None}
VIEW = {"analytics-dataset.value": "imdb", "analytics-projection-method.value": "pca"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A session on the real app serving the synthetic analyses."""
    proc, url = start_app({}, tmp_path_factory.mktemp("i19"), pipeline="tests.support.synthetic")
    yield DashClient(url)
    stop_server(proc)


def _show(client: DashClient, **values: object) -> tuple[int, dict]:
    fields = {"analytics-selection.data": SELECTED, **VIEW, **values}
    return client.post("sequence-text.children", fields, trigger="analytics-selection.data")


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ("distance-threshold.value", "No jump threshold arrived: the default 0.40 is used."),
        ("analytics-ep-threshold.value", "No EP change threshold arrived: the default 0.30 is used."),
    ],
)
def test_a_null_threshold_draws_the_selection_with_its_default_and_says_so(client, field, said) -> None:
    others = {"distance-threshold.value": 0.4, "analytics-ep-threshold.value": 0.3}
    status, reply = _show(client, **{**others, field: None})
    assert status == 200, reply
    shown = reply["response"]
    assert said in text_of(shown["analytics-sequence-summary"])
    assert "Sequence #3" in text_of(shown["analytics-sequence-summary"])
    assert shown["ep-heatmap"]["figure"]["data"] and shown["sequence-text"]["children"]
    # The same with both thresholds given: no note, the same labelled words.
    status, plain = _show(client, **others)
    assert status == 200 and "arrived" not in text_of(plain["response"]["analytics-sequence-summary"])
    assert shown["sequence-text"] == plain["response"]["sequence-text"]


def test_a_nan_threshold_is_refused_with_a_message(client) -> None:
    status, reply = client.raw_post(
        json.dumps(_body(client, "sequence-text.children", {"distance-threshold.value": "nan"})).encode()
    )
    assert status == 200 and "Threshold must be a finite number" in text_of(reply)


@pytest.mark.parametrize(
    "search", ["?dataset=imdb&seq=3&jump=nan", "?dataset=imdb&seq=3&jump=nan&epchange=nan"]
)
def test_a_link_with_nan_thresholds_gets_the_defaults_and_a_note(client, search) -> None:
    status, reply = client.post(
        "_pages_content.children",
        {"_pages_location.pathname": "/analytics", "_pages_location.search": search},
        trigger="_pages_location.search",
    )
    assert status == 200
    page = text_of(reply)
    assert "jump=nan is not a finite number, so the default 0.40 is used" in page
    assert ("epchange=nan is not a finite number, so the default 0.30 is used" in page) == (
        "epchange" in search
    )
    values = _slider_values(reply["response"]["_pages_content"]["children"])
    assert values == {"distance-threshold": 0.4, "analytics-ep-threshold": 0.3}


def _slider_values(tree: object) -> dict:
    """The values of the two threshold sliders in a served layout."""
    found = {}
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") in ("distance-threshold", "analytics-ep-threshold"):
            found[props["id"]] = props.get("value")
        for value in (props.get("children"), *tree.values()):
            found.update(_slider_values(value))
    elif isinstance(tree, list):
        for item in tree:
            found.update(_slider_values(item))
    return found


@pytest.mark.parametrize(
    ("output", "trigger"),
    [
        ("analytics-whatif-words.children", "analytics-whatif-pin-store.data"),
        ("projection-graph.figure", "analytics-dataset.value"),
    ],
)
@pytest.mark.parametrize("pinned", [[1, 2], "text", {"text": ["x"]}])
def test_a_malformed_pinned_text_gets_an_alert(client, output, trigger, pinned) -> None:
    fields = {**VIEW, "analytics-whatif-pin-store.data": pinned, "analytics-whatif-text.value": "a fine film"}
    status, reply = client.post(output, fields, trigger=trigger)
    assert status == 200
    assert "pinned what-if text" in text_of(reply["sideUpdate"]["analytics-alert"]).lower()
    good = {**fields, "analytics-whatif-pin-store.data": {"text": "a dull film"}}
    status, reply = client.post(output, good, trigger=trigger)
    assert status == 200 and "malformed" not in text_of(reply)


# ---------------------------------------------------------------- the protocol, before Dash


def _body(client: DashClient, output: str, values: dict) -> dict:
    """The body the renderer would send (as ``DashClient.post`` builds it)."""
    dep = client.callback(output)

    def items(specs: list[dict]) -> list[dict]:
        return [
            {"id": s["id"], "property": s["property"], "value": values.get(f"{s['id']}.{s['property']}")}
            for s in specs
        ]

    parts = dep["output"][2:-2].split("...") if dep["output"].startswith("..") else [dep["output"]]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts]
    return {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": items(dep["inputs"]),
        "state": items(dep["state"]),
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
    }


def _refused(client: DashClient, raw: bytes) -> str:
    status, reply = client.raw_post(raw)
    assert status == 400, (status, str(reply)[:300])
    message = (json.loads(reply) if isinstance(reply, str) else reply)["message"]
    assert message and "Traceback" not in message and not re.search(r"<(html|title)", message)
    return message


def test_a_body_nested_100000_arrays_deep_gets_a_400(client) -> None:
    body = _body(client, "sequence-text.children", {"analytics-selection.data": SELECTED, **VIEW})
    text = json.dumps(body)
    deep = text.replace('"value": null', '"value": ' + "[" * 100_000 + "]" * 100_000, 1).encode()
    assert "nested more than 100 levels" in _refused(client, deep)
    bare = b"[" * 100_000 + b"]" * 100_000
    assert "nested more than 100 levels" in _refused(client, bare)


def test_a_body_unlike_its_callback_gets_a_400(client) -> None:
    body = _body(client, "sequence-text.children", {"analytics-selection.data": SELECTED, **VIEW})
    status, _reply = client.raw_post(json.dumps(body).encode())
    assert status == 200  # the well-formed body reaches the callback
    fewer = {**body, "state": body["state"][:-2]}
    assert "state do not match" in _refused(client, json.dumps(fewer).encode())
    more = {**body, "inputs": [*body["inputs"], body["inputs"][0]]}
    assert "inputs do not match" in _refused(client, json.dumps(more).encode())
    number = {**body, "state": [5, *body["state"][1:]]}
    assert "state do not match" in _refused(client, json.dumps(number).encode())
    for outputs in (None, [], 5, body["outputs"][:-1]):
        changed = {**body, "outputs": outputs}
        assert "outputs do not match" in _refused(client, json.dumps(changed).encode())
    without = {key: value for key, value in body.items() if key != "outputs"}
    assert "outputs do not match" in _refused(client, json.dumps(without).encode())


# ---------------------------------------------------------------- uploads the parsers would choke on


def _upload(client: DashClient, slot: str, name: str, data: bytes) -> tuple[int, dict]:
    """POST one file to the upload route as the page's script does (multipart, one part "file")."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{client.base}/{upload_route.PATH}/{slot}",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            upload_route.HEADER: "XMLHttpRequest",
        },
    )
    try:
        with client.opener.open(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _deep_keras() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", '{"config": ' + "[" * 20_000 + "]" * 20_000 + "}")
        archive.writestr("metadata.json", "{}")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("slot", "name", "data", "said"),
    [
        (
            "csv",
            "wide.csv",
            (",".join(f"c{i}" for i in range(100_000)) + "\n" + "1," * 99_999 + "1\n").encode(),
            "The CSV file has 100,000 columns, more than the limit of 1,000",
        ),
        ("model", "deep.keras", _deep_keras(), "config.json is nested more than 200 levels deep"),
        (
            "vocab",
            "deep.json",
            ('{"a": ' + "[" * 20_000 + "]" * 20_000 + "}").encode(),
            "nests lists or objects",
        ),
    ],
    # named ids: the zip's bytes hold its write time, and xdist's workers must collect the same ids
    ids=["wide-csv", "deep-keras", "deep-json"],
)
def test_an_upload_the_parsers_would_choke_on_gets_a_message(client, slot, name, data, said) -> None:
    status, reply = _upload(client, slot, name, data)
    assert 400 <= status < 500, (status, reply)
    assert said in reply["error"] and "Traceback" not in reply["error"]
