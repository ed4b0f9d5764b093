"""Training checkpoints of the shipped classifiers: the weights after some epochs, in ``model/pretrained/``.

The checkpoint comparison of the analytics page runs a text under the weights after each
epoch. A classifier trained here keeps them (``TrainedClassifier.checkpoints``); the shipped
ones (:mod:`model.pretrained`) carry them in ``<dataset>.checkpoints.npz``, next to their weights:

- up to :data:`MOST_EPOCHS` epochs, evenly spaced, always the first and the last (IMDB's 3
  epochs all, Reuters' 20 as 1, 5, 9, 12, 16, 20); the last is the shipped weights themselves;
- each kept epoch ``e`` as its difference to the final weights, ``e{e}_q{i}`` (int8) times
  ``e{e}_s{i}`` (float32, one scale per row of a matrix, one per vector): the checkpoint is
  the shipped weight ``i`` plus that difference: 0.6 to 0.75 MB an epoch instead of 2.6 MB.

The manifest (``<dataset>.json``) describes them under ``"checkpoints"``: the file's sha256,
the sha256 of the weights file they lead to and of those weights as loaded, the epochs, each
epoch's accuracy on the first ``CHECKPOINT_SAMPLE`` test texts recomputed from the stored
checkpoint, and where they came from.
:func:`load` returns them only for a classifier whose weights are exactly the shipped ones and
when every checksum matches, else None (never raises), so a rebuilt classifier never shows
another run's epochs.

They are written by :func:`write`: :func:`model.pretrained.export` writes them from the run it
exports; ``python -m model.pretrained_checkpoints --dataset imdb`` retrains the shipped
classifier's exact recipe (the same data, config, seed and versions) and writes that
reproduction's checkpoints, once its history and final weights agree with the shipped ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model import memo, pretrained, textmodels

MOST_EPOCHS = 6  # the compare card's small multiples show at most six epochs
ACCURACY_TOLERANCE = 0.0025  # a stored checkpoint's sample accuracy may differ this much from the run's
REPRODUCTION_TOLERANCE = 0.01  # largest weight difference between a reproduction and the shipped run

Epochs = list[tuple[int, list[np.ndarray]]]


def path(dataset: str, directory: Path | None = None) -> Path:
    return Path(directory or pretrained.DIRECTORY) / f"{dataset}.checkpoints.npz"


def kept_epochs(n_epochs: int, most: int = MOST_EPOCHS) -> list[int]:
    """Up to ``most`` evenly spaced epochs of ``n_epochs`` (1-based), always the first and the last."""
    if n_epochs <= most:
        return list(range(1, n_epochs + 1))
    return sorted({int(i) + 1 for i in np.linspace(0, n_epochs - 1, most).round()})


def weights_digest(weights: Sequence[np.ndarray]) -> str:
    """sha256 of float32 weights (shapes and values): which weights a checkpoints file leads to."""
    digest = hashlib.sha256()
    for weight in weights:
        array = np.ascontiguousarray(weight, dtype=np.float32)
        digest.update(f"{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _quantise(difference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, float32 scales): one scale per row of a matrix, one for a vector."""
    rows = difference if difference.ndim > 1 else difference[None]
    scale = np.abs(rows).max(axis=tuple(range(1, rows.ndim)), keepdims=True) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    values = np.clip(np.rint(rows / scale), -127, 127).astype(np.int8)
    return values.reshape(difference.shape), scale


def _restore(final: Sequence[np.ndarray], stored, epoch: int) -> list[np.ndarray]:
    weights = []
    for i, base in enumerate(final):
        values = stored[f"e{epoch}_q{i}"].astype(np.float32)
        rows = values if values.ndim > 1 else values[None]
        weights.append((base + (rows * stored[f"e{epoch}_s{i}"]).reshape(base.shape)).astype(np.float32))
    return weights


def _sample_accuracy(classifier: textmodels.TrainedClassifier, weights: list[np.ndarray]) -> float:
    """Accuracy of ``weights`` on the first CHECKPOINT_SAMPLE test texts (as recorded during training)."""
    from model import datasets

    data = datasets.load(classifier.dataset)
    sample = slice(0, textmodels.CHECKPOINT_SAMPLE)
    ids, _ = textmodels.encode(data.test.texts[sample], classifier.vocabulary, classifier.config.max_len)
    model = textmodels.build_model(classifier.config, len(classifier.class_names))
    model.set_weights(weights)
    raw = model.predict(ids, batch_size=512, verbose=0)
    predicted = textmodels.class_probabilities(raw).argmax(axis=1)
    return float(np.mean(predicted == np.asarray(data.test.labels[sample])))


