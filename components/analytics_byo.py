"""Layout pieces of issue 6 on the analytics page: upload panel, what-if, compare, export (no callbacks)."""

from __future__ import annotations

from collections.abc import Callable

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.analytics_overview import empty_figure
from components.progress import progress_bar

GraphMaker = Callable[..., dcc.Graph]


def _drop_zone(
    upload_id: str, title: str, accept: str, hint: str, disabled: bool, limit_mb: float
) -> html.Div:
    """One drop zone; files over the limit are refused in the browser (assets/uploads.js says why)."""
    return html.Div(
        [
            dcc.Upload(
                html.Div(
                    [
                        html.I(className="bi bi-cloud-arrow-up me-2"),
                        html.Span(title, className="fw-semibold"),
                        html.Div(hint, className="small text-muted"),
                    ]
                ),
                id=upload_id,
                accept=accept,
                multiple=False,
                disabled=disabled,
                max_size=int(limit_mb * 1024 * 1024),
                className="rnnx-drop" + (" rnnx-drop-disabled" if disabled else ""),
            ),
            html.Div(id=f"{upload_id}-name", className="small rnnx-drop-name"),
        ],
        className="rnnx-drop-wrap",
        **{"data-limit-mb": f"{limit_mb:g}"},
    )


def upload_panel(allowed: bool, limit_mb: float, open_: bool = False) -> dbc.Collapse:
    """The bring-your-own panel: three drop zones, column and layer choices, the Analyse button."""
    refusal = (
        []
        if allowed
        else [
            dbc.Alert(
                [
                    html.I(className="bi bi-lock me-2"),
                    "Uploads are switched off on this read-only demo server. Run RNN Explorer yourself "
                    "(or use python -m model.prepare --model … --csv …) to analyse your own classifier.",
                ],
                color="secondary",
                className="mb-2 py-2",
                id="analytics-byo-refused",
            )
        ]
    )
    zones = dbc.Row(
        [
            dbc.Col(
                _drop_zone(
                    "analytics-upload-model",
                    "Keras model (.keras)",
                    ".keras",
                    "a recurrent text classifier; loaded in safe mode",
                    not allowed,
                    limit_mb,
                ),
                md=4,
            ),
            dbc.Col(
                _drop_zone(
                    "analytics-upload-csv",
                    "Texts and labels (.csv)",
                    ".csv,text/csv",
                    "UTF-8, with a header row",
                    not allowed,
                    limit_mb,
                ),
                md=4,
            ),
            dbc.Col(
                _drop_zone(
                    "analytics-upload-vocab",
                    "Vocabulary (optional)",
                    ".json,.txt,.tsv",
                    "only if the model takes token ids",
                    not allowed,
                    limit_mb,
                ),
                md=4,
            ),
        ],
        className="g-2 mb-2",
    )
    options = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("text column", className="small mb-0"),
                    dcc.Dropdown(
                        id="analytics-text-column", options=[], clearable=False, disabled=not allowed
                    ),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("label column", className="small mb-0"),
                    dcc.Dropdown(
                        id="analytics-label-column", options=[], clearable=False, disabled=not allowed
                    ),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("class names (optional, in output order)", className="small mb-0"),
                    dbc.Input(
                        id="analytics-class-names",
                        placeholder="e.g. negative, positive",
                        size="sm",
                        disabled=not allowed,
                    ),
                ],
                md=3,
            ),
            dbc.Col(
                html.Div(
                    [
                        dbc.Label("recurrent layer", className="small mb-0"),
                        dcc.Dropdown(
                            id="analytics-layer", options=[], clearable=True, placeholder="last one"
                        ),
                    ],
                    id="analytics-layer-wrap",
                    style={"display": "none"},
                ),
                md=3,
            ),
        ],
        className="g-2 mb-2 align-items-end",
    )
    actions = html.Div(
        [
            dbc.Button(
                [html.I(className="bi bi-play-fill me-1"), "Analyse"],
                id="analytics-byo-run",
                color="primary",
                size="sm",
                disabled=True,
            ),
            progress_bar("analytics-byo-progress", 300),
            html.Span(
                f"Limit {limit_mb:.0f} MB per file. Your files stay in this browser session's own space.",
                className="small text-muted",
            ),
        ],
        className="d-flex align-items-center gap-3 flex-wrap",
    )
    body = dbc.Card(
        dbc.CardBody(
            [*refusal, zones, options, actions, html.Div(id="analytics-byo-alert", className="mt-2")]
        ),
        className="rnnx-card rnnx-byo mb-3",
    )
    return dbc.Collapse(body, id="analytics-byo-collapse", is_open=open_)


