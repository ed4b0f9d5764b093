"""The /analytics export card: data files built on the server, downloaded by handle (callbacks only).

Its menu is ``components.analytics_byo.export_menu``. A click on a data export asks the server for
a handle (``services.exports.request``, in the request: the dataset must be built-in or this
session's upload, and prepared): a file built before is downloaded at once; otherwise the handle
goes to a background job that builds the file as one of the server's queued heavy jobs, with a
progress bar beside the menu, and the page then downloads it from ``/download/<token>``
(``serving.downloads``). Callback replies carry the handle and a message, never the file.
"""

from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, html, no_update

from components import progress
from components.cards.analytics_common import refuse
from components.ids import analytics as ids
from services import exports, schemas
from services.validation import validated

KINDS = {
    ids.ANALYTICS_EXPORT_STATES: "states",
    ids.ANALYTICS_EXPORT_PARQUET: "parquet",
    ids.ANALYTICS_EXPORT_SEQUENCES: "sequences",
    ids.ANALYTICS_EXPORT_TENSORBOARD: "projector",
}
BAR_WIDTH = 220


def _alert(children: object, color: str, title: str | None = None) -> dbc.Alert:
    body = [html.B(title + " "), *children] if title else list(children)
    return dbc.Alert(body, color=color, dismissable=True, className="py-2")


def download_url(token: str) -> str:
    """Where the page fetches the file of ``token`` (under the app's URL prefix)."""
    return dash.get_relative_path(f"/download/{token}")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.0f} kB"


def _ready(ticket: exports.Ticket) -> dbc.Alert:
    """The message of a built file: its name and size, what was left out, a link to fetch it again."""
    children: list = [f"{ticket.filename} ({_megabytes(ticket.size)}) is downloading. "]
    if ticket.note:
        children.append(html.Span(ticket.note + " ", className="d-block small"))
    children.append(html.A("Download it again", href=download_url(ticket.token), className="alert-link"))
    return _alert(children, "success", "Export ready:")


def _file(ticket: exports.Ticket) -> dict:
    return {"url": download_url(ticket.token), "name": ticket.filename}


@callback(
    output=dict(
        job=Output(ids.ANALYTICS_EXPORT_JOB, "data"),
        file=Output(ids.ANALYTICS_EXPORT_FILE, "data", allow_duplicate=True),
        alert=Output(ids.ANALYTICS_ALERT, "children", allow_duplicate=True),
    ),
    inputs=dict(
        _states=Input(ids.ANALYTICS_EXPORT_STATES, "n_clicks"),
        _parquet=Input(ids.ANALYTICS_EXPORT_PARQUET, "n_clicks"),
        _sequences=Input(ids.ANALYTICS_EXPORT_SEQUENCES, "n_clicks"),
        _tensorboard=Input(ids.ANALYTICS_EXPORT_TENSORBOARD, "n_clicks"),
    ),
    state=dict(
        dataset=State(ids.ANALYTICS_DATASET, "value"),
        method=State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
        hidden=State(ids.ANALYTICS_EXPORT_HIDDEN, "value"),
    ),
    prevent_initial_call=True,
)
@validated(schemas.EXPORT, refuse)
def export_data(_states, _parquet, _sequences, _tensorboard, dataset: str, method: str, hidden: bool) -> dict:
    """A handle on the export asked for: the file at once when it is built, else a job to build it."""
    nothing = {"job": no_update, "file": no_update, "alert": no_update}
    kind = KINDS.get(ctx.triggered_id)
    if kind is None:
        return nothing
    try:
        ticket = exports.request(dataset, method, kind, hidden)
    except exports.ExportError as error:
        return {**nothing, "alert": _alert([str(error)], "warning", "Export refused.")}
    if ticket.ready:
        return {**nothing, "file": _file(ticket), "alert": _ready(ticket)}
    message = (
        f"{ticket.filename} is being built on the server, in line with other heavy jobs: the bar beside "
        "Export shows how far it is, and the download starts when it is ready."
    )
    return {**nothing, "job": {"token": ticket.token}, "alert": _alert([message], "info", "Exporting.")}


@callback(
    output=dict(
        file=Output(ids.ANALYTICS_EXPORT_FILE, "data"),
        alert=Output(ids.ANALYTICS_ALERT, "children", allow_duplicate=True),
    ),
    inputs=dict(job=Input(ids.ANALYTICS_EXPORT_JOB, "data")),
    **progress.job(ids.ANALYTICS_EXPORT_MENU, ids.ANALYTICS_EXPORT_PROGRESS, BAR_WIDTH),
    prevent_initial_call=True,
)
@validated(schemas.EXPORT_BUILD, refuse)
def build_export(set_progress, job: dict) -> dict:
    """Build this session's requested file (a queued heavy job, bar beside the menu); then download it."""
    started = time.perf_counter()
    set_progress(progress.progress_value(0.0, "starting…"))

    def report(fraction: float, stage: str) -> None:
        set_progress(progress.progress_value(fraction, stage, time.perf_counter() - started))

    try:
        ticket = exports.build(job["token"], report)
    except exports.ExportError as error:
        return {"file": no_update, "alert": _alert([str(error)], "warning", "Export refused.")}
    except Exception as error:  # noqa: BLE001 - a readable message instead of a dead job
        message = f"The export failed unexpectedly ({type(error).__name__}): try again, or another format."
        return {"file": no_update, "alert": _alert([message], "danger")}
    return {"file": _file(ticket), "alert": _ready(ticket)}


# The browser fetches the built file from the route (an attachment: the page stays where it is).
clientside_callback(
    ClientsideFunction("rnnx", "analyticsExportDownload"),
    Output(ids.ANALYTICS_EXPORT_STARTED, "data"),
    Input(ids.ANALYTICS_EXPORT_FILE, "data"),
    prevent_initial_call=True,
)
