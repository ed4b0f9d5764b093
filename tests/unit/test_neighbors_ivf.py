"""The IVF index of large sets (model.neighbors_ivf): recall against the exact scan, written by the
preparation beside the states and read memory-mapped, and what the service does while it is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import arrays, cache, storage
from model import neighbors as core
from model import neighbors_ivf as ivf


def _states(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(24, d))
    return np.tanh(centers[rng.integers(0, 24, n)] + 0.5 * rng.normal(size=(n, d))).astype(np.float16)


def test_recall_against_the_exact_scan_and_exact_when_every_cell_is_read(monkeypatch):
    monkeypatch.setattr(ivf, "ROWS_PER_LIST", 64)
    data = _states(6000, 16)
    stored = ivf.build(data)
    assert len(stored["centroids"]) == 93 and stored["starts"][-1] == 6000
    assert np.array_equal(np.sort(stored["order"]), np.arange(6000))
    index, exact = ivf.IvfIndex(data, stored, probe_rows=600), core.ExactIndex(data)
    hits = total = 0
    for row in range(0, 6000, 97):
        for cut in (slice(row, row + 1), slice(max(0, row - 20), row + 20)):
            got, want = index.query(data[row], 10, cut), exact.query(data[row], 10, cut)
            assert len(got.rows) == 10 and not np.any((got.rows >= cut.start) & (got.rows < cut.stop))
            assert np.all(np.diff(got.distances) >= 0)
            true = np.linalg.norm(data[got.rows].astype(np.float64) - data[row].astype(np.float64), axis=1)
            np.testing.assert_allclose(got.distances, true)
            hits += len(set(got.rows.tolist()) & set(want.rows.tolist()))
            total += 10
    assert hits / total >= 0.95
    everything = ivf.IvfIndex(data, stored, probe_rows=len(data))
    for row in (0, 4321):
        want = core.brute_force(data, data[row], 7, slice(row, row + 1))
        assert everything.query(data[row], 7, slice(row, row + 1)).rows.tolist() == want.rows.tolist()


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    monkeypatch.setenv("RNNX_NEIGHBORS_EXACT_MAX", "1000")
    monkeypatch.setattr(ivf, "ROWS_PER_LIST", 64)
    return tmp_path


def _stored_states(key: str, data: np.ndarray) -> None:
    with arrays.Writer(key) as writer:
        writer.put("hidden", data)
        writer.put("cell", None)
        writer.commit()


def test_the_preparation_writes_the_index_once_and_it_is_read_memory_mapped(cache_dir):
    from model.prepare_run import Run

    keys = {
        "states": cache.make_key("states", probe="ivf"),
        "neighbors": cache.make_key("neighbors", probe=1),
    }
    data = _states(3000, 8, seed=2)
    _stored_states(keys["states"], data)
    with Run(None, False, {"neighbors": 1.0}) as run:
        run.neighbors(keys)
    assert run.hits == [False] and "neighbors" in run.seconds
    stored = storage.load_neighbor_index(keys["neighbors"])
    assert isinstance(stored["order"], np.memmap) and not stored["order"].flags.writeable
    hidden = storage.load_states(keys["states"])["hidden"]
    index = ivf.IvfIndex(hidden, stored, probe_rows=len(hidden))
    want = core.brute_force(data, data[5], 10, slice(5, 6))
    assert index.query(hidden[5], 10, slice(5, 6)).rows.tolist() == want.rows.tolist()
    with Run(None, False, {"neighbors": 1.0}) as again:
        again.neighbors(keys)
    assert again.hits == [True]  # stored: not built again

    small = {
        "states": cache.make_key("states", probe="small"),
        "neighbors": cache.make_key("neighbors", probe=2),
    }
    _stored_states(small["states"], data[:900])  # below the exact limit: no index
    with Run(None, False, {"neighbors": 1.0}) as run:
        run.neighbors(small)
    assert run.hits == [True] and not arrays.contains(small["neighbors"])


@pytest.fixture()
def missing(monkeypatch):
    """The synthetic pipeline above the exact limit, whose index is not built yet."""
    from services import analysis as analysis_service
    from services import neighbors as service
    from tests.support.serve import use_pipeline

    use_pipeline(monkeypatch, "tests.support.synthetic")
    monkeypatch.setenv("RNNX_NEIGHBORS_EXACT_MAX", "100")
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    pipeline = analysis_service.prepare_module()
    built = []
    monkeypatch.setattr(pipeline, "load_neighbor_index", lambda dataset, n=None: None, raising=False)
    monkeypatch.setattr(pipeline, "run_neighbor_index_subprocess", built.append, raising=False)
    analysis_service.clear_caches()
    service.clear_caches()
    analysis, _dmax, _xy = analysis_service.load("imdb", "pca")
    yield service, analysis, pipeline, built
    analysis_service.clear_caches()
    service.clear_caches()


def test_a_missing_index_is_built_in_the_job_queue_and_the_card_says_so(missing, monkeypatch):
    service, analysis, pipeline, built = missing
    requested = []
    monkeypatch.setattr(service, "_request_build", requested.append)
    with pytest.raises(LookupError, match="being built"):
        service.neighbors_of("imdb", analysis, 3, 2, 5)
    assert requested == ["imdb"]
    service._build_queued("imdb")  # what the background thread runs: one of the server's jobs
    assert built == ["imdb"]

    from tests.support.synthetic import load_states

    hidden = load_states("imdb")["hidden"]
    monkeypatch.setattr(
        pipeline, "load_neighbor_index", lambda dataset, n=None: ivf.IvfIndex(hidden, ivf.build(hidden))
    )
    found = service.neighbors_of("imdb", analysis, 3, 2, 5)  # built: read at the next query
    want = core.brute_force(hidden, hidden[found.row], 5, slice(found.row, found.row + 1))
    assert found.kind == "ivf" and found.rows.tolist() == want.rows.tolist()


def test_without_a_way_to_build_it_the_exact_scan_answers(missing, monkeypatch):
    service, analysis, pipeline, built = missing
    monkeypatch.setenv("RNNX_DEMO_MODE", "1")  # a read-only cache
    assert service.neighbors_of("imdb", analysis, 3, 2, 5).kind == "exact"
    monkeypatch.delenv("RNNX_DEMO_MODE")
    monkeypatch.delattr(pipeline, "run_neighbor_index_subprocess")  # a pipeline without indexes
    service.clear_caches()
    assert service.neighbors_of("imdb", analysis, 3, 2, 5, other_only=True).kind == "exact"
    assert built == []