def export_menu() -> html.Div:
    """The Export dropdown (files through dcc.Download, figures through Plotly in the browser)."""
    return html.Div(
        [
            dbc.DropdownMenu(
                [
                    dbc.DropdownMenuItem("Data", header=True),
                    dbc.DropdownMenuItem("Hidden states, EP, x/y (CSV)", id="analytics-export-states"),
                    dbc.DropdownMenuItem("Sequences and predictions (CSV)", id="analytics-export-sequences"),
                    dbc.DropdownMenuItem("TensorBoard projector (zip)", id="analytics-export-tensorboard"),
                    dbc.DropdownMenuItem(divider=True),
                    dbc.DropdownMenuItem("Figures", header=True),
                    dbc.DropdownMenuItem("Projection as PNG", id="analytics-export-png"),
                    dbc.DropdownMenuItem("Projection as SVG", id="analytics-export-svg"),
                    dbc.DropdownMenuItem("All figures as SVG", id="analytics-export-all-svg"),
                ],
                label=[html.I(className="bi bi-download me-1"), "Export"],
                id="analytics-export-menu",
                size="sm",
                color="secondary",
                align_end=True,
            ),
            dcc.Download(id="analytics-download"),
            dcc.Store(id="analytics-figure-export"),
        ]
    )


def whatif_body(graph: GraphMaker) -> list:
    """The what-if card body: a text box, its coloured words, heatmap and jumps."""
    return [
        dbc.Textarea(
            id="analytics-whatif-text",
            placeholder="Type or paste any text: its path appears on the projection as you pause…",
            debounce=300,
            rows=3,
            className="mb-2 rnnx-whatif-box",
        ),
        html.Div(
            [
                dbc.Button(
                    [html.I(className="bi bi-pin-angle me-1"), "Pin"],
                    id="analytics-whatif-pin",
                    size="sm",
                    color="secondary",
                    outline=True,
                ),
                dbc.Button("Unpin", id="analytics-whatif-unpin", size="sm", color="link", disabled=True),
                dbc.Button(
                    [html.I(className="bi bi-arrow-down-square me-1"), "Use selected sequence"],
                    id="analytics-whatif-from-selection",
                    size="sm",
                    color="link",
                ),
                html.Span(id="analytics-whatif-summary", className="small ms-auto"),
            ],
            className="d-flex align-items-center gap-2 mb-2 flex-wrap",
        ),
        html.Div(id="analytics-whatif-words", className="rnnx-text"),
        html.Div(id="analytics-whatif-pinned", className="small text-muted mt-1"),
        html.Div("EP per class and step", className="rnnx-subhead"),
        graph("analytics-whatif-heatmap", empty_figure("Type a text to see its EP per word", 120)),
        html.Div("Jump between consecutive hidden states", className="rnnx-subhead"),
        graph("analytics-whatif-distance", empty_figure("", 150)),
        dcc.Store(id="analytics-whatif-pin-store"),
    ]


def compare_body(graph: GraphMaker) -> list:
    """The compare card body: checkpoints per epoch, and two cell types side by side."""
    return [
        dbc.Tabs(
            [
                dbc.Tab(
                    [
                        html.Div(
                            [
                                dbc.RadioItems(
                                    id="analytics-compare-source",
                                    options=[
                                        {"label": "selected sequence", "value": "selected"},
                                        {"label": "typed text", "value": "typed"},
                                    ],
                                    value="selected",
                                    inline=True,
                                    className="small",
                                ),
                            ],
                            className="d-flex align-items-center gap-2 my-2",
                        ),
                        html.Div(id="analytics-checkpoints-note", className="small text-muted mb-1"),
                        graph(
                            "analytics-checkpoints-graph",
                            empty_figure("Select a sequence or type a text", 260),
                        ),
                    ],
                    label="Checkpoints",
                    tab_id="checkpoints",
                ),
                dbc.Tab(
                    [
                        html.Div(
                            [
                                dbc.Button(
                                    [html.I(className="bi bi-layout-split me-1"), "Compare LSTM and GRU"],
                                    id="analytics-compare-cells",
                                    size="sm",
                                    color="primary",
                                    outline=True,
                                ),
                                progress_bar("analytics-cells-progress", 260),
                            ],
                            className="d-flex align-items-center gap-3 my-2",
                        ),
                        html.Div(id="analytics-cells-alert"),
                        html.Div(id="analytics-cells-stats", className="mb-1"),
                        graph(
                            "analytics-cells-graph",
                            empty_figure("Trains the other cell type on the same data, then shows both", 300),
                        ),
                        dcc.Store(id="analytics-cells-ready"),
                    ],
                    label="Cell types",
                    tab_id="cells",
                ),
            ],
            id="analytics-compare-tabs",
            active_tab="checkpoints",
        ),
        # set by assets/analytics.js once the card is scrolled into view (nothing is drawn before)
        dcc.Store(id="analytics-compare-seen", data=False),
    ]
