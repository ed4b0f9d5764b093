"""The trainer's model: a small stack of recurrent layers trained one epoch per request.

Each browser tab owns one :class:`TrainerState` (settings, weights, optimizer
slots, epoch, loss history, the last test window and its prediction), kept
under the tab's key in a session store that the caller passes in (the trainer
service, :mod:`services.trainer`, is given the app's one store: Redis or the
sessions disk cache), so any worker process can serve any request and two tabs
never share a model.

Compiled Keras models are reused from a per-process pool of engines: a request
takes an idle engine of its architecture for itself (or builds one), loads the
session's weights and optimizer state into it, runs, writes them back and
returns the engine. No lock is shared between sessions, so learners with the
same architecture train in parallel; only one tab's own requests queue, behind
its session lock.

Public functions used by :mod:`services.trainer`:

- :func:`load_session` / :func:`save_session` / :func:`session_lock` (each takes the store)
- :func:`new_state`, :func:`update_settings`, :func:`train_epoch` (raises :class:`TrainingDiverged`)
- :func:`applied_steps` / :func:`record_steps` (which Step clicks of a page view are trained)
- :func:`example_state` / :func:`load_example` (raise :class:`ExampleUnavailable` in a demo without it)
- :func:`build_model` (a fresh Keras model with a state's current weights)
- ``state.test_inputs`` (the current test window, shape (1, steps, features))
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from model import cache, signals
from model.trainer_engine import UNITS, Engine, data_shape, engine_for, make_keras_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CELL_TYPES = ("lstm", "gru", "simplernn")
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
MIN_LAYERS, MAX_LAYERS, DEFAULT_LAYERS = 1, 7, 3
MIN_UNITS, MAX_UNITS, DEFAULT_UNITS = 4, 64, UNITS
ARCHITECTURE_FIELDS = ("data", "cell", "layers", "units")
FIELD_NAMES = {"data": "data", "cell": "cell type", "layers": "layers", "units": "units per layer"}
MAX_VIEWS = 8  # page views whose Step clicks a session remembers
DIVERGED = (
    "Training diverged (the loss became infinite or NaN), so this epoch was not kept: the previous "
    "weights stay. Lower the learning rate and try again."
)


class TrainingDiverged(ArithmeticError):
    """An epoch produced a non-finite loss or weight; ``str(error)`` is the message for the learner."""


class ExampleUnavailable(LookupError):
    """A pretrained example is not in the (read-only) results cache; the message is for the learner."""


class Store(Protocol):
    """What this module needs of the session store (``serving.sessions.SessionStore``): get, put, lock."""

    def get(self, key: str) -> Any | None: ...
    def put(self, key: str, value: Any) -> None: ...
    def lock(self, key: str) -> contextlib.AbstractContextManager: ...


@dataclass(frozen=True)
class Settings:
    """What the learner chose. Changing ``data``, ``cell``, ``layers`` or ``units`` resets training.

    ``units`` is the width of every recurrent layer (a state pickled before it existed reads the default).
    """

    data: str = "sine"
    cell: str = "lstm"
    layers: int = DEFAULT_LAYERS
    learning_rate: float = 0.025
    batch_size: int = 25
    noise: float = 0.0
    seed: int = 0
    units: int = DEFAULT_UNITS

    def validated(self) -> Settings:
        """A copy with every field clipped into its allowed range (values are validated before this)."""
        return replace(
            self,
            data=self.data if self.data in signals.DATA_KEYS else "sine",
            cell=self.cell if self.cell in CELL_TYPES else "lstm",
            layers=int(np.clip(int(self.layers), MIN_LAYERS, MAX_LAYERS)),
            units=int(np.clip(int(self.units), MIN_UNITS, MAX_UNITS)),
            learning_rate=float(np.clip(float(self.learning_rate), 1e-4, 1.0)),
            batch_size=int(np.clip(int(self.batch_size), 5, 50)),
            noise=float(np.clip(float(self.noise), 0.0, signals.MAX_NOISE)),
        )


@dataclass
class TrainerState:
    """One session's training state (pickled into the session store).

    ``test`` describes the last test window: for functions ``x`` (47 positions),
    ``inputs`` (15, with noise), ``targets`` (32) and ``predictions`` (32,
    autoregressive); for text ``input_text``, ``target_text`` and
    ``predicted_text``.  ``notice`` is a message for the learner (e.g. a reset).
    ``step_clicks`` maps a page view to the number of its Step clicks already
    trained, so a click whose own request was superseded is trained by the next
    request of that view (and never twice).
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
    step_clicks: dict[str, int] = field(default_factory=dict)

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


