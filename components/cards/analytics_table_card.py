"""The sequence table card's callbacks: the grid's rows a block at a time (server-side, the infinite
row model), the filters outside it (confusion cell, lasso, search) as one query, choosing a row;
URL and hover sync."""

from __future__ import annotations

import numpy as np
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, no_update

from components import analytics_table as table_view
from components import analytics_view as view
from components import figure_text
from components.cards.analytics_common import refuse
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import schemas, table
from services.validation import InvalidInput, validated

NO_ROWS = {"rowData": [], "rowCount": 0}
# What an empty selection shows: one row saying so. dash-ag-grid (35.3) can lose the next answer after
# one with no rows (it defers that answer, and its own re-render cancels the deferral): never send 0.
NOTHING_MATCHES = {"rowData": [{"id": None, "text": "No sequence matches these filters."}], "rowCount": 1}
# What a dataset not prepared (yet) shows. Every request gets an answer: a block left unanswered stays
# "loading" in the grid's cache, and a later refresh of the cache never asks for it again.
NOT_READY = {"rowData": [{"id": None, "text": "The dataset is not prepared yet."}], "rowCount": 1}


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
    # no refresh: the grid has no rows to drop (its requests wait for a prepared dataset)
    return {"label": message, "filter": {}, "query": None, "clear": no_update, "refresh": no_update}


@callback(
    output={
        "label": Output(ids.ANALYTICS_FILTER_LABEL, "children"),
        "filter": Output(ids.ANALYTICS_FILTER, "data"),
        "query": Output(ids.ANALYTICS_TABLE_QUERY, "data"),
        "clear": Output(ids.SEQUENCE_TABLE, "filterModel"),
        "refresh": Output(ids.ANALYTICS_TABLE_REFRESH, "data"),
    },
    inputs={
        "dataset": Input(ids.ANALYTICS_DATASET, "value"),
        "_prepared": Input(ids.ANALYTICS_PREPARED, "data"),
        "confusion_click": Input(ids.CONFUSION_MATRIX, "clickData"),
        "lasso": Input(ids.ANALYTICS_LASSO, "data"),
        "search": Input(ids.ANALYTICS_SEARCH, "value"),
        "_clear": Input(ids.ANALYTICS_CLEAR_FILTER, "n_clicks"),
        "filter_model": Input(ids.SEQUENCE_TABLE, "filterModel"),
    },
    state={
        "current": State(ids.ANALYTICS_FILTER, "data"),
        "method": State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        "final_only": State(ids.ANALYTICS_FINAL_ONLY, "value"),
        "previous": State(ids.ANALYTICS_TABLE_QUERY, "data"),
    },
)
@validated(schemas.FILTER_TABLE, refuse)
def filter_table(
    dataset: str,
    _prepared: object = None,
    confusion_click: object = None,
    lasso: dict | None = None,
    search: str | None = None,
    _clear: object = None,
    filter_model: str = "",
    current: dict | None = None,
    method: str | None = None,
    final_only: bool = False,
    previous: dict | None = None,
) -> dict:
    """The table's whole filter state as one query, and how many sequences it keeps (the label).

    ``filter_model`` arrives as a filter query (the grid's column filters, checked by
    ``services.table_grid``). The query goes to ``analytics-table-query``: the grid's blocks
    (:func:`get_rows`) and the slice-metrics card select the same rows from it. A change outside
    the grid that changes the query also sets ``analytics-table-refresh``, which makes the grid drop
    its blocks and ask again (its own filters and sort already make it ask; an unchanged query, as
    when the dataset is prepared again, leaves the rows in view alone).
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
        "filter_query": "" if cleared else filter_model,
    }
    if query["shape"] and query["method"] != shown_method:
        _a, _d, xy = analysis_service.load(dataset, query["method"])
    try:
        selection = table.select(analysis, xy, query, view.analysed_texts)
    except InvalidInput as error:
        return _empty(str(error))
    # The grid asks again by itself after its own filter changed, and its first request (the page's
    # opening) already has what the first query holds; an unchanged query leaves its rows alone.
    grid_only = triggered == {f"{ids.SEQUENCE_TABLE}.filterModel"} or not triggered
    same = previous is not None and all(previous.get(k) == v for k, v in query.items())
    return {
        "label": table.label(selection, analysis.n_sequences),
        "filter": flt,
        "query": query,
        "clear": {} if cleared else no_update,
        "refresh": no_update if grid_only or same else query,
    }


def _no_rows(message: str) -> dict:
    """An unreadable request for rows: the message in the page's alert, and an empty block."""
    refuse(message)
    return {"response": NO_ROWS}


