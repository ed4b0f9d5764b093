"""The whole test split in the browser (issue 12): page load, zoom, selection, lasso, worker memory; JSON.

    python bench/scale_browser.py [--datasets imdb~all reuters] [--workers 2] [--loads 3] [--selects 40]

Serves the app with ``gunicorn -w N`` on the prepared cache (``RNNX_CACHE_DIR``; prepare first:
``python -m model.prepare --dataset imdb --sequences all``) and, per dataset, measures in headless
Chromium (Debian's ``/usr/bin/chromium``):

- ``page_load_s``: from navigating to ``/analytics?dataset=…`` until every figure is drawn (the
  projection's density image or points, the class bars, the confusion matrix and the table's rows);
  the first load of each worker warms its caches and is reported apart (``first_load_s``);
- ``zoom_s``: from ``Plotly.relayout`` into a region holding fewer states than the point budget until
  those states are drawn as points;
- ``lasso_s``: from a lasso outline around the cloud's middle until the table is filtered;
- ``select``: selecting a random sequence over HTTP (the callback the browser fires), p50/p95 and the
  reply's size;
- ``worker_memory``: each worker's resident memory after both datasets were shown.

A benchmark, not a test: numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import DashClient, analytics_select, start_gunicorn, stop, worker_memory  # noqa: E402
from tests.support.browser import make_driver  # noqa: E402

DRAWN_JS = """
const graph = id => document.querySelector('#' + id + ' .js-plotly-plot');
const points = gd => (gd && gd._fullData) ? gd._fullData.reduce((n, t) => n + (t._length || 0), 0) : 0;
const traces = gd => (gd && gd._fullData) ? gd._fullData.length : 0;
const proj = graph('projection-graph');
const images = proj && proj._fullLayout && proj._fullLayout.images ? proj._fullLayout.images.length : 0;
return {
  projection: !!proj && (images > 0 || points(proj) > 100),
  images: images,
  points: points(proj),
  bars: traces(graph('class-bars')) > 0,
  confusion: traces(graph('confusion-matrix')) > 0,
  rows: document.querySelectorAll('#sequence-table .ag-row .ag-cell').length,
  label: (document.getElementById('analytics-filter-label') || {}).textContent || '',
  warmed: !!(proj && proj.__rnnxPointsWarm),
};
"""


def until(browser, condition, timeout: float = 120.0, poll: float = 0.02) -> tuple[float, dict]:
    """Seconds until ``condition(state)`` holds for the page's drawn state, and that state."""
    start = time.perf_counter()
    while True:
        state = browser.execute_script(DRAWN_JS)
        if condition(state):
            return time.perf_counter() - start, state
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"page not drawn within {timeout} s: {state}")
        time.sleep(poll)


def all_drawn(state: dict) -> bool:
    return state["projection"] and state["bars"] and state["confusion"] and state["rows"] > 0


def page_load(browser, base: str, dataset: str) -> float:
    browser.get("about:blank")
    start = time.perf_counter()
    browser.get(f"{base}/analytics?dataset={dataset}")
    until(browser, all_drawn)
    return time.perf_counter() - start


def zoom(browser) -> dict:
    """Zoom into a tenth of each axis around the cloud's middle; seconds until its points are drawn."""
    state = browser.execute_script(DRAWN_JS)
    if not state["images"]:
        return {
            "zoom_s": None,
            "points_drawn": state["points"],
            "note": "within the budget: all points drawn",
        }
    before = state["points"]
    # As a user would: the page has been on screen a moment, so assets/lod.js has compiled the
    # WebGL point shaders in the background (the first zoom otherwise pays about a second for it).
    until(browser, lambda s: s["warmed"], timeout=15)
    browser.execute_script(
        """const gd = document.querySelector('#projection-graph .js-plotly-plot');
        const [x0, x1] = gd._fullLayout.xaxis.range, [y0, y1] = gd._fullLayout.yaxis.range;
        const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, w = (x1 - x0) / 20, h = (y1 - y0) / 20;
        Plotly.relayout(gd, {'xaxis.range': [cx - w, cx + w], 'yaxis.range': [cy - h, cy + h]});"""
    )
    seconds, state = until(browser, lambda s: s["points"] > before + 50, timeout=30)
    return {"zoom_s": round(seconds, 3), "points_drawn": state["points"]}


