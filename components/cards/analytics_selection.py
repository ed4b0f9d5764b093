"""The selection: how a click becomes one, and one request that draws every view of it.

A click on the projection is answered by ``select_sequence`` (a point, a trajectory point or a
neighbour's ring); a table row, a neighbour in the list, a unit match or a word set the store
themselves. Then ``draw_selection`` draws the views of every card in the same request: the cards'
:class:`~components.cards.selection_view.SelectionView` parts, in ``VIEWS`` order (the word scores
before the sequence view that colours the words with them). A click costs two server requests in all.
"""

from __future__ import annotations

from dash import Input, Output, Patch, State, callback, ctx, no_update

from components import analytics_projection as projection
from components import analytics_view as view
from components.cards.analytics_attribution import SALIENCY_VIEW
from components.cards.analytics_common import as_index, clicked_row, refuse
from components.cards.analytics_models_card import MODELS_VIEW
from components.cards.analytics_neighbors_card import NEIGHBORS_VIEW, selection_of_ring
from components.cards.analytics_sequence_card import SEQUENCE_VIEW
from components.cards.analytics_units_card import UNITS_VIEW
from components.cards.analytics_whatif_card import CHECKPOINTS_VIEW
from components.cards.selection_view import Common, SelectionView
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import schemas
from services.validation import Schema, validated

VIEWS: tuple[SelectionView, ...] = (
    SALIENCY_VIEW,
    SEQUENCE_VIEW,
    NEIGHBORS_VIEW,
    UNITS_VIEW,
    CHECKPOINTS_VIEW,
    MODELS_VIEW,
)


@callback(
    output=Output(ids.ANALYTICS_SELECTION, "data"),
    inputs=dict(
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
def select_sequence(click, dataset, selection, method, final_only, color_mode="ep"):
    """Selection from a projection point (a state, a step of the trajectory, a neighbour's ring); a new
    dataset selects its representative sequence (none while it is not prepared)."""
    if ctx.triggered_id == ids.ANALYTICS_DATASET:
        if (selection or {}).get("dataset") == dataset:
            return no_update
        seq = analysis_service.representative(dataset)  # a new dataset opens on its representative one
        return None if seq is None else {"dataset": dataset, "seq": seq, "step": None}
    points = click.get("points") if isinstance(click, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return no_update
    point = points[0]
    if point.get("curveNumber") == projection.NEIGHBORS_SLOT:
        return selection_of_ring(point, dataset)
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


def _key(view_: SelectionView, name: str) -> str:
    return f"{view_.name}_{name}"


HUB = Schema(
    "draw_selection",
    {"selection": schemas.SELECTION, "dataset": schemas.DATASET_ID, "method": schemas.METHOD},
)


@callback(
    output={
        "figure": Output(ids.PROJECTION_GRAPH, "figure", allow_duplicate=True),
        **{_key(v, name): out for v in VIEWS for name, out in v.outputs.items()},
    },
    inputs={
        "selection": Input(ids.ANALYTICS_SELECTION, "data"),
        # a preparation that just finished: every view shows what it made, without a reload
        "_prepared": Input(ids.ANALYTICS_PREPARED, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
        "method": State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        **{_key(v, name): state for v in VIEWS for name, state in v.states.items()},
    },
    prevent_initial_call="initial_duplicate",
)
def draw_selection(selection, dataset, method, _prepared=None, **states) -> dict:
    """Every card's view of the selection, in one request (each card's part validates its own values)."""
    skip = {"figure": no_update, **{_key(v, name): no_update for v in VIEWS for name in v.outputs}}
    return _draw(selection=selection, dataset=dataset, method=method, states=states, skip=skip)


@validated(HUB, refuse)
def _draw(selection, dataset, method, states: dict, skip: dict) -> dict:
    common = Common(selection=selection, dataset=dataset, method=method, patch=Patch())
    out = dict(skip)
    for part in VIEWS:
        mine = {name: states.get(_key(part, name)) for name in part.states}
        drawn = part.draw(common, **mine)
        for name in part.outputs:
            out[_key(part, name)] = drawn.get(name, no_update) if isinstance(drawn, dict) else no_update
    out["figure"] = common.patch
    return out
