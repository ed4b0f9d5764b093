"""Info icons: a small (i) next to a heading that opens a short explanation."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html


def info_icon(icon_id: str, title: str, body: str) -> html.Span:
    """An (i) icon with a click-to-open popover; ``body`` may use Markdown and $maths$."""
    return html.Span(
        [
            html.I(className="bi bi-info-circle info-icon", id=icon_id, role="button", tabIndex="0"),
            dbc.Popover(
                [dbc.PopoverHeader(title), dbc.PopoverBody(dcc.Markdown(body, mathjax=True))],
                target=icon_id,
                trigger="legacy",
                placement="auto",
            ),
        ]
    )


def heading(text: str, icon_id: str, body: str, level: str = "H5") -> html.Div:
    """A heading followed by its info icon."""
    tag = getattr(html, level)
    return tag([text, info_icon(icon_id, text, body)], className="d-flex align-items-center")
