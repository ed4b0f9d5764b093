"""Analytics data access: the prepared analyses and projections, cached per process in front of the disk cache.

The data pipeline is the module the app was built with (``services.registry``: ``model.prepare``,
or a stand-in that tests and benchmarks pass to ``app.create_app``). Nothing here imports Dash,
components or pages.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from model import memo
from model.artifacts import Analysis
from services import datasets as upload_datasets
from services import identity, registry, uploads

VIEW_SPAN = 65535.0  # projection coordinates are sent as uint16 (the axes carry no meaning)


# ---------------------------------------------------------------- view coordinates (pure numpy)


def view_transform(xy: np.ndarray) -> tuple[np.ndarray, float]:
    """(offset, scale) mapping a projection into view coordinates (one factor keeps the aspect)."""
    xy = np.asarray(xy, dtype=np.float64)
    if len(xy) == 0:
        return np.zeros(2), 1.0
    lo = xy.min(axis=0)
    span = float((xy.max(axis=0) - lo).max()) or 1.0
    return lo, VIEW_SPAN / span


def to_view_coordinates(xy: np.ndarray, transform: tuple[np.ndarray, float] | None = None) -> np.ndarray:
    """Shift and scale into [0, 65535] for compact uint16 transfer (new points: pass the set's transform)."""
    xy = np.asarray(xy, dtype=np.float64)
    if len(xy) == 0:
        return xy.astype(np.float32)
    lo, scale = transform if transform is not None else view_transform(xy)
    return ((xy - lo) * scale).astype(np.float32)


def max_distance(analysis: Analysis) -> float:
    """The largest jump in the analysis set (distances are shown divided by it)."""
    return float(np.max(analysis.distance, initial=0.0)) or 1.0


# ---------------------------------------------------------------- the pipeline module


def prepare_module() -> ModuleType:
    """The data pipeline module the app was built with (``services.registry``)."""
    return registry.current().pipeline_module()


def catalogue() -> dict:
    """The built-in datasets: id -> facts (at least ``label``)."""
    return prepare_module().DATASETS


def dataset_choices() -> list[dict]:
    """The dataset list's built-in entries: every dataset at every size it offers."""
    return upload_datasets.choices(catalogue())


def dataset_label(dataset: str) -> str:
    """How a built-in dataset id reads in the dataset list (the id itself when unknown)."""
    return upload_datasets.label_of(dataset, catalogue())


def methods() -> tuple[str, ...]:
    """The projection methods the pipeline offers."""
    return tuple(prepare_module().PROJECTIONS)


def upload_limit_mb() -> float:
    """The largest accepted upload, in MiB."""
    from model import byo

    return byo.upload_limit_bytes() / 2**20


# ---------------------------------------------------------------- cached loaders


class NotReady(LookupError):
    """The artefact is not prepared yet (never remembered: a later call looks again)."""


def _pipeline_key(*parts: object) -> tuple:
    """A per-process cache key: the pipeline the app was built with, then ``parts``."""
    return (registry.current().pipeline, *parts)


def load_analysis(dataset: str, n_sequences: int | None) -> tuple[Analysis, float]:
    """(analysis, largest jump) of a prepared dataset; NotReady if it is not prepared."""

    def read() -> tuple[Analysis, float] | None:
        analysis = prepare_module().load_analysis(dataset, n_sequences)
        return None if analysis is None else (analysis, max_distance(analysis))

    found = memo.remember("analysis", _pipeline_key(dataset, n_sequences), read)
    if found is None:
        raise NotReady(dataset)
    return found


def load_projection(dataset: str, method: str, n_sequences: int | None) -> np.ndarray:
    """The projection in view coordinates; NotReady if it is not computed."""

    def read() -> np.ndarray | None:
        xy = prepare_module().load_projection(dataset, method, n_sequences)
        return None if xy is None else to_view_coordinates(xy)

    found = memo.remember("projection", _pipeline_key(dataset, method, n_sequences), read)
    if found is None:
        raise NotReady(f"{dataset}/{method}")
    return found


def projection_transform(dataset: str, method: str) -> tuple[np.ndarray, float]:
    """How the page maps this projection into view coordinates (new points use the same map)."""

    def read() -> tuple[np.ndarray, float] | None:
        raw = prepare_module().load_projection(dataset, method, None)
        return None if raw is None else view_transform(raw)

    found = memo.remember("view-transform", _pipeline_key(dataset, method), read)
    if found is None:
        raise LookupError(f"The {method} projection of {dataset} is not computed yet.")
    return found


def representative(dataset: str | None) -> int | None:
    """The sequence the page opens ``dataset`` with (``model.representative``), None while it is not
    prepared; chosen once per process."""
    analysis, _dmax, _xy = load(dataset, None)
    if analysis is None:
        return None
    from model.representative import representative_sequence

    found = memo.remember(
        "representative", _pipeline_key(dataset), lambda: (representative_sequence(analysis),)
    )
    return found[0] if found else None


def clear_caches() -> None:
    """Forget this process's cached artefacts (tests swap the pipeline)."""
    memo.forget()


def readable(dataset: str | None) -> bool:
    """Whether this request may read ``dataset``: a built-in one, or an upload this session owns."""
    return bool(dataset) and not (upload_datasets.is_upload(dataset) and not uploads.owns(dataset))


def load(dataset: str | None, method: str | None) -> tuple[Analysis | None, float, np.ndarray | None]:
    """(analysis, largest jump, projection); None where not prepared yet or not this session's upload."""
    if not readable(dataset):
        return None, 1.0, None
    try:
        analysis, dmax = load_analysis(dataset, None)
    except NotReady:
        return None, 1.0, None
    try:
        xy = load_projection(dataset, method or "pca", None)
    except NotReady:
        xy = None
    return analysis, dmax, xy


def load_shown(
    dataset: str | None, method: str | None
) -> tuple[Analysis | None, float, np.ndarray | None, str]:
    """``load`` with PCA standing in while ``method``'s projection is not prepared; the method shown last."""
    method = method or "pca"
    analysis, dmax, xy = load(dataset, method)
    if analysis is not None and xy is None and method != "pca":
        _analysis, _dmax, pca = load(dataset, "pca")
        if pca is not None:
            return analysis, dmax, pca, "pca"
    return analysis, dmax, xy, method


def text_view(dataset: str, method: str, text: str) -> tuple[Any, np.ndarray]:
    """(TextStates, view xy) of a typed text; LookupError or byo.InputError with a message."""
    from model import whatif

    states = whatif.analyse_text(dataset, text, method)
    return states, to_view_coordinates(states.points, projection_transform(dataset, method))


# ---------------------------------------------------------------- the pipeline's other answers


def states(dataset: str) -> dict | None:
    """``{"hidden", "cell"}`` per-state arrays of a prepared analysis (None if not prepared or not owned)."""
    if not readable(dataset):
        return None
    prepare = prepare_module()
    return prepare.load_states(dataset)


def is_prepared(dataset: str, method: str) -> bool:
    """Whether ``dataset``'s analysis and its ``method`` projection are both ready."""
    prepare = prepare_module()
    return bool(prepare.is_prepared(dataset, method))


def prepare_error() -> type[Exception]:
    """The pipeline's error type for a failed preparation (its message is meant for the user)."""
    return prepare_module().PrepareError


def run_preparation(dataset: str, method: str, on_progress, n_sequences: int | None = None, **kwargs) -> dict:
    """Prepare ``dataset`` with ``method`` in a subprocess, reporting (fraction, label) to ``on_progress``.

    When the server's warm-up is preparing this very analysis (or will, after the one it is on), the
    job follows the warm-up's progress instead of starting a second preparation beside it."""
    if n_sequences is None and not kwargs:
        followed = follow_warmup(dataset, method, on_progress)
        if followed is not None:
            return followed
    return _queued_preparation(dataset, method, on_progress, n_sequences, **kwargs)


def _job_owner() -> str:
    """Who a job belongs to in the queue: the session, or ``"anonymous"`` outside any."""
    try:
        return identity.current_session()
    except identity.SessionError:
        return "anonymous"


def _queued_preparation(dataset: str, method: str, on_progress, n_sequences: int | None, **kwargs) -> dict:
    """The preparation as one of the server's bounded heavy jobs (``serving.jobqueue``).

    A request for an analysis already being built joins that build (its progress is shown) and then
    reads the result from the cache; an upload's build is keyed by its session and files."""
    from serving import jobqueue

    prepare = prepare_module()
    owner = _job_owner()
    extra = kwargs.get("upload_args")
    key = f"prepare|{dataset}|{method}|{n_sequences}" + (
        f"|{jobqueue.owner_tag(owner)}|{extra}" if extra else ""
    )

    def joined(fraction: float, stage: str) -> None:
        on_progress(fraction, f"{stage or 'starting'} (joined the same preparation started earlier)")

    def waiting(place: int, estimate: float | None) -> None:
        on_progress(0.0, jobqueue.waiting_label(place, estimate))

    def running(fraction: float, stage: str) -> None:
        jobqueue.publish(key, fraction, stage)
        on_progress(fraction, stage)

    try:
        with jobqueue.building(key, joined) as waited:
            if waited and not extra and is_prepared(dataset, method):  # built by the one we joined
                return prepare.run_prepare_subprocess(dataset, method, n_sequences, on_progress, **kwargs)
            with jobqueue.slot(owner, "prepare", waiting):
                return prepare.run_prepare_subprocess(dataset, method, n_sequences, running, **kwargs)
    except jobqueue.QueueRefused as error:
        raise prepare.PrepareError(str(error)) from None


def follow_warmup(dataset: str, method: str, on_progress, poll_seconds: float = 0.5) -> dict | None:
    """Wait for the warm-up to prepare ``dataset`` with ``method`` (one of its steps: a default set's
    PCA, or its UMAP after that), reporting its progress.

    A summary like the pipeline's once it is ready; None at once when the warm-up is not running or
    not preparing exactly this, and None when it stops without it (the caller then prepares it)."""
    import time

    from serving import warmup

    if upload_datasets.parse(dataset).is_upload:
        return None
    step = warmup.step_name(dataset, method)
    while True:
        state = warmup.status() or {}
        finished = (state.get("done") or {}).get(step)
        if finished is not None:
            if not (finished.get("ok") and is_prepared(dataset, method)):
                return None
            return {  # the counts of the warm-up's own summary: nothing is read into this job
                "n_sequences": finished.get("n_sequences"),
                "n_hidden_states": finished.get("n_hidden_states"),
                "seconds": {"total": float(finished.get("seconds") or 0.0)},
                "followed_warmup": True,
            }
        if not state.get("running") or step not in (state.get("datasets") or []):
            return None
        current = state.get("current")
        if current == step:
            on_progress(
                float(state.get("fraction") or 0.0), f"{state.get('stage') or 'Starting'} (server warm-up)"
            )
        else:
            doing = _warmup_step_label(current) if current else "its current step"
            on_progress(0.0, f"Waiting for the server's warm-up to finish {doing}")
        time.sleep(poll_seconds)


def _warmup_step_label(step: str) -> str:
    """How a warm-up step reads: ``imdb``, ``imdb (UMAP)``."""
    from model.projection import LABELS
    from serving import warmup

    dataset, method = warmup.split_step(step)
    return dataset if method == "pca" else f"{dataset} ({LABELS.get(method, method)})"


def raw_projection(dataset: str, method: str) -> np.ndarray | None:
    """The projection in the reducer's own coordinates (for export), or None if not computed."""
    if not readable(dataset):
        return None
    prepare = prepare_module()
    return prepare.load_projection(dataset, method)


# ---------------------------------------------------------------- checkpoints and cell types


def checkpoint_trajectories(dataset: str, text: str, method: str) -> list[Any]:
    """The path of ``text`` under the weights after each saved epoch of a built-in classifier.

    ``model.compare.CheckpointTrajectory`` items (``epoch``, ``words``, ``ep``, ``points`` in the
    reducer's coordinates, ``accuracy``), oldest first; LookupError with a message for the user
    when the checkpoints or the projection are not there."""
    from model import compare

    return compare.checkpoint_trajectories(dataset, text, method)


def other_cell_id(dataset: str, analysis: Analysis) -> tuple[str, str]:
    """(this dataset's cell type, the id of the same built-in dataset with the other cell type).

    The cell type is the id's ``@cell`` part, else the analysis summary's (LSTM when unrecorded);
    the other is GRU for an LSTM and LSTM otherwise. The other id keeps the size (``imdb~5000``
    compares with ``imdb@gru~5000``, the same reviews)."""
    from model import prepare

    _base, variant = prepare.split_variant(dataset)
    cell = (variant or str(analysis.summary.get("cell_type", "lstm"))).lower()
    other = "gru" if cell == "lstm" else "lstm"
    return cell, prepare.variant_id(dataset, other)
