"""Benchmark of the server-side sequence table and lasso; prints one JSON object.

Synthetic: 25,000 sequences of about 96 states (2.4 million states, IMDB's whole test split),
texts of about 1,300 characters. Times (median of ``--repeat`` runs, in ms): building the
table's columns once per analysis (cold), one block request (search + two-column sort + a
column filter, then the rows of the grid's fourth block of 100), and the lasso (a 2,000-vertex
polygon) and box over all 2.4 million states. With ``imdb~all`` prepared in the cache, the same
on it, through the grid's getRows callback as Dash calls it.

    python bench/table.py [--repeat 7] [--no-real]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SORT = [{"column_id": "confidence", "direction": "desc"}, {"column_id": "length", "direction": "asc"}]
BLOCK = (300, 400)  # the grid's fourth block of rows (its cacheBlockSize is 100)


def _ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def synthetic(n_sequences: int = 25_000, mean_states: int = 96, seed: int = 0):
    """(analysis, view xy) of the size of IMDB's whole test split; only what the table reads is real."""
    from model.artifacts import Analysis

    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.normal(mean_states, 30, n_sequences).astype(np.int64), 5, 400)
    lengths[-1] += mean_states * n_sequences - lengths.sum()  # exactly 2.4 million states
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    vocab = np.array(
        ["the", "movie", "great", "plot", "awful", "acting", "not", "good", "film", "story"] * 30
    )
    vocab = np.char.add(vocab, np.arange(len(vocab)).astype(str))
    words = [vocab[rng.integers(0, len(vocab), int(n))].tolist() for n in lengths]
    labels = rng.integers(0, 2, n_sequences)
    predicted = np.where(rng.random(n_sequences) < 0.85, labels, 1 - labels)
    analysis = Analysis(
        dataset="bench",
        class_names=["negative", "positive"],
        texts=[" ".join(w * 2) for w in words],
        words=words,
        labels=labels,
        predicted=predicted,
        confidence=rng.uniform(0.5, 1.0, n_sequences),
        offsets=offsets,
        ep=np.zeros((int(offsets[-1]), 2), np.float32),
        distance=np.zeros(int(offsets[-1]), np.float32),
    )
    xy = (rng.random((int(offsets[-1]), 2)) * 65535).astype(np.float32)
    return analysis, xy


def _outline(n: int = 2_000) -> dict:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 20_000 + 6_000 * np.sin(9 * t)
    return {"lasso": {"x": (32768 + r * np.cos(t)).tolist(), "y": (32768 + r * np.sin(t)).tolist()}}


def measure(analysis, xy, repeat: int) -> dict:
    from components import analytics_table as table_view
    from components import analytics_view as view
    from model import memo
    from services import table

    memo.forget("table")
    start = time.perf_counter()
    data = table.frame(analysis, view.analysed_texts)
    cold = (time.perf_counter() - start) * 1000
    query = {"search": "great1", "filter_query": "{confidence} > 0.6 && {text} contains movie"}

    def block_request():
        selection = table.select(analysis, xy, query, view.analysed_texts)
        rows = table.block(data, selection.indices, SORT, *BLOCK)
        table_view.table_rows(
            view.analysed_texts(analysis),
            np.diff(analysis.offsets),
            analysis.labels,
            analysis.predicted,
            analysis.confidence,
            list(analysis.class_names),
            rows,
        )
        return selection

    selection = block_request()
    lasso, box = _outline(), {"box": {"x": [10_000, 40_000], "y": [5_000, 50_000]}}
    inside = table.lasso_sequences(analysis, xy, lasso, False)
    return {
        "n_sequences": analysis.n_sequences,
        "n_states": analysis.n_states,
        "columns_build_cold_ms": round(cold, 1),
        "block_request_ms": _ms(block_request, repeat),
        "block_request_rows_matched": int(len(selection.indices)),
        "search_only_ms": _ms(lambda: table.contains(data.texts, "great1"), repeat),
        "lasso_2000_vertices_all_states_ms": _ms(
            lambda: table.lasso_sequences(analysis, xy, lasso, False), repeat
        ),
        "lasso_sequences_inside": int(inside.sum()),
        "lasso_final_states_only_ms": _ms(lambda: table.lasso_sequences(analysis, xy, lasso, True), repeat),
        "box_all_states_ms": _ms(lambda: table.lasso_sequences(analysis, xy, box, False), repeat),
    }


def measure_callback(dataset: str, method: str, repeat: int) -> dict | None:
    """The grid's getRows callback as Dash calls it (a search and a sort, the fourth block of rows),
    on a prepared dataset."""
    from components.cards import analytics_table_card
    from services import analysis as analysis_service

    analysis, _dmax, xy = analysis_service.load(dataset, method)
    if analysis is None or xy is None:
        return None
    found = measure(analysis, xy, repeat)
    query = {"dataset": dataset, "method": method, "final_only": False, "search": "great", "filter_query": ""}
    sort = [{"colId": e["column_id"], "sort": e["direction"]} for e in SORT]
    request = {"startRow": BLOCK[0], "endRow": BLOCK[1], "sortModel": sort, "filterModel": {}}

    def rows():
        return analytics_table_card.get_rows(request=request, query=query)

    rows()
    found["callback_block_request_ms"] = _ms(rows, repeat)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-real", action="store_true", help="skip imdb~all even when it is prepared")
    args = parser.parse_args()
    analysis, xy = synthetic()
    report = {"synthetic": measure(analysis, xy, args.repeat)}
    if not args.no_real:
        try:
            report["imdb~all"] = measure_callback("imdb~all", "pca", args.repeat)
        except Exception as error:  # noqa: BLE001 - a benchmark reports what it could not measure
            report["imdb~all"] = {"error": f"{type(error).__name__}: {error}"[:300]}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
