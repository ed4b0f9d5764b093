"""Integrated gradients on real (small) Keras models, the attribution service and the saliency views."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from model import attribution, textmodels

WORDS = ["the", "movie", "was", "great", "awful", "plot", "acting", "boring", "superb", "not", "good"]


def _classifier(cell_type: str = "lstm", n_classes: int = 2) -> textmodels.TrainedClassifier:
    """A small untrained built-in classifier (random weights, real Keras layout)."""
    config = replace(
        textmodels.ModelConfig(), cell_type=cell_type, units=6, embedding_dim=5, max_len=12, vocab_size=40
    )
    model = textmodels.build_model(config, n_classes)
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.8, w.shape).astype(np.float32) for w in model.get_weights()])
    return textmodels.TrainedClassifier(
        dataset="toy",
        config=config,
        class_names=[f"c{i}" for i in range(n_classes)],
        vocabulary=textmodels.Vocabulary(WORDS),
        weights=[np.asarray(w) for w in model.get_weights()],
        test_accuracy=0.5,
        history={},
    )


def _attribute(classifier: textmodels.TrainedClassifier, text: str, steps: int = 64, model=None):
    model = model or classifier.keras_model()
    ids, [words] = textmodels.encode([text], classifier.vocabulary, classifier.config.max_len)
    return attribution.integrated_gradients(model, ids, ids, words, steps=steps), words, model


@pytest.mark.heavy
@pytest.mark.parametrize(("cell_type", "n_classes"), [("lstm", 2), ("gru", 2), ("simplernn", 2), ("lstm", 4)])
def test_attributions_sum_to_the_prediction_minus_the_baseline(cell_type, n_classes):
    classifier = _classifier(cell_type, n_classes)
    result, words, model = _attribute(classifier, "the movie was not good but the acting was superb")
    assert result.words == words and result.scores.shape == (len(words),)
    assert abs(result.prediction - result.baseline) > 1e-3  # something to explain
    assert abs(result.gap) < 5e-3 + 0.02 * abs(result.prediction - result.baseline)
    # f(x) is the model's own probability of the predicted class
    from model import whatif

    _w, _h, ep = whatif.classifier_states(classifier, " ".join(words))
    assert result.target == int(ep[-1].argmax())
    assert result.prediction == pytest.approx(float(ep[-1, result.target]), abs=1e-4)


def test_more_steps_close_the_completeness_gap():
    classifier = _classifier("lstm")
    coarse, _w, model = _attribute(classifier, "great plot boring acting superb movie", steps=4)
    fine, _w, _m = _attribute(classifier, "great plot boring acting superb movie", steps=128, model=model)
    assert abs(fine.gap) <= abs(coarse.gap) + 1e-6
    assert abs(fine.gap) < 2e-3


@pytest.mark.heavy
def test_a_chosen_class_and_a_text_longer_than_max_len():
    classifier = _classifier("gru", 3)
    model = classifier.keras_model()
    text = " ".join(["good", "awful"] * 10)  # 20 words, the model reads the last 12
    ids, [words] = textmodels.encode([text], classifier.vocabulary, classifier.config.max_len)
    for target in range(3):
        result = attribution.integrated_gradients(model, ids, ids, words, target=target, steps=48)
        assert len(result.scores) == 12 and result.target == target
        assert abs(result.gap) < 5e-3 + 0.02 * abs(result.prediction - result.baseline)


def test_a_model_without_masking_keeps_padding_out_of_the_scores():
    import keras

    keras.utils.set_random_seed(5)
    model = keras.Sequential(
        [
            keras.Input((10,), dtype="int32"),
            keras.layers.Embedding(40, 4),  # no mask_zero: padding is read
            keras.layers.LSTM(5),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    vocabulary = textmodels.Vocabulary(WORDS)
    ids, [words] = textmodels.encode(["the plot was boring"], vocabulary, 10)
    result = attribution.integrated_gradients(model, ids, ids, words, steps=64)
    assert len(result.scores) == 4
    assert abs(result.gap) < 5e-3 + 0.02 * abs(result.prediction - result.baseline)


@pytest.mark.heavy
def test_an_uploaded_vectorizer_model_is_attributed(tmp_path):
    from model import byo
    from tests.support import byo_models

    texts, labels = byo_models.sentiment_texts(60)
    path = byo_models.gru_vectorizer_model(tmp_path / "m.keras", texts, labels, epochs=2)
    model = byo.load_model(path)
    inputs, ids, [words] = byo.encode_for_model(model, ["the plot was awful and very dull"], None, 16)
    result = attribution.integrated_gradients(model, inputs, ids, words, steps=48)
    assert result.words == ["the", "plot", "was", "awful", "and", "very", "dull"]
    assert abs(result.gap) < 5e-3 + 0.02 * abs(result.prediction - result.baseline)


def test_a_model_that_is_not_a_chain_is_refused_with_a_message():
    import keras

    inputs = keras.Input((8,), dtype="int32")
    x = keras.layers.Embedding(40, 4, mask_zero=True)(inputs)
    a = keras.layers.LSTM(3)(x)
    b = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(
        inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()([a, b]))
    )
    ids, [words] = textmodels.encode(["the movie was great"], textmodels.Vocabulary(WORDS), 8)
    with pytest.raises(attribution.AttributionError, match="chain"):
        attribution.integrated_gradients(model, ids, ids, words)


def test_texts_without_known_words_and_bad_steps_are_refused():
    classifier = _classifier()
    model = classifier.keras_model()
    ids = np.zeros((1, 12), np.int32)
    with pytest.raises(attribution.AttributionError, match="no word"):
        attribution.integrated_gradients(model, ids, ids, [])
    ids, [words] = textmodels.encode(["good"], classifier.vocabulary, 12)
    with pytest.raises(attribution.AttributionError, match="steps"):
        attribution.integrated_gradients(model, ids, ids, words, steps=2)


def test_ep_change_and_rank_agreement():
    ep = np.array([[0.5, 0.5], [0.2, 0.8], [0.3, 0.7], [0.9, 0.1]])
    assert np.allclose(attribution.ep_change(ep, 1), [0.0, 0.3, -0.1, -0.6])
    assert attribution.rank_agreement(np.arange(5.0), np.arange(5.0) * 3) == pytest.approx(1.0)
    assert attribution.rank_agreement(np.arange(5.0), -np.arange(5.0)) == pytest.approx(-1.0)
    assert attribution.rank_agreement(np.ones(4), np.arange(4.0)) is None
    assert attribution.rank_agreement(np.arange(2.0), np.arange(2.0)) is None


def test_attribution_round_trips_through_a_plain_dict():
    found = attribution.Attribution(["a", "b"], np.array([0.1, 0.2]), 1, 0.9, 0.6, 32)
    again = attribution.Attribution.from_dict(found.as_dict())
    assert again.words == ["a", "b"] and again.gap == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------- the service and the views


@pytest.fixture()
def service(monkeypatch, tmp_path):
    from tests.support.serve import use_pipeline

    use_pipeline(monkeypatch, "tests.support.synthetic")
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    from services import analysis
    from services import attribution as attribution_service

    analysis.clear_caches()
    yield attribution_service
    analysis.clear_caches()


def test_attributions_are_computed_once_per_sequence(service, monkeypatch):
    calls = []

    def fake(dataset, text, steps=attribution.DEFAULT_STEPS):
        calls.append(text)
        words = textmodels.tokenize(text)
        return attribution.Attribution(words, np.linspace(-1, 1, len(words)), 0, 0.9, 0.4, steps)

    monkeypatch.setattr(attribution, "attribute_text", fake)
    monkeypatch.setattr(attribution, "model_key", lambda dataset: "toy-model")
    from tests.support.synthetic import synthetic_analysis

    analysis = synthetic_analysis("imdb", 60)
    k = next(i for i in range(60) if analysis.predicted[i] == 0)
    selection = {"dataset": "imdb", "seq": k, "step": None}
    first = service.saliency("imdb", selection, "attribution")
    again = service.saliency("imdb", selection, "attribution")
    assert len(calls) == 1
    assert np.allclose(first.attribution, again.attribution) and first.words == analysis.words[k]
    assert service.is_cached("imdb", k, analysis.texts[k])
    # EP change mode brings cached attributions along, never computes them
    other = next(i for i in range(60) if i != k)
    assert service.saliency("imdb", {**selection, "seq": other}, "epchange").attribution is None
    assert len(calls) == 1
    assert service.saliency("imdb", selection, "epchange").attribution is not None


def test_selection_out_of_range_or_missing_gets_a_message(service):
    with pytest.raises(service.Unavailable, match="no sequence #999"):
        service.saliency("imdb", {"dataset": "imdb", "seq": 999, "step": None}, "epchange")
    with pytest.raises(service.Unavailable, match="Select a sequence"):
        service.saliency("imdb", None, "attribution")
    with pytest.raises(service.Unavailable, match="Select a sequence"):
        service.saliency("imdb", {"dataset": "reuters", "seq": 1, "step": None}, "attribution")


def test_the_synthetic_pipeline_has_no_model_and_says_so(service):
    with pytest.raises(service.Unavailable, match="not prepared"):
        service.saliency("imdb", {"dataset": "imdb", "seq": 1, "step": None}, "attribution")


@pytest.mark.parametrize(
    "store",
    [
        "text",
        {"dataset": "imdb", "seq": 1, "target": 0, "scores": "x"},
        {"dataset": "imdb", "seq": 1, "target": 0, "scores": [float("nan")]},
        {"dataset": "imdb", "seq": -1, "target": 0, "scores": []},
        {"dataset": "imdb", "seq": 1, "target": 0, "scores": [0.0] * 6000},
        {"dataset": "imdb", "seq": 1, "target": 0, "scores": [], "extra": 1},
    ],
)
def test_malformed_saliency_stores_are_refused(service, store):
    from services.validation import InvalidInput

    with pytest.raises(InvalidInput):
        service.SALIENCY_TEXT.check(saliency_mode="attribution", saliency=store)
    with pytest.raises(InvalidInput):
        service.SALIENCY_TEXT.check(saliency_mode="colourful", saliency=None)


def test_the_text_is_coloured_by_the_chosen_score(page):
    from tests.support.synthetic import synthetic_analysis

    analysis = synthetic_analysis("imdb", 60)
    k = 5
    selection = {"dataset": "imdb", "seq": k, "step": None}
    args = (selection, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "none", False, False, "ep", False)
    plain = page.show_selection(*args, "ep", None)["text"]
    change = page.show_selection(*args, "epchange", None)["text"]
    words = analysis.words[k]
    scores = np.linspace(-1, 1, len(words))
    target = int(analysis.predicted[k])
    store = {"dataset": "imdb", "seq": k, "target": target, "scores": scores.tolist()}
    attributed = page.show_selection(*args, "attribution", store)["text"]
    stale = page.show_selection(*args, "attribution", {**store, "seq": k + 1})["text"]

    def spans(text):
        return [s for s in text if not isinstance(s, str)]

    assert [s.children for s in spans(attributed)] == words == [s.children for s in spans(plain)]
    assert "data-score" not in spans(plain)[0].to_plotly_json()["props"]
    ep = np.asarray(analysis.ep[analysis.rows(k)], dtype=float)
    expected = attribution.ep_change(ep, target)
    got = [float(s.to_plotly_json()["props"]["data-score"]) for s in spans(change)]
    assert np.allclose(got, expected, atol=1e-4)
    got = [float(s.to_plotly_json()["props"]["data-score"]) for s in spans(attributed)]
    assert np.allclose(got, scores, atol=1e-4)
    assert "boxShadow" in spans(attributed)[0].style  # EP change drawn under each word
    got = [float(s.to_plotly_json()["props"]["data-score"]) for s in spans(stale)]
    assert np.allclose(got, expected, atol=1e-4)  # another sequence's scores are not used


def test_the_saliency_callback_answers_with_a_message_not_an_error(page, service):
    from components.cards import analytics_attribution as card

    out = card.compute_saliency("attribution", {"dataset": "imdb", "seq": 3, "step": None}, "imdb")
    assert "not prepared" in str(out["note"].children)
    out = card.compute_saliency("epchange", {"dataset": "imdb", "seq": 3, "step": None}, "imdb")
    assert out["shown"] == {} and len(out["figure"]["data"]) == 1
    out = card.compute_saliency("epchange", {"dataset": "imdb", "seq": 10**6, "step": None}, "imdb")
    assert "no sequence" in str(out["note"].children)
    assert card.compute_saliency("ep", None, "imdb")["shown"] == card.HIDDEN
    out = card.find_counterfactual(1, {"dataset": "imdb", "seq": 10**6, "step": None}, "imdb", "epchange")
    assert "no sequence" in str(out["result"].children)


def test_the_counterfactual_view_marks_the_edits_in_their_context():
    from components.cards import analytics_attribution as card
    from model import counterfactual as cf

    words = [f"w{i}" for i in range(60)]
    edits = [cf.Edit(30, "w30", None), cf.Edit(33, "w33", "good")]
    found = cf.Counterfactual(
        words, cf.apply_edits(words, edits), edits, np.array([0.8, 0.2]), np.array([0.3, 0.7]), True, 40
    )
    view = card.counterfactual_view(found, ["neg", "pos"], "epchange")
    diff = next(c for c in view.children if getattr(c, "id", None) == "counterfactual-diff")
    shown = [c if isinstance(c, str) else c.children for c in diff.children if c != " "]
    assert shown[0] == "…" and shown[-1] == "…" and "w5" not in shown  # far words are left out
    assert "w30" in shown and "good" in shown and "w33" in shown
    summary = next(c for c in view.children[0].children if getattr(c, "id", None) == "counterfactual-summary")
    assert summary.children == "2 edits flip neg (80%) to pos (70%)"


def test_a_counterfactual_edits_the_typed_text_and_undo_brings_it_back(page, service, monkeypatch):
    """With text in the what-if box the counterfactual works on that text, keeping it for Undo (issue 20)."""
    from types import SimpleNamespace

    from dash import no_update

    from components.cards import analytics_attribution as card

    calls = []

    def fake(kind):
        def run(dataset, source, guide):
            calls.append((kind, source))
            return SimpleNamespace(text=f"edited {kind}"), guide, None

        return run

    monkeypatch.setattr(service, "counterfactual", fake("sequence"))
    monkeypatch.setattr(service, "counterfactual_of_text", fake("typed"))
    monkeypatch.setattr(card, "counterfactual_view", lambda *args: "view")
    sel = {"dataset": "imdb", "seq": 3, "step": None}

    out = card.find_counterfactual(1, sel, "imdb", "epchange", "My own Text, typed.", None)
    assert calls[-1] == ("typed", "My own Text, typed.") and out["text"] == "edited typed"
    assert out["undo"] == {"previous": "My own Text, typed.", "edited": "edited typed"}
    # the box still holds that edit: the next click works on the selected sequence again
    again = card.find_counterfactual(2, sel, "imdb", "epchange", "edited typed", out["undo"])
    assert calls[-1] == ("sequence", sel) and again["undo"]["previous"] == "edited typed"
    # an empty box: the selected sequence, nothing to undo
    assert card.find_counterfactual(3, sel, "imdb", "epchange", "", None)["undo"] is None

    undone = card.undo_counterfactual(1, "edited typed", out["undo"])
    assert undone["text"] == "My own Text, typed." and undone["undo"] is None
    # typed over since: Undo would destroy that, so it does nothing
    assert card.undo_counterfactual(1, "edited typed, then more", out["undo"])["text"] is no_update
