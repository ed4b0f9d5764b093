"""The trainer's model: a small stack of recurrent layers trained one epoch per request.

Each browser session owns one :class:`TrainerState` (settings, weights,
optimizer slots, epoch, loss history, the last test window and its
prediction), pickled under the session id in the deployment's session store
(``serving.sessions``: Redis when configured, else the shared disk cache; the
plain disk cache when ``serving`` is absent), so any worker process can serve
any request and two sessions never share a model.

For speed, each process keeps one compiled Keras model per *architecture*
(cell type, layers, data shape) in a small LRU cache; every request loads the
session's weights and optimizer state into it, runs, and writes them back.
That cache holds no session data between requests.

Public functions used by the pages (and by the cell view):

- :func:`load_session` / :func:`save_session` / :func:`ensure_session`
- :func:`new_state`, :func:`update_settings`, :func:`train_epoch`
- :func:`build_model` (a fresh Keras model with a state's current weights)
- ``state.test_inputs`` (the current test window, shape (1, steps, features))
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from model import cache, signals

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CELL_TYPES = ("lstm", "gru", "simplernn")
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
MIN_LAYERS, MAX_LAYERS, DEFAULT_LAYERS = 1, 7, 3
UNITS = 16
SESSION_EXPIRE_S = 7 * 24 * 3600
ARCHITECTURE_FIELDS = ("data", "cell", "layers")


@dataclass(frozen=True)
class Settings:
    """What the learner chose. Changing ``data``, ``cell`` or ``layers`` resets training."""

    data: str = "sine"
    cell: str = "lstm"
    layers: int = DEFAULT_LAYERS
    learning_rate: float = 0.025
    batch_size: int = 25
    noise: float = 0.0
    seed: int = 0

    def validated(self) -> Settings:
        """A copy with every field clipped into its allowed range."""
        return replace(
            self,
            data=self.data if self.data in signals.DATA_KEYS else "sine",
            cell=self.cell if self.cell in CELL_TYPES else "lstm",
            layers=int(np.clip(int(self.layers), MIN_LAYERS, MAX_LAYERS)),
            learning_rate=float(np.clip(float(self.learning_rate), 1e-4, 1.0)),
            batch_size=int(np.clip(int(self.batch_size), 5, 50)),
            noise=float(np.clip(float(self.noise), 0.0, signals.MAX_NOISE)),
        )


@dataclass
class TrainerState:
    """One session's training state (pickled into the cache).

    ``test`` describes the last test window: for functions ``x`` (47 positions),
    ``inputs`` (15, with noise), ``targets`` (32) and ``predictions`` (32,
    autoregressive); for text ``input_text``, ``target_text`` and
    ``predicted_text``.  ``notice`` is a message for the learner (e.g. a reset).
    """

    sid: str
    settings: Settings
    epoch: int = 0
    weights: list[np.ndarray] = field(default_factory=list)
    optimizer: list[np.ndarray] | None = None
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    test: dict[str, Any] = field(default_factory=dict)
    notice: str = ""

    @property
    def is_text(self) -> bool:
        return signals.is_text(self.settings.data)

    @property
    def test_inputs(self) -> np.ndarray:
        """The current test window as the model sees it: shape (1, steps, features), float32."""
        if self.is_text:
            vocab = signals.vocabulary(self.settings.data)
            codes = [vocab.index(c) for c in self.test["input_text"]]
            return signals.one_hot(np.array(codes), len(vocab))[None]
        return np.asarray(self.test["inputs"], dtype=np.float32)[None, :, None]


# ---------------------------------------------------------------- shapes and keys


def data_shape(data: str) -> tuple[int, int, int]:
    """(steps, features, outputs) of the model for a data set."""
    if signals.is_text(data):
        size = len(signals.vocabulary(data))
        return signals.TEXT_WINDOW, size, size
    return signals.WINDOW, 1, 1


def session_key(sid: str) -> str:
    """Cache key of a session's state (the fallback store's key)."""
    return cache.make_key("trainer-session", session=sid)


class CacheSessionStore:
    """Sessions straight in the shared disk cache (written even in read-only demo mode)."""

    def get(self, sid: str) -> Any | None:
        return cache.get_cache().get(session_key(sid))

    def put(self, sid: str, value: Any) -> None:
        cache.get_cache().set(session_key(sid), value, expire=SESSION_EXPIRE_S)

    @contextlib.contextmanager
    def lock(self, sid: str, timeout_s: float = 30.0) -> Iterator[None]:
        import diskcache

        with diskcache.Lock(cache.get_cache(), f"lock:{session_key(sid)}", expire=timeout_s):
            yield


def session_store() -> Any:
    """The deployment's session store (``serving.sessions``: Redis or disk) or the disk cache."""
    try:
        from serving.sessions import session_store as deployment_store
    except ImportError:
        return CacheSessionStore()
    return deployment_store()


