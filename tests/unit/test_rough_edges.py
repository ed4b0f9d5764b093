"""Issue 13's rough edges of the analytics page, tour and explanations (figures and callbacks)."""

from __future__ import annotations

import base64
import re
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest

from components import analytics_labels as labels
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_sequence as sequence
from components import analytics_table as table_view
from components import analytics_view as view
from components import explanations
from tests.support.servers import ROOT
from tests.support.synthetic import synthetic_analysis, synthetic_projection


def _walk(node) -> list:
    """Every component under ``node`` (Dash components, lists, strings skipped)."""
    found = [node]
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found += _walk(child)
    return found


def _ids(node) -> dict:
    return {c.id: c for c in _walk(node) if getattr(c, "id", None)}


def _text(node) -> str:
    parts = []
    for c in _walk(node):
        children = getattr(c, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if isinstance(child, str):
                parts.append(child)
    return " ".join(parts)


# ---------------------------------------------------------------- 1. profile badge, near-chance warning


def test_quick_model_at_chance_gets_a_profile_badge_and_a_warning():
    summary = {"cell_type": "lstm", "units": 20, "test_accuracy": 0.503, "profile": "quick"}
    bar = overview.model_bar(summary, ["negative", "positive"], 100, 9000, 0.5, np.array([50, 50]))
    found = _ids(bar)
    assert found["analytics-profile-badge"].children == "quick profile"
    warning = found["analytics-chance-warning"]
    assert "Near chance" in _text(warning) and "RNNX_PROFILE=quick" in _text(warning)
    assert "analytics-model-summary" in found  # the stat bar keeps its id


def test_a_trained_full_model_gets_its_badge_and_no_warning():
    summary = {"cell_type": "lstm", "units": 64, "test_accuracy": 0.86, "profile": "full"}
    found = _ids(
        overview.model_bar(summary, ["negative", "positive"], 1000, 10**5, 0.85, np.array([480, 520]))
    )
    assert found["analytics-profile-badge"].children == "full profile"
    assert "analytics-chance-warning" not in found


def test_chance_is_the_better_of_uniform_guessing_and_the_majority_class():
    names = ["earn", "acquisition", "crude-oil", "grain", "money-fx"]
    counts = np.array([60, 20, 10, 5, 5])  # "earn" is 60 % of the set
    assert overview.chance_level(counts, 5) == (pytest.approx(0.6), 0)
    assert overview.chance_level(np.array([20, 20, 20, 20, 20]), 5) == (pytest.approx(0.2), None)
    assert overview.chance_level(None, 2) == (0.5, None)
    warning = overview.chance_warning(0.63, counts, names)  # within 5 points of always "earn"
    assert warning is not None and "“earn”" in _text(warning) and "3.0 points above" in _text(warning)
    assert overview.chance_warning(0.70, counts, names) is None
    assert "no better than" in _text(overview.chance_warning(0.19, np.full(5, 20), names))


def test_uploads_get_no_profile_badge_but_still_the_warning():
    summary = {"dataset": "upload-0123abcd", "test_accuracy": 0.5, "profile": "quick"}
    found = _ids(overview.model_bar(summary, ["a", "b"], 10, 100, 0.5, np.array([5, 5])))
    assert "analytics-profile-badge" not in found
    assert "analytics-chance-warning" in found
    assert "RNNX_PROFILE" not in _text(found["analytics-chance-warning"])


# ---------------------------------------------------------------- 2. adaptive jump labels


def test_top_jumps_label_at_most_n_words_per_sequence_whatever_their_scale():
    flat = np.full(100, 0.9)  # a near-chance model: every jump alike, all above any fixed threshold
    assert len(labels.jump_steps(flat, 1.0, labels.DEFAULT_JUMP)) == 100
    assert len(labels.top_jump_steps(flat)) == labels.TOP_JUMPS
    dist = np.array([0.1, 0.5, 0.2, 0.9, 0.3, 0.8, 0.05, 0.7])
    assert labels.top_jump_steps(dist, 3).tolist() == [3, 5, 7]  # in reading order
    assert labels.top_jump_steps(dist[:2], 5).tolist() == [0, 1]  # a short sequence: all of it
    assert labels.top_jump_threshold(dist, 3) == pytest.approx(0.7)
    ep = np.stack([np.linspace(0, 1, 8), np.linspace(1, 0, 8)], axis=1)
    assert labels.labelled_steps(ep, dist, 1.0, ["jump"], 0.4, 0.3, top_jumps=2).tolist() == [3, 5]
    assert labels.labelled_steps(ep, dist, 1.0, ["jump"], 0.4, 0.3).tolist() == [1, 3, 5, 7]


def test_automatic_labels_stay_few_on_every_sequence_and_draw_their_cut():
    a = synthetic_analysis("imdb", 30)
    a = replace(a, distance=np.full_like(a.distance, 3.0))  # every jump the largest
    xy = synthetic_projection(a)
    for k in range(a.n_sequences):
        manual = view.selection_view(a, xy, k, ["jump"], labels.DEFAULT_JUMP, 0.3)
        auto = view.selection_view(a, xy, k, ["jump"], labels.DEFAULT_JUMP, 0.3, jump_auto=True)
        assert len(manual.labelled) == len(a.words[k])  # the blob the issue shows
        assert len(auto.labelled) == min(labels.TOP_JUMPS, len(a.words[k]))
        points = auto.overlay[projection.POINTS_SLOT - 1]
        assert points["meta"]["labelled"] == auto.labelled.tolist()  # drawn where they fit (issue 20 h)
    fig = go.Figure(auto.distance)
    # the cut is named with the value the jump slider shows (every jump the largest: 1.00)
    assert [n.text for n in fig.layout.annotations] == [f"- - top {labels.TOP_JUMPS}: 1.00"]
    assert auto.jump_line == 1.0 and manual.jump_line is None


def test_the_switch_is_automatic_unless_the_url_names_a_threshold(page):
    assert _ids(page.layout(dataset="imdb"))["analytics-jump-auto"].value is True
    found = _ids(page.layout(dataset="imdb", jump="0.7"))
    assert found["analytics-jump-auto"].value is False
    assert found["distance-threshold"].value == 0.7


def test_the_slider_showing_the_automatic_cut_stays_automatic(page):
    """Issue 20: the slider shows the automatic rule's cut, and the view says it put that value there
    (``drawn``), which assets/selection.js tells from a user's move of the slider."""
    from dash import no_update

    from services import analysis as analysis_service

    analysis, dmax, _xy = analysis_service.load("imdb", "pca")
    cut = view.auto_jump_value(np.asarray(analysis.distance[analysis.rows(3)], dtype=float) / dmax)
    sel = {"dataset": "imdb", "seq": 3, "step": None}
    args = (sel, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "none", False, False, "ep")
    auto = page.show_selection(*args, True)
    assert auto["jump_shown"] == pytest.approx(cut) and auto["drawn"]["jump"] == auto["jump_shown"]
    manual = page.show_selection(*args, False)
    assert manual["jump_shown"] is no_update and manual["drawn"]["jump"] == 0.4


def test_a_link_to_an_upload_of_another_session_says_so_and_selects_nothing(page):
    """Issue 20: ?dataset=upload-… from another session: a notice at the top, not its seq on IMDB."""
    ids = _ids(page.layout(dataset="upload-0123456789abcdef", seq="1"))
    assert "another browser session" in _text(ids["analytics-link-notice"])
    assert ids["analytics-selection"].data is None
    plain = _ids(page.layout(dataset="imdb", seq="1"))
    assert "analytics-link-notice" not in plain and plain["analytics-selection"].data["seq"] == 1


def test_show_selection_labels_the_top_jumps_when_automatic(page):
    sel = {"dataset": "imdb", "seq": 3, "step": None}
    args = (sel, ["jump"], 0.0, 0.3, "ep", "imdb", "pca", "none", False, False, "ep")
    manual = page.show_selection(*args, False)
    auto = page.show_selection(*args, True)

    def labelled(patch) -> list[str]:
        ops = {
            tuple(op["location"]): op["params"].get("value") for op in patch.to_plotly_json()["operations"]
        }
        return ops[("data", projection.POINTS_SLOT)]["meta"]["labelled"]  # drawn where they fit

    assert len(labelled(manual["figure"])) == len(synthetic_analysis("imdb", 60).words[3])  # threshold 0
    assert len(labelled(auto["figure"])) == labels.TOP_JUMPS


# ---------------------------------------------------------------- 3. the tour's skip cross and Esc hint


def test_tour_skip_button_is_a_visible_cross_and_the_card_says_esc_closes_it():
    script = (ROOT / "assets" / "tour.js").read_text()
    css = (ROOT / "assets" / "tour.css").read_text()
    assert '"btn-close' not in script  # the theme draws that icon white: invisible on the card
    assert 'make("button", "rnnx-tour-close", head, "\\u00d7")' in script
    assert '"Esc"' in script and "closes the tour" in script
    rule = re.search(r"\.rnnx-tour-close \{([^}]*)\}", css).group(1)
    assert "color: #546e7a" in rule


# ---------------------------------------------------------------- 4. explanation titles without LaTeX


def test_no_explanation_title_shows_raw_latex():
    titles = [e.title for e in explanations.EXPLANATIONS.values()]
    assert not [t for t in titles if "$" in t or "\\" in t or "^" in t]
    assert explanations.explanation("forget_gate").title == "Forget gate fᵗ"
    assert explanations.explanation("candidate").title == "Update (candidate) c\u0303ᵗ"
    assert sum("ᵗ" in t for t in titles) == 9


# ---------------------------------------------------------------- 5. heatmap axis


def test_heatmap_steps_hang_below_the_predicted_row_with_an_axis_title():
    ep = np.stack([np.linspace(0, 1, 12), np.linspace(1, 0, 12)], axis=1)
    fig = go.Figure(sequence.heatmap_figure(ep, list("abcdefghijkl"), ["neg", "pos"]))
    assert fig.layout.xaxis.anchor == "y2"  # the ticks sit under the summary row, not over it
    assert fig.layout.xaxis.title.text == "step"
    assert fig.layout.yaxis2.domain[0] == 0 and fig.layout.margin.b >= 40
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]


