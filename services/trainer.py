"""The trainer's service: the only way the trainer's cards reach the numeric core.

A :class:`TrainerService` is given the app's one session store (the cards pass
``serving.sessions.session_store()``); it opens a browser tab's session, applies
one user action to it (:meth:`TrainerService.handle`), loads a pretrained
example and traces the session's model for the cell view. Values arrive here
already validated (``services.schemas``).

Step clicks are counted, not just signalled: the session remembers how many Step
clicks of each page view it has trained, and every request trains the ones not
trained yet (at most :data:`MAX_CATCH_UP`), so a click whose own request the
Dash renderer superseded, or one made before the tab had its id, is trained by
the next request of that view, and never twice. In demo mode nothing trains.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import replace
from typing import Any

import numpy as np

from model import cache, celltrace, signals, trainer
from services import identity
from services.validation import InvalidInput
from serving.sessions import SessionStore, SessionUnavailable

# What the cards may show or offer (the core's own values, read through here).
Settings = trainer.Settings
TrainerState = trainer.TrainerState
CELL_TYPES, CELL_LABELS = trainer.CELL_TYPES, trainer.CELL_LABELS
MIN_LAYERS, MAX_LAYERS = trainer.MIN_LAYERS, trainer.MAX_LAYERS
MIN_UNITS, MAX_UNITS, DEFAULT_UNITS = trainer.MIN_UNITS, trainer.MAX_UNITS, trainer.DEFAULT_UNITS
EXAMPLE_EPOCHS = trainer.EXAMPLE_EPOCHS
EXAMPLE_LABELS = {key: label for key, (label, _) in trainer.EXAMPLES.items()}
# Errors whose message is meant for the learner (shown in the page, never a traceback).
USER_ERRORS = (
    InvalidInput,
    identity.SessionError,
    SessionUnavailable,
    trainer.ExampleUnavailable,
    cache.CacheWriteError,
)

FAST_BUDGET_S = 0.35  # fast mode: train epochs for about this long per request
FAST_MAX_EPOCHS = 8
MAX_CATCH_UP = 10  # most Step clicks one request trains (the rest of a larger backlog is dropped)
INSERT, REMOVE = "trainer-insert-layer", "trainer-remove-layer"
LAYERS = "trainer-layers-sent"  # the page sends the layer count it shows (its +/- presses, coalesced)
CHANGES = ("trainer-input-select", "cell-type", "trainer-units", "add-layer", LAYERS, "reset-button")
DEMO_NOTICE = (
    "This is a read-only demo: load a pretrained example from the list to see a trained model "
    "(training is switched off here)."
)
DEFAULT_LR = 0.025


def lr_to_slider(lr: float) -> float:
    """The learning-rate slider's value (log10) for a learning rate."""
    return round(math.log10(lr), 3)


def slider_lr(value: float | None) -> float:
    """The learning rate of a slider value (log10) that the schema has already bounded to [-4, 0]."""
    return float(10 ** (value if value is not None else lr_to_slider(DEFAULT_LR)))


def units_label(layers: int, units: int, cell: str) -> str:
    """``"3 layers × 16 units · LSTM"``."""
    return f"{layers} layer{'s' if layers > 1 else ''} × {units} units · {CELL_LABELS[cell]}"


class Outcome(tuple):
    """``(state, notice, animate)`` of one action.

    ``halt``: play must stop (demo mode, a diverged epoch); ``rebuilt``: the session's
    network (data, cell type, layers or units) changed, so the page redraws it and closes the cell view.
    """

    halt: bool
    rebuilt: bool

    def __new__(
        cls, state: TrainerState, message: str, animate: bool, halt: bool = False, rebuilt: bool = False
    ) -> Outcome:
        outcome = super().__new__(cls, (state, message, animate))
        outcome.halt, outcome.rebuilt = halt, rebuilt
        return outcome


def _network(state: TrainerState | None) -> tuple | None:
    return None if state is None else tuple(getattr(state.settings, f) for f in trainer.ARCHITECTURE_FIELDS)


