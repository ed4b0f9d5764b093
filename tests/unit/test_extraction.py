"""Extracted states are the model's own: numpy recomputation, EP = prediction, padding excluded."""

from __future__ import annotations

import numpy as np
import pytest

from model import cellmath, extraction, textmodels


def small_model(cell_type: str, n_classes: int, units: int = 8, max_len: int = 12):
    config = textmodels.ModelConfig(cell_type=cell_type, units=units, vocab_size=50, max_len=max_len, seed=3)
    model = textmodels.build_model(config, n_classes)
    rng = np.random.default_rng(0)
    # Random but larger weights than the initialiser, so gates actually move.
    model.set_weights([rng.normal(0, 0.6, w.shape).astype("float32") for w in model.get_weights()])
    return model


def token_batch(max_len: int = 12) -> np.ndarray:
    rng = np.random.default_rng(1)
    ids = np.zeros((5, max_len), dtype=np.int32)
    for row, length in enumerate([12, 7, 1, 9, 4]):
        ids[row, max_len - length :] = rng.integers(2, 50, size=length)
    return ids


@pytest.mark.parametrize("cell_type", ["lstm", "gru"])
def test_numpy_recomputation_matches_extracted_states(cell_type: str) -> None:
    model = small_model(cell_type, n_classes=2)
    ids = token_batch()
    states = extraction.extract_states(model, ids)
    layer = model.get_layer("recurrent")
    embedded = model.get_layer("embedding").get_weights()[0][ids]
    trace = cellmath.run_sequence(cell_type, embedded, layer.get_weights(), mask=ids != 0)
    mask = ids != 0
    np.testing.assert_allclose(states.hidden, trace["h"][mask], atol=1e-5)
    if cell_type == "lstm":
        np.testing.assert_allclose(states.cell, trace["c"][mask], atol=1e-5)
    else:
        assert states.cell is None


@pytest.mark.heavy
@pytest.mark.parametrize(("cell_type", "n_classes"), [("lstm", 2), ("gru", 5), ("simplernn", 5)])
def test_ep_at_last_step_equals_model_prediction(cell_type: str, n_classes: int) -> None:
    model = small_model(cell_type, n_classes)
    ids = token_batch()
    states = extraction.extract_states(model, ids)
    predicted = textmodels.class_probabilities(model.predict(ids, verbose=0))
    last = states.offsets[1:] - 1
    np.testing.assert_allclose(states.ep[last], predicted, atol=1e-5)
    assert states.predicted.tolist() == predicted.argmax(axis=1).tolist()
    np.testing.assert_allclose(states.ep.sum(axis=1), 1.0, atol=1e-5)


def test_padding_steps_are_excluded_and_do_not_shape_states() -> None:
    model = small_model("lstm", 2)
    ids = token_batch()
    states = extraction.extract_states(model, ids)
    assert np.diff(states.offsets).tolist() == [12, 7, 1, 9, 4]
    # The 7 real tokens of sequence 1 run alone, with no padding at all, give the same states.
    tokens = ids[1, -7:]
    embedded = model.get_layer("embedding").get_weights()[0][tokens][None]
    alone = cellmath.run_sequence("lstm", embedded, model.get_layer("recurrent").get_weights())
    np.testing.assert_allclose(alone["h"][0], states.hidden[states.offsets[1] : states.offsets[2]], atol=1e-5)


def test_distances_are_between_consecutive_states_of_one_sequence() -> None:
    hidden = np.array([[1, 0], [1, 1], [4, 5], [0, 2], [0, 0]], dtype=np.float32)
    offsets = np.array([0, 3, 5])
    distances = extraction.step_distances(hidden, offsets)
    np.testing.assert_allclose(distances, [1, 1, 5, 2, 2])


def test_a_model_without_recurrent_layer_is_refused() -> None:
    import keras

    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(extraction.NotRecurrentError, match="no recurrent layer"):
        extraction.find_recurrent_layer(dense)
