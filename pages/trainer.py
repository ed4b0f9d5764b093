"""/trainer: train a small recurrent network live and watch each epoch's phases (the page composes its cards).

Each card module under :mod:`components.cards` holds its layout and registers its
own callbacks; the numbers come from the trainer service (:mod:`services.trainer`).
"""

from __future__ import annotations

import secrets

import dash
import dash_bootstrap_components as dbc
from dash import html

from components.cards import (
    trainer_cell_card,
    trainer_input_card,
    trainer_loss_card,
    trainer_network_card,
    trainer_prediction_card,
    trainer_session,
    trainer_training_card,
)
from services.trainer import Settings

dash.register_page(__name__, path="/trainer", title="RNN Explorer · Trainer", name="Trainer")


def layout(**_query: str) -> html.Div:
    """The page, with a fresh page-view id (the Step-click counter of this view starts at 0).

    Defaults are shown until the session's state arrives.
    """
    settings = Settings()
    title = html.Div(
        [
            html.H3("Trainer", className="mb-0"),
            html.Span(
                "Train a recurrent network live and watch how it learns to continue a sequence.",
                className="text-muted ms-3 d-none d-md-inline",
            ),
        ],
        className="d-flex align-items-baseline mb-2",
    )
    top = dbc.Row(
        [
            dbc.Col(trainer_input_card.layout(settings), xl=2, lg=12, className="mb-3"),
            dbc.Col(trainer_network_card.layout(settings), xl=5, lg=6, className="mb-3"),
            dbc.Col(trainer_prediction_card.layout(), xl=5, lg=6, className="mb-3"),
        ],
        className="g-3",
    )
    bottom = dbc.Row(
        [
            dbc.Col(trainer_training_card.layout(settings), lg=7, className="mb-3"),
            dbc.Col(trainer_loss_card.layout(), lg=5, className="mb-3"),
        ],
        className="g-3",
    )
    return html.Div(
        [
            *trainer_session.layout(secrets.token_hex(16)),
            title,
            trainer_session.notice_alert(),
            top,
            bottom,
            trainer_cell_card.layout(),
        ],
        className="trainer-page",
    )