# ---------------------------------------------------------------- 6. overview margins


def test_overview_axes_grow_their_margins_to_fit_long_class_names():
    names = ["earn", "acquisition", "crude-oil", "grain", "money-fx"]
    counts = np.arange(25).reshape(5, 5)
    bars = overview.class_bars_figure(counts, names)
    assert bars.layout.xaxis.automargin and bars.layout.xaxis2.automargin
    assert bars.layout.xaxis2.tickangle == -30
    assert bars.layout.yaxis.automargin and bars.layout.yaxis2.automargin
    cm = overview.confusion_figure(counts, names)
    assert cm.layout.yaxis.automargin and cm.layout.xaxis.automargin
    assert cm.layout.yaxis.title.text == "actual" and cm.layout.yaxis.title.standoff >= 8


# ---------------------------------------------------------------- 9. the cloud's hover labels


def _decode(spec: dict) -> np.ndarray:
    rows, cols = (int(v) for v in spec["shape"].split(","))
    dtype = {"u2": "<u2", "u4": "<u4"}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype).reshape(rows, cols)


@pytest.mark.parametrize(("dataset", "mode"), [("imdb", "ep"), ("reuters", "ep"), ("reuters", "actual")])
def test_every_cloud_trace_has_a_hover_label_with_sequence_step_word_and_ep(dataset, mode):
    a = synthetic_analysis(dataset, 25)
    state_labels = np.repeat(a.labels, np.diff(a.offsets))
    marker = projection.base_colors(a.ep, state_labels, a.class_names, mode)
    fig = projection.projection_figure(
        synthetic_projection(a), marker, 0.6, "r", hover=view.cloud_hover(a, False, marker, mode)
    )
    rows = projection.cloud_rows(marker)
    seq, step = a.sequence_of_state(), a.step_of_state()
    words = [w for ws in a.words for w in ws]
    checked = 0
    for b, (slot, members) in enumerate(zip(projection.state_slots(len(rows)), rows, strict=True)):
        trace = fig.data[slot]
        if not len(members):
            continue
        assert "sequence #%{customdata[0]}" in trace.hovertemplate and "EP" in trace.hovertemplate
        assert "%{text}" in trace.hovertemplate
        if len(a.class_names) > 2:  # one trace per class: its name, then that class's EP
            kind = "actual" if mode == "actual" else "predicted"
            assert f"{kind} {a.class_names[b]} · EP {a.class_names[b]}" in trace.hovertemplate
        data = _decode(trace.customdata)
        assert data[:, 0].tolist() == seq[members].tolist()
        assert data[:, 1].tolist() == step[members].tolist()
        cls = len(a.class_names) - 1 if mode == "ep" and len(a.class_names) == 2 else b
        assert data[:, 2].tolist() == np.rint(a.ep[members, cls] * 100).astype(int).tolist()
        assert list(trace.text) == [words[i] for i in members]
        checked += 1
    assert checked >= 2