def load_session(sid: str, store: Any = None) -> TrainerState | None:
    """The session's state, or None if it has none (or it expired)."""
    state = (store or session_store()).get(sid)
    return state if isinstance(state, TrainerState) else None


def save_session(state: TrainerState, store: Any = None) -> None:
    """Write the state to the session store (it expires after a while without writes)."""
    (store or session_store()).put(state.sid, state)


@contextlib.contextmanager
def session_lock(sid: str, timeout_s: float = 30.0) -> Iterator[None]:
    """A lock around a read-modify-write of one session: across machines with Redis, else this one's processes."""
    with session_store().lock(sid, timeout_s):
        yield


def ensure_session(sid: str, settings: Settings | None = None) -> TrainerState:
    """Load the session, creating (and saving) a fresh one if it does not exist."""
    state = load_session(sid)
    if state is None:
        state = new_state(sid, settings or Settings())
        save_session(state)
    return state


# ---------------------------------------------------------------- weights


def _glorot(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape)


def _orthogonal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(max(shape), min(shape))))
    q = q * np.sign(np.diag(r))
    return q if q.shape == shape else q.T


def initial_weights(settings: Settings) -> list[np.ndarray]:
    """Seeded initial weights in Keras order (Keras' own initializers, recomputed in numpy).

    Kernels Glorot-uniform, recurrent kernels orthogonal, biases zero (LSTM
    forget-gate bias one), dense output Glorot-uniform.
    """
    rng = np.random.default_rng([settings.seed, 7919])
    _, features, outputs = data_shape(settings.data)
    gates = {"lstm": 4, "gru": 3, "simplernn": 1}[settings.cell]
    weights: list[np.ndarray] = []
    inputs = features
    for _ in range(settings.layers):
        kernel = _glorot(rng, (inputs, gates * UNITS))
        recurrent = np.concatenate(
            [_orthogonal(rng, (UNITS, UNITS)) for _ in range(gates)], axis=1
        )  # Keras initialises the whole (u, gates·u) matrix orthogonally; per gate is equivalent in spirit
        if settings.cell == "gru":
            bias = np.zeros((2, gates * UNITS))
        else:
            bias = np.zeros(gates * UNITS)
            if settings.cell == "lstm":
                bias[UNITS : 2 * UNITS] = 1.0
        weights += [kernel, recurrent, bias]
        inputs = UNITS
    weights += [_glorot(rng, (UNITS, outputs)), np.zeros(outputs)]
    return [w.astype(np.float32) for w in weights]


# ---------------------------------------------------------------- Keras model


def make_keras_model(cell: str, layers: int, data: str):
    """A fresh (uncompiled) Keras model: ``layers`` recurrent layers of 16 units, then Dense.

    Layers are named ``rnn_0`` … ``rnn_{n-1}`` and ``output``; every recurrent
    layer but the last returns sequences.  The output is tanh for functions,
    softmax over the characters for text.
    """
    import keras

    steps, features, outputs = data_shape(data)
    layer_class = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simplernn": keras.layers.SimpleRNN}[
        cell
    ]
    inputs = keras.Input((steps, features), name="inputs")
    x = inputs
    for i in range(layers):
        x = layer_class(UNITS, return_sequences=i < layers - 1, name=f"rnn_{i}")(x)
    activation = "softmax" if signals.is_text(data) else "tanh"
    output = keras.layers.Dense(outputs, activation=activation, name="output")(x)
    return keras.Model(inputs, output, name=f"trainer_{cell}_{layers}")


def build_model(state: TrainerState):
    """A fresh Keras model carrying the state's current weights (safe to modify; not shared).

    ``model.get_layer(f"rnn_{i}")`` is layer ``i`` (0-based, the index the
    overview's layer click puts in ``trainer-selected-layer``); feed it
    ``state.test_inputs``.
    """
    s = state.settings
    model = make_keras_model(s.cell, s.layers, s.data)
    model.set_weights(state.weights)
    return model


