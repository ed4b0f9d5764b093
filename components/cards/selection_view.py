"""What a card contributes to drawing a new selection (the hub: ``analytics_selection.py``).

A click selects a sequence; every linked view then has to be drawn. Done by each card's own callback,
that was one request per card (nine in all, each validating and loading the analysis again). Instead each
card describes its part as a :class:`SelectionView` and one hub callback draws all of them in one
request; the cards' own callbacks stay for their own controls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dash import Output, Patch, State


@dataclass(frozen=True)
class Common:
    """What every view of one selection request shares: the checked selection, the dataset and method,
    the projection figure's patch (views add their overlay traces to it) and what earlier views made."""

    selection: dict | None
    dataset: str
    method: str | None
    patch: Patch
    made: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SelectionView:
    """One card's part: the outputs it writes, the states it reads, and ``draw(common, **states)`` that
    returns ``{output key: value}`` (``dash.no_update`` for what it leaves)."""

    name: str
    outputs: Mapping[str, Output]
    states: Mapping[str, State]
    draw: Callable[..., dict]
