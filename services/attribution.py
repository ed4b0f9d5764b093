"""Attributions and counterfactuals of a selected sequence: validated, bounds-checked, cached on disk.

Integrated gradients run once per (dataset, model, sequence): the result is kept
in the disk cache (the uploads cache for an upload), so a second look is a read.
The schemas of the attribution callbacks live here too. No Dash imports.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from services import analysis as analysis_service
from services import datasets, schemas
from services.validation import Choice, Custom, InvalidInput, Schema

MODES = ("ep", "epchange", "attribution")
GUIDES = ("epchange", "attribution")
MAX_WORDS = 5_000  # far above any analysed sequence; bounds what the page may send back


class Unavailable(LookupError):
    """Attributions or counterfactuals cannot be given here; the message is meant for the user."""


@dataclass
class Saliency:
    """Per-word scores of one selected sequence, toward its predicted class."""

    seq: int
    words: list[str]
    target: int  # the class the scores are about (the predicted one)
    ep_change: np.ndarray
    attribution: np.ndarray | None = None
    gap: float | None = None  # IG completeness error
    method: str = "integrated gradients"  # how the attribution was computed ("occlusion" for ONNX models)
    agreement: float | None = None  # rank correlation of EP change and attribution


# ---------------------------------------------------------------- browser values


def _scores(value: object) -> dict | None:
    """The saliency store: ``{"dataset", "seq", "target", "scores"}`` with finite, bounded numbers."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"dataset", "seq", "target", "scores"}:
        raise InvalidInput("The attribution store is malformed.")
    scores = value.get("scores")
    if not isinstance(scores, list) or len(scores) > MAX_WORDS:
        raise InvalidInput("The attribution store is malformed.")
    clean = []
    for s in scores:
        if isinstance(s, bool) or not isinstance(s, int | float) or not math.isfinite(s) or abs(s) > 1e6:
            raise InvalidInput("The attribution store holds a value that is not a finite number.")
        clean.append(float(s))
    return {
        "dataset": schemas.DATASET.clean(value.get("dataset")),
        "seq": schemas.SEQUENCE.clean(value.get("seq")),
        "target": schemas.Number("Class", 0, 10_000, integer=True).clean(value.get("target")),
        "scores": clean,
    }


MODE = Choice("Word colours", MODES, default="ep")
GUIDE = Choice("Guide", GUIDES, default="epchange")
SCORES = Custom("Attributions", _scores)

SALIENCY_TEXT = Schema("show_selection (saliency)", {"saliency_mode": MODE, "saliency": SCORES})
SALIENCY = Schema(
    "compute_saliency", {"mode": MODE, "selection": schemas.SELECTION, "dataset": schemas.DATASET_ID}
)


