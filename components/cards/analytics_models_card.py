"""The compare card's "Models" tab: a baseline against another model on the same texts (callbacks).

Both models' projections are drawn in one aligned basis (``services.compare_models``: B laid onto A by
orthogonal Procrustes on the shared texts' final states), so the two panels share their axes; the
table lists the texts they classify differently. The selection is linked in both panels: a selection
on the page's dataset (when it is one of the two) draws its path in both through the hub
(``MODELS_VIEW``); a clicked disagreement row selects that sequence (or, when the page shows a third
dataset, draws it here only).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, Patch, State, callback, ctx, no_update

from components import analytics_compare as compare_fig
from components import analytics_models as models_view
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import figure_text
from components.cards.analytics_common import refuse, selected
from components.cards.selection_view import Common, SelectionView
from components.ids import analytics as ids
from services import compare_models as compare_service
from services.validation import Schema, validated

SIDE_POINTS = 30000  # states drawn per panel (a seeded sample; the selected path is drawn whole)
HEIGHT = 340


def _accuracy(analysis) -> str:
    acc = analysis.summary.get("test_accuracy")
    return f" · acc. {acc:.1%}" if isinstance(acc, int | float) else ""


def comparison_figure(comparison: compare_service.ModelComparison, titles: tuple[str, str]) -> dict:
    """Both models' states (a sample of each) in the shared aligned frame, coloured by their own EP."""
    panels = []
    for title, analysis, xy in (
        (titles[0], comparison.analysis_a, comparison.xy_a),
        (titles[1], comparison.analysis_b, comparison.xy_b),
    ):
        rows = compare_fig.subsample(len(xy), SIDE_POINTS)
        state_labels = np.repeat(np.asarray(analysis.labels), np.diff(analysis.offsets))
        marker = projection.base_colors(analysis.ep, state_labels, list(analysis.class_names), "ep")
        panels.append((f"{title}{_accuracy(analysis)}", xy[rows], {**marker, "color": marker["color"][rows]}))
    return compare_fig.aligned_figure(panels, HEIGHT)


def comparison_stats(comparison: compare_service.ModelComparison) -> list:
    """Badges: how many texts are shared, how many disagree, how well the two bases align."""
    shared = len(comparison.rows_a)
    differ = len(comparison.disagree)
    return [
        dbc.Badge(f"{shared:,} shared texts", color="light", text_color="dark", className="me-2"),
        dbc.Badge(
            f"{differ:,} disagree ({differ / max(shared, 1):.1%})",
            color="warning" if differ else "success",
            text_color="dark" if differ else None,
            className="me-2",
        ),
        dbc.Badge(
            f"aligned by Procrustes · fit {comparison.fit:.2f}",
            color="light",
            text_color="dark",
            className="me-2",
            title="B's projection rotated, mirrored, scaled and shifted onto A's, fitted on the final "
            "states of the shared texts; 1.0 means they land exactly on each other. Both panels share axes.",
        ),
    ]


def paths_patch(comparison: compare_service.ModelComparison, seq_a: int | None, seq_b: int | None) -> Patch:
    """A patch of :func:`comparison_figure` drawing one text's path in each panel (empty where None)."""
    patch = Patch()
    for panel, (which, seq) in enumerate((("a", seq_a), ("b", seq_b))):
        xy, ep, words = compare_service.trajectory(comparison, which, seq)
        patch["data"][compare_fig.PATH_SLOTS[panel]] = compare_fig.path_trace(xy, ep, words, panel)
    return patch


def _titles(a: str, b: str) -> tuple[str, str]:
    """The panels' titles: which side, and the model's name as the dataset list shows it (escaped)."""
    return (
        f"<b>Baseline</b> · {figure_text.literal(_short(compare_service.label(a)))}",
        f"<b>Other</b> · {figure_text.literal(_short(compare_service.label(b)))}",
    )


