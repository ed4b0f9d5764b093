"""Two prepared models on the same texts: their disagreements and both hidden spaces in one aligned basis.

``compare(a, b, method)`` takes two dataset ids this request may read (built-in ones, their other cell
type, or this session's uploads), checks that they analysed the same texts, and answers a
:class:`ModelComparison`: the shared texts, the rows where the two predictions differ, and both
projections in one view frame (B's laid onto A's by orthogonal Procrustes on the shared texts' final
states, ``model.compare_models``), so two panels can share their axes. Cached per process, keyed by
the pipeline and the two ids. Nothing here imports Dash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model import compare_models, memo
from model.artifacts import Analysis
from services import analysis as analysis_service
from services import registry, schemas, uploads
from services.validation import Choice, Custom, InvalidInput, ListOf, Number, Schema, Text

MIN_SHARED = 3  # fewer shared texts cannot place one basis onto the other
TABLE_ROWS = 200
SORTS = ("gap", "confidence_a", "confidence_b", "seq")


@dataclass(frozen=True)
class ModelComparison:
    """Two prepared models over the same texts, both projections in one view frame."""

    a: str
    b: str
    method: str  # the projection shown (PCA stands in while ``method``'s is not prepared)
    analysis_a: Analysis
    analysis_b: Analysis
    rows_a: np.ndarray  # (m,) the shared texts' sequences in A
    rows_b: np.ndarray  # (m,) the same texts' sequences in B
    xy_a: np.ndarray  # (n_states_a, 2) A's states in the shared view frame
    xy_b: np.ndarray  # (n_states_b, 2) B's states, aligned onto A, in the same frame
    fit: float  # how well B's final states land on A's (1: perfectly)
    disagree: compare_models.Disagreements

    def other_seq(self, which: str, seq: int) -> int | None:
        """The sequence of the same text in the other model (``which``: "a" or "b"), None if not shared."""
        mine, theirs = (self.rows_a, self.rows_b) if which == "a" else (self.rows_b, self.rows_a)
        found = np.flatnonzero(mine == seq)
        return int(theirs[found[0]]) if len(found) else None

    def pair_of(self, dataset: str, seq: int) -> tuple[int | None, int | None]:
        """(sequence in A, sequence in B) of a selection made on ``dataset`` (either model's id)."""
        if dataset == self.a:
            return seq, self.other_seq("a", seq)
        if dataset == self.b:
            return self.other_seq("b", seq), seq
        return None, None


def label(dataset: str) -> str:
    """How a dataset id reads for the user: its list label (with its cell type), or "your upload …"."""
    for item in uploads.owned_datasets():
        if item["id"] == dataset:
            return f"your upload {item['label']}"
    base, _at, rest = dataset.partition("@")
    if _at:
        size = rest.partition("~")[2]
        return f"{analysis_service.dataset_label(base + ('~' + size if size else ''))} · {cell_name(dataset)}"
    return analysis_service.dataset_label(dataset)


def _load(dataset: str, method: str) -> tuple[Analysis, np.ndarray, str]:
    """(analysis, view xy, method shown); LookupError with a message when it is not readable or ready."""
    if not analysis_service.readable(dataset):
        raise LookupError(f"{dataset} is not available to this session.")
    analysis, _dmax, xy, shown = analysis_service.load_shown(dataset, method)
    if analysis is None or xy is None:
        raise LookupError(
            f"{label(dataset)} is not prepared yet: choose it in the dataset list above to prepare it, "
            "then compare."
        )
    return analysis, np.asarray(xy, dtype=np.float64), shown


def _frame(*clouds: np.ndarray) -> tuple[np.ndarray, float]:
    """One view transform for several clouds (their joint bounding box into [0, 65535])."""
    lo = np.min([c.min(axis=0) for c in clouds if len(c)], axis=0)
    hi = np.max([c.max(axis=0) for c in clouds if len(c)], axis=0)
    span = float((hi - lo).max()) or 1.0
    return lo, analysis_service.VIEW_SPAN / span


def build(a: str, b: str, method: str) -> ModelComparison:
    """Compare two prepared models (uncached; see :func:`compare`)."""
    if a == b:
        raise ValueError("Pick two different models to compare.")
    analysis_a, xy_a, shown_a = _load(a, method)
    analysis_b, xy_b, shown_b = _load(b, method)
    rows_a, rows_b = compare_models.shared_texts(list(analysis_a.texts), list(analysis_b.texts))
    if len(rows_a) < MIN_SHARED:
        raise ValueError(
            f"{label(a)} and {label(b)} were analysed on different texts ({len(rows_a)} in common): "
            "prepare both models on the same CSV to compare them."
        )
    final_a = compare_models.final_rows(analysis_a.offsets)[rows_a]
    final_b = compare_models.final_rows(analysis_b.offsets)[rows_b]
    alignment = compare_models.procrustes(xy_b[final_b], xy_a[final_a])
    aligned_b = alignment.apply(xy_b)
    lo, scale = _frame(xy_a, aligned_b)
    disagree = compare_models.disagreements(
        rows_a,
        rows_b,
        analysis_a.predicted,
        analysis_b.predicted,
        analysis_a.confidence,
        analysis_b.confidence,
        list(analysis_a.class_names),
        list(analysis_b.class_names),
    )
    return ModelComparison(
        a=a,
        b=b,
        method=shown_a if shown_a == shown_b else "pca" if "pca" in (shown_a, shown_b) else shown_a,
        analysis_a=analysis_a,
        analysis_b=analysis_b,
        rows_a=rows_a,
        rows_b=rows_b,
        xy_a=((xy_a - lo) * scale).astype(np.float32),
        xy_b=((aligned_b - lo) * scale).astype(np.float32),
        fit=alignment.fit,
        disagree=disagree,
    )


def compare(a: str, b: str, method: str) -> ModelComparison:
    """Two models over the same texts, aligned; LookupError (not readable or not prepared) or ValueError
    (the same model twice, different texts) with a message for the user."""
    for dataset in (a, b):  # checked on every call: the cache below never decides who may read
        if not analysis_service.readable(dataset):
            raise LookupError(f"{dataset} is not available to this session.")
    key = (registry.current().pipeline, a, b, method)
    found = memo.remember("model-compare", key, lambda: build(a, b, method))
    assert found is not None  # build raises rather than answer None
    return found


def table_rows(comparison: ModelComparison, sort: str = "gap", limit: int = TABLE_ROWS) -> list[dict]:
    """The first ``limit`` disagreements as JSON-safe rows, sorted by ``sort`` (one of ``SORTS``)."""
    d = comparison.disagree
    order = np.arange(len(d))  # already by gap, largest first
    if sort == "confidence_a":
        order = np.argsort(-d.confidence_a, kind="stable")
    elif sort == "confidence_b":
        order = np.argsort(-d.confidence_b, kind="stable")
    elif sort == "seq":
        order = np.argsort(d.row_a, kind="stable")
    names = list(comparison.analysis_a.class_names)
    labels = np.asarray(comparison.analysis_a.labels)
    rows = []
    for i in order[:limit]:
        k = int(d.row_a[i])
        rows.append(
            {
                "seq": k,
                "seq_b": int(d.row_b[i]),
                "text": " ".join(comparison.analysis_a.texts[k].split())[:140],
                "label": names[int(labels[k])] if 0 <= int(labels[k]) < len(names) else "?",
                "predicted_a": d.predicted_a[i],
                "confidence_a": round(float(d.confidence_a[i]), 4),
                "predicted_b": d.predicted_b[i],
                "confidence_b": round(float(d.confidence_b[i]), 4),
                "gap": round(float(d.gap[i]), 4),
            }
        )
    return rows


def trajectory(
    comparison: ModelComparison, which: str, seq: int | None
) -> tuple[np.ndarray, np.ndarray, list]:
    """(view xy, EP, words) of sequence ``seq`` of model ``which`` ("a" or "b"); empty for None."""
    analysis = comparison.analysis_a if which == "a" else comparison.analysis_b
    xy = comparison.xy_a if which == "a" else comparison.xy_b
    if seq is None or not 0 <= seq < analysis.n_sequences:
        return np.zeros((0, 2), np.float32), np.zeros((0, len(analysis.class_names))), []
    rows = analysis.rows(seq)
    return xy[rows], np.asarray(analysis.ep[rows], dtype=np.float32), list(analysis.words[seq])


def model_choices() -> list[dict]:
    """The models this session may compare: the built-in datasets (and their other cell type where
    prepared) and this session's uploads."""
    from model import prepare  # the id grammar only (``imdb~5000`` -> ``imdb@gru~5000``)

    options = []
    for item in analysis_service.dataset_choices():
        options.append(item)
        if analysis_service.upload_datasets.is_upload(item["value"]):
            continue
        other = prepare.variant_id(item["value"], "gru")  # a look in the cache, nothing loaded
        if other != item["value"] and analysis_service.is_prepared(other, "pca"):
            options.append({"label": f"{item['label']} · {cell_name(other)}", "value": other})
    owned = uploads.owned_datasets()
    return options + [{"label": f"Yours: {item['label']}", "value": item["id"]} for item in owned]


def cell_name(dataset: str) -> str:
    """The cell type named by a built-in id's ``@cell`` part, in capitals (LSTM when none)."""
    return (dataset.partition("@")[2].partition("~")[0] or "lstm").upper()


# ---------------------------------------------------------------- the page's values (services.validation)


def _optional_dataset(value: object) -> str | None:
    return None if value in (None, "") else schemas.DATASET_ID.clean(value)


def _pair(value: object) -> dict | None:
    """The compared pair the page keeps: ``{"a", "b", "method"}``; None before a comparison."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"a", "b", "method"}:
        raise InvalidInput("The compared models are malformed: pick them again.")
    return {
        "a": schemas.DATASET_ID.clean(value.get("a")),
        "b": schemas.DATASET_ID.clean(value.get("b")),
        "method": schemas.METHOD.clean(value.get("method")),
    }


def _pick(value: object) -> dict | None:
    """A disagreement row the user clicked: ``{"a", "b", "seq"}`` (seq in A)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"a", "b", "seq"}:
        raise InvalidInput("The picked row is malformed.")
    return {
        "a": schemas.DATASET_ID.clean(value.get("a")),
        "b": schemas.DATASET_ID.clean(value.get("b")),
        "seq": SEQ.clean(value.get("seq")),
    }


MODEL = Custom("Model", _optional_dataset)
PAIR = Custom("Compared models", _pair)
PICK = Custom("Picked row", _pick)
SEQ = Number("Sequence", 0, 10**7, integer=True)
SORT = Choice("Sort", SORTS, default="gap")
TAB = Text("Tab", max_len=40)
ROW_CLICKS = ListOf("Row clicks", Number("Clicks", 0, 10**9, integer=True), max_items=TABLE_ROWS)

LIST_MODELS = Schema(
    "list_models", {"dataset": schemas.DATASET_ID, "baseline": MODEL, "_uploads": schemas.EVENT}
)
SHOW_MODELS = Schema(
    "show_models",
    {
        "baseline": MODEL,
        "other": MODEL,
        "method": schemas.METHOD,
        "tab": TAB,
        "sort": SORT,
        "selection": schemas.SELECTION,
        "seen": schemas.EVENT,
    },
)
PICK_ROW = Schema("pick_row", {"clicks": ROW_CLICKS, "pair": PAIR, "dataset": schemas.DATASET_ID})
DRAW_PICK = Schema("draw_pick", {"pick": PICK, "pair": PAIR})
