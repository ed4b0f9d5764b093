"""The sequence table card's callbacks: rows after the filters, clearing the search; URL and hover sync."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, callback, clientside_callback, ctx

from components import analytics_overview as overview
from components import analytics_view as view
from components.cards.analytics_common import clicked_rows, refuse
from services import analysis as analysis_service
from services import schemas
from services.validation import validated


@callback(
    Output("sequence-table", "data"),
    Output("analytics-filter-label", "children"),
    Output("analytics-filter", "data"),
    Input("analytics-dataset", "value"),
    Input("analytics-prepared", "data"),
    Input("confusion-matrix", "clickData"),
    Input("projection-graph", "selectedData"),
    Input("analytics-search", "value"),
    Input("analytics-clear-filter", "n_clicks"),
    State("analytics-filter", "data"),
    State("analytics-projection-method", "value"),
    State("analytics-final-only", "value"),
    State("analytics-color-mode", "value"),
)
@validated(schemas.FILL_TABLE, refuse)
def fill_table(
    dataset,
    _prepared,
    confusion_click,
    selected,
    search,
    _clear,
    current,
    method,
    final_only,
    color_mode="ep",
):
    """The table rows after the confusion-cell, lasso and text filters."""
    analysis, _dmax, _xy = analysis_service.load(dataset, method)
    if analysis is None:
        return [], "", {}
    names = list(analysis.class_names)
    trigger = ctx.triggered_id
    flt = dict(current or {}) if trigger not in ("analytics-dataset", "analytics-clear-filter") else {}
    if trigger == "confusion-matrix" and confusion_click and confusion_click.get("points"):
        p = confusion_click["points"][0]
        if p.get("y") in names and p.get("x") in names:
            flt["actual"], flt["predicted"] = names.index(p["y"]), names.index(p["x"])
    if trigger == "projection-graph":
        points = clicked_rows(analysis, (selected or {}).get("points", []), color_mode, bool(final_only))
        flt["ids"] = view.sequences_of_points(analysis, points, bool(final_only)) if points else None
    search = None if trigger == "analytics-clear-filter" else search
    idx = view.filter_sequences(analysis, search, flt.get("actual"), flt.get("predicted"), flt.get("ids"))
    rows = overview.table_rows(
        view.analysed_texts(analysis),
        np.diff(analysis.offsets),
        analysis.labels,
        analysis.predicted,
        analysis.confidence,
        names,
        idx,
    )
    parts = []
    if flt.get("actual") is not None:
        parts.append(f"actual {names[flt['actual']]} → predicted {names[flt['predicted']]}")
    if flt.get("ids") is not None:
        parts.append("lasso selection")
    if search:
        parts.append(f"“{search}”")
    label = f"{len(idx):,} of {analysis.n_sequences:,} sequences" + (
        f" · {' · '.join(parts)}" if parts else ""
    )
    return rows, label, flt


@callback(
    Output("analytics-search", "value"),
    Input("analytics-clear-filter", "n_clicks"),
    prevent_initial_call=True,
)
def clear_search(_clicks: int) -> str:
    return ""


clientside_callback(
    """function (dataset, method, selection, jump, epc, rules, auto) {
        // an automatic jump rule leaves "jump" out of the URL, so a reload keeps it automatic
        return window.dash_clientside.analytics.syncUrl(dataset, method, selection, auto ? null : jump, epc, rules);
    }""",
    Output("analytics-url-sync", "data"),
    Input("analytics-dataset", "value"),
    Input("analytics-projection-method", "value"),
    Input("analytics-selection", "data"),
    Input("distance-threshold", "value"),
    Input("analytics-ep-threshold", "value"),
    Input("analytics-label-rules", "value"),
    Input("analytics-jump-auto", "value"),
)

clientside_callback(
    """function (projHover, heatHover, distHover) {
        return window.dash_clientside.analytics.onGraphHover(projHover, heatHover, distHover);
    }""",
    Output("analytics-hover", "data"),
    Input("projection-graph", "hoverData"),
    Input("ep-heatmap", "hoverData"),
    Input("distance-graph", "hoverData"),
    prevent_initial_call=True,
)
