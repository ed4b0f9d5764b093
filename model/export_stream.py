"""Export files written to disk a chunk of rows at a time (the server's downloads).

States as gzip CSV or Parquet (hidden vectors optional), sequences as CSV, and a TensorBoard
projector zip sampled to what the projector can show. Memory stays bounded whatever the size of the
analysis: rows are read ``CHUNK_ROWS`` at a time from the memory-mapped arrays, and the pages of each
chunk are handed back to the OS once written (:func:`release`), so a worker's resident memory grows
by a chunk, not by the 480 MB of ``imdb~all``'s hidden states. The values are those of the in-memory
reference, ``model.export`` (text cells neutralised against spreadsheet formulas the same way).
"""

from __future__ import annotations

import gzip
import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from model.artifacts import Analysis
from model.export import neutralise_all, tsv_cell

CHUNK_ROWS = 20_000  # states per chunk: 20k x 100 units x 4 bytes = 8 MB of hidden vectors
SEQUENCE_CHUNK = 2_000  # sequences per chunk of the sequences CSV
PROJECTOR_LIMIT = 100_000  # about what the TensorBoard projector shows at once
PROJECTOR_SEED = 0
COMPRESS_LEVEL = 3  # gzip / deflate: a third of the size of plain text, at about 50 MB/s
META_COLUMNS = ("word", "sequence", "step", "actual", "predicted_here", "distance")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Written:
    """What a writer wrote: its rows and, where it left some out, why (for the page and README)."""

    rows: int
    note: str | None = None


def _quiet(_fraction: float, _stage: str) -> None:
    return None


def release(array: np.ndarray | None, start: int, stop: int) -> None:
    """Hand the pages of rows ``[start, stop)`` of a memory-mapped ``array`` back to the OS.

    The mapping is read-only and shared, so the next read of those rows (by any thread) simply finds
    them in the page cache again; nothing happens for an array held in memory."""
    mapped = getattr(array, "_mmap", None)
    if mapped is None or stop <= start or not array.flags.c_contiguous or not hasattr(mapped, "madvise"):
        return
    try:
        base = np.frombuffer(mapped, np.uint8, count=1).ctypes.data
        row = array.strides[0] if array.ndim else array.itemsize
        first = array.ctypes.data - base + start * row
        aligned = first - first % mmap.PAGESIZE
        length = min(len(mapped), first + (stop - start) * row) - aligned
        if length > 0:
            mapped.madvise(mmap.MADV_DONTNEED, aligned, length)
    except (ValueError, OSError, BufferError):
        return


def _rows(array: np.ndarray, start: int, stop: int, dtype: type = np.float32) -> np.ndarray:
    """Rows ``[start, stop)`` of ``array`` copied into memory (its mapped pages released)."""
    out = np.array(array[start:stop], dtype=dtype)
    release(array, start, stop)
    return out


def state_columns(
    analysis: Analysis,
    start: int,
    stop: int,
    points: np.ndarray | None = None,
    hidden: np.ndarray | None = None,
) -> dict[str, object]:
    """The columns of ``model.export.states_table`` for states ``[start, stop)`` only."""
    offsets = np.asarray(analysis.offsets)
    rows = np.arange(start, stop)
    sequence = np.searchsorted(offsets, rows, side="right") - 1
    first, last = int(sequence[0]), int(sequence[-1])
    words = list(chain.from_iterable(analysis.words[first : last + 1]))
    skip = start - int(offsets[first])
    names = np.array(neutralise_all(analysis.class_names), dtype=object)
    ep = _rows(analysis.ep, start, stop)
    columns: dict[str, object] = {
        "sequence": sequence.astype(np.int64),
        "step": (rows - offsets[sequence]).astype(np.int64),
        "word": neutralise_all(words[skip : skip + stop - start]),
        "actual": names[np.asarray(analysis.labels)[sequence]].tolist(),
        "predicted_here": names[ep.argmax(axis=1)].tolist(),
        **{f"ep_{name}": ep[:, c] for c, name in enumerate(analysis.class_names)},
        "distance": _rows(analysis.distance, start, stop),
    }
    if points is not None:
        xy = _rows(points, start, stop)
        columns["x"], columns["y"] = xy[:, 0], xy[:, 1]
    if hidden is not None:
        vectors = np.array(hidden[start:stop].T, dtype=np.float32, order="C")  # one copy, unit-major
        release(hidden, start, stop)
        columns.update({f"h_{i}": vectors[i] for i in range(len(vectors))})
    return columns


