"""Which steps of a sequence get a word label: the three rules of the original."""

from __future__ import annotations

import numpy as np

DEFAULT_JUMP = 0.40  # the slider's starting point once the user takes manual control
DEFAULT_EP_CHANGE = 0.30
TOP_JUMPS = 5  # the default jump rule: the few largest jumps of each sequence, whatever their scale
BEFORE = "before"  # label the word before each event instead of the word that caused it


def jump_steps(distance: np.ndarray, dmax: float, threshold: float) -> np.ndarray:
    """Steps whose normalised distance to the previous state is at least ``threshold``."""
    norm = np.asarray(distance, dtype=float) / (dmax or 1.0)
    return np.flatnonzero(norm >= threshold)


def top_jump_steps(distance: np.ndarray, n: int = TOP_JUMPS) -> np.ndarray:
    """The ``n`` steps with the largest jumps (all of them in a shorter sequence), in reading order.

    Adapts to the data: a model whose jumps are all alike (near chance, or a long review) still
    gets a handful of labels instead of one per word.
    """
    dist = np.asarray(distance, dtype=float)
    if n <= 0 or not len(dist):
        return np.array([], dtype=int)
    return np.sort(np.argsort(-dist, kind="stable")[:n]).astype(int)


def top_jump_threshold(distance: np.ndarray, n: int = TOP_JUMPS) -> float:
    """The smallest of the ``n`` largest jumps: the threshold line that the automatic rule draws."""
    dist = np.asarray(distance, dtype=float)
    if not len(dist):
        return 0.0
    return float(np.sort(dist)[-min(n, len(dist))])


def ep_change_steps(ep: np.ndarray, threshold: float) -> np.ndarray:
    """Steps (after the first) where some class's EP moves by at least ``threshold``."""
    ep = np.asarray(ep, dtype=float)
    if len(ep) < 2:
        return np.array([], dtype=int)
    change = np.abs(np.diff(ep, axis=0)).max(axis=1)
    return np.flatnonzero(change >= threshold) + 1


def flip_steps(ep: np.ndarray) -> np.ndarray:
    """Steps (after the first) where the most likely class changes."""
    ep = np.asarray(ep)
    if len(ep) < 2:
        return np.array([], dtype=int)
    arg = ep.argmax(axis=1)
    return np.flatnonzero(arg[1:] != arg[:-1]) + 1


def labelled_steps(
    ep: np.ndarray,
    distance: np.ndarray,
    dmax: float,
    rules: list[str] | tuple[str, ...],
    jump_threshold: float = DEFAULT_JUMP,
    ep_threshold: float = DEFAULT_EP_CHANGE,
    top_jumps: int | None = None,
) -> np.ndarray:
    """Sorted union of the steps picked by the active ``rules``.

    Each rule marks the step *after* its event (the word that caused it); with ``"before"`` among
    the rules, the word read just before the event is labelled instead (the original's two forms).
    With ``top_jumps`` the jump rule picks that many largest jumps instead of a threshold.
    """
    picked: list[np.ndarray] = [np.array([], dtype=int)]
    if "jump" in rules:
        if top_jumps:
            picked.append(top_jump_steps(distance, top_jumps))
        else:
            picked.append(jump_steps(distance, dmax, jump_threshold))
    if "ep" in rules:
        picked.append(ep_change_steps(ep, ep_threshold))
    if "flip" in rules:
        picked.append(flip_steps(ep))
    steps = np.concatenate(picked).astype(int)
    if BEFORE in rules:
        steps = np.maximum(steps - 1, 0)
    return np.unique(steps).astype(int)