def _undo(value: object) -> dict | None:
    """The what-if text a counterfactual replaced and the one it put there: ``{"previous", "edited"}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"previous", "edited"}:
        raise InvalidInput("The counterfactual's undo store is malformed.")
    return {key: schemas.WHATIF_TEXT.clean(value[key]) or "" for key in ("previous", "edited")}


UNDO = Custom("Counterfactual undo", _undo)
COUNTERFACTUAL = Schema(
    "find_counterfactual",
    {
        "clicks": schemas.CLICKS,
        "selection": schemas.SELECTION,
        "dataset": schemas.DATASET_ID,
        "guide": GUIDE,
        "typed": schemas.WHATIF_TEXT,
        "undo": UNDO,
    },
)
UNDO_COUNTERFACTUAL = Schema(
    "undo_counterfactual", {"clicks": schemas.CLICKS, "typed": schemas.WHATIF_TEXT, "undo": UNDO}
)


# ---------------------------------------------------------------- the selected sequence


def selected_sequence(dataset: str, selection: dict | None):
    """(analysis, k) of the selected sequence; Unavailable when none is selected or it is out of range."""
    analysis, _dmax, _xy = analysis_service.load(dataset, None)
    if analysis is None:
        raise Unavailable("Prepare the dataset first.")
    if not selection or selection.get("dataset") != dataset or selection.get("seq") is None:
        raise Unavailable("Select a sequence first (a row of the table or a point of the projection).")
    k = int(selection["seq"])
    if not 0 <= k < analysis.n_sequences:
        raise Unavailable(f"There is no sequence #{k}: this analysis has {analysis.n_sequences}.")
    if not analysis.words[k]:
        raise Unavailable(f"Sequence #{k} has no word the model knows.")
    return analysis, k


def ep_change_of(analysis, k: int) -> tuple[np.ndarray, int]:
    """(each word's change of the predicted class's EP, that class) of sequence ``k``."""
    from model import attribution

    ep = np.asarray(analysis.ep[analysis.rows(k)], dtype=np.float64)
    target = int(analysis.predicted[k])
    return attribution.ep_change(ep, target), target


def _key(dataset: str, k: int, text: str) -> str:
    from model import attribution, cache

    kind = f"{cache.UPLOAD_PREFIX}-attribution" if datasets.parse(dataset).is_upload else "attribution"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return cache.make_key(
        kind,
        dataset=dataset,
        model=attribution.model_key(dataset),
        seq=k,
        text=digest,
        steps=attribution.DEFAULT_STEPS,
        v=attribution.VERSION,
    )


def attribution_of(dataset: str, k: int, text: str):
    """Integrated gradients of sequence ``k`` (cached on disk); Unavailable with the reason."""
    from model import attribution, cache

    def compute() -> dict:
        return attribution.attribute_text(dataset, text).as_dict()

    try:
        data, _hit = cache.memoize(_key(dataset, k, text), compute, lock_seconds=300)
    except LookupError as error:
        raise Unavailable(str(error)) from error
    except ValueError as error:  # AttributionError, byo.InputError: a message for the user
        raise Unavailable(str(error)) from error
    except cache.CacheWriteError:  # computed but not kept: still worth showing
        data = compute()
    return attribution.Attribution.from_dict(data)


def is_cached(dataset: str, k: int, text: str) -> bool:
    from model import cache

    return cache.contains(_key(dataset, k, text))


def saliency(dataset: str, selection: dict | None, mode: str) -> Saliency:
    """EP change and attributions of the selected sequence, aligned word by word.

    Attributions are computed in ``"attribution"`` mode; otherwise they come along only when cached.
    """
    from model import attribution as attribution_model

    analysis, k = selected_sequence(dataset, selection)
    words = list(analysis.words[k])
    change, target = ep_change_of(analysis, k)
    result = Saliency(seq=k, words=words, target=target, ep_change=change)
    if mode == "attribution" or (mode == "epchange" and is_cached(dataset, k, analysis.texts[k])):
        found = attribution_of(dataset, k, analysis.texts[k])
        if found.words != words:
            raise Unavailable("The model reads this text differently from the analysis: prepare it again.")
        if found.target != target:
            raise Unavailable("The model's prediction differs from the analysis: prepare it again.")
        result.attribution = np.asarray(found.scores, dtype=np.float64)
        result.gap = found.gap
        result.method = found.method
        result.agreement = attribution_model.rank_agreement(change, result.attribution)
    return result


def counterfactual(dataset: str, selection: dict | None, guide: str):
    """(counterfactual, guide used, note) for the selected sequence; Unavailable with the reason."""
    from model import counterfactual as search

    analysis, k = selected_sequence(dataset, selection)
    words = list(analysis.words[k])
    scores, _target = ep_change_of(analysis, k)
    used, note = "epchange", None
    if guide == "attribution":
        try:
            scores = saliency(dataset, selection, "attribution").attribution
            used = "attribution"
        except Unavailable as error:
            note = f"Guided by EP change instead: {error}"
    try:
        result = search.counterfactual_for(dataset, words, np.asarray(scores))
    except LookupError as error:
        raise Unavailable(str(error)) from error
    except ValueError as error:
        raise Unavailable(str(error)) from error
    return result, used, note


def counterfactual_of_text(dataset: str, text: str, guide: str):
    """(counterfactual, guide used, note) for a typed text (the what-if box); Unavailable with the reason.

    The words are those the model reads (as the what-if box shows them); the guide is their EP change
    toward the predicted class, or their integrated gradients.
    """
    from model import attribution, whatif
    from model import counterfactual as search

    analysis, _dmax, _xy = analysis_service.load(dataset, None)
    if analysis is None:
        raise Unavailable("Prepare the dataset first.")
    try:
        states = whatif.analyse_text(dataset, text)
    except (LookupError, ValueError) as error:
        raise Unavailable(str(error)) from error
    words = list(states.words)
    if not words:
        raise Unavailable("The model knows none of the typed words: there is nothing to edit.")
    target = int(states.predicted)
    scores = attribution.ep_change(states.ep, target)
    used, note = "epchange", None
    if guide == "attribution":
        try:
            found = attribution_of(dataset, -1, text)
            if found.words != words or found.target != target:
                raise Unavailable("the model reads the typed text differently from the what-if box")
            scores, used = np.asarray(found.scores, dtype=np.float64), "attribution"
        except Unavailable as error:
            note = f"Guided by EP change instead: {error}"
    try:
        result = search.counterfactual_for(dataset, words, np.asarray(scores))
    except (LookupError, ValueError) as error:
        raise Unavailable(str(error)) from error
    return result, used, note
