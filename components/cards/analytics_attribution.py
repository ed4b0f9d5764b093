"""Attributions (saliency) of the selected sequence and counterfactual edits in the what-if box."""

from __future__ import annotations

from dash import html


def saliency_controls() -> html.Div:
    """The control above the sequence text choosing what colours the words (``saliency-mode``)."""
    return html.Div(id="saliency-slot")


def counterfactual_controls() -> html.Div:
    """The what-if box's counterfactual button and its result (``counterfactual-button``)."""
    return html.Div(id="counterfactual-slot")
