"""The server-side sequence table: filter query parser, filters, sort, pages, and the lasso's geometry."""

from __future__ import annotations

import numpy as np
import pytest

from model import geometry, memo
from services import table, table_grid
from services.validation import InvalidInput
from tests.support.synthetic import synthetic_analysis, synthetic_projection


def _shown(analysis) -> list[str]:
    return [" ".join(words) for words in analysis.words]


@pytest.fixture()
def analysis():
    memo.forget("table")
    yield synthetic_analysis("reuters", 120, seed=3)
    memo.forget("table")


def _select(analysis, xy=None, **query) -> np.ndarray:
    return table.select(analysis, xy, query, _shown).indices


# ---------------------------------------------------------------- the parser


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('{correct} contains "no"', [("correct", "contains", "no")]),
        ("{correct} contains no", [("correct", "contains", "no")]),
        ("{confidence} > 0.5", [("confidence", ">", 0.5)]),
        ("{confidence} ge 50%", [("confidence", ">=", 0.5)]),
        ("{id} = 5 && {actual} eq 'Grain'", [("id", "=", 5.0), ("actual", "=", "grain")]),
        ("{length} lt 10 && {length} != 3", [("length", "<", 10.0), ("length", "!=", 3.0)]),
        ("{length} <= 9 && {id} ne 0 && {id} gt 1", [("length", "<=", 9), ("id", "!=", 0), ("id", ">", 1)]),
        ('{text} contains "a && b"', [("text", "contains", "a && b")]),
        ("{text} contains rock and roll", [("text", "contains", "rock and roll")]),
        ('{text} icontains "it\\"s"', [("text", "contains", 'it"s')]),
        ("{id} s= 3", [("id", "=", 3.0)]),
        ("", []),
    ],
)
def test_the_parser_reads_datatable_filter_queries(query, expected):
    assert [(c.column, c.op, c.value) for c in table.parse_filter(query)] == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{nope} = 1", "no column"),
        ("{id} = abc", "not one"),
        ("{id} = inf", "finite"),
        ("{id} is blank", "not supported"),
        ("{id} datestartswith 2", "not supported"),
        ("garbage", "Could not read"),
        ("{id} = 1 &&", "ends with &&"),
        ('{text} contains "a" || {id} = 2', "joined by &&"),
        ("{text} contains", "no value"),
        ("{id} = " + "1" * 2_001, "longer than"),
    ],
)
def test_an_unreadable_query_raises_a_readable_message(query, message):
    with pytest.raises(table.QueryError, match=message):
        table.parse_filter(query)


# ---------------------------------------------------------------- filters


def test_each_filter_matches_a_plain_python_reference(analysis):
    names = [n.lower() for n in analysis.class_names]
    n = analysis.n_sequences
    lengths = np.diff(analysis.offsets)
    shown = [t.lower() for t in _shown(analysis)]
    assert _select(analysis).tolist() == list(range(n))
    assert _select(analysis, actual=1, predicted=2).tolist() == [
        k for k in range(n) if analysis.labels[k] == 1 and analysis.predicted[k] == 2
    ]
    assert _select(analysis, search="  GREAT ").tolist() == [
        k for k in range(n) if "great" in analysis.texts[k].lower()
    ]
    expected = [k for k in range(n) if lengths[k] >= 20 and analysis.confidence[k] < 0.7]
    assert _select(analysis, filter_query="{length} >= 20 && {confidence} < 70%").tolist() == expected
    assert _select(analysis, filter_query="{correct} contains no").tolist() == [
        k for k in range(n) if analysis.labels[k] != analysis.predicted[k]
    ]
    assert _select(analysis, filter_query='{predicted} = "GRAIN"').tolist() == [
        k for k in range(n) if names[analysis.predicted[k]] == "grain"
    ]
    assert _select(analysis, filter_query="{actual} contains e").tolist() == [
        k for k in range(n) if "e" in names[analysis.labels[k]]
    ]
    assert _select(analysis, filter_query="{text} contains 'not good'").tolist() == [
        k for k in range(n) if "not good" in shown[k]
    ]
    assert _select(analysis, filter_query="{id} contains 1").tolist() == [
        k for k in range(n) if "1" in str(k)
    ]
    assert _select(analysis, filter_query="{id} = 7").tolist() == [7]