def write(
    dataset: str,
    run: Sequence[Sequence[np.ndarray]],
    source: str,
    directory: Path | None = None,
    run_history: dict | None = None,
) -> dict:
    """Store the epochs of ``run`` (one weight list per epoch, the last its final weights) for the shipped
    ``dataset`` classifier; add them to its manifest and return that entry.

    Each kept epoch is stored as its difference to the run's final weights, added to the shipped
    weights on load (the shipped weights are the run's own, or a close reproduction's: :func:`retraces`). Refuses
    (``pretrained.ExportError``) when a restored epoch's sample accuracy strays from the run's record.
    """
    config = textmodels.DEFAULT_CONFIGS[dataset]
    shipped = pretrained.load(dataset, config, directory)
    if shipped is None:
        raise pretrained.ExportError(f"no intact shipped {dataset} classifier to add checkpoints to")
    if len(run) != config.epochs:
        raise pretrained.ExportError(
            f"the run has {len(run)} epochs, the {dataset} classifier {config.epochs}"
        )
    recorded = (run_history or shipped.history).get("test_accuracy", [])
    final_run = [np.asarray(w, np.float32) for w in run[-1]]
    arrays: dict[str, np.ndarray] = {}
    accuracies = {}
    for epoch in kept_epochs(len(run))[:-1]:
        for i, (weight, final) in enumerate(zip(run[epoch - 1], final_run, strict=True)):
            arrays[f"e{epoch}_q{i}"], arrays[f"e{epoch}_s{i}"] = _quantise(
                np.asarray(weight, np.float32) - final
            )
        accuracy = _sample_accuracy(shipped, _restore(shipped.weights, arrays, epoch))
        if epoch <= len(recorded) and abs(accuracy - recorded[epoch - 1]) > ACCURACY_TOLERANCE:
            raise pretrained.ExportError(
                f"epoch {epoch} restored scores {accuracy:.4f} on the test sample, the run recorded "
                f"{recorded[epoch - 1]:.4f}"
            )
        accuracies[str(epoch)] = round(accuracy, 4)
    target = path(dataset, directory)
    with open(target, "wb") as stream:
        np.savez_compressed(stream, **arrays)
    paths = pretrained.files(dataset, directory)
    info = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    entry = {
        "file": target.name,
        "sha256": pretrained.sha256(target),
        "weights_sha256": pretrained.sha256(paths["weights"]),
        "final_weights_sha256": weights_digest(shipped.weights),
        "epochs": kept_epochs(len(run)),
        "sample_accuracy": accuracies,
        "stored_as": "int8 difference to the final weights, one float32 scale per row",
        "source": source,
    }
    info["checkpoints"] = entry
    paths["manifest"].write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return entry


def verify(dataset: str, info: dict | None, directory: Path | None = None) -> str | None:
    """None when the manifest lists checkpoints whose file and weights match its sha256s, else what is wrong."""
    entry = (info or {}).get("checkpoints") or {}
    target = path(dataset, directory)
    weights_file = pretrained.files(dataset, directory)["weights"]
    if not entry:
        return "the manifest lists no checkpoints"
    if not target.is_file() or not weights_file.is_file():
        return f"{target.name} or {weights_file.name} is missing"
    if pretrained.sha256(target) != entry.get("sha256"):
        return f"{target.name} fails its checksum"
    if pretrained.sha256(weights_file) != entry.get("weights_sha256"):
        return f"{target.name} belongs to other weights than {weights_file.name}"
    return None


