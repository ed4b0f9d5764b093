"""Time from ``rnnx.explore`` to the page, and the memory it takes; prints one JSON object.

An ONNX LSTM (``--units`` 128, embedding 64, built with ``onnx.helper``) on a CSV of ``--texts``
(5,000) review-like texts of 20 to 80 words, in a fresh cache. Measured: ``rnnx.explore`` (prepare
with an empty cache, start the app server, issue the link), then opening the link with a cookie jar
until the analytics page answers (the claim, its redirect, the page); peak memory of this process
(as a notebook's kernel) and of the app server it started, sampled every 0.1 s. A second call on
the same data (a cache hit, the server reused) is timed too.

    python bench/explore.py [--texts 5000] [--units 128]
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _texts(n: int) -> tuple[list[str], list[str]]:
    from tests.support.byo_models import sentiment_texts

    short, labels = sentiment_texts(n * 6, seed=1)
    texts = [" ".join(short[i * 6 + j] for j in range(2 + i % 5) if short[i * 6 + j]) for i in range(n)]
    return texts, [labels[i * 6 + i % 2] for i in range(n)]


class Peak(threading.Thread):
    """The largest RSS of this process and of its children, sampled every 0.1 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        import psutil

        self.me, self.own, self.children, self.done = psutil.Process(), 0, 0, False

    def run(self) -> None:
        import psutil

        while not self.done:
            self.own = max(self.own, self.me.memory_info().rss)
            total = 0
            for child in self.me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.children = max(self.children, total)
            time.sleep(0.1)


def _open(url: str) -> float:
    start = time.perf_counter()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url, timeout=120) as response:
        assert response.status == 200 and "/analytics?dataset=" in response.geturl()
        response.read()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--units", type=int, default=128)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rnnx-bench-explore-"))
    os.environ.setdefault("RNNX_CACHE_DIR", str(folder / "cache"))
    from tests.support import onnx_models as om
    from tests.support.byo_models import FILLER, NEGATIVE, POSITIVE, write_csv

    words = FILLER + POSITIVE + NEGATIVE
    model = om.build(vocab=len(words) + 2, embed=64, hidden=args.units, classes=2, seed=0)
    model_path = model.save(folder / "lstm.onnx")
    texts, labels = _texts(args.texts)
    csv_path = write_csv(folder / "reviews.csv", texts, labels)
    vocabulary = om.write_vocabulary(folder / "vocab.txt", words)
    peak = Peak()
    peak.start()
    import rnnx
    from rnnx import server

    try:
        start = time.perf_counter()
        first = rnnx.explore(model_path, csv_path, vocabulary=vocabulary, mode="external")
        to_link = time.perf_counter() - start
        page = _open(first.url)
        to_page = time.perf_counter() - start
        start = time.perf_counter()
        again = rnnx.explore(model_path, csv_path, vocabulary=vocabulary, mode="external")
        _open(again.url)
        warm = time.perf_counter() - start
    finally:
        peak.done = True
        peak.join()
        server.stop_all()
    summary = first.summary
    print(
        json.dumps(
            {
                "texts": args.texts,
                "units": args.units,
                "hidden_states": summary.get("n_hidden_states"),
                "csv_mb": round(csv_path.stat().st_size / 2**20, 2),
                "explore_to_link_s": round(to_link, 2),
                "open_link_to_page_s": round(page, 2),
                "explore_to_page_s": round(to_page, 2),
                "prepare_stages_s": summary.get("seconds"),
                "second_call_to_page_s": round(warm, 2),
                "second_cached": again.summary.get("cached"),
                "peak_rss_notebook_mb": round(peak.own / 2**20),
                "peak_rss_server_mb": round(peak.children / 2**20),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