def test_large_clouds_leave_the_words_out_but_keep_sequence_step_and_ep(monkeypatch):
    monkeypatch.setattr(view, "HOVER_WORDS_MAX", 10)
    a = synthetic_analysis("imdb", 25)
    marker = projection.base_colors(a.ep, np.repeat(a.labels, np.diff(a.offsets)), a.class_names, "ep")
    assert "words" not in view.hover_data(a, False)
    hover = view.cloud_hover(a, False, marker)
    fig = projection.projection_figure(synthetic_projection(a), marker, 0.6, "r", hover=hover)
    drawn = [fig.data[s] for s in projection.state_slots(projection.EP_BINS) if len(fig.data[s].x)]
    assert all("%{text}" not in t.hovertemplate and t.text is None for t in drawn)
    assert all(t.customdata["dtype"] == "u2" for t in drawn)  # 2 bytes a number, base64


def test_final_states_only_hover_names_each_sequences_last_word():
    a = synthetic_analysis("imdb", 12)
    hover = view.hover_data(a, True)
    assert hover["seq"].tolist() == list(range(12))
    assert hover["step"].tolist() == [len(w) - 1 for w in a.words]
    assert hover["words"].tolist() == [w[-1] for w in a.words]


def test_typed_array_widens_past_uint16():
    spec = view.typed_array(np.array([[70000, 1, 2]]))
    assert spec["dtype"] == "u4" and _decode(spec).tolist() == [[70000, 1, 2]]


