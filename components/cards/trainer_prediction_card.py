"""The trainer's Prediction card: the test window, the truth and the network's continuation.

The server's figure arrives in the ``trainer-result`` store; ``assets/trainer.js``
draws it phase by phase (the Training card registers that animation).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc

from components import trainer_figures as figs
from components.cards.trainer_common import card
from components.ids import trainer as ids

INFO = (
    "The grey window is what the network sees. Blue is what it predicts, each "
    "prediction fed back as input for the next; the thin grey line is the truth. The red lines "
    "are the errors."
)


def layout() -> dbc.Card:
    """The card, with a placeholder until the first result."""
    graph = dcc.Graph(
        id=ids.PREDICTION_GRAPH,
        figure=figs.placeholder_figure("Preparing the network…"),
        config={"displayModeBar": False, "responsive": True},
        className="trainer-prediction-graph",
        style={"height": "300px"},
    )
    return card("Prediction", ids.TRAINER_INFO_PREDICTION, INFO, [graph])
