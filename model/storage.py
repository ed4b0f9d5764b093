"""The prepared analysis on disk: extraction streamed into memory-mapped artefacts, and read back.

Three artefacts per prepared set, each a folder of :mod:`model.arrays` (written atomically):

* ``analysis``: ``ep`` (n_states, n_classes) float32, ``distance`` (n_states,) float32,
  ``word_codes`` (n_states,) uint32 into a token table, and the per-sequence ``offsets``,
  ``labels``, ``predicted``, ``confidence``; ``meta.pkl`` holds the dataset id, class
  names, texts, token table and summary.
* ``states``: ``hidden`` and ``cell`` (n_states, units) float16 (``cell`` absent for cells
  without one); float16 keeps about three decimal digits, far below what a plot shows.
* ``projection``: ``points`` (n_states, 2) float32.

Extraction runs a chunk of sequences at a time and appends each chunk to the files,
so the prepare process never holds every state in memory. A float32 copy of the
hidden states (a scratch file, deleted afterwards) feeds the projection of the same
run, so projections are computed from the exact states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import arrays, projection
from model.artifacts import Analysis

STATE_DTYPE = np.float16
CHUNK_SEQUENCES = 1000  # sequences extracted (and appended to the files) at a time
SCRATCH = "hidden32"


@dataclass
class Chunk:
    """What extraction gives for a run of sequences: per-state arrays and the tokens read."""

    hidden: np.ndarray
    cell: np.ndarray | None
    ep: np.ndarray
    distance: np.ndarray
    lengths: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    words: list[list[str]]


def chunk_from(states, words: list[list[str]]) -> Chunk:
    """A :class:`Chunk` from :class:`model.extraction.States` and the chunk's tokens."""
    return Chunk(
        states.hidden,
        states.cell,
        states.ep,
        states.distance,
        np.diff(states.offsets),
        states.predicted,
        states.confidence,
        words,
    )


def summarize(
    summary: dict, labels: np.ndarray, predicted: np.ndarray, n_states: int, max_distance: float
) -> dict:
    """The summary of an analysis: the caller's fields and the counts every analysis carries."""
    return {
        **summary,
        "n_sequences": len(labels),
        "n_hidden_states": int(n_states),
        "analysis_accuracy": float(np.mean(predicted == labels)) if len(labels) else 0.0,
        "max_distance": float(max_distance),
    }


@contextmanager
def scratch_for(states_key: str) -> Iterator[arrays.Writer]:
    """A temporary folder (never committed) for the float32 states the projection reads."""
    with arrays.Writer(f"{states_key}-scratch") as writer:
        yield writer


def extract(
    keys: dict[str, str],
    n: int,
    run_chunk: Callable[[int, int, Callable[[int, int], None]], Chunk],
    texts: list[str],
    labels: np.ndarray,
    meta: dict,
    describe: Callable[[np.ndarray], dict],
    update: Callable[[int, int], None],
    replace: bool = False,
    scratch: arrays.Writer | None = None,
) -> None:
    """Extract ``n`` sequences a chunk at a time into the ``states`` and ``analysis`` artefacts.

    ``run_chunk(start, stop, on_batch)`` extracts sequences ``start:stop``; ``describe(predicted)``
    gives the summary's fields; ``meta`` holds ``dataset`` and ``class_names``. With ``scratch``,
    the float32 hidden states are also written there for the projection of this run.
    """
    labels = np.asarray(labels, dtype=np.int64)
    with (
        arrays.Writer(keys["states"], replace) as states,
        arrays.Writer(keys["analysis"], replace) as analysis,
    ):
        table: dict[str, int] = {}
        lengths, predicted, confidence, max_distance = [], [], [], 0.0
        for start in range(0, max(n, 1), CHUNK_SEQUENCES):
            stop = min(start + CHUNK_SEQUENCES, n)
            part = run_chunk(start, stop, lambda done, _total, start=start: update(start + done, n))
            if start == 0:
                _open_streams(states, analysis, part, scratch)
            states.append("hidden", part.hidden)
            if part.cell is not None:
                states.append("cell", part.cell)
            if scratch is not None:
                scratch.append(SCRATCH, part.hidden)
            analysis.append("ep", part.ep)
            analysis.append("distance", part.distance)
            codes = [table.setdefault(token, len(table)) for tokens in part.words for token in tokens]
            analysis.append("word_codes", np.asarray(codes, dtype=np.uint32))
            lengths.append(part.lengths)
            predicted.append(part.predicted)
            confidence.append(part.confidence)
            max_distance = max(max_distance, float(np.max(part.distance, initial=0.0)))
        lengths = np.concatenate(lengths).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        predicted = np.concatenate(predicted).astype(np.int64)
        if scratch is not None:
            scratch.close_streams()
        analysis.put("offsets", offsets)
        analysis.put("labels", labels[:n])
        analysis.put("predicted", predicted)
        analysis.put("confidence", np.concatenate(confidence).astype(np.float32))
        summary = summarize(describe(predicted), labels[:n], predicted, offsets[-1], max_distance)
        analysis.meta = {**meta, "texts": list(texts[:n]), "tokens": list(table), "summary": summary}
        states.commit()
        analysis.commit()


