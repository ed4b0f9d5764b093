"""Bench the live what-if and bring-your-own paths of /analytics; prints one JSON object.

- what-if: server time of the what-if callback (``components.cards.analytics_whatif_card.show_whatif``) for a
  100-word text, one word edited per call (median and p95; goal under 300 ms), on the built-in
  classifier (numpy) and on an uploaded Keras model;
- upload to analytics: a 5,000-text CSV and a GRU model through the page's path (CLI in a fresh
  process, as the background callback runs it), then the first overview and projection callbacks.

    python bench/whatif.py [--dataset reuters] [--calls 40] [--texts 5000]

Uses a temporary cache unless RNNX_CACHE_DIR is set; RNNX_PROFILE=quick keeps training short.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _trigger(prop_id: str) -> None:
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))


def _stats(ms: list[float]) -> dict:
    return {
        "median_ms": round(float(np.median(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "calls": len(ms),
    }


def time_whatif(dataset: str, method: str, base_words: list[str], calls: int) -> dict:
    """The what-if callback on a 100-word text, editing one word per call (first call not counted)."""
    import plotly

    from components.cards import analytics_whatif_card

    rng = np.random.default_rng(0)
    words = (base_words * (100 // max(len(base_words), 1) + 1))[:100]
    times, sizes = [], []
    for i in range(calls + 1):
        words[int(rng.integers(0, 100))] = str(rng.choice(base_words))
        _trigger("analytics-whatif-text.value")
        start = time.perf_counter()
        out = analytics_whatif_card.show_whatif(" ".join(words), None, 0.4, dataset, method, 0, ["jump"], 0.3)
        payload = json.dumps(
            [o for o in out.values() if o is not None], cls=plotly.utils.PlotlyJSONEncoder, default=str
        )
        elapsed = (time.perf_counter() - start) * 1000
        if i:
            times.append(elapsed)
            sizes.append(len(payload))
    return {**_stats(times), "response_bytes": int(np.median(sizes)), "words": 100}


def upload_to_analytics(folder: Path, n_texts: int) -> tuple[dict, str]:
    """Seconds from the user's files to the first drawn analytics views."""
    from components.cards import analytics_overview_card, analytics_projection_card
    from model import prepare
    from tests.support.byo_models import gru_vectorizer_model, sentiment_texts, write_csv

    texts, labels = sentiment_texts(n_texts, seed=3)
    model = gru_vectorizer_model(folder / "gru.keras", texts[:1000], labels[:1000], epochs=3)
    csv_path = write_csv(folder / "reviews.csv", texts, labels)
    start = time.perf_counter()
    summary = prepare.run_prepare_subprocess(
        "upload", "pca", None, None, upload_args=["--model", str(model), "--csv", str(csv_path)]
    )
    prepared = time.perf_counter() - start
    dataset = summary["dataset"]
    analytics_overview_card.show_overview(dataset, "pca", 0)
    analytics_projection_card.draw_projection(
        dataset, "pca", 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep"
    )
    total = time.perf_counter() - start
    return {
        "texts": n_texts,
        "hidden_states": summary["n_hidden_states"],
        "prepare_subprocess_s": round(prepared, 2),
        "to_first_views_s": round(total, 2),
        "stages_s": summary["seconds"],
    }, dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="reuters")
    parser.add_argument("--method", default="pca")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--texts", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("RNNX_CACHE_DIR", tempfile.mkdtemp(prefix="rnnx-bench-"))
    os.environ.setdefault("RNNX_PROFILE", "quick")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if (ROOT.parent / "shared" / "data").exists():
        os.environ.setdefault("RNNX_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    import app  # noqa: F401  (registers the pages)
    from model import prepare

    result: dict = {"cache_dir": os.environ["RNNX_CACHE_DIR"], "profile": prepare.profile()}
    prepare.run_prepare_subprocess(args.dataset, args.method, None, None)
    analysis = prepare.load_analysis(args.dataset)
    vocabulary = sorted({w for words in analysis.words[:50] for w in words})
    result["whatif_builtin"] = {
        "dataset": args.dataset,
        **time_whatif(args.dataset, args.method, vocabulary, args.calls),
    }
    with tempfile.TemporaryDirectory() as folder:
        result["upload"], upload = upload_to_analytics(Path(folder), args.texts)
        from tests.support.byo_models import FILLER, NEGATIVE, POSITIVE

        result["whatif_upload"] = time_whatif(upload, "pca", FILLER + POSITIVE + NEGATIVE, args.calls)
    result["goal_ms"] = 300
    print(json.dumps(result))


if __name__ == "__main__":
    main()