# ---------------------------------------------------------------- shapes and sessions


def load_session(store: Store, key: str) -> TrainerState | None:
    """The session's state, or None if it has none (or it expired)."""
    state = store.get(key)
    return state if isinstance(state, TrainerState) else None


def save_session(store: Store, state: TrainerState) -> None:
    """Write the state under its key (it expires after a while without writes)."""
    store.put(state.sid, state)


@contextlib.contextmanager
def session_lock(store: Store, key: str) -> Iterator[None]:
    """A lock around a read-modify-write of one session (that session's requests only)."""
    with store.lock(key):
        yield


def applied_steps(state: TrainerState, view: str) -> int:
    """How many Step clicks of page view ``view`` this session has already trained."""
    return int(getattr(state, "step_clicks", {}).get(view, 0))


def record_steps(state: TrainerState, view: str, clicks: int) -> TrainerState:
    """Remember that the view's first ``clicks`` Step clicks are trained (the last few views only)."""
    seen = {k: v for k, v in getattr(state, "step_clicks", {}).items() if k != view}
    seen[view] = int(clicks)
    return replace(state, step_clicks=dict(list(seen.items())[-MAX_VIEWS:]))


def carry_steps(new: TrainerState, old: TrainerState) -> TrainerState:
    """``new`` with ``old``'s Step-click bookkeeping (a reset or an example keeps it)."""
    return replace(new, step_clicks=dict(getattr(old, "step_clicks", {})))


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
    units = settings.units
    gates = {"lstm": 4, "gru": 3, "simplernn": 1}[settings.cell]
    weights: list[np.ndarray] = []
    inputs = features
    for _ in range(settings.layers):
        kernel = _glorot(rng, (inputs, gates * units))
        recurrent = np.concatenate(
            [_orthogonal(rng, (units, units)) for _ in range(gates)], axis=1
        )  # Keras initialises the whole (u, gates·u) matrix orthogonally; per gate is equivalent in spirit
        if settings.cell == "gru":
            bias = np.zeros((2, gates * units))
        else:
            bias = np.zeros(gates * units)
            if settings.cell == "lstm":
                bias[units : 2 * units] = 1.0
        weights += [kernel, recurrent, bias]
        inputs = units
    weights += [_glorot(rng, (units, outputs)), np.zeros(outputs)]
    return [w.astype(np.float32) for w in weights]


# ---------------------------------------------------------------- Keras model


def build_model(state: TrainerState):
    """A fresh Keras model carrying the state's current weights (safe to modify; not shared).

    ``model.get_layer(f"rnn_{i}")`` is layer ``i`` (0-based, the index the
    overview's layer click puts in ``trainer-selected-layer``); feed it
    ``state.test_inputs``.
    """
    s = state.settings
    model = make_keras_model(s.cell, s.layers, s.data, s.units)
    model.set_weights(state.weights)
    return model


# ---------------------------------------------------------------- epochs


def _test_window(settings: Settings, rng: np.random.Generator) -> dict[str, Any]:
    if signals.is_text(settings.data):
        return signals.text_test_window(settings.data, rng)
    return signals.function_test_window(settings.data, rng, settings.noise)


def _predict(engine: Engine, state: TrainerState, test: dict[str, Any]) -> dict[str, Any]:
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
    with engine_for(settings) as engine:
        engine.load(state)
        _predict(engine, state, state.test)
    return state


