"""Overview views: model/dataset bar, stacked class bars, confusion matrix."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
import plotly.graph_objects as go
from dash import dcc, html
from plotly.subplots import make_subplots

from components import analytics_colors as colors
from components import figure_text
from components.ids import analytics as ids

_FONT = {"family": "Lato, system-ui, sans-serif", "size": 12}


def _stat(label: str, value: str) -> html.Div:
    return html.Div(
        [html.Div(value, className="rnnx-stat-value"), html.Div(label, className="rnnx-stat-label")],
        className="rnnx-stat",
    )


NEAR_CHANCE = 0.05  # a test accuracy within 5 points of chance earns a warning
PROFILE_NOTES = {
    "quick": "RNNX_PROFILE=quick: a demo model trained for one epoch on 1,000 texts, 100 analysed. "
    "Expect it to be near chance.",
    "full": "RNNX_PROFILE=full: the classifier trained with the paper's settings.",
}


def chance_level(label_counts: np.ndarray | None, n_classes: int) -> tuple[float, int | None]:
    """(accuracy of the better blind guess, majority class or None): always answering the most
    common class, or guessing uniformly (1 / n_classes)."""
    uniform = 1.0 / max(n_classes, 1)
    counts = np.asarray(label_counts if label_counts is not None else [], dtype=float)
    if counts.sum() <= 0:
        return uniform, None
    majority = int(counts.argmax())
    share = float(counts[majority] / counts.sum())
    return (share, majority) if share > uniform else (uniform, None)


def _is_upload(summary: dict) -> bool:
    return str(summary.get("dataset", "")).startswith("upload-")


def _profile(summary: dict) -> str | None:
    """The built-in model's profile (an upload's model was trained elsewhere: None)."""
    profile = summary.get("profile")
    return profile if profile in PROFILE_NOTES and not _is_upload(summary) else None


def upload_accuracy_label(n_rows: int) -> str:
    """What an upload's accuracy measures: its model on the uploaded rows, which it may have been trained on."""
    return f"accuracy on the uploaded rows ({n_rows:,})"


def upload_accuracy_note(n_rows: int) -> str:
    """The tooltip of :func:`upload_accuracy_label`: why it is not a test accuracy."""
    return (
        f"Your model's accuracy on the {n_rows:,} labelled rows you uploaded: not a held-out test "
        "accuracy unless these rows were held out of its training."
    )


def _profile_badge(summary: dict) -> html.Div | None:
    profile = _profile(summary)
    if profile is None:
        return None
    badge = dbc.Badge(
        f"{profile} profile",
        id=ids.ANALYTICS_PROFILE_BADGE,
        color="warning" if profile == "quick" else "success",
        text_color="dark" if profile == "quick" else None,
        title=PROFILE_NOTES[profile],
    )
    return html.Div(
        [html.Div(badge, className="rnnx-stat-value"), html.Div("profile", className="rnnx-stat-label")],
        className="rnnx-stat",
        title=PROFILE_NOTES[profile],
    )


def _versus(accuracy: float, chance: float) -> str:
    points = (accuracy - chance) * 100
    return "no better than" if points <= 0.05 else f"only {points:.1f} points above"


def chance_warning(
    accuracy: float,
    label_counts: np.ndarray | None,
    class_names: list[str],
    profile: str | None = None,
    measured: str = "Test accuracy",
) -> dbc.Alert | None:
    """A warning when ``accuracy`` is within :data:`NEAR_CHANCE` of a blind guess, else None.

    ``measured``: what the accuracy is ("Test accuracy", "Accuracy on the uploaded rows (300)")."""
    chance, majority = chance_level(label_counts, len(class_names))
    if accuracy > chance + NEAR_CHANCE:
        return None
    guess = (
        f"always answering “{class_names[majority]}”, the most common class of the analysed texts"
        if majority is not None
        else f"guessing among {len(class_names)} classes"
    )
    tail = (
        " It was prepared with RNNX_PROFILE=quick (one epoch on 1,000 texts): prepare it with the full "
        "profile for a model worth reading."
        if profile == "quick"
        else ""
    )
    return dbc.Alert(
        [
            html.I(className="bi bi-exclamation-triangle-fill me-2"),
            html.B("Near chance. "),
            f"{measured} {accuracy:.1%} is {_versus(accuracy, chance)} {chance:.1%}, the accuracy of {guess}. "
            "This model has learnt little, so its colours and word labels say little about how it reads.",
            tail,
        ],
        id=ids.ANALYTICS_CHANCE_WARNING,
        color="warning",
        className="py-2 px-3 mt-2 mb-0 small",
    )


