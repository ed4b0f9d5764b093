"""Two uploaded models over the same CSV: disagreements, one aligned basis, the Models tab's callback.

Two small ONNX classifiers (``tests.support.onnx_models``, onnxruntime, no TensorFlow) are prepared on
one CSV, a third on another CSV; the comparison service and the card's callback run in process, the
session's ownership of the uploads stood in by a patched ``readable``.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import compare_models, memo, prepare
from services import analysis as analysis_service
from services import compare_models as compare_service
from services import uploads
from services.validation import InvalidInput
from tests.support import onnx_models as om
from tests.support.byo_models import FILLER, NEGATIVE, POSITIVE, sentiment_texts, write_csv

WORDS = FILLER + POSITIVE + NEGATIVE


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("compare")
    texts, labels = sentiment_texts(60)
    csv = write_csv(folder / "reviews.csv", texts, labels)
    other_texts, other_labels = sentiment_texts(60, seed=9)
    other_csv = write_csv(folder / "other.csv", other_texts, other_labels)
    vocab = om.write_vocabulary(folder / "vocab.txt", WORDS)
    ids = {}
    for name, seed, data in (("a", 2, csv), ("b", 5, csv), ("c", 2, other_csv)):
        cell = "gru" if name == "b" else "lstm"
        built = om.build(
            cell=cell, vocab=len(WORDS) + 2, embed=6, hidden=8, classes=2, final="logits", seed=seed
        )
        model = built.save(folder / f"{name}.onnx")
        ids[name] = prepare.prepare_upload(model, data, vocab_path=vocab)["dataset"]
    return ids


@pytest.fixture()
def owned(prepared: dict, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This test's session owns the three uploads."""
    mine = set(prepared.values())
    monkeypatch.setattr(uploads, "owns", lambda dataset: dataset in mine)
    labels = [{"id": d, "label": f"model {k}"} for k, d in prepared.items()]
    monkeypatch.setattr(uploads, "owned_datasets", lambda: labels)
    memo.forget()
    return prepared


def test_disagreements_and_aligned_basis_of_two_uploads(owned: dict) -> None:
    a, b = owned["a"], owned["b"]
    comparison = compare_service.compare(a, b, "pca")
    ana, anb = prepare.load_analysis(a), prepare.load_analysis(b)
    assert len(comparison.rows_a) == ana.n_sequences == anb.n_sequences  # the same CSV: every text shared
    # the table's rows are exactly the texts the two predictions differ on
    names_a, names_b = list(ana.class_names), list(anb.class_names)
    differ = {
        i
        for i, j in zip(comparison.rows_a, comparison.rows_b, strict=True)
        if names_a[ana.predicted[i]] != names_b[anb.predicted[j]]
    }
    assert differ, "the two seeded models should disagree somewhere"
    rows = compare_service.table_rows(comparison)
    assert {r["seq"] for r in rows} == differ
    for r in rows:
        assert r["predicted_a"] == names_a[ana.predicted[r["seq"]]]
        assert r["predicted_b"] == names_b[anb.predicted[r["seq_b"]]]
        assert r["confidence_a"] == pytest.approx(float(ana.confidence[r["seq"]]), abs=1e-4)
        assert r["gap"] == pytest.approx(abs(r["confidence_a"] - r["confidence_b"]), abs=2e-4)
    assert [r["gap"] for r in rows] == sorted((r["gap"] for r in rows), reverse=True)
    assert [r["seq"] for r in compare_service.table_rows(comparison, "seq")] == sorted(differ)
    # one frame: both clouds inside [0, 65535], B's final states placed onto A's as Procrustes fits them
    for xy in (comparison.xy_a, comparison.xy_b):
        assert xy.min() >= -1e-3 and xy.max() <= analysis_service.VIEW_SPAN + 1e-3
    final_a = comparison.xy_a[compare_models.final_rows(ana.offsets)]
    final_b = comparison.xy_b[compare_models.final_rows(anb.offsets)[comparison.rows_b]]
    refit = compare_models.procrustes(final_b, final_a)
    assert refit.scale == pytest.approx(1.0, abs=1e-6) and np.allclose(refit.rotation, np.eye(2), atol=1e-6)
    assert comparison.pair_of(a, 4) == (4, 4) and comparison.pair_of(b, 7) == (7, 7)


def test_different_texts_or_the_same_model_get_a_message(owned: dict) -> None:
    with pytest.raises(ValueError, match="different texts"):
        compare_service.compare(owned["a"], owned["c"], "pca")
    with pytest.raises(ValueError, match="two different models"):
        compare_service.compare(owned["a"], owned["a"], "pca")
    with pytest.raises(LookupError, match="not available"):
        compare_service.compare(owned["a"], "upload-" + "0" * 16, "pca")


def test_models_tab_draws_both_panels_on_shared_axes_with_the_selection(owned: dict) -> None:
    from components.cards import analytics_models_card as card
    from components.ids import analytics as ids

    a, b = owned["a"], owned["b"]
    selection = {"dataset": b, "seq": 3, "step": None}
    out = card.show_models(a, b, "pca", "models", "gap", True, selection)
    figure = out["figure"]
    layout = figure["layout"]
    assert layout["xaxis2"]["matches"] == "x" and layout["yaxis2"]["matches"] == "y"
    assert "model a" in layout["annotations"][0]["text"] and "model b" in layout["annotations"][1]["text"]
    ana = prepare.load_analysis(a)
    for slot in card.compare_fig.PATH_SLOTS:  # the selected text's path, drawn in both panels
        assert len(figure["data"][slot]["x"]) == len(ana.words[3])
    assert out["pair"] == {"a": a, "b": b, "method": "pca"}
    table = str(out["table"])
    assert ids.ANALYTICS_MODELS_ROW in table
    with pytest.raises(InvalidInput):  # an id outside the schema never reaches the service
        compare_service.SHOW_MODELS.check(
            baseline=a, other="../etc", method="pca", tab="models", sort="gap", selection=None, seen=True
        )
    with pytest.raises(InvalidInput):
        compare_service.PAIR.clean({"a": a, "b": b, "method": "pca", "path": "/etc"})