def _train(state: TrainerState, epochs: int, budget_s: float | None = None) -> tuple[TrainerState, str]:
    """Train up to ``epochs`` epochs (stopping after ``budget_s``); ``(state, message)``.

    A diverged epoch is not kept: training stops there with the previous weights and a message.
    """
    started = time.perf_counter()
    for done in range(epochs):
        if done and budget_s is not None and time.perf_counter() - started > budget_s:
            break
        try:
            state = trainer.train_epoch(state)
        except trainer.TrainingDiverged as error:
            return state, str(error)
    return state, ""


def _change(trigger: Any, state: TrainerState, network: dict[str, Any]) -> tuple[TrainerState, str]:
    """Apply a structural control (reset, layers, units, data, cell type); ``(state, notice)``."""
    layers = state.settings.layers
    if trigger == "reset-button":
        return trainer.carry_steps(trainer.new_state(state.sid, state.settings), state), "Training was reset."
    state, _ = trainer.update_settings(state, **network)
    kind = trigger.get("type") if isinstance(trigger, dict) else trigger
    if kind in ("add-layer", INSERT):
        if layers >= MAX_LAYERS:
            return state, f"At most {MAX_LAYERS} layers."
        state, _ = trainer.update_settings(state, layers=layers + 1)
    elif kind == REMOVE:
        state, _ = trainer.update_settings(state, layers=layers - 1)
    return state, ""


def window_data(state: TrainerState) -> dict[str, Any]:
    """The network data beside the cell: the window, its next target and the ground truth."""
    test = state.test
    if state.is_text:
        return {
            "kind": "text",
            "inputs": list(test["input_text"]),
            "target": test["target_text"][0],
            "vocab": signals.vocabulary(state.settings.data),
        }
    x = np.asarray(test["x"], dtype=float)
    steps = len(test["inputs"])
    truth = np.concatenate(
        [np.asarray(test.get("clean_inputs", test["inputs"])), np.asarray(test["targets"])]
    )
    return {
        "kind": "function",
        "x": np.round(x[: steps + signals.HORIZON], 4).tolist(),
        "inputs": np.round(np.asarray(test["inputs"], dtype=float), 5).tolist(),
        "target": float(test["targets"][0]),
        # the ground truth through the predicted steps, which the cell view steps through too
        "truth_x": np.round(x[: steps + signals.HORIZON], 4).tolist(),
        "truth": np.round(truth[: steps + signals.HORIZON], 5).tolist(),
    }


def predicted_character(state: TrainerState, prediction: Any) -> str:
    """The character a text model's output distribution picks."""
    vocab = signals.vocabulary(state.settings.data)
    return vocab[int(np.argmax(prediction))]