def lasso(browser) -> float:
    """A lasso outline (a hexagon around the middle of the view) sent as the page's lasso store."""
    browser.execute_script(
        """const gd = document.querySelector('#projection-graph .js-plotly-plot');
        Plotly.relayout(gd, {'xaxis.autorange': true, 'yaxis.autorange': true});"""
    )
    time.sleep(1.0)
    before = browser.execute_script(DRAWN_JS)["label"]
    browser.execute_script(
        """const gd = document.querySelector('#projection-graph .js-plotly-plot');
        const [x0, x1] = gd._fullLayout.xaxis.range, [y0, y1] = gd._fullLayout.yaxis.range;
        const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, r = (x1 - x0) / 6;
        const xs = [], ys = [];
        for (let i = 0; i < 64; i++) { xs.push(cx + r * Math.cos(i / 32 * Math.PI)); ys.push(cy + r * Math.sin(i / 32 * Math.PI)); }
        window.dash_clientside.set_props('analytics-lasso', {data: {lasso: {x: xs, y: ys}}});"""
    )
    seconds, _state = until(browser, lambda s: s["label"] != before and "lasso" in s["label"], timeout=60)
    return round(seconds, 3)


def selections(base: str, dataset: str, n_sequences: int, count: int) -> dict:
    client = DashClient(base)
    rng = random.Random(0)
    times, sizes = [], []
    analytics_select(client, dataset, 0)  # the first reads the arrays
    for _ in range(count):
        start = time.perf_counter()
        status, reply = analytics_select(client, dataset, rng.randrange(n_sequences))
        times.append(time.perf_counter() - start)
        sizes.append(len(json.dumps(reply)) if status == 200 else 0)
    times.sort()
    return {
        "p50_ms": round(1000 * statistics.median(times), 1),
        "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 1),
        "max_reply_kb": round(max(sizes) / 1024, 1),
        "median_reply_kb": round(statistics.median(sizes) / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["imdb~all", "reuters"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--selects", type=int, default=40)
    parser.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="seconds between start and the first load (workers warm up)",
    )
    args = parser.parse_args()
    env = {**os.environ, "RNNX_WARMUP": "0", "RNNX_AUTO_PREPARE": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    from model import prepare

    report: dict = {"cpus": os.cpu_count(), "workers": args.workers, "datasets": {}}
    proc, base = start_gunicorn(args.workers, env)
    time.sleep(args.settle)  # as on a server that has been up a moment: each worker has read the defaults
    browser = make_driver()
    try:
        for dataset in args.datasets:
            analysis = prepare.load_analysis(dataset)
            if analysis is None:
                report["datasets"][dataset] = {"error": "not prepared"}
                continue
            entry: dict = {"sequences": analysis.n_sequences, "states": analysis.n_states}
            entry["first_load_s"] = [round(page_load(browser, base, dataset), 3) for _ in range(args.workers)]
            loads = [page_load(browser, base, dataset) for _ in range(args.loads)]
            entry["page_load_s"] = {"median": round(statistics.median(loads), 3), "max": round(max(loads), 3)}
            entry.update(zoom(browser))
            entry["lasso_s"] = lasso(browser)
            entry["select"] = selections(base, dataset, analysis.n_sequences, args.selects)
            report["datasets"][dataset] = entry
        memory = worker_memory(proc.pid)
        report["worker_memory"] = memory
        report["max_worker_rss_mib"] = max((m["rss_mib"] for m in memory), default=None)
    finally:
        browser.quit()
        stop(proc)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
