"""The trainer's Network card: the layer stack (add, insert, remove, select a layer), cell type, units."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from components import trainer_figures as figs
from components.cards.trainer_common import card, notice_outputs
from components.ids import trainer as ids
from services import trainer as service

INFO = (
    "A stack of recurrent layers (16 units each unless you choose another width). A recurrent layer "
    "reads the window one time step at a time and feeds its own output back to itself (the loop), so "
    "it can remember what came before. A dense layer turns the last state into the prediction. Use "
    "**+** to add a layer, hover a layer and click **×** to remove it, click it to open its cell view. "
    "Keys: **+** adds a layer, **−** removes the last one."
)


def diagram(layers: int, cell: str, data: str, units: int = service.DEFAULT_UNITS) -> Any:
    """The network diagram of ``layers`` layers of ``units`` units each."""
    drawn = figs.network_diagram(layers, cell, data, max_layers=service.MAX_LAYERS)
    stack = [drawn]
    while stack:  # the figure module writes the default width on every layer: write the chosen one
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif node is not None and not isinstance(node, str):
            if "net-layer-units" in (getattr(node, "className", "") or "").split():
                node.children = f"{units} units"
            stack.append(getattr(node, "children", None))
    return drawn


def _units_control(settings: service.Settings) -> html.Div:
    slider = dcc.Slider(
        id=ids.TRAINER_UNITS,
        min=service.MIN_UNITS,
        max=service.MAX_UNITS,
        step=4,
        value=settings.units,
        marks={v: str(v) for v in (service.MIN_UNITS, 16, 32, service.MAX_UNITS)},
        allow_direct_input=False,
        persistence=True,
        persistence_type="session",
    )
    label = html.Label("Units per layer", htmlFor=ids.TRAINER_UNITS, className="fw-semibold small mb-0 me-2")
    return html.Div([label, html.Div(slider, className="flex-grow-1")], className="trainer-units d-flex mt-2")


def layout(settings: service.Settings) -> dbc.Card:
    """The card, drawn for ``settings`` until the session's state arrives."""
    cell = dbc.RadioItems(
        id=ids.CELL_TYPE,
        options=[{"label": service.CELL_LABELS[c], "value": c} for c in service.CELL_TYPES],
        value=settings.cell,
        inline=True,
        className="btn-group btn-group-sm trainer-cell-type",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-primary",
        labelCheckedClassName="active",
        persistence=True,
        persistence_type="session",
    )
    body = [
        html.Div(
            html.Div(
                diagram(settings.layers, settings.cell, settings.data, settings.units), id=ids.NETWORK_DIAGRAM
            ),
            id=ids.TRAINER_NETWORK_WRAP,
            className="trainer-network-wrap",
        ),
        html.Div(
            [
                dbc.Button(
                    [html.I(className="bi bi-plus-lg me-1"), "Add layer"],
                    id=ids.ADD_LAYER,
                    color="primary",
                    outline=True,
                    size="sm",
                    title="Add a layer (+); remove the last one with −",
                ),
                html.Span(id=ids.TRAINER_LAYER_COUNT, className="text-muted small ms-2"),
                # a layer clicked before the network is ready: said here, opened once it is
                html.Span(id=ids.CELL_WAITING, className="trainer-cell-waiting small ms-auto", role="status"),
            ],
            className="d-flex align-items-center mt-2",
        ),
        _units_control(settings),
    ]
    return card("Network", ids.TRAINER_INFO_NETWORK, INFO, body, extra=cell)


# A click on a layer selects it in the browser at once (rnnx.trainerSelectLayer): a server round trip
# could be dropped when the diagram is drawn again meanwhile (the network's first result). The cell card
# checks the index (services.schemas.CELL_VIEW) when it opens the view. The stores the server listens to
# are written with set_props, not declared as outputs: Dash fires these callbacks whenever the diagram
# is drawn (their inputs match all its buttons), and a declared output would chain the server's
# callbacks to every drawing.
clientside_callback(
    ClientsideFunction("rnnx", "trainerSelectLayer"),  # and sets trainer-selected-layer
    output=Output(ids.CELL_WAITING, "children", allow_duplicate=True),
    inputs=[Input({"type": ids.TRAINER_LAYER, "index": ALL}, "n_clicks")],
    prevent_initial_call=True,
)

# ---------------------------------------------------------------- the layer count, in the browser
# A press of +, of a "+" between layers or of a layer's × changes the count shown at once; the server
# gets the resulting count (set_props on trainer-layers-sent), one request at a time: presses made while
# one is on its way go with the next (rnnx.trainerLayerPress, rnnx.trainerLayersBuilt in
# assets/trainer.js). Both answer arrays in the order of these dicts.

PRESS_OUT = {
    "wanted": Output(ids.TRAINER_LAYERS_WANTED, "data", allow_duplicate=True),
    "label": Output(ids.TRAINER_LAYER_COUNT, "children", allow_duplicate=True),
    "pending": Output(ids.NETWORK_DIAGRAM, "className", allow_duplicate=True),
    **notice_outputs(),
}
BUILT_OUT = {name: PRESS_OUT[name] for name in ("wanted", "label", "pending")}

clientside_callback(
    ClientsideFunction("rnnx", "trainerLayerPress"),
    output=list(PRESS_OUT.values()),
    inputs=[
        Input(ids.ADD_LAYER, "n_clicks"),
        Input({"type": ids.TRAINER_INSERT_LAYER, "index": ALL}, "n_clicks"),
        Input({"type": ids.TRAINER_REMOVE_LAYER, "index": ALL}, "n_clicks"),
    ],
    state=[
        State(ids.TRAINER_LAYERS_WANTED, "data"),
        State(ids.TRAINER_LAYERS_SENT, "data"),
        State(ids.TRAINER_LAYERS_BUILT, "data"),
        State(ids.TRAINER_LAYER_COUNT, "children"),
    ],
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("rnnx", "trainerLayersBuilt"),
    output=list(BUILT_OUT.values()),
    inputs=[Input(ids.TRAINER_LAYERS_BUILT, "data")],
    state=[
        State(ids.TRAINER_LAYERS_WANTED, "data"),
        State(ids.TRAINER_LAYERS_SENT, "data"),
        State(ids.TRAINER_LAYER_COUNT, "children"),
    ],
    prevent_initial_call=True,
)
