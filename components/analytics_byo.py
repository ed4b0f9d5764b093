"""Layout pieces of issue 6 on the analytics page: upload panel, what-if, compare, export (no callbacks)."""

from __future__ import annotations

from collections.abc import Callable

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.analytics_models import models_tab
from components.analytics_overview import empty_figure
from components.ids import analytics as ids
from components.progress import progress_bar
from serving import upload_route

GraphMaker = Callable[..., dcc.Graph]


# Each drop zone's dcc.Upload and the line naming the file it received.
NAME_IDS = {
    ids.ANALYTICS_UPLOAD_MODEL: ids.ANALYTICS_UPLOAD_MODEL_NAME,
    ids.ANALYTICS_UPLOAD_CSV: ids.ANALYTICS_UPLOAD_CSV_NAME,
    ids.ANALYTICS_UPLOAD_VOCAB: ids.ANALYTICS_UPLOAD_VOCAB_NAME,
}
SLOTS = {
    ids.ANALYTICS_UPLOAD_MODEL: "model",
    ids.ANALYTICS_UPLOAD_CSV: "csv",
    ids.ANALYTICS_UPLOAD_VOCAB: "vocab",
}


def _drop_zone(
    upload_id: str, title: str, accept: str, hint: str, disabled: bool, limit_mb: float
) -> html.Div:
    """One drop zone (drop a file, or click to choose one).

    ``assets/uploads.js`` takes the file before dcc.Upload reads it and posts it to the upload route
    (``data-upload-url``, under Dash's requests prefix); files over the limit are refused in the
    browser with a message, before a byte is sent.
    """
    slot = SLOTS[upload_id]
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
                className="rnnx-drop" + (" rnnx-drop-disabled" if disabled else ""),
            ),
            html.Div(id=NAME_IDS[upload_id], className="small rnnx-drop-name"),
        ],
        className="rnnx-drop-wrap",
        **{
            "data-limit-mb": f"{limit_mb:g}",
            "data-slot": slot,
            "data-upload-url": dash.get_relative_path(f"/{upload_route.PATH}/{slot}"),
        },
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
                id=ids.ANALYTICS_BYO_REFUSED,
            )
        ]
    )
    zones = dbc.Row(
        [
            dbc.Col(
                _drop_zone(
                    ids.ANALYTICS_UPLOAD_MODEL,
                    "Model (.keras or .onnx)",
                    ".keras,.onnx",
                    "a recurrent text classifier (Keras in safe mode, or ONNX with an LSTM/GRU/RNN op)",
                    not allowed,
                    limit_mb,
                ),
                md=4,
            ),
            dbc.Col(
                _drop_zone(
                    ids.ANALYTICS_UPLOAD_CSV,
                    "Texts and labels (.csv, .jsonl, .parquet)",
                    ".csv,text/csv,.jsonl,.ndjson,.json,.parquet",
                    "CSV (UTF-8, a header row), JSON Lines or Parquet",
                    not allowed,
                    limit_mb,
                ),
                md=4,
            ),
            dbc.Col(
                _drop_zone(
                    ids.ANALYTICS_UPLOAD_VOCAB,
                    "Vocabulary (optional)",
                    ".json,.txt,.tsv",
                    "if the model takes token ids (a tokenizer.json works too)",
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
                        id=ids.ANALYTICS_TEXT_COLUMN, options=[], clearable=False, disabled=not allowed
                    ),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("label column", className="small mb-0"),
                    dcc.Dropdown(
                        id=ids.ANALYTICS_LABEL_COLUMN, options=[], clearable=False, disabled=not allowed
                    ),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("class names (optional, in output order)", className="small mb-0"),
                    dbc.Input(
                        id=ids.ANALYTICS_CLASS_NAMES,
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
                            id=ids.ANALYTICS_LAYER, options=[], clearable=True, placeholder="last one"
                        ),
                    ],
                    id=ids.ANALYTICS_LAYER_WRAP,
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
                id=ids.ANALYTICS_BYO_RUN,
                color="primary",
                size="sm",
                disabled=True,
            ),
            progress_bar(ids.ANALYTICS_BYO_PROGRESS, 300),
            html.Span(
                f"Limit {limit_mb:.0f} MB per file. Your files stay in this browser session's own space.",
                className="small text-muted",
            ),
        ],
        className="d-flex align-items-center gap-3 flex-wrap",
    )
    body = dbc.Card(
        dbc.CardBody(
            [
                *refusal,
                zones,
                options,
                actions,
                html.Div(id=ids.ANALYTICS_BYO_ALERT, className="mt-2"),
                dcc.Store(id=ids.ANALYTICS_UPLOAD_REPLY),  # the upload route's reply (assets/uploads.js)
                dcc.Store(id=ids.ANALYTICS_UPLOAD_PROGRESS),  # the upload under way (assets/uploads.js)
            ]
        ),
        className="rnnx-card rnnx-byo mb-3",
    )
    return dbc.Collapse(body, id=ids.ANALYTICS_BYO_COLLAPSE, is_open=open_)