def _short(text: str, n: int = 30) -> str:
    """``text`` cut to ``n`` characters (a panel title shares the row with the other one)."""
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------- the pickers


@callback(
    output=dict(
        baseline_options=Output(ids.ANALYTICS_MODELS_BASELINE, "options"),
        baseline=Output(ids.ANALYTICS_MODELS_BASELINE, "value"),
        other_options=Output(ids.ANALYTICS_MODELS_OTHER, "options"),
    ),
    inputs=dict(
        dataset=Input(ids.ANALYTICS_DATASET, "value"),
        _uploads=Input(ids.ANALYTICS_UPLOADS, "data"),
    ),
    state=dict(baseline=State(ids.ANALYTICS_MODELS_BASELINE, "value")),
)
@validated(compare_service.LIST_MODELS, refuse)
def list_models(dataset, _uploads, baseline) -> dict:
    """The models this session may compare; the baseline follows the page's dataset."""
    options = compare_service.model_choices()
    values = {item["value"] for item in options}
    if ctx.triggered_id == ids.ANALYTICS_DATASET or baseline not in values:
        baseline = dataset if dataset in values else (options[0]["value"] if options else None)
    return {"baseline_options": options, "baseline": baseline, "other_options": options}


# ---------------------------------------------------------------- the comparison


def _blank(message: str) -> dict:
    return {
        "figure": overview.empty_figure(message, HEIGHT),
        "table": None,
        "stats": None,
        "pair": None,
    }


