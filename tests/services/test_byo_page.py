"""Issue 6 page callbacks called as functions: what-if trajectory, uploads, demo mode, figures."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from dash import no_update

from components import analytics_compare as compare_fig
from components import analytics_projection as projection
from tests.support.byo_models import gru_vectorizer_model, sentiment_texts, write_csv


def _trigger(prop_id: str) -> None:
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))


def _ops(patch) -> dict:
    return {tuple(op["location"]): op["params"].get("value") for op in patch.to_plotly_json()["operations"]}


SID = "0123456789abcdef" * 2  # the session the signed cookie would name
OTHER_SID = "fedcba9876543210" * 2


@contextlib.contextmanager
def as_session(sid: str):
    """A request of the browser session ``sid`` (what identity.install sets from the cookie)."""
    from flask import g

    import app

    with app.server.test_request_context():
        g.rnnx_session = sid
        yield


@pytest.fixture(scope="module")
def pages(test_cache_dir):
    import app  # noqa: F401  (registers the pages)
    from components.cards import analytics_byo_card, analytics_projection_card, analytics_whatif_card

    return analytics_projection_card, analytics_byo_card, analytics_whatif_card


@pytest.fixture(autouse=True)
def session(pages):
    with as_session(SID):
        yield SID


@pytest.fixture(scope="module")
def upload(tmp_path_factory, test_cache_dir, pages) -> str:
    """A GRU + TextVectorization model and its CSV, prepared in this process's test cache for SID."""
    from model import prepare
    from services import uploads

    folder = tmp_path_factory.mktemp("byo-page")
    texts, labels = sentiment_texts(200)
    model = gru_vectorizer_model(folder / "gru.keras", texts, labels, epochs=4)
    csv_path = write_csv(folder / "reviews.csv", texts, labels)
    dataset = prepare.prepare_upload(model, csv_path, session=SID)["dataset"]
    with as_session(SID):
        uploads.register_dataset(dataset, "gru.keras on reviews.csv")
    return dataset


@pytest.mark.heavy
def test_what_if_trajectory_of_a_dataset_text_equals_its_extracted_trajectory(pages, upload):
    from model import prepare

    analytics, _byo, whatif_page = pages
    analysis = prepare.load_analysis(upload)
    raw = prepare.load_projection(upload, "pca")
    lo, scale = projection.view_transform(raw)
    for k in (3, 10):
        _trigger("analytics-whatif-text.value")
        shown = whatif_page.show_whatif(analysis.texts[k], None, 0.4, upload, "pca", 0, ["jump"], 0.3)
        patch, words, heat, dist = (shown[key] for key in ("figure", "words", "heatmap", "distance"))
        typed = _ops(patch)[("data", projection.WHATIF_SLOT)]
        rows = analysis.rows(k)
        placed = np.column_stack([typed["x"], typed["y"]]) / scale + lo
        np.testing.assert_allclose(placed, raw[rows], atol=2e-3 * float(np.ptp(raw)))
        assert [w for _t, w, _h in typed["customdata"]] == analysis.words[k]
        assert [s.children for s in words if not isinstance(s, str)] == analysis.words[k]
        np.testing.assert_allclose(heat["data"][0]["z"][0], analysis.ep[rows, 0], atol=1e-3)
        assert len(dist["data"][0]["y"]) == len(analysis.words[k])
        assert ("data", 0, "x") not in _ops(patch)  # the big scatter is never resent


def test_pinned_text_gets_its_own_slot_and_a_blank_text_clears(pages, upload):
    _analytics, _byo, whatif_page = pages
    _trigger("analytics-whatif-pin-store.data")
    shown = whatif_page.show_whatif("", {"text": "great lovely movie"}, 0.4, upload, "pca", 0, ["jump"], 0.3)
    patch, words, unpin_disabled = shown["figure"], shown["words"], shown["unpin_disabled"]
    ops = _ops(patch)
    assert ops[("data", projection.WHATIF_SLOT)]["x"] == []
    assert len(ops[("data", projection.PINNED_SLOT)]["x"]) == 3
    assert words is None and unpin_disabled is False


