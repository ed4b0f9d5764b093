"""The partial Plotly build the app serves (assets/vendor/plotly-rnnx.min.js, tools/plotly-bundle/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.servers import ROOT

BUNDLE = ROOT / "assets" / "vendor" / "plotly-rnnx.min.js"


def _version(text: str) -> str:
    found = re.search(r"plotly\.js v([0-9][0-9.]*)", text[:400])
    assert found, "no plotly.js version in the file header"
    return found.group(1)


def _trace_types_in_code() -> set[str]:
    """Trace types the app's figure code draws (plotly.graph_objects classes and dict traces)."""
    names = {"Scatter": "scatter", "Scattergl": "scattergl", "Bar": "bar", "Heatmap": "heatmap"}
    found: set[str] = set()
    for folder in ("components", "pages"):
        for path in (ROOT / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            for cls in re.findall(r"\bgo\.([A-Z][a-z0-9]+)\(", text):
                if cls not in ("Figure", "Layout"):
                    found.add(names.get(cls, cls.lower()))
            found |= set(
                re.findall(r"\"type\": \"(scatter|scattergl|bar|heatmap|[a-z]+(?:gl|map|3d))\"", text)
            )
    return found


def test_bundle_matches_the_plotly_version_of_the_python_package() -> None:
    import plotly

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert _version(BUNDLE.read_text(encoding="utf-8")) == _version(full.read_text(encoding="utf-8")), (
        "run tools/plotly-bundle/build.sh after upgrading plotly"
    )


@pytest.mark.heavy
@pytest.mark.browser
def test_pages_use_the_partial_bundle_and_it_has_every_trace_type_the_app_draws(app_server, browser) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(app_server + "/trainer")
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script("return !!document.querySelector('.js-plotly-plot')")
    )
    registered = set(browser.execute_script("return Object.keys(Plotly.PlotSchema.get().traces)"))
    assert _trace_types_in_code() <= registered
    assert {"scatter", "scattergl", "bar", "heatmap"} <= registered and len(registered) < 10
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
    )
    assert any("plotly-rnnx.min.js" in name for name in fetched)
    assert not any(name.split("?")[0].endswith("/plotly.min.js") for name in fetched)
