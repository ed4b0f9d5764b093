"""Everything the page shows for one selected sequence, computed from an ``Analysis``."""

from __future__ import annotations

import base64
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import islice

import numpy as np

from components import analytics_colors as colors
from components import analytics_labels as labels_mod
from components import analytics_projection as projection
from components import analytics_sequence as sequence
from components import figure_text
from model.artifacts import Analysis
from services.analysis import max_distance


@dataclass
class SelectionView:
    rows: slice  # the sequence's rows in the per-state arrays
    labelled: np.ndarray  # steps whose word is written on the trajectory
    overlay: list[dict]  # projection overlay traces (slots 1..)
    text: list  # coloured word spans
    heatmap: dict  # plotly figure as a plain dict
    distance: dict
    summary: object
    jump_line: float | None = None  # the automatic rule's cut as the jump slider shows it (None: manual)


def auto_jump_value(distance_norm: np.ndarray) -> float:
    """Where the automatic jump rule cuts (the smallest of the largest jumps), as the jump slider
    shows it (to its step, 0.01): the slider and the line of the jump bars read the same number."""
    return round(labels_mod.top_jump_threshold(distance_norm), 2)


def state_of_point(analysis: Analysis, point_index: int, final_only: bool) -> tuple[int, int]:
    """(sequence, step) of a clicked point of the state scatter."""
    if final_only:
        k = int(point_index)
        return k, int(analysis.offsets[k + 1] - analysis.offsets[k] - 1)
    k = int(np.searchsorted(analysis.offsets, point_index, side="right") - 1)
    return k, int(point_index - analysis.offsets[k])


def final_state_rows(analysis: Analysis) -> np.ndarray:
    """Row of the last state of each sequence."""
    return np.asarray(analysis.offsets[1:], dtype=np.int64) - 1


def selection_view(
    analysis: Analysis,
    xy: np.ndarray,
    k: int,
    rules: list[str],
    jump_threshold: float | None,
    ep_threshold: float | None,
    color_mode: str = "ep",
    step: int | None = None,
    dmax: float | None = None,
    jump_auto: bool = False,
) -> SelectionView:
    """Overlay, text, heatmap, distance bars and summary of sequence ``k``.

    ``jump_auto``: the jump rule labels the sequence's few largest jumps (the default) instead
    of those above ``jump_threshold``; the bars then draw the line where that rule cuts. A threshold
    of None (none arrived) is its default.
    """
    jump_threshold = labels_mod.DEFAULT_JUMP if jump_threshold is None else jump_threshold
    ep_threshold = labels_mod.DEFAULT_EP_CHANGE if ep_threshold is None else ep_threshold
    rows = analysis.rows(k)
    ep = np.asarray(analysis.ep[rows], dtype=float)
    words = list(analysis.words[k])
    dist = np.asarray(analysis.distance[rows], dtype=float) / (dmax or max_distance(analysis))
    top = labels_mod.TOP_JUMPS if jump_auto else None
    labelled = labels_mod.labelled_steps(ep, dist, 1.0, rules, jump_threshold, ep_threshold, top)
    line = labels_mod.top_jump_threshold(dist) if jump_auto else jump_threshold
    shown = auto_jump_value(dist) if jump_auto else None
    names = list(analysis.class_names)
    overlay = projection.trajectory_overlay(xy[rows], ep, words, dist, labelled, names, color_mode, step)
    actual, predicted = int(analysis.labels[k]), int(analysis.predicted[k])
    return SelectionView(
        rows=rows,
        labelled=labelled,
        overlay=overlay,
        text=sequence.sequence_text(words, ep, dist, names, labelled),
        heatmap=sequence.heatmap_figure(ep, words, names),
        distance=sequence.distance_figure(
            dist, ep, words, line, f"top {labels_mod.TOP_JUMPS}: {shown:.2f}" if jump_auto else None
        ),
        summary=sequence.sequence_summary(
            k,
            len(words),
            names[actual],
            names[predicted],
            float(analysis.confidence[k]),
            actual == predicted,
            len(labelled),
        ),
        jump_line=shown,
    )


CUT_MARK = "… "  # the analysed part starts after the text's first words
_ANALYSED: dict[int, tuple[weakref.ref, list[str]]] = {}


