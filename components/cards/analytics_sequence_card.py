"""The selected-sequence card: its views of the selection (text, EP heatmap, jumps, the projection's overlay)."""

from __future__ import annotations

import numpy as np
from dash import (
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    html,
    no_update,
)

from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_sequence as sequence
from components import analytics_view as view
from components.analytics_labels import DEFAULT_EP_CHANGE, DEFAULT_JUMP
from components.cards.analytics_common import fade_cloud, refuse, selected
from components.cards.selection_view import Common, SelectionView
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import attribution as attribution_service
from services import schemas
from services.validation import validated

SEQUENCE_STATES = {
    "rules": State(ids.ANALYTICS_LABEL_RULES, "value"),
    "jump": State(ids.DISTANCE_THRESHOLD, "value"),
    "epc": State(ids.ANALYTICS_EP_THRESHOLD, "value"),
    "traj": State(ids.ANALYTICS_TRAJECTORY_COLOR, "value"),
    "jump_auto": State(ids.ANALYTICS_JUMP_AUTO, "value"),
    "saliency_mode": State(ids.SALIENCY_MODE, "value"),
    "saliency": State(ids.SALIENCY_STORE, "data"),
    "fade": State(ids.ANALYTICS_FADE, "value"),
    "final_only": State(ids.ANALYTICS_FINAL_ONLY, "value"),
    "faded": State(ids.ANALYTICS_FADED, "data"),
    "color_mode": State(ids.ANALYTICS_COLOR_MODE, "value"),
}
SEQUENCE_OUTPUTS = {
    "text": Output(ids.SEQUENCE_TEXT, "children", allow_duplicate=True),
    "heatmap": Output(ids.EP_HEATMAP, "figure", allow_duplicate=True),
    "distance": Output(ids.DISTANCE_GRAPH, "figure", allow_duplicate=True),
    "summary": Output(ids.ANALYTICS_SEQUENCE_SUMMARY, "children", allow_duplicate=True),
    "faded": Output(ids.ANALYTICS_FADED, "data", allow_duplicate=True),
    # The jump slider shows where the automatic rule cuts (the line of the jump bars): one number. The
    # value the server put there is kept in ``drawn``; assets/selection.js tells it from a user's move.
    "jump_shown": Output(ids.DISTANCE_THRESHOLD, "value", allow_duplicate=True),
    "drawn": Output(ids.SEQUENCE_DRAWN, "data", allow_duplicate=True),
}


def draw_sequence(common: Common, **controls) -> dict:
    """The selected sequence's views (text, heatmap, jumps, summary, its overlay on the projection);
    word scores the attribution view computed in the same request (``made["saliency"]``) win."""
    if isinstance(common.made.get("saliency"), dict):
        controls = {**controls, "saliency": common.made["saliency"]}
    drawn = show_selection(
        selection=common.selection,
        dataset=common.dataset,
        method=common.method,
        patch=common.patch,
        **controls,
    )
    return (
        {key: value for key, value in drawn.items() if key != "figure"} if isinstance(drawn, dict) else drawn
    )


