"""The trainer's Loss card: training and validation loss per epoch (filled by the session's answers)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc

from components import trainer_figures as figs
from components.cards.trainer_common import card
from components.ids import trainer as ids

INFO = (
    "Training loss: the mean loss over this epoch's training windows while the weights "
    "were updated. Validation loss: the loss of the model on fresh, noise-free windows before "
    "this epoch's update. Log scale."
)


def layout() -> dbc.Card:
    """The card with an empty chart."""
    graph = dcc.Graph(
        id=ids.LOSS_GRAPH,
        figure=figs.loss_figure([], []),
        config={"displayModeBar": False, "responsive": True},
        className="trainer-loss-graph",
        style={"height": "260px"},
    )
    return card("Loss", ids.TRAINER_INFO_LOSS, INFO, [graph])