class _Engine:
    """One compiled model + optimizer + tf.functions for one architecture (per process)."""

    def __init__(self, cell: str, layers: int, data: str) -> None:
        import keras
        import tensorflow as tf

        self.lock = threading.Lock()
        self.text = signals.is_text(data)
        steps, features, outputs = data_shape(data)
        self.model = make_keras_model(cell, layers, data)
        self.optimizer = keras.optimizers.RMSprop(learning_rate=0.025)
        self.optimizer.build(self.model.trainable_variables)
        loss_fn = keras.losses.CategoricalCrossentropy() if self.text else keras.losses.MeanSquaredError()
        model, optimizer, text = self.model, self.optimizer, self.text
        horizon = signals.TEXT_HORIZON if self.text else signals.HORIZON
        x_spec = tf.TensorSpec([None, steps, features], tf.float32)
        y_spec = tf.TensorSpec([None, outputs], tf.float32)

        @tf.function(input_signature=[x_spec, y_spec])
        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss

        @tf.function(input_signature=[x_spec, y_spec])
        def evaluate(x, y):
            return loss_fn(y, model(x, training=False))

        @tf.function(input_signature=[tf.TensorSpec([1, steps, features], tf.float32)])
        def rollout(window):
            outs = tf.TensorArray(tf.float32, size=horizon)
            for i in tf.range(horizon):
                y = model(window, training=False)
                outs = outs.write(i, y[0])
                nxt = tf.one_hot(tf.argmax(y, axis=-1), outputs) if text else y
                window = tf.concat([window[:, 1:], nxt[:, None, :]], axis=1)
            return outs.stack()

        self.train_step, self.evaluate, self.rollout = train_step, evaluate, rollout
        # Run each function once on zeros (trace + graph optimisation) so a learner's first epoch is
        # as fast as the rest; load() overwrites every variable before real use.
        x0, y0 = np.zeros((2, steps, features), np.float32), np.zeros((2, outputs), np.float32)
        train_step(x0, y0)
        evaluate(x0, y0)
        rollout(x0[:1])

    def load(self, state: TrainerState) -> None:
        """Put the state's weights, optimizer slots and learning rate into the model."""
        self.model.set_weights(state.weights)
        variables = self.optimizer.variables
        if state.optimizer is None:
            for v in variables:
                v.assign(np.zeros(v.shape, dtype=v.dtype))
        else:
            for v, value in zip(variables, state.optimizer, strict=True):
                v.assign(value)
        self.optimizer.learning_rate.assign(state.settings.learning_rate)

    def dump(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self.model.get_weights(), [np.array(v.numpy()) for v in self.optimizer.variables]


@lru_cache(maxsize=6)
def _engine(cell: str, layers: int, data: str) -> _Engine:
    return _Engine(cell, layers, data)


def engine_for(settings: Settings) -> _Engine:
    """The process's compiled engine for this architecture (built on first use).

    All four functions share one engine per cell type and depth (same shapes);
    each text has its own (its vocabulary sets the input and output size).
    """
    shape_key = settings.data if signals.is_text(settings.data) else "sine"
    return _engine(settings.cell, settings.layers, shape_key)


# ---------------------------------------------------------------- epochs


def _test_window(settings: Settings, rng: np.random.Generator) -> dict[str, Any]:
    if signals.is_text(settings.data):
        return signals.text_test_window(settings.data, rng)
    return signals.function_test_window(settings.data, rng, settings.noise)


def _predict(engine: _Engine, state: TrainerState, test: dict[str, Any]) -> dict[str, Any]:
    """Run the autoregressive rollout on ``test`` (already in ``state.test``) and add its results."""
    out = engine.rollout(state.test_inputs).numpy()
    if engine.text:
        vocab = signals.vocabulary(state.settings.data)
        test["predicted_text"] = "".join(vocab[i] for i in out.argmax(axis=-1))
        test["probabilities"] = out.max(axis=-1).astype(float).tolist()
    else:
        test["predictions"] = out[:, 0].astype(np.float64)
    return test


def new_state(sid: str, settings: Settings, notice: str = "") -> TrainerState:
    """A fresh, untrained state with a first test window predicted by the untrained model."""
    settings = settings.validated()
    state = TrainerState(sid=sid, settings=settings, weights=initial_weights(settings), notice=notice)
    rng = np.random.default_rng([settings.seed, 0])
    state.test = _test_window(settings, rng)
    engine = engine_for(settings)
    with engine.lock:
        engine.load(state)
        _predict(engine, state, state.test)
    return state


def update_settings(state: TrainerState, **changes: Any) -> tuple[TrainerState, bool]:
    """Apply setting changes; returns ``(state, was_reset)``.

    Changing data, cell type or the number of layers starts training over
    (fresh weights, epoch 0) with a notice; learning rate, batch size and noise
    apply from the next epoch on.
    """
    settings = replace(state.settings, **changes).validated()
    if settings == state.settings:
        return state, False
    changed = [f for f in ARCHITECTURE_FIELDS if getattr(settings, f) != getattr(state.settings, f)]
    if changed:
        what = ", ".join({"data": "data", "cell": "cell type", "layers": "layers"}[f] for f in changed)
        return new_state(state.sid, settings, notice=f"Training was reset because the {what} changed."), True
    return replace(state, settings=settings, notice=""), False


def _epoch_data(settings: Settings, rng: np.random.Generator):
    if signals.is_text(settings.data):
        x, y = signals.text_windows(settings.data, rng)
        vx, vy = signals.text_windows(settings.data, rng, signals.TEXT_VALIDATION)
    else:
        x, y = signals.function_windows(settings.data, rng, noise=settings.noise)
        vx, vy = signals.function_windows(settings.data, rng, signals.VALIDATION_WINDOWS)
    return x, y, vx, vy


def train_epoch(state: TrainerState) -> TrainerState:
    """One epoch, as in exploRNN: fresh data → predict the test window → validate → train.

    The prediction and the validation loss come from the model *before* this
    epoch's update (the forward and validation phases the page animates);
    the training loss is the mean batch loss of the update (backward phase).
    Deterministic for a given seed and sequence of settings.
    """
    settings = state.settings
    rng = np.random.default_rng([settings.seed, state.epoch + 1])
    x, y, vx, vy = _epoch_data(settings, rng)
    test = _test_window(settings, rng)
    order = rng.permutation(len(x))
    engine = engine_for(settings)
    with engine.lock:
        engine.load(state)
        probe = replace(state, test=test)
        _predict(engine, probe, test)
        val_loss = float(engine.evaluate(vx, vy))
        losses = []
        for start in range(0, len(x), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            losses.append(float(engine.train_step(x[batch], y[batch])) * len(batch))
        weights, optimizer = engine.dump()
    return replace(
        state,
        epoch=state.epoch + 1,
        weights=weights,
        optimizer=optimizer,
        train_loss=[*state.train_loss, sum(losses) / len(x)],
        val_loss=[*state.val_loss, val_loss],
        test=test,
        notice="",
    )


def session_summary(state: TrainerState) -> dict[str, Any]:
    """Small JSON-able description of a state (for dcc.Store and logs)."""
    return {"sid": state.sid, "epoch": state.epoch, "settings": asdict(state.settings)}


# ---------------------------------------------------------------- pretrained examples

EXAMPLE_EPOCHS = 25
EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "lr-low": ("Learning rate too low (0.0001)", {"learning_rate": 1e-4}),
    "lr-high": ("Learning rate too high (1)", {"learning_rate": 1.0}),
    "lr-good": ("Learning rate about right (0.01)", {"learning_rate": 0.01}),
    "batch-5": ("Small batches (5)", {"batch_size": 5}),
    "batch-50": ("Large batches (50)", {"batch_size": 50}),
    "noise-02": ("Noisy inputs (± 0.2)", {"noise": 0.2}),
    "noise-04": ("Very noisy inputs (± 0.4)", {"noise": 0.4}),
}


def example_state(name: str) -> TrainerState:
    """A sine model trained ``EXAMPLE_EPOCHS`` epochs with one setting changed (cached, shared)."""
    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}")
    settings = replace(Settings(), **EXAMPLES[name][1]).validated()

    def train() -> TrainerState:
        state = new_state("example", settings)
        for _ in range(EXAMPLE_EPOCHS):
            state = train_epoch(state)
        return state

    key = cache.make_key("trainer-example", name=name, settings=asdict(settings), epochs=EXAMPLE_EPOCHS)
    state, _ = cache.memoize(key, train)
    return state


def load_example(sid: str, name: str) -> TrainerState:
    """Put a pretrained example into session ``sid`` (the learner continues from there)."""
    example = example_state(name)
    label = EXAMPLES[name][0]
    state = replace(
        example,
        sid=sid,
        notice=f"Loaded a sine model trained for {example.epoch} epochs: {label.lower()}. Compare its loss "
        "curve and prediction with your own.",
    )
    with session_lock(sid):
        save_session(replace(state, notice=""))
    return state
