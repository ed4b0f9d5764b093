"""The cell view's numbers: every gate, state and output equals the model's own computation."""

from __future__ import annotations

import numpy as np
import pytest

from model import celltrace

STEPS = 15


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _model(kind: str, layers: int = 2, features: int = 1, seed: int = 3):
    import keras

    keras.utils.set_random_seed(seed)
    layer = getattr(keras.layers, kind)
    stack = [keras.Input((STEPS, features))]
    stack += [layer(16, return_sequences=i < layers - 1) for i in range(layers)]
    stack.append(keras.layers.Dense(1, activation="tanh"))
    model = keras.Sequential(stack)
    # Larger random weights so gates really open and close (not all near 0.5).
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(0, 0.4, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def _window(features: int = 1) -> np.ndarray:
    x = np.arange(STEPS) * 0.2 + 0.7
    return np.stack([np.sin(x * (k + 1)) for k in range(features)], axis=-1)


def _lstm_by_hand(inputs: np.ndarray, kernel, recurrent, bias) -> dict[str, np.ndarray]:
    """Textbook LSTM equations, written out independently of model.cellmath."""
    units = recurrent.shape[0]
    h, c = np.zeros(units), np.zeros(units)
    out: dict[str, list] = {k: [] for k in ("i", "f", "g", "o", "c", "a")}
    for x in inputs:
        z = x @ kernel + h @ recurrent + bias
        i = _sigmoid(z[:units])
        f = _sigmoid(z[units : 2 * units])
        g = np.tanh(z[2 * units : 3 * units])
        o = _sigmoid(z[3 * units :])
        c = f * c + i * g
        h = o * np.tanh(c)
        for key, val in zip(("i", "f", "g", "o", "c", "a"), (i, f, g, o, c, h), strict=True):
            out[key].append(val)
    return {k: np.array(v) for k, v in out.items()}


def _gru_by_hand(inputs: np.ndarray, kernel, recurrent, bias) -> dict[str, np.ndarray]:
    """Keras' GRU (reset_after=True), written out independently of model.cellmath."""
    units = recurrent.shape[0]
    b_in, b_rec = bias[0], bias[1]
    h = np.zeros(units)
    out: dict[str, list] = {k: [] for k in ("z", "r", "g", "a")}
    for x in inputs:
        xi = x @ kernel + b_in
        hi = h @ recurrent + b_rec
        z = _sigmoid(xi[:units] + hi[:units])
        r = _sigmoid(xi[units : 2 * units] + hi[units : 2 * units])
        g = np.tanh(xi[2 * units :] + r * hi[2 * units :])
        h = z * h + (1 - z) * g
        for key, val in zip(("z", "r", "g", "a"), (z, r, g, h), strict=True):
            out[key].append(val)
    return {k: np.array(v) for k, v in out.items()}


def _keras_sequences(model, window: np.ndarray) -> list[np.ndarray]:
    """Each recurrent layer's own output sequence, from a clone that returns sequences."""
    import keras

    outputs, tensor = [], window[None].astype("float32")
    for layer in model.layers:
        if celltrace.cell_type_of(layer) is None:
            continue
        clone = type(layer).from_config({**layer.get_config(), "return_sequences": True})
        clone.build(tensor.shape)
        clone.set_weights(layer.get_weights())
        tensor = keras.ops.convert_to_numpy(clone(tensor))
        outputs.append(tensor[0])
    return outputs


@pytest.mark.heavy
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_every_step_matches_numpy_and_the_layers_own_output(kind: str) -> None:
    model = _model(kind, layers=2, features=2)
    window = _window(features=2)
    trace = celltrace.trace_model(model, window, target=np.array([0.3]))
    assert trace["check_error"] < 1e-5
    own = _keras_sequences(model, window)
    by_hand = _lstm_by_hand if kind == "LSTM" else _gru_by_hand
    recurrent_layers = [layer for layer in model.layers if celltrace.cell_type_of(layer)]
    layer_input = window
    for k, (layer, info) in enumerate(zip(recurrent_layers, trace["layers"], strict=True)):
        values = {key: np.array(val) for key, val in info["values"].items()}
        assert info["steps"] == STEPS and info["units"] == 16
        assert set(values) == set(celltrace.PARTS[kind.lower()])
        expected = by_hand(layer_input, *layer.get_weights())
        for key, val in expected.items():  # gates, candidate, cell state, output: every step
            assert values[key].shape == (STEPS, 16)
            np.testing.assert_allclose(values[key], val, atol=1e-5, err_msg=f"layer {k} {key}")
        np.testing.assert_allclose(values["a"], own[k], atol=1e-5)  # the layer's own output
        np.testing.assert_allclose(values["x"], layer_input, atol=1e-6)
        np.testing.assert_allclose(values["a_prev"][1:], values["a"][:-1])
        assert not values["a_prev"][0].any()
        if kind == "LSTM":
            np.testing.assert_allclose(values["c_prev"][1:], values["c"][:-1])
        # gates are really gates: inside (0, 1) and not all the same
        gates = ("i", "f", "o") if kind == "LSTM" else ("z", "r")
        for gate in gates:
            assert values[gate].min() > 0 and values[gate].max() < 1
            assert values[gate].std() > 0.05
        layer_input = values["a"]
    prediction = keras_prediction = model.predict(window[None], verbose=0)[0]
    np.testing.assert_allclose(trace["prediction"], keras_prediction, atol=1e-5)
    assert trace["loss"] == pytest.approx(float((prediction[0] - 0.3) ** 2), rel=1e-4)


def test_last_step_gradient_is_the_chain_rule_through_the_dense_output() -> None:
    model = _model("LSTM", layers=1)
    window = _window()
    target = 0.25
    trace = celltrace.trace_model(model, window, target=np.array([target]))
    kernel, bias = model.layers[-1].get_weights()
    a_last = np.array(trace["layers"][0]["values"]["a"][-1])
    pre = a_last @ kernel[:, 0] + bias[0]
    pred = np.tanh(pre)
    expected = 2 * (pred - target) * (1 - pred**2) * kernel[:, 0]
    np.testing.assert_allclose(trace["layers"][0]["grad_a"][-1], expected, rtol=1e-3, atol=1e-6)
    norms = trace["layers"][0]["grad_norm"]
    assert len(norms) == STEPS and all(n >= 0 for n in norms)


def test_simplernn_gradients_vanish_faster_back_in_time_than_lstm() -> None:
    """With contracting recurrent weights the SimpleRNN's error signal dies out within the window."""
    import keras

    ratios = {}
    for kind in ("SimpleRNN", "LSTM"):
        keras.utils.set_random_seed(0)
        layer = getattr(keras.layers, kind)(16)
        model = keras.Sequential([keras.Input((STEPS, 1)), layer, keras.layers.Dense(1)])
        weights = layer.get_weights()
        weights[1] = weights[1] * 0.5  # contracting recurrence
        if kind == "LSTM":
            weights[2][16:32] = 1.0  # the usual forget-gate bias: keep the memory
        layer.set_weights(weights)
        norms = celltrace.trace_model(model, _window(), target=np.array([0.0]))["layers"][0]["grad_norm"]
        ratios[kind] = norms[0] / norms[-1]
    assert ratios["SimpleRNN"] < 1e-2
    assert ratios["LSTM"] > 10 * ratios["SimpleRNN"]


def test_crossentropy_text_model_traces_one_hot_inputs() -> None:
    import keras

    keras.utils.set_random_seed(1)
    chars = 4
    model = keras.Sequential(
        [keras.Input((STEPS, chars)), keras.layers.GRU(16), keras.layers.Dense(chars, activation="softmax")]
    )
    window = np.eye(chars)[np.arange(STEPS) % 2]
    trace = celltrace.trace_model(model, window, target=np.eye(chars)[1], loss="crossentropy")
    assert trace["check_error"] < 1e-5
    assert trace["loss"] == pytest.approx(-np.log(trace["prediction"][1]), rel=1e-4)
    assert np.array(trace["layers"][0]["values"]["x"]).shape == (STEPS, chars)


def test_frames_follow_the_sub_step_order_and_phases_jump() -> None:
    steps = 3
    frames = celltrace.frames(steps)
    assert celltrace.forward_substeps() == ("input", "gates", "state", "output")
    forward = [f for f in frames if f["phase"] == "forward"]
    assert [(f["t"], f["sub"]) for f in forward] == [(t, s) for t in range(steps) for s in range(4)]
    assert [f["phase"] for f in frames] == ["forward"] * 12 + ["error"] + ["backward"] * 3
    assert [f["t"] for f in frames if f["phase"] == "backward"] == [2, 1, 0]  # back through time
    with_ahead = celltrace.frames(steps, predicted=2)
    assert with_ahead[: len(frames)] == frames
    assert with_ahead[len(frames) :] == [{"phase": "predict", "t": t, "sub": 3} for t in (3, 4)]
    for phase in celltrace.PHASES:
        start = celltrace.phase_start(steps, phase, predicted=2)
        assert with_ahead[start]["phase"] == phase
        assert start == 0 or with_ahead[start - 1]["phase"] != phase
    with pytest.raises(ValueError):
        celltrace.phase_start(steps, "sideways")
    with pytest.raises(ValueError):
        celltrace.phase_start(steps, "predict")  # nothing predicted ahead


def test_frames_cover_the_window_and_every_predicted_step() -> None:
    steps, ahead = 15, 32
    frames = celltrace.frames(steps, ahead)
    shown = {f["t"] for f in frames if f["phase"] in ("forward", "predict")}
    assert shown == set(range(steps + ahead))
    assert sum(f["phase"] == "predict" for f in frames) == ahead
    assert celltrace.default_horizon("mse") == ahead and celltrace.default_horizon("crossentropy") == 5


def _keras_rollout(model, window: np.ndarray, horizon: int, one_hot: bool) -> tuple[list, list]:
    """The trainer's rollout written out with Keras: slide the window, append the prediction."""
    windows, predictions, current = [], [], window.astype("float32")
    for _ in range(horizon + 1):
        y = model.predict(current[None], verbose=0)[0]
        predictions.append(y)
        fed = np.eye(len(y))[int(np.argmax(y))] if one_hot else y
        current = np.concatenate([current[1:], fed[None]]).astype("float32")
        windows.append(current)
    return windows[:horizon], predictions


@pytest.mark.heavy
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_rollout_is_the_models_own_prediction_past_the_window(kind: str) -> None:
    horizon = 4
    model = _model(kind, layers=2)
    window = _window()
    trace = celltrace.trace_model(model, window, target=np.array([0.3]), horizon=horizon)
    windows, predictions = _keras_rollout(model, window, horizon, one_hot=False)
    np.testing.assert_allclose(trace["rollout_predictions"], predictions, atol=1e-5)
    assert trace["check_error"] < 1e-5
    recurrent = [layer for layer in model.layers if celltrace.cell_type_of(layer)]
    for k, slid in enumerate(windows):  # predicted step k + 1: the last step of window k + 1
        layer_input = slid
        for layer, info in zip(recurrent, trace["layers"], strict=True):
            ahead = {key: np.array(val) for key, val in info["rollout"].items()}
            assert set(ahead) == set(celltrace.PARTS[kind.lower()]) and len(ahead["a"]) == horizon
            full = celltrace.numpy_layer_trace(kind.lower(), layer_input, layer.get_weights())
            for key, val in full.items():
                np.testing.assert_allclose(ahead[key][k], val[-1], atol=1e-5, err_msg=f"{key} step {k}")
            layer_input = full["a"]
        # the network's input at predicted step k + 1 is prediction k + 1, fed back
        np.testing.assert_allclose(trace["layers"][0]["rollout"]["x"][k], predictions[k], atol=1e-5)


def test_text_rollout_feeds_back_the_arg_max_one_hot() -> None:
    import keras

    keras.utils.set_random_seed(2)
    chars = 5
    model = keras.Sequential(
        [keras.Input((STEPS, chars)), keras.layers.LSTM(16), keras.layers.Dense(chars, activation="softmax")]
    )
    window = np.eye(chars)[np.arange(STEPS) % 3]
    trace = celltrace.trace_model(model, window, target=np.eye(chars)[0], loss="crossentropy")
    _, predictions = _keras_rollout(model, window, 5, one_hot=True)
    np.testing.assert_allclose(trace["rollout_predictions"], predictions, atol=1e-5)
    fed = np.array(trace["layers"][0]["rollout"]["x"])
    assert fed.shape == (5, chars)  # the text horizon by default
    np.testing.assert_array_equal(fed, np.eye(chars)[np.argmax(predictions[:5], axis=1)])
