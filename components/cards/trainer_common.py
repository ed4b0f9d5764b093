"""Small helpers shared by the trainer's cards: the service, answers by name, the card frame."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Output, ctx, html, no_update

from components.ids import trainer as ids
from components.info import heading
from services.trainer import TrainerService
from serving import sessions

EXPIRED = (
    "This page's training session has expired or belongs to another browser: reload the page to "
    "start a new one."
)


def service() -> TrainerService:
    """The trainer service on the app's one session store (Redis or the sessions disk cache)."""
    return TrainerService(sessions.session_store())


def notice_outputs(duplicate: bool = True) -> dict[str, Output]:
    """The ``trainer-notice`` alert's outputs, by name."""
    return {
        "notice": Output(ids.TRAINER_NOTICE, "children", allow_duplicate=duplicate),
        "notice_open": Output(ids.TRAINER_NOTICE, "is_open", allow_duplicate=duplicate),
        "notice_color": Output(ids.TRAINER_NOTICE, "color", allow_duplicate=duplicate),
    }


def reply(outputs: dict[str, Output], **values: Any) -> dict[str, Any]:
    """A dict-form callback answer: the given outputs, ``no_update`` for the rest."""
    unknown = set(values) - set(outputs)
    if unknown:
        raise KeyError(f"not an output of this callback: {sorted(unknown)}")
    return {name: values.get(name, no_update) for name in outputs}


def notice(message: str, color: str = "warning") -> dict[str, Any]:
    """The ``trainer-notice`` outputs showing ``message`` (closed when it is empty)."""
    return {"notice": message, "notice_open": bool(message), "notice_color": color}


def triggered() -> tuple[Any, Any]:
    """``(ctx.triggered_id, its value)``; a malformed pattern id is returned as text (the schema refuses it)."""
    try:
        trigger = ctx.triggered_id
    except (ValueError, TypeError):
        return str(ctx.triggered[0].get("prop_id"))[:80], None
    value = ctx.triggered[0].get("value") if isinstance(trigger, dict) else None
    return (dict(trigger) if isinstance(trigger, dict) else trigger), value


def card(title: str, icon_id: str, info: str, body: list[Any], extra: Any = None, **kwargs: Any) -> dbc.Card:
    """One trainer card: a heading with its info icon (and ``extra`` on the right), then ``body``."""
    header = html.Div([heading(title, icon_id, info, level="H6"), extra], className="trainer-card-head")
    return dbc.Card(dbc.CardBody([header, *body]), className="trainer-card h-100 shadow-sm", **kwargs)
