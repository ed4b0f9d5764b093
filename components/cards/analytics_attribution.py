"""Attributions (saliency) of the selected sequence and counterfactual edits in the what-if box.

``saliency-mode`` chooses what colours the selected sequence's words: its EP (the
default), each word's EP change, or its integrated-gradients attribution; the
two scores are compared word by word in a bar chart and under each word.
Attributions are computed here (TensorFlow, in this process as the BYO what-if
does; cached on disk) and handed to the sequence card through ``saliency-store``.
``counterfactual-button`` looks for a few deletions or substitutions that flip
the prediction and puts the edited text into the what-if box, which draws its
trajectory. It edits the text typed into the box when there is one (else the
selected sequence), and never loses it: the text it replaced comes back with
``counterfactual-undo`` while the box still holds the edit.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html, no_update

from components import analytics_overview as overview
from components import analytics_sequence as sequence
from components.cards.analytics_common import refuse
from components.cards.selection_view import Common, SelectionView
from components.ids import analytics as ids
from services import attribution as attribution_service
from services.validation import validated

HIDDEN = {"display": "none"}
CONTEXT = 10  # words shown on each side of an edit
MODE_OPTIONS = [
    {"label": "EP", "value": "ep"},
    {"label": "EP change", "value": "epchange"},
    {"label": "Attribution (IG)", "value": "attribution"},
]
GUIDE_OPTIONS = [
    {"label": "EP change", "value": "epchange"},
    {"label": "attributions", "value": "attribution"},
]


def saliency_controls() -> html.Div:
    """The control above the sequence text choosing what colours the words (``saliency-mode``)."""
    return html.Div(
        [
            html.Div(
                [
                    html.Span("Colour words by", className="small text-muted me-2"),
                    dbc.RadioItems(
                        id=ids.SALIENCY_MODE,
                        options=MODE_OPTIONS,
                        value="ep",
                        inline=True,
                        className="small",
                        inputClassName="me-1",
                    ),
                    html.Span(
                        id=ids.SALIENCY_BUSY,
                        className="spinner-border spinner-border-sm text-secondary ms-1",
                        title="computing attributions…",
                        style=HIDDEN,
                    ),
                ],
                className="d-flex flex-wrap align-items-center",
            ),
            html.Div(id=ids.SALIENCY_NOTE, className="small text-muted"),
            html.Div(
                dcc.Graph(
                    id=ids.SALIENCY_GRAPH,
                    figure=overview.empty_figure("", 150),
                    config={"displayModeBar": False},
                    style={"height": 150},
                ),
                id=ids.SALIENCY_GRAPH_WRAP,
                style=HIDDEN,
            ),
            dcc.Store(id=ids.SALIENCY_STORE),
        ],
        id=ids.SALIENCY_SLOT,
        className="mb-1",
    )


def counterfactual_controls() -> html.Div:
    """The what-if box's counterfactual button and its result (``counterfactual-button``)."""
    return html.Div(
        [
            html.Hr(className="my-2"),
            html.Div(
                [
                    dbc.Button(
                        "Find a counterfactual",
                        id=ids.COUNTERFACTUAL_BUTTON,
                        size="sm",
                        color="primary",
                        outline=True,
                        title="A few word deletions or substitutions that flip the selected sequence's prediction",
                    ),
                    html.Span("guided by", className="small text-muted"),
                    dbc.RadioItems(
                        id=ids.COUNTERFACTUAL_GUIDE,
                        options=GUIDE_OPTIONS,
                        value="epchange",
                        inline=True,
                        className="small",
                        inputClassName="me-1",
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-arrow-counterclockwise me-1"), "Undo"],
                        id=ids.COUNTERFACTUAL_UNDO,
                        size="sm",
                        color="secondary",
                        outline=True,
                        className="ms-auto",
                        title="Put back the text the counterfactual replaced in the box",
                        style=HIDDEN,  # shown while the box holds the edit (assets/counterfactual.js)
                    ),
                ],
                className="d-flex flex-wrap align-items-center gap-2",
            ),
            html.Div(
                "Edits the text in the box above, or the selected sequence when the box is empty.",
                className="small text-muted mt-1",
            ),
            dcc.Store(id=ids.COUNTERFACTUAL_UNDO_STORE),
            dcc.Loading(
                html.Div(id=ids.COUNTERFACTUAL_RESULT, className="small mt-2"), type="dot", delay_show=200
            ),
        ],
        id=ids.COUNTERFACTUAL_SLOT,
    )


def _note(text: str, color: str = "info") -> dbc.Alert:
    return dbc.Alert(text, color=color, className="py-1 px-2 mb-1 small")


# ---------------------------------------------------------------- attributions


