"""The analytics page's layout pieces: card frames, controls, toolbars and graphs (no callbacks)."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import analytics_byo as byo_view
from components.analytics_labels import TOP_JUMPS
from components.cards.analytics_common import METHOD_LABELS
from components.ids import analytics as ids
from components.info import heading
from components.progress import progress_bar
from services import analysis as analysis_service

GRAPH_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}

INFO = {
    "projection": "Every hidden state of every analysed sequence, projected to 2-D. **Colour** is the "
    "*expected prediction* (EP): what the classifier would answer if the sequence ended at that word "
    "(binary: pink = negative, grey = undecided, blue = positive; multi-class: the most likely class). "
    "The selected sequence is drawn as a **trajectory** from its first word (green ring) to its last "
    "(black cross); words whose step is labelled by the rules below are written next to their point. "
    "Box or lasso select filters the table; click a point to select its sequence. Sets with more states "
    "than the point budget (`RNNX_POINT_BUDGET`, 150,000) are first drawn as a **density image** (colour: "
    "the mean EP, or the class mix; the denser, the more opaque): zoom in until few enough states are in "
    "view and they are drawn as points again; double-click shows the whole cloud.",
    "sequence": "The selected sequence. Each word's background is the EP **after** reading it. The heatmap "
    "has one row per class (white = 0, full colour = 1) and a summary row with the most likely class. The "
    "bars are the Euclidean distance between consecutive hidden states divided by the largest such jump "
    "in the analysis set: tall bars are words that moved the model's memory. Hover any word, column, bar "
    "or point to highlight the same step everywhere.",
    "overview": "How the model classifies the analysed sequences. Top bars: sequences per actual class; "
    "below: what the model predicted for them, in the predicted class's colour. The confusion matrix "
    "counts sequences by actual (row) and predicted (column) class; click a cell to list those sequences.",
    "whatif": "Type or paste any text: after a short pause it runs through the classifier and its path is "
    "drawn on the projection as a **dashed line with open diamonds** (it is *out of sample*: PCA places "
    "it with the fitted reducer, UMAP and t-SNE by its nearest fitted states). Edit a word and watch the path move. "
    "**Pin** keeps a path to compare with the next edit and with the selected sequence.",
    "compare": "**Checkpoints**: the same text under the classifier's weights after each training epoch, all "
    "placed in the final model's projection (same axes), so you see the hidden-state space organise itself. "
    "**Cell types**: trains the other cell (LSTM or GRU) on the same data and shows both projections with "
    "their test accuracies.",
    "units": "The selected sequence's **hidden units** (rows) over its words (columns), as in LSTMVis: red is a "
    "high value, blue a low one; switch to the **cell state** for an LSTM. Choose a **span** of words (the slider, "
    "or click a word's column and then another) and a **threshold**: the units above it at every word of the span "
    "are *on* and outlined (● in the unit labels; order *on-units first* puts them on top). The whole dataset is "
    "then searched for other spans where all of them are on, ranked by **match** (1 = exactly these units on, "
    "over a span of the same length). Click a match to select that sequence and step. Hover a cell to find its "
    "word in the text, the trajectory and the bars.",
    "neighbors": "Click a state on the projection (or a word of the selected sequence): its nearest states in "
    "the **full hidden space** (Euclidean over all hidden units, not the 2-D map) are listed with their word, "
    "sequence, EP and distance, and ringed in purple on the map. A selected sequence without a clicked word "
    "uses its last state. **Other sequences only** leaves out the states of the same sequence (consecutive "
    "states are often each other's nearest; a purple bar marks them). Click a row or a ring to select it.",
    "slices": "Per-class precision, recall, F1 and support, and a **reliability diagram** (confidence against "
    "accuracy), recomputed for the current slice: the table's filters, a confusion-matrix cell or a lasso.",
    "table": "All analysed sequences, ten to a page, sorted and filtered on the server. Click a header to sort "
    "(shift-click adds a second column); type in a column's filter box: text columns match words in them "
    "(`no` in *correct*), number columns take a comparison (`> 0.9` in *confidence*, `< 20` in *words*). "
    "Search the text, click a confusion-matrix cell, or draw a box or lasso on the projection: it selects "
    "the sequences owning any state inside it, among all states, even those not drawn at the current zoom. "
    "Click a row to select it.",
}


def _finite(value: str | None) -> float | None:
    """A URL value as a finite number, or None (missing, malformed, ``nan``, ``inf``)."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def float_param(value: str | None, default: float) -> float:
    """A URL number clipped to [0, 1]; ``default`` when missing, malformed or not finite (``nan``)."""
    number = _finite(value)
    return default if number is None else min(max(number, 0.0), 1.0)


def unusable_params(query: dict, defaults: dict[str, float]) -> str | None:
    """What the page says about URL numbers it cannot use (``jump=nan``): their defaults apply."""
    bad = [
        f"{name}={str(query[name])[:20]} is not a finite number, so the default {default:.2f} is used"
        for name, default in defaults.items()
        if query.get(name) is not None and _finite(query[name]) is None
    ]
    return ("The link's " + "; ".join(bad) + ".") if bad else None


