"""The sequence table's pure parts: its rows, and the Dash AG Grid that shows them (infinite row model).

The table card (``components/cards/analytics_table_card.py``) answers the grid's requests for
blocks of rows; ``assets/table.js`` turns a click into the selection and marks the selected row.
"""

from __future__ import annotations

import dash_ag_grid as dag
import numpy as np
from dash import dcc, html

from components.ids import analytics as ids
from services.table_grid import BLOCK_SIZE


def table_rows(
    texts: list[str],
    lengths: np.ndarray,
    labels: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    class_names: list[str],
    indices: np.ndarray | None = None,
) -> list[dict]:
    """Rows of the sequence table (``id`` is the sequence index, also the grid's row id).

    ``texts``: what the text column shows, the analysed part of each text (``analysed_texts``).
    """
    idx = np.arange(len(texts)) if indices is None else np.asarray(indices, dtype=int)
    rows = []
    for k in idx:
        k = int(k)
        text = texts[k]
        rows.append(
            {
                "id": k,
                "length": int(lengths[k]),
                "actual": class_names[int(labels[k])],
                "predicted": class_names[int(predicted[k])],
                "confidence": round(float(confidence[k]), 3),
                "correct": "yes" if labels[k] == predicted[k] else "no",
                "text": text[:90] + ("…" if len(text) > 90 else ""),
            }
        )
    return rows


# The grid's cells: numbers as the old table showed them, correctness in colour (assets/analytics.css);
# a row not loaded yet has no data.
_PERCENT = {"function": "params.value == null ? '' : d3.format('.0%')(params.value)"}
# The one row of an empty selection (no id, its note in ``text``) spans the whole width from the id column.
_NOTE = "params.data != null && params.data.id == null"
_ID_COLUMN = {
    "valueFormatter": {
        "function": "params.value != null ? '' + params.value : params.data ? params.data.text : ''"
    },
    "colSpan": {"function": f"{_NOTE} ? 7 : 1"},
    "cellClassRules": {"rnnx-cell-note": _NOTE},
}
_CORRECT = {"rnnx-cell-wrong": "params.value === 'no'", "rnnx-cell-right": "params.value === 'yes'"}
_TEXT_FILTER = {
    "filter": "agTextColumnFilter",
    "filterParams": {"filterOptions": ["contains", "equals", "notEqual"], "maxNumConditions": 1},
}


def _number_filter(default: str) -> dict:
    """A number column's filter: the comparisons the server reads (services.table_grid), one condition."""
    options = ["equals", "notEqual", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual"]
    return {
        "filter": "agNumberColumnFilter",
        "filterParams": {
            "filterOptions": [*options, "inRange"],
            "defaultOption": default,
            "inRangeInclusive": True,
            "maxNumConditions": 1,
        },
        "type": "rightAligned",
    }


def selected_row_rules(seq: int | None) -> dict:
    """The grid's ``rowClassRules`` marking the selected sequence's row (as assets/table.js writes them)."""
    rule = "false" if seq is None else f"params.data != null && params.data.id === {int(seq)}"
    return {"rnnx-row-selected": rule}


def sequence_table(table_id: str) -> html.Div:
    """The sortable, filterable table of analysed sequences: a Dash AG Grid on the infinite row model.

    Rows come from the server a block at a time (``getRowsRequest`` → ``getRowsResponse``, the table
    card), sorted and filtered there over every sequence; the grid only holds the blocks in view.
    The store beside it tells the grid to drop its blocks when a filter outside it changes."""
    columns = [
        {"field": "id", "headerName": "id", "width": 70, **_number_filter("equals"), **_ID_COLUMN},
        {"field": "length", "headerName": "words", "width": 90, **_number_filter("greaterThanOrEqual")},
        {"field": "actual", "headerName": "actual", "width": 100, **_TEXT_FILTER},
        {"field": "predicted", "headerName": "predicted", "width": 105, **_TEXT_FILTER},
        {
            "field": "confidence",
            "headerName": "confidence",
            "width": 115,
            "valueFormatter": _PERCENT,
            "headerTooltip": "Filter in percent: ≥ 90 keeps the sequences predicted with 90% or more.",
            **_number_filter("greaterThanOrEqual"),
        },
        {
            "field": "correct",
            "headerName": "correct",
            "width": 85,
            "cellClassRules": _CORRECT,
            **_TEXT_FILTER,
        },
        {
            "field": "text",
            "headerName": "analysed text",
            "flex": 1,
            "minWidth": 140,
            "headerTooltip": "The analysed part: the words the model read, the last tokens of each text. "
            "“…” marks a text that starts earlier.",
            "tooltipField": "text",
            **_TEXT_FILTER,
        },
    ]
    grid = dag.AgGrid(
        id=table_id,
        columnDefs=columns,
        defaultColDef={
            "sortable": True,
            "floatingFilter": True,
            "resizable": True,
            "suppressHeaderMenuButton": True,
            "cellDataType": False,
        },
        # Sorted, filtered and cut into blocks on the server (services.table): the browser holds a few blocks.
        rowModelType="infinite",
        getRowId="'' + params.data.id",
        rowClassRules=selected_row_rules(None),
        eventListeners={"cellKeyDown": ["rnnxTableKey(params, setGridProps)"]},  # arrows select (table.js)
        dashGridOptions={
            "cacheBlockSize": BLOCK_SIZE,
            "maxConcurrentDatasourceRequests": 1,  # one answer per request: dash-ag-grid keeps the last
            "rowHeight": 30,
            "headerHeight": 34,
            "floatingFiltersHeight": 34,
            "tooltipShowDelay": 300,
            "theme": {"function": _THEME},
        },
        className="rnnx-grid",
        style={"height": 400, "width": "100%"},
    )
    return html.Div([grid, dcc.Store(id=ids.ANALYTICS_TABLE_REFRESH)])


_THEME = (
    "themeQuartz.withParams({fontFamily: 'Lato, system-ui, sans-serif', fontSize: 13, "
    "headerFontWeight: 700, headerBackgroundColor: '#f8f9fa', accentColor: '#0d6efd', "
    "borderRadius: 4, wrapperBorderRadius: 6, cellHorizontalPadding: 8, spacing: 6})"
)