def update_settings(state: TrainerState, **changes: Any) -> tuple[TrainerState, bool]:
    """Apply setting changes; returns ``(state, was_reset)``.

    Changing data, cell type, the number of layers or their units starts training over
    (fresh weights, epoch 0) with a notice; learning rate, batch size and noise
    apply from the next epoch on.
    """
    settings = replace(state.settings, **changes).validated()
    if settings == state.settings:
        return state, False
    changed = [f for f in ARCHITECTURE_FIELDS if getattr(settings, f) != getattr(state.settings, f)]
    if changed:
        what = ", ".join(FIELD_NAMES[f] for f in changed)
        fresh = new_state(state.sid, settings, notice=f"Training was reset because the {what} changed.")
        return carry_steps(fresh, state), True
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
    Deterministic for a given seed and sequence of settings. Raises
    :class:`TrainingDiverged` (and keeps nothing) when a loss or weight is not finite.
    """
    settings = state.settings
    rng = np.random.default_rng([settings.seed, state.epoch + 1])
    x, y, vx, vy = _epoch_data(settings, rng)
    test = _test_window(settings, rng)
    order = rng.permutation(len(x))
    with engine_for(settings) as engine:
        engine.load(state)
        probe = replace(state, test=test)
        _predict(engine, probe, test)
        val_loss = float(engine.evaluate(vx, vy))
        losses = []
        for start in range(0, len(x), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            losses.append(float(engine.train_step(x[batch], y[batch])) * len(batch))
        weights, optimizer = engine.dump()
    train_loss = sum(losses) / len(x)
    if not _finite(train_loss, val_loss, *weights, *optimizer, test.get("predictions", 0.0)):
        raise TrainingDiverged(DIVERGED)
    return replace(
        state,
        epoch=state.epoch + 1,
        weights=weights,
        optimizer=optimizer,
        train_loss=[*state.train_loss, train_loss],
        val_loss=[*state.val_loss, val_loss],
        test=test,
        notice="",
    )


def _finite(*values: Any) -> bool:
    return all(bool(np.isfinite(np.asarray(v, dtype=np.float64)).all()) for v in values)


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
    """A sine model trained ``EXAMPLE_EPOCHS`` epochs with one setting changed (shared, in the results cache).

    In demo mode the example is only read from the (read-only) results cache, never trained:
    :class:`ExampleUnavailable` when it is not there.
    """
    if name not in EXAMPLES:
        raise ExampleUnavailable(f"There is no pretrained example called {name!r}.")
    settings = replace(Settings(), **EXAMPLES[name][1]).validated()
    described = {k: v for k, v in asdict(settings).items() if k != "units"}  # the key from before units
    key = cache.make_key("trainer-example", name=name, settings=described, epochs=EXAMPLE_EPOCHS)
    if cache.read_only():
        state = cache.get(key)
        if not isinstance(state, TrainerState):
            raise ExampleUnavailable(
                f"The pretrained example “{EXAMPLES[name][0]}” is not part of this read-only demo: "
                "try another one."
            )
        return state

    def train() -> TrainerState:
        state = new_state("example", settings)
        for _ in range(EXAMPLE_EPOCHS):
            try:
                state = train_epoch(state)
            except TrainingDiverged:
                break
        return state

    state, _ = cache.memoize(key, train)
    return state


def load_example(store: Store, key: str, name: str) -> TrainerState:
    """Put a pretrained example into session ``key`` (the learner continues from there)."""
    example = example_state(name)
    label = EXAMPLES[name][0]
    with session_lock(store, key):
        previous = load_session(store, key)
        state = replace(example, sid=key, notice="")
        if previous is not None:
            state = carry_steps(state, previous)
        save_session(store, state)
    return replace(
        state,
        notice=f"Loaded a sine model trained for {example.epoch} epochs: {label.lower()}. Compare its loss "
        "curve and prediction with your own.",
    )
