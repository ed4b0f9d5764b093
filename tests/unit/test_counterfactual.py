"""The counterfactual search on a transparent scorer, and its predictors against the models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from model import counterfactual as cf
from model import textmodels

WEIGHTS = {"great": 2.0, "superb": 1.5, "good": 1.0, "awful": -2.0, "boring": -1.5, "bad": -1.0}


def bag_of_words(texts: list[list[str]]) -> np.ndarray:
    """p(positive) = sigmoid(sum of word weights): easy to reason about."""
    z = np.array([sum(WEIGHTS.get(w, 0.0) for w in words) for words in texts])
    p = 1.0 / (1.0 + np.exp(-z))
    return np.stack([1 - p, p], axis=1)


def guide_of(words: list[str]) -> np.ndarray:
    return np.array([WEIGHTS.get(w, 0.0) for w in words])


def test_apply_edits_deletes_and_substitutes_by_original_position():
    words = ["a", "b", "c", "d"]
    edits = [cf.Edit(1, "b", None), cf.Edit(3, "d", "x")]
    assert cf.apply_edits(words, edits) == ["a", "c", "x"]
    assert cf.apply_edits(words, []) == words


def test_the_search_flips_with_the_fewest_edits_it_can_find():
    words = ["the", "plot", "was", "great", "and", "the", "acting", "superb"]
    found = cf.search(words, guide_of(words), bag_of_words, counter_words=["awful", "boring"])
    assert found.flipped and found.original_class == 1 and found.new_class == 0
    assert found.after[0] > 0.5 and bag_of_words([found.edited])[0][0] > 0.5
    assert found.edits == [cf.Edit(3, "great", "awful")]  # z: 3.5 -> -0.5, the best single edit
    assert found.text == " ".join(found.edited) and found.tried > 0


def test_edits_the_flip_does_not_need_are_undone():
    words = ["good", "good", "good", "great", "bad"]  # z = 4; needs several edits
    found = cf.search(words, guide_of(words), bag_of_words, counter_words=["awful"])
    assert found.flipped
    for i in range(len(found.edits)):  # dropping any edit undoes the flip (minimal)
        fewer = found.edits[:i] + found.edits[i + 1 :]
        assert bag_of_words([cf.apply_edits(words, fewer)])[0].argmax() == 1


def test_deletions_alone_can_flip_and_the_guide_leads():
    words = ["awful", "good", "great"]  # z = 1: positive
    found = cf.search(words, guide_of(words), bag_of_words, counter_words=[])
    assert found.flipped and all(e.new is None for e in found.edits)
    assert {e.old for e in found.edits} <= {"good", "great"}


def test_no_flip_within_the_budget_is_reported_with_the_best_try():
    words = ["great"] * 8
    found = cf.search(words, guide_of(words), bag_of_words, counter_words=[], max_edits=3)
    assert not found.flipped and len(found.edits) == 3
    assert found.after[1] < found.before[1]


def test_a_guide_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError):
        cf.search(["a", "b"], np.zeros(3), bag_of_words)


def test_counter_words_are_those_that_push_hardest_against_the_class():
    assert cf.counter_words(["great", "awful", "the", "boring"], bag_of_words, target=1, n=2) == [
        "awful",
        "boring",
    ]
    assert cf.counter_words([], bag_of_words, target=1) == []


def test_vocabulary_sample_skips_markers_and_non_words():
    assert cf.vocabulary_sample(["", "[UNK]", "<pad>", "the", "12", "movie", "don't"], 5) == ["the", "movie"]


def _classifier(cell_type: str, n_classes: int) -> textmodels.TrainedClassifier:
    config = replace(
        textmodels.ModelConfig(), cell_type=cell_type, units=5, embedding_dim=4, max_len=10, vocab_size=30
    )
    model = textmodels.build_model(config, n_classes)
    rng = np.random.default_rng(7)
    return textmodels.TrainedClassifier(
        dataset="toy",
        config=config,
        class_names=[f"c{i}" for i in range(n_classes)],
        vocabulary=textmodels.Vocabulary(list(WEIGHTS) + ["the", "movie", "plot"]),
        weights=[rng.normal(0, 0.7, w.shape).astype(np.float32) for w in model.get_weights()],
        test_accuracy=0.5,
        history={},
    )


@pytest.mark.parametrize(("cell_type", "n_classes"), [("lstm", 2), ("gru", 3), ("simplernn", 2)])
def test_the_batched_numpy_predictor_matches_the_what_if_path(cell_type, n_classes):
    from model import whatif

    classifier = _classifier(cell_type, n_classes)
    predict = cf.classifier_predictor(classifier)
    texts = [
        ["the", "movie", "was", "great"],
        ["awful", "plot"],
        ("good bad " * 8).split(),  # longer than max_len: the last 10 words
        [],
        ["unknownword"],
    ]
    got = predict(texts)
    for words, row in zip(texts, got, strict=True):
        _w, _h, ep = whatif.classifier_states(classifier, " ".join(words))
        if len(ep):
            assert np.allclose(row, ep[-1], atol=1e-5)
        else:
            assert np.allclose(row, 1.0 / n_classes)


def test_the_keras_predictor_matches_the_uploaded_model(tmp_path):
    from model import byo
    from tests.support import byo_models

    texts = ["the movie was good", "awful boring plot", "the plot"]
    vocab_path, n_ids = byo_models.write_vocabulary(tmp_path / "vocab.txt", texts)
    model = byo.load_model(byo_models.token_id_model(tmp_path / "m.keras", n_ids))
    vocabulary = byo.read_vocabulary(vocab_path)
    predict = cf.keras_predictor(model, vocabulary, 8, batch=2)
    got = predict([t.split() for t in texts])
    inputs, _ids, _words = byo.encode_for_model(model, texts, vocabulary, 8)
    expected = textmodels.class_probabilities(np.asarray(model(inputs)))
    assert got.shape == (3, 2) and np.allclose(got, expected, atol=1e-5)


def test_a_counterfactual_on_a_small_real_classifier():
    classifier = _classifier("lstm", 2)
    predict = cf.classifier_predictor(classifier)
    words = ["the", "movie", "plot", "good", "the", "great"]
    sample = cf.vocabulary_sample(classifier.vocabulary.words)
    target = int(predict([words])[0].argmax())
    counters = cf.counter_words(sample, predict, target)
    found = cf.search(words, np.ones(len(words)), predict, counters, max_edits=6)
    assert found.original_class == target
    if found.flipped:  # random weights: a flip is likely, never promised
        assert predict([found.edited])[0].argmax() != target
        assert np.allclose(predict([found.edited])[0], found.after)