class TrainerService:
    """The trainer's actions on the sessions of one session store (injected)."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    # ---------------------------------------------------------------- tabs

    def open_tab(self, tab: str | None) -> str:
        """This browser tab's id: ``tab`` when this browser's session knows it, else a fresh one.

        Raises ``identity.SessionError`` / ``SessionUnavailable`` (the caller shows the message).
        """
        if tab and self.store.get(identity.tab_key(tab)) is not None:
            return tab
        tab = secrets.token_hex(16)
        self.store.put(identity.tab_key(tab), {"issued": time.time()})  # known to this browser from now on
        return tab

    @staticmethod
    def tab_key(tab: str) -> str:
        """The store key of this browser's tab ``tab`` (``identity.SessionError`` without a session)."""
        return identity.tab_key(tab)

    def key_of(self, tab: str) -> str | None:
        """The store key of a known tab of this browser, or None when it expired or is foreign."""
        key = identity.tab_key(tab)
        return key if self.store.get(key) is not None else None

    # ---------------------------------------------------------------- one user action

    def handle(
        self,
        trigger: Any,
        key: str,
        data: str,
        cell: str,
        lr_log: float | None,
        batch: int | None,
        noise: float | None,
        fast: bool = False,
        *,
        units: int | None = None,
        clicks: int | None = None,
        view: str | None = None,
        layers: int | None = None,
    ) -> Outcome:
        """Apply one user action to the session ``key`` (values already validated); an :class:`Outcome`.

        ``trigger`` is the id of what changed: a control id, ``"trainer-session"``
        (page load), ``"trainer-request"`` (a play tick), ``"step-button"``, or a
        pattern id dict for an inserted/removed layer. ``units`` None keeps the
        session's width. ``clicks`` is the Step button's ``n_clicks`` in page view
        ``view``: the clicks not trained yet are trained first (when the trigger is
        a control, they were made before it); without ``clicks`` a Step trigger
        counts as one click. ``layers`` is the layer count the page asks for with the trigger
        ``"trainer-layers-sent"`` (absolute, so a late or repeated request never adds a layer twice).
        """
        view = view or "-"
        knobs = {
            "learning_rate": slider_lr(lr_log),
            "batch_size": int(batch or 25),
            "noise": float(noise or 0.0),
        }
        network: dict[str, Any] = {"data": data, "cell": cell}
        if units is not None:
            network["units"] = int(units)
        if trigger == LAYERS and layers is not None:
            network["layers"] = min(max(int(layers), MIN_LAYERS), MAX_LAYERS)
        messages: list[str] = []
        halt = animate = False
        with trainer.session_lock(self.store, key):
            state = trainer.load_session(self.store, key)
            before = _network(state)
            if state is None:
                state = trainer.new_state(key, Settings(**network, **knobs))
            state, _ = trainer.update_settings(state, **knobs)
            change = trigger in CHANGES or isinstance(trigger, dict)
            if not change:  # network changes whose own request has not been applied yet come first
                state, _ = trainer.update_settings(state, **network)
                messages.append(state.notice)
            done = trainer.applied_steps(state, view)
            total = done + 1 if clicks is None and trigger == "step-button" else (clicks or 0)
            if total > done:
                if cache.read_only():
                    messages.append(DEMO_NOTICE)
                else:
                    state, message = _train(state, min(total - done, MAX_CATCH_UP))
                    messages.append(message)
                state = trainer.record_steps(state, view, total)
            if change:
                state, message = _change(trigger, state, network)
                messages += [message, state.notice]
            if trigger == "trainer-request":
                if cache.read_only():
                    messages.append(DEMO_NOTICE)
                    halt = True
                else:
                    epochs, budget = (FAST_MAX_EPOCHS, FAST_BUDGET_S) if fast else (1, None)
                    state, message = _train(state, epochs, budget)
                    messages.append(message)
                    halt, animate = bool(message), not fast and not message
            halt = halt or trainer.DIVERGED in messages
            state = replace(state, notice="")
            trainer.save_session(self.store, state)
        text = " ".join(dict.fromkeys(m for m in messages if m))
        return Outcome(state, text, animate, halt, rebuilt=before is not None and _network(state) != before)

    def load_example(self, key: str, name: str) -> TrainerState:
        """Put a pretrained example into session ``key``; its ``notice`` says what was loaded."""
        return trainer.load_example(self.store, key, name)

    # ---------------------------------------------------------------- the cell view

    def layer_trace(self, key: str) -> tuple[dict[str, Any], TrainerState] | None:
        """The session's model traced on its current test window (memoised per session and epoch)."""
        state = trainer.load_session(self.store, key)
        if state is None or not state.weights:
            return None

        def compute() -> dict[str, Any]:
            model = trainer.build_model(state)
            if state.is_text:
                vocab = signals.vocabulary(state.settings.data)
                target = np.eye(len(vocab))[vocab.index(state.test["target_text"][0])]
                return celltrace.trace_model(model, state.test_inputs, target, loss="crossentropy")
            return celltrace.trace_model(model, state.test_inputs, np.array([state.test["targets"][0]]))

        memo = cache.make_key(  # a "session…" kind: kept in the sessions cache, never among the results
            "session-celltrace",
            key=key,
            epoch=state.epoch,
            settings=repr(state.settings),
            window=repr(state.test_inputs.tobytes()[:64]),
        )
        trace, _ = cache.memoize(memo, compute, lock_seconds=120)
        return trace, state


def frames(steps: int) -> list[dict[str, Any]]:
    """The cell view's animation frames for a window of ``steps`` time steps."""
    return celltrace.frames(steps)
