"""Word labels of a trajectory placed without collisions (pure numpy, no Dash).

Greedy placement in screen-ish pixels: each label, most important first, tries a few positions
around its marker (plotly's ``textposition`` values) and takes, among those whose box overlaps no
label placed before it, the first that covers the fewest other markers; a label that fits nowhere
is dropped. Boxes follow plotly.js's own text offsets (``Drawing.textPointPosition``): the text sits
``marker radius / 0.8 + 1`` pixels from the point's centre. Deterministic; all positions of a label
are tested at once (a 200-word review with every word labelled: tens of milliseconds).
"""

from __future__ import annotations

import numpy as np

# Candidate positions, in the order they are tried: above and below read best, then beside.
POSITIONS: tuple[str, ...] = (
    "top center",
    "bottom center",
    "middle right",
    "middle left",
    "top right",
    "top left",
    "bottom right",
    "bottom left",
)
FONT_SIZE = 12.0  # the trajectory labels' font size (components.analytics_projection)
MARKER_SIZE = 8.0  # the trajectory markers' diameter in pixels
PAD = 1.5  # pixels of clearance around each label (the text's shadow)
# Pixels that the whole view span (services.analysis.VIEW_SPAN) takes on screen at the default zoom.
# The projection draws it across about 500-650 px; the smallest keeps boxes conservative: zooming in
# or a wider graph only spreads the labels further apart.
VIEW_PIXELS = 500.0

# Character widths in em of a sans-serif face (wide enough for DejaVu Sans, the usual fallback of Lato).
_NARROW = set("fijlrtI!.,:;'|()[] ")
_WIDE = set("mwMW@%")


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """Approximate rendered width in pixels of ``text`` at ``font_size``."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.34
        elif ch in _WIDE:
            em += 0.9
        elif ch.isupper() or ch.isdigit():
            em += 0.68
        else:
            em += 0.6
    return em * font_size


def label_box(
    x: float,
    y: float,
    width: float,
    position: str,
    font_size: float = FONT_SIZE,
    marker_size: float = MARKER_SIZE,
) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a label of ``width`` at ``position`` around the point (x, y), y pointing up."""
    r = marker_size / 2 / 0.8 + 1 if marker_size > 0 else 0.0
    vertical, horizontal = position.split()
    if horizontal == "right":
        x0 = x + r
    elif horizontal == "left":
        x0 = x - r - width
    else:
        x0 = x - width / 2
    if vertical == "top":
        y0 = y + r
    elif vertical == "bottom":
        y0 = y - r - font_size
    else:
        y0 = y - font_size / 2
    return (x0 - PAD, y0 - PAD, x0 + width + PAD, y0 + font_size + PAD)


def _hits(candidates: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(c, n): which of ``boxes`` (n, 4) each of ``candidates`` (c, 4) overlaps (touching does not count)."""
    c, b = candidates[:, None, :], boxes[None, :, :]
    return (
        (b[..., 0] < c[..., 2]) & (b[..., 2] > c[..., 0]) & (b[..., 1] < c[..., 3]) & (b[..., 3] > c[..., 1])
    )


def place_labels(
    anchors: np.ndarray,
    texts: list[str],
    *,
    markers: np.ndarray | None = None,
    priority: np.ndarray | None = None,
    font_size: float = FONT_SIZE,
    marker_size: float = MARKER_SIZE,
    positions: tuple[str, ...] = POSITIONS,
) -> list[str | None]:
    """The position (one of ``positions``) of each label, or None where it cannot be placed.

    ``anchors``: (n, 2) label points in pixels, y up; ``markers``: (m, 2) other drawn markers.
    ``priority``: higher goes first (ties in input order). Labels never overlap each other; among the
    free positions the one covering the fewest markers wins (another label's marker counts twice)."""
    anchors = np.asarray(anchors, dtype=float).reshape(-1, 2)
    n = len(anchors)
    order = (
        np.argsort(-np.asarray(priority, dtype=float), kind="stable") if priority is not None else range(n)
    )
    half = marker_size / 2
    labelled_marks = np.column_stack([anchors - half, anchors + half]) if n else np.zeros((0, 4))
    others = np.asarray(markers if markers is not None else np.zeros((0, 2)), dtype=float).reshape(-1, 2)
    other_marks = np.column_stack([others - half, others + half]) if len(others) else np.zeros((0, 4))
    placed = np.zeros((n, 4))  # the boxes placed so far: the first ``count`` rows
    count = 0
    chosen: list[str | None] = [None] * n
    for i in order:
        text = texts[i]
        if not text:
            continue
        x, y = anchors[i]
        width = text_width(text, font_size)
        candidates = np.array([label_box(x, y, width, p, font_size, marker_size) for p in positions])
        free = ~_hits(candidates, placed[:count]).any(axis=1)
        if not free.any():
            continue  # every position overlaps a label placed before: left out
        others_of_i = np.arange(n) != i
        cover = 2 * (_hits(candidates, labelled_marks) & others_of_i).sum(axis=1)
        cover += _hits(candidates, other_marks).sum(axis=1)
        best = int(np.argmin(np.where(free, cover, np.iinfo(np.int64).max)))  # the first of the least
        chosen[i] = positions[best]
        placed[count] = candidates[best]
        count += 1
    return chosen


def placed_boxes(
    anchors: np.ndarray, texts: list[str], chosen: list[str | None], font_size: float = FONT_SIZE
) -> np.ndarray:
    """(k, 4) boxes of the labels that ``place_labels`` placed (for checks and tests)."""
    anchors = np.asarray(anchors, dtype=float).reshape(-1, 2)
    boxes = [
        label_box(anchors[i, 0], anchors[i, 1], text_width(texts[i], font_size), p, font_size)
        for i, p in enumerate(chosen)
        if p is not None
    ]
    return np.array(boxes, dtype=float).reshape(-1, 4)


def trajectory_labels(
    xy: np.ndarray, words: list[str], labelled: np.ndarray, priority: np.ndarray, view_span: float
) -> tuple[list[str], str | list[str], list[int]]:
    """Each trajectory point's label ("" for none), the labels' ``textposition`` and the labelled steps.

    The ``labelled`` steps' words are placed around their points (``xy``: view coordinates spanning
    ``view_span``) without overlapping at the default zoom, the largest ``priority`` (jump) first; one
    that fits nowhere is left out (its word stays in the hover and the sequence text)."""
    n = len(xy)
    steps = np.unique(np.asarray(labelled, dtype=np.int64))
    steps = steps[(steps >= 0) & (steps < n)]
    text = [""] * n
    if not len(steps):
        return text, "top center", []
    px = to_pixels(xy, view_span)
    plain = np.ones(n, dtype=bool)
    plain[steps] = False
    chosen = place_labels(
        px[steps], [words[t] for t in steps], markers=px[plain], priority=np.asarray(priority)[steps]
    )
    where = ["top center"] * n
    for t, spot in zip(steps.tolist(), chosen, strict=True):
        if spot is not None:
            text[t], where[t] = words[t], spot
    return text, "top center" if all(w == "top center" for w in where) else where, steps.tolist()


def to_pixels(xy: np.ndarray, view_span: float, view_pixels: float = VIEW_PIXELS) -> np.ndarray:
    """Points in view coordinates (0..``view_span``, y up) as pixels at the default zoom."""
    return np.asarray(xy, dtype=float).reshape(-1, 2) * (view_pixels / view_span)