# ---------------------------------------------------------------- 10. the table shows the analysed part


def test_table_text_is_the_analysed_part_marked_where_the_text_starts_earlier():
    a = synthetic_analysis("imdb", 6)
    texts = list(a.texts)
    texts[0] = "An opening the model never read. " * 4 + texts[0]  # longer: only its end was read
    a = replace(a, texts=texts)
    parts = view.analysed_texts(a)
    assert parts[0] == view.CUT_MARK + " ".join(a.words[0])
    assert parts[1] == " ".join(a.words[1])  # read whole: no mark
    assert view.analysed_texts(a) is parts  # computed once per analysis
    rows = table_view.table_rows(
        parts, np.diff(a.offsets), a.labels, a.predicted, a.confidence, a.class_names
    )
    assert rows[0]["text"].startswith("… " + a.words[0][0])
    assert "never read" not in rows[0]["text"]
    grid = table_view.sequence_table("t").children[0]
    text = next(c for c in grid.columnDefs if c["field"] == "text")
    assert text["headerName"] == "analysed text" and "analysed part" in text["headerTooltip"]


def test_the_table_sends_the_analysed_words(page):
    query = {"dataset": "imdb", "method": "pca"}
    request = {"startRow": 0, "endRow": 10}
    rows = page.get_rows(request=request, query=query)["response"]["rowData"]
    a = synthetic_analysis("imdb", 60)
    assert rows[4]["text"].removesuffix("…") == " ".join(a.words[4])[:90]


# ---------------------------------------------------------------- 12. PCA stands in for a missing projection


def test_pca_stands_in_while_tsne_is_prepared_with_a_note(page):
    # the synthetic pipeline has PCA and UMAP but no t-SNE
    fig = page.draw_projection("imdb", "tsne", 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep")
    a = synthetic_analysis("imdb", 60)
    drawn = sum(len(fig.data[s].x) for s in projection.state_slots(projection.EP_BINS))
    assert drawn == a.n_states
    assert "t-SNE is not ready yet" in fig.layout.title.text and "PCA" in fig.layout.title.text
    assert fig.layout.uirevision == "imdb/pca"
    pca = page.draw_projection("imdb", "pca", 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep")
    assert not pca.layout.title.text
    # the selected sequence's trajectory is drawn on the stand-in too
    patch = page.show_selection(
        {"dataset": "imdb", "seq": 2, "step": None}, ["jump"], 0.4, 0.3, "ep", "imdb", "tsne", "none", False
    )["figure"]
    ops = {tuple(op["location"]): op["params"].get("value") for op in patch.to_plotly_json()["operations"]}
    assert len(ops[("data", projection.POINTS_SLOT)]["x"]) == len(a.words[2])


def test_the_prepare_message_says_pca_stands_in(page, monkeypatch):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": "analytics-dataset.value", "value": 1}]))
    shown = page.show_overview("imdb", "tsne", 0)
    alert, button = shown["alert"], shown["prepare_style"]
    assert "PCA projection meanwhile" in str(alert) and button == {}


def test_the_progress_label_says_the_time_left_once_it_can_be_estimated():
    from components import progress

    assert progress.progress_value(0.01, "Training", 3.0) == (1, "1% · Training")
    assert progress.progress_value(0.5, "Training", 20.0) == (50, "50% · Training · about 20 s left")
    assert progress.progress_value(0.25, "Extracting", 60.0)[1].endswith("about 3 min left")
    assert progress.progress_value(1.0, "done", 60.0) == (100, "100% · done")
