"""The sequence table card's callbacks: one page of rows after the filters (server-side), the lasso's outline,
clearing the search; URL and hover sync."""

from __future__ import annotations

import numpy as np
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, no_update

from components import analytics_overview as overview
from components import analytics_view as view
from components import figure_text
from components.cards.analytics_common import refuse
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import schemas, table
from services.validation import InvalidInput, validated


def _cell(confusion_click: object, names: list[str]) -> dict:
    """``{"actual", "predicted"}`` of a clicked confusion-matrix cell, or nothing.

    The matrix's categories are the class names as a figure shows them (escaped), and so are its clicks."""
    names = figure_text.literals(names)
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
        "data": Output(ids.SEQUENCE_TABLE, "data"),
        "page_count": Output(ids.SEQUENCE_TABLE, "page_count"),
        "page": Output(ids.SEQUENCE_TABLE, "page_current"),
        "label": Output(ids.ANALYTICS_FILTER_LABEL, "children"),
        "filter": Output(ids.ANALYTICS_FILTER, "data"),
        "query": Output(ids.ANALYTICS_TABLE_QUERY, "data"),
        "clear": Output(ids.SEQUENCE_TABLE, "filter_query"),
    },
    inputs={
        "dataset": Input(ids.ANALYTICS_DATASET, "value"),
        "_prepared": Input(ids.ANALYTICS_PREPARED, "data"),
        "confusion_click": Input(ids.CONFUSION_MATRIX, "clickData"),
        "lasso": Input(ids.ANALYTICS_LASSO, "data"),
        "search": Input(ids.ANALYTICS_SEARCH, "value"),
        "_clear": Input(ids.ANALYTICS_CLEAR_FILTER, "n_clicks"),
        "page_current": Input(ids.SEQUENCE_TABLE, "page_current"),
        "sort_by": Input(ids.SEQUENCE_TABLE, "sort_by"),
        "filter_query": Input(ids.SEQUENCE_TABLE, "filter_query"),
    },
    state={
        "current": State(ids.ANALYTICS_FILTER, "data"),
        "method": State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        "final_only": State(ids.ANALYTICS_FINAL_ONLY, "value"),
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
    cleared = f"{ids.ANALYTICS_CLEAR_FILTER}.n_clicks" in triggered
    reset = cleared or f"{ids.ANALYTICS_DATASET}.value" in triggered
    flt = {} if reset else dict(current or {})
    if f"{ids.CONFUSION_MATRIX}.clickData" in triggered:
        flt.update(_cell(confusion_click, names))
    if f"{ids.ANALYTICS_LASSO}.data" in triggered:
        flt.pop("shape", None)
        if lasso:  # the lasso is kept with the view it was drawn on
            flt.update(shape=lasso, final_only=final_only, method=shown_method)
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
    keep_page = triggered == {f"{ids.SEQUENCE_TABLE}.page_current"}
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
    Output(ids.ANALYTICS_SEARCH, "value"),
    Input(ids.ANALYTICS_CLEAR_FILTER, "n_clicks"),
    prevent_initial_call=True,
)
def clear_search(_clicks: int) -> str:
    return ""


# The view in the URL, hover linking and the lasso's outline run in the browser (assets/analytics.js).
clientside_callback(
    ClientsideFunction("rnnx", "analyticsSyncUrl"),
    Output(ids.ANALYTICS_URL_SYNC, "data"),
    Input(ids.ANALYTICS_DATASET, "value"),
    Input(ids.ANALYTICS_PROJECTION_METHOD, "value"),
    Input(ids.ANALYTICS_SELECTION, "data"),
    Input(ids.DISTANCE_THRESHOLD, "value"),
    Input(ids.ANALYTICS_EP_THRESHOLD, "value"),
    Input(ids.ANALYTICS_LABEL_RULES, "value"),
    Input(ids.ANALYTICS_JUMP_AUTO, "value"),
)

clientside_callback(
    ClientsideFunction("rnnx", "analyticsGraphHover"),
    Output(ids.ANALYTICS_HOVER, "data"),
    Input(ids.PROJECTION_GRAPH, "hoverData"),
    Input(ids.EP_HEATMAP, "hoverData"),
    Input(ids.DISTANCE_GRAPH, "hoverData"),
    prevent_initial_call=True,
)

# The projection's lasso or box, as its outline only (at most 2,000 vertices): the server finds
# the states inside among all drawn states, even those the browser never held.
clientside_callback(
    ClientsideFunction("rnnx", "analyticsLasso"),
    Output(ids.ANALYTICS_LASSO, "data"),
    Input(ids.PROJECTION_GRAPH, "selectedData"),
    prevent_initial_call=True,
)


def warm(dataset: str) -> bool:
    """Read a prepared dataset's analysis, PCA projection and table columns into this process, the
    work a fresh worker's first visitor would otherwise wait for; False when it is not prepared."""
    analysis, _dmax, xy, _shown = analysis_service.load_shown(dataset, "pca")
    if analysis is None or xy is None:
        return False
    table.frame(analysis, view.analysed_texts)
    return True
