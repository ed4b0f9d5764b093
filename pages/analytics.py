"""Placeholder for /analytics until its issue lands."""

import dash
from dash import html

dash.register_page(__name__, path="/analytics", title="RNN Explorer · Analytics", name="Analytics")


def layout(**_query: str) -> html.Div:
    return html.Div([html.H2("Analytics"), html.P("Coming soon.")])
