"""Issue 20 (j): the page opens with a representative sequence, named in the URL."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from model.representative import representative_sequence
from tests.support.synthetic import synthetic_analysis


def test_the_representative_is_correct_of_median_length_and_its_prediction_moves():
    a = synthetic_analysis("imdb", 60)
    k = representative_sequence(a)
    lengths = np.diff(a.offsets)
    assert a.labels[k] == a.predicted[k]
    lo, hi = np.percentile(lengths, [35, 65])
    assert lo <= lengths[k] <= hi

    # among those, no other one's EP of its predicted class moves more from the first step to the last
    def swing(j: int) -> float:
        ep = a.ep[a.rows(j), a.predicted[j]]
        return abs(float(ep[-1]) - float(ep[0]))

    fits = [j for j in range(a.n_sequences) if a.labels[j] == a.predicted[j] and lo <= lengths[j] <= hi]
    assert swing(k) == max(swing(j) for j in fits)
    assert representative_sequence(a) == k  # deterministic


def test_every_sequence_misclassified_still_gives_one():
    a = synthetic_analysis("imdb", 20)
    wrong = replace(a, predicted=1 - np.asarray(a.labels))
    k = representative_sequence(wrong)
    assert k is not None and 0 <= k < a.n_sequences


def test_the_page_opens_on_it_unless_the_url_says_none(page):
    from services import analysis

    def selection(node):
        if getattr(node, "id", None) == "analytics-selection":
            return [node.data]
        children = getattr(node, "children", None)
        found = []
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                found += selection(child)
        return found

    expected = analysis.representative("imdb")
    assert expected is not None
    assert selection(page.layout(dataset="imdb")) == [{"dataset": "imdb", "seq": expected, "step": None}]
    assert selection(page.layout(dataset="imdb", seq="none")) == [None]
    assert selection(page.layout(dataset="imdb", seq="3"))[0]["seq"] == 3
