"""Placeholder for /trainer until its issue lands."""

import dash
from dash import html

dash.register_page(__name__, path="/trainer", title="RNN Explorer · Trainer", name="Trainer")


def layout(**_query: str) -> html.Div:
    return html.Div([html.H2("Trainer"), html.P("Coming soon.")])
