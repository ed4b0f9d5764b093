"""Compiled Keras engines for the trainer, lent to one request at a time.

An engine is one compiled model + RMSprop optimizer + ``tf.function`` s for one
architecture (cell type, depth, data shape, units per layer). A request borrows one with
``with engine_for(settings) as engine:``, loads a session's weights and
optimizer slots into it, runs, reads them back and returns it. Engines hold no
session data between requests, and no lock is shared between sessions.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from model import config, signals

UNITS = 16  # units per recurrent layer unless the learner picks another width


def data_shape(data: str) -> tuple[int, int, int]:
    """(steps, features, outputs) of the model for a data set."""
    if signals.is_text(data):
        size = len(signals.vocabulary(data))
        return signals.TEXT_WINDOW, size, size
    return signals.WINDOW, 1, 1


# ---------------------------------------------------------------- Keras model


def make_keras_model(cell: str, layers: int, data: str, units: int = UNITS):
    """A fresh (uncompiled) Keras model: ``layers`` recurrent layers of ``units`` units, then Dense.

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
        x = layer_class(units, return_sequences=i < layers - 1, name=f"rnn_{i}")(x)
    activation = "softmax" if signals.is_text(data) else "tanh"
    output = keras.layers.Dense(outputs, activation=activation, name="output")(x)
    return keras.Model(inputs, output, name=f"trainer_{cell}_{layers}x{units}")


class Engine:
    """One compiled model + optimizer + tf.functions for one architecture.

    Used by one request at a time (taken from :data:`_POOL`), so it needs no lock of its own.
    """

    def __init__(self, cell: str, layers: int, data: str, units: int = UNITS) -> None:
        import keras
        import tensorflow as tf

        self.text = signals.is_text(data)
        steps, features, outputs = data_shape(data)
        self.model = make_keras_model(cell, layers, data, units)
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

    def load(self, state: Any) -> None:
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


class _EnginePool:
    """Idle engines by architecture, for this process.

    :meth:`use` lends an engine to one request: an idle one of the architecture,
    else a newly built one (built outside any lock, so first requests of several
    learners build in parallel). It goes back to the pool afterwards; at most
    ``max_idle`` idle engines are kept, the least recently used architectures
    dropped first. The guard is held only to take or return an engine, never while
    an engine builds or trains: learners with the same architecture never wait
    for each other.
    """

    def __init__(self, max_idle: int) -> None:
        self.max_idle = max_idle
        self._idle: OrderedDict[tuple[str, int, str, int], list[Engine]] = OrderedDict()
        self._guard = threading.Lock()

    def _take(self, key: tuple[str, int, str, int]) -> Engine | None:
        with self._guard:
            engines = self._idle.get(key)
            if not engines:
                return None
            self._idle.move_to_end(key)
            return engines.pop()

    def _give(self, key: tuple[str, int, str, int], engine: Engine) -> None:
        with self._guard:
            self._idle.setdefault(key, []).append(engine)
            self._idle.move_to_end(key)
            while sum(len(v) for v in self._idle.values()) > self.max_idle:
                oldest = next(iter(self._idle))
                self._idle[oldest].pop(0)
                if not self._idle[oldest]:
                    del self._idle[oldest]

    def idle(self) -> int:
        with self._guard:
            return sum(len(v) for v in self._idle.values())

    @contextlib.contextmanager
    def use(self, key: tuple[str, int, str, int]) -> Iterator[Engine]:
        engine = self._take(key) or Engine(*key)
        try:
            yield engine
        finally:
            self._give(key, engine)


def _max_idle_engines() -> int:
    return max(int(config.env_number("RNNX_TRAINER_ENGINES", 8)), 1)


_POOL = _EnginePool(_max_idle_engines())


def engine_for(settings: Any) -> contextlib.AbstractContextManager[Engine]:
    """Lend this request an engine for the architecture (``with engine_for(s) as engine:``).

    All four functions share engines per cell type, depth and width (same shapes);
    each text has its own (its vocabulary sets the input and output size). The
    engine is this request's alone until the ``with`` block ends.
    """
    shape_key = settings.data if signals.is_text(settings.data) else "sine"
    return _POOL.use((settings.cell, settings.layers, shape_key, int(getattr(settings, "units", UNITS))))