@callback(
    output={"response": Output(ids.SEQUENCE_TABLE, "getRowsResponse")},
    inputs={"request": Input(ids.SEQUENCE_TABLE, "getRowsRequest")},
    state={
        "query": State(ids.ANALYTICS_TABLE_QUERY, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
        "method": State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
    },
    prevent_initial_call=True,
)
@validated(schemas.TABLE_ROWS, _no_rows)
def get_rows(
    request: dict | None, query: dict | None, dataset: str | None = None, method: str | None = None
) -> dict:
    """One block of rows for the grid (``startRow`` to ``endRow`` of the sorted, filtered sequences).

    The grid's own sort and column filters come with the request; the other filters from the table
    query. The page's first request may come before the first query: then no filter is set yet, and
    the rows are the dataset's. Without a prepared dataset one row says so (never no answer: the grid
    would keep that block loading); the query that follows its preparation refreshes the grid."""
    if request is None:
        return {"response": no_update}
    if query is None and dataset is None:
        return {"response": NOT_READY}
    if query is None:
        analysis, _dmax, xy, _shown = analysis_service.load_shown(dataset, method)
        query = {"dataset": dataset}
    else:
        analysis, _dmax, xy = analysis_service.load(query["dataset"], query["method"])
    if analysis is None:
        return {"response": NOT_READY}
    try:
        selection = table.select(
            analysis, xy, {**query, "filter_query": request["filter_query"]}, view.analysed_texts
        )
    except InvalidInput as error:
        return _no_rows(str(error))
    if not len(selection.indices):
        return {"response": NOTHING_MATCHES}
    data = table.frame(analysis, view.analysed_texts)
    rows = table.block(data, selection.indices, request["sort_by"], request["start"], request["end"])
    return {
        "response": {
            "rowData": table_view.table_rows(
                view.analysed_texts(analysis),
                np.diff(analysis.offsets),
                analysis.labels,
                analysis.predicted,
                analysis.confidence,
                list(analysis.class_names),
                rows,
            ),
            "rowCount": int(len(selection.indices)),
        }
    }


@callback(
    Output(ids.ANALYTICS_SEARCH, "value"),
    Input(ids.ANALYTICS_CLEAR_FILTER, "n_clicks"),
    prevent_initial_call=True,
)
def clear_search(_clicks: int) -> str:
    return ""


# Choosing a row, marking the selected one and refreshing the grid run in the browser (assets/table.js).
clientside_callback(
    ClientsideFunction("rnnx", "tableSelect"),
    Output(ids.ANALYTICS_SELECTION, "data", allow_duplicate=True),
    Input(ids.SEQUENCE_TABLE, "cellClicked"),
    State(ids.ANALYTICS_DATASET, "value"),
    State(ids.ANALYTICS_SELECTION, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("rnnx", "tableSelectedRow"),
    Output(ids.SEQUENCE_TABLE, "rowClassRules"),
    Input(ids.ANALYTICS_SELECTION, "data"),
    State(ids.ANALYTICS_DATASET, "value"),
)

clientside_callback(
    ClientsideFunction("rnnx", "tableRefresh"),
    Output(ids.SEQUENCE_TABLE, "scrollTo"),
    Input(ids.ANALYTICS_TABLE_REFRESH, "data"),
    prevent_initial_call=True,
)

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
    State(ids.ANALYTICS_LASSO, "data"),
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
