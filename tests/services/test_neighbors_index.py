"""The IVF index of a cache prepared before it existed: ``python -m model.neighbors_build`` (what the
server's job queue runs) writes it beside the stored states, once, and the pipeline reads it
memory-mapped; a set that is not prepared gets a message, not a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from model import arrays, byo, prepare
from model import neighbors as core


def test_the_build_command_writes_the_missing_index_once(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    monkeypatch.setenv("RNNX_NEIGHBORS_EXACT_MAX", "1000")
    dataset = byo.UPLOAD_PREFIX + "0123456789ab"  # an upload's keys need no classifier
    rng = np.random.default_rng(4)
    hidden = np.tanh(rng.normal(size=(2500, 8))).astype(np.float16)
    with arrays.Writer(prepare._keys(dataset, None)["states"]) as writer:
        writer.put("hidden", hidden)
        writer.put("cell", None)
        writer.commit()
    assert prepare.load_neighbor_index(dataset) is None

    assert prepare.run_neighbor_index_subprocess(dataset)["cached"] is False
    index = prepare.load_neighbor_index(dataset)
    assert index.kind == "ivf" and isinstance(index.order, np.memmap) and len(index.centroids) == 2
    found = index.query(hidden[7], 10, slice(7, 8))
    want = core.brute_force(hidden, hidden[7], 10, slice(7, 8))
    assert len(set(found.rows.tolist()) & set(want.rows.tolist())) >= 8
    assert prepare.run_neighbor_index_subprocess(dataset)["cached"] is True

    with pytest.raises(prepare.PrepareError, match="not prepared"):
        prepare.run_neighbor_index_subprocess(byo.UPLOAD_PREFIX + "ffffffffffff")
