"""Which steps of a sequence get a word label: the three rules of the original."""

from __future__ import annotations

import numpy as np

DEFAULT_JUMP = 0.40
DEFAULT_EP_CHANGE = 0.30
RULES = ("jump", "ep", "flip")
BEFORE = "before"  # label the word before each event instead of the word that caused it


def jump_steps(distance: np.ndarray, dmax: float, threshold: float) -> np.ndarray:
    """Steps whose normalised distance to the previous state is at least ``threshold``."""
    norm = np.asarray(distance, dtype=float) / (dmax or 1.0)
    return np.flatnonzero(norm >= threshold)


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
) -> np.ndarray:
    """Sorted union of the steps picked by the active ``rules``.

    Each rule marks the step *after* its event (the word that caused it); with ``"before"`` among
    the rules, the word read just before the event is labelled instead (the original's two forms).
    """
    picked: list[np.ndarray] = [np.array([], dtype=int)]
    if "jump" in rules:
        picked.append(jump_steps(distance, dmax, jump_threshold))
    if "ep" in rules:
        picked.append(ep_change_steps(ep, ep_threshold))
    if "flip" in rules:
        picked.append(flip_steps(ep))
    steps = np.concatenate(picked).astype(int)
    if BEFORE in rules:
        steps = np.maximum(steps - 1, 0)
    return np.unique(steps).astype(int)
