"""Prepare a dataset for the analytics page: train, extract, project, cache.

Command line (contract, :mod:`model.prepare_cli`)::

    python -m model.prepare --dataset {imdb,reuters} [--projection {pca,umap,tsne}]
                            [--sequences N|all] [--retrain] [--export-pretrained] [--json]
    python -m model.prepare --model x.keras --csv y.csv [--vocab v] [--text-column C]
                            [--label-column C] [--classes a,b] [--layer L] [--session S] [--json]

With ``--json`` the last line of stdout is one JSON object with ``dataset``,
``classes``, ``test_accuracy``, ``n_sequences``, ``n_hidden_states``,
``projection``, ``seconds`` (per stage), ``cached`` and, for a built-in dataset,
``classifier_source`` (``"pretrained"``: the shipped files of :mod:`model.pretrained`,
``"cache"`` or ``"trained"``); for an upload, ``rows_without_label``. A failure is
one ``error: ...`` line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from model import byo, cache, projection, textmodels
from model.artifacts import Analysis
from model.progress import Stages, parse_line

DATASETS = {
    "imdb": {"label": "IMDB reviews (positive / negative)", "sequences": 1000},
    "reuters": {"label": "Reuters-21578, five topics", "sequences": 2300},
}
PROJECTIONS = projection.METHODS
STAGE_WEIGHTS = {"dataset": 0.05, "train": 0.55, "extract": 0.15, "project": 0.25}
# Without training (a cached or pretrained classifier) extraction is most of the work.
STAGE_WEIGHTS_LOADED = {"dataset": 0.15, "train": 0.05, "extract": 0.6, "project": 0.2}
QUICK_PROFILE = {"config": {"max_train": 1000, "epochs": 1}, "sequences": 100}
ERROR_PREFIX = "RNNX-ERROR "
ALL_SEQUENCES = "all"
TRAIN_LABELS = {
    "cache": "Loading the classifier",
    "pretrained": "Loading the pretrained classifier",
    "trained": "Training the classifier",
}


class PrepareError(RuntimeError):
    """Preparation failed; the message is meant for the user."""


def profile() -> str:
    """``RNNX_PROFILE``: ``full`` (the paper's settings, default) or ``quick`` (tiny, for tests and demos)."""
    return "quick" if os.environ.get("RNNX_PROFILE", "full").lower() == "quick" else "full"


def split_variant(dataset: str) -> tuple[str, str | None]:
    """``"reuters@gru"`` → ``("reuters", "gru")``: a built-in dataset with another cell type."""
    base, _, cell_type = dataset.partition("@")
    return base, (cell_type or None)


def variant_id(dataset: str, cell_type: str | None) -> str:
    """The id of ``dataset`` trained with ``cell_type`` (the plain name for the default LSTM)."""
    base, _ = split_variant(dataset)
    return base if cell_type in (None, "", "lstm") else f"{base}@{cell_type}"


def model_config(dataset: str) -> textmodels.ModelConfig:
    base, cell_type = split_variant(dataset)
    config = textmodels.default_config(base)
    if cell_type:
        config = replace(config, cell_type=cell_type)
    return replace(config, **QUICK_PROFILE["config"]) if profile() == "quick" else config


def default_sequences(dataset: str) -> int:
    base, _ = split_variant(dataset)
    return QUICK_PROFILE["sequences"] if profile() == "quick" else DATASETS[base]["sequences"]


def _keys(dataset: str, n_sequences: int | None, method: str | None = None) -> dict[str, str]:
    # An upload's results live in the uploads cache (kinds prefixed "upload-"), so they never evict
    # prepared built-in models, states or projections.
    upload = byo.is_upload(dataset)
    prefix = f"{cache.UPLOAD_PREFIX}-" if upload else ""
    if upload:
        base = {"upload": dataset}
        keys = {"classifier": byo.spec_key(dataset)}
    else:
        classifier = textmodels.classifier_key(split_variant(dataset)[0], model_config(dataset))
        base = {"classifier": classifier, "n": n_sequences or default_sequences(dataset)}
        keys = {"classifier": classifier}
    keys["analysis"] = cache.make_key(f"{prefix}analysis", **base)
    keys["states"] = cache.make_key(f"{prefix}states", **base)
    if method:
        params = projection.params_for(method)
        for kind in ("projection", "projector"):
            keys[kind] = cache.make_key(
                f"{prefix}{kind}", states=keys["states"], method=method, params=params
            )
    return keys


def load_analysis(dataset: str, n_sequences: int | None = None) -> Analysis | None:
    """The prepared analysis from the cache (no TensorFlow), or None if not prepared yet."""
    return cache.get(_keys(dataset, n_sequences)["analysis"])


def load_projection(dataset: str, method: str, n_sequences: int | None = None) -> np.ndarray | None:
    """(n_states, 2) positions of the prepared states, or None if not computed yet."""
    return cache.get(_keys(dataset, n_sequences, method)["projection"])


def load_projector(dataset: str, method: str, n_sequences: int | None = None) -> projection.Projector | None:
    return cache.get(_keys(dataset, n_sequences, method)["projector"])


def load_states(dataset: str, n_sequences: int | None = None) -> dict | None:
    """``{"hidden": (n_states, units), "cell": ... or None}`` of the prepared analysis."""
    return cache.get(_keys(dataset, n_sequences)["states"])


def load_classifier(dataset: str) -> textmodels.TrainedClassifier | None:
    return cache.get(_keys(dataset, None)["classifier"])


def is_prepared(dataset: str, method: str, n_sequences: int | None = None) -> bool:
    keys = _keys(dataset, n_sequences, method)
    return cache.contains(keys["analysis"]) and cache.contains(keys["projection"])


class _Run:
    """One preparation: timed stages with progress, and whether each was a cache hit."""

    def __init__(
        self,
        on_progress: Callable[[float, str], None] | None,
        bars: bool,
        force: bool = False,
        weights: dict[str, float] = STAGE_WEIGHTS,
    ) -> None:
        self.stages = Stages(weights, on_progress, bars)
        self.seconds: dict[str, float] = {}
        self.hits: list[bool] = []
        self.force = force  # recompute states and projection even when cached (after --retrain)
        self.extra: dict = {}

    def timed(self, name: str, label: str, total: int, work: Callable):
        start = time.perf_counter()
        with self.stages.stage(name, label, total) as update:
            result = work(update)
        self.seconds[name] = round(time.perf_counter() - start, 3)
        return result

    def states(self, keys: dict[str, str], n: int, extract: Callable) -> dict:
        """Hidden states (and the analysis), recomputed if either is missing from the cache."""

        def cached() -> dict | None:
            states = cache.get(keys["states"])
            return states if states is not None and cache.contains(keys["analysis"]) else None

        def work(update) -> dict:
            states = None if self.force else cached()
            if states is not None:
                self.hits.append(True)
                return states
            if isinstance(cache.store_for(keys["analysis"]), cache.ReadOnlyCache):
                return self._extract(keys, extract, update)
            # One extraction at a time per analysis: a second preparation (the warm-up and a
            # visitor's) waits for the first and then reads its result.
            with cache.computing_lock(keys["analysis"]):
                states = None if self.force else cached()
                if states is not None:
                    self.hits.append(True)
                    return states
                return self._extract(keys, extract, update)

        return self.timed("extract", "Extracting hidden states", n, work)

    def _extract(self, keys: dict[str, str], extract: Callable, update) -> dict:
        analysis, states = extract(update)
        cache.put(keys["analysis"], analysis)
        cache.put(keys["states"], states)
        self.hits.append(False)
        return states

    def project(self, keys: dict[str, str], hidden: np.ndarray, method: str, seed: int) -> None:
        def compute() -> np.ndarray:
            points, projector = projection.fit(hidden, method, seed=seed)
            cache.put(keys["projector"], projector)
            return points

        def work(update) -> tuple[np.ndarray, bool]:
            if self.force:
                points = compute()
                cache.put(keys["projection"], points)
                return points, False
            return cache.memoize(keys["projection"], compute)

        _, hit = self.timed("project", f"Projecting with {projection.LABELS[method]}", 1, work)
        self.hits.append(hit)

    def summary(self, analysis: Analysis, method: str, accuracy: float) -> dict:
        self.seconds["total"] = round(sum(self.seconds.values()), 3)
        return {
            "dataset": split_variant(analysis.dataset)[0],
            "dataset_id": analysis.dataset,
            "classes": analysis.class_names,
            "test_accuracy": round(accuracy, 4),
            "n_sequences": analysis.n_sequences,
            "n_hidden_states": analysis.n_states,
            "projection": method,
            "seconds": self.seconds,
            "cached": all(self.hits),
            "cell_type": analysis.summary.get("cell_type"),
            "units": analysis.summary.get("units"),
            "profile": profile(),
            **self.extra,
        }


def _analysis(
    dataset: str, class_names: list[str], texts: list[str], words, labels, states, summary: dict
) -> Analysis:
    return Analysis(
        dataset=dataset,
        class_names=class_names,
        texts=texts,
        words=words,
        labels=np.asarray(labels, dtype=np.int64),
        predicted=states.predicted,
        confidence=states.confidence,
        offsets=states.offsets,
        ep=states.ep,
        distance=states.distance,
        summary={
            **summary,
            "n_sequences": len(texts),
            "n_hidden_states": int(states.offsets[-1]),
            "analysis_accuracy": float(np.mean(states.predicted == np.asarray(labels)))
            if len(texts)
            else 0.0,
            "max_distance": float(states.distance.max()) if len(states.distance) else 0.0,
            "profile": profile(),
        },
    )


def prepare(
    dataset: str,
    projection_method: str = "pca",
    n_sequences: int | str | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    bars: bool = False,
    retrain: bool = False,
) -> dict:
    """Train or load the classifier, extract every hidden state, project them; returns the summary.

    ``n_sequences``: how many test sequences to analyse (default per dataset), or ``"all"``.
    ``retrain``: train the classifier anew (ignoring the cache and the shipped pretrained files)
    and recompute this analysis and projection with it.
    """
    from model import datasets

    base, cell_type = split_variant(dataset)
    if base not in DATASETS or cell_type not in (None, *textmodels.CELL_TYPES):
        raise PrepareError(f"Unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}.")
    projection.params_for(projection_method)
    config = model_config(dataset)
    plan = textmodels.classifier_plan(base, config, retrain)  # before a download: "trained"
    weights = STAGE_WEIGHTS if plan == "trained" else STAGE_WEIGHTS_LOADED
    run = _Run(on_progress, bars, force=retrain, weights=weights)
    try:
        data = run.timed("dataset", "Reading the dataset", 1, lambda update: datasets.load(base))
    except datasets.DatasetError as error:
        raise PrepareError(str(error)) from error
    total = len(data.test.texts)
    n = total if n_sequences == ALL_SEQUENCES else min(n_sequences or default_sequences(dataset), total)
    keys = _keys(dataset, n, projection_method)
    classifier, source = run.timed(
        "train",
        TRAIN_LABELS[plan],
        1,
        lambda update: textmodels.obtain_classifier(base, config, update, retrain=retrain),
    )
    run.hits.append(source != "trained")
    run.extra["classifier_source"] = source

    def extract(update) -> tuple[Analysis, dict]:
        from model import extraction

        texts = data.test.texts[:n]
        ids, words = textmodels.encode(texts, classifier.vocabulary, config.max_len)
        states = extraction.extract_states(classifier.keras_model(), ids, on_batch=update)
        summary = {
            "dataset": dataset,
            "label": DATASETS[base]["label"] + (f" · {cell_type.upper()}" if cell_type else ""),
            "cell_type": config.cell_type,
            "units": config.units,
            "test_accuracy": classifier.test_accuracy,
            "config": config.as_dict(),
        }
        analysis = _analysis(
            dataset, classifier.class_names, texts, words, data.test.labels[:n], states, summary
        )
        return analysis, {"hidden": states.hidden, "cell": states.cell}

    states = run.states(keys, n, extract)
    run.project(keys, states["hidden"], projection_method, config.seed)
    return run.summary(load_analysis(dataset, n), projection_method, classifier.test_accuracy)


def prepare_upload(
    model_path: str | Path,
    csv_path: str | Path,
    text_column: str | None = None,
    label_column: str | None = None,
    vocab_path: str | Path | None = None,
    class_names: list[str] | None = None,
    layer_name: str | None = None,
    projection_method: str = "pca",
    session: str = "cli",
    on_progress: Callable[[float, str], None] | None = None,
    bars: bool = False,
) -> dict:
    """The whole pipeline for a user's Keras model and CSV; the summary's ``dataset`` is the upload id."""
    # Everything the files themselves can tell is checked before TensorFlow starts.
    model_path = byo.check_file(model_path, "model file")
    csv_path = byo.check_file(csv_path, "CSV file")
    vocab_path = byo.check_file(vocab_path, "vocabulary file") if vocab_path else None
    byo.check_size(csv_path.stat().st_size, "CSV file")
    vocabulary = byo.read_vocabulary(vocab_path) if vocab_path else None
    byo.check_model_file(model_path, layer_name, vocabulary)  # archive, layer name, inputs, vocabulary ids
    run = _Run(on_progress, bars)
    csv_bytes = csv_path.read_bytes()
    data = run.timed(
        "dataset",
        "Reading the CSV",
        1,
        lambda update: byo.read_csv(csv_bytes, text_column, label_column, class_names),
    )
    options = json.dumps([data.text_column, data.label_column, data.class_names, layer_name]).encode()
    parts = [model_path.read_bytes(), csv_bytes, vocab_path.read_bytes() if vocab_path else b"", options]
    upload_id = byo.upload_id_for(*parts)
    keys = _keys(upload_id, None, projection_method)
    model = run.timed("train", "Loading the model", 1, lambda update: byo.load_model(model_path))
    if byo.n_outputs(model) != len(data.class_names):
        raise byo.InputError(
            f"The CSV's labels have {len(data.class_names)} classes ({', '.join(data.class_names[:8])}) "
            f"but the model has {byo.n_outputs(model)} outputs."
        )
    kept_model, kept_vocab = byo.store_files(upload_id, model_path, vocab_path, session)
    max_len = byo.model_max_len(model)
    spec = byo.UploadSpec(
        upload_id, str(kept_model), kept_vocab and str(kept_vocab), layer_name, data.class_names, max_len
    )
    cache.put(keys["classifier"], spec)
    run.hits.append(True)

    def extract(update) -> tuple[Analysis, dict]:
        from model import extraction

        inputs, ids, words = byo.encode_for_model(model, data.texts, vocabulary, max_len)
        states = extraction.extract_states(model, ids, layer_name=layer_name, inputs=inputs, on_batch=update)
        layer = extraction.find_recurrent_layer(model, layer_name)
        accuracy = float(np.mean(states.predicted == data.labels))
        summary = {
            "dataset": upload_id,
            "label": f"{model_path.name} on {csv_path.name}",
            "cell_type": extraction.cell_type_of(layer),
            "units": int(states.hidden.shape[1]) if states.hidden.size else 0,
            "layer": layer.name,
            "recurrent_layers": [lay.name for lay in extraction.recurrent_layers(model)],
            "test_accuracy": accuracy,
            "rows_without_label": data.rows_without_label,
        }
        analysis = _analysis(upload_id, data.class_names, data.texts, words, data.labels, states, summary)
        return analysis, {"hidden": states.hidden, "cell": states.cell}

    states = run.states(keys, len(data.texts), extract)
    run.project(keys, states["hidden"], projection_method, seed=0)
    analysis = load_analysis(upload_id)
    summary = run.summary(analysis, projection_method, analysis.summary["test_accuracy"])
    return {**summary, "rows_without_label": data.rows_without_label}


def run_prepare_subprocess(
    dataset: str,
    projection_method: str = "pca",
    n_sequences: int | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    upload_args: list[str] | None = None,
) -> dict:
    """Run the CLI in a fresh process (TensorFlow never runs in a forked web job); return its summary.

    ``upload_args`` (``["--model", path, "--csv", path, ...]``) prepare an upload instead of ``dataset``.
    """
    base, cell_type = split_variant(dataset)
    source = upload_args or ["--dataset", base, *(["--cell-type", cell_type] if cell_type else [])]
    command = [sys.executable, "-m", "model.prepare", *source, "--projection", projection_method]
    command += ["--json", "--progress-lines"]
    if n_sequences:
        command += ["--sequences", str(n_sequences)]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    error = ""
    for line in proc.stderr:
        progress = parse_line(line)
        if progress and on_progress:
            on_progress(*progress)
        elif line.startswith(ERROR_PREFIX):
            error = line[len(ERROR_PREFIX) :].strip()
    stdout = proc.stdout.read()
    if proc.wait() != 0:
        raise PrepareError(error or f"Preparing {dataset} failed (exit code {proc.returncode}).")
    return json.loads(stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """The command line (:mod:`model.prepare_cli`): one ``error: ...`` line on any failure, never a traceback."""
    from model import prepare_cli

    return prepare_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
