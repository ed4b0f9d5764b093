"""Comparison figures: one text's trajectory per training epoch, and two cell types side by side."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from components import analytics_colors as colors
from components import figure_text

_FONT = {"family": "Lato, system-ui, sans-serif", "size": 12}
BACKDROP = "#ced4da"


@dataclass
class Panel:
    """One small multiple: a title, a path in view coordinates and its EP per step."""

    title: str
    xy: np.ndarray  # (n, 2)
    ep: np.ndarray  # (n, n_classes)
    words: list[str]


def _axis(i: int, n: int, gap: float = 0.02) -> tuple[dict, dict, str, str]:
    """Axes of panel ``i`` of ``n`` in one row; all panels share the first panel's ranges."""
    width = (1 - gap * (n - 1)) / n
    start = i * (width + gap)
    suffix = "" if i == 0 else str(i + 1)
    x = {"domain": [start, start + width], "visible": False, "anchor": f"y{suffix}"}
    y = {"visible": False, "anchor": f"x{suffix}", "scaleanchor": f"x{suffix}", "scaleratio": 1}
    if i:
        x["matches"], y["matches"] = "x", "y"
    return x, y, f"x{suffix}", f"y{suffix}"


def _row_layout(height: int, hovermode: str | bool) -> dict:
    """Layout of a row of panels; each figure adds its axes and one title annotation per panel."""
    return {
        "height": height,
        "margin": {"l": 4, "r": 4, "t": 34, "b": 4},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": _FONT,
        "showlegend": False,
        "hovermode": hovermode,
        "annotations": [],
    }


def _backdrop(xy: np.ndarray, xref: str, yref: str) -> dict:
    return {
        "type": "scatter",
        "x": np.round(xy[:, 0], 0).tolist(),
        "y": np.round(xy[:, 1], 0).tolist(),
        "mode": "markers",
        "marker": {"size": 3, "color": BACKDROP, "opacity": 0.5},
        "hoverinfo": "skip",
        "xaxis": xref,
        "yaxis": yref,
        "showlegend": False,
    }


def checkpoint_figure(backdrop: np.ndarray, panels: list[Panel], height: int = 260) -> dict:
    """Small multiples (one per epoch, same axes): the path coloured by EP over a grey sample of states."""
    n = max(len(panels), 1)
    layout = _row_layout(height, hovermode="closest")
    data = []
    for i, panel in enumerate(panels):
        x, y, xref, yref = _axis(i, n)
        layout[f"xaxis{xref[1:]}"], layout[f"yaxis{yref[1:]}"] = x, y
        data.append(_backdrop(backdrop, xref, yref))
        xy = np.asarray(panel.xy, dtype=float)
        data.append(
            {
                "type": "scatter",
                "x": np.round(xy[:, 0], 1).tolist(),
                "y": np.round(xy[:, 1], 1).tolist(),
                "mode": "lines+markers",
                "line": {"color": "#343a40", "width": 1.5},
                "marker": {"size": 6, "color": colors.state_colors(panel.ep) if len(xy) else []},
                "customdata": list(panel.words),
                "hovertemplate": "<b>%{customdata}</b> · step %{pointNumber}<extra></extra>",
                "xaxis": xref,
                "yaxis": yref,
                "showlegend": False,
            }
        )
        layout["annotations"].append(_panel_title(figure_text.literal(panel.title), xref, 12))
    return {"data": data, "layout": layout}


def side_by_side_figure(panels: list[tuple[str, np.ndarray, dict]], height: int = 360) -> dict:
    """Projections next to each other: (title, view xy, marker colours as from ``base_colors``)."""
    n = max(len(panels), 1)
    layout = _row_layout(height, hovermode=False)
    data = []
    for i, (title, xy, marker) in enumerate(panels):
        x, y, xref, yref = _axis(i, n, gap=0.04)
        x.pop("matches", None)  # two models: two spaces, never the same axes
        y.pop("matches", None)
        layout[f"xaxis{xref[1:]}"], layout[f"yaxis{yref[1:]}"] = x, y
        data.append(
            {
                "type": "scattergl",
                "x": np.rint(xy[:, 0]).astype(np.uint16),
                "y": np.rint(xy[:, 1]).astype(np.uint16),
                "mode": "markers",
                "marker": {
                    **{k: v for k, v in marker.items() if k != "colorbar"},
                    "size": 3,
                    "opacity": 0.6,
                },
                "hoverinfo": "skip",
                "xaxis": xref,
                "yaxis": yref,
            }
        )
        layout["annotations"].append(_panel_title(title, xref, 13))
    return {"data": data, "layout": layout}


def _panel_title(text: str, xref: str, size: int) -> dict:
    """A title centred above the panel whose x axis is ``xref``."""
    return {
        "text": text,  # the caller escapes outside text (class names); the app's own <b> stays bold
        "xref": f"{xref} domain",
        "yref": "paper",
        "x": 0.5,
        "y": 1.0,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": size},
    }


def subsample(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``k`` of ``n`` rows (deterministic)."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
