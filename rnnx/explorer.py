"""``rnnx.explore``: prepare a model on texts in this process and show the analytics page for it.

The preparation is the page's own (``model.prepare.prepare_upload``, tqdm bars on stderr): the
model file (a path, or a Keras model object saved first), the texts and labels written as a CSV
and the vocabulary go through the same checks and the same cache as an upload, so exploring the
same model on the same texts again is a cache hit. The page shows an upload only to the browser
session that owns it; the notebook has no browser session, so it issues a one-time claim link
(``services.claims``): the first browser that opens it gets the upload as its own and lands on
``/analytics?dataset=<id>``. The link carries a random token, never a path.

The app runs in a child process of this one (:mod:`rnnx.server`), started on the first call and
reused by later ones. ``mode="inline"`` shows the page in the notebook (an IFrame of the link;
the notebook must be opened at the same host name, 127.0.0.1, for the browser to keep the page's
session cookie inside the frame, else open the printed link); ``mode="external"`` prints the link.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODES = ("inline", "external")
MAX_HEIGHT = 4000


@dataclass
class Exploration:
    """What :func:`explore` returns: the link to open (``url``) and the page's dataset id (``dataset``)."""

    url: str
    dataset: str
    summary: dict = field(default_factory=dict)  # the preparation's summary (as ``rnnx prepare --json``)
    seconds: float = 0.0  # from the call to the link being ready

    def _repr_html_(self) -> str:
        from html import escape

        return f'<a href="{escape(self.url)}" target="_blank">RNN Explorer: {escape(self.dataset)}</a>'


def _model_file(model: Any, folder: Path) -> Path:
    """A file holding ``model``: its own path, or a Keras model object saved into ``folder``."""
    from model import byo
    from rnnx.adapter import is_adapter

    if isinstance(model, str | Path):
        return byo.check_file(model, "model file")
    if is_adapter(model):
        raise byo.InputError(
            "rnnx.explore needs a model the server can load again (a .keras or .onnx file, or a Keras "
            "model); for an adapter, use rnnx.analyse, or export the model to ONNX."
        )
    if hasattr(model, "layers") and hasattr(model, "save"):
        path = folder / f"{(getattr(model, 'name', '') or 'model')[:40]}.keras"
        model.save(path)
        return path
    raise byo.InputError(
        f"Cannot explore a {type(model).__name__}: give a Keras model or a path to a .keras or .onnx file."
    )


def _vocabulary_file(vocabulary: Any, folder: Path) -> Path | None:
    if vocabulary is None or isinstance(vocabulary, str | Path):
        return vocabulary and Path(vocabulary)
    if isinstance(vocabulary, dict):
        path = folder / "vocabulary.json"
        path.write_text(json.dumps({str(k): int(v) for k, v in vocabulary.items()}), encoding="utf-8")
        return path
    from model import byo

    raise byo.InputError("Give the vocabulary as a path or a dict word → id.")


def _csv_file(texts: list[str], label_ids, folder: Path) -> Path:
    """The texts and their integer labels as the CSV the preparation reads (columns text, label)."""
    import csv

    path = folder / "texts.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, (int(i) for i in label_ids), strict=True))
    return path


def _show(url: str, mode: str, height: int) -> None:
    """Print the link; in a Jupyter kernel with ``mode="inline"``, show the page in an IFrame too."""
    print(f"RNN Explorer: {url}", flush=True)
    if mode != "inline":
        return
    try:
        from IPython import get_ipython
        from IPython.display import IFrame, display
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        display(IFrame(url, width="100%", height=height))


def explore(
    model: Any,
    texts,
    labels=None,
    *,
    class_names: list[str] | None = None,
    layer: str | None = None,
    vocabulary: str | Path | dict | None = None,
    mode: str = "inline",
    text_column: str | None = None,
    label_column: str | None = None,
    projection_method: str = "pca",
    host: str | None = None,
    port: int | None = None,
    height: int = 900,
) -> Exploration:
    """Prepare ``model`` on ``texts`` (as the page prepares an upload) and show the analytics page.

    ``labels``: class names or integer ids (``class_names`` gives their order); with ``labels`` left
    out, ``texts`` is a table (a path to a CSV, JSON Lines or Parquet file, or a DataFrame) whose
    columns are guessed unless named. ``layer``: the recurrent layer to read (default the last);
    ``vocabulary``: a path or a dict word → id, for a model taking token ids. ``mode``: "inline"
    (in the notebook, and the link printed) or "external" (the link printed). ``host``/``port``:
    where the app listens (default 127.0.0.1 and a free port; a server this process started is
    reused). Returns the link (``.url``, valid once per browser: ``RNNX_CLAIM_TTL_H``) and the
    page's dataset id (``.dataset``).
    """
    from model import byo, prepare
    from rnnx import api, server
    from services import claims

    start = time.perf_counter()
    if mode not in MODES:
        raise byo.InputError(f"mode is one of {', '.join(MODES)}, not {mode!r}.")
    if not (isinstance(height, int) and 100 <= height <= MAX_HEIGHT):
        raise byo.InputError(f"height is a whole number of pixels from 100 to {MAX_HEIGHT}.")
    if port is not None and not (isinstance(port, int) and 1 <= port <= 65535):
        raise byo.InputError("port is a whole number from 1 to 65535.")
    if labels is None:
        texts, labels, class_names = api.table(texts, text_column, label_column, class_names)
    texts, labels = api._texts(texts, labels)
    label_ids, names = byo.encode_labels(labels, list(class_names) if class_names else None)
    starting = server.ensure(host, port, wait=False)  # the app starts while the model is prepared
    with tempfile.TemporaryDirectory(prefix="rnnx-explore-") as scratch:
        folder = Path(scratch)
        model_path = _model_file(model, folder)
        summary = prepare.prepare_upload(
            model_path,
            _csv_file(texts, label_ids, folder),
            "text",
            "label",
            _vocabulary_file(vocabulary, folder),
            names,
            layer,
            projection_method,
            session="cli",  # the user's own files on their own machine (ONNX external data allowed)
            bars=True,
        )
    dataset = str(summary["dataset"])
    running = server.ready(starting)
    label = f"{model_path.name} on {len(texts):,} texts (rnnx.explore)"
    token = claims.issue(dataset, label)
    url = f"{running.base}/claim/{token}"
    seconds = time.perf_counter() - start
    sys.stderr.flush()
    _show(url, mode, height)
    return Exploration(url=url, dataset=dataset, summary=summary, seconds=seconds)
