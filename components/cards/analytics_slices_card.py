"""The slice-metrics card: per-class scores and calibration of the sequences the table shows.

The slice is whatever the table holds after all its filters (search, column filters, a
confusion-matrix cell, a lasso on the projection): the table card publishes them in the
``analytics-table-query`` store and this card recomputes the same rows with ``services.table``.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from components import analytics_overview as overview
from components import analytics_slices as slices_view
from components import analytics_view as view
from components.cards.analytics_layout import card, graph
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import schemas, slices
from services.validation import InvalidInput, validated


def layout() -> dbc.Card:
    """The card as the analytics page places it."""
    return card(
        "Slice metrics",
        "slices",
        [
            html.Div(
                "Prepare a dataset to score it.",
                id=ids.SLICE_SUMMARY,
                className="small text-muted mb-1",
            ),
            html.Div(id=ids.SLICE_METRICS),
            graph(ids.SLICE_RELIABILITY, overview.empty_figure("No sequences to score", 230)),
        ],
    )


def _message(text: str) -> dict:
    return {
        "summary": text,
        "table": None,
        "figure": overview.empty_figure("No sequences to score", 230),
    }


@callback(
    output={
        "summary": Output(ids.SLICE_SUMMARY, "children"),
        "table": Output(ids.SLICE_METRICS, "children"),
        "figure": Output(ids.SLICE_RELIABILITY, "figure"),
    },
    inputs={"query": Input(ids.ANALYTICS_TABLE_QUERY, "data")},
)
@validated(schemas.SLICE_METRICS, lambda message: _message(message))
def slice_metrics(query: dict | None) -> dict:
    """Scores of the sequences left in the table after its filters (all its pages)."""
    if query is None:
        return _message("Prepare a dataset to score it.")
    analysis, _dmax, xy = analysis_service.load(query["dataset"], query["method"])
    if analysis is None:
        return _message("Prepare a dataset to score it.")
    try:
        rows = slices.slice_rows(analysis, xy, query, view.analysed_texts)
    except InvalidInput as error:
        return _message(str(error))
    report = slices.report(analysis, rows)
    names = list(analysis.class_names)
    return {
        "summary": slices_view.summary_line(report),
        "table": slices_view.score_table(report, names) if report.n_sequences else None,
        "figure": slices_view.reliability_figure(report)
        if report.n_sequences
        else overview.empty_figure("No sequences to score", 230),
    }
