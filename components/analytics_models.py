"""The compare card's "Models" tab: pick a baseline and another model, see where they disagree (layout only)."""

from __future__ import annotations

from collections.abc import Callable

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.analytics_overview import empty_figure
from components.ids import analytics as ids

SORT_OPTIONS = [
    {"label": "confidence gap", "value": "gap"},
    {"label": "baseline's confidence", "value": "confidence_a"},
    {"label": "other's confidence", "value": "confidence_b"},
    {"label": "sequence", "value": "seq"},
]
HINT = "Pick a baseline and another model analysed on the same texts"


def models_tab(graph: Callable) -> list:
    """The tab's body: two model pickers, the aligned panels and the disagreement table."""
    return [
        html.Div(
            [
                html.Span("Baseline", className="small text-muted"),
                dcc.Dropdown(id=ids.ANALYTICS_MODELS_BASELINE, clearable=False, style={"minWidth": "14rem"}),
                html.Span("against", className="small text-muted"),
                dcc.Dropdown(
                    id=ids.ANALYTICS_MODELS_OTHER,
                    placeholder="another model…",
                    style={"minWidth": "14rem"},
                ),
            ],
            className="d-flex align-items-center gap-2 my-2 flex-wrap",
        ),
        html.Div(id=ids.ANALYTICS_MODELS_STATS, className="mb-1 small"),
        graph(ids.ANALYTICS_MODELS_GRAPH, empty_figure(HINT, 320)),
        html.Div(
            [
                html.Span("Where they disagree", className="rnnx-subhead me-auto"),
                html.Span("sort by", className="small text-muted"),
                dbc.Select(
                    id=ids.ANALYTICS_MODELS_SORT,
                    options=SORT_OPTIONS,
                    value="gap",
                    size="sm",
                    style={"width": "12rem"},
                ),
            ],
            className="d-flex align-items-center gap-2 mt-2",
        ),
        html.Div(id=ids.ANALYTICS_MODELS_TABLE, className="rnnx-models-table"),
        dcc.Store(id=ids.ANALYTICS_MODELS_PAIR),
        dcc.Store(id=ids.ANALYTICS_MODELS_PICK),
    ]


def _confidence(name: str, value: float) -> str:
    return f"{name} ({value:.0%})"


def disagreement_table(rows: list[dict], total: int, picked: int | None = None) -> html.Div:
    """The disagreements as a compact table; each row's click selects its sequence (``ids.MODELS_ROW``)."""
    if not rows:
        return html.Div("The two models agree on every shared text.", className="small text-muted my-2")
    head = html.Thead(
        html.Tr([html.Th(t) for t in ("#", "text", "label", "baseline", "other", "gap")]),
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(row["seq"]),
                    html.Td(row["text"], className="text-truncate", style={"maxWidth": "22rem"}),
                    html.Td(row["label"]),
                    html.Td(_confidence(row["predicted_a"], row["confidence_a"])),
                    html.Td(_confidence(row["predicted_b"], row["confidence_b"])),
                    html.Td(f"{row['gap']:.2f}"),
                ],
                id={"type": ids.ANALYTICS_MODELS_ROW, "index": row["seq"]},
                n_clicks=0,
                className="table-active" if row["seq"] == picked else None,
                style={"cursor": "pointer"},
                title="Select this sequence (its path is drawn in both panels)",
            )
            for row in rows
        ]
    )
    shown = f"the first {len(rows)}" if total > len(rows) else "all"
    return html.Div(
        [
            html.Div(
                f"{total:,} shared texts classified differently; showing {shown}.",
                className="small text-muted",
            ),
            html.Div(
                dbc.Table([head, body], size="sm", hover=True, className="small mb-0"),
                style={"maxHeight": "18rem", "overflowY": "auto"},
            ),
        ]
    )
