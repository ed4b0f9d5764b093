"""Home page: what the two workbenches are, and a way into each."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from components.ids import home as ids

dash.register_page(__name__, path="/", title="RNN Explorer", name="Home")


def _card(title: str, text: str, href: str, button_id: str, image: str) -> dbc.Card:
    return dbc.Card(
        [
            html.A(
                dbc.CardImg(
                    src=dash.get_asset_url(f"img/{image}"), top=True, alt=f"The {title.lower()} page"
                ),
                href=dash.get_relative_path(href),
            ),
            dbc.CardBody(
                [
                    html.H4(title, className="card-title"),
                    html.P(text, className="card-text"),
                    dbc.Button(
                        f"Open {title}", href=dash.get_relative_path(href), id=button_id, color="primary"
                    ),
                ]
            ),
        ],
        className="h-100 shadow-sm",
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("RNN Explorer", className="mt-2"),
            html.P(
                "Train, inspect and debug recurrent neural networks in the browser.",
                className="lead",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Trainer",
                            "Train a stacked LSTM, GRU or SimpleRNN live on periodic functions or "
                            "text; watch prediction, validation and training phases; open a layer to "
                            "step through its real gate values.",
                            "/trainer",
                            ids.HOME_TRAINER_LINK,
                            "trainer-preview.png",
                        ),
                        md=6,
                    ),
                    dbc.Col(
                        _card(
                            "Analytics",
                            "Project every hidden state of an IMDB or Reuters classifier to 2-D, "
                            "coloured by its expected prediction; follow one sequence as a "
                            "trajectory, as coloured text, a heatmap and hidden-state jumps.",
                            "/analytics",
                            ids.HOME_ANALYTICS_LINK,
                            "analytics-preview.png",
                        ),
                        md=6,
                    ),
                ],
                className="g-4 mt-2",
            ),
            html.P(
                [
                    "Bring your own recurrent Keras text classifier and a CSV of texts: ",
                    html.A("Analytics → Bring your own model", href=dash.get_relative_path("/analytics")),
                    ", or ",
                    html.Code("python -m model.prepare --model my.keras --csv texts.csv"),
                    ".",
                ],
                className="text-muted mt-4",
            ),
        ]
    )
