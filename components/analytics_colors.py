"""Colours of the analytics views: the EP scale, the class palette, time ramp."""

from __future__ import annotations

import numpy as np

# Binary expected prediction: negative pink -> grey -> positive blue (stops of the original).
EP_STOPS: tuple[float, ...] = (0.0, 0.1, 0.5, 0.9, 1.0)
EP_COLORS: tuple[str, ...] = ("#bd0061", "#ff47a6", "#c9c9c9", "#3194cc", "#0475b5")
EP_COLORSCALE: list[list] = [[s, c] for s, c in zip(EP_STOPS, EP_COLORS, strict=True)]

# Five-class colour-blind-safe palette (the original Reuters colours, in our class order:
# earn, acquisition, crude-oil, grain, money-fx).
CLASS_PALETTE: tuple[str, ...] = ("#FFC61E", "#AF58BA", "#00CD6C", "#FF1F5B", "#009ADE")
EXTRA_PALETTE: tuple[str, ...] = ("#F28522", "#A0B1BA", "#A6761D", "#E9002D", "#00B000")
BINARY_CLASS_COLORS: tuple[str, ...] = ("#bd0061", "#0475b5")
TIME_RAMP: tuple[str, str] = ("#aaaaaa", "#000000")


def class_colors(n_classes: int) -> list[str]:
    """One colour per class: pink/blue for binary, the colour-blind-safe palette otherwise."""
    if n_classes == 2:
        return list(BINARY_CLASS_COLORS)
    palette = CLASS_PALETTE + EXTRA_PALETTE
    return [palette[i % len(palette)] for i in range(n_classes)]


def discrete_colorscale(colors: list[str]) -> list[list]:
    """A stepped colourscale for integer values 0..n-1 (use cmin=-0.5, cmax=n-0.5)."""
    n = len(colors)
    scale: list[list] = []
    for i, c in enumerate(colors):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def _hex_to_rgb(color: str) -> np.ndarray:
    color = color.lstrip("#")
    return np.array([int(color[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)


def _rgb_to_hex(rgb: np.ndarray) -> list[str]:
    rgb = np.clip(np.rint(rgb), 0, 255).astype(int)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb]


def interpolate(values: np.ndarray, stops: tuple[float, ...], colors: tuple[str, ...]) -> list[str]:
    """Hex colours for ``values`` on a piecewise-linear scale."""
    values = np.clip(np.asarray(values, dtype=float), stops[0], stops[-1])
    rgb = np.stack([_hex_to_rgb(c) for c in colors])
    out = np.stack([np.interp(values, stops, rgb[:, j]) for j in range(3)], axis=-1)
    return _rgb_to_hex(out.reshape(-1, 3))


def ep_hex(p_positive: np.ndarray) -> list[str]:
    """Binary EP colours for the probability of the positive class."""
    return interpolate(p_positive, EP_STOPS, EP_COLORS)


def time_hex(n: int) -> list[str]:
    """A grey-to-black ramp over ``n`` steps."""
    return interpolate(np.linspace(0, 1, max(n, 1)), (0.0, 1.0), TIME_RAMP)[:n]


def state_colors(ep: np.ndarray) -> list[str]:
    """Per-state colour: EP scale for binary, the predicted class's colour otherwise."""
    ep = np.asarray(ep)
    if ep.shape[1] == 2:
        return ep_hex(ep[:, 1])
    palette = class_colors(ep.shape[1])
    return [palette[i] for i in ep.argmax(axis=1)]


def text_color_for(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    r, g, b = _hex_to_rgb(background) / 255
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111111" if luminance > 0.55 else "#ffffff"
