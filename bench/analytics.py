"""Benchmark of the analytics page; prints one JSON object.

For each prepared dataset (IMDB 1,000 reviews, Reuters 2,300 documents by default):
server time of the select-sequence callback (the callback plus serialising its response,
median and p95 over 50 selections), its response size, the full projection figure's size,
and the first load of the page in headless Chromium with a warm disk cache (navigation
to every figure drawn), for a fresh server process and again once that process is warm.

    RNNX_CACHE_DIR=... RNNX_DATA_DIR=... python bench/analytics.py [--selections 50] [--no-browser]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DRAWN_JS = """
var ok = function (id) { return document.querySelector('#' + id + ' .main-svg'); };
var gd = document.querySelector('#projection-graph .js-plotly-plot');
var states = gd && gd._fullData && gd._fullData[0] ? (gd._fullData[0]._length || 0) : 0;
var words = document.querySelectorAll('#sequence-text .rnnx-word').length;
var table = document.querySelectorAll('#sequence-table .ag-row .ag-cell[col-id="text"]').length;
var cm = document.querySelectorAll('#confusion-matrix .annotation-text').length;
return states > 0 && words > 0 && table > 0 && cm > 0 && ok('ep-heatmap') && ok('distance-graph') && ok('class-bars');
"""


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_selection(dataset: str, method: str, n: int) -> dict | None:
    """Server time and response size of the select-sequence callback, called as Dash would."""
    from plotly.io.json import to_json_plotly

    from components.cards import analytics_projection_card, analytics_sequence_card
    from services import analysis as analysis_service

    analysis, _dmax, xy = analysis_service.load(dataset, method)
    if analysis is None or xy is None:
        return None
    rng = np.random.default_rng(0)
    picks = rng.choice(analysis.n_sequences, size=min(n, analysis.n_sequences), replace=False)
    times, sizes = [], []
    for k in picks:
        start = time.perf_counter()
        out = analytics_sequence_card.show_selection(
            {"dataset": dataset, "seq": int(k), "step": None},
            ["jump"],
            0.4,
            0.3,
            "ep",
            dataset,
            method,
            "none",
            False,
        )
        body = to_json_plotly({"multi": True, "response": list(out.values())})
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(body.encode()))
    t0 = time.perf_counter()
    full = analytics_projection_card.draw_projection(
        dataset, method, 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep"
    )
    full_bytes = len(to_json_plotly(full).encode())
    return {
        "n_sequences": analysis.n_sequences,
        "n_hidden_states": analysis.n_states,
        "select_ms_median": round(statistics.median(times), 2),
        "select_ms_p95": round(_percentile(times, 95), 2),
        "select_response_bytes_median": int(statistics.median(sizes)),
        "select_response_bytes_max": int(max(sizes)),
        "projection_figure_bytes": full_bytes,
        "projection_figure_ms": round((time.perf_counter() - t0) * 1000, 1),
    }


def _timed_load(driver, url: str, timeout: float) -> float | None:
    start = time.perf_counter()
    driver.get(url)
    deadline = start + timeout
    while time.perf_counter() < deadline:
        if driver.execute_script(DRAWN_JS):
            return round(time.perf_counter() - start, 2)
        time.sleep(0.05)
    return None


def _page_load(url: str, timeout: float = 60.0, revisit: bool = False) -> float | None:
    """Seconds until every figure is drawn in a new browser (``revisit``: its second visit)."""
    from tests.support.browser import make_driver

    driver = make_driver(1500, 1200)
    try:
        origin = "/".join(url.split("/")[:3])
        driver.get(f"{origin}/healthz")
        driver.execute_script("localStorage.setItem('rnnx-tour-done-analytics', '1');")
        first = _timed_load(driver, url, timeout)
        return _timed_load(driver, url, timeout) if revisit else first
    finally:
        driver.quit()


def _median(values: list[float | None]) -> float | None:
    done = [v for v in values if v is not None]
    return round(statistics.median(done), 2) if done else None


def bench_page_loads(
    datasets: list[str], method: str, env_extra: dict | None = None, repeats: int = 3
) -> dict:
    """Page loads (selection in the URL): the first on a fresh server process, then the median of
    ``repeats`` on the warm process with a new browser (empty browser cache) and with a browser
    that has been here before (scripts cached)."""
    from tests.support.servers import free_port, start_server, stop_server

    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", **(env_extra or {})}
    # A stand-in pipeline is passed to app.create_app by the test launcher (tests/support/serve.py).
    command = ["-m", "tests.support.serve"] if env.get("RNNX_TEST_PIPELINE") else ["app.py"]
    proc = start_server([sys.executable, *command], env, port)
    out: dict = {}
    try:
        for dataset in datasets:
            url = f"http://127.0.0.1:{port}/analytics?dataset={dataset}&method={method}&seq=1"
            out[dataset] = {
                "fresh_process_s": _page_load(url),
                "new_browser_s": _median([_page_load(url) for _ in range(repeats)]),
                "returning_browser_s": _median([_page_load(url, revisit=True) for _ in range(repeats)]),
            }
    finally:
        stop_server(proc)
    return out


def bench_sizes(datasets: list[str], method: str, sizes: list[int]) -> dict:
    """Page loads of the first N sequences (``bench.subset_prepare``): where the load goal stops holding."""
    from bench.subset_prepare import subset
    from model import prepare

    out: dict = {}
    for dataset in datasets:
        full = prepare.load_analysis(dataset)
        rows = []
        for n in sizes:
            env = {"RNNX_TEST_PIPELINE": "bench.subset_prepare", "RNNX_BENCH_SEQUENCES": str(n)}
            timing = bench_page_loads([dataset], method, env)[dataset]
            rows.append({"n_sequences": n, "n_hidden_states": subset(full, n).n_states, **timing})
        out[dataset] = rows
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--selections", type=int, default=50)
    parser.add_argument("--method", default="pca")
    parser.add_argument("--datasets", default="imdb,reuters")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--sizes",
        default="",
        help="comma-separated sequence counts: page loads of the first N sequences of each dataset",
    )
    args = parser.parse_args()

    import dash

    dash.Dash(__name__, use_pages=True, pages_folder="")  # lets the page module register itself
    datasets = args.datasets.split(",")
    result: dict = {"method": args.method, "cache_dir": os.environ.get("RNNX_CACHE_DIR"), "datasets": {}}
    for dataset in datasets:
        result["datasets"][dataset] = bench_selection(dataset, args.method, args.selections)
    ready = [d for d in datasets if result["datasets"][d]]
    if not args.no_browser and ready:
        loads = bench_page_loads(ready, args.method)
        for dataset, timing in loads.items():
            result["datasets"][dataset]["page_load"] = timing
    if args.sizes and ready:
        result["page_load_by_size"] = bench_sizes(ready, args.method, [int(n) for n in args.sizes.split(",")])
    result["goals"] = {"select_ms_p95": 100, "select_response_bytes": 100_000, "page_load_s": 3}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
