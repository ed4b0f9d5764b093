"""Slice-metrics views: the per-class score table and the reliability diagram (pure, no callbacks)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
import plotly.graph_objects as go
from dash import html

from components import analytics_colors as colors
from services.slices import SliceReport

_FONT = {"family": "Lato, system-ui, sans-serif", "size": 12}
FEW_ITEMS = 10  # a reliability bin holding fewer sequences is marked: its accuracy says little
BAR_COLOR = "#3194cc"
FEW_COLOR = "#ced4da"


def _pct(value: float) -> str:
    return f"{value:.0%}" if np.isfinite(value) else "–"


def score_table(report: SliceReport, class_names: list[str]) -> dbc.Table:
    """One row per class (precision, recall, F1, support), then the macro average."""
    palette = colors.class_colors(len(class_names))
    head = html.Thead(html.Tr([html.Th(h) for h in ("class", "precision", "recall", "F1", "support")]))
    s = report.scores
    rows = [
        html.Tr(
            [
                html.Td([html.Span(className="rnnx-swatch", style={"background": palette[i]}), name]),
                html.Td(_pct(s.precision[i]) if s.predicted[i] else "–", title=f"{s.predicted[i]} predicted"),
                html.Td(_pct(s.recall[i]) if s.support[i] else "–"),
                html.Td(_pct(s.f1[i]) if s.support[i] or s.predicted[i] else "–"),
                html.Td(f"{s.support[i]:,}"),
            ],
            className="" if s.support[i] or s.predicted[i] else "text-muted",
        )
        for i, name in enumerate(class_names)
    ]
    macro = report.macro
    rows.append(
        html.Tr(
            [
                html.Td("macro average"),
                *(html.Td(_pct(macro[k])) for k in ("precision", "recall", "f1")),
                html.Td(f"{report.n_sequences:,}"),
            ],
            className="fw-bold",
        )
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="rnnx-slice-table mb-1", hover=True)


def summary_line(report: SliceReport) -> str:
    """'412 of 1,000 sequences · accuracy 87% · ECE 0.04'."""
    if not report.n_sequences:
        return f"0 of {report.n_total:,} sequences: the filters leave nothing to score."
    return (
        f"{report.n_sequences:,} of {report.n_total:,} sequences · accuracy {report.accuracy:.1%} · "
        f"expected calibration error {report.calibration.ece:.3f}"
    )


def reliability_figure(report: SliceReport, height: int = 230) -> go.Figure:
    """Accuracy against mean confidence per bin (bars), the diagonal of perfect calibration, and counts.

    Each bar is labelled with how many sequences it holds; a bin with fewer than ``FEW_ITEMS`` is
    drawn grey and hatched (its accuracy is a guess from a handful), and its hover says so."""
    cal = report.calibration
    centres = (cal.edges[:-1] + cal.edges[1:]) / 2
    width = float(cal.edges[1] - cal.edges[0])
    filled = cal.count > 0
    few = filled & (cal.count < FEW_ITEMS)
    fig = go.Figure()
    for shown, name, color, pattern in (
        (filled & ~few, "accuracy", BAR_COLOR, ""),
        (few, f"< {FEW_ITEMS} sequences", FEW_COLOR, "/"),
    ):
        caution = " · too few to trust" if pattern else ""
        fig.add_bar(
            x=centres[shown],
            y=cal.accuracy[shown],
            width=width * 0.92,
            marker={"color": color, "pattern": {"shape": pattern, "fgcolor": "#6c757d", "size": 6}},
            name=name,
            showlegend=bool(shown.any()) or not pattern,
            text=[f"{int(c):,}" for c in cal.count[shown]],
            texttemplate="n=%{text}",
            textposition="outside",
            textfont={"size": 10, "color": "#495057"},
            cliponaxis=False,
            customdata=np.stack([cal.confidence[shown], cal.count[shown]], axis=-1),
            hovertemplate="confidence %{customdata[0]:.2f}<br>accuracy %{y:.0%}<br>%{customdata[1]} sequences"
            f"{caution}<extra></extra>",
        )
    fig.add_scatter(
        x=[cal.edges[0], 1.0],
        y=[cal.edges[0], 1.0],
        mode="lines",
        line={"color": "#6c757d", "dash": "dash", "width": 1},
        name="perfectly calibrated",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=cal.confidence[filled],
        y=cal.accuracy[filled],
        mode="markers",
        marker={"color": np.where(few[filled], "#868e96", "#0b3d61").tolist(), "size": 6},
        name="mean confidence",
        hoverinfo="skip",
    )
    fig.update_layout(
        template=go.layout.Template(),
        height=height,
        font=_FONT,
        margin={"l": 50, "r": 10, "t": 34, "b": 40},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 11}},
        bargap=0,
        xaxis={
            "title": "confidence of the predicted class",
            "range": [cal.edges[0], 1.0],
            "gridcolor": "#eee",
        },
        # headroom above 100% for the count labels
        yaxis={
            "title": "accuracy",
            "range": [0, 1.14],
            "tickvals": [0, 0.5, 1],
            "tickformat": ".0%",
            "gridcolor": "#eee",
        },
        uirevision="slice",
    )
    return fig
