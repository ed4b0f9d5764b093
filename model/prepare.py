"""Prepare a dataset for the analytics page: train, extract, project, cache.

Command line (contract)::

    python -m model.prepare --dataset {imdb,reuters} [--projection {pca,umap,tsne}]
                            [--sequences N] [--json]

With ``--json`` the last line of stdout is one JSON object with ``dataset``,
``classes``, ``test_accuracy``, ``n_sequences``, ``n_hidden_states``,
``projection``, ``seconds`` (per stage) and ``cached``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from model import cache, projection, textmodels
from model.artifacts import Analysis
from model.progress import Stages, line_reporter, parse_line

DATASETS = {
    "imdb": {"label": "IMDB reviews (positive / negative)", "sequences": 1000},
    "reuters": {"label": "Reuters-21578, five topics", "sequences": 2300},
}
PROJECTIONS = projection.METHODS
STAGE_WEIGHTS = {"dataset": 0.05, "train": 0.55, "extract": 0.15, "project": 0.25}
QUICK_PROFILE = {"config": {"max_train": 1000, "epochs": 1}, "sequences": 100}
ERROR_PREFIX = "RNNX-ERROR "


class PrepareError(RuntimeError):
    """Preparation failed; the message is meant for the user."""


def profile() -> str:
    """``RNNX_PROFILE``: ``full`` (the paper's settings, default) or ``quick`` (tiny, for tests and demos)."""
    return "quick" if os.environ.get("RNNX_PROFILE", "full").lower() == "quick" else "full"


def model_config(dataset: str) -> textmodels.ModelConfig:
    config = textmodels.default_config(dataset)
    return replace(config, **QUICK_PROFILE["config"]) if profile() == "quick" else config


def default_sequences(dataset: str) -> int:
    return QUICK_PROFILE["sequences"] if profile() == "quick" else DATASETS[dataset]["sequences"]


def _keys(dataset: str, n_sequences: int | None, method: str | None = None) -> dict[str, str]:
    config = model_config(dataset)
    n = n_sequences or default_sequences(dataset)
    classifier = textmodels.classifier_key(dataset, config)
    keys = {
        "classifier": classifier,
        "analysis": cache.make_key("analysis", classifier=classifier, n=n),
        "states": cache.make_key("states", classifier=classifier, n=n),
    }
    if method:
        params = projection.params_for(method)
        keys["projection"] = cache.make_key("projection", states=keys["states"], method=method, params=params)
        keys["projector"] = cache.make_key("projector", states=keys["states"], method=method, params=params)
    return keys


def load_analysis(dataset: str, n_sequences: int | None = None) -> Analysis | None:
    """The prepared analysis from the cache (no TensorFlow), or None if not prepared yet."""
    return cache.get(_keys(dataset, n_sequences)["analysis"])


def load_projection(dataset: str, method: str, n_sequences: int | None = None) -> np.ndarray | None:
    """(n_states, 2) positions of the prepared states, or None if not computed yet."""
    return cache.get(_keys(dataset, n_sequences, method)["projection"])


def load_projector(dataset: str, method: str, n_sequences: int | None = None) -> projection.Projector | None:
    return cache.get(_keys(dataset, n_sequences, method)["projector"])


def load_classifier(dataset: str) -> textmodels.TrainedClassifier | None:
    return cache.get(_keys(dataset, None)["classifier"])


def is_prepared(dataset: str, method: str, n_sequences: int | None = None) -> bool:
    keys = _keys(dataset, n_sequences, method)
    store = cache.get_cache()
    return keys["analysis"] in store and keys["projection"] in store


def prepare(
    dataset: str,
    projection_method: str = "pca",
    n_sequences: int | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    bars: bool = False,
) -> dict:
    """Train or load the classifier, extract every hidden state, project them; returns the summary."""
    from model import datasets

    if dataset not in DATASETS:
        raise PrepareError(f"Unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}.")
    projection.params_for(projection_method)
    n = n_sequences or default_sequences(dataset)
    keys = _keys(dataset, n, projection_method)
    config = model_config(dataset)
    stages = Stages(STAGE_WEIGHTS, on_progress, bars)
    seconds: dict[str, float] = {}
    hits: list[bool] = []

    def timed(name: str, label: str, total: int, work: Callable):
        start = time.perf_counter()
        with stages.stage(name, label, total) as update:
            result = work(update)
        seconds[name] = round(time.perf_counter() - start, 3)
        return result

    try:
        data = timed("dataset", "Reading the dataset", 1, lambda update: datasets.load(dataset))
    except datasets.DatasetError as error:
        raise PrepareError(str(error)) from error
    n = min(n, len(data.test.texts))
    classifier, hit = timed(
        "train",
        "Training the classifier",
        1,
        lambda update: textmodels.train_classifier(dataset, config, update),
    )
    hits.append(hit)

    def extract(update) -> dict:
        from model import extraction

        model = classifier.keras_model()
        texts = data.test.texts[:n]
        ids, words = textmodels.encode(texts, classifier.vocabulary, config.max_len)
        states = extraction.extract_states(model, ids, on_batch=update)
        analysis = Analysis(
            dataset=dataset,
            class_names=classifier.class_names,
            texts=texts,
            words=words,
            labels=data.test.labels[:n].copy(),
            predicted=states.predicted,
            confidence=states.confidence,
            offsets=states.offsets,
            ep=states.ep,
            distance=states.distance,
            summary={
                "dataset": dataset,
                "label": DATASETS[dataset]["label"],
                "cell_type": config.cell_type,
                "units": config.units,
                "test_accuracy": classifier.test_accuracy,
                "n_sequences": n,
                "n_hidden_states": int(states.offsets[-1]),
                "analysis_accuracy": float(np.mean(states.predicted == data.test.labels[:n])),
                "max_distance": float(states.distance.max()) if len(states.distance) else 0.0,
                "profile": profile(),
                "config": config.as_dict(),
            },
        )
        cache.put(keys["analysis"], analysis)
        return {"hidden": states.hidden, "cell": states.cell}

    states, hit = timed(
        "extract", "Extracting hidden states", n, lambda update: _memo_states(keys, extract, update)
    )
    hits.append(hit)

    def project(update) -> np.ndarray:
        points, projector = projection.fit(states["hidden"], projection_method, seed=config.seed)
        cache.put(keys["projector"], projector)
        return points

    _, hit = timed(
        "project",
        f"Projecting with {projection.LABELS[projection_method]}",
        1,
        lambda update: cache.memoize(keys["projection"], lambda: project(update)),
    )
    hits.append(hit)
    analysis = load_analysis(dataset, n)
    seconds["total"] = round(sum(seconds.values()), 3)
    return {
        "dataset": dataset,
        "classes": classifier.class_names,
        "test_accuracy": round(classifier.test_accuracy, 4),
        "n_sequences": n,
        "n_hidden_states": analysis.n_states,
        "projection": projection_method,
        "seconds": seconds,
        "cached": all(hits),
        "cell_type": config.cell_type,
        "units": config.units,
        "profile": profile(),
    }


def _memo_states(keys: dict[str, str], extract: Callable, update) -> tuple[dict, bool]:
    """The states bundle, recomputed if either it or the analysis is missing."""
    states = cache.get(keys["states"])
    if states is not None and cache.get_cache().__contains__(keys["analysis"]):
        return states, True
    states = extract(update)
    cache.put(keys["states"], states)
    return states, False


def run_prepare_subprocess(
    dataset: str,
    projection_method: str = "pca",
    n_sequences: int | None = None,
    on_progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Run the CLI in a fresh process (TensorFlow never runs in a forked web job); return its summary."""
    command = [sys.executable, "-m", "model.prepare", "--dataset", dataset, "--projection", projection_method]
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
    parser = argparse.ArgumentParser(prog="python -m model.prepare", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    parser.add_argument("--projection", default="pca", choices=PROJECTIONS)
    parser.add_argument("--sequences", type=int, default=None, help="number of test sequences to analyse")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    parser.add_argument("--progress-lines", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    reporter = line_reporter() if args.progress_lines else None
    try:
        summary = prepare(
            args.dataset, args.projection, args.sequences, reporter, bars=not args.progress_lines
        )
    except PrepareError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.progress_lines:
            print(ERROR_PREFIX + str(error), file=sys.stderr, flush=True)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{summary['dataset']}: test accuracy {summary['test_accuracy']:.3f}, "
            f"{summary['n_hidden_states']} hidden states of {summary['n_sequences']} sequences projected "
            f"with {summary['projection']} in {summary['seconds']['total']:.1f} s"
            + (" (cached)" if summary["cached"] else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
