"""The classification overview card's callbacks: model bar, class bars, confusion matrix and the prepare job."""

from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, callback, ctx, html, no_update, set_props

from components import analytics_overview as overview
from components import progress
from components.cards.analytics_common import DEMO_REFUSED, METHOD_LABELS, refuse
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import schemas
from services.validation import validated
from serving import settings


@callback(
    output=dict(
        bar=Output(ids.ANALYTICS_MODEL_BAR, "children"),
        class_bars=Output(ids.CLASS_BARS, "figure"),
        confusion=Output(ids.CONFUSION_MATRIX, "figure"),
        alert=Output(ids.ANALYTICS_ALERT, "children"),
        prepare_style=Output(ids.ANALYTICS_PREPARE, "style"),
    ),
    inputs=dict(
        dataset=Input(ids.ANALYTICS_DATASET, "value"),
        method=Input(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        _prepared=Input(ids.ANALYTICS_PREPARED, "data"),
    ),
)
@validated(schemas.OVERVIEW, refuse)
def show_overview(dataset: str, method: str, _prepared: float) -> dict:
    """Model bar, class bars and confusion matrix; or the invitation to prepare."""
    label = analysis_service.dataset_label(dataset)
    analysis, _dmax, xy = analysis_service.load(dataset, method)
    if analysis is None:
        blank = overview.empty_figure("Prepare the dataset to see the overview", 260)
        unprepared = {"bar": None, "class_bars": blank, "confusion": blank, "prepare_style": {}}
        if not starts_by_itself(dataset, method):
            return {**unprepared, "alert": overview.prepare_panel(label)}
        # A first visit to a default dataset: preparation starts without a click.
        set_props(ids.ANALYTICS_AUTOPREP, {"data": {"dataset": dataset, "method": method, "at": time.time()}})
        waiting = overview.waiting_panel(
            label, METHOD_LABELS.get(method, method), dash.get_relative_path("/trainer")
        )
        return {**unprepared, "alert": waiting}
    names = list(analysis.class_names)
    counts = overview.confusion_counts(analysis.labels, analysis.predicted, len(names))
    accuracy = float(np.trace(counts) / max(counts.sum(), 1))
    bar = overview.model_bar(
        analysis.summary, names, analysis.n_sequences, analysis.n_states, accuracy, counts.sum(axis=1)
    )
    # Keep the "Prepared …" message that the preparation job just wrote.
    alert = no_update if ctx.triggered_id == ids.ANALYTICS_PREPARED else None
    button = {"display": "none"}
    if xy is None:
        alert = overview.prepare_panel(
            f"The {METHOD_LABELS.get(method, method)} projection of {label}",
            "This projection has not been computed yet; Prepare computes it (the model and states are cached)."
            + (
                " The map shows the PCA projection meanwhile."
                if analysis_service.load_shown(dataset, method)[3] != method
                else ""
            ),
        )
        button = {}
    return {
        "bar": bar,
        "class_bars": overview.class_bars_figure(counts, names),
        "confusion": overview.confusion_figure(counts, names),
        "alert": alert,
        "prepare_style": button,
    }


def starts_by_itself(dataset: str, method: str) -> bool:
    """Whether an unprepared dataset is prepared without a click: a built-in default (RNNX_AUTO_PREPARE)."""
    return settings.auto_prepare() and dataset in analysis_service.catalogue() and method == "pca"


@callback(
    output=dict(
        prepared=Output(ids.ANALYTICS_PREPARED, "data"),
        alert=Output(ids.ANALYTICS_ALERT, "children", allow_duplicate=True),
    ),
    inputs=dict(
        _clicks=Input(ids.ANALYTICS_PREPARE, "n_clicks"),
        _auto=Input(ids.ANALYTICS_AUTOPREP, "data"),
    ),
    state=dict(
        dataset=State(ids.ANALYTICS_DATASET, "value"),
        method=State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
    ),
    **progress.job(ids.ANALYTICS_PREPARE, ids.ANALYTICS_PROGRESS, 280),
    prevent_initial_call=True,
)
@validated(schemas.PREPARE, refuse)
def run_preparation(set_progress, _clicks: int, _auto: dict | None, dataset: str, method: str) -> dict:
    """Prepare the dataset in a fresh process (never TensorFlow inside this job) with progress and time left."""
    if settings.demo_mode():
        return {"prepared": no_update, "alert": dbc.Alert(DEMO_REFUSED, color="warning", dismissable=True)}

    estimate = progress.Estimate()  # the time left comes from the rate of the stage it is on

    def on_progress(fraction: float, stage: str) -> None:
        set_progress(estimate(fraction, stage))

    set_progress((1, "starting…"))
    try:
        result = analysis_service.run_preparation(dataset, method, on_progress)
    except analysis_service.prepare_error() as error:
        failed = dbc.Alert([html.B("Preparation failed. "), str(error)], color="danger", dismissable=True)
        return {"prepared": no_update, "alert": failed}
    except Exception as error:  # noqa: BLE001 - a readable message instead of a dead callback
        failed = dbc.Alert(f"Preparation failed unexpectedly: {error}", color="danger", dismissable=True)
        return {"prepared": no_update, "alert": failed}
    timings = result.get("seconds") if isinstance(result.get("seconds"), dict) else {}
    seconds = float(timings.get("total", sum(timings.values())))
    done = dbc.Alert(
        f"Prepared {result.get('n_sequences', '?')} sequences ({result.get('n_hidden_states', '?')} hidden states) "
        f"in {seconds:.0f} s.",
        color="success",
        dismissable=True,
        duration=6000,
    )
    return {"prepared": time.time(), "alert": done}
