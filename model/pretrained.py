"""The paper's default classifiers, shipped with the project in ``model/pretrained/``.

Per dataset three files: ``<dataset>.npz`` (the weights, compressed; the embedding
matrix in float16 when that costs no accuracy), ``<dataset>.vocab.txt`` (the
vocabulary, one word per line, word ``i`` has token id ``i + 2``) and
``<dataset>.json`` (the manifest: the exact :class:`~model.textmodels.ModelConfig`,
class names, test accuracy of the shipped weights, the sha256 of the dataset
archive they were trained on, ``TRAINER_VERSION``, the Keras/TensorFlow versions,
and the sha256 of the two other files). Beside them, ``<dataset>.checkpoints.npz``: the
weights after some of the training epochs (:mod:`model.pretrained_checkpoints`).

:func:`load` gives a :class:`~model.textmodels.TrainedClassifier` only when the
requested classifier is exactly theirs (dataset, config, trainer version, and
the data: the same archive sha256, or an archive that parses to the very same
texts and labels, as the public downloads do: they carry extra files) and every
file matches its checksum; otherwise None, with a warning when a file fails its
checksum, so the caller trains instead. Loading uses numpy only: TensorFlow is
needed only when the model is run.

They are written by ``python -m model.prepare --dataset imdb --export-pretrained``
(see docs/pretrained.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np

from model import cache, textmodels

DIRECTORY = Path(__file__).resolve().with_name("pretrained")
FORMAT = 1
DATASETS = ("imdb", "reuters")
ACCURACY_FLOOR = {"imdb": 0.85, "reuters": 0.93}  # on the whole test split
FLOAT16_TOLERANCE = 0.002  # largest accuracy a float16 embedding may cost
log = logging.getLogger("rnnx.pretrained")


class ExportError(RuntimeError):
    """The classifier cannot be exported; the message says why."""


def files(dataset: str, directory: Path | None = None) -> dict[str, Path]:
    folder = Path(directory or DIRECTORY)
    return {
        "manifest": folder / f"{dataset}.json",
        "weights": folder / f"{dataset}.npz",
        "vocabulary": folder / f"{dataset}.vocab.txt",
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def manifest(dataset: str, directory: Path | None = None) -> dict | None:
    """The manifest of the shipped ``dataset`` classifier, or None when there is none (or it is unreadable)."""
    path = files(dataset, directory)["manifest"]
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.warning(
            "pretrained %s classifier ignored: its manifest %s is unreadable (%s)", dataset, path, error
        )
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def data_digest(dataset: str) -> str:
    """sha256 of the parsed dataset (class names, every text and label of both splits).

    Equal for every archive holding the same data, whatever else it carries (the public IMDB
    archive also has unlabelled reviews); kept in the cache per archive fingerprint.
    """
    from model import datasets

    def compute() -> str:
        data = datasets.load(dataset, download=False)
        digest = hashlib.sha256(json.dumps(list(data.class_names)).encode())
        for split in (data.train, data.test):
            digest.update(f"{len(split.texts)}\n".encode())
            for text in split.texts:
                digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
            digest.update(np.asarray(split.labels, dtype=np.int64).tobytes())
        return digest.hexdigest()

    key = cache.make_key("dataset-digest", dataset=dataset, fingerprint=datasets.fingerprint(dataset), v=1)
    return cache.memoize(key, compute)[0]


def mismatch(
    dataset: str, config: textmodels.ModelConfig, info: dict | None, check_data: bool = True
) -> str | None:
    """Why the shipped classifier described by ``info`` is not the one requested (None: it is).

    ``check_data=False`` takes an archive other than theirs on trust (no parsing; for estimates).
    """
    from model import datasets

    if info is None:
        return "no pretrained files"
    if info.get("dataset") != dataset:
        return f"they are for {info.get('dataset')!r}"
    try:
        shipped = textmodels.ModelConfig(**info.get("config", {}))
    except TypeError:
        return "their config has unknown fields"
    if shipped != config:
        return "the requested config differs"
    if info.get("trainer_version") != textmodels.TRAINER_VERSION:
        return f"trainer version {info.get('trainer_version')} != {textmodels.TRAINER_VERSION}"
    if dataset not in datasets.ARCHIVES:
        return "not a built-in dataset"
    if info.get("archive_sha256") == datasets.fingerprint(dataset) or not check_data:
        return None
    try:
        same = bool(info.get("data_sha256")) and data_digest(dataset) == info["data_sha256"]
    except Exception as error:  # noqa: BLE001 - an unreadable archive, an unwritable cache: train instead
        return f"the dataset could not be compared ({type(error).__name__}: {str(error)[:200]})"
    return None if same else "the dataset differs from the one they were trained on"


def matches(
    dataset: str, config: textmodels.ModelConfig, directory: Path | None = None, check_data: bool = True
) -> bool:
    """Whether shipped files describe exactly this classifier (their checksums are checked by :func:`load`)."""
    return mismatch(dataset, config, manifest(dataset, directory), check_data) is None


def verify(dataset: str, info: dict, directory: Path | None = None) -> str | None:
    """None when every shipped file matches the manifest's sha256, else what is wrong."""
    expected = info.get("files") or {}
    for kind in ("weights", "vocabulary"):
        path = files(dataset, directory)[kind]
        want = expected.get(path.name)
        if not path.is_file():
            return f"{path.name} is missing"
        if not want:
            return f"the manifest lists no checksum for {path.name}"
        got = sha256(path)
        if got != want:
            return f"{path.name} fails its checksum (sha256 {got[:12]}…, the manifest says {want[:12]}…)"
    return None