def _open_streams(
    states: arrays.Writer, analysis: arrays.Writer, first: Chunk, scratch: arrays.Writer | None
) -> None:
    units = first.hidden.shape[1:]
    states.stream("hidden", STATE_DTYPE, units)
    if first.cell is not None:
        states.stream("cell", STATE_DTYPE, first.cell.shape[1:])
    else:
        states.put("cell", None)
    if scratch is not None:
        scratch.stream(SCRATCH, np.float32, units)
    analysis.stream("ep", np.float32, first.ep.shape[1:])
    analysis.stream("distance", np.float32)
    analysis.stream("word_codes", np.uint32)


def scratch_hidden(scratch: arrays.Writer | None) -> np.ndarray | None:
    """The float32 hidden states of this run (memory-mapped), if it wrote them."""
    if scratch is None or not scratch.path(SCRATCH).exists() or SCRATCH not in scratch.arrays:
        return None
    return np.load(scratch.path(SCRATCH), mmap_mode="r") if scratch.arrays[SCRATCH]["shape"][0] else None


def copy_prefix(source: dict[str, str], target: dict[str, str], n: int) -> bool:
    """Store the first ``n`` sequences of a larger prepared set as their own analysis; False if none.

    The same classifier reads the same first ``n`` texts, so this equals extracting them anew
    (up to float rounding: Keras runs other batch sizes), at the cost of a file copy.
    """
    full, states = arrays.load(source["analysis"]), arrays.load(source["states"])
    if full is None or states is None or len(full.arrays["offsets"]) - 1 < n:
        return False
    rows = int(full.arrays["offsets"][n])
    with arrays.Writer(target["states"]) as out_states, arrays.Writer(target["analysis"]) as out:
        for name, array in states.arrays.items():
            _copy_rows(out_states, name, array, rows)
        for name in ("ep", "distance", "word_codes"):
            _copy_rows(out, name, full.arrays[name], rows)
        offsets = np.asarray(full.arrays["offsets"][: n + 1])
        labels, predicted = np.asarray(full.arrays["labels"][:n]), np.asarray(full.arrays["predicted"][:n])
        out.put("offsets", offsets)
        out.put("labels", labels)
        out.put("predicted", predicted)
        out.put("confidence", np.asarray(full.arrays["confidence"][:n]))
        distance = full.arrays["distance"][:rows]
        summary = summarize(
            full.meta["summary"], labels, predicted, rows, float(np.max(distance, initial=0.0))
        )
        out.meta = {**full.meta, "texts": full.meta["texts"][:n], "summary": summary}
        out_states.commit()
        out.commit()
    return True


def _copy_rows(writer: arrays.Writer, name: str, array: np.ndarray | None, rows: int) -> None:
    if array is None:
        writer.put(name, None)
        return
    writer.stream(name, array.dtype, array.shape[1:])
    for start in range(0, rows, projection.CHUNK_ROWS * 4):
        writer.append(name, array[start : min(start + projection.CHUNK_ROWS * 4, rows)])


def load_analysis(key: str) -> Analysis | None:
    """The analysis artefact as an :class:`Analysis` (per-state arrays memory-mapped), or None."""
    stored = arrays.load(key)
    if stored is None:
        return None
    meta, data = stored.meta, stored.arrays
    offsets = np.array(data["offsets"])
    tokens = np.array(meta["tokens"] + [""], dtype=object)
    flat = tokens[np.asarray(data["word_codes"])].tolist()  # shared str objects: one per distinct token
    words = [flat[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    return Analysis(
        dataset=meta["dataset"],
        class_names=list(meta["class_names"]),
        texts=meta["texts"],
        words=words,
        labels=np.array(data["labels"], dtype=np.int64),
        predicted=np.array(data["predicted"], dtype=np.int64),
        confidence=np.array(data["confidence"], dtype=np.float32),
        offsets=offsets,
        ep=data["ep"],
        distance=data["distance"],
        summary=meta["summary"],
    )


def load_states(key: str) -> dict | None:
    """``{"hidden": (n_states, units) float16 memmap, "cell": ... or None}``, or None."""
    stored = arrays.load(key)
    return None if stored is None else {"hidden": stored.arrays["hidden"], "cell": stored.arrays.get("cell")}


def save_projection(key: str, points: np.ndarray, meta: dict, replace: bool = False) -> None:
    with arrays.Writer(key, replace) as writer:
        writer.put("points", np.asarray(points, dtype=np.float32))
        writer.meta = meta
        writer.commit()


def load_projection(key: str) -> np.ndarray | None:
    """(n_states, 2) float32 positions (memory-mapped), or None."""
    stored = arrays.load(key)
    return None if stored is None else stored.arrays["points"]


def save_neighbor_index(key: str, stored: dict[str, np.ndarray], meta: dict, replace: bool = False) -> None:
    """The arrays of a nearest-neighbour index (:func:`model.neighbors_ivf.build`) as one artefact."""
    with arrays.Writer(key, replace) as writer:
        for name, array in stored.items():
            writer.put(name, array)
        writer.meta = meta
        writer.commit()


def load_neighbor_index(key: str) -> dict | None:
    """The stored index arrays (memory-mapped), or None."""
    stored = arrays.load(key)
    return None if stored is None else dict(stored.arrays)


def folder(key: str) -> Path:
    return arrays.folder_for(key)