@callback(
    output={
        "store": Output(ids.SALIENCY_STORE, "data"),
        "figure": Output(ids.SALIENCY_GRAPH, "figure"),
        "shown": Output(ids.SALIENCY_GRAPH_WRAP, "style"),
        "note": Output(ids.SALIENCY_NOTE, "children"),
    },
    inputs={
        "mode": Input(ids.SALIENCY_MODE, "value"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
    },
    running=[(Output(ids.SALIENCY_BUSY, "style"), {"display": "inline-block"}, HIDDEN)],
    prevent_initial_call=True,
)
@validated(attribution_service.SALIENCY, refuse)
def compute_saliency(mode, selection, dataset):
    """EP change (and in attribution mode, integrated gradients) of the selected sequence."""
    if mode == "ep":
        return {"store": no_update, "figure": no_update, "shown": HIDDEN, "note": None}
    try:
        found = attribution_service.saliency(dataset, selection, mode)
    except attribution_service.Unavailable as error:
        hint = "info" if "Select" in str(error) else "warning"
        return {"store": None, "figure": no_update, "shown": HIDDEN, "note": _note(str(error), hint)}
    from services import analysis as analysis_service

    analysis, _dmax, _xy = analysis_service.load(dataset, None)
    names = list(analysis.class_names)
    figure = sequence.saliency_figure(found.words, found.ep_change, found.attribution, found.target, names)
    store = (
        {
            "dataset": dataset,
            "seq": found.seq,
            "target": found.target,
            "scores": np.round(found.attribution, 6).tolist(),
        }
        if found.attribution is not None
        else no_update
    )
    return {"store": store, "figure": figure, "shown": {}, "note": _legend(found, names, mode)}


SALIENCY_OUTPUTS = {
    "store": Output(ids.SALIENCY_STORE, "data", allow_duplicate=True),
    "figure": Output(ids.SALIENCY_GRAPH, "figure", allow_duplicate=True),
    "shown": Output(ids.SALIENCY_GRAPH_WRAP, "style", allow_duplicate=True),
    "note": Output(ids.SALIENCY_NOTE, "children", allow_duplicate=True),
}


def draw_saliency(common: Common, mode) -> dict:
    """A new selection's word scores (EP change, attributions) when they are shown, in the hub's request;
    the scores go on to the sequence view (``made["saliency"]``), which colours the words with them."""
    if mode == "ep":
        return dict.fromkeys(SALIENCY_OUTPUTS, no_update)
    drawn = compute_saliency(mode, common.selection, common.dataset)
    if not isinstance(drawn, dict):
        return dict.fromkeys(SALIENCY_OUTPUTS, no_update)
    if isinstance(drawn["store"], dict):
        common.made["saliency"] = drawn["store"]
    return drawn


SALIENCY_VIEW = SelectionView(
    "saliency", SALIENCY_OUTPUTS, {"mode": State(ids.SALIENCY_MODE, "value")}, draw_saliency
)


def _legend(found: attribution_service.Saliency, names: list[str], mode: str) -> html.Span:
    """What the colours mean, and how far the two scores agree."""
    shown, other = ("attribution", "EP change") if mode == "attribution" else ("EP change", "attribution")
    parts = [f"Toward {names[found.target]} (predicted): background = {shown}"]
    if found.attribution is not None:
        parts.append(f"bar under each word = {other}")
        if found.agreement is not None:
            parts.append(f"rank agreement {found.agreement:+.2f}")
        if found.method == "integrated gradients":
            parts.append(f"IG completeness gap {found.gap:+.1e}")
        else:  # a model without gradients here (ONNX): say which method the attribution is
            parts.append(f"attribution by {found.method} (leave one word out; no gradients for this model)")
    elif mode == "epchange":
        parts.append("choose Attribution to compare")
    return html.Span(" · ".join(parts) + ".", id=ids.SALIENCY_LEGEND)


# ---------------------------------------------------------------- counterfactuals


@callback(
    output={
        "text": Output(ids.ANALYTICS_WHATIF_TEXT, "value", allow_duplicate=True),
        "result": Output(ids.COUNTERFACTUAL_RESULT, "children"),
        "undo": Output(ids.COUNTERFACTUAL_UNDO_STORE, "data"),
    },
    inputs={
        "clicks": Input(ids.COUNTERFACTUAL_BUTTON, "n_clicks"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
        "guide": State(ids.COUNTERFACTUAL_GUIDE, "value"),
        "typed": State(ids.ANALYTICS_WHATIF_TEXT, "value"),
        "undo": State(ids.COUNTERFACTUAL_UNDO_STORE, "data"),
    },
    running=[(Output(ids.COUNTERFACTUAL_BUTTON, "disabled"), True, False)],
    prevent_initial_call=True,
)
@validated(attribution_service.COUNTERFACTUAL, refuse)
def find_counterfactual(clicks, selection, dataset, guide, typed=None, undo=None):
    """A few edits that flip the prediction of the text in the what-if box (or of the selected
    sequence, when the box is empty or still holds this button's last edit), into the box.

    The text it replaces is kept (``counterfactual-undo-store``) for the Undo button."""
    box = typed or ""
    ours = bool(undo) and box == undo["edited"]  # the box holds the last edit, untouched
    has_selection = (
        bool(selection) and selection.get("dataset") == dataset and selection.get("seq") is not None
    )
    try:
        if box.strip() and not (ours and has_selection):
            found, used, note = attribution_service.counterfactual_of_text(dataset, box, guide)
            source = "the text in the box"
        else:
            found, used, note = attribution_service.counterfactual(dataset, selection, guide)
            source = f"sequence #{selection['seq']}"
    except attribution_service.Unavailable as error:
        return {"text": no_update, "result": _note(str(error), "warning"), "undo": no_update}
    from services import analysis as analysis_service

    analysis, _dmax, _xy = analysis_service.load(dataset, None)
    result = counterfactual_view(found, list(analysis.class_names), used, note, source)
    kept = {"previous": box, "edited": found.text} if box.strip() and box != found.text else None
    return {"text": found.text, "result": result, "undo": kept}


@callback(
    output={
        "text": Output(ids.ANALYTICS_WHATIF_TEXT, "value", allow_duplicate=True),
        "undo": Output(ids.COUNTERFACTUAL_UNDO_STORE, "data", allow_duplicate=True),
        "result": Output(ids.COUNTERFACTUAL_RESULT, "children", allow_duplicate=True),
    },
    inputs={
        "clicks": Input(ids.COUNTERFACTUAL_UNDO, "n_clicks"),
        "typed": State(ids.ANALYTICS_WHATIF_TEXT, "value"),
        "undo": State(ids.COUNTERFACTUAL_UNDO_STORE, "data"),
    },
    prevent_initial_call=True,
)
@validated(attribution_service.UNDO_COUNTERFACTUAL, refuse)
def undo_counterfactual(clicks, typed, undo):
    """Put back the text the last counterfactual replaced (only while the box still holds that edit)."""
    if not clicks or not undo or (typed or "") != undo["edited"]:
        return {"text": no_update, "undo": no_update, "result": no_update}
    restored = _note("Your text is back in the box.", "secondary")
    return {"text": undo["previous"], "undo": None, "result": restored}


# The Undo button shows while the box still holds the counterfactual's edit (assets/counterfactual.js).
clientside_callback(
    ClientsideFunction("rnnx", "counterfactualUndoStyle"),
    Output(ids.COUNTERFACTUAL_UNDO, "style"),
    Input(ids.ANALYTICS_WHATIF_TEXT, "value"),
    Input(ids.COUNTERFACTUAL_UNDO_STORE, "data"),
)


def counterfactual_view(
    found, names: list[str], guide: str, note: str | None = None, source: str | None = None
) -> html.Div:
    """The edit as marked-up text (deleted words struck out, substitutes underlined) and its effect.

    Only the words near an edit are shown; the rest stand as "…" (the whole text is in the box).
    """
    before, after = found.original_class, found.new_class
    edits = {e.position: e for e in found.edits}
    near = {i for p in edits for i in range(p - CONTEXT, p + CONTEXT + 1)} or set(range(len(found.words)))
    marked: list = []
    for i, word in enumerate(found.words):
        edit = edits.get(i)
        if i not in near:
            if i - 1 in near or (i == 0 and edits):
                marked.append(html.Span("…", className="text-muted"))
                marked.append(" ")
            continue
        if edit is None:
            marked.append(word)
        elif edit.new is None:
            marked.append(html.Del(word, className="rnnx-cf-del text-danger"))
        else:
            marked.extend(
                [html.Del(word, className="text-danger"), " ", html.Ins(edit.new, className="rnnx-cf-sub")]
            )
        marked.append(" ")
    n = len(found.edits)
    summary = (
        f"{n} edit{'s flip' if n != 1 else ' flips'} {names[before]} ({found.before[before]:.0%}) "
        f"to {names[after]} ({found.after[after]:.0%})"
        if found.flipped
        else f"No flip within {n} edits: {names[before]} went from {found.before[before]:.0%} "
        f"to {found.after[before]:.0%}"
    )
    guide_label = "EP change" if guide == "epchange" else "attributions"
    return html.Div(
        [
            html.Div(
                [
                    dbc.Badge(
                        "flipped" if found.flipped else "not flipped",
                        color="success" if found.flipped else "secondary",
                        className="me-2",
                    ),
                    html.Span(summary, id=ids.COUNTERFACTUAL_SUMMARY),
                    html.Span(
                        (f" · edited {source}" if source else "")
                        + f" · guided by {guide_label} · {found.tried} candidates scored",
                        className="text-muted",
                    ),
                ]
            ),
            _note(note, "secondary") if note else None,
            html.Div(
                marked,
                id=ids.COUNTERFACTUAL_DIFF,
                className="rnnx-text mt-1",
                style={"maxHeight": "140px"},
            ),
            html.Div(
                "The edited words are in the box above; their path is drawn on the projection.",
                className="text-muted mt-1",
            ),
        ]
    )