@validated(schemas.SHOW_SELECTION, refuse)
@validated(attribution_service.SALIENCY_TEXT, refuse)
def show_selection(
    selection,
    rules,
    jump,
    epc,
    traj,
    dataset,
    method,
    fade,
    final_only,
    faded=False,
    color_mode="ep",
    jump_auto=False,
    saliency_mode="ep",
    saliency=None,
    patch=None,
) -> dict:
    """Every view of the selected sequence; the projection gets a Patch of its overlay only (``figure``,
    or added to ``patch``).

    ``saliency_mode`` colours the words by EP (default), EP change or attribution (the scores in
    ``saliency``, the store the attribution card fills, when they are this sequence's)."""
    patch = Patch() if patch is None else patch
    analysis, dmax, xy, _shown = analysis_service.load_shown(dataset, method)
    k = selected(selection, dataset, analysis) if analysis is not None else None
    if k is None or xy is None:
        for i, trace in enumerate(projection.empty_overlay(), start=1):
            patch["data"][i] = trace
        if analysis is not None and xy is not None and faded:
            fade_cloud(patch, analysis, False, fade, bool(final_only), color_mode)
        hint = "Click a row of the table or a point of the projection to select a sequence."
        return {
            "figure": patch,
            "text": None,
            "heatmap": overview.empty_figure("No sequence selected", 140),
            "distance": overview.empty_figure("No sequence selected", 170),
            "summary": hint,
            "faded": False,
            "jump_shown": no_update,
            "drawn": no_update,
        }
    # A threshold sent as null (a slider never does; a crafted post might): its default, and a note.
    notes = []
    if jump is None:
        jump = DEFAULT_JUMP
        notes.append(f"No jump threshold arrived: the default {DEFAULT_JUMP:.2f} is used.")
    if epc is None:
        epc = DEFAULT_EP_CHANGE
        notes.append(f"No EP change threshold arrived: the default {DEFAULT_EP_CHANGE:.2f} is used.")
    sel = view.selection_view(
        analysis, xy, k, rules or [], jump, epc, traj, selection.get("step"), dmax, bool(jump_auto)
    )
    summary = [sel.summary, *(html.Div(note, className="small text-warning") for note in notes)]
    moved = sel.jump_line is not None and sel.jump_line != jump
    for i, trace in enumerate(sel.overlay, start=1):
        patch["data"][i] = trace
    if not faded:
        fade_cloud(patch, analysis, True, fade, bool(final_only), color_mode)
    text = sel.text
    if saliency_mode in ("epchange", "attribution"):
        text = _saliency_text(analysis, dataset, k, sel.labelled, saliency_mode, saliency)
    return {
        "figure": patch,
        "text": text,
        "heatmap": sel.heatmap,
        "distance": sel.distance,
        "summary": summary if notes else sel.summary,
        "faded": True,
        "jump_shown": sel.jump_line if moved else no_update,
        "drawn": {"jump": sel.jump_line if moved else jump, "saliency": _saliency_key(saliency)},
    }


def _saliency_key(saliency: object) -> list | None:
    """Which sequence's scores the words were drawn with (assets/selection.js compares it)."""
    if not isinstance(saliency, dict):
        return None
    return [saliency.get("dataset"), saliency.get("seq"), saliency.get("target")]


SEQUENCE_VIEW = SelectionView("sequence", SEQUENCE_OUTPUTS, SEQUENCE_STATES, draw_sequence)


@callback(
    output={"figure": Output(ids.PROJECTION_GRAPH, "figure", allow_duplicate=True), **SEQUENCE_OUTPUTS},
    inputs={
        "_controls": Input(ids.SEQUENCE_CONTROLS, "data"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
        "method": State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        **SEQUENCE_STATES,
    },
    prevent_initial_call=True,
)
def redraw_sequence(_controls, selection, dataset, method, **controls) -> dict:
    """The sequence's views again after one of its controls moved (labels, thresholds, colouring,
    word scores); a new selection is drawn by the hub (``analytics_selection``) instead."""
    return show_selection(selection=selection, dataset=dataset, method=method, **controls)


# A move of the sequence's controls redraws it, unless it is only the hub's own echo (the jump slider
# set to the automatic cut, the scores it just computed): assets/selection.js. Moving the jump slider
# by hand also takes manual control of the jump rule.
clientside_callback(
    ClientsideFunction("rnnx", "sequenceControls"),
    Output(ids.SEQUENCE_CONTROLS, "data"),
    Output(ids.ANALYTICS_JUMP_AUTO, "value"),
    Input(ids.ANALYTICS_LABEL_RULES, "value"),
    Input(ids.DISTANCE_THRESHOLD, "value"),
    Input(ids.ANALYTICS_EP_THRESHOLD, "value"),
    Input(ids.ANALYTICS_TRAJECTORY_COLOR, "value"),
    Input(ids.ANALYTICS_JUMP_AUTO, "value"),
    Input(ids.SALIENCY_MODE, "value"),
    Input(ids.SALIENCY_STORE, "data"),
    State(ids.SEQUENCE_DRAWN, "data"),
    prevent_initial_call=True,
)


def _saliency_text(analysis, dataset: str, k: int, labelled, mode: str, stored: dict | None) -> list:
    """The words coloured by EP change or attribution, the other score drawn under each word."""
    change, target = attribution_service.ep_change_of(analysis, k)
    words = list(analysis.words[k])
    names = list(analysis.class_names)
    ours = (
        stored
        and stored.get("dataset") == dataset
        and stored.get("seq") == k
        and stored.get("target") == target
        and len(stored.get("scores") or []) == len(words)
    )
    scores = np.asarray(stored["scores"], dtype=float) if ours else None
    if mode == "attribution" and scores is not None:
        return sequence.saliency_text(
            words, scores, target, names, labelled, "attribution", change, "epchange"
        )
    other_kind = "attribution" if scores is not None else None
    return sequence.saliency_text(words, change, target, names, labelled, "epchange", scores, other_kind)
