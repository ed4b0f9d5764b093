"""The approximate (pynndescent) index behind the neighbours view for sets above the exact limit:
good recall against brute force, built once and then read from the disk cache (numba compiles
pynndescent first, minutes on a busy machine: marked slow)."""

from __future__ import annotations

import time

import pytest

from model import neighbors as core

pytestmark = pytest.mark.slow


def test_above_the_exact_limit_a_cached_graph_answers_with_good_recall(monkeypatch):
    from model import cache
    from services import analysis as analysis_service
    from services import neighbors as service
    from tests.support.serve import use_pipeline
    from tests.support.synthetic import load_states

    use_pipeline(monkeypatch, "tests.support.synthetic")
    monkeypatch.setenv("RNNX_NEIGHBORS_EXACT_MAX", "100")
    analysis_service.clear_caches()
    service.clear_caches()
    built = []
    original = core.ApproxIndex.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(core.ApproxIndex, "__init__", counting)
    analysis, _dmax, _xy = analysis_service.load("imdb", "pca")
    hidden = load_states("imdb")["hidden"]
    # the first click: the exact scan answers while the graph is built in the background
    assert service.neighbors_of("imdb", analysis, 0, None, 5).kind == "exact"
    pipeline = analysis_service.prepare_module().__name__
    key = service._approx_key(pipeline, "imdb", analysis.n_states)
    deadline = time.time() + 1500
    while not cache.contains(key) and time.time() < deadline:
        time.sleep(1)
    assert cache.contains(key)
    hits = total = 0
    for seq in range(0, analysis.n_sequences, 3):
        found = service.neighbors_of("imdb", analysis, seq, None, 10, other_only=seq % 2 == 1)
        assert found.kind == "pynndescent" and len(found.rows) == 10
        exclude = analysis.rows(seq) if seq % 2 == 1 else slice(found.row, found.row + 1)
        if seq % 2 == 1:
            assert seq not in found.seqs.tolist()
        want = core.brute_force(hidden, hidden[found.row], 10, exclude)
        hits += len(set(found.rows.tolist()) & set(want.rows.tolist()))
        total += 10
    assert hits / total >= 0.9
    assert built == [1]
    service.clear_caches()  # a new worker: the graph comes from the disk cache, not a new build
    assert service.neighbors_of("imdb", analysis, 0, None, 5).kind == "pynndescent"
    assert built == [1]
    analysis_service.clear_caches()
    service.clear_caches()
