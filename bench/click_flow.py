"""One click, every view (issue 20, item 2): requests and time from a click on the projection until every
linked view is drawn, in headless Chromium on gunicorn; JSON.

    python bench/click_flow.py [--dataset imdb~all] [--clicks 12] [--workers 2]

Serves the app with ``gunicorn -w N`` on the prepared cache (``RNNX_CACHE_DIR``), opens the analytics
page, zooms until states are drawn as points and clicks drawn points with the mouse. A wrapper around
``fetch`` records every Dash callback request (which outputs it asked for, when it started and ended).
Per click it reports the server requests made, and the time from the mouse button to the last reply
or the page's last change after it (a DOM mutation or a plotly redraw: the views drawn). A benchmark,
not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import percentile, start_gunicorn, stop  # noqa: E402
from tests.support.browser import make_driver, skip_tour  # noqa: E402

GD = "var gd = document.querySelector('#projection-graph .js-plotly-plot');"

WRAP_JS = """
if (!window.__rnnxRequests) {
  window.__rnnxRequests = [];
  window.__rnnxInFlight = 0;
  var original = window.fetch;
  window.fetch = function (url, options) {
    if (String(url).indexOf('_dash-update-component') < 0) { return original.apply(this, arguments); }
    var entry = {start: performance.now(), end: null, output: ''};
    try { var b = JSON.parse(options.body); entry.output = b.output.slice(0, 6000); entry.changed = b.changedPropIds; } catch (e) {}
    window.__rnnxRequests.push(entry);
    window.__rnnxInFlight += 1;
    return original.apply(this, arguments).then(function (reply) {
      return reply.clone().text().then(function () {
        entry.end = performance.now(); window.__rnnxInFlight -= 1; return reply;
      });
    }, function (error) { entry.end = performance.now(); window.__rnnxInFlight -= 1; throw error; });
  };
  document.addEventListener('mousedown', function () { window.__rnnxClickAt = performance.now(); }, true);
  // the page's last change: every view is drawn once nothing changes any more
  new MutationObserver(function () { window.__rnnxLastChange = performance.now(); })
    .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
    gd.on('plotly_afterplot', function () { window.__rnnxLastChange = performance.now(); });
  });
}
"""

POINTS_JS = (
    GD
    + """var fl = gd._fullLayout, r = gd.getBoundingClientRect(), out = [];
gd._fullData.forEach(function (t) {
  if (!/^states/.test(t.uid)) { return; }
  for (var j = 0; j < (t._length || 0); j += Math.max(1, Math.floor(t._length / 40))) {
    var left = r.left + fl._size.l + fl.xaxis.l2p(t.x[j]), top = r.top + fl._size.t + fl.yaxis.l2p(t.y[j]);
    if (left > r.left + fl._size.l + 20 && left < r.left + fl._size.l + fl._size.w - 20 &&
        top > r.top + fl._size.t + 20 && top < r.top + fl._size.t + fl._size.h - 20) {
      out.push({left: left, top: top});
    }
  }
});
return out;"""
)

SETTLED_JS = """
var after = window.__rnnxRequests.filter(function (e) { return e.start >= window.__rnnxClickAt; });
if (window.__rnnxInFlight > 0 || after.length === 0) { return null; }
var last = Math.max.apply(null, after.map(function (e) { return e.end; }));
if (performance.now() - last < 400) { return null; }  // nothing more follows the last reply
return {requests: after.length, outputs: after.map(function (e) { return e.output; }),
        durations: after.map(function (e) { return (e.end - e.start) / 1000; }),
        server_s: (last - window.__rnnxClickAt) / 1000};
"""

FRAMES_JS = """
var done = arguments[arguments.length - 1], at = window.__rnnxClickAt;
var after = window.__rnnxRequests.filter(function (e) { return e.start >= at; });
var last = Math.max.apply(null, after.map(function (e) { return e.end; }));
requestAnimationFrame(function () { requestAnimationFrame(function () {
  var changed = Math.max(last, window.__rnnxLastChange || 0);
  done({drawn_s: (changed - at) / 1000});
}); });
"""


def until(driver, script: str, timeout: float = 120.0):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        got = driver.execute_script(script)
        if got:
            return got
        time.sleep(0.05)
    raise TimeoutError(script[:80])


def zoom_to_points(driver) -> None:
    """Zoom into the cloud's middle until states are drawn as points."""
    for _ in range(8):
        if driver.execute_script(POINTS_JS):
            return
        driver.execute_script(
            GD
            + """var x = gd._fullLayout.xaxis.range, y = gd._fullLayout.yaxis.range;
            var cx = (x[0] + x[1]) / 2, cy = (y[0] + y[1]) / 2, wx = (x[1] - x[0]) / 4, wy = (y[1] - y[0]) / 4;
            Plotly.relayout(gd, {'xaxis.range': [cx - wx, cx + wx], 'yaxis.range': [cy - wy, cy + wy]});"""
        )
        time.sleep(3)
    raise RuntimeError("no points drawn after zooming in")


def click(driver, point: dict) -> None:
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    for dy in (0, 1):  # a second small move makes plotly hit-test the WebGL points
        action = ActionBuilder(driver)
        action.pointer_action.move_to_location(int(point["left"]), int(point["top"]) + dy)
        action.perform()
    action = ActionBuilder(driver)
    action.pointer_action.click()
    action.perform()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="imdb~all")
    parser.add_argument("--clicks", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "RNNX_WARMUP": "0"}
    proc, base = start_gunicorn(args.workers, env)
    driver = make_driver(1400, 1000)
    try:
        skip_tour(driver, base)
        driver.get(f"{base}/analytics?dataset={args.dataset}")
        until(driver, GD + "return gd && gd._fullLayout && (gd._fullLayout.images || []).length > 0;", 300)
        zoom_to_points(driver)
        driver.execute_script(WRAP_JS)
        time.sleep(2)
        runs = []
        points = driver.execute_script(POINTS_JS)
        for i in range(min(args.clicks, len(points))):
            click(driver, points[(i * 7) % len(points)])
            settled = until(driver, SETTLED_JS, 60)
            frames = driver.execute_async_script(FRAMES_JS)
            runs.append({**settled, **frames})
            time.sleep(0.5)
        drawn = [r["drawn_s"] for r in runs]
        served = [r["server_s"] for r in runs]
        result = {
            "dataset": args.dataset,
            "workers": args.workers,
            "clicks": len(runs),
            "requests_per_click": sorted({r["requests"] for r in runs}),
            "outputs_first_click": [o[:100] for o in runs[0]["outputs"]] if runs else [],
            "request_s_p50": [
                round(statistics.median([r["durations"][i] for r in runs if len(r["durations"]) > i]), 3)
                for i in range(max((len(r["durations"]) for r in runs), default=0))
            ],
            "click_to_last_reply_s": {
                "p50": round(statistics.median(served), 3) if served else None,
                "p95": round(percentile(served, 0.95), 3) if served else None,
            },
            "click_to_drawn_s": {
                "p50": round(statistics.median(drawn), 3) if drawn else None,
                "p95": round(percentile(drawn, 0.95), 3) if drawn else None,
                "max": round(max(drawn), 3) if drawn else None,
            },
        }
        print(json.dumps(result, indent=2))
    finally:
        driver.quit()
        stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