def _layer_stat(summary: dict) -> list[html.Div]:
    """The analysed layer's name, when the model has several recurrent layers (a chosen upload layer)."""
    layers = summary.get("recurrent_layers")
    if isinstance(layers, list) and len(layers) > 1 and summary.get("layer") in layers:
        return [_stat("layer", f"{summary['layer']} ({layers.index(summary['layer']) + 1} of {len(layers)})")]
    return []


def model_bar(
    summary: dict,
    class_names: list[str],
    n_sequences: int,
    n_states: int,
    accuracy_here: float,
    label_counts: np.ndarray | None = None,
) -> html.Div:
    """Key facts of the model and the analysis set in one row, its profile, and a warning near chance.

    ``label_counts``: analysed sequences per actual class (for the majority-class baseline).
    """
    acc = summary.get("test_accuracy")
    cell = str(summary.get("cell_type", "?")).upper()
    units = summary.get("units", "?")
    known = isinstance(acc, int | float)
    measured = "Test accuracy"
    accuracies = [
        _stat("test accuracy", f"{acc:.1%}" if known else "?"),
        _stat("accuracy (analysed)", f"{accuracy_here:.1%}"),
    ]
    if _is_upload(summary):  # every labelled row is analysed: one number, named for what it measures
        measured = upload_accuracy_label(n_sequences).capitalize()
        accuracies = [_stat(upload_accuracy_label(n_sequences), f"{accuracy_here:.1%}")]
        accuracies[0].title = upload_accuracy_note(n_sequences)
    stats = html.Div(
        [
            _stat("cell", f"{cell} · {units} units"),
            *_layer_stat(summary),
            _profile_badge(summary),
            *accuracies,
            _stat("sequences", f"{n_sequences:,}"),
            _stat("hidden states", f"{n_states:,}"),
            _stat("classes", ", ".join(class_names)),
        ],
        className="rnnx-statbar",
        id=ids.ANALYTICS_MODEL_SUMMARY,
    )
    warning = chance_warning(
        float(acc) if known and not _is_upload(summary) else accuracy_here,
        label_counts,
        class_names,
        _profile(summary),
        measured,
    )
    return html.Div([stats, warning] if warning is not None else [stats])