def int_param(value: str | None) -> int | None:
    """A URL integer, or None when missing or malformed."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def card(title: str, info_key: str, body: list, extra: object = None, **kwargs) -> dbc.Card:
    """A card with a titled header (and its info popover from ``INFO``) around ``body``."""
    header = html.Div(
        [heading(title, ids.ANALYTICS_INFO[info_key], INFO[info_key], level="H6"), extra],
        className="d-flex justify-content-between align-items-center flex-wrap gap-2",
    )
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className="rnnx-card h-100", **kwargs)


def controls(dataset: str, method: str) -> dbc.Row:
    """The page's top row: dataset, projection method, Prepare, progress, bring-your-own and export."""
    return dbc.Row(
        [
            dbc.Col(html.H4("Hidden-state analytics", className="mb-0 rnnx-title"), width="auto"),
            dbc.Col(
                dcc.Dropdown(
                    id=ids.ANALYTICS_DATASET,
                    options=analysis_service.dataset_choices(),
                    value=dataset,
                    clearable=False,
                    style={"minWidth": 340},
                ),
                width="auto",
            ),
            dbc.Col(
                dbc.RadioItems(
                    id=ids.ANALYTICS_PROJECTION_METHOD,
                    options=[
                        {"label": METHOD_LABELS.get(m, m), "value": m} for m in analysis_service.methods()
                    ],
                    value=method,
                    inline=True,
                    className="btn-group",
                    inputClassName="btn-check",
                    labelClassName="btn btn-outline-primary btn-sm",
                    labelCheckedClassName="active",
                ),
                width="auto",
            ),
            dbc.Col(
                dbc.Button(
                    [html.I(className="bi bi-cpu me-1"), "Prepare"],
                    id=ids.ANALYTICS_PREPARE,
                    color="primary",
                    size="sm",
                    style={"display": "none"},
                ),
                width="auto",
            ),
            dbc.Col(
                progress_bar(ids.ANALYTICS_PROGRESS, 280),
                width="auto",
            ),
            dbc.Col(
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-upload me-1"), "Bring your own model"],
                            id=ids.ANALYTICS_BYO_TOGGLE,
                            color="primary",
                            outline=True,
                            size="sm",
                        ),
                        byo_view.export_menu(),
                    ],
                    className="d-flex gap-2 justify-content-end",
                ),
                className="ms-auto",
                width="auto",
            ),
        ],
        className="g-3 align-items-center mb-2",
    )


def projection_toolbar() -> html.Div:
    """Colouring, fading and trajectory options above the projection."""
    return html.Div(
        [
            dbc.RadioItems(
                id=ids.ANALYTICS_COLOR_MODE,
                options=[{"label": "EP", "value": "ep"}, {"label": "actual class", "value": "actual"}],
                value="ep",
                inline=True,
                className="me-3",
            ),
            dbc.Select(
                id=ids.ANALYTICS_FADE,
                options=[
                    {"label": "fade: none", "value": "none"},
                    {"label": "fade correct", "value": "correct"},
                    {"label": "fade misclassified", "value": "wrong"},
                ],
                value="none",
                size="sm",
                style={"width": 170},
                className="me-3",
            ),
            dbc.Switch(id=ids.ANALYTICS_FINAL_ONLY, label="final states only", value=False, className="me-3"),
            dbc.RadioItems(
                id=ids.ANALYTICS_TRAJECTORY_COLOR,
                options=[{"label": "trajectory: EP", "value": "ep"}, {"label": "time", "value": "time"}],
                value="ep",
                inline=True,
            ),
        ],
        className="d-flex flex-wrap align-items-center small rnnx-toolbar",
    )


def _unit_slider(slider_id: str, value: float) -> dcc.Slider:
    """A 0..1 threshold slider that reports on release."""
    return dcc.Slider(
        id=slider_id,
        min=0,
        max=1,
        step=0.01,
        value=value,
        marks={v: f"{v:.1f}" for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)},
        tooltip={"placement": "bottom", "always_visible": False},
        updatemode="mouseup",
    )


def threshold_controls(jump: float, ep_change: float, rules: list[str], jump_auto: bool = True) -> html.Div:
    """The word-labelling rules and their jump and EP-change thresholds."""
    return html.Div(
        [
            dbc.Checklist(
                id=ids.ANALYTICS_LABEL_RULES,
                options=[
                    {"label": "label jumps ≥", "value": "jump"},
                    {"label": "EP change ≥", "value": "ep"},
                    {"label": "class flips", "value": "flip"},
                    {"label": "label the word before", "value": "before"},
                ],
                value=rules,
                inline=True,
                className="small mb-1",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    html.Label("jump threshold", className="small text-muted mb-0"),
                                    dbc.Switch(
                                        id=ids.ANALYTICS_JUMP_AUTO,
                                        label=f"auto: top {TOP_JUMPS} per sequence",
                                        value=jump_auto,
                                        className="small mb-0 ms-auto me-md-3",
                                    ),
                                ],
                                className="d-flex align-items-center gap-2",
                                title="On: label each sequence's largest jumps, whatever their size. "
                                "Moving the slider labels the jumps above it instead.",
                            ),
                            _unit_slider(ids.DISTANCE_THRESHOLD, jump),
                        ],
                        md=6,
                    ),
                    dbc.Col(
                        [
                            html.Label("EP change threshold", className="small text-muted mb-0"),
                            _unit_slider(ids.ANALYTICS_EP_THRESHOLD, ep_change),
                        ],
                        md=6,
                    ),
                ],
                className="g-2",
            ),
        ]
    )


def graph(graph_id: str, figure: object, height: int | None = None, **kwargs) -> dcc.Graph:
    style = {"height": f"{height}px"} if height else {}
    return dcc.Graph(
        id=graph_id,
        figure=figure,
        config={
            **GRAPH_CONFIG,
            "toImageButtonOptions": {**GRAPH_CONFIG["toImageButtonOptions"], "filename": graph_id},
        },
        style=style,
        **kwargs,
    )