def test_filters_combine_and_the_label_names_each(analysis):
    sel = table.select(
        analysis,
        None,
        {"actual": 0, "predicted": 0, "search": "movie", "filter_query": "{length} > 10"},
        _shown,
    )
    base = set(_select(analysis, actual=0, predicted=0).tolist())
    assert set(sel.indices.tolist()) == base & set(_select(analysis, search="movie").tolist()) & set(
        _select(analysis, filter_query="{length} > 10").tolist()
    )
    text = table.label(sel, analysis.n_sequences)
    assert text.startswith(f"{len(sel.indices)} of 120 sequences · actual earn → predicted earn · “movie”")
    assert "column filters" in text


def test_a_bad_column_filter_is_left_out_with_a_notice(analysis):
    sel = table.select(analysis, None, {"actual": 0, "predicted": 0, "filter_query": "{id} = x"}, _shown)
    assert sel.indices.tolist() == _select(analysis, actual=0, predicted=0).tolist()
    assert "column filter left out" in table.label(sel, analysis.n_sequences)


def test_a_confusion_cell_outside_the_classes_is_refused(analysis):
    with pytest.raises(InvalidInput, match="classes"):
        _select(analysis, actual=9, predicted=0)


def test_search_finds_a_word_in_each_text_once_and_never_across_texts():
    blob = table._blob(["Ab", "bA", "x", "ABAB", ""])
    assert table.contains(blob, "ab").tolist() == [True, False, False, True, False]
    assert table.contains(blob, "ba").tolist() == [False, True, False, True, False]
    assert table.contains(blob, "bb").tolist() == [False] * 5  # "Ab" + "bA" only meet across a boundary
    assert table.contains(blob, "").all()


# ---------------------------------------------------------------- sort and pages


def test_sort_by_several_columns_then_by_index(analysis):
    data = table.frame(analysis, _shown)
    idx = np.arange(analysis.n_sequences)
    names = [n.lower() for n in analysis.class_names]
    order = table.sort(
        data, idx, [{"column_id": "actual", "direction": "desc"}, {"column_id": "length", "direction": "asc"}]
    )
    lengths = np.diff(analysis.offsets)
    expected = sorted(
        range(len(idx)), key=lambda k: (names[analysis.labels[k]], -lengths[k], -k), reverse=True
    )
    assert order.tolist() == expected
    shown = [t.lower() for t in _shown(analysis)]
    by_text = table.sort(data, idx, [{"column_id": "text", "direction": "asc"}]).tolist()
    assert by_text == sorted(range(len(idx)), key=lambda k: (shown[k], k))
    by_conf = table.sort(data, idx, [{"column_id": "confidence", "direction": "desc"}]).tolist()
    assert by_conf == sorted(range(len(idx)), key=lambda k: (-analysis.confidence[k], k))
    correct = table.sort(data, idx, [{"column_id": "correct", "direction": "asc"}]).tolist()
    wrong = int((analysis.labels != analysis.predicted).sum())
    assert all(analysis.labels[k] != analysis.predicted[k] for k in correct[:wrong])


def test_blocks_cover_the_rows_once_and_a_block_past_the_end_is_empty(analysis):
    data = table.frame(analysis, _shown)
    idx = _select(analysis, filter_query="{length} > 12")
    sort_by = [{"column_id": "confidence", "direction": "asc"}]
    blocks = [
        table.block(data, idx, sort_by, start, start + 7).tolist() for start in range(0, len(idx) + 7, 7)
    ]
    assert sum(blocks, []) == table.sort(data, idx, sort_by).tolist() and blocks[-1] == []
    assert table.block(data, idx, None, 2, 5).tolist() == idx[2:5].tolist()
    assert table.block(data, idx[:0], sort_by, 0, 100).size == 0