def confusion_counts(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(actual, predicted) count matrix."""
    m = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(m, (np.asarray(labels, dtype=int), np.asarray(predicted, dtype=int)), 1)
    return m


def confusion_figure(counts: np.ndarray, class_names: list[str]) -> go.Figure:
    """Rows actual, columns predicted; shade by row share; counts always readable."""
    class_names = figure_text.literals(class_names)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    text_colors = np.where(share > 0.5, "#ffffff", "#212529")
    fig = go.Figure(
        go.Heatmap(
            z=np.round(share, 4).tolist(),
            x=class_names,
            y=class_names,
            customdata=counts.tolist(),
            colorscale=[[0, "#ffffff"], [1, "#2c3e50"]],
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="actual <b>%{y}</b>, predicted <b>%{x}</b><br>%{customdata} sequences (%{z:.0%} of the row)"
            "<br>click to filter the table<extra></extra>",
        )
    )
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            fig.add_annotation(
                x=class_names[j],
                y=class_names[i],
                text=f"<b>{counts[i, j]}</b>",
                showarrow=False,
                font={"color": str(text_colors[i, j]), "size": 13},
            )
    fig.update_layout(
        template=go.layout.Template(),
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={
            "title": {"text": "predicted", "standoff": 8},
            "side": "bottom",
            "fixedrange": True,
            "tickangle": -35,
            "automargin": True,
        },
        yaxis={
            "title": {"text": "actual", "standoff": 10},
            "autorange": "reversed",
            "fixedrange": True,
            "automargin": True,
        },
        font=_FONT,
        plot_bgcolor="#ffffff",
    )
    return fig


def class_bars_figure(counts: np.ndarray, class_names: list[str]) -> go.Figure:
    """Top: sequences per actual class; below: what the model predicted for them."""
    class_names = figure_text.literals(class_names)
    palette = colors.class_colors(len(class_names))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.4, 0.6])
    totals = counts.sum(axis=1)
    fig.add_trace(
        go.Bar(
            x=class_names,
            y=totals.tolist(),
            marker={"color": palette},
            name="actual",
            showlegend=False,
            hovertemplate="actual <b>%{x}</b>: %{y}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for j, name in enumerate(class_names):
        fig.add_trace(
            go.Bar(
                x=class_names,
                y=counts[:, j].tolist(),
                marker={"color": palette[j], "line": {"color": "#ffffff", "width": 1}},
                name=f"predicted {name}",
                legendgroup=name,
                hovertemplate="actual <b>%{x}</b>, predicted " + name + ": %{y}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_layout(
        template=go.layout.Template(),
        barmode="stack",
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": -0.15, "font": {"size": 11}},
        font=_FONT,
        plot_bgcolor="#ffffff",
        showlegend=False,
    )
    fig.update_yaxes(title_text="actual", row=1, col=1)
    fig.update_yaxes(title_text="predicted as", row=2, col=1)
    fig.update_yaxes(gridcolor="#eeeeee", fixedrange=True, automargin=True, title_standoff=6)
    # Long class names ("acquisition", "money-fx") are angled and the margin grows to fit them.
    fig.update_xaxes(fixedrange=True, automargin=True, tickangle=-30 if len(class_names) > 2 else 0)
    return fig


def empty_figure(message: str, height: int = 200) -> go.Figure:
    """A blank figure with a centred hint."""
    fig = go.Figure()
    fig.add_annotation(
        text=figure_text.literal(message),
        showarrow=False,
        font={"color": "#6c757d", "size": 13},
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
    )
    fig.update_layout(
        template=go.layout.Template(),
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return fig


def waiting_panel(dataset_label: str, method_label: str, trainer_href: str) -> dbc.Alert:
    """Shown while a first visit's preparation runs by itself: what is computed, how long, what to do."""
    steps = html.Ol(
        [
            html.Li(
                "load the classifier (shipped pretrained weights; trained here only when they do not match)"
            ),
            html.Li("read the test texts and run the model over them, keeping every hidden state"),
            html.Li(f"project all hidden states to 2-D with {method_label}"),
        ],
        className="mb-2 small",
    )
    return dbc.Alert(
        [
            html.H6(f"Preparing {dataset_label}…", className="alert-heading"),
            html.P(
                "This runs once on this server; afterwards the analysis loads from the cache.",
                className="mb-1",
            ),
            steps,
            html.P(
                [
                    "It usually takes about a minute (a few minutes if the classifier must be trained); the bar "
                    "above shows the time left. Meanwhile, ",
                    dcc.Link("train a network live in the Trainer", href=trainer_href),
                    " and come back: the work goes on in the background.",
                ],
                className="mb-0",
            ),
        ],
        color="info",
        id=ids.ANALYTICS_WAITING,
    )


def prepare_panel(dataset_label: str, message: str | None = None) -> dbc.Alert:
    """Shown when a dataset has no analysis in the cache yet."""
    return dbc.Alert(
        [
            html.H6(f"{dataset_label} is not prepared yet", className="alert-heading"),
            html.P(
                message
                or "Preparation trains (or loads) the classifier, extracts every hidden state and projects them. "
                "It runs once; afterwards the analysis loads from the cache.",
                className="mb-0",
            ),
        ],
        color="info",
    )
