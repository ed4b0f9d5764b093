"""A progress bar for background jobs: hidden until its job runs, labelled "NN% · stage"."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Output, html

HIDDEN = {"display": "none"}


def shown(min_width: int) -> dict:
    """The wrapper's style while its job runs (a ``running=`` value of the background callback)."""
    return {"display": "block", "minWidth": min_width}


def job(button_id: str, bar_id: str, min_width: int) -> dict:
    """The ``background=True`` callback options of a job started by ``button_id`` that reports to the
    bar ``bar_id`` (see :func:`progress_bar`): the button is disabled and the bar shown while it runs."""
    return {
        "background": True,
        "running": [
            (Output(button_id, "disabled"), True, False),
            (Output(f"{bar_id}-wrap", "style"), shown(min_width), HIDDEN),
        ],
        "progress": [Output(bar_id, "value"), Output(bar_id, "label")],
    }


def progress_bar(bar_id: str, min_width: int) -> html.Div:
    """The bar ``bar_id`` inside the wrapper ``<bar_id>-wrap``, hidden until shown."""
    return html.Div(
        dbc.Progress(id=bar_id, value=0, label="", striped=True, animated=True),
        id=f"{bar_id}-wrap",
        style={**HIDDEN, "minWidth": min_width},
    )


def progress_value(fraction: float, stage: str, elapsed_s: float | None = None) -> tuple[int, str]:
    """(percent, label) for a job ``fraction`` (0..1) done, now at ``stage``; with the time left
    once there is enough progress to estimate it from ``elapsed_s``."""
    fraction = min(max(fraction, 0.0), 1.0)
    percent = int(round(100 * fraction))
    label = f"{percent}% · {stage}"
    if elapsed_s is not None and 0.05 <= fraction < 1.0:
        label += f" · {time_left(elapsed_s * (1.0 - fraction) / fraction)}"
    return percent, label


def time_left(seconds: float) -> str:
    """A rounded, readable estimate: "about 40 s left", "about 3 min left"."""
    if seconds < 60:
        return f"about {max(5, int(round(seconds / 5.0)) * 5)} s left"
    return f"about {int(round(seconds / 60.0))} min left"
