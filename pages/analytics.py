"""/analytics: hidden-state visual analytics of a recurrent text classifier (the page composes its cards)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from components import analytics_byo as byo_view
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_table as table_view
from components.analytics_labels import DEFAULT_EP_CHANGE, DEFAULT_JUMP
from components.ids import analytics as ids

# Importing a card module registers its callbacks with Dash (kept in the order they were registered before).
# isort: off
from components.cards import analytics_overview_card  # noqa: F401
from components.cards import analytics_projection_card  # noqa: F401
from components.cards import analytics_sequence_card  # noqa: F401
from components.cards import analytics_table_card
from components.cards import analytics_byo_card
from components.cards import analytics_export_card  # noqa: F401
from components.cards import analytics_whatif_card  # noqa: F401
from components.cards import analytics_models_card  # noqa: F401  (the compare card's Models tab)
from components.cards import analytics_units_card, analytics_neighbors_card, analytics_slices_card
from components.cards import analytics_selection  # noqa: F401  (the hub: draws every card's view of a selection)

# isort: on
from components.cards.analytics_attribution import counterfactual_controls, saliency_controls
from components.cards.analytics_layout import (
    card,
    controls,
    float_param,
    graph,
    int_param,
    projection_toolbar,
    threshold_controls,
    unusable_params,
)
from services import analysis as analysis_service
from services import datasets as upload_datasets
from services.validation import InvalidInput
from serving import settings

dash.register_page(__name__, path="/analytics", title="RNN Explorer · Analytics", name="Analytics")


def layout(**query: str) -> html.Div:
    """The page; ``dataset``, ``method``, ``seq``, ``jump`` and ``epchange`` come from the URL.

    Without ``seq`` a representative sequence is selected; ``seq=none`` opens with none."""
    listed = [choice["value"] for choice in analysis_service.dataset_choices()]
    dataset = query.get("dataset") if query.get("dataset") in listed else listed[0]
    requested = query.get("dataset") or ""
    requested_upload = requested if upload_datasets.UPLOAD_ID.match(requested) else None
    method = query.get("method") if query.get("method") in analysis_service.methods() else "pca"
    jump = float_param(query.get("jump"), DEFAULT_JUMP)
    ep_change = float_param(query.get("epchange"), DEFAULT_EP_CHANGE)
    rules = [r for r in (query.get("labels") or "jump").split(",") if r in ("jump", "ep", "flip", "before")]
    seq = int_param(query.get("seq"))
    # A link to another session's upload (or one that expired): said at the top, and its sequence
    # number is not applied to the dataset shown instead.
    notice = analytics_byo_card.link_notice(requested_upload, analysis_service.dataset_label(dataset))
    if seq is None and notice is None and query.get("seq") != "none":
        # No sequence named: open with a representative one (the URL then names it), so no view is empty.
        seq = analysis_service.representative(dataset)
    selection = {"dataset": dataset, "seq": seq, "step": None} if seq is not None and notice is None else None
    empty_projection = projection.projection_figure(
        np.zeros((0, 2)), {"color": []}, 0.6, "empty", whatif=projection.empty_whatif()
    )

    projection_card = card(
        "Hidden-state projection",
        "projection",
        [
            projection_toolbar(),
            dcc.Loading(
                graph(ids.PROJECTION_GRAPH, empty_projection, 560, clear_on_unhover=True),
                type="circle",
                delay_show=300,
            ),
            threshold_controls(jump, ep_change, rules, query.get("jump") is None),
            html.Div(
                unusable_params(query, {"jump": DEFAULT_JUMP, "epchange": DEFAULT_EP_CHANGE}),
                className="small text-warning",
            ),
        ],
    )
    sequence_card = card(
        "Selected sequence",
        "sequence",
        [
            html.Div(
                "Click a row of the table or a point of the projection to select a sequence.",
                id=ids.ANALYTICS_SEQUENCE_SUMMARY,
                className="text-muted small mb-2",
            ),
            saliency_controls(),
            html.Div(id=ids.SEQUENCE_TEXT, className="rnnx-text"),
            html.Div("EP per class and step", className="rnnx-subhead"),
            graph(ids.EP_HEATMAP, overview.empty_figure("No sequence selected", 140), clear_on_unhover=True),
            html.Div("Jump between consecutive hidden states", className="rnnx-subhead"),
            graph(
                ids.DISTANCE_GRAPH, overview.empty_figure("No sequence selected", 170), clear_on_unhover=True
            ),
        ],
    )
    table_card = card(
        "Sequences",
        "table",
        [
            html.Div(
                [
                    dbc.Input(
                        id=ids.ANALYTICS_SEARCH,
                        placeholder="Search the text…",
                        type="search",
                        debounce=True,
                        size="sm",
                        style={"maxWidth": 320},
                    ),
                    html.Span(id=ids.ANALYTICS_FILTER_LABEL, className="small text-muted"),
                    dbc.Button("Clear filters", id=ids.ANALYTICS_CLEAR_FILTER, size="sm", color="link"),
                ],
                className="d-flex align-items-center gap-2 mb-2",
            ),
            table_view.sequence_table(ids.SEQUENCE_TABLE),
        ],
    )
    overview_card = card(
        "Classification overview",
        "overview",
        [
            dbc.Row(
                [
                    dbc.Col(graph(ids.CLASS_BARS, overview.empty_figure("", 260)), lg=6),
                    dbc.Col(graph(ids.CONFUSION_MATRIX, overview.empty_figure("", 260)), lg=6),
                ],
                className="g-2",
            )
        ],
    )
    whatif_card = card(
        "What if: your own text", "whatif", [*byo_view.whatif_body(graph), counterfactual_controls()]
    )
    compare_card = card("Compare", "compare", byo_view.compare_body(graph))
    return html.Div(
        [
            controls(dataset, method),
            byo_view.upload_panel(settings.uploads_allowed(), analysis_service.upload_limit_mb()),
            html.Div(id=ids.ANALYTICS_MODEL_BAR, className="mb-2"),
            notice,
            html.Div(id=ids.ANALYTICS_ALERT),
            dbc.Row(
                [
                    dbc.Col(projection_card, xl=7, className="mb-3"),
                    dbc.Col(sequence_card, xl=5, className="mb-3"),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(table_card, xl=7, className="mb-3"),
                    dbc.Col(
                        html.Div([overview_card, analytics_slices_card.layout()], className="rnnx-stack"),
                        xl=5,
                        className="mb-3",
                    ),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(analytics_units_card.layout(), xl=7, className="mb-3"),
                    dbc.Col(analytics_neighbors_card.layout(), xl=5, className="mb-3"),
                ],
                className="g-3",
            ),
            dbc.Row(
                [dbc.Col(whatif_card, xl=5, className="mb-3"), dbc.Col(compare_card, xl=7, className="mb-3")],
                className="g-3",
            ),
            # Bumped when this session prepares an upload; the list itself is kept on the server.
            dcc.Store(id=ids.ANALYTICS_UPLOADS, data=0),
            # An upload id from the URL: restored only if the server records this session as its owner.
            dcc.Store(id=ids.ANALYTICS_REQUESTED_UPLOAD, data=requested_upload),
            # Handles of the files this session dropped (ids and names; the server maps ids to files).
            dcc.Store(id=ids.ANALYTICS_BYO_FILES, data={}),
            dcc.Store(id=ids.ANALYTICS_SELECTION, data=selection),
            # What the selection's views last put into the jump slider and which word scores they drew
            # with, and the sequence controls' real moves (assets/selection.js): components/cards/analytics_selection.py.
            dcc.Store(id=ids.SEQUENCE_DRAWN),
            dcc.Store(id=ids.SEQUENCE_CONTROLS),
            # Whether the big scatter is currently drawn faded: touching data[0] makes WebGL redo every point.
            dcc.Store(id=ids.ANALYTICS_FADED, data=selection is not None),
            dcc.Store(id=ids.ANALYTICS_FILTER, data={}),
            # The sequence table's whole filter state (services.table recomputes its rows from it).
            dcc.Store(id=ids.ANALYTICS_TABLE_QUERY),
            # The last lasso or box on the projection: its outline only (the server finds the states inside).
            dcc.Store(id=ids.ANALYTICS_LASSO),
            # The projection's current view range while zoomed (level-of-detail rendering of large sets).
            dcc.Store(id=ids.PROJECTION_VIEW),
            dcc.Store(id=ids.ANALYTICS_PREPARED, data=0),
            # Set when a first visit to an unprepared default dataset starts its preparation.
            dcc.Store(id=ids.ANALYTICS_AUTOPREP),
            dcc.Store(id=ids.ANALYTICS_HOVER),
            dcc.Store(id=ids.ANALYTICS_URL_SYNC),
        ],
        className="rnnx-analytics",
    )


def warm_worker(datasets: list[str]) -> list[str]:
    """Warm this process with the prepared ones of ``datasets`` (built-in ids); returns those warmed.

    gunicorn runs it in each new worker (``post_worker_init``) in a background thread."""
    warmed = []
    for dataset in datasets:
        try:  # uploads belong to sessions: never warmed (nor asked about, outside a request)
            if upload_datasets.parse(dataset).is_upload:
                continue
            checked = upload_datasets.check_dataset(dataset, analysis_service.catalogue())
        except InvalidInput:  # a wrong id in the setting: nothing to warm
            continue
        if analytics_table_card.warm(checked):
            warmed.append(str(checked))
    return warmed
