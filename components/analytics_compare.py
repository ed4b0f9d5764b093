"""Comparison figures: one text's trajectory per training epoch, and two models in one aligned basis."""

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

    title: str  # plain text; a newline starts a second line
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
        lines = [figure_text.literal(line) for line in panel.title.split("\n")]
        layout["annotations"].append(_panel_title("<br>".join(lines), xref, 11 if n > 4 else 12))
    if any("\n" in panel.title for panel in panels):
        layout["margin"]["t"] = 62  # two-line titles below the mode bar: the epoch, its accuracy and answer
    return {"data": data, "layout": layout}


PATH_SLOTS = (2, 3)  # aligned_figure: the traces of the selected sequence's path in panel A and B


def aligned_figure(panels: list[tuple[str, np.ndarray, dict]], height: int = 360) -> dict:
    """Two models' states in one aligned basis: both panels share their axes (zoom one, both follow).

    ``panels``: (title, view xy in the shared frame, marker colours) for A and B; traces 0 and 1 are
    the clouds, ``PATH_SLOTS`` the selected sequence's path in each (empty until :func:`path_trace`)."""
    layout = _row_layout(height, hovermode="closest")
    data, paths = [], []
    for i, (title, xy, marker) in enumerate(panels[:2]):
        x, y, xref, yref = _axis(i, 2, gap=0.04)  # the second panel matches the first's axes
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
                    "opacity": 0.45,
                },
                "hoverinfo": "skip",
                "xaxis": xref,
                "yaxis": yref,
                "showlegend": False,
            }
        )
        paths.append(path_trace(np.zeros((0, 2)), np.zeros((0, 2)), [], i))
        layout["annotations"].append(_panel_title(title, xref, 13))
    return {"data": data + paths, "layout": layout}


def path_trace(xy: np.ndarray, ep: np.ndarray, words: list[str], panel: int) -> dict:
    """The selected sequence's path in panel ``panel`` (0: A, 1: B) of :func:`aligned_figure`."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    suffix = "" if panel == 0 else str(panel + 1)
    return {
        "type": "scatter",
        "x": np.round(xy[:, 0], 1).tolist(),
        "y": np.round(xy[:, 1], 1).tolist(),
        "mode": "lines+markers",
        "line": {"color": "#212529", "width": 2},
        "marker": {
            "size": 7,
            "color": colors.state_colors(ep) if len(xy) else [],
            "line": {"color": "#212529", "width": 0.5},
        },
        "customdata": list(words),
        "hovertemplate": "<b>%{customdata}</b> · step %{pointNumber}<extra></extra>",
        "xaxis": f"x{suffix}",
        "yaxis": f"y{suffix}",
        "showlegend": False,
    }


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
