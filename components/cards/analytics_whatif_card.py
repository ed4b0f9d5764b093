"""The /analytics what-if and compare cards: a typed text's path, checkpoints per epoch, LSTM vs GRU (callbacks)."""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, Patch, State, callback, ctx, html, no_update

from components import analytics_compare as compare_fig
from components import analytics_labels as labels_mod
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_sequence as sequence
from components import progress
from components.cards import analytics_models_card as models_card
from components.cards.analytics_common import DEMO_REFUSED, refuse, selected, whatif_traces
from components.cards.selection_view import Common, SelectionView
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import compare_models, datasets, schemas
from services.validation import validated
from serving import settings

MAX_PANELS = 6
BACKDROP_POINTS = 1500


def _summary(words: list[str], ep: np.ndarray, names: list[str]) -> html.Span:
    if not len(ep):
        return html.Span("no known words", className="text-muted")
    p = ep[-1]
    k = int(p.argmax())
    return html.Span(
        [
            dbc.Badge(f"{len(words)} words", color="light", text_color="dark", className="me-1"),
            dbc.Badge(f"predicted: {names[k]} ({p[k]:.0%})", color="primary", className="me-1"),
            dbc.Badge("out of sample", color="warning", text_color="dark"),
        ]
    )


@callback(
    output=dict(
        figure=Output(ids.PROJECTION_GRAPH, "figure", allow_duplicate=True),
        words=Output(ids.ANALYTICS_WHATIF_WORDS, "children"),
        heatmap=Output(ids.ANALYTICS_WHATIF_HEATMAP, "figure"),
        distance=Output(ids.ANALYTICS_WHATIF_DISTANCE, "figure"),
        summary=Output(ids.ANALYTICS_WHATIF_SUMMARY, "children"),
        pinned=Output(ids.ANALYTICS_WHATIF_PINNED, "children"),
        unpin_disabled=Output(ids.ANALYTICS_WHATIF_UNPIN, "disabled"),
    ),
    inputs=dict(
        text=Input(ids.ANALYTICS_WHATIF_TEXT, "value"),
        pinned=Input(ids.ANALYTICS_WHATIF_PIN_STORE, "data"),
        # the jump threshold's real moves (assets/selection.js), not the selection's echo of its cut
        _controls=Input(ids.SEQUENCE_CONTROLS, "data"),
        dataset=Input(ids.ANALYTICS_DATASET, "value"),
        method=Input(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        _prepared=Input(ids.ANALYTICS_PREPARED, "data"),
    ),
    state=dict(
        jump=State(ids.DISTANCE_THRESHOLD, "value"),
        rules=State(ids.ANALYTICS_LABEL_RULES, "value"),
        epc=State(ids.ANALYTICS_EP_THRESHOLD, "value"),
    ),
    prevent_initial_call=True,
)
@validated(schemas.WHATIF, refuse)
def show_whatif(text, pinned, jump, dataset, method, _prepared, rules, epc, _controls=None) -> dict:
    """The typed text's views; its path and the pinned one are patched into the projection (slots only)."""
    analysis, dmax, xy = analysis_service.load(dataset, method)
    patch_figure = (
        ctx.triggered_id in (ids.ANALYTICS_WHATIF_TEXT, ids.ANALYTICS_WHATIF_PIN_STORE) and xy is not None
    )
    pinned_note = (
        f"Pinned: “{_short(pinned['text'])}” (dotted grey path)" if pinned and pinned.get("text") else None
    )
    blank = {
        "words": None,
        "heatmap": overview.empty_figure("Type a text to see its EP per word", 120),
        "distance": overview.empty_figure("", 150),
        "summary": None,
        "pinned": pinned_note,
        "unpin_disabled": not pinned,
    }
    if analysis is None:
        return {**blank, "figure": no_update}
    patch = Patch()
    if patch_figure:
        for slot, trace in zip(
            (projection.WHATIF_SLOT, projection.PINNED_SLOT),
            whatif_traces(dataset, method, text, pinned),
            strict=True,
        ):
            patch["data"][slot] = trace
    figure = patch if patch_figure else no_update
    if not text or not text.strip():
        return {**blank, "figure": figure}
    try:
        states, _pts = analysis_service.text_view(dataset, method, text)
    except LookupError as error:
        message = dbc.Alert(str(error), color="info", className="py-1 mb-0 small")
        return {**blank, "figure": figure, "words": message}
    except ValueError as error:  # byo.InputError and friends: a message, never a dead callback
        message = dbc.Alert(str(error), color="warning", className="py-1 mb-0 small")
        return {**blank, "figure": figure, "words": message}
    names = list(analysis.class_names)
    dist = np.asarray(states.distance, dtype=float) / dmax
    labelled = labels_mod.labelled_steps(states.ep, dist, 1.0, rules or [], jump or 0.4, epc or 0.3)
    return {
        "figure": figure,
        "words": sequence.sequence_text(states.words, states.ep, dist, names, labelled),
        "heatmap": sequence.heatmap_figure(states.ep, states.words, names),
        "distance": sequence.distance_figure(dist, states.ep, states.words, jump or 0.4),
        "summary": _summary(states.words, states.ep, names),
        "pinned": pinned_note,
        "unpin_disabled": not pinned,
    }


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


@callback(
    Output(ids.ANALYTICS_WHATIF_PIN_STORE, "data"),
    Input(ids.ANALYTICS_WHATIF_PIN, "n_clicks"),
    Input(ids.ANALYTICS_WHATIF_UNPIN, "n_clicks"),
    State(ids.ANALYTICS_WHATIF_TEXT, "value"),
    prevent_initial_call=True,
)
@validated(schemas.WHATIF_PIN, refuse)
def pin(_pin, _unpin, text):
    """Keep the typed text's path on the projection (Unpin drops it)."""
    if ctx.triggered_id == ids.ANALYTICS_WHATIF_UNPIN or not (text or "").strip():
        return None
    return {"text": text}


@callback(
    output=Output(ids.ANALYTICS_WHATIF_TEXT, "value"),
    inputs=dict(
        _clicks=Input(ids.ANALYTICS_WHATIF_FROM_SELECTION, "n_clicks"),
    ),
    state=dict(
        selection=State(ids.ANALYTICS_SELECTION, "data"),
        dataset=State(ids.ANALYTICS_DATASET, "value"),
        method=State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
    ),
    prevent_initial_call=True,
)
@validated(schemas.WHATIF_FROM_SELECTION, refuse)
def text_of_selection(_clicks, selection, dataset, method):
    """Copy the selected sequence's text into the box, to edit it word by word."""
    analysis, _dmax, _xy = analysis_service.load(dataset, method)
    k = selected(selection, dataset, analysis) if analysis is not None else None
    return analysis.texts[k] if k is not None else no_update


# ---------------------------------------------------------------- checkpoints


def _epochs(n: int, most: int = MAX_PANELS) -> list[int]:
    """Up to ``most`` evenly spaced indices of ``n`` checkpoints, always with the first and the last."""
    if n <= most:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, most).round().astype(int).tolist()))


