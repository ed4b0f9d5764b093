"""A progress bar for background jobs: hidden until its job runs, with "NN% · stage" under the bar.

The label is a line of its own under the bar (``<bar>-text``), as wide as the bar and wrapping: inside
the bar it was clipped to the filled part ("... · ab")."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import dash_bootstrap_components as dbc
from dash import Output, html

HIDDEN = {"display": "none"}
NUMBERS = re.compile(r"\d[\d,.]*")  # taken out of a label to name its stage ("epoch # of #")
MIN_STAGE_S = 1.0  # a stage's rate is trusted after this long


def shown(min_width: int) -> dict:
    """The wrapper's style while its job runs (a ``running=`` value of the background callback)."""
    return {"display": "block", "width": min_width, "maxWidth": "100%"}


def text_id(bar_id: str) -> str:
    """The id of the label under the bar ``bar_id``."""
    return f"{bar_id}-text"


def job(button_id: str, bar_id: str, min_width: int) -> dict:
    """The ``background=True`` callback options of a job started by ``button_id`` that reports to the
    bar ``bar_id`` (see :func:`progress_bar`): the button is disabled and the bar shown while it runs."""
    return {
        "background": True,
        "running": [
            (Output(button_id, "disabled"), True, False),
            (Output(f"{bar_id}-wrap", "style"), shown(min_width), HIDDEN),
        ],
        "progress": [Output(bar_id, "value"), Output(text_id(bar_id), "children")],
    }


def progress_bar(bar_id: str, min_width: int) -> html.Div:
    """The bar ``bar_id`` and its label ``<bar_id>-text`` (wrapping under it) inside the wrapper
    ``<bar_id>-wrap``, ``min_width`` pixels wide, hidden until shown."""
    return html.Div(
        [
            dbc.Progress(id=bar_id, value=0, striped=True, animated=True, className="rnnx-progress-bar"),
            html.Div(id=text_id(bar_id), className="rnnx-progress-text", **{"aria-live": "polite"}),
        ],
        id=f"{bar_id}-wrap",
        style={**HIDDEN, "width": min_width, "maxWidth": "100%"},
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


class Estimate:
    """(percent, label) of one job's updates, with the time left once its current stage has moved.

    The time left is what is left of the job at the rate of the current stage since it began (a
    stage is its label without numbers: "epoch 3 of 200" and "epoch 4 of 200" are one), so a stage
    that has not moved shows no time, and a slow stage never borrows a fast one's rate. One per job
    (it remembers the stage), held by the job's callback.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.stage: str | None = None
        self.began = 0.0
        self.start_fraction = 0.0

    def __call__(self, fraction: float, stage: str) -> tuple[int, str]:
        now = self.clock()
        key = NUMBERS.sub("#", stage)
        if key != self.stage:
            self.stage, self.began, self.start_fraction = key, now, fraction
        percent, label = progress_value(fraction, stage)
        seconds = self.seconds_left(fraction, now)
        return percent, label if seconds is None else f"{label} · {time_left(seconds)}"

    def seconds_left(self, fraction: float, now: float) -> float | None:
        """The time left at the current stage's rate, or None before it has moved (or when done)."""
        moved, spent = fraction - self.start_fraction, now - self.began
        if moved <= 0 or spent < MIN_STAGE_S or fraction >= 1.0:
            return None
        return (1.0 - fraction) * spent / moved
