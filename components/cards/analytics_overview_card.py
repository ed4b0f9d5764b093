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
from services import analysis as analysis_service
from services import schemas
from services.validation import validated
from serving import settings


@callback(
    Output("analytics-model-bar", "children"),
    Output("class-bars", "figure"),
    Output("confusion-matrix", "figure"),
    Output("analytics-alert", "children"),
    Output("analytics-prepare", "style"),
    Input("analytics-dataset", "value"),
    Input("analytics-projection-method", "value"),
    Input("analytics-prepared", "data"),
)
@validated(schemas.OVERVIEW, refuse)
def show_overview(dataset: str, method: str, _prepared: float):
    """Model bar, class bars and confusion matrix; or the invitation to prepare."""
    label = analysis_service.dataset_label(dataset)
    analysis, _dmax, xy = analysis_service.load(dataset, method)
    if analysis is None:
        blank = overview.empty_figure("Prepare the dataset to see the overview", 260)
        if not starts_by_itself(dataset, method):
            return None, blank, blank, overview.prepare_panel(label), {}
        # A first visit to a default dataset: preparation starts without a click.
        set_props("analytics-autoprep", {"data": {"dataset": dataset, "method": method, "at": time.time()}})
        waiting = overview.waiting_panel(
            label, METHOD_LABELS.get(method, method), dash.get_relative_path("/trainer")
        )
        return None, blank, blank, waiting, {}
    names = list(analysis.class_names)
    counts = overview.confusion_counts(analysis.labels, analysis.predicted, len(names))
    accuracy = float(np.trace(counts) / max(counts.sum(), 1))
    bar = overview.model_bar(
        analysis.summary, names, analysis.n_sequences, analysis.n_states, accuracy, counts.sum(axis=1)
    )
    # Keep the "Prepared …" message that the preparation job just wrote.
    alert = no_update if ctx.triggered_id == "analytics-prepared" else None
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
    return (
        bar,
        overview.class_bars_figure(counts, names),
        overview.confusion_figure(counts, names),
        alert,
        button,
    )


def starts_by_itself(dataset: str, method: str) -> bool:
    """Whether an unprepared dataset is prepared without a click: a built-in default (RNNX_AUTO_PREPARE)."""
    return settings.auto_prepare() and dataset in analysis_service.catalogue() and method == "pca"


@callback(
    Output("analytics-prepared", "data"),
    Output("analytics-alert", "children", allow_duplicate=True),
    Input("analytics-prepare", "n_clicks"),
    Input("analytics-autoprep", "data"),
    State("analytics-dataset", "value"),
    State("analytics-projection-method", "value"),
    **progress.job("analytics-prepare", "analytics-progress", 280),
    prevent_initial_call=True,
)
@validated(schemas.PREPARE, refuse)
def run_preparation(set_progress, _clicks: int, _auto: dict | None, dataset: str, method: str):
    """Prepare the dataset in a fresh process (never TensorFlow inside this job) with progress and time left."""
    if settings.demo_mode():
        return no_update, dbc.Alert(DEMO_REFUSED, color="warning", dismissable=True)

    started = time.perf_counter()

    def on_progress(fraction: float, stage: str) -> None:
        set_progress(progress.progress_value(fraction, stage, time.perf_counter() - started))

    set_progress((1, "starting…"))
    try:
        result = analysis_service.run_preparation(dataset, method, on_progress)
    except analysis_service.prepare_error() as error:
        return no_update, dbc.Alert(
            [html.B("Preparation failed. "), str(error)], color="danger", dismissable=True
        )
    except Exception as error:  # noqa: BLE001 - a readable message instead of a dead callback
        return no_update, dbc.Alert(
            f"Preparation failed unexpectedly: {error}", color="danger", dismissable=True
        )
    timings = result.get("seconds") if isinstance(result.get("seconds"), dict) else {}
    seconds = float(timings.get("total", sum(timings.values())))
    done = dbc.Alert(
        f"Prepared {result.get('n_sequences', '?')} sequences ({result.get('n_hidden_states', '?')} hidden states) "
        f"in {seconds:.0f} s.",
        color="success",
        dismissable=True,
        duration=6000,
    )
    return time.time(), done