def _checkpoints(figure: object, note: object = None) -> dict:
    return {"figure": figure, "note": note}


@callback(
    output=dict(
        figure=Output(ids.ANALYTICS_CHECKPOINTS_GRAPH, "figure"),
        note=Output(ids.ANALYTICS_CHECKPOINTS_NOTE, "children"),
    ),
    inputs=dict(
        source=Input(ids.ANALYTICS_COMPARE_SOURCE, "value"),
        selection=State(ids.ANALYTICS_SELECTION, "data"),
        typed=Input(ids.ANALYTICS_WHATIF_TEXT, "value"),
        tab=Input(ids.ANALYTICS_COMPARE_TABS, "active_tab"),
        dataset=Input(ids.ANALYTICS_DATASET, "value"),
        method=Input(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        seen=Input(ids.ANALYTICS_COMPARE_SEEN, "data"),
    ),
)
@validated(schemas.CHECKPOINTS, refuse)
def show_checkpoints(source, selection, typed, tab, dataset, method, seen=True) -> dict:
    """The same text's path after each saved epoch, on the final model's projection (same axes)."""
    if tab != "checkpoints" or not seen:
        return _checkpoints(no_update, no_update)
    analysis, _dmax, xy = analysis_service.load(dataset, method)
    if analysis is None or xy is None:
        return _checkpoints(overview.empty_figure("Prepare the dataset first", 260))
    if datasets.parse(dataset).is_upload:
        return _checkpoints(
            overview.empty_figure("Epoch checkpoints are kept for the built-in classifiers", 260)
        )
    if source == "typed":
        text = typed if typed and typed.strip() else None
        what = "the typed text"
    else:
        k = selected(selection, dataset, analysis)
        text = analysis.texts[k] if k is not None else None
        what = f"sequence #{k}"
    if text is None:
        hint = "Type a text in the what-if box" if source == "typed" else "Select a sequence"
        return _checkpoints(overview.empty_figure(hint, 260))
    try:
        runs = analysis_service.checkpoint_trajectories(dataset, text, method)
    except LookupError as error:
        return _checkpoints(overview.empty_figure(str(error), 260))
    transform = analysis_service.projection_transform(dataset, method)
    names = list(analysis.class_names)
    panels = []
    for i in _epochs(len(runs)):
        run = runs[i]
        acc = [f"acc {run.accuracy:.0%}"] if run.accuracy is not None else []
        said = [names[int(run.ep[-1].argmax())]] if len(run.ep) else []
        panels.append(
            compare_fig.Panel(
                "\n".join([f"epoch {run.epoch}", " · ".join(acc + said)]).strip(),
                projection.to_view_coordinates(run.points, transform),
                run.ep,
                run.words,
            )
        )
    backdrop = xy[compare_fig.subsample(len(xy), BACKDROP_POINTS)]
    shown = [str(runs[i].epoch) for i in _epochs(len(runs))]
    epochs = f"epoch{'s' if len(shown) > 1 else ''} {', '.join(shown)} of {runs[-1].epoch}"
    note = f"Path of {what} under the weights after {epochs}, placed with the final model's projection."
    return _checkpoints(compare_fig.checkpoint_figure(backdrop, panels), note)


def draw_checkpoints(common: Common, source, typed, tab, seen) -> dict:
    """A new selection's path through the epochs, when the checkpoints tab shows it (the hub's request)."""
    drawn = show_checkpoints(source, common.selection, typed, tab, common.dataset, common.method, seen)
    return drawn if isinstance(drawn, dict) else _checkpoints(no_update, no_update)


CHECKPOINTS_VIEW = SelectionView(
    "checkpoints",
    {
        "figure": Output(ids.ANALYTICS_CHECKPOINTS_GRAPH, "figure", allow_duplicate=True),
        "note": Output(ids.ANALYTICS_CHECKPOINTS_NOTE, "children", allow_duplicate=True),
    },
    {
        "source": State(ids.ANALYTICS_COMPARE_SOURCE, "value"),
        "typed": State(ids.ANALYTICS_WHATIF_TEXT, "value"),
        "tab": State(ids.ANALYTICS_COMPARE_TABS, "active_tab"),
        "seen": State(ids.ANALYTICS_COMPARE_SEEN, "data"),
    },
    draw_checkpoints,
)


# ---------------------------------------------------------------- cell types


@callback(
    output=dict(
        ready=Output(ids.ANALYTICS_CELLS_READY, "data"),
        alert=Output(ids.ANALYTICS_CELLS_ALERT, "children"),
    ),
    inputs=dict(_clicks=Input(ids.ANALYTICS_COMPARE_CELLS, "n_clicks")),
    state=dict(
        dataset=State(ids.ANALYTICS_DATASET, "value"),
        method=State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
    ),
    **progress.job(ids.ANALYTICS_COMPARE_CELLS, ids.ANALYTICS_CELLS_PROGRESS, 260),
    prevent_initial_call=True,
)
@validated(schemas.OTHER_CELL, refuse)
def prepare_other_cell(set_progress, _clicks, dataset, method) -> dict:
    """Train the same dataset with the other cell type (fresh process, with progress), then show both."""
    if settings.demo_mode():
        return {"ready": no_update, "alert": dbc.Alert(DEMO_REFUSED, color="warning", className="py-2")}
    analysis, _dmax, _xy = analysis_service.load(dataset, method)
    if analysis is None or datasets.parse(dataset).is_upload:
        note = "Cell types can be compared on the built-in datasets once they are prepared."
        return {"ready": no_update, "alert": dbc.Alert(note, color="info", className="py-2")}
    _cell, other = analysis_service.other_cell_id(dataset, analysis)
    if not analysis_service.is_prepared(other, method):

        def on_progress(fraction: float, stage: str) -> None:

            set_progress(progress.progress_value(fraction, stage))

        set_progress((1, "starting…"))
        try:
            analysis_service.run_preparation(other, method, on_progress)
        except Exception as error:  # noqa: BLE001 - PrepareError and the unexpected: a message
            failed = dbc.Alert(f"Preparing {other} failed: {error}", color="danger", dismissable=True)
            return {"ready": no_update, "alert": failed}
        if not analysis_service.is_prepared(other, method):
            note = f"Preparation finished but {other} is still not in the cache; try again or use the CLI."
            return {"ready": no_update, "alert": dbc.Alert(note, color="warning", dismissable=True)}
    return {"ready": {"a": dataset, "b": other, "method": method, "at": time.time()}, "alert": None}


def _accuracy(analysis) -> str:
    acc = analysis.summary.get("test_accuracy")
    return f"{acc:.1%}" if isinstance(acc, int | float) else "?"


@callback(
    output=dict(
        figure=Output(ids.ANALYTICS_CELLS_GRAPH, "figure"),
        stats=Output(ids.ANALYTICS_CELLS_STATS, "children"),
    ),
    inputs=dict(
        ready=Input(ids.ANALYTICS_CELLS_READY, "data"),
        dataset=Input(ids.ANALYTICS_DATASET, "value"),
        method=Input(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        tab=Input(ids.ANALYTICS_COMPARE_TABS, "active_tab"),
    ),
    prevent_initial_call=True,
)
@validated(schemas.SHOW_CELLS, refuse)
def show_cells(ready, dataset, method, tab) -> dict:
    """Both cell types' projections in one aligned basis (shared axes), with their test accuracies."""
    if tab != "cells":
        return {"figure": no_update, "stats": no_update}
    if not isinstance(ready, dict) or ready.get("a") != dataset or ready.get("method") != method:
        hint = "Trains the other cell type on the same data, then shows both"
        return {"figure": overview.empty_figure(hint, 300), "stats": None}
    try:
        a, b = (schemas.DATASET_ID.clean(ready.get(key)) for key in ("a", "b"))
        comparison = compare_models.compare(a, b, method)
    except (LookupError, ValueError) as error:  # InvalidInput, not prepared, different texts
        return {"figure": overview.empty_figure(str(error), 300), "stats": None}
    cells = [
        str(an.summary.get("cell_type", "?")).upper() for an in (comparison.analysis_a, comparison.analysis_b)
    ]
    stats = [
        dbc.Badge(
            f"{cell}: test accuracy {_accuracy(an)} · {an.n_states:,} states",
            color="light",
            text_color="dark",
            className="me-2",
        )
        for cell, an in zip(cells, (comparison.analysis_a, comparison.analysis_b), strict=True)
    ]
    # one aligned basis (the same as the Models tab): the two panels share their axes
    figure = models_card.comparison_figure(comparison, (f"<b>{cells[0]}</b>", f"<b>{cells[1]}</b>"))
    return {"figure": figure, "stats": stats + models_card.comparison_stats(comparison)}
