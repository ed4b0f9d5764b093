"""``rnnx.explore`` in a real, headless Jupyter kernel (``nbclient``): the link it prints serves the page.

A two-cell notebook builds a tiny ONNX classifier and calls ``rnnx.explore(..., mode="external")``;
while the kernel runs, the printed link is opened with a cookie jar and lands on the analytics page
of the notebook's dataset. When the kernel shuts down, the server it started stops with it.
"""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.request

import pytest

from tests.support.servers import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = [pytest.mark.heavy]  # a kernel and the app server: about 30 s on two cores

SETUP = """
import sys
sys.path.insert(0, {root!r})
from tests.support import onnx_models as om
from tests.support.byo_models import FILLER, NEGATIVE, POSITIVE, sentiment_texts
words = FILLER + POSITIVE + NEGATIVE
model = om.build(vocab=len(words) + 2, embed=6, hidden=8, classes=2, seed=5).save({folder!r} + "/nb.onnx")
texts, labels = sentiment_texts(30, seed=6)
"""

EXPLORE = """
import rnnx
result = rnnx.explore(model, texts, labels, vocabulary={w: i + 2 for i, w in enumerate(words)}, mode="external")
print("DATASET", result.dataset)
"""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_explore_in_a_jupyter_kernel_prints_a_link_that_serves(tmp_path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(SETUP.format(root=str(ROOT), folder=str(tmp_path))),
        nbformat.v4.new_code_cell(EXPLORE),
    ]
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        printed = "".join(
            out.get("text", "") for out in notebook.cells[1].outputs if out.get("name") == "stdout"
        )
        url = re.search(r"RNN Explorer: (http://127\.0\.0\.1:\d+/claim/[A-Za-z0-9_-]{43})", printed)
        dataset = re.search(r"DATASET (upload-[0-9a-f]+)", printed)
        assert url and dataset, printed
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(url.group(1), timeout=60) as response:
            assert response.status == 200
            assert response.geturl().endswith(f"/analytics?dataset={dataset.group(1)}")
            assert "RNN Explorer" in response.read().decode()
        assert any(cookie.name == "rnnx_session" for cookie in jar)
        base = url.group(1).split("/claim/")[0]
    # the kernel is gone: so is the server it started
    deadline = time.monotonic() + 30
    while _answers(f"{base}/healthz") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _answers(f"{base}/healthz")