def export_menu() -> html.Div:
    """The Export dropdown: data files built on the server with a progress bar (the export card),
    then downloaded from ``/download/<token>``; figures through Plotly in the browser."""
    return html.Div(
        [
            progress_bar(ids.ANALYTICS_EXPORT_PROGRESS, 220),
            dbc.DropdownMenu(
                [
                    dbc.DropdownMenuItem("Data", header=True),
                    dbc.DropdownMenuItem(
                        "Hidden states, EP, x/y (CSV, gzip)", id=ids.ANALYTICS_EXPORT_STATES
                    ),
                    dbc.DropdownMenuItem("Hidden states, EP, x/y (Parquet)", id=ids.ANALYTICS_EXPORT_PARQUET),
                    html.Div(
                        dbc.Checkbox(
                            id=ids.ANALYTICS_EXPORT_HIDDEN,
                            label="with the hidden vectors h_0 … h_n",
                            value=True,
                            className="small mb-0",
                        ),
                        className="px-3 pb-1",
                    ),
                    dbc.DropdownMenuItem(
                        "Sequences and predictions (CSV)", id=ids.ANALYTICS_EXPORT_SEQUENCES
                    ),
                    dbc.DropdownMenuItem(
                        "TensorBoard projector (zip, at most 100,000 states)",
                        id=ids.ANALYTICS_EXPORT_TENSORBOARD,
                    ),
                    dbc.DropdownMenuItem(divider=True),
                    dbc.DropdownMenuItem("Figures", header=True),
                    dbc.DropdownMenuItem("Projection as PNG", id=ids.ANALYTICS_EXPORT_PNG),
                    dbc.DropdownMenuItem("Projection as SVG", id=ids.ANALYTICS_EXPORT_SVG),
                    dbc.DropdownMenuItem("All figures as SVG", id=ids.ANALYTICS_EXPORT_ALL_SVG),
                ],
                label=[html.I(className="bi bi-download me-1"), "Export"],
                id=ids.ANALYTICS_EXPORT_MENU,
                size="sm",
                color="secondary",
                align_end=True,
            ),
            dcc.Store(id=ids.ANALYTICS_FIGURE_EXPORT),
            dcc.Store(id=ids.ANALYTICS_EXPORT_JOB),
            dcc.Store(id=ids.ANALYTICS_EXPORT_FILE),
            dcc.Store(id=ids.ANALYTICS_EXPORT_STARTED),
        ],
        className="d-flex align-items-center gap-2",
    )


def whatif_body(graph: GraphMaker) -> list:
    """The what-if card body: a text box, its coloured words, heatmap and jumps."""
    return [
        dbc.Textarea(
            id=ids.ANALYTICS_WHATIF_TEXT,
            placeholder="Type or paste any text: its path appears on the projection as you pause…",
            debounce=300,
            rows=3,
            className="mb-2 rnnx-whatif-box",
        ),
        html.Div(
            [
                dbc.Button(
                    [html.I(className="bi bi-pin-angle me-1"), "Pin"],
                    id=ids.ANALYTICS_WHATIF_PIN,
                    size="sm",
                    color="secondary",
                    outline=True,
                ),
                dbc.Button("Unpin", id=ids.ANALYTICS_WHATIF_UNPIN, size="sm", color="link", disabled=True),
                dbc.Button(
                    [html.I(className="bi bi-arrow-down-square me-1"), "Use selected sequence"],
                    id=ids.ANALYTICS_WHATIF_FROM_SELECTION,
                    size="sm",
                    color="link",
                ),
                html.Span(id=ids.ANALYTICS_WHATIF_SUMMARY, className="small ms-auto"),
            ],
            className="d-flex align-items-center gap-2 mb-2 flex-wrap",
        ),
        html.Div(id=ids.ANALYTICS_WHATIF_WORDS, className="rnnx-text"),
        html.Div(id=ids.ANALYTICS_WHATIF_PINNED, className="small text-muted mt-1"),
        html.Div("EP per class and step", className="rnnx-subhead"),
        graph(ids.ANALYTICS_WHATIF_HEATMAP, empty_figure("Type a text to see its EP per word", 120)),
        html.Div("Jump between consecutive hidden states", className="rnnx-subhead"),
        graph(ids.ANALYTICS_WHATIF_DISTANCE, empty_figure("", 150)),
        dcc.Store(id=ids.ANALYTICS_WHATIF_PIN_STORE),
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
                                    id=ids.ANALYTICS_COMPARE_SOURCE,
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
                        html.Div(id=ids.ANALYTICS_CHECKPOINTS_NOTE, className="small text-muted mb-1"),
                        graph(
                            ids.ANALYTICS_CHECKPOINTS_GRAPH,
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
                                    id=ids.ANALYTICS_COMPARE_CELLS,
                                    size="sm",
                                    color="primary",
                                    outline=True,
                                ),
                                progress_bar(ids.ANALYTICS_CELLS_PROGRESS, 260),
                            ],
                            className="d-flex align-items-center gap-3 my-2",
                        ),
                        html.Div(id=ids.ANALYTICS_CELLS_ALERT),
                        html.Div(id=ids.ANALYTICS_CELLS_STATS, className="mb-1"),
                        graph(
                            ids.ANALYTICS_CELLS_GRAPH,
                            empty_figure("Trains the other cell type on the same data, then shows both", 300),
                        ),
                        dcc.Store(id=ids.ANALYTICS_CELLS_READY),
                    ],
                    label="Cell types",
                    tab_id="cells",
                ),
                dbc.Tab(models_tab(graph), label="Models", tab_id="models"),
            ],
            id=ids.ANALYTICS_COMPARE_TABS,
            active_tab="checkpoints",
        ),
        # set by assets/analytics.js once the card is scrolled into view (nothing is drawn before)
        dcc.Store(id=ids.ANALYTICS_COMPARE_SEEN, data=False),
    ]