def _read(dataset: str, directory: Path | None, final: list[np.ndarray]) -> Epochs | None:
    """Every kept epoch with its weights, restored on ``final`` (the shipped weights), or None."""
    info = pretrained.manifest(dataset, directory)
    problem = verify(dataset, info, directory)
    if problem is not None:
        pretrained.log.warning("%s checkpoints ignored: %s", dataset, problem)
        return None
    epochs = [int(e) for e in info["checkpoints"].get("epochs") or []]
    if not epochs:
        return None
    try:
        with np.load(path(dataset, directory), allow_pickle=False) as stored:
            kept = [(epoch, _restore(final, stored, epoch)) for epoch in epochs[:-1]]
    except (OSError, ValueError, KeyError) as error:
        pretrained.log.warning("%s checkpoints ignored: unreadable (%s)", dataset, error)
        return None
    return [*kept, (epochs[-1], final)]


def load(classifier: textmodels.TrainedClassifier, directory: Path | None = None) -> Epochs | None:
    """The shipped checkpoints of ``classifier`` as [(epoch, weights)], oldest first, the last its own
    weights; None unless its weights are exactly the shipped ones and the files are intact."""
    dataset = classifier.dataset
    if classifier.origin != "pretrained" or dataset not in pretrained.DATASETS:
        return None
    entry = (pretrained.manifest(dataset, directory) or {}).get("checkpoints") or {}
    digest = weights_digest(classifier.weights)
    if not entry.get("sha256") or entry.get("final_weights_sha256") != digest:
        return None  # none shipped, or they lead to other weights (a cache from older shipped files)
    found = memo.remember(
        "shipped-checkpoints",
        (dataset, entry["sha256"], digest, str(directory)),
        lambda: _read(dataset, directory, classifier.weights),
    )
    return None if found is None else [*found[:-1], (found[-1][0], classifier.weights)]


# ---------------------------------------------------------------- the reproduction run


def reproduce(dataset: str, directory: Path | None = None) -> dict:
    """Train the shipped ``dataset`` classifier's recipe again (minutes) and store that run's checkpoints."""
    run = textmodels._train(dataset, textmodels.DEFAULT_CONFIGS[dataset], None)
    return write(dataset, run.checkpoints, retraces(dataset, run, directory), directory, run.history)


def retraces(dataset: str, run: textmodels.TrainedClassifier, directory: Path | None = None) -> str:
    """How ``run`` (a retraining of the shipped recipe) retraces the shipped run, for the manifest.

    Refused (``pretrained.ExportError``) unless every epoch's sample accuracy is within
    ACCURACY_TOLERANCE of the shipped history and its final weights (stored as shipped) are within
    REPRODUCTION_TOLERANCE of the shipped weights: CPU TensorFlow is not bit-exact across runs.
    """
    shipped = pretrained.load(dataset, textmodels.DEFAULT_CONFIGS[dataset], directory)
    if shipped is None or run.config != shipped.config:
        raise pretrained.ExportError(f"no intact shipped {dataset} classifier of this recipe")
    ours, theirs = run.history.get("test_accuracy", []), shipped.history.get("test_accuracy", [])
    if len(ours) != len(theirs) or any(
        abs(a - b) > ACCURACY_TOLERANCE for a, b in zip(ours, theirs, strict=False)
    ):
        raise pretrained.ExportError(f"the run's epochs scored {ours}, the shipped run's {theirs}")
    stored = [np.asarray(w, np.float32) for w in run.weights]
    if (pretrained.manifest(dataset, directory) or {}).get("embedding_dtype") == "float16":
        stored[0] = stored[0].astype(np.float16).astype(np.float32)
    gap = max(float(np.abs(a - b).max()) for a, b in zip(stored, shipped.weights, strict=True))
    if gap > REPRODUCTION_TOLERANCE:
        raise pretrained.ExportError(
            f"the run's final weights differ from the shipped ones by up to {gap:.2g}"
        )
    return (
        f"a reproduction of the shipped run (the same data, config, seed and versions): its epochs scored "
        f"{ours} on the test sample, as the shipped run did, and its final weights differ from the shipped "
        f"ones by at most {gap:.2g}"
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m model.pretrained_checkpoints --dataset imdb``: retrain and store the shipped run's epochs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=pretrained.DATASETS, required=True)
    args = parser.parse_args(argv)
    try:
        entry = reproduce(args.dataset)
    except pretrained.ExportError as error:
        print(f"refused: {error}")
        return 1
    size = path(args.dataset).stat().st_size
    print(f"{args.dataset}: epochs {entry['epochs']} · {size / 2**20:.2f} MB · {entry['sample_accuracy']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
