"""Peak resident-memory growth of a process while it writes exports of ``imdb~all``; prints one JSON object.

Each format is written in a fresh process (so one export's allocator high-water mark does not hide
the next one's) that imports pandas and pyarrow and loads the analysis, as a worker serving the page
holds them, then records its resident memory every 20 ms while ``model.export_stream`` writes the
file (the growth is measured from there; the imports and the load are reported apart). Uses the prepared
``imdb~all`` of the cache when there is one; otherwise a synthetic memory-mapped analysis of the same
shape (25,000 sequences of up to 100 words, about 2.3 million states x 100 float16 units), written
to ``--work`` first. The output says which it used.

    RNNX_CACHE_DIR=... python bench/export_memory.py [--formats states,parquet,projector,sequences]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATASET = "imdb~all"
SEQUENCES, MAX_LEN, UNITS, VOCAB = 25_000, 100, 100, 20_000
SUFFIX = {"states": "csv.gz", "parquet": "parquet", "projector": "zip", "sequences": "csv"}


class PeakRss:
    """The largest resident memory of a process (this one by default) while a block runs, sampled
    every 20 ms; tests use it too (``tests/support/uploads.py``)."""

    def __init__(self, pid: int | None = None) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.start = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def write_synthetic(folder: Path) -> None:
    """A memory-mapped analysis of imdb~all's shape in ``folder`` (written a chunk at a time)."""
    if (folder / "done").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lengths = np.where(rng.random(SEQUENCES) < 0.85, MAX_LEN, rng.integers(10, MAX_LEN, SEQUENCES))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = int(offsets[-1])
    np.save(folder / "offsets.npy", offsets)
    arrays = {
        "ep": ((n, 2), np.float32),
        "distance": ((n,), np.float32),
        "points": ((n, 2), np.float32),
        "hidden": ((n, UNITS), np.float16),
        "word_codes": ((n,), np.uint32),
    }
    mapped = {
        name: np.lib.format.open_memmap(folder / f"{name}.npy", "w+", dtype, shape)
        for name, (shape, dtype) in arrays.items()
    }
    for start in range(0, n, 200_000):
        stop = min(start + 200_000, n)
        p = rng.random(stop - start, dtype=np.float32)
        mapped["ep"][start:stop] = np.stack([1 - p, p], axis=1)
        mapped["distance"][start:stop] = rng.gamma(2.0, 0.5, stop - start)
        mapped["points"][start:stop] = rng.normal(0, 3, (stop - start, 2))
        mapped["hidden"][start:stop] = np.tanh(rng.normal(0, 0.6, (stop - start, UNITS)))
        mapped["word_codes"][start:stop] = rng.integers(0, VOCAB, stop - start)
    for array in mapped.values():
        array.flush()
    del mapped
    (folder / "done").write_text(str(n))


def load_synthetic(folder: Path) -> tuple:
    """(analysis, points, hidden) from ``folder``, per-state arrays memory-mapped (as the cache serves them)."""
    from model.artifacts import Analysis

    offsets = np.load(folder / "offsets.npy")
    tokens = np.array([f"w{i}" for i in range(VOCAB)] + [""], dtype=object)
    flat = tokens[np.load(folder / "word_codes.npy")].tolist()
    words = [flat[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, SEQUENCES)
    analysis = Analysis(
        dataset=DATASET,
        class_names=["negative", "positive"],
        texts=[" ".join(w) for w in words],
        words=words,
        labels=labels,
        predicted=np.where(rng.random(SEQUENCES) < 0.85, labels, 1 - labels),
        confidence=rng.random(SEQUENCES).astype(np.float32),
        offsets=offsets,
        ep=np.load(folder / "ep.npy", mmap_mode="r"),
        distance=np.load(folder / "distance.npy", mmap_mode="r"),
    )
    return (
        analysis,
        np.load(folder / "points.npy", mmap_mode="r"),
        np.load(folder / "hidden.npy", mmap_mode="r"),
    )


def load_prepared() -> tuple | None:
    """(analysis, points, hidden) of the cache's prepared imdb~all (PCA), or None."""
    from model import prepare

    analysis = prepare.load_analysis(DATASET)
    states = prepare.load_states(DATASET) if analysis is not None else None
    points = prepare.load_projection(DATASET, "pca") if analysis is not None else None
    return None if analysis is None or states is None else (analysis, points, states["hidden"])


def one(fmt: str, source: str, folder: Path, out: Path) -> dict:
    """Load the analysis, then write ``fmt`` to ``out``; the memory and time it took."""
    from model import export_stream

    before_import = PeakRss().process.memory_info().rss
    import pandas  # noqa: F401 - imported by every web worker at start (app.py)
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401

    before_load = PeakRss().process.memory_info().rss
    analysis, points, hidden = load_prepared() if source == "cache" else load_synthetic(folder)
    loaded = PeakRss().process.memory_info().rss
    started = time.perf_counter()
    with PeakRss() as rss:
        if fmt == "states":
            written = export_stream.write_states_csv_gz(out, analysis, points, hidden)
        elif fmt == "parquet":
            written = export_stream.write_states_parquet(out, analysis, points, hidden)
        elif fmt == "projector":
            written = export_stream.write_projector_zip(out, analysis, hidden)
        else:
            written = export_stream.write_sequences_csv(out, analysis)
    return {
        "format": fmt,
        "rows": written.rows,
        "states": analysis.n_states,
        "hidden_units": int(hidden.shape[1]) if hidden is not None else 0,
        "seconds": round(time.perf_counter() - started, 1),
        "file_mb": round(out.stat().st_size / 2**20, 1),
        "rss_before_export_mb": round(rss.start / 2**20, 1),
        "peak_rss_growth_mb": round((rss.peak - rss.start) / 2**20, 1),
        "analysis_load_growth_mb": round((loaded - before_load) / 2**20, 1),
        "pandas_pyarrow_import_mb": round((before_load - before_import) / 2**20, 1),
        "note": written.note,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--formats", default="states,parquet,projector,sequences")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "rnnx-export-bench"))
    parser.add_argument("--synthetic", action="store_true", help="ignore a prepared imdb~all")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.work)
    if args.one:
        print(json.dumps(one(args.one, args.source, work / "synthetic", work / f"out.{SUFFIX[args.one]}")))
        return
    source = "synthetic" if args.synthetic or load_prepared() is None else "cache"
    if source == "synthetic":
        write_synthetic(work / "synthetic")
    results = []
    for fmt in [f for f in args.formats.split(",") if f in SUFFIX]:
        command = [sys.executable, __file__, "--one", fmt, "--source", source, "--work", str(work)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        (work / f"out.{SUFFIX[fmt]}").unlink(missing_ok=True)
    used = (
        f"the prepared {DATASET} of the cache"
        if source == "cache"
        else f"a synthetic memory-mapped analysis of {DATASET}'s shape (no prepared {DATASET} in the cache)"
    )
    print(json.dumps({"dataset": DATASET, "source": source, "used": used, "exports": results}, indent=1))


if __name__ == "__main__":
    main()
