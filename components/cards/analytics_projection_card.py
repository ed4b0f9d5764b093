"""The hidden-state projection card's callbacks: the full figure, its level of detail while zooming (sets
above the point budget, ``components.analytics_density``) and the table's filters drawn on it."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, Patch, State, callback, no_update

from components import analytics_density as density_view
from components import analytics_neighbors as neighbors_view
from components import analytics_projection as projection
from components import analytics_view as view
from components.cards.analytics_common import (
    METHOD_LABELS,
    cloud_marker,
    cloud_opacity,
    fade_cloud,
    refuse,
    selected,
    whatif_traces,
)
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import cloud, schemas, slices
from services import neighbors as neighbors_service
from services.validation import Flag, InvalidInput, Schema, validated

# The figure also carries the neighbour rings of the selected state (the neighbours card's settings).
PROJECTION_FIGURE = Schema(
    schemas.PROJECTION_FIGURE.name,
    {
        **schemas.PROJECTION_FIGURE.fields,
        "nb_k": neighbors_service.NEIGHBOR_COUNT,
        "nb_other": neighbors_service.OTHER_ONLY,
        "zoom": schemas.PROJECTION_VIEW_STORE,
        "query": schemas.TABLE_QUERY,
    },
)
FILTER_HIGHLIGHT = Schema(
    "highlight_filter",
    {
        "query": schemas.TABLE_QUERY,
        "selection": schemas.SELECTION,
        "faded": Flag("Faded"),
        "fade": schemas.FADE,
        "final_only": schemas.FINAL_ONLY,
        "color_mode": schemas.COLOR_MODE,
    },
)


@callback(
    output=Output(ids.PROJECTION_GRAPH, "figure"),
    inputs=dict(
        dataset=Input(ids.ANALYTICS_DATASET, "value"),
        method=Input(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        _prepared=Input(ids.ANALYTICS_PREPARED, "data"),
        color_mode=Input(ids.ANALYTICS_COLOR_MODE, "value"),
        fade=Input(ids.ANALYTICS_FADE, "value"),
        final_only=Input(ids.ANALYTICS_FINAL_ONLY, "value"),
    ),
    state=dict(
        selection=State(ids.ANALYTICS_SELECTION, "data"),
        rules=State(ids.ANALYTICS_LABEL_RULES, "value"),
        jump=State(ids.DISTANCE_THRESHOLD, "value"),
        epc=State(ids.ANALYTICS_EP_THRESHOLD, "value"),
        traj=State(ids.ANALYTICS_TRAJECTORY_COLOR, "value"),
        typed=State(ids.ANALYTICS_WHATIF_TEXT, "value"),
        pinned=State(ids.ANALYTICS_WHATIF_PIN_STORE, "data"),
        jump_auto=State(ids.ANALYTICS_JUMP_AUTO, "value"),
        nb_k=State(ids.NEIGHBORS_K, "value"),
        nb_other=State(ids.NEIGHBORS_OTHER, "value"),
        zoom=State(ids.PROJECTION_VIEW, "data"),
        query=State(ids.ANALYTICS_TABLE_QUERY, "data"),
    ),
)
@validated(PROJECTION_FIGURE, refuse)
def draw_projection(
    dataset,
    method,
    _prepared,
    color_mode,
    fade,
    final_only,
    selection,
    rules,
    jump,
    epc,
    traj,
    typed=None,
    pinned=None,
    jump_auto=False,
    nb_k=None,
    nb_other=False,
    zoom=None,
    query=None,
):
    """The full projection figure (sent when dataset, method or colouring change, not on selection).

    While UMAP or t-SNE is not prepared yet, the PCA projection stands in, with a note. A set above the
    point budget is drawn at the stored ``zoom`` (plotly keeps the zoom while the uirevision stays)."""

    analysis, dmax, xy, shown = analysis_service.load_shown(dataset, method)
    if analysis is None or xy is None:
        return projection.projection_figure(
            np.zeros((0, 2)), {"color": []}, 0.6, "empty", whatif=projection.empty_whatif()
        )
    marker = cloud_marker(analysis, color_mode, final_only)
    k = selected(selection, dataset, analysis)
    opacity = cloud_opacity(analysis, fade, k is not None, final_only)
    points = xy[view.final_state_rows(analysis)] if final_only else xy
    overlay = None
    if k is not None:
        overlay = view.selection_view(
            analysis, xy, k, rules or [], jump, epc, traj, selection.get("step"), dmax, bool(jump_auto)
        ).overlay
    whatif = whatif_traces(dataset, shown, typed, pinned)
    note = (
        f"{METHOD_LABELS.get(method, method)} is not ready yet: the PCA projection stands in meanwhile"
        if shown != method
        else ""
    )
    lod = None
    if cloud.is_lod(len(points)):
        opacity = cloud_opacity(analysis, fade, False, final_only)
        shape = (dataset, shown, color_mode or "ep", bool(final_only), fade or "none")
        content = density_view.lod_content(
            points, marker, opacity, _current(zoom, f"{dataset}/{shown}"), shape, k is not None
        )
        lod = {
            "rows": content.rows,
            "image": content.image,
            "note": content.note,
            "frame": density_view.frame_trace(cloud.extent(points, shape[:2] + shape[3:4])),
            "trace_opacity": density_view.TRACE_FADE if k is not None else None,
        }
    return projection.projection_figure(
        points,
        marker,
        opacity,
        f"{dataset}/{shown}",
        overlay,
        note,
        whatif=whatif,
        hover=view.cloud_hover(analysis, bool(final_only), marker, color_mode or "ep"),
        neighbors=neighbors_view.rings(dataset, method, selection, nb_k, nb_other),
        lod=lod,
        filtered=filtered_states(analysis, xy, query, bool(final_only))[0],
    )


def _current(stored: dict | None, key: str) -> cloud.View | None:
    """The stored zoom if it belongs to the figure ``key`` (dataset/method), else None (the whole cloud)."""
    if not stored or stored.get("key") != key:
        return None
    return (*stored["x"], *stored["y"])


def _refuse_view(message: str) -> dict:
    refuse(message)
    return {"figure": no_update, "view": no_update}


@callback(
    output={
        "figure": Output(ids.PROJECTION_GRAPH, "figure", allow_duplicate=True),
        "view": Output(ids.PROJECTION_VIEW, "data"),
    },
    inputs={"relayout": Input(ids.PROJECTION_GRAPH, "relayoutData")},
    state={
        "stored": State(ids.PROJECTION_VIEW, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
        "method": State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        "color_mode": State(ids.ANALYTICS_COLOR_MODE, "value"),
        "fade": State(ids.ANALYTICS_FADE, "value"),
        "final_only": State(ids.ANALYTICS_FINAL_ONLY, "value"),
    },
    prevent_initial_call=True,
)
@validated(schemas.PROJECTION_VIEW, _refuse_view)
def update_view(relayout, stored, dataset, method, color_mode, fade, final_only) -> dict:
    """A zoom, pan or reset of a set above the point budget: the states in view as points when they
    fit the budget, else the density of the view (a Patch of the state traces and the image)."""
    unchanged = {"figure": no_update, "view": no_update}
    if relayout is None:
        return unchanged
    analysis, _dmax, xy, shown = analysis_service.load_shown(dataset, method)
    if analysis is None or xy is None:
        return unchanged
    final_only = bool(final_only)
    points = xy[view.final_state_rows(analysis)] if final_only else xy
    if not cloud.is_lod(len(points)):
        return unchanged
    key = f"{dataset}/{shown}"
    full = cloud.extent(points, (dataset, shown, final_only))
    current = cloud.apply_change(relayout, _current(stored, key), full)
    marker = cloud_marker(analysis, color_mode, final_only)
    opacity = cloud_opacity(analysis, fade, False, final_only)
    shape = (dataset, shown, color_mode or "ep", final_only, fade or "none")
    content = density_view.lod_content(points, marker, opacity, current, shape)
    hover = view.cloud_hover(analysis, final_only, marker, color_mode or "ep")
    patch = density_view.zoom_patch(points, marker, opacity, content, hover)
    zoom = None if current is None else {"key": key, "x": list(current[:2]), "y": list(current[2:])}
    return {"figure": patch, "view": zoom}


# ---------------------------------------------------------------- the table's filters, on the projection


def filtered_states(analysis, xy, query: dict | None, final_only: bool) -> tuple[dict, int]:
    """(the filter trace, how many sequences) of the table's filters: the states of every sequence the
    search, lasso, confusion cell and column filters leave (their last states with ``final_only``),
    evenly thinned to ``projection.FILTER_POINTS``; an empty trace when nothing is filtered."""
    empty = projection.filter_trace(np.zeros((0, 2)))
    if analysis is None or xy is None or not isinstance(query, dict):
        return empty, 0
    try:
        rows = slices.slice_rows(analysis, xy, query, view.analysed_texts)
    except InvalidInput:
        return empty, 0
    if len(rows) in (0, analysis.n_sequences):
        return empty, len(rows) if len(rows) < analysis.n_sequences else 0
    states = slices.slice_states(analysis, rows, final_only)
    if len(states) > projection.FILTER_POINTS:
        states = states[np.linspace(0, len(states) - 1, projection.FILTER_POINTS).round().astype(np.int64)]
    return projection.filter_trace(np.asarray(xy[np.sort(states)], dtype=np.float64), len(rows)), len(rows)


@callback(
    output={
        "figure": Output(ids.PROJECTION_GRAPH, "figure", allow_duplicate=True),
        "faded": Output(ids.ANALYTICS_FADED, "data", allow_duplicate=True),
    },
    inputs={
        "query": Input(ids.ANALYTICS_TABLE_QUERY, "data"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "faded": State(ids.ANALYTICS_FADED, "data"),
        "fade": State(ids.ANALYTICS_FADE, "value"),
        "final_only": State(ids.ANALYTICS_FINAL_ONLY, "value"),
        "color_mode": State(ids.ANALYTICS_COLOR_MODE, "value"),
    },
    prevent_initial_call=True,
)
@validated(FILTER_HIGHLIGHT, refuse)
def highlight_filter(query, selection, faded, fade, final_only, color_mode) -> dict:
    """The table's filters on the projection: a search, lasso or confusion cell shows its states there,
    over the faded cloud (given back when the filter is cleared and nothing is selected)."""
    if query is None:
        return {"figure": no_update, "faded": no_update}
    analysis, _dmax, xy, _shown = analysis_service.load_shown(query["dataset"], query["method"])
    if analysis is None or xy is None:
        return {"figure": no_update, "faded": no_update}
    trace, n_rows = filtered_states(analysis, xy, query, bool(final_only))
    patch = Patch()
    patch["data"][projection.filter_slot(projection.state_trace_count(len(analysis.class_names)))] = trace
    want = bool(n_rows) or selected(selection, query["dataset"], analysis) is not None
    if want != bool(faded):
        fade_cloud(patch, analysis, want, fade, bool(final_only), color_mode)
    return {"figure": patch, "faded": want}