def state_tables(
    analysis: Analysis,
    points: np.ndarray | None,
    hidden: np.ndarray | None,
    on_progress: Progress = _quiet,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator:
    """``pyarrow.Table`` chunks of the states table, in order, reporting progress after each."""
    import pyarrow as pa

    total = analysis.n_states
    for start in range(0, total, chunk_rows):
        stop = min(start + chunk_rows, total)
        yield pa.table(state_columns(analysis, start, stop, points, hidden))
        on_progress(stop / total, f"states {stop:,} of {total:,} written")


def _empty_states(analysis: Analysis, points: np.ndarray | None, hidden: np.ndarray | None):
    """A table with the states table's columns and no row (an analysis without states)."""
    import pyarrow as pa

    columns: dict[str, pa.Array] = {
        "sequence": pa.array([], pa.int64()),
        "step": pa.array([], pa.int64()),
        **{name: pa.array([], pa.string()) for name in ("word", "actual", "predicted_here")},
        **{f"ep_{name}": pa.array([], pa.float32()) for name in analysis.class_names},
        "distance": pa.array([], pa.float32()),
    }
    extra = (["x", "y"] if points is not None else []) + [
        f"h_{i}" for i in range(hidden.shape[1] if hidden is not None else 0)
    ]
    columns.update({name: pa.array([], pa.float32()) for name in extra})
    return pa.table(columns)


def write_states_csv_gz(
    path: Path,
    analysis: Analysis,
    points: np.ndarray | None,
    hidden: np.ndarray | None,
    on_progress: Progress = _quiet,
    chunk_rows: int = CHUNK_ROWS,
) -> Written:
    """One row per state as gzip-compressed CSV (header first), written a chunk at a time."""
    import pyarrow.csv as pacsv

    with gzip.open(path, "wb", compresslevel=COMPRESS_LEVEL) as handle:
        writer = None
        for table in state_tables(analysis, points, hidden, on_progress, chunk_rows):
            writer = writer or pacsv.CSVWriter(handle, table.schema)
            writer.write_table(table)
        if writer is None:
            pacsv.write_csv(_empty_states(analysis, points, hidden), handle)
        else:
            writer.close()
    return Written(analysis.n_states)


def write_states_parquet(
    path: Path,
    analysis: Analysis,
    points: np.ndarray | None,
    hidden: np.ndarray | None,
    on_progress: Progress = _quiet,
    chunk_rows: int = CHUNK_ROWS,
) -> Written:
    """One row per state as Parquet (zstd), one row group per chunk."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for table in state_tables(analysis, points, hidden, on_progress, chunk_rows):
            writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
        if writer is None:
            pq.write_table(_empty_states(analysis, points, hidden), path, compression="zstd")
    finally:
        if writer is not None:
            writer.close()
    return Written(analysis.n_states)


def write_sequences_csv(
    path: Path, analysis: Analysis, on_progress: Progress = _quiet, chunk: int = SEQUENCE_CHUNK
) -> Written:
    """One row per sequence (id, length, actual, predicted, confidence, correct, text) as CSV."""
    import pandas as pd

    names = neutralise_all(analysis.class_names)
    lengths = np.diff(np.asarray(analysis.offsets))
    labels, predicted = np.asarray(analysis.labels), np.asarray(analysis.predicted)
    total = analysis.n_sequences
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for start in range(0, max(total, 1), chunk):
            part = slice(start, min(start + chunk, total))
            frame = pd.DataFrame(
                {
                    "sequence": np.arange(part.start, part.stop),
                    "length": lengths[part],
                    "actual": [names[i] for i in labels[part]],
                    "predicted": [names[i] for i in predicted[part]],
                    "confidence": np.asarray(analysis.confidence)[part],
                    "correct": labels[part] == predicted[part],
                    "text": neutralise_all(analysis.texts[part]),
                }
            )
            frame.to_csv(handle, header=start == 0, index=False, float_format="%.6g")
            on_progress(part.stop / max(total, 1), f"sequences {part.stop:,} of {total:,} written")
    return Written(total)


def projector_sample(n_states: int, limit: int = PROJECTOR_LIMIT, seed: int = PROJECTOR_SEED) -> np.ndarray:
    """The states a projector zip holds: all, or a uniform sample of ``limit`` (seeded), in reading order."""
    if n_states <= limit:
        return np.arange(n_states)
    return np.sort(np.random.default_rng(seed).choice(n_states, size=limit, replace=False))


def projector_note(n_states: int, limit: int = PROJECTOR_LIMIT, seed: int = PROJECTOR_SEED) -> str | None:
    """What the page and the zip's README say about sampling (None when every state is in it)."""
    if n_states <= limit:
        return None
    return (
        f"The TensorBoard projector shows about {limit:,} points, so this zip holds a uniform random "
        f"sample of {limit:,} of the {n_states:,} hidden states (seed {seed}), in reading order; "
        "metadata.tsv names the sequence and step of each row. Export the states as CSV or Parquet "
        "for all of them."
    )


README = """RNN Explorer: hidden states of {dataset} for the TensorBoard projector

Load it at https://projector.tensorflow.org (Load > vectors.tsv, then metadata.tsv) or point
TensorBoard at this folder (projector_config.pbtxt names both files).

vectors.tsv     one hidden-state vector per line ({units} values, tab-separated)
metadata.tsv    one row per vector, with a header: {columns}

{sampling}
"""


def _picked(array: np.ndarray, part: np.ndarray, span: int = CHUNK_ROWS) -> np.ndarray:
    """``array[part]`` (sorted indices) in memory, read ``span`` rows of the file at a time with the
    mapped pages of each span released (a sample spread over the whole file never maps all of it)."""
    out = np.empty((len(part), *array.shape[1:]), array.dtype)
    i = 0
    while i < len(part):
        j = max(i + 1, int(np.searchsorted(part, part[i] + span, side="left")))
        out[i:j] = array[part[i:j]]
        release(array, int(part[i]), int(part[j - 1]) + 1)
        i = j
    return out


def state_metadata(analysis: Analysis, part: np.ndarray) -> list[list]:
    """The :data:`META_COLUMNS` of the states ``part`` (sorted indices), as columns."""
    offsets = np.asarray(analysis.offsets)
    sequence = np.searchsorted(offsets, part, side="right") - 1
    step = part - offsets[sequence]
    names = neutralise_all(analysis.class_names)
    labels = np.asarray(analysis.labels)
    predicted = _picked(analysis.ep, part).argmax(axis=1)
    return [
        neutralise_all(analysis.words[k][t] for k, t in zip(sequence.tolist(), step.tolist(), strict=True)),
        sequence.tolist(),
        step.tolist(),
        [names[i] for i in labels[sequence]],
        [names[i] for i in predicted],
        list(_picked(analysis.distance, part).astype(np.float32)),
    ]


def _write_metadata(handle, analysis: Analysis, indices: np.ndarray) -> None:
    """The metadata rows of ``indices`` (TSV cells neutralised, tabs and line breaks made spaces)."""
    handle.write(("\t".join(META_COLUMNS) + "\n").encode())
    for start in range(0, len(indices), CHUNK_ROWS):
        columns = state_metadata(analysis, indices[start : start + CHUNK_ROWS])
        lines = ("\t".join(tsv_cell(v) for v in row) + "\n" for row in zip(*columns, strict=True))
        handle.write("".join(lines).encode("utf-8"))


def _write_vectors(handle, hidden: np.ndarray, indices: np.ndarray, on_progress: Progress) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False, delimiter="\t")
    for start in range(0, len(indices), CHUNK_ROWS):
        part = indices[start : start + CHUNK_ROWS]
        vectors = _picked(hidden, part).astype(np.float32)
        table = pa.table({f"h_{i}": np.ascontiguousarray(vectors[:, i]) for i in range(vectors.shape[1])})
        pacsv.write_csv(table, handle, options)
        done = start + len(part)
        on_progress(0.1 + 0.9 * done / len(indices), f"vectors {done:,} of {len(indices):,} written")


