"""The selected-sequence card's callbacks: choosing a sequence and drawing every view of it."""

from __future__ import annotations

import contextlib

import numpy as np
from dash import Input, Output, Patch, State, callback, ctx, html, no_update, set_props
from dash.exceptions import MissingCallbackContextException

from components import analytics_density as density_view
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_sequence as sequence
from components import analytics_view as view
from components.analytics_labels import DEFAULT_EP_CHANGE, DEFAULT_JUMP
from components.cards.analytics_common import (
    as_index,
    clicked_row,
    cloud_marker,
    cloud_opacity,
    drawn_count,
    refuse,
    selected,
)
from components.ids import analytics as ids
from model.artifacts import Analysis
from services import analysis as analysis_service
from services import attribution as attribution_service
from services import cloud, schemas
from services.validation import validated


@callback(
    output=Output(ids.ANALYTICS_SELECTION, "data"),
    inputs=dict(
        active_cell=Input(ids.SEQUENCE_TABLE, "active_cell"),
        click=Input(ids.PROJECTION_GRAPH, "clickData"),
        dataset=Input(ids.ANALYTICS_DATASET, "value"),
    ),
    state=dict(
        selection=State(ids.ANALYTICS_SELECTION, "data"),
        method=State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        final_only=State(ids.ANALYTICS_FINAL_ONLY, "value"),
        color_mode=State(ids.ANALYTICS_COLOR_MODE, "value"),
    ),
    prevent_initial_call=True,
)
@validated(schemas.SELECT_SEQUENCE, refuse)
def select_sequence(active_cell, click, dataset, selection, method, final_only, color_mode="ep"):
    """Selection from a table row or a projection point; a new dataset clears it."""
    trigger = ctx.triggered_id
    if trigger == ids.ANALYTICS_DATASET:
        return None if (selection or {}).get("dataset") != dataset else no_update
    if trigger == ids.SEQUENCE_TABLE:
        row = as_index((active_cell or {}).get("row_id")) if isinstance(active_cell, dict) else None
        return no_update if row is None else {"dataset": dataset, "seq": row, "step": None}
    points = click.get("points") if isinstance(click, dict) else None
    if (
        trigger == ids.PROJECTION_GRAPH
        and isinstance(points, list)
        and points
        and isinstance(points[0], dict)
    ):
        point = points[0]
        if point.get("curveNumber") == projection.POINTS_SLOT and selection:
            step = as_index((point.get("customdata") or [None])[0])
            return no_update if step is None else {**selection, "step": step}
        analysis, _dmax, xy, _shown = analysis_service.load_shown(dataset, method)
        if analysis is None:
            return no_update
        row = clicked_row(analysis, point, color_mode, bool(final_only), xy)
        if row is None:
            return no_update
        k, step = view.state_of_point(analysis, row, bool(final_only))
        return {"dataset": dataset, "seq": k, "step": step}
    return no_update


