"""The hidden-state projection card's callbacks: the full figure and the jump threshold's manual mode."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, callback

from components import analytics_neighbors as neighbors_view
from components import analytics_projection as projection
from components import analytics_view as view
from components.cards.analytics_common import (
    METHOD_LABELS,
    cloud_marker,
    cloud_opacity,
    refuse,
    selected,
    whatif_traces,
)
from services import analysis as analysis_service
from services import neighbors as neighbors_service
from services import schemas
from services.validation import Schema, validated

# The figure also carries the neighbour rings of the selected state (the neighbours card's settings).
PROJECTION_FIGURE = Schema(
    schemas.PROJECTION_FIGURE.name,
    {
        **schemas.PROJECTION_FIGURE.fields,
        "nb_k": neighbors_service.NEIGHBOR_COUNT,
        "nb_other": neighbors_service.OTHER_ONLY,
    },
)


@callback(
    Output("projection-graph", "figure"),
    Input("analytics-dataset", "value"),
    Input("analytics-projection-method", "value"),
    Input("analytics-prepared", "data"),
    Input("analytics-color-mode", "value"),
    Input("analytics-fade", "value"),
    Input("analytics-final-only", "value"),
    State("analytics-selection", "data"),
    State("analytics-label-rules", "value"),
    State("distance-threshold", "value"),
    State("analytics-ep-threshold", "value"),
    State("analytics-trajectory-color", "value"),
    State("analytics-whatif-text", "value"),
    State("analytics-whatif-pin-store", "data"),
    State("analytics-jump-auto", "value"),
    State("neighbors-k", "value"),
    State("neighbors-other", "value"),
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
):
    """The full projection figure (sent when dataset, method or colouring change, not on selection).

    While UMAP or t-SNE is not prepared yet, the PCA projection stands in, with a note."""

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
    )


@callback(
    Output("analytics-jump-auto", "value"),
    Input("distance-threshold", "value"),
    prevent_initial_call=True,
)
def manual_jump_threshold(_jump: float) -> bool:
    """Moving the jump slider takes manual control: the jumps above it are labelled."""
    return False