def load(
    dataset: str, config: textmodels.ModelConfig, directory: Path | None = None
) -> textmodels.TrainedClassifier | None:
    """The shipped classifier if it is exactly the requested one and intact, else None (never raises)."""
    info = manifest(dataset, directory)
    why = mismatch(dataset, config, info)
    if why is not None:
        if info is not None:
            log.info("pretrained %s classifier not used: %s", dataset, why)
        return None
    problem = verify(dataset, info, directory)
    if problem is None:
        try:
            return _read(dataset, config, info, directory)
        except (OSError, ValueError, KeyError, TypeError) as error:
            problem = f"its files are unreadable ({type(error).__name__}: {str(error)[:200]})"
    log.warning(
        "pretrained %s classifier refused: %s; training it instead. "
        "Rebuild the files with `python -m model.prepare --dataset %s --export-pretrained`.",
        dataset,
        problem,
        dataset,
    )
    return None


def _read(
    dataset: str, config: textmodels.ModelConfig, info: dict, directory: Path | None
) -> textmodels.TrainedClassifier:
    paths = files(dataset, directory)
    with np.load(paths["weights"], allow_pickle=False) as archive:
        weights = [np.asarray(archive[f"w{i}"], dtype=np.float32) for i in range(int(info["n_weights"]))]
    words = paths["vocabulary"].read_text(encoding="utf-8").split("\n")
    if len(words) > config.vocab_size - 2 or weights[0].shape != (config.vocab_size, config.embedding_dim):
        raise ValueError("the vocabulary or the embedding does not fit the config")
    return textmodels.TrainedClassifier(
        dataset=dataset,
        config=config,
        class_names=list(info["class_names"]),
        vocabulary=textmodels.Vocabulary(words),
        weights=weights,
        test_accuracy=float(info["test_accuracy"]),
        history=dict(info.get("history") or {}),
        checkpoints=[],
        origin="pretrained",
    )


# ---------------------------------------------------------------- evaluation and export


def evaluate(classifier: textmodels.TrainedClassifier, weights: list[np.ndarray] | None = None) -> float:
    """Accuracy of ``classifier`` (or of it with ``weights``) on its dataset's whole test split (Keras)."""
    from model import datasets

    data = datasets.load(classifier.dataset)
    ids, _ = textmodels.encode(data.test.texts, classifier.vocabulary, classifier.config.max_len)
    model = textmodels.build_model(classifier.config, len(classifier.class_names))
    model.set_weights(weights if weights is not None else classifier.weights)
    raw = model.predict(ids, batch_size=1024, verbose=0)
    predicted = textmodels.class_probabilities(raw).argmax(axis=1)
    return float(np.mean(predicted == np.asarray(data.test.labels)))


