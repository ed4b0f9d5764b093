"""The nearest neighbours card: its layout and callbacks (registered on import).

The selected state (``analytics-selection``: a clicked point, a clicked word, or the last state of a
selected sequence) is looked up in the full hidden space; its neighbours are listed and ringed on
the projection (a Patch of the ring trace only). Clicking a listed neighbour or its ring selects it.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import (
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)

from components import analytics_neighbors as view
from components import analytics_projection as projection
from components.cards.analytics_common import as_index, refuse
from components.cards.analytics_layout import card
from components.cards.selection_view import Common, SelectionView
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import neighbors as service
from services.validation import InvalidInput, validated


def layout() -> dbc.Card:
    """The card as the analytics page places it."""
    controls = html.Div(
        [
            html.Label("neighbours", htmlFor=ids.NEIGHBORS_K, className="small text-muted mb-0"),
            dbc.Select(
                id=ids.NEIGHBORS_K,
                options=[{"label": str(k), "value": k} for k in service.K_OPTIONS],
                value=service.DEFAULT_K,
                size="sm",
                style={"width": 80},
            ),
            dbc.Switch(
                id=ids.NEIGHBORS_OTHER,
                label="other sequences only",
                value=False,
                className="small mb-0 ms-2",
            ),
        ],
        className="d-flex align-items-center gap-2 mb-2",
    )
    return card(
        "Nearest neighbours",
        "neighbors",
        [
            controls,
            html.Div(view.hint(view.HINT), id=ids.NEIGHBORS_LIST, className="rnnx-nb"),
            # {"step", "t"} of the last clicked word of the selected sequence (assets/neighbors.js).
            dcc.Store(id=ids.NEIGHBORS_WORD_CLICK),
            # {"seq", "step", "t"} of the last clicked row of the list (assets/neighbors.js).
            dcc.Store(id=ids.NEIGHBORS_ROW_CLICK),
        ],
    )


@callback(
    output={
        "listing": Output(ids.NEIGHBORS_LIST, "children"),
        "figure": Output(ids.PROJECTION_GRAPH, "figure", allow_duplicate=True),
    },
    inputs={
        "k": Input(ids.NEIGHBORS_K, "value"),
        "other_only": Input(ids.NEIGHBORS_OTHER, "value"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
        "method": State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
    },
    prevent_initial_call=True,
)
@validated(service.SHOW_NEIGHBORS, refuse)
def show_neighbors(selection, k, other_only, dataset, method, patch=None):
    """The neighbours of the selected state: listed, and ringed on the projection (``figure``, or added
    to ``patch``). A new selection comes through the hub (``NEIGHBORS_VIEW``), a new k through here."""
    listing, found, analysis = view.answer(dataset, method, selection, k, other_only)
    patch = Patch() if patch is None else patch
    _a, _d, xy, _shown = analysis_service.load_shown(dataset, method)
    if found is None or xy is None:
        patch["data"][projection.NEIGHBORS_SLOT] = view.ring_trace()
    else:
        patch["data"][projection.NEIGHBORS_SLOT] = view.ring_trace(xy, found, analysis.words)
    return {"listing": listing, "figure": patch}


@callback(
    Output(ids.ANALYTICS_SELECTION, "data", allow_duplicate=True),
    inputs={
        "click": Input(ids.NEIGHBORS_ROW_CLICK, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
    },
    prevent_initial_call=True,
)
def pick_neighbor(click, dataset):
    """A click on a listed neighbour selects its sequence at its step.

    ``assets/neighbors.js`` reports the row that was pressed ({"seq", "step", "t"}), read from the
    row when the mouse went down: the list may be redrawn before the button comes up (a new answer
    arriving), which would leave the click on no row and lose a row's own ``n_clicks``."""
    if not isinstance(click, dict):
        return no_update
    seq, step = as_index(click.get("seq")), as_index(click.get("step"))
    if seq is None or step is None:
        return refuse("The clicked neighbour is malformed.")
    return _select(picked={"type": view.ROW_TYPE, "seq": seq, "step": step}, clicks=[], dataset=dataset)


@validated(service.PICK_NEIGHBOR, refuse)
def _select(picked, clicks, dataset):
    analysis, _dmax, _xy = analysis_service.load(dataset, None)
    if picked is None or analysis is None:
        return no_update
    try:
        step, _row = service.query_state(analysis, picked["seq"], picked["step"])
    except InvalidInput as error:
        return refuse(str(error))
    return {"dataset": dataset, "seq": picked["seq"], "step": step}


def selection_of_ring(point: dict, dataset: str) -> dict | object:
    """The selection a click on a neighbour's ring on the projection asks for (the hub's click callback
    calls it for the ring trace's points)."""
    custom = point.get("customdata")
    if not isinstance(custom, list) or len(custom) < 4:
        return no_update
    seq, step = as_index(custom[2]), as_index(custom[3])
    if seq is None or step is None:
        return refuse("The clicked neighbour is malformed.")
    return _select(picked={"type": view.ROW_TYPE, "seq": seq, "step": step}, clicks=[], dataset=dataset)


def draw_neighbors(common: Common, k, other_only) -> dict:
    """A new selection's neighbours, listed and ringed on the projection, in the hub's one request."""
    drawn = show_neighbors(common.selection, k, other_only, common.dataset, common.method, patch=common.patch)
    return {"listing": drawn["listing"]} if isinstance(drawn, dict) else {"listing": no_update}


NEIGHBORS_VIEW = SelectionView(
    "neighbors",
    {"listing": Output(ids.NEIGHBORS_LIST, "children", allow_duplicate=True)},
    {"k": State(ids.NEIGHBORS_K, "value"), "other_only": State(ids.NEIGHBORS_OTHER, "value")},
    draw_neighbors,
)


# A click on a word of the selected sequence selects that step (assets/neighbors.js reports it).
clientside_callback(
    ClientsideFunction("rnnx", "neighborsWordStep"),
    Output(ids.ANALYTICS_SELECTION, "data", allow_duplicate=True),
    Input(ids.NEIGHBORS_WORD_CLICK, "data"),
    State(ids.ANALYTICS_SELECTION, "data"),
    prevent_initial_call=True,
)
