"""Text from outside (class names, messages) made literal for Plotly figures.

Plotly renders a subset of HTML in every text of a figure (legend names, hover labels, axis tick
labels, annotations, titles): a class name ``<a href=...>pos</a>`` would become a live link. Every
class name reaches a figure through :func:`literal` (or :func:`literals`), which escapes ``&``, ``<``
and ``>``; plotly shows the escaped text as the characters themselves. Dash's own HTML components
escape their text already: only figures need this.
"""

from __future__ import annotations

import html
from collections.abc import Iterable


def literal(text: object) -> str:
    """``text`` as plain text inside a Plotly figure (``&``, ``<`` and ``>`` escaped)."""
    return html.escape(str(text), quote=False)


def literals(texts: Iterable[object]) -> list[str]:
    """:func:`literal` of each text (a list of class names, say)."""
    return [literal(text) for text in texts]
