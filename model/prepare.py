"""Prepare a dataset for the analytics page: train, extract, project, cache.

Command line (contract, :mod:`model.prepare_cli`)::

    python -m model.prepare --dataset {imdb,reuters} [--projection {pca,umap,tsne}]
                            [--sequences N|all] [--retrain] [--export-pretrained] [--json]
    python -m model.prepare --model x.keras --csv y.csv [--vocab v] [--text-column C]
                            [--label-column C] [--classes a,b] [--layer L] [--session S] [--json]

With ``--json`` the last line of stdout is one JSON object with ``dataset``,
``classes``, ``test_accuracy``, ``n_sequences``, ``n_hidden_states``,
``projection``, ``seconds`` (per stage), ``cached`` (false when a stored artefact was damaged:
it is rebuilt, and ``rebuilt`` says which and why) and, for a built-in dataset,
``classifier_source`` (``"pretrained"``: the shipped files of :mod:`model.pretrained`,
``"cache"`` or ``"trained"``); for an upload, ``rows_without_label``. A failure is
one ``error: ...`` line on stderr and a non-zero exit code, never a traceback.

The analysis, hidden and cell states and projections are stored as memory-mapped arrays
(:mod:`model.storage`, :mod:`model.arrays`), extracted a chunk of sequences at a time; a
smaller set of a dataset whose whole test split is prepared is copied from it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from model import (
    arrays,
    byo,
    byo_models,
    byo_table,
    cache,
    config,
    neighbors_ivf,
    projection,
    storage,
    textmodels,
)
from model.artifacts import Analysis
from model.prepare_run import PrepareError, Run
from model.progress import parse_line

# ``sizes``: the analysis sizes the page offers (the first is the default; "all" is the whole test
# split of ``test_size`` sequences). A size other than the default is part of the id: ``imdb~5000``.
DATASETS = {
    "imdb": {
        "label": "IMDB reviews (positive / negative)",
        "sequences": 1000,
        "sizes": (1000, 5000, "all"),
        "test_size": 25000,
        "unit": "reviews",
    },
    "reuters": {
        "label": "Reuters-21578, five topics",
        "sequences": 2300,
        "sizes": ("all",),
        "test_size": 2300,
        "unit": "newswires",
    },
}
PROJECTIONS = projection.METHODS
STAGE_WEIGHTS = {"dataset": 0.05, "train": 0.55, "extract": 0.15, "project": 0.25, "neighbors": 0.03}
# Without training (a cached or pretrained classifier) extraction is most of the work.
STAGE_WEIGHTS_LOADED = {"dataset": 0.15, "train": 0.05, "extract": 0.6, "project": 0.2, "neighbors": 0.05}
QUICK_PROFILE = {"config": {"max_train": 1000, "epochs": 1}, "sequences": 100}
ERROR_PREFIX = "RNNX-ERROR "
log = logging.getLogger("rnnx.prepare")
ALL_SEQUENCES = "all"
SIZE_MARK = "~"  # "imdb~all": the whole test split of IMDB
STORAGE_FORMAT = 1  # of the analysis, states and projection artefacts (model.storage)
TRAIN_LABELS = {
    "cache": "Loading the classifier",
    "pretrained": "Loading the pretrained classifier",
    "trained": "Training the classifier",
}


def profile() -> str:
    """``RNNX_PROFILE``: ``full`` (the paper's settings, default) or ``quick`` (tiny, for tests and demos)."""
    return config.profile()


def split_variant(dataset: str) -> tuple[str, str | None]:
    """``"reuters@gru"`` → ``("reuters", "gru")``: a built-in dataset with another cell type."""
    name, _, _size = dataset.partition(SIZE_MARK)
    base, _, cell_type = name.partition("@")
    return base, (cell_type or None)


def requested_size(dataset: str) -> int | str | None:
    """The analysis size written in the id (``imdb~5000`` → 5000, ``imdb~all`` → "all"), else None."""
    _name, mark, size = dataset.partition(SIZE_MARK)
    if not mark:
        return None
    return ALL_SEQUENCES if size == ALL_SEQUENCES else int(size)


def variant_id(dataset: str, cell_type: str | None) -> str:
    """The id of ``dataset`` trained with ``cell_type`` (the plain name for the default LSTM); keeps the size."""
    base, _ = split_variant(dataset)
    _name, mark, size = dataset.partition(SIZE_MARK)
    name = base if cell_type in (None, "", "lstm") else f"{base}@{cell_type}"
    return f"{name}{mark}{size}"


def model_config(dataset: str) -> textmodels.ModelConfig:
    base, cell_type = split_variant(dataset)
    config = textmodels.default_config(base)
    if cell_type:
        config = replace(config, cell_type=cell_type)
    return replace(config, **QUICK_PROFILE["config"]) if profile() == "quick" else config


def default_sequences(dataset: str) -> int:
    """How many test sequences ``dataset``'s id stands for (its size, else the dataset's default)."""
    base, _ = split_variant(dataset)
    size = requested_size(dataset)
    if size == ALL_SEQUENCES:
        return DATASETS[base]["test_size"]
    if size is not None:
        return min(int(size), DATASETS[base]["test_size"])
    return QUICK_PROFILE["sequences"] if profile() == "quick" else DATASETS[base]["sequences"]


def projection_seed(dataset: str) -> int:
    """The seed of a dataset's projections: its classifier's seed (0 for an upload)."""
    return 0 if byo.is_upload(dataset) else model_config(dataset).seed


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
    base["storage"] = STORAGE_FORMAT
    keys["analysis"] = cache.make_key(f"{prefix}analysis", **base)
    keys["states"] = cache.make_key(f"{prefix}states", **base)
    keys["neighbors"] = cache.make_key(f"{prefix}neighbors", states=keys["states"], **neighbors_ivf.params())
    if method:
        params = {**projection.params_for(method), "seed": projection_seed(dataset)}
        for kind in ("projection", "projector"):
            keys[kind] = cache.make_key(
                f"{prefix}{kind}", states=keys["states"], method=method, params=params
            )
    return keys


def upload_keys(upload_id: str, method: str) -> dict[str, str]:
    """The cache keys a preparation of ``upload_id`` with ``method`` writes (``model.upload_store``)."""
    return _keys(upload_id, None, method)


def load_analysis(dataset: str, n_sequences: int | None = None) -> Analysis | None:
    """The prepared analysis (per-state arrays memory-mapped; no TensorFlow), or None if not prepared."""
    return storage.load_analysis(_keys(dataset, n_sequences)["analysis"])


def load_projection(dataset: str, method: str, n_sequences: int | None = None) -> np.ndarray | None:
    """(n_states, 2) float32 positions of the prepared states (memory-mapped), or None if not computed."""
    return storage.load_projection(_keys(dataset, n_sequences, method)["projection"])


def load_projector(dataset: str, method: str, n_sequences: int | None = None) -> projection.Projector | None:
    return cache.get(_keys(dataset, n_sequences, method)["projector"])


def load_states(dataset: str, n_sequences: int | None = None) -> dict | None:
    """``{"hidden": (n_states, units), "cell": ... or None}`` (float16, memory-mapped) of the analysis."""
    return storage.load_states(_keys(dataset, n_sequences)["states"])


def load_neighbor_index(dataset: str, n_sequences: int | None = None) -> neighbors_ivf.IvfIndex | None:
    """The nearest-neighbour index of the prepared states (memory-mapped), or None if not built."""
    keys = _keys(dataset, n_sequences)
    states = storage.load_states(keys["states"])
    stored = storage.load_neighbor_index(keys["neighbors"]) if states is not None else None
    return None if stored is None else neighbors_ivf.IvfIndex(states["hidden"], stored)


def build_neighbor_index(dataset: str, on_progress: Callable | None = None, bars: bool = False) -> dict:
    """Build the missing nearest-neighbour index of a prepared set (a cache from before the index)."""
    keys = _keys(dataset, None)
    if not arrays.contains(keys["states"]):
        raise PrepareError(f"The hidden states of {dataset} are not prepared.")
    with Run(on_progress, bars, {"neighbors": 1.0}) as run:
        run.neighbors(keys)
    return {"dataset": dataset, "seconds": run.seconds, "cached": all(run.hits)}


def load_classifier(dataset: str) -> textmodels.TrainedClassifier | None:
    return cache.get(_keys(dataset, None)["classifier"])


def is_prepared(dataset: str, method: str, n_sequences: int | None = None) -> bool:
    keys = _keys(dataset, n_sequences, method)
    return arrays.contains(keys["analysis"]) and arrays.contains(keys["projection"])


def _chunks(extractor, encode: Callable[[int, int], tuple]) -> Callable:
    """``run_chunk(start, stop, on_batch)`` for :func:`model.storage.extract` over one extractor."""

    def run_chunk(start: int, stop: int, on_batch) -> storage.Chunk:
        ids, inputs, words = encode(start, stop)
        return storage.chunk_from(extractor.run(ids, inputs, on_batch=on_batch), words)

    return run_chunk


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
    n_sequences = n_sequences or requested_size(dataset)
    projection.params_for(projection_method)
    config = model_config(dataset)
    plan = textmodels.classifier_plan(base, config, retrain)  # before a download: "trained"
    weights = STAGE_WEIGHTS if plan == "trained" else STAGE_WEIGHTS_LOADED
    with Run(on_progress, bars, weights, force=retrain) as run:
        try:
            data = run.timed("dataset", "Reading the dataset", 1, lambda update: datasets.load(base))
        except datasets.DatasetError as error:
            raise PrepareError(str(error)) from error
        total = len(data.test.texts)
        n = total if n_sequences == ALL_SEQUENCES else min(n_sequences or default_sequences(dataset), total)
        keys = _keys(dataset, n, projection_method)
        run.plan(keys, projection_method)
        classifier, source = run.timed(
            "train",
            TRAIN_LABELS[plan],
            1,
            lambda update: textmodels.obtain_classifier(base, config, update, retrain=retrain),
        )
        run.hits.append(source != "trained")
        run.extra["classifier_source"] = source
        texts, labels = data.test.texts[:n], np.asarray(data.test.labels[:n])

        def extract(update, scratch) -> None:
            from model import extraction

            def encode(start: int, stop: int) -> tuple:
                ids, words = textmodels.encode(texts[start:stop], classifier.vocabulary, config.max_len)
                return ids, None, words

            summary = {
                "dataset": dataset,
                "label": DATASETS[base]["label"] + (f" · {cell_type.upper()}" if cell_type else ""),
                "cell_type": config.cell_type,
                "units": config.units,
                "test_accuracy": classifier.test_accuracy,
                "config": config.as_dict(),
                "profile": profile(),
            }
            run_chunk = _chunks(extraction.StateExtractor(classifier.keras_model()), encode)
            meta = {"dataset": dataset, "class_names": classifier.class_names}
            storage.extract(
                keys, n, run_chunk, texts, labels, meta, lambda predicted: summary, update, retrain, scratch
            )

        larger = _keys(dataset, total) if n < total else None  # the whole split, when prepared
        run.states(keys, n, extract, prefix_of=larger)
        run.project(keys, projection_method, config.seed)
        run.neighbors(keys)
        analysis = load_analysis(dataset, n)
        return run.summary(analysis, projection_method, classifier.test_accuracy, base, profile())


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
    """The whole pipeline for a user's Keras or ONNX model and CSV; the summary's ``dataset`` is the upload id."""
    # Everything the files themselves can tell is checked before TensorFlow starts.
    model_path = byo.check_file(model_path, "model file")
    csv_path = byo.check_file(csv_path, "CSV file")
    vocab_path = byo.check_file(vocab_path, "vocabulary file") if vocab_path else None
    byo.check_size(csv_path.stat().st_size, "CSV file")
    allow_external = session == "cli"  # ONNX weights in files beside the model: never from the page
    # safety, layer name, inputs, vocabulary ids (a Keras archive or an ONNX graph: model.byo_models)
    byo_models.check_model_file(model_path, layer_name, vocab_path, allow_external)
    with Run(on_progress, bars, STAGE_WEIGHTS) as run:
        csv_bytes = csv_path.read_bytes()
        data = run.timed(
            "dataset",
            "Reading the CSV",
            1,
            lambda update: byo_table.read_table(
                csv_bytes, csv_path.name, text_column, label_column, class_names
            ),
        )
        options = json.dumps([data.text_column, data.label_column, data.class_names, layer_name]).encode()
        parts = [model_path.read_bytes(), csv_bytes, vocab_path.read_bytes() if vocab_path else b"", options]
        upload_id = byo.upload_id_for(*parts)
        keys = _keys(upload_id, None, projection_method)
        run.plan(keys, projection_method)
        model = run.timed(
            "train",
            "Loading the model",
            1,
            lambda update: byo_models.load(model_path, layer_name, vocab_path, allow_external),
        )
        if model.n_outputs != len(data.class_names):
            raise byo.InputError(
                f"The CSV's labels have {len(data.class_names)} classes ({', '.join(data.class_names[:8])}) "
                f"but the model has {model.n_outputs} outputs."
            )
        kept_model, kept_vocab = byo.store_files(
            upload_id, model.file_to_keep(model_path), vocab_path, session
        )
        max_len = model.max_len
        spec = byo.UploadSpec(
            upload_id, str(kept_model), kept_vocab and str(kept_vocab), layer_name, data.class_names, max_len
        )
        cache.put(keys["classifier"], spec)
        run.hits.append(True)

        def extract(update, scratch) -> None:
            inputs, ids, words = model.encode(data.texts)
            extractor = model  # runs its texts as model.extraction.StateExtractor does

            def describe(predicted: np.ndarray) -> dict:
                return {
                    "dataset": upload_id,
                    "label": f"{model_path.name} on {csv_path.name}",
                    **model.describe(),  # cell_type, units, layer, recurrent_layers (and the format)
                    "test_accuracy": float(np.mean(predicted == data.labels)) if len(predicted) else 0.0,
                    "rows_without_label": data.rows_without_label,
                    "profile": profile(),
                }

            def encode(start: int, stop: int) -> tuple:
                return ids[start:stop], inputs[start:stop], words[start:stop]

            meta = {"dataset": upload_id, "class_names": data.class_names}
            run_chunk = _chunks(extractor, encode)
            storage.extract(
                keys,
                len(data.texts),
                run_chunk,
                data.texts,
                data.labels,
                meta,
                describe,
                update,
                False,
                scratch,
            )

        run.states(keys, len(data.texts), extract)
        run.project(keys, projection_method, seed=projection_seed(upload_id))
        run.neighbors(keys)
        analysis = load_analysis(upload_id)
        summary = run.summary(
            analysis, projection_method, analysis.summary["test_accuracy"], upload_id, profile()
        )
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
    n_sequences = n_sequences or (None if upload_args else requested_size(dataset))
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
        elif line.startswith("WARNING: "):  # the child's log (a damaged artefact rebuilt, say): kept here
            log.warning("Preparing %s: %s", dataset, line[len("WARNING: ") :].strip())
    stdout = proc.stdout.read()
    if proc.wait() != 0:
        raise PrepareError(error or f"Preparing {dataset} failed (exit code {proc.returncode}).")
    return json.loads(stdout.strip().splitlines()[-1])


def run_neighbor_index_subprocess(dataset: str) -> dict:
    """Build ``dataset``'s missing neighbour index in a fresh process (``python -m model.neighbors_build``)."""
    command = [sys.executable, "-m", "model.neighbors_build", "--dataset", dataset, "--progress-lines"]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        command, cwd=root, capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
        raise PrepareError(errors[-1][len(ERROR_PREFIX) :] if errors else f"exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """The command line (:mod:`model.prepare_cli`): one ``error: ...`` line on any failure, never a traceback."""
    from model import prepare_cli

    return prepare_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