def test_the_grids_filters_become_the_tables_filter_query(analysis):
    model = {
        "length": {"filterType": "number", "type": "inRange", "filter": 10, "filterTo": 30},
        "confidence": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 80},
        "text": {"filterType": "text", "type": "contains", "filter": 'say "hi" \\ bye'},
        "actual": {
            "filterType": "text",
            "operator": "AND",
            "conditions": [
                {"filterType": "text", "type": "notEqual", "filter": "Positive"},
                {"filterType": "text", "type": "contains", "filter": "neg"},
            ],
        },
    }
    query = table_grid.check_filter_model(model)
    clauses = [(c.column, c.op, c.value) for c in table.parse_filter(query)]
    assert clauses == [
        ("length", ">=", 10.0),
        ("length", "<=", 30.0),
        ("confidence", ">=", 0.8),  # the grid filters the percentage it shows
        ("text", "contains", 'say "hi" \\ bye'),
        ("actual", "!=", "positive"),
        ("actual", "contains", "neg"),
    ]
    assert table_grid.check_filter_model(None) == table_grid.check_filter_model({}) == ""
    sort = [{"colId": "confidence", "sort": "desc"}, {"colId": "id", "sort": "asc"}]
    assert table_grid.check_sort_model(sort) == [
        {"column_id": "confidence", "direction": "desc"},
        {"column_id": "id", "direction": "asc"},
    ]
    request = {"startRow": 100, "endRow": 200, "sortModel": sort, "filterModel": {}}
    assert table_grid.check_rows_request(request) == {
        "start": 100,
        "end": 200,
        "sort_by": table_grid.check_sort_model(sort),
        "filter_query": "",
    }


def test_the_grid_offers_only_what_the_server_reads():
    from components import analytics_table as table_view

    grid = table_view.sequence_table("t").children[0]
    assert grid.rowModelType == "infinite"
    assert [c["field"] for c in grid.columnDefs] == list(table.COLUMNS)
    for column in grid.columnDefs:
        numeric = table.COLUMNS[column["field"]] == "numeric"
        offered = set(column["filterParams"]["filterOptions"])
        assert offered <= set(table_grid.NUMBER_TYPES if numeric else table_grid.TEXT_TYPES)
        assert column["filterParams"]["maxNumConditions"] <= table_grid.MAX_CONDITIONS
    assert grid.dashGridOptions["cacheBlockSize"] <= table_grid.MAX_BLOCK
    assert table_view.selected_row_rules(7) == {
        "rnnx-row-selected": "params.data != null && params.data.id === 7"
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"startRow": -1, "endRow": 10},
        {"startRow": 0.5, "endRow": 10},
        {"startRow": True, "endRow": 10},
        {"startRow": "0", "endRow": 10},
        {"startRow": 10, "endRow": 10},
        {"startRow": 0, "endRow": 501},
        {"startRow": 10**8, "endRow": 10**8 + 1},
        {"startRow": 0, "endRow": float("inf")},
        {"startRow": 0, "endRow": 10, "extra": 1},
        {"startRow": 0, "endRow": 10, "context": {"x": 1}},
        {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "__class__", "sort": "asc"}]},
        {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "id", "sort": "up"}]},
        {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "id", "sort": "asc"}] * 9},
        {"startRow": 0, "endRow": 10, "filterModel": {"secret": {"type": "contains", "filter": "x"}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"text": {"type": "startsWith", "filter": "x"}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"text": {"type": "contains", "filter": "x" * 81}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"text": {"type": "contains", "filter": 5}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"id": {"filterType": "text", "type": "contains"}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"id": {"type": "equals", "filter": float("nan")}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"id": {"type": "inRange", "filter": 1}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"id": {"type": "blank"}}},
        {"startRow": 0, "endRow": 10, "filterModel": {"id": {"operator": "OR", "conditions": []}}},
        {"startRow": 0, "endRow": 10, "filterModel": "{id} > 3"},
        [0, 10],
    ],
)
def test_malformed_grid_requests_are_refused(bad):
    with pytest.raises(InvalidInput):
        table_grid.check_rows_request(bad)


def test_the_frame_is_built_once_per_analysis(analysis):
    calls = []

    def shown(a):
        calls.append(1)
        return _shown(a)

    assert table.frame(analysis, shown) is table.frame(analysis, shown)
    assert len(calls) == 1


# ---------------------------------------------------------------- the lasso