def test_full_projection_keeps_the_what_if_slots(pages, upload):
    analytics, _byo, _whatif = pages
    fig = analytics.draw_projection(
        upload, "pca", 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep", "awful boring plot", None
    )
    # + the neighbour rings, the other state bins, the filtered states and the colour bar
    assert len(fig.data) == projection.NEIGHBORS_SLOT + projection.EP_BINS + 2
    assert fig.data[projection.filter_slot(projection.EP_BINS)].uid == "filter-states"
    assert fig.data[projection.WHATIF_SLOT].uid == "whatif-typed"
    assert len(fig.data[projection.WHATIF_SLOT].x) == 3


def test_uploads_are_listed_only_from_the_sessions_own_store(pages):
    _analytics, byo_page, _whatif = pages
    mine = byo_page.dataset_options([{"id": "upload-aaa", "label": "m.keras on d.csv"}])
    assert [o["value"] for o in mine][-1] == "upload-aaa"
    assert not [o for o in byo_page.dataset_options([]) if o["value"].startswith("upload-")]


def _upload(slot: str, data: bytes, name: str) -> tuple[int, dict]:
    """Post a file to the upload route as the page's script does, with the cookie of SID."""
    import app
    from services import identity

    client = app.server.test_client()
    client.set_cookie(identity.COOKIE, identity.sign(SID))
    reply = client.post(
        f"/upload/{slot}",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    return reply.status_code, reply.get_json()


def _receive(byo_page, slot: str, data: bytes, name: str) -> dict:
    """Upload, then fill the panel from the route's reply as the page relays it (id or message)."""
    status, reply = _upload(slot, data, name)
    relayed = {"id": reply["file"]["id"]} if status == 200 else {"error": reply["error"]}
    return byo_page.show_upload({"slot": slot, "name": name, **relayed})


def test_bad_csv_upload_gets_its_message(pages, monkeypatch):
    _analytics, byo_page, _whatif = pages
    out = _receive(byo_page, "csv", "text,label\ncafé au lait,1\n".encode("latin-1"), "bad.csv")
    assert "not UTF-8" in str(out["alert"])
    assert "empty" in str(_receive(byo_page, "csv", b"", "empty.csv")["alert"])
    monkeypatch.setenv("RNNX_UPLOAD_LIMIT_MB", "0.001")
    out = _receive(byo_page, "csv", b"text,label\n" + b"w,1\n" * 500, "big.csv")
    assert "more than the limit" in str(out["alert"])


def test_good_csv_is_kept_in_the_sessions_folder_and_the_browser_gets_a_handle(pages):
    from services import uploads

    _analytics, byo_page, _whatif = pages
    data = b"id,review,sentiment\n1,good film,pos\n2,bad film,neg\n"
    out = _receive(byo_page, "csv", data, "../../evil name.csv")
    handle = out["files"]["csv"]
    assert set(handle) == {"id", "name", "size"} and handle["name"] == "evil_name.csv"
    assert "evil_name.csv" in str(out["csv_name"])
    assert uploads.path_of(handle["id"]).parent == uploads.session_folder(SID) / "incoming"
    assert uploads.path_of(handle["id"]).read_bytes() == data
    assert [o["value"] for o in out["text_options"]] == ["id", "review", "sentiment"]
    assert (out["text_value"], out["label_value"]) == ("review", "sentiment")
    assert out["run_disabled"] is True  # still needs a model
    with as_session(OTHER_SID), pytest.raises(uploads.UploadRefused, match="another session"):
        uploads.path_of(handle["id"])


def test_unguessable_columns_are_offered_for_the_user_to_pick(pages):
    _analytics, byo_page, _whatif = pages
    out = _receive(byo_page, "csv", b"a,b\n1,2\n3,4\n", "odd.csv")
    assert [o["value"] for o in out["text_options"]] == ["a", "b"]
    assert "Choose the text and label columns" in str(out["alert"])


def test_demo_mode_refuses_uploads(pages, monkeypatch):
    from components import analytics_byo as byo_view

    _analytics, byo_page, _whatif = pages
    monkeypatch.setenv("RNNX_DEMO_MODE", "1")
    out = _receive(byo_page, "model", b"PK...", "m.keras")
    assert "switched off" in str(out["alert"]) and out["files"] is no_update
    panel = byo_view.upload_panel(False, 200)
    assert "switched off" in str(panel)
    assert "disabled=True" in str(panel)


def test_checkpoint_small_multiples_share_their_axes():
    ep = np.array([[0.9, 0.1], [0.4, 0.6], [0.1, 0.9]])
    panels = [
        compare_fig.Panel(f"epoch {e}", np.arange(6.0).reshape(3, 2) * e, ep, ["a", "b", "c"])
        for e in (1, 2, 3)
    ]
    fig = compare_fig.checkpoint_figure(np.zeros((4, 2)), panels)
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["epoch 1", "epoch 2", "epoch 3"]
    assert fig["layout"]["xaxis2"]["matches"] == "x" and fig["layout"]["yaxis3"]["matches"] == "y"
    assert len(fig["data"]) == 6 and fig["data"][1]["x"] == [0.0, 2.0, 4.0]


def test_recurrent_layer_names_are_read_without_tensorflow(tmp_path):
    import json
    import zipfile

    from model.byo import recurrent_layer_names

    config = {
        "config": {
            "layers": [
                {"class_name": "Embedding", "config": {"name": "emb"}},
                {"class_name": "LSTM", "config": {"name": "lstm_1"}},
                {"class_name": "Bidirectional", "config": {"name": "bi", "layer": {"class_name": "GRU"}}},
            ]
        }
    }
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    assert recurrent_layer_names(path) == ["lstm_1", "bi"]


def test_an_upload_in_the_url_is_restored_only_for_the_session_that_owns_it(pages) -> None:
    from services import uploads

    uploads.register_dataset("upload-0123456789ab", "gru.keras on reviews.csv")
    out = pages[1].list_datasets(0, "upload-0123456789ab")
    assert out["value"] == "upload-0123456789ab"
    assert "upload-0123456789ab" in [o["value"] for o in out["options"]]
    with as_session(OTHER_SID):  # another session's link
        out = pages[1].list_datasets(0, "upload-0123456789ab")
    assert out["value"] is no_update
    assert all(not o["value"].startswith("upload-") for o in out["options"])


def _texts(node) -> list[str]:
    """Every string in a component tree, and every title (tooltip), in order."""
    if isinstance(node, str):
        return [node]
    found = [node.title] if isinstance(getattr(node, "title", None), str) else []
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None:
            found += _texts(child)
    return found


@pytest.mark.heavy
def test_an_uploads_accuracy_says_it_is_measured_on_the_uploaded_rows(pages, upload):
    """The uploaded rows may be the model's training data: its accuracy on them is never a "test accuracy"."""
    from components.cards import analytics_overview_card
    from model import prepare

    _analytics, byo_page, _whatif = pages
    analysis = prepare.load_analysis(upload)
    _trigger("analytics-dataset.value")
    bar = " | ".join(_texts(analytics_overview_card.show_overview(upload, "pca", 0)["bar"]))
    assert "accuracy on the uploaded rows (200)" in bar
    assert "not a held-out test accuracy unless these rows were held out" in bar  # its tooltip
    assert "test accuracy |" not in bar and "accuracy (analysed)" not in bar
    summary = {**analysis.summary, "n_sequences": analysis.n_sequences, "n_hidden_states": analysis.n_states}
    done = byo_page._done_message(summary, 3.0)
    assert f"accuracy on the uploaded rows (200) {analysis.summary['test_accuracy']:.1%}" in done
    assert "not a held-out test unless these rows were held out" in done