@callback(
    output=dict(
        figure=Output(ids.ANALYTICS_MODELS_GRAPH, "figure"),
        table=Output(ids.ANALYTICS_MODELS_TABLE, "children"),
        stats=Output(ids.ANALYTICS_MODELS_STATS, "children"),
        pair=Output(ids.ANALYTICS_MODELS_PAIR, "data"),
    ),
    inputs=dict(
        baseline=Input(ids.ANALYTICS_MODELS_BASELINE, "value"),
        other=Input(ids.ANALYTICS_MODELS_OTHER, "value"),
        method=Input(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        tab=Input(ids.ANALYTICS_COMPARE_TABS, "active_tab"),
        sort=Input(ids.ANALYTICS_MODELS_SORT, "value"),
        seen=Input(ids.ANALYTICS_COMPARE_SEEN, "data"),
    ),
    state=dict(selection=State(ids.ANALYTICS_SELECTION, "data")),
    prevent_initial_call=True,
)
@validated(compare_service.SHOW_MODELS, refuse)
def show_models(baseline, other, method, tab, sort, seen, selection) -> dict:
    """Both models' aligned projections, their disagreements, and the selection's path in both."""
    if tab != "models" or not seen:
        return {"figure": no_update, "table": no_update, "stats": no_update, "pair": no_update}
    if not baseline or not other:
        return _blank(models_view.HINT)
    try:
        comparison = compare_service.compare(baseline, other, method)
    except (LookupError, ValueError) as error:
        return _blank(str(error))
    figure = comparison_figure(comparison, _titles(baseline, other))
    sel = selection or {}
    if sel.get("seq") is not None:
        seq_a, seq_b = comparison.pair_of(sel.get("dataset"), int(sel["seq"]))
        for panel, (which, seq) in enumerate((("a", seq_a), ("b", seq_b))):
            xy, ep, words = compare_service.trajectory(comparison, which, seq)
            figure["data"][compare_fig.PATH_SLOTS[panel]] = compare_fig.path_trace(xy, ep, words, panel)
    rows = compare_service.table_rows(comparison, sort)
    return {
        "figure": figure,
        "table": models_view.disagreement_table(rows, len(comparison.disagree)),
        "stats": comparison_stats(comparison),
        "pair": {"a": baseline, "b": other, "method": method},
    }


# ---------------------------------------------------------------- linking: rows and the selection


@callback(
    output=dict(
        selection=Output(ids.ANALYTICS_SELECTION, "data", allow_duplicate=True),
        pick=Output(ids.ANALYTICS_MODELS_PICK, "data"),
    ),
    inputs=dict(clicks=Input({"type": ids.ANALYTICS_MODELS_ROW, "index": ALL}, "n_clicks")),
    state=dict(
        pair=State(ids.ANALYTICS_MODELS_PAIR, "data"),
        dataset=State(ids.ANALYTICS_DATASET, "value"),
    ),
    prevent_initial_call=True,
)
@validated(compare_service.PICK_ROW, refuse)
def pick_row(clicks, pair, dataset) -> dict:
    """A clicked disagreement row selects its sequence on the page (when the page shows one of the two
    models; the hub then draws it everywhere), else draws its path in both panels here."""
    skip = {"selection": no_update, "pick": no_update}
    trigger = ctx.triggered_id
    if not pair or not isinstance(trigger, dict) or not any(clicks or []):
        return skip
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return skip  # the table was drawn again, nothing clicked
    try:
        seq = compare_service.SEQ.clean(trigger.get("index"))
        comparison = compare_service.compare(pair["a"], pair["b"], pair["method"])
    except (LookupError, ValueError) as error:  # InvalidInput is a ValueError too
        refuse(str(error))
        return skip
    if seq is None or seq >= comparison.analysis_a.n_sequences:
        return skip
    if dataset == pair["a"]:
        return {"selection": {"dataset": dataset, "seq": seq, "step": None}, "pick": None}
    seq_b = comparison.other_seq("a", seq)
    if dataset == pair["b"] and seq_b is not None:
        return {"selection": {"dataset": dataset, "seq": seq_b, "step": None}, "pick": None}
    return {"selection": no_update, "pick": {"a": pair["a"], "b": pair["b"], "seq": seq}}


@callback(
    output=Output(ids.ANALYTICS_MODELS_GRAPH, "figure", allow_duplicate=True),
    inputs=dict(pick=Input(ids.ANALYTICS_MODELS_PICK, "data")),
    state=dict(pair=State(ids.ANALYTICS_MODELS_PAIR, "data")),
    prevent_initial_call=True,
)
@validated(compare_service.DRAW_PICK, refuse)
def draw_pick(pick, pair):
    """A row picked while the page shows a third dataset: its path in both panels."""
    if not pick or not pair or (pick["a"], pick["b"]) != (pair["a"], pair["b"]):
        return no_update
    try:
        comparison = compare_service.compare(pair["a"], pair["b"], pair["method"])
    except (LookupError, ValueError):
        return no_update
    return paths_patch(comparison, pick["seq"], comparison.other_seq("a", pick["seq"]))


HUB_PART = Schema("draw_models", {"pair": compare_service.PAIR, "tab": compare_service.TAB})


@validated(HUB_PART, lambda _message: {"figure": no_update})
def draw_models(common: Common, pair, tab) -> dict:
    """A new selection's path in both panels, when the models tab shows one of its dataset's models."""
    if not pair or tab != "models" or not common.selection:
        return {"figure": no_update}
    if common.selection.get("dataset") not in (pair["a"], pair["b"]):
        return {"figure": no_update}
    try:
        comparison = compare_service.compare(pair["a"], pair["b"], pair["method"])
    except (LookupError, ValueError):
        return {"figure": no_update}
    analysis = comparison.analysis_a if common.selection["dataset"] == pair["a"] else comparison.analysis_b
    k = selected(common.selection, common.selection["dataset"], analysis)
    if k is None:
        return {"figure": no_update}
    return {"figure": paths_patch(comparison, *comparison.pair_of(common.selection["dataset"], k))}


MODELS_VIEW = SelectionView(
    "models",
    {"figure": Output(ids.ANALYTICS_MODELS_GRAPH, "figure", allow_duplicate=True)},
    {
        "pair": State(ids.ANALYTICS_MODELS_PAIR, "data"),
        "tab": State(ids.ANALYTICS_COMPARE_TABS, "active_tab"),
    },
    draw_models,
)