def _random_polygon(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A star-shaped polygon, or a self-crossing one (even-odd rule decides)."""
    angle = rng.uniform(0, 2 * np.pi, n)
    angle = np.sort(angle) if rng.random() < 0.5 else angle
    radius = rng.uniform(0.1, 0.5, n)
    return 0.5 + radius * np.cos(angle), 0.5 + radius * np.sin(angle)


@pytest.mark.parametrize("seed", range(12))
def test_point_in_polygon_matches_the_plain_python_reference(seed):
    rng = np.random.default_rng(seed)
    px, py = _random_polygon(rng, int(rng.integers(3, 40)))
    px, py = px.astype(np.float32).astype(float), py.astype(np.float32).astype(float)  # exact in float32
    x, y = rng.random(1_500).astype(np.float32), rng.random(1_500).astype(np.float32)
    y[: len(py)] = py  # some points level with a vertex: the half-open rule counts it once
    x[-len(px) :], y[-len(py) :] = px, py  # and some on the vertices themselves
    got = geometry.in_polygon(x, y, px, py)
    ref = geometry.in_polygon_reference(x.tolist(), y.tolist(), px.tolist(), py.tolist())
    assert got.tolist() == ref


def test_point_in_polygon_edge_cases():
    square_x, square_y = [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]
    x = np.array([0.5, 1.5, -0.1, 0.5, 0.999])
    y = np.array([0.5, 0.5, 0.5, 1.5, 0.001])
    assert geometry.in_polygon(x, y, square_x, square_y).tolist() == [True, False, False, False, True]
    assert not geometry.in_polygon(x, y, [0.0, 1.0], [0.0, 1.0]).any()  # fewer than 3 vertices
    assert not geometry.in_polygon(x[:0], y[:0], square_x, square_y).size
    flat = geometry.in_polygon(x, y, [0.0, 1.0, 2.0], [0.5, 0.5, 0.5])  # no area
    assert not flat.any()
    assert geometry.in_box(x, y, (1.0, 0.0), (0.0, 1.0)).tolist() == [True, False, False, False, True]


def test_the_lasso_selects_the_sequences_owning_a_state_inside(analysis):
    xy = synthetic_projection(analysis, seed=2).astype(np.float32) * 1000
    owner = analysis.sequence_of_state()
    lo, hi = np.percentile(xy, 30, axis=0), np.percentile(xy, 60, axis=0)
    lasso = {"lasso": {"x": [lo[0], hi[0], hi[0], lo[0]], "y": [lo[1], lo[1], hi[1], hi[1]]}}
    inside = (xy[:, 0] > lo[0]) & (xy[:, 0] < hi[0]) & (xy[:, 1] > lo[1]) & (xy[:, 1] < hi[1])
    assert _select(analysis, xy, shape=lasso).tolist() == sorted(set(owner[inside].tolist()))
    box = {"box": {"x": [hi[0], lo[0]], "y": [lo[1], hi[1]]}}
    assert _select(analysis, xy, shape=box).tolist() == sorted(set(owner[inside].tolist()))
    final = analysis.offsets[1:] - 1
    expected = [k for k in range(analysis.n_sequences) if inside[final[k]]]
    assert _select(analysis, xy, shape=lasso, final_only=True).tolist() == expected
    sel = table.select(analysis, xy, {"shape": box}, _shown)
    assert "box selection" in table.label(sel, analysis.n_sequences)
    assert _select(analysis, None, shape=lasso).tolist() == list(
        range(analysis.n_sequences)
    )  # no projection yet


# ---------------------------------------------------------------- checks of browser values


def test_sort_and_outline_checks():
    assert table.check_sort(None) == []
    assert table.check_sort([{"column_id": "id", "direction": "desc"}]) == [
        {"column_id": "id", "direction": "desc"}
    ]
    for bad in ("id", [{"column_id": "x", "direction": "asc"}], [{"column_id": "id"}], [1], [{}] * 9):
        with pytest.raises(InvalidInput):
            table.check_sort(bad)
    assert table.check_shape(None) is None
    assert table.check_shape({"box": {"x": [1, 2], "y": [3, 4]}}) == {
        "box": {"x": [1.0, 2.0], "y": [3.0, 4.0]}
    }
    for bad in (
        {"box": {"x": [1], "y": [1]}},
        {"lasso": {"x": [1, 2, 3], "y": [1, 2]}},
        {"lasso": {"x": [1, None, 3], "y": [1, 2, 3]}},
        {"lasso": {"x": [1, float("nan"), 3], "y": [1, 2, 3]}},
        {"lasso": {"x": list(range(5_001)), "y": list(range(5_001))}},
        {"circle": {"x": [], "y": []}},
        {"lasso": [1, 2]},
        [1, 2],
    ):
        with pytest.raises(InvalidInput):
            table.check_shape(bad)
