"""A lower recurrent layer chosen for analysis (issue 21, item 6): its own states, the model's own EP.

The layers after a lower LSTM are recurrent, so its states have no head of their own; the EP of
each step comes from the last recurrent layer (as for ONNX) and equals the model's output at the
last step.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.byo_models import two_lstm_model

pytestmark = [pytest.mark.heavy]  # builds a Keras model (TensorFlow)


def test_a_lower_layer_has_its_own_states_and_the_models_ep(tmp_path) -> None:
    from model import byo
    from model.extraction import StateExtractor

    model = byo.load_model(two_lstm_model(tmp_path / "two.keras", 30, max_len=12))
    ids = np.zeros((5, 12), np.int32)
    ids[:, 4:] = np.random.default_rng(0).integers(2, 30, (5, 8))
    ids[0, :7] = 0
    wide = StateExtractor(model, "lstm_wide").run(ids)
    narrow = StateExtractor(model, None).run(ids)
    assert wide.hidden.shape == (len(narrow.hidden), 6) and narrow.hidden.shape[1] == 4
    assert np.array_equal(wide.offsets, narrow.offsets)
    np.testing.assert_allclose(wide.ep, narrow.ep, atol=1e-6)
    own = np.asarray(model(ids, training=False))[:, 0]
    np.testing.assert_allclose(wide.ep[wide.offsets[1:] - 1][:, 1], own, atol=1e-5)
