"""The sequence table card's callbacks: one page of rows after the filters (server-side), the lasso's outline,
clearing the search; URL and hover sync."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, callback, clientside_callback, ctx, no_update

from components import analytics_overview as overview
from components import analytics_view as view
from components.cards.analytics_common import refuse
from services import analysis as analysis_service
from services import schemas, table
from services.validation import InvalidInput, validated

# The projection's lasso or box, as its outline only (at most 2,000 vertices, evenly thinned):
# the server finds the states inside among all drawn states, even those the browser never held.
LASSO_JS = """function (selected) {
    var CAP = 2000;
    if (!selected) { return null; }
    function axis(obj, letter) {
        var key = Object.keys(obj || {}).filter(function (k) { return k.charAt(0) === letter; }).sort()[0];
        return key ? obj[key] : null;
    }
    var lx = axis(selected.lassoPoints, "x"), ly = axis(selected.lassoPoints, "y");
    if (lx && ly && lx.length === ly.length && lx.length >= 3) {
        var step = Math.max(1, lx.length / CAP), x = [], y = [];
        for (var i = 0; Math.floor(i * step) < lx.length && x.length < CAP; i++) {
            var j = Math.floor(i * step);
            x.push(Number(lx[j]));
            y.push(Number(ly[j]));
        }
        return {lasso: {x: x, y: y}};
    }
    var rx = axis(selected.range, "x"), ry = axis(selected.range, "y");
    if (rx && ry && rx.length === 2 && ry.length === 2) {
        return {box: {x: [Number(rx[0]), Number(rx[1])], y: [Number(ry[0]), Number(ry[1])]}};
    }
    return null;
}"""


def _cell(confusion_click: object, names: list[str]) -> dict:
    """``{"actual", "predicted"}`` of a clicked confusion-matrix cell, or nothing."""
    points = confusion_click.get("points") if isinstance(confusion_click, dict) else None
    p = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
    if p.get("y") in names and p.get("x") in names:
        return {"actual": names.index(p["y"]), "predicted": names.index(p["x"])}
    return {}


def _empty(message: str = "") -> dict:
    return {
        "data": [],
        "page_count": 1,
        "page": 0,
        "label": message,
        "filter": {},
        "query": None,
        "clear": no_update,
    }


@callback(
    output={
        "data": Output("sequence-table", "data"),
        "page_count": Output("sequence-table", "page_count"),
        "page": Output("sequence-table", "page_current"),
        "label": Output("analytics-filter-label", "children"),
        "filter": Output("analytics-filter", "data"),
        "query": Output("analytics-table-query", "data"),
        "clear": Output("sequence-table", "filter_query"),
    },
    inputs={
        "dataset": Input("analytics-dataset", "value"),
        "_prepared": Input("analytics-prepared", "data"),
        "confusion_click": Input("confusion-matrix", "clickData"),
        "lasso": Input("analytics-lasso", "data"),
        "search": Input("analytics-search", "value"),
        "_clear": Input("analytics-clear-filter", "n_clicks"),
        "page_current": Input("sequence-table", "page_current"),
        "sort_by": Input("sequence-table", "sort_by"),
        "filter_query": Input("sequence-table", "filter_query"),
    },
    state={
        "current": State("analytics-filter", "data"),
        "method": State("analytics-projection-method", "value"),
        "final_only": State("analytics-final-only", "value"),
    },
)
@validated(schemas.FILL_TABLE, refuse)
def fill_table(
    dataset: str,
    _prepared: object = None,
    confusion_click: object = None,
    lasso: dict | None = None,
    search: str | None = None,
    _clear: object = None,
    page_current: int = 0,
    sort_by: list[dict] | None = None,
    filter_query: str = "",
    current: dict | None = None,
    method: str | None = None,
    final_only: bool = False,
) -> dict:
    """One page of the table after the confusion-cell, lasso, search and column filters, sorted.

    Also publishes the whole filter state to ``analytics-table-query`` (the slice-metrics card
    recomputes the same rows from it). A new filter or sort goes back to the first page.
    """
    analysis, _dmax, xy, shown_method = analysis_service.load_shown(dataset, method)
    if analysis is None:
        return _empty()
    names = list(analysis.class_names)
    triggered = set(ctx.triggered_prop_ids) if ctx.triggered else set()
    reset = bool(triggered & {"analytics-dataset.value", "analytics-clear-filter.n_clicks"})
    flt = {} if reset else dict(current or {})
    if "confusion-matrix.clickData" in triggered:
        flt.update(_cell(confusion_click, names))
    if "analytics-lasso.data" in triggered:
        flt.pop("shape", None)
        if lasso:  # the lasso is kept with the view it was drawn on
            flt.update(shape=lasso, final_only=final_only, method=shown_method)
    cleared = "analytics-clear-filter.n_clicks" in triggered
    query = {
        "dataset": dataset,
        "method": flt.get("method", shown_method),
        "final_only": bool(flt.get("final_only", final_only)),
        "actual": flt.get("actual"),
        "predicted": flt.get("predicted"),
        "shape": flt.get("shape"),
        "search": None if cleared else search,
        "filter_query": "" if cleared else filter_query,
        "sort_by": sort_by,
    }
    if query["shape"] and query["method"] != shown_method:
        _a, _d, xy = analysis_service.load(dataset, query["method"])
    try:
        selection = table.select(analysis, xy, query, view.analysed_texts)
    except InvalidInput as error:
        return _empty(str(error))
    data = table.frame(analysis, view.analysed_texts)
    keep_page = triggered == {"sequence-table.page_current"}
    rows, count, current_page = table.page(data, selection.indices, sort_by, page_current if keep_page else 0)
    return {
        "data": overview.table_rows(
            view.analysed_texts(analysis),
            np.diff(analysis.offsets),
            analysis.labels,
            analysis.predicted,
            analysis.confidence,
            names,
            rows,
        ),
        "page_count": count,
        "page": current_page,
        "label": table.label(selection, analysis.n_sequences),
        # a page turn changes no filter: the slice-metrics card is not asked to recompute
        "filter": no_update if keep_page else flt,
        "query": no_update if keep_page else query,
        "clear": "" if cleared else no_update,
    }


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

clientside_callback(
    LASSO_JS,
    Output("analytics-lasso", "data"),
    Input("projection-graph", "selectedData"),
    prevent_initial_call=True,
)
