"""The slice metrics card: its layout (callbacks registered on import)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.cards.analytics_layout import card


def layout() -> dbc.Card:
    """The card as the analytics page places it."""
    return card("Slice metrics", "slices", [html.Div(id="slice-metrics")])