def _versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {"keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__}


def export(
    classifier: textmodels.TrainedClassifier, directory: Path | None = None, command: str | None = None
) -> dict:
    """Write ``classifier``'s files and manifest into ``directory`` (default ``model/pretrained/``).

    The embedding is stored in float16 when that keeps the whole-test-split accuracy within
    FLOAT16_TOLERANCE of the float32 one (and above the floor), else in float32. Returns the manifest.
    """
    from model import datasets

    dataset = classifier.dataset
    if classifier.origin == "pretrained":
        raise ExportError("this classifier was loaded from the shipped files; train it anew to export it")
    if dataset not in DATASETS:
        raise ExportError(f"only the built-in datasets {list(DATASETS)} are exported, not {dataset!r}")
    floor = ACCURACY_FLOOR[dataset]
    full = [np.asarray(w, dtype=np.float32) for w in classifier.weights]
    accuracy32 = evaluate(classifier, full)
    half = [full[0].astype(np.float16).astype(np.float32), *full[1:]]
    accuracy16 = evaluate(classifier, half)
    use_half = accuracy16 >= floor and accuracy16 >= accuracy32 - FLOAT16_TOLERANCE
    accuracy = accuracy16 if use_half else accuracy32
    if accuracy < floor:
        raise ExportError(
            f"the {dataset} classifier scores {accuracy:.4f} on the test split, below the floor {floor}"
        )
    stored = [full[0].astype(np.float16) if use_half else full[0], *full[1:]]
    paths = files(dataset, directory)
    paths["manifest"].parent.mkdir(parents=True, exist_ok=True)
    with open(paths["weights"], "wb") as stream:
        np.savez_compressed(stream, **{f"w{i}": w for i, w in enumerate(stored)})
    paths["vocabulary"].write_text("\n".join(classifier.vocabulary.words), encoding="utf-8")
    info = {
        "format": FORMAT,
        "dataset": dataset,
        "config": classifier.config.as_dict(),
        "class_names": list(classifier.class_names),
        "test_accuracy": round(accuracy, 4),
        "test_accuracy_float32": round(accuracy32, 4),
        "test_accuracy_when_trained": round(float(classifier.test_accuracy), 4),
        "n_test": len(datasets.load(dataset).test.texts),
        "embedding_dtype": "float16" if use_half else "float32",
        "n_weights": len(stored),
        "weight_shapes": [list(w.shape) for w in stored],
        "archive": datasets.ARCHIVES[dataset],
        "archive_sha256": datasets.fingerprint(dataset),
        "data_sha256": data_digest(dataset),
        "trainer_version": textmodels.TRAINER_VERSION,
        "versions": _versions(),
        "history": classifier.history,
        "command": command or f"python -m model.prepare --dataset {dataset} --export-pretrained",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {paths[k].name: sha256(paths[k]) for k in ("weights", "vocabulary")},
    }
    paths["manifest"].write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    from model import pretrained_checkpoints  # its epochs, for the page's checkpoint comparison

    pretrained_checkpoints.path(dataset, directory).unlink(missing_ok=True)  # another run's
    if len(classifier.checkpoints) == classifier.config.epochs:
        info["checkpoints"] = pretrained_checkpoints.write(
            dataset, classifier.checkpoints, "the exported run itself", directory, classifier.history
        )
    return info


def _checkpoints_problem(dataset: str, info: dict) -> str | None:
    """What is wrong with the training checkpoints the manifest lists (None: nothing, or none listed)."""
    from model import pretrained_checkpoints

    if not info.get("checkpoints"):
        return None
    return pretrained_checkpoints.verify(dataset, info)


def main() -> int:
    """``python -m model.pretrained``: check the shipped files against their manifests (exit 1 if any fails)."""
    failed = 0
    for dataset in DATASETS:
        info = manifest(dataset)
        if info is None:
            print(f"{dataset}: FAILED: no pretrained files in {DIRECTORY}")
            failed += 1
            continue
        problem = verify(dataset, info) or _checkpoints_problem(dataset, info)
        failed += problem is not None
        shipped = [*files(dataset).values(), DIRECTORY / f"{dataset}.checkpoints.npz"]
        size = sum(path.stat().st_size for path in shipped if path.is_file())
        print(
            f"{dataset}: {'FAILED: ' + problem if problem else 'ok'} · test accuracy {info.get('test_accuracy')}"
            f" · {info.get('embedding_dtype')} embedding · {size / 2**20:.2f} MB"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