def write_projector_zip(
    path: Path,
    analysis: Analysis,
    hidden: np.ndarray,
    on_progress: Progress = _quiet,
    limit: int = PROJECTOR_LIMIT,
    seed: int = PROJECTOR_SEED,
) -> Written:
    """A zip of ``vectors.tsv``, ``metadata.tsv``, ``projector_config.pbtxt`` and ``README.txt``,
    holding every state or, above ``limit``, a seeded uniform sample (said in README.txt)."""
    import zipfile

    indices = projector_sample(analysis.n_states, limit, seed)
    note = projector_note(analysis.n_states, limit, seed)
    config = (
        'embeddings {\n  tensor_name: "hidden_states"\n  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n}\n'
    )
    readme = README.format(
        dataset=analysis.dataset,
        units=hidden.shape[1],
        columns=", ".join(META_COLUMNS),
        sampling=note or f"It holds all {analysis.n_states:,} hidden states, in reading order.",
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        archive.writestr("README.txt", readme)
        archive.writestr("projector_config.pbtxt", config)
        with archive.open("metadata.tsv", "w", force_zip64=True) as handle:
            _write_metadata(handle, analysis, indices)
        on_progress(0.1, "metadata written")
        with archive.open("vectors.tsv", "w", force_zip64=True) as handle:
            if len(indices):
                _write_vectors(handle, hidden, indices, on_progress)
    return Written(len(indices), note)
