"""What one action on the trainer page does to a tab's session (the page's callbacks call :func:`handle`).

Values arrive here already validated (``services.schemas.TRAINER_UPDATE``). Step
clicks are counted, not just signalled: the session remembers how many Step
clicks of each page view it has trained, and every request trains the ones not
trained yet (at most :data:`MAX_CATCH_UP`), so a click whose own request the
Dash renderer superseded, or one made before the tab had its id, is trained by
the next request of that view, and never twice. In demo mode nothing trains.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from components import trainer_layout
from model import cache, trainer
from serving import sessions

FAST_BUDGET_S = 0.35  # fast mode: train epochs for about this long per request
FAST_MAX_EPOCHS = 8
MAX_CATCH_UP = 10  # most Step clicks one request trains (the rest of a larger backlog is dropped)
CHANGES = ("trainer-input-select", "cell-type", "add-layer", "reset-button")
DEMO_NOTICE = (
    "This is a read-only demo: load a pretrained example from the list to see a trained model "
    "(training is switched off here)."
)


def slider_lr(value: float | None) -> float:
    """The learning rate of a slider value (log10) that the schema has already bounded to [-4, 0]."""
    return float(10 ** (value if value is not None else trainer_layout.lr_to_slider(0.025)))


# ---------------------------------------------------------------- one user action


class Outcome(tuple):
    """``(state, notice, animate)`` of one action.

    ``halt``: play must stop (demo mode, a diverged epoch); ``rebuilt``: the session's
    network (data, cell type or layers) changed, so the page redraws it and closes the cell view.
    """

    halt: bool
    rebuilt: bool

    def __new__(
        cls,
        state: trainer.TrainerState,
        message: str,
        animate: bool,
        halt: bool = False,
        rebuilt: bool = False,
    ) -> Outcome:
        outcome = super().__new__(cls, (state, message, animate))
        outcome.halt, outcome.rebuilt = halt, rebuilt
        return outcome


def _network(state: trainer.TrainerState | None) -> tuple | None:
    return None if state is None else tuple(getattr(state.settings, f) for f in trainer.ARCHITECTURE_FIELDS)


def _train(state: trainer.TrainerState, epochs: int, budget_s: float | None = None):
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


def _change(
    trigger: Any, state: trainer.TrainerState, data: str, cell: str
) -> tuple[trainer.TrainerState, str]:
    """Apply a structural control (reset, layers, data, cell type); ``(state, notice)``."""
    layers = state.settings.layers
    if trigger == "reset-button":
        return trainer.carry_steps(trainer.new_state(state.sid, state.settings), state), "Training was reset."
    state, _ = trainer.update_settings(state, data=data, cell=cell)
    if trigger == "add-layer" or (isinstance(trigger, dict) and trigger["type"] == "trainer-insert-layer"):
        if layers >= trainer.MAX_LAYERS:
            return state, f"At most {trainer.MAX_LAYERS} layers."
        state, _ = trainer.update_settings(state, layers=layers + 1)
    elif isinstance(trigger, dict) and trigger["type"] == "trainer-remove-layer":
        state, _ = trainer.update_settings(state, layers=layers - 1)
    return state, ""


def handle(
    trigger: Any,
    key: str,
    data: str,
    cell: str,
    lr_log: float | None,
    batch: int | None,
    noise: float | None,
    fast: bool = False,
    *,
    clicks: int | None = None,
    view: str | None = None,
    store: sessions.SessionStore | None = None,
) -> Outcome:
    """Apply one user action to the session ``key`` (values already validated); an :class:`Outcome`.

    ``trigger`` is the id of what changed: a control id, ``"trainer-session"``
    (page load), ``"trainer-request"`` (a play tick), ``"step-button"``, or a
    pattern id dict for an inserted/removed layer. ``clicks`` is the Step
    button's ``n_clicks`` in page view ``view``: the clicks not trained yet are
    trained first (when the trigger is a control, they were made before it);
    without ``clicks`` a Step trigger counts as one click.
    """
    store = store if store is not None else sessions.session_store()
    view = view or "-"
    knobs = {"learning_rate": slider_lr(lr_log), "batch_size": int(batch or 25), "noise": float(noise or 0.0)}
    messages: list[str] = []
    halt = animate = False
    with trainer.session_lock(store, key):
        state = trainer.load_session(store, key)
        before = _network(state)
        if state is None:
            state = trainer.new_state(key, trainer.Settings(data=data, cell=cell, **knobs))
        state, _ = trainer.update_settings(state, **knobs)
        change = trigger in CHANGES or isinstance(trigger, dict)
        if not change:  # data/cell changes whose own request has not been applied yet come first
            state, _ = trainer.update_settings(state, data=data, cell=cell)
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
            state, message = _change(trigger, state, data, cell)
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
        trainer.save_session(store, state)
    text = " ".join(dict.fromkeys(m for m in messages if m))
    return Outcome(state, text, animate, halt, rebuilt=before is not None and _network(state) != before)
