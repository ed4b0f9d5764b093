"""A progress bar for background jobs: hidden until its job runs, labelled "NN% · stage"."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

HIDDEN = {"display": "none"}


def shown(min_width: int) -> dict:
    """The wrapper's style while its job runs (a ``running=`` value of the background callback)."""
    return {"display": "block", "minWidth": min_width}


def progress_bar(bar_id: str, min_width: int) -> html.Div:
    """The bar ``bar_id`` inside the wrapper ``<bar_id>-wrap``, hidden until shown."""
    return html.Div(
        dbc.Progress(id=bar_id, value=0, label="", striped=True, animated=True),
        id=f"{bar_id}-wrap",
        style={**HIDDEN, "minWidth": min_width},
    )


def progress_value(fraction: float, stage: str) -> tuple[int, str]:
    """(percent, label) for a job ``fraction`` (0..1) done, now at ``stage``."""
    percent = int(round(100 * min(max(fraction, 0.0), 1.0)))
    return percent, f"{percent}% · {stage}"
