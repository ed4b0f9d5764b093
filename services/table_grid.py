"""The sequence table's AG Grid side: checks of the grid's infinite-model requests, bounded field by field.

The grid (``dash-ag-grid``, ``rowModelType="infinite"``) asks for one block of rows at a time with
``getRowsRequest = {startRow, endRow, sortModel, filterModel}``. :func:`check_rows_request` turns
that into ``{"start", "end", "sort_by", "filter_query"}``: the row range (bounded, at most
:data:`MAX_BLOCK` rows), the sort in :func:`services.table.sort`'s form, and the column filters
written in the table's filter language (:func:`services.table.parse_filter`), so the table card
and the slice-metrics card read one query store and select the same rows. Only the columns of
:data:`services.table.COLUMNS` and the filter types below pass; everything else is refused with
a message.
"""

from __future__ import annotations

import math

from services.table import COLUMNS, MAX_QUERY, MAX_SORT
from services.validation import InvalidInput

MAX_ROW = 10_000_000  # far above any analysis's sequence count (25,000 for the whole IMDB split)
MAX_BLOCK = 500  # rows in one request; the grid asks for BLOCK_SIZE
BLOCK_SIZE = 100
MAX_FILTER_TEXT = 80  # characters of one text filter: all columns' filters stay within MAX_QUERY
MAX_NUMBER = 1e12
MAX_CONDITIONS = 2
# AG Grid's filter types → the table's operators; a range is two clauses.
TEXT_TYPES = {"contains": "contains", "equals": "=", "notEqual": "!="}
NUMBER_TYPES = {
    "equals": "=",
    "notEqual": "!=",
    "lessThan": "<",
    "lessThanOrEqual": "<=",
    "greaterThan": ">",
    "greaterThanOrEqual": ">=",
    "inRange": ">=",  # and <= filterTo (the grid's range filter is inclusive: inRangeInclusive)
}
PERCENT_COLUMNS = frozenset({"confidence"})  # shown as a percentage, filtered in percent
# The grid also sends its ``context`` (none here) and its ``api`` (an object JSON writes as ``{}``).
_REQUEST_KEYS = frozenset({"startRow", "endRow", "sortModel", "filterModel", "context", "api"})
_CONDITION_KEYS = frozenset({"filterType", "type", "filter", "filterTo"})


def _row(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"The table's {what} must be a whole number.")
    if value != int(value) or not 0 <= value <= MAX_ROW:
        raise InvalidInput(f"The table's {what} must be a whole number between 0 and {MAX_ROW:,}.")
    return int(value)


def check_sort_model(value: object) -> list[dict]:
    """The grid's ``sortModel`` (``[{"colId", "sort"}]``) as ``[{"column_id", "direction"}]``."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SORT:
        raise InvalidInput(f"The sort order must be a list of at most {MAX_SORT} columns.")
    clean = []
    for entry in value:
        if not isinstance(entry, dict) or not {"colId", "sort"} <= set(entry) <= {"colId", "sort", "type"}:
            raise InvalidInput("A sort entry is malformed.")
        if entry["colId"] not in COLUMNS or entry["sort"] not in ("asc", "desc"):
            raise InvalidInput("The table cannot sort by that column or direction.")
        if entry.get("type") not in (None, "default"):
            raise InvalidInput("The table sorts by value only.")
        clean.append({"column_id": entry["colId"], "direction": entry["sort"]})
    return clean


def _number(value: object, column: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"The filter on “{column}” needs a finite number.")
    if abs(value) > MAX_NUMBER:
        raise InvalidInput(f"The filter on “{column}” is out of range.")
    return f"{float(value)!r}{'%' if column in PERCENT_COLUMNS else ''}"


def _text(value: object, column: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"The filter on “{column}” needs some text.")
    if len(value) > MAX_FILTER_TEXT:
        raise InvalidInput(f"The filter on “{column}” is longer than {MAX_FILTER_TEXT} characters.")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _condition(column: str, entry: object) -> list[str]:
    """The clauses (``{column} op value``) of one filter condition of the grid."""
    if not isinstance(entry, dict) or not set(entry) <= _CONDITION_KEYS:
        raise InvalidInput(f"The filter on “{column}” is malformed.")
    numeric = COLUMNS[column] == "numeric"
    if entry.get("filterType", "number" if numeric else "text") != ("number" if numeric else "text"):
        raise InvalidInput(f"The filter on “{column}” is of the wrong kind.")
    kind = entry.get("type")
    types = NUMBER_TYPES if numeric else TEXT_TYPES
    if kind not in types:
        raise InvalidInput(f"The filter type “{str(kind)[:40]}” is not supported on “{column}”.")
    value = _number if numeric else _text
    clauses = [f"{{{column}}} {types[kind]} {value(entry.get('filter'), column)}"]
    if kind == "inRange":
        clauses.append(f"{{{column}}} <= {value(entry.get('filterTo'), column)}")
    return clauses


def check_filter_model(value: object) -> str:
    """The grid's ``filterModel`` as a filter query (``{length} > 30.0 && {text} contains "great"``).

    One entry per known column: a condition, or ``{"operator": "AND", "conditions": [...]}`` (at most
    two; the table has no "or")."""
    if value is None:
        return ""
    if not isinstance(value, dict) or len(value) > len(COLUMNS):
        raise InvalidInput("The column filters are malformed.")
    clauses: list[str] = []
    for column, entry in value.items():
        if column not in COLUMNS:
            raise InvalidInput(f"There is no column “{str(column)[:40]}” to filter.")
        if isinstance(entry, dict) and "conditions" in entry:
            conditions = entry["conditions"]
            if set(entry) - {"filterType", "operator", "conditions"} or entry.get("operator") != "AND":
                raise InvalidInput(f"The filters on “{column}” can only be combined with AND.")
            if not isinstance(conditions, list) or not 0 < len(conditions) <= MAX_CONDITIONS:
                raise InvalidInput(f"The filter on “{column}” has too many conditions.")
            for condition in conditions:
                clauses.extend(_condition(column, condition))
        else:
            clauses.extend(_condition(column, entry))
    query = " && ".join(clauses)
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"The column filters are longer than {MAX_QUERY:,} characters.")
    return query


def check_rows_request(value: object) -> dict | None:
    """The grid's ``getRowsRequest`` as ``{"start", "end", "sort_by", "filter_query"}`` (None: none yet)."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or not set(value) <= _REQUEST_KEYS
        or value.get("context") is not None
        or value.get("api") not in (None, {})
    ):
        raise InvalidInput("The table's request for rows is malformed.")
    start, end = _row(value.get("startRow"), "first row"), _row(value.get("endRow"), "last row")
    if not start < end <= start + MAX_BLOCK:
        raise InvalidInput(f"The table asks for at most {MAX_BLOCK} rows at a time.")
    return {
        "start": start,
        "end": end,
        "sort_by": check_sort_model(value.get("sortModel")),
        "filter_query": check_filter_model(value.get("filterModel")),
    }
