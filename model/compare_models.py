"""Two classifiers on the same texts: which texts they share, where they disagree, one aligned 2-D basis.

Pure numpy, no Dash. Two models' projections are fitted separately, so their 2-D points live in
unrelated bases (a PCA's axes may come out rotated, mirrored or scaled). :func:`procrustes` finds the
similarity transform (rotation or reflection, one scale factor, a shift) that lays model B's points
onto model A's, fitted on the final states of the texts both models read; :func:`Alignment.apply`
moves every state of B into A's basis, so both panels can share their axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Alignment:
    """``x -> scale * x @ rotation + shift`` (``rotation`` orthogonal: a rotation or a reflection)."""

    rotation: np.ndarray  # (d, d), orthogonal
    scale: float
    shift: np.ndarray  # (d,)
    fit: float  # 1 - residual / spread of the target: 1.0 is a perfect fit, 0.0 no better than the mean

    def apply(self, points: np.ndarray) -> np.ndarray:
        """``points`` (n, d) of the source model moved into the target's basis."""
        points = np.asarray(points, dtype=np.float64)
        if len(points) == 0:
            return points.reshape(0, len(self.shift))
        return self.scale * points @ self.rotation + self.shift


def procrustes(source: np.ndarray, target: np.ndarray, scale: bool = True) -> Alignment:
    """The orthogonal Procrustes alignment of ``source`` onto ``target`` (paired rows, (n, d) each).

    Minimises ``|| s * (source - mean) @ R + shift - target ||`` over orthogonal ``R`` (reflections
    allowed: a PCA's axes have no sign), one scale ``s`` (1 when ``scale`` is False) and a shift.
    ValueError when the shapes differ or fewer than two pairs are given."""
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2:
        raise ValueError(f"Paired points must have the same shape (got {source.shape} and {target.shape}).")
    if len(source) < 2:
        raise ValueError("Aligning two projections needs at least two shared texts.")
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    a, b = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(a.T @ b)
    rotation = u @ vt
    norm = float((a * a).sum())
    s = float(sigma.sum() / norm) if scale and norm > 0 else 1.0
    shift = mu_t - s * mu_s @ rotation
    spread = float((b * b).sum())
    residual = float(((s * a @ rotation - b) ** 2).sum())
    fit = 1.0 - residual / spread if spread > 0 else 1.0
    return Alignment(rotation=rotation, scale=s, shift=shift, fit=fit)


def shared_texts(texts_a: list[str], texts_b: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(rows of A, rows of B) of the texts both read, in A's order; each text once (its first row)."""
    first_b: dict[str, int] = {}
    for j, text in enumerate(texts_b):
        first_b.setdefault(text, j)
    seen: set[str] = set()
    rows_a, rows_b = [], []
    for i, text in enumerate(texts_a):
        j = first_b.get(text)
        if j is not None and text not in seen:
            seen.add(text)
            rows_a.append(i)
            rows_b.append(j)
    return np.asarray(rows_a, dtype=np.int64), np.asarray(rows_b, dtype=np.int64)


def final_rows(offsets: np.ndarray) -> np.ndarray:
    """The state row of each sequence's last step (``offsets``: (n_seq + 1,), empty sequences excluded
    by the extraction, so every sequence has at least one state)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    return offsets[1:] - 1


@dataclass(frozen=True)
class Disagreements:
    """The shared texts two models classify differently, sorted by confidence gap (largest first)."""

    row_a: np.ndarray  # (m,) sequence index in A
    row_b: np.ndarray  # (m,) sequence index in B
    predicted_a: list[str]  # class names
    predicted_b: list[str]
    confidence_a: np.ndarray  # (m,) probability of A's class under A
    confidence_b: np.ndarray
    gap: np.ndarray  # (m,) |confidence_a - confidence_b|

    def __len__(self) -> int:
        return len(self.row_a)


def disagreements(
    rows_a: np.ndarray,
    rows_b: np.ndarray,
    predicted_a: np.ndarray,
    predicted_b: np.ndarray,
    confidence_a: np.ndarray,
    confidence_b: np.ndarray,
    names_a: list[str],
    names_b: list[str],
) -> Disagreements:
    """The shared texts (``rows_a[i]`` in A is ``rows_b[i]`` in B) where the predicted class names differ.

    Classes are compared by name, so two models with the same classes in another order still agree;
    rows come sorted by the gap between the two confidences, largest first (ties: A's order)."""
    rows_a = np.asarray(rows_a, dtype=np.int64)
    rows_b = np.asarray(rows_b, dtype=np.int64)
    said_a = np.asarray(names_a, dtype=object)[np.asarray(predicted_a)[rows_a]]
    said_b = np.asarray(names_b, dtype=object)[np.asarray(predicted_b)[rows_b]]
    differ = np.flatnonzero(said_a != said_b)
    conf_a = np.asarray(confidence_a, dtype=np.float64)[rows_a[differ]]
    conf_b = np.asarray(confidence_b, dtype=np.float64)[rows_b[differ]]
    gap = np.abs(conf_a - conf_b)
    order = np.argsort(-gap, kind="stable")
    keep = differ[order]
    return Disagreements(
        row_a=rows_a[keep],
        row_b=rows_b[keep],
        predicted_a=[str(x) for x in said_a[keep]],
        predicted_b=[str(x) for x in said_b[keep]],
        confidence_a=conf_a[order],
        confidence_b=conf_b[order],
        gap=gap[order],
    )
