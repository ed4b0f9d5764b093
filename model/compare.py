"""Compare checkpoints: one text's trajectory and EP after each training epoch, on a shared projection.

The classifier keeps its weights after every epoch (``TrainedClassifier.checkpoints``);
each is run in numpy on the text and placed with the final model's fitted projection,
so the user sees how the hidden-state space organises itself during training.
The shipped pretrained classifiers (:mod:`model.pretrained`) carry theirs beside them
(:mod:`model.pretrained_checkpoints`: up to six evenly spaced epochs); when those files are
missing or belong to other weights, a LookupError says how to train one here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model import loaded, pretrained_checkpoints, textmodels, whatif


@dataclass
class CheckpointTrajectory:
    epoch: int  # 1-based; the last one is the final model
    words: list[str]
    ep: np.ndarray  # (n, n_classes)
    points: np.ndarray  # (n, 2) in the final model's projection
    accuracy: float | None  # test accuracy after that epoch, when recorded


def saved_epochs(
    classifier: textmodels.TrainedClassifier, dataset: str
) -> list[tuple[int, list[np.ndarray]]]:
    """[(epoch, weights)] of ``classifier``, oldest first: its own checkpoints, the shipped ones of a
    pretrained classifier, else its final weights alone; LookupError for a pretrained one without."""
    if classifier.checkpoints:
        return list(enumerate(classifier.checkpoints, start=1))
    if classifier.origin == "pretrained":
        shipped = pretrained_checkpoints.load(classifier)
        if shipped:
            return shipped
        base = dataset.partition("@")[0].partition("~")[0]
        raise LookupError(
            "No shipped checkpoints match this pretrained model (their files in model/pretrained/ are "
            "missing, or the cache holds an older copy of the model): run "
            f"`python -m model.prepare --dataset {base} --retrain` to train it here and keep them."
        )
    return [(classifier.config.epochs, classifier.weights)]


def checkpoint_trajectories(
    dataset: str, text: str, method: str, n_sequences: int | None = None
) -> list[CheckpointTrajectory]:
    """The trajectory of ``text`` under every saved epoch of a built-in classifier."""
    classifier = loaded.classifier(dataset)
    epochs = saved_epochs(classifier, dataset)
    projector = loaded.projector(dataset, method, n_sequences)
    accuracies = classifier.history.get("test_accuracy", [])
    result = []
    for epoch, weights in epochs:
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