@callback(
    output=dict(
        figure=Output(ids.PROJECTION_GRAPH, "figure", allow_duplicate=True),
        text=Output(ids.SEQUENCE_TEXT, "children"),
        heatmap=Output(ids.EP_HEATMAP, "figure"),
        distance=Output(ids.DISTANCE_GRAPH, "figure"),
        summary=Output(ids.ANALYTICS_SEQUENCE_SUMMARY, "children"),
        table_styles=Output(ids.SEQUENCE_TABLE, "style_data_conditional"),
        faded=Output(ids.ANALYTICS_FADED, "data"),
    ),
    inputs=dict(
        selection=Input(ids.ANALYTICS_SELECTION, "data"),
        rules=Input(ids.ANALYTICS_LABEL_RULES, "value"),
        jump=Input(ids.DISTANCE_THRESHOLD, "value"),
        epc=Input(ids.ANALYTICS_EP_THRESHOLD, "value"),
        traj=Input(ids.ANALYTICS_TRAJECTORY_COLOR, "value"),
        jump_auto=Input(ids.ANALYTICS_JUMP_AUTO, "value"),
        saliency_mode=Input(ids.SALIENCY_MODE, "value"),
        saliency=Input(ids.SALIENCY_STORE, "data"),
    ),
    state=dict(
        dataset=State(ids.ANALYTICS_DATASET, "value"),
        method=State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        fade=State(ids.ANALYTICS_FADE, "value"),
        final_only=State(ids.ANALYTICS_FINAL_ONLY, "value"),
        faded=State(ids.ANALYTICS_FADED, "data"),
        color_mode=State(ids.ANALYTICS_COLOR_MODE, "value"),
    ),
    prevent_initial_call="initial_duplicate",
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
) -> dict:
    """Every view of the selected sequence; the projection gets a Patch of its overlay only.

    ``saliency_mode`` colours the words by EP (default), EP change or attribution (the scores in
    ``saliency``, the store the attribution card fills, when they are this sequence's).
    """
    analysis, dmax, xy, _shown = analysis_service.load_shown(dataset, method)
    patch = Patch()
    k = selected(selection, dataset, analysis) if analysis is not None else None
    lod = analysis is not None and cloud.is_lod(drawn_count(analysis, bool(final_only)))
    if k is None or xy is None:
        for i, trace in enumerate(projection.empty_overlay(), start=1):
            patch["data"][i] = trace
        if analysis is not None and xy is not None and faded and lod:
            _fade_lod(patch, analysis, False)
        elif analysis is not None and xy is not None and faded:
            opacity = cloud_opacity(analysis, fade, False, bool(final_only))
            rows = projection.cloud_rows(cloud_marker(analysis, color_mode, bool(final_only)))
            for slot, members in zip(projection.state_slots(len(rows)), rows, strict=True):
                patch["data"][slot]["marker"]["opacity"] = (
                    opacity if np.isscalar(opacity) else opacity[members]
                )
        hint = "Click a row of the table or a point of the projection to select a sequence."
        blank_h = overview.empty_figure("No sequence selected", 140)
        blank_d = overview.empty_figure("No sequence selected", 170)
        return {
            "figure": patch,
            "text": None,
            "heatmap": blank_h,
            "distance": blank_d,
            "summary": hint,
            "table_styles": overview.table_styles(None),
            "faded": False,
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
    if sel.jump_line is not None and sel.jump_line != jump:
        _show_jump(sel.jump_line)
    for i, trace in enumerate(sel.overlay, start=1):
        patch["data"][i] = trace
    if not faded and lod:
        _fade_lod(patch, analysis, True)
    elif not faded:
        for slot in projection.state_slots(projection.state_trace_count(len(analysis.class_names))):
            patch["data"][slot]["marker"]["opacity"] = projection.SELECTION_FADE
    text = sel.text
    if saliency_mode in ("epchange", "attribution"):
        text = _saliency_text(analysis, dataset, k, sel.labelled, saliency_mode, saliency)
    return {
        "figure": patch,
        "text": text,
        "heatmap": sel.heatmap,
        "distance": sel.distance,
        "summary": summary if notes else sel.summary,
        "table_styles": overview.table_styles(k),
        "faded": True,
    }


def _show_jump(value: float) -> None:
    """The jump slider shows where the automatic rule cuts (the line of the jump bars): one number.

    Sent with ``set_props``, not as an output: moving the slider switches the rule to manual
    (``manual_jump_threshold``, which leaves this value alone), and a declared output would close
    that loop into a dependency cycle."""
    with contextlib.suppress(MissingCallbackContextException):  # outside a request (tests): no page
        set_props(ids.DISTANCE_THRESHOLD, {"value": value})


def _fade_lod(patch: Patch, analysis: Analysis, faded: bool) -> None:
    """Fade (or restore) a cloud above the point budget: the state traces' own opacity and the image's.

    Their marker opacities stay: the traces hold the states of the current view, whose per-point
    opacities (fade by correctness) only the view's patch knows."""
    for slot in projection.state_slots(projection.state_trace_count(len(analysis.class_names))):
        patch["data"][slot]["opacity"] = density_view.TRACE_FADE if faded else 1
    patch["layout"]["images"][0]["opacity"] = density_view.IMAGE_FADE if faded else 1


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