def analysed_texts(analysis: Analysis) -> list[str]:
    """Per sequence, the words the model read (its last tokens), marked where the text starts earlier.

    Computed once per analysis (tokens are only counted up to one more than were read).
    """
    known = _ANALYSED.get(id(analysis))
    if known is not None and known[0]() is analysis:
        return known[1]
    from model.textmodels import TOKEN

    parts = []
    for text, words in zip(analysis.texts, analysis.words, strict=True):
        n = len(words)
        longer = sum(1 for _ in islice(TOKEN.finditer(str(text).lower()), n + 1)) > n
        parts.append((CUT_MARK if longer and n else "") + " ".join(words))
    for key in [k for k, (ref, _) in _ANALYSED.items() if ref() is None]:
        del _ANALYSED[key]
    _ANALYSED[id(analysis)] = (weakref.ref(analysis), parts)
    return parts


HOVER_WORDS_MAX = 30_000  # above this many drawn states the cloud's labels leave out the word


def cloud_hover(
    analysis: Analysis, final_only: bool, marker: dict, mode: str = "ep"
) -> Callable[[np.ndarray, int], dict]:
    """The hover fields of each state trace of the cloud drawn with ``marker`` in colour ``mode``."""
    return partial(hover_fields, {**hover_data(analysis, final_only), "mode": mode}, marker)


def hover_data(analysis: Analysis, final_only: bool) -> dict:
    """Per drawn state of the cloud: sequence, step, EP and (small sets only) word, for its hover labels.

    Sequence, step and EP travel as one compact typed array; the words as strings would add about
    7 bytes a state (700 kB for IMDB's 100,000), so larger sets show sequence, step and EP only.
    """
    seq = analysis.sequence_of_state()
    step = analysis.step_of_state()
    ep = np.asarray(analysis.ep)
    rows = final_state_rows(analysis) if final_only else None
    if rows is not None:
        seq, step, ep = seq[rows], step[rows], ep[rows]
    hover = {"seq": seq, "step": step, "ep": ep, "names": list(analysis.class_names)}
    if len(seq) <= HOVER_WORDS_MAX:
        if rows is None:
            words = [w for ws in analysis.words for w in ws]
        else:
            words = [analysis.words[k][t] for k, t in zip(seq.tolist(), step.tolist(), strict=True)]
        hover["words"] = np.array(words, dtype=str) if words else np.array([], dtype=str)
    return hover


def typed_array(values: np.ndarray) -> dict:
    """A 2-D array of small non-negative integers as plotly.js's base64 typed-array spec.

    plotly.py sends 2-D numpy arrays as nested JSON lists (about 9 bytes a number); this is
    2 bytes a number (4 where a value exceeds 65535), and plotly.js reads it as rows.
    """
    values = np.asarray(values)
    wide = values.size and int(values.max()) > np.iinfo(np.uint16).max
    dtype = "u4" if wide else "u2"
    data = np.ascontiguousarray(values, dtype="<" + dtype)
    return {
        "dtype": dtype,
        "bdata": base64.b64encode(data.tobytes()).decode(),
        "shape": f"{len(data)}, {data.shape[1]}",
    }


def _hover_template(marker: dict, mode: str, names: list[str], b: int, word: bool) -> str:
    """The state cloud's hover label for colour bin ``b``: word, sequence, step and EP."""
    head = ("<b>%{text}</b> · " if word else "") + "sequence #%{customdata[0]} · step %{customdata[1]}"
    names = figure_text.literals(names)
    if marker.get("colorscale") == colors.EP_COLORSCALE:
        return head + f"<br>EP {names[-1]}: %{{customdata[2]}}%<extra></extra>"
    name = names[b] if b < len(names) else "?"
    if mode == "actual":
        return head + f"<br>actual {name} · EP {name}: %{{customdata[2]}}%<extra></extra>"
    return head + f"<br>predicted {name} · EP {name}: %{{customdata[2]}}%<extra></extra>"


def hover_fields(hover: dict, marker: dict, rows: np.ndarray, b: int) -> dict:
    """customdata ([sequence, step, EP % of the bin's class]), the words and the template of one bin."""
    names = list(hover["names"])
    binary_ep = marker.get("colorscale") == colors.EP_COLORSCALE
    cls = len(names) - 1 if binary_ep else min(b, len(names) - 1)
    ep = np.asarray(hover["ep"])[rows, cls]
    columns = np.stack(
        [np.asarray(hover["seq"])[rows], np.asarray(hover["step"])[rows], np.rint(np.clip(ep, 0, 1) * 100)],
        axis=1,
    )
    words = hover.get("words")
    return {
        "customdata": typed_array(columns),
        "text": np.asarray(words)[rows] if words is not None else None,
        "hovertemplate": _hover_template(marker, hover.get("mode", "ep"), names, b, words is not None),
    }
