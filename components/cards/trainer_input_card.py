"""The trainer's Input card: which function or text the network learns to continue."""

from __future__ import annotations

import dash_bootstrap_components as dbc

from components import trainer_figures as figs
from components.cards.trainer_common import card
from components.ids import trainer as ids
from services import trainer as service

INFO = (
    "Choose what the network learns to continue: a periodic function sampled every 0.2 "
    "(15 points in, the next one out) or a text, one character at a time (20 in, the next out). "
    "The thumbnails scroll one period."
)


def layout(settings: service.Settings) -> dbc.Card:
    """The card with ``settings.data`` chosen (the choice persists for the browser tab)."""
    select = dbc.RadioItems(
        id=ids.TRAINER_INPUT_SELECT,
        options=figs.input_options(),
        value=settings.data,
        className="trainer-input-select",
        inputClassName="btn-check",
        labelClassName="trainer-input-option",
        labelCheckedClassName="active",
        persistence=True,
        persistence_type="session",
    )
    return card("Input", ids.TRAINER_INFO_INPUT, INFO, [select])
