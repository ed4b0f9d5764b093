"""Views of one selected sequence: coloured text, EP heatmap, distance bars, summary."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from components import analytics_colors as colors
from components import figure_text

_FONT = {"family": "Lato, system-ui, sans-serif", "size": 12}


def _ep_text(row: np.ndarray, class_names: list[str]) -> str:
    return ", ".join(f"{c} {p:.2f}" for c, p in zip(class_names, row, strict=True))


def sequence_text(
    words: list[str], ep: np.ndarray, distance_norm: np.ndarray, class_names: list[str], labelled: np.ndarray
) -> list:
    """One span per word, its background the EP after reading it; labelled words underlined."""
    backgrounds = colors.state_colors(ep)
    marked = set(int(t) for t in labelled)
    spans = []
    for t, word in enumerate(words):
        bg = backgrounds[t]
        tip = f"{word} · step {t}\nEP: {_ep_text(ep[t], class_names)}\njump from previous: {distance_norm[t]:.2f}"
        spans.append(
            html.Span(
                word,
                className="rnnx-word" + (" rnnx-word-labelled" if t in marked else ""),
                title=tip,
                style={"backgroundColor": bg, "color": colors.text_color_for(bg)},
                **{"data-step": str(t)},
            )
        )
        spans.append(" ")
    return spans


SALIENCY_AGAINST = "#495057"  # a word against the predicted class (more than two classes)
SALIENCY_LABELS = {"epchange": "EP change", "attribution": "attribution (IG)"}


def saliency_colors(scores: np.ndarray, target: int, n_classes: int) -> list[str]:
    """Signed per-word scores toward class ``target`` as colours, white at zero.

    Binary: pink toward the first class, blue toward the second (the EP hues); otherwise
    the predicted class's colour for support and dark grey against it. Scaled by the largest |score|.
    """
    scores = np.asarray(scores, dtype=float)
    if not len(scores):
        return []
    top = float(np.max(np.abs(scores))) or 1.0
    norm = scores / top
    if n_classes == 2:
        toward_second = norm if target == 1 else -norm
        first, second = colors.class_colors(2)
        return colors.interpolate(toward_second, (-1.0, 0.0, 1.0), (first, "#ffffff", second))
    own = colors.class_colors(n_classes)[target]
    return [
        colors.interpolate([abs(v)], (0.0, 1.0), ("#ffffff", own if v >= 0 else SALIENCY_AGAINST))[0]
        for v in norm
    ]


def saliency_text(
    words: list[str],
    scores: np.ndarray,
    target: int,
    class_names: list[str],
    labelled: np.ndarray,
    kind: str,
    other: np.ndarray | None = None,
    other_kind: str | None = None,
) -> list:
    """One span per word, its background its score (``kind``: "epchange" or "attribution").

    ``other`` (the other score, if known) is drawn as a bar under each word, so the two can be
    compared word by word; both numbers are in the tooltip.
    """
    n = len(class_names)
    backgrounds = saliency_colors(scores, target, n)
    unders = saliency_colors(other, target, n) if other is not None and len(other) == len(words) else None
    marked = set(int(t) for t in labelled)
    spans = []
    for t, word in enumerate(words):
        bg = backgrounds[t]
        tip = f"{word} · step {t}\n{SALIENCY_LABELS[kind]} toward {class_names[target]}: {scores[t]:+.3f}"
        style = {"backgroundColor": bg, "color": colors.text_color_for(bg)}
        if unders is not None:
            tip += f"\n{SALIENCY_LABELS.get(other_kind or '', 'other')}: {other[t]:+.3f}"
            style["boxShadow"] = f"inset 0 -4px 0 {unders[t]}"
        spans.append(
            html.Span(
                word,
                className="rnnx-word rnnx-salient" + (" rnnx-word-labelled" if t in marked else ""),
                title=tip,
                style=style,
                **{"data-step": str(t), "data-score": f"{scores[t]:.5f}"},
            )
        )
        spans.append(" ")
    return spans


def saliency_figure(
    words: list[str],
    ep_change: np.ndarray,
    attribution: np.ndarray | None,
    target: int,
    class_names: list[str],
) -> dict:
    """EP change and attribution of each word side by side (bars per step), toward class ``target``."""
    class_names = figure_text.literals(class_names)
    steps = list(range(len(words)))
    data = [
        {
            "type": "bar",
            "x": steps,
            "y": np.round(np.asarray(ep_change, dtype=float), 4).tolist(),
            "customdata": list(words),
            "name": "EP change",
            "marker": {"color": "#adb5bd"},
            "hovertemplate": "<b>%{customdata}</b> · step %{x}<br>EP change %{y:+.3f}<extra></extra>",
        }
    ]
    if attribution is not None:
        data.append(
            {
                "type": "bar",
                "x": steps,
                "y": np.round(np.asarray(attribution, dtype=float), 4).tolist(),
                "customdata": list(words),
                "name": "attribution (IG)",
                "marker": {"color": colors.class_colors(len(class_names))[target]},
                "hovertemplate": "<b>%{customdata}</b> · step %{x}<br>attribution %{y:+.3f}<extra></extra>",
            }
        )
    layout = _layout(
        150,
        {"l": 50, "r": 10, "t": 24, "b": 30},
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 10}},
        barmode="group",
        bargap=0.1,
        xaxis={
            "range": [-0.5, len(words) - 0.5],
            "showgrid": False,
            "title": {"text": "step", "standoff": 2},
        },
        yaxis={
            "title": {"text": f"→ {class_names[target]}"},
            "gridcolor": "#eeeeee",
            "zerolinecolor": "#6c757d",
        },
    )
    return {"data": data, "layout": layout}


def _layout(height: int, margin: dict, **extra) -> dict:
    """A plain layout (figures here are dicts: no plotly validation on the selection hot path)."""
    return {
        "height": height,
        "margin": margin,
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": _FONT,
        "hovermode": "closest",
        "showlegend": False,
        **extra,
    }


def heatmap_figure(ep: np.ndarray, words: list[str], class_names: list[str]) -> dict:
    """One row per class (white -> class colour by EP) and a half-height argmax summary row."""
    class_names = figure_text.literals(class_names)
    n_steps, n_classes = ep.shape
    palette = colors.class_colors(n_classes)
    steps = list(range(n_steps))
    words = list(words)
    data = []
    for c in range(n_classes):
        data.append(
            {
                "type": "heatmap",
                "z": [np.round(ep[:, c].astype(float), 3).tolist()],
                "x": steps,
                "y": [c],  # numeric rows: two single-row heatmaps on a category axis crash plotly.js
                "customdata": [words],
                "colorscale": [[0, "#ffffff"], [1, palette[c]]],
                "zmin": 0,
                "zmax": 1,
                "showscale": False,
                "xgap": 1,
                "ygap": 2,
                "name": class_names[c],
                "hovertemplate": "<b>%{customdata}</b> · step %{x}<br>EP "
                + class_names[c]
                + ": %{z:.2f}<extra></extra>",
            }
        )
    arg = ep.argmax(axis=1)
    data.append(
        {
            "type": "heatmap",
            "z": [arg.tolist()],
            "x": steps,
            "y": [0],
            "customdata": [[class_names[a] for a in arg]],
            "colorscale": colors.discrete_colorscale(palette),
            "zmin": -0.5,
            "zmax": n_classes - 0.5,
            "showscale": False,
            "xgap": 1,
            "yaxis": "y2",
            "name": "predicted",
            "hovertemplate": "step %{x}: predicted <b>%{customdata}</b><extra></extra>",
        }
    )
    row_px = 22
    # The step ticks and the axis title sit below the summary row (the x axis hangs off it).
    height = 72 + row_px * n_classes + row_px // 2 + 8
    summary_share = (row_px / 2) / (row_px * n_classes + row_px / 2 + 8)
    layout = _layout(
        height,
        {"l": 90, "r": 10, "t": 22, "b": 50},
        yaxis={
            "domain": [summary_share + 0.04, 1.0],
            "autorange": "reversed",
            "fixedrange": True,
            "tickvals": list(range(n_classes)),
            "ticktext": list(class_names),
        },
        yaxis2={
            "domain": [0, summary_share],
            "anchor": "x",
            "tickvals": [0],
            "ticktext": ["predicted"],
            "fixedrange": True,
            "tickfont": {"size": 10, "color": "#6c757d"},
        },
        xaxis={
            "anchor": "y2",
            "title": {"text": "step", "standoff": 4},
            "showgrid": False,
            "zeroline": False,
            "range": [-0.5, n_steps - 0.5],
            "ticks": "outside",
            "ticklen": 3,
        },
    )
    return {"data": data, "layout": layout}


def distance_figure(
    distance_norm: np.ndarray, ep: np.ndarray, words: list[str], threshold: float, note: str | None = None
) -> dict:
    """Bars of the normalised jump between consecutive states, with the threshold line.

    ``note`` names an automatic threshold (e.g. "top 5") next to its line.
    """
    dist = np.asarray(distance_norm, dtype=float)
    n = len(dist)
    above = dist >= threshold
    bars = {
        "type": "bar",
        "x": list(range(n)),
        "y": np.round(dist, 4).tolist(),
        "marker": {
            "color": colors.state_colors(ep),
            "line": {"color": ["#212529" if a else "rgba(0,0,0,0)" for a in above], "width": 1.5},
        },
        "customdata": list(words),
        "hovertemplate": "<b>%{customdata}</b> · step %{x}<br>jump %{y:.3f}<extra></extra>",
        "name": "jump",
    }
    threshold_line = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": threshold,
        "y1": threshold,
        "line": {"color": "#dc3545", "width": 1.5, "dash": "dash"},
        "name": "threshold",
    }
    notes = []
    if note:
        notes.append(
            {
                "text": f"- - {note}",  # top left, clear of the bars and of the mode bar
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "xanchor": "left",
                "y": 1,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 10, "color": "#dc3545"},
            }
        )
    layout = _layout(
        170,
        {"l": 50, "r": 10, "t": 22, "b": 36},
        shapes=[threshold_line],
        annotations=notes,
        bargap=0.15,
        xaxis={"title": {"text": "step", "standoff": 2}, "range": [-0.5, n - 0.5], "showgrid": False},
        yaxis={
            "title": {"text": "jump"},
            "range": [0, max(1.0, float(np.max(dist, initial=0)) * 1.05)],
            "gridcolor": "#eeeeee",
        },
    )
    return {"data": [bars], "layout": layout}


def sequence_summary(
    k: int, n_steps: int, actual: str, predicted: str, confidence: float, correct: bool, n_labelled: int
) -> html.Div:
    """The badges above the selected sequence's views."""
    return html.Div(
        [
            html.Span(f"Sequence #{k}", className="fw-bold me-2"),
            dbc.Badge(f"{n_steps} words", color="light", text_color="dark", className="me-1"),
            dbc.Badge(f"actual: {actual}", color="secondary", className="me-1"),
            dbc.Badge(f"predicted: {predicted} ({confidence:.0%})", color="primary", className="me-1"),
            dbc.Badge(
                "correct" if correct else "misclassified",
                color="success" if correct else "danger",
                className="me-1",
            ),
            dbc.Badge(f"{n_labelled} labelled words", color="light", text_color="dark"),
        ],
        className="d-flex flex-wrap align-items-center",
    )
