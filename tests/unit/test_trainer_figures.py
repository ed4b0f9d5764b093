"""Trainer figures that users read closely: the text-mode prediction and the network's nodes (pure)."""

from __future__ import annotations

import plotly.graph_objects as go

from components import trainer_diagrams
from components import trainer_figures as figs

TEST = {"input_text": "lorem ipsum dolor si", "target_text": "t ame", "predicted_text": "t amx"}


def _trace(fig: dict, meta: str) -> dict:
    return next(t for t in fig["data"] if t["meta"] == meta)


def test_text_rows_are_named_in_full() -> None:
    """The row names ("predicted", "text") fit the left margin: no "edicted"."""
    fig = figs.text_prediction_figure(TEST, 3)
    go.Figure(fig)  # a valid plotly figure
    yaxis = fig["layout"]["yaxis"]
    assert yaxis["ticktext"] == ["text", "predicted"]
    font = yaxis["tickfont"]["size"]
    widest = max(0.62 * font * len(name) for name in yaxis["ticktext"])  # about 0.6 em a character
    assert fig["layout"]["margin"]["l"] >= widest + yaxis["ticklabelstandoff"] + 4
    assert yaxis["automargin"] is True


def test_predicted_characters_stand_out() -> None:
    fig = figs.text_prediction_figure(TEST, 3)
    typed, predicted = _trace(fig, "input"), _trace(fig, "prediction")
    assert predicted["text"] == ["t", "␣", "a", "m", "x"]
    assert predicted["textfont"]["size"] >= 1.2 * typed["textfont"]["size"] >= 24
    assert predicted["textfont"]["weight"] == 700
    assert predicted["textfont"]["color"] == [figs.RIGHT] * 4 + [figs.ERROR]
    tiles = [s for s in fig["layout"]["shapes"] if s["name"] == "predicted-tile"]
    assert [round((s["x0"] + s["x1"]) / 2) for s in tiles] == predicted["x"]  # one tile per character
    assert "rgba(229,57,53" in tiles[-1]["fillcolor"] and "rgba(46,125,50" in tiles[0]["fillcolor"]


def _captions(data: str) -> list[list[str]]:
    net = figs.network_diagram(3, "lstm", data)
    nodes = [c for c in net.children if "net-node" in str(getattr(c, "className", ""))]
    lines = []
    for node in nodes:
        caption = node.children[1]
        lines.append([part for part in caption.children if isinstance(part, str)])
    return lines


def test_node_captions_are_short_lines_that_fit_the_circles() -> None:
    """54 px circles hold 7 characters a line at 0.56 rem; "one-hot 22" did not fit on one line."""
    assert _captions("text-lorem") == [["one-hot", "22"], ["softmax", "22"]]
    assert _captions("sine") == [["1 value"], ["tanh 1"]]
    for data in ("text-lorem", "text-ab", "sine"):
        assert all(len(line) <= 7 for lines in _captions(data) for line in lines)
    assert figs.network_diagram is trainer_diagrams.network_diagram  # still importable from here
