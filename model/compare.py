"""Compare checkpoints: one text's trajectory and EP after each training epoch, on a shared projection.

The classifier keeps its weights after every epoch (``TrainedClassifier.checkpoints``);
each is run in numpy on the text and placed with the final model's fitted projection,
so the user sees how the hidden-state space organises itself during training.
The shipped pretrained classifiers (:mod:`model.pretrained`) keep no checkpoints:
for them a LookupError says how to train one here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model import loaded, whatif


@dataclass
class CheckpointTrajectory:
    epoch: int  # 1-based; the last one is the final model
    words: list[str]
    ep: np.ndarray  # (n, n_classes)
    points: np.ndarray  # (n, 2) in the final model's projection
    accuracy: float | None  # test accuracy after that epoch, when recorded


def checkpoint_trajectories(
    dataset: str, text: str, method: str, n_sequences: int | None = None
) -> list[CheckpointTrajectory]:
    """The trajectory of ``text`` under every saved epoch of a built-in classifier."""
    classifier = loaded.classifier(dataset)
    if not classifier.checkpoints and classifier.origin == "pretrained":
        base = dataset.partition("@")[0]
        raise LookupError(
            "Checkpoints are not kept for the pretrained model; run "
            f"`python -m model.prepare --dataset {base} --retrain` to train it here and keep them."
        )
    projector = loaded.projector(dataset, method, n_sequences)
    checkpoints = classifier.checkpoints or [classifier.weights]
    accuracies = classifier.history.get("test_accuracy", [])
    result = []
    for epoch, weights in enumerate(checkpoints, start=1):
        words, hidden, ep = whatif.classifier_states(replace(classifier, weights=weights), text)
        result.append(
            CheckpointTrajectory(
                epoch=epoch,
                words=words,
                ep=ep,
                points=projector.place(hidden) if len(hidden) else np.zeros((0, 2), np.float32),
                accuracy=accuracies[epoch - 1] if epoch <= len(accuracies) else None,
            )
        )
    return result
