"""The guided tours (trainer and analytics): their steps, as data for ``assets/tour.js``.

Each step points at an element id (or a CSS selector starting with ``#``, ``.``
or ``[``); ``target: None`` shows a centred card.  Optional fields:

- ``wait``: ``{"epochs": n}`` advances by itself once the epoch counter has
  grown by ``n`` since the step opened (training is running);
- ``click``: a selector clicked when the step opens (e.g. to open a cell);
- ``set``: ``{component_id: {prop: value}}`` applied with ``dash_clientside.set_props``
  when the step opens (e.g. a too-high learning rate to show its effect);
- ``actions``: buttons in the card, each ``{"label": ..., "set": {...}}`` applied on
  click (e.g. load a pretrained example without leaving the tour);
- ``prepare``: what makes the step's subject visible before the step points at it
  (``{"run": ..., "note": ...}``, run by ``PREPARE`` in ``assets/tour.js`` every tick until
  it answers yes; meanwhile the card shows ``note`` and points at nothing). Runs: ``until``
  (a ``selector`` is shown, after one ``click``), ``frame`` (the cell view's step-through at a
  frame) and ``select`` (a sequence selected). Built by :func:`_until`, :func:`_frame`, :func:`_select`.

The steps are written to ``assets/tour_steps.js`` (``python -m components.tour``);
a test keeps that file in step with this module, so the browser needs no
page-specific hook: the tour runs on whichever page it finds its steps for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.ids import analytics as analytics_ids
from components.ids import common as common_ids
from components.ids import trainer as trainer_ids

STEPS_FILE = Path(__file__).resolve().parents[1] / "assets" / "tour_steps.js"
STORAGE_PREFIX = "rnnx-tour-done-"
LAYER_0 = f'[id*="{trainer_ids.TRAINER_LAYER}"][id*="\\"index\\":0"]'


def _s(target: str | None, title: str, body: str, **extra: Any) -> dict[str, Any]:
    return {"target": target, "title": title, "body": body, **extra}


def _until(selector: str, note: str, click: str | None = None) -> dict[str, Any]:
    """Prepare a step: wait until ``selector`` is shown (clicking ``click`` once first if it is not)."""
    return {"run": "until", "selector": selector, "note": note, **({"click": click} if click else {})}


CELL_STEP_IDS = {
    "payload": trainer_ids.CELL_PAYLOAD,
    "position": trainer_ids.CELL_POSITION,
    "phase": trainer_ids.CELL_PHASE,
}


def _frame(
    match: dict[str, Any], note: str, selector: str | None = None, last: bool = False
) -> dict[str, Any]:
    """Prepare a cell step: the step-through at the first (``last``: the last) frame matching ``match``."""
    found = {"run": "frame", "ids": CELL_STEP_IDS, "match": match, "note": note, "last": last}
    return {**found, **({"selector": selector} if selector else {})}


def _select(selector: str, seq: int = 0) -> dict[str, Any]:
    """Prepare an analytics step: a sequence selected (the page's own, or ``seq`` of the shown data set)."""
    return {
        "run": "select",
        "ids": {"store": analytics_ids.ANALYTICS_SELECTION, "dataset": analytics_ids.ANALYTICS_DATASET},
        "value": seq,
        "selector": selector,
        "note": "Selecting a sequence to show…",
    }


NETWORK_READY = _until("#prediction-graph .scatterlayer .trace", "Waiting for the network to be ready…")


TRAINER_TOUR: list[dict[str, Any]] = [
    _s(
        None,
        "Welcome to the trainer",
        "A feed-forward network maps one input to one output and forgets it. A recurrent network reads a "
        "sequence one step at a time and carries a state from step to step, so what it outputs can depend "
        "on everything it has read. Here you train one live and look inside its cells.",
    ),
    _s(
        trainer_ids.TRAINER_INPUT_SELECT,
        "The input",
        "Choose what the network learns to continue: four periodic functions or two texts. It reads a "
        "window of 15 points (or 20 characters) and predicts what follows.",
    ),
    _s(
        trainer_ids.NETWORK_DIAGRAM,
        "The network",
        "Input → a stack of recurrent layers (16 units each; choose 4–64) → output. Each layer has a loop: at every time "
        "step it combines the new input with its own previous output. Use + to add a layer (up to 7).",
    ),
    _s(
        trainer_ids.CELL_TYPE,
        "Cell type",
        "LSTM by default; switch to GRU or SimpleRNN to compare how they learn. Changing it resets training.",
    ),
    _s(
        trainer_ids.PREDICTION_GRAPH,
        "The prediction",
        "Dark points: the input window; grey: the ground truth; blue: the prediction, continued by feeding "
        "each predicted value back in. Red lines show the error.",
    ),
    _s(
        trainer_ids.TRAINER_PROCESS,
        "The process",
        "Each epoch has three phases: forward (predict), error (compare with the target) and backward "
        "(backpropagate through layers and through time, then update the weights).",
    ),
    _s(
        trainer_ids.EPOCH_COUNTER,
        "Epochs",
        "How many epochs have been trained. One epoch: 100 fresh training windows.",
    ),
    _s(
        trainer_ids.PLAY_BUTTON,
        "Train it",
        "Press ▶ Play now and watch the prediction improve. This step continues by itself after two epochs.",
        wait={"epochs": 2},
    ),
    _s(
        trainer_ids.LOSS_GRAPH,
        "The loss",
        "Training and validation loss per epoch, on a log scale. It should fall as the network learns. "
        "Keep training: the tour goes on after five more epochs.",
        wait={"epochs": 5},
    ),
    _s(
        trainer_ids.STEP_BUTTON,
        "One epoch at a time",
        "Pause, then step one epoch at a time to follow each change.",
    ),
    _s(trainer_ids.RESET_BUTTON, "Reset", "Start over with fresh random weights."),
    _s(
        trainer_ids.LEARNING_RATE,
        "Learning rate",
        "How far each update moves the weights. We set it very high (1): press Play and watch the loss "
        "jump around. The tour goes on after three epochs.",
        set={trainer_ids.LEARNING_RATE: {"value": 0}},
        wait={"epochs": 3},
    ),
    _s(
        trainer_ids.LEARNING_RATE,
        "A better learning rate",
        "Back to 0.025, a good value for this task. Too low (1e-4) and learning barely moves.",
        set={trainer_ids.LEARNING_RATE: {"value": -1.60206}},
    ),
    _s(
        trainer_ids.TRAINER_EXAMPLE,
        "Pretrained examples",
        "Some effects take many epochs to show. This list loads sine models trained for 25 epochs with one "
        "setting changed: a learning rate too low or too high, small or large batches, noisy inputs. Load "
        "one to see its loss curve and prediction at once, then keep training it. Try the two extremes:",
        actions=[
            {"label": "Rate too low", "set": {trainer_ids.TRAINER_EXAMPLE: {"value": "lr-low"}}},
            {"label": "Rate too high", "set": {trainer_ids.TRAINER_EXAMPLE: {"value": "lr-high"}}},
        ],
    ),
    _s(
        trainer_ids.BATCH_SIZE,
        "Batch size",
        "How many windows are averaged for one update: small batches give many noisy steps, large ones "
        "few smooth steps. Compare two sine models trained for 25 epochs:",
        actions=[
            {"label": "Batches of 5", "set": {trainer_ids.TRAINER_EXAMPLE: {"value": "batch-5"}}},
            {"label": "Batches of 50", "set": {trainer_ids.TRAINER_EXAMPLE: {"value": "batch-50"}}},
        ],
    ),
    _s(
        trainer_ids.NOISE,
        "Noise",
        "Adds random noise to the inputs (never to the targets), as in real measurements. See what 25 "
        "epochs of noisy inputs give:",
        actions=[
            {"label": "Noise ± 0.2", "set": {trainer_ids.TRAINER_EXAMPLE: {"value": "noise-02"}}},
            {"label": "Noise ± 0.4", "set": {trainer_ids.TRAINER_EXAMPLE: {"value": "noise-04"}}},
        ],
    ),
    _s(
        LAYER_0,
        "Into a cell",
        "Click a layer to look inside it. Press Next and we open the first one for you.",
        placement="right",
        prepare=NETWORK_READY,
    ),
    _s(
        trainer_ids.CELL_DIAGRAM,
        "The LSTM cell",
        "The real cell of the layer you clicked. Round icons are gates and operations, the square is the "
        "cell state, the memory. Each strip shows its 16 values for the current time step: hover for the "
        "numbers, click a part for its equation.",
        placement="bottom",
        prepare=_until(f"#{trainer_ids.CELL_DIAGRAM} .main-svg", "Opening the first layer…", click=LAYER_0),
    ),
    _s(
        trainer_ids.CELL_STEP_BUTTON,
        "Step through a time step",
        "Four sub-steps per time step: receive the input, compute the gates, update the memory, output.",
    ),
    _s(
        trainer_ids.CELL_SUB_1,
        "The gates",
        "Forget, input and output gates are numbers between 0 and 1 per unit, computed from the input "
        "and the previous output: in their strips dark cells are open gates, light ones closed.",
        prepare=_frame({"phase": "forward", "t": 0, "sub": 1}, "Computing the gates…"),
    ),
    _s(
        trainer_ids.CELL_SUB_2,
        "The memory",
        "The cell state c keeps what the forget gate lets through and adds what the input gate admits: "
        "c = f ∘ c₋₁ + i ∘ c̃. This is what lets an LSTM remember across many steps.",
        prepare=_frame({"phase": "forward", "t": 1, "sub": 2}, "Updating the memory…"),
    ),
    _s(
        trainer_ids.CELL_PHASE,
        "Jump to a phase",
        "Skip to the error or to the backward pass, where the error flows back through time.",
    ),
    _s(
        trainer_ids.CELL_GRAD_GRAPH,
        "Vanishing gradients",
        "We jumped to the end of the backward phase: the bars show how strongly the error reaches each "
        "earlier time step (log scale). Compare an LSTM with a SimpleRNN layer: the SimpleRNN's bars "
        "shrink fast.",
        prepare=_frame(
            {"phase": "backward"},
            "Sending the error back through time…",
            selector=f"#{trainer_ids.CELL_GRAD_GRAPH} .bars .point",
            last=True,
        ),
    ),
    _s(trainer_ids.CELL_SPEED, "Speed", "Play the steps from 0.5× to 8×."),
    _s(
        common_ids.TOUR_START,
        "That's it",
        "Explore on your own; every (i) explains its part. Restart this tour here at any time.",
        click=f"#{trainer_ids.CELL_BACK}",
    ),
]

ANALYTICS_TOUR: list[dict[str, Any]] = [
    _s(
        None,
        "Hidden-state analytics",
        "A trained text classifier reads each review word by word. Every hidden state it passes through "
        "is one point here, so you can see how its opinion forms while it reads.",
    ),
    _s(analytics_ids.ANALYTICS_DATASET, "Data set", "Choose the classifier and its data set."),
    _s(
        analytics_ids.ANALYTICS_PROJECTION_METHOD,
        "Projection",
        "All hidden states projected to 2-D (PCA, UMAP or t-SNE); nearby points are similar states.",
    ),
    _s(
        analytics_ids.PROJECTION_GRAPH,
        "The projection",
        "Each point is a hidden state, coloured by the prediction the network would make at that step. "
        "Click a point to follow its sequence as a trajectory.",
    ),
    _s(
        analytics_ids.ANALYTICS_COLOR_MODE,
        "Colouring",
        "Colour the states by “EP”, the expected prediction at that step, or by their “actual class”. "
        "The selected sequence's trajectory has its own switch beside it: “trajectory: EP” or by “time”.",
    ),
    _s(
        analytics_ids.SEQUENCE_TEXT,
        "The sequence",
        "The selected text, each word coloured by the prediction after reading it: see which words "
        "change the network's mind. Click a row of the table or a point of the projection to select another.",
        prepare=_select(f"#{analytics_ids.SEQUENCE_TEXT} .rnnx-word"),
    ),
    _s(
        analytics_ids.EP_HEATMAP,
        "Prediction over time",
        "The expected prediction after every word, as a heatmap.",
        prepare=_select(f"#{analytics_ids.EP_HEATMAP} .heatmaplayer"),
    ),
    _s(
        analytics_ids.DISTANCE_GRAPH,
        "Jumps",
        "How far the hidden state moves at each word: big jumps are important words.",
        prepare=_select(f"#{analytics_ids.DISTANCE_GRAPH} .bars .point"),
    ),
]

TOURS: dict[str, dict[str, Any]] = {
    "trainer": {"path": "/trainer", "steps": TRAINER_TOUR},
    "analytics": {"path": "/analytics", "steps": ANALYTICS_TOUR},
}


def steps_script() -> str:
    """The content of ``assets/tour_steps.js``."""
    body = json.dumps({"storagePrefix": STORAGE_PREFIX, "tours": TOURS}, indent=1, ensure_ascii=False)
    return f"/* Generated by `python -m components.tour` from components/tour.py; do not edit. */\nwindow.rnnxTourSteps = {body};\n"


def write_steps(path: Path = STEPS_FILE) -> Path:
    """(Re)write the browser's copy of the tours."""
    path.write_text(steps_script(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_steps())
