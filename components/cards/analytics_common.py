"""Small helpers shared by the analytics cards: refusing a bad browser value, indices, the selection."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import numpy as np
from dash import Patch, no_update, set_props

from components import analytics_density as density_view
from components import analytics_projection as projection
from components import analytics_view as view
from components.ids import analytics as ids
from model.artifacts import Analysis
from services import analysis as analysis_service
from services import cloud

DEMO_REFUSED = (
    "This is a read-only demo server: it shows what is already prepared and computes nothing new. "
    "Run RNN Explorer yourself to prepare other datasets or projections."
)
METHOD_LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


def refuse(message: str) -> object:
    """Answer an invalid browser value: the message in the page's alert, no other change."""
    set_props(ids.ANALYTICS_ALERT, {"children": dbc.Alert(message, color="warning", dismissable=True)})
    return no_update


def as_index(value: object) -> int | None:
    """A non-negative integer index from plotly or table event data, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        index = int(value)
    except (ValueError, OverflowError):
        return None
    return index if 0 <= index < 2**31 else None


def selected(selection: dict | None, dataset: str, analysis: Analysis) -> int | None:
    """The selected sequence if it belongs to ``dataset`` and exists."""
    if not selection or selection.get("dataset") != dataset or selection.get("seq") is None:
        return None
    k = int(selection["seq"])
    return k if 0 <= k < analysis.n_sequences else None


def cloud_marker(analysis: Analysis, color_mode: str | None, final_only: bool) -> dict:
    """Colours of the drawn states (all, or each sequence's last) for the colour mode."""
    state_labels = np.repeat(np.asarray(analysis.labels), np.diff(analysis.offsets))
    names = list(analysis.class_names)
    marker = projection.base_colors(analysis.ep, state_labels, names, color_mode or "ep")
    if final_only:
        marker = {**marker, "color": marker["color"][view.final_state_rows(analysis)]}
    return marker


def cloud_opacity(analysis: Analysis, fade: str, selected: bool, final_only: bool) -> float | np.ndarray:
    """Opacity of the drawn states: faded behind a selection, or by correctness."""
    correct = np.repeat(
        np.asarray(analysis.labels) == np.asarray(analysis.predicted), np.diff(analysis.offsets)
    )
    opacity = projection.base_opacity(correct, fade, selected)
    if final_only and not np.isscalar(opacity):
        opacity = opacity[view.final_state_rows(analysis)]
    return opacity


def drawn_count(analysis: Analysis, final_only: bool) -> int:
    """How many states the projection draws: each sequence's last, or all."""
    return analysis.n_sequences if final_only else analysis.n_states


def clicked_row(
    analysis: Analysis,
    point: dict,
    color_mode: str | None,
    final_only: bool,
    xy: np.ndarray | None = None,
) -> int | None:
    """The row (into the drawn states) of a clicked point of the state cloud, or None.

    A set within the point budget: by (curveNumber, pointIndex). Above it the state traces hold only
    the states of the current view, so the point is found by its position in ``xy`` (the projection
    in view coordinates; nothing without it): the nearest drawn state of its colour bin."""
    marker = cloud_marker(analysis, color_mode, final_only)
    curve = as_index(point.get("curveNumber"))
    if not cloud.is_lod(drawn_count(analysis, final_only)):
        return projection.point_row(projection.cloud_rows(marker), curve, as_index(point.get("pointIndex")))
    bins, palette = projection.state_bins(marker)
    slots = projection.state_slots(projection.state_trace_count(len(palette)))
    position = as_position(point)
    if xy is None or curve not in slots or position is None:
        return None
    drawn = xy[view.final_state_rows(analysis)] if final_only else xy
    members = np.flatnonzero(bins == slots.index(curve))
    near = cloud.nearest_row(drawn[members], *position)
    return None if near is None else int(members[near])


def as_position(point: dict) -> tuple[float, float] | None:
    """The (x, y) of a plotly event point when both are finite numbers in the view's bounds, else None."""
    x, y = point.get("x"), point.get("y")
    ok = all(
        not isinstance(v, bool)
        and isinstance(v, int | float)
        and math.isfinite(v)
        and abs(v) <= cloud.VIEW_LIMIT
        for v in (x, y)
    )
    return (float(x), float(y)) if ok else None


def whatif_traces(
    dataset: str | None, method: str | None, text: str | None, pinned: dict | None
) -> list[dict]:
    """The two what-if slots for the full projection figure (empty where nothing is typed or pinned)."""
    traces = projection.empty_whatif()
    analysis, _dmax, xy = analysis_service.load(dataset, method)
    if analysis is None or xy is None:
        return traces
    for i, source in enumerate((text, (pinned or {}).get("text"))):
        if source and source.strip():
            try:
                states, pts = analysis_service.text_view(dataset, method, source)
            except Exception:  # noqa: BLE001 - the what-if callback shows the message; the figure stays
                continue
            traces[i] = projection.whatif_trace(
                pts, states.ep, states.words, list(analysis.class_names), i == 1
            )
    return traces


def fade_cloud(patch: Patch, analysis: Analysis, faded: bool, fade, final_only: bool, color_mode) -> None:
    """Fade the state cloud behind what is drawn over it (a trajectory, the filtered states), or give it
    back its own opacities (``fade``: the correct or misclassified ones faded).

    Above the point budget the state traces' own opacity and the density image's change; their marker
    opacities stay (only the view's patch knows the per-point opacities of the states in view)."""
    slots = projection.state_slots(projection.state_trace_count(len(analysis.class_names)))
    if cloud.is_lod(drawn_count(analysis, final_only)):
        for slot in slots:
            patch["data"][slot]["opacity"] = density_view.TRACE_FADE if faded else 1
        patch["layout"]["images"][0]["opacity"] = density_view.IMAGE_FADE if faded else 1
        return
    if faded:
        for slot in slots:
            patch["data"][slot]["marker"]["opacity"] = projection.SELECTION_FADE
        return
    opacity = cloud_opacity(analysis, fade, False, final_only)
    rows = projection.cloud_rows(cloud_marker(analysis, color_mode, final_only))
    for slot, members in zip(projection.state_slots(len(rows)), rows, strict=True):
        patch["data"][slot]["marker"]["opacity"] = opacity if np.isscalar(opacity) else opacity[members]
