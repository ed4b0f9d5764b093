"""The command line of :mod:`model.prepare` (``python -m model.prepare``).

Every failure ends as one line on stderr, ``error: <message>`` (and, with
``--progress-lines``, an ``RNNX-ERROR <message>`` line for the parent process),
never a traceback: exit code 2 for a problem with the input or the cache (the
message says what to do), 1 for an unexpected failure (``RNNX_DEBUG=1`` shows
its traceback), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time

from model import byo, cache, config, lifeline, prepare, textmodels
from model.progress import Stages, line_reporter


class _Parser(argparse.ArgumentParser):
    """argparse whose errors also reach a parent process (an ERROR_PREFIX line with --progress-lines)."""

    progress_lines = False

    def error(self, message: str):
        self.print_usage(sys.stderr)
        fail(f"{self.prog}: {message}", self.progress_lines, 2)
        sys.exit(2)


def _sequences(value: str) -> int | str:
    if value.strip().lower() == prepare.ALL_SEQUENCES:
        return prepare.ALL_SEQUENCES
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'all', not {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (or 'all'), not {number}")
    return number


def _session(value: str) -> str:
    if not byo.valid_session(value):
        raise argparse.ArgumentTypeError("expected 32 lowercase hexadecimal characters or 'cli'")
    return value


def _parser(prog: str = "python -m model.prepare") -> _Parser:
    parser = _Parser(prog=prog, description=prepare.__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=sorted(prepare.DATASETS))
    parser.add_argument(
        "--model", help="your text classifier, a Keras .keras or an ONNX .onnx file (with --csv)"
    )
    parser.add_argument("--csv", help="texts and labels for --model: a CSV, JSON Lines or Parquet file")
    parser.add_argument("--text-column", help="CSV column with the texts (guessed if omitted)")
    parser.add_argument("--label-column", help="CSV column with the labels (guessed if omitted)")
    parser.add_argument(
        "--vocab",
        help="vocabulary for a model that takes token ids (JSON, one token per line, or a tokenizer.json)",
    )
    parser.add_argument("--classes", help="comma-separated class names, in the model's output order")
    parser.add_argument("--layer", help="name of the recurrent layer to analyse (default: the last one)")
    parser.add_argument(
        "--session",
        default="cli",
        type=_session,
        help="whose upload folder keeps the files: 'cli' or a 32-hex session id (the app passes its own)",
    )
    parser.add_argument("--cell-type", choices=textmodels.CELL_TYPES, help="train a variant with this cell")
    parser.add_argument("--projection", default="pca", choices=prepare.PROJECTIONS)
    parser.add_argument(
        "--sequences",
        type=_sequences,
        default=None,
        help="number of test sequences to analyse, or 'all' (a dataset's whole test split; "
        "an upload always analyses every CSV row)",
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train the classifier anew (ignore the cache and the shipped pretrained files)",
    )
    parser.add_argument(
        "--export-pretrained",
        action="store_true",
        help="write the dataset's default classifier into model/pretrained/ (trains it if not cached)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    parser.add_argument("--progress-lines", action="store_true", help=argparse.SUPPRESS)
    return parser


# An absolute path (not a URL's): its folders are taken out of a message meant for the browser.
_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"():,]+/)*([^\s/'\"():,]+)")


def without_folders(text: str) -> str:
    """``text`` with absolute paths cut to their last part (``/srv/cache/x.npy`` -> ``x.npy``)."""
    return _PATH.sub(r"\1", text)


def fail(message: str, progress_lines: bool, code: int) -> int:
    """Report a failure as one line on stderr (and an ERROR_PREFIX line for a parent process).

    The parent is the web server, whose messages reach the browser: that line names no server folder.
    """
    line = " ".join(message.split())
    print(f"error: {line}", file=sys.stderr, flush=True)
    if progress_lines:
        print(prepare.ERROR_PREFIX + without_folders(line), file=sys.stderr, flush=True)
    return code


def _export(args: argparse.Namespace, reporter) -> dict:
    """``--export-pretrained``: the default classifier (cached or trained here) into model/pretrained/."""
    from model import pretrained

    if prepare.profile() != "full" or args.cell_type not in (None, "lstm"):
        raise prepare.PrepareError(
            "--export-pretrained writes the default LSTM classifiers only: unset RNNX_PROFILE "
            "(or set it to full) and leave out --cell-type."
        )
    from model import datasets

    start = time.perf_counter()
    try:
        datasets.load(args.dataset)  # downloads a missing archive, so the classifier's key sees it
    except datasets.DatasetError as error:
        raise prepare.PrepareError(str(error)) from error
    config = prepare.model_config(args.dataset)
    stages = Stages({"train": 1.0}, reporter, bars=not args.progress_lines)
    with stages.stage("train", "Training the classifier (or reading it from the cache)", 1) as update:
        # Never export the shipped files back into themselves: train anew when the cache holds those.
        classifier, source = textmodels.obtain_classifier(
            args.dataset, config, update, retrain=args.retrain, use_pretrained=False
        )
        if classifier.origin == "pretrained":
            classifier, source = textmodels.obtain_classifier(args.dataset, config, update, retrain=True)
    try:
        info = pretrained.export(classifier)
    except pretrained.ExportError as error:
        raise prepare.PrepareError(str(error)) from error
    paths = pretrained.files(args.dataset)
    return {
        "dataset": args.dataset,
        "classes": info["class_names"],
        "test_accuracy": info["test_accuracy"],
        "test_accuracy_float32": info["test_accuracy_float32"],
        "embedding_dtype": info["embedding_dtype"],
        "classifier_source": source,
        "files": {path.name: path.stat().st_size for path in paths.values()},
        "directory": str(paths["manifest"].parent),
        "seconds": {"total": round(time.perf_counter() - start, 3)},
        "exported": True,
    }


def _run(args: argparse.Namespace) -> dict:
    reporter = line_reporter() if args.progress_lines else None
    if args.export_pretrained:
        return _export(args, reporter)
    if args.model:
        return prepare.prepare_upload(
            args.model,
            args.csv,
            args.text_column,
            args.label_column,
            args.vocab,
            args.classes.split(",") if args.classes else None,
            args.layer,
            args.projection,
            session=args.session,
            on_progress=reporter,
            bars=not args.progress_lines,
        )
    dataset = prepare.variant_id(args.dataset, args.cell_type)
    return prepare.prepare(
        dataset, args.projection, args.sequences, reporter, bars=not args.progress_lines, retrain=args.retrain
    )


def _debug() -> bool:
    return config.env_flag("RNNX_DEBUG")


def main(argv: list[str] | None = None, prog: str = "python -m model.prepare") -> int:
    """The command line; every failure is one ``error: ...`` line on stderr, never a traceback.

    Exit codes: 0 done, 2 a problem with the input or the cache (the message says what to do),
    1 an unexpected failure (``RNNX_DEBUG=1`` shows its traceback), 130 interrupted.
    """
    from model.extraction import NotRecurrentError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(prog)
    parser.progress_lines = "--progress-lines" in argv
    args = parser.parse_args(argv)
    if bool(args.model) != bool(args.csv) or bool(args.dataset) == bool(args.model):
        parser.error("give either --dataset, or --model with --csv")
    if args.model and (args.retrain or args.export_pretrained):
        parser.error("--retrain and --export-pretrained go with --dataset")
    if args.model and args.sequences not in (None, prepare.ALL_SEQUENCES):
        parser.error(
            "an upload analyses every row of its CSV: --sequences N goes with --dataset (or use 'all')"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.progress_lines:  # started by the server or its warm-up: end with that process
        lifeline.follow_parent()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        summary = _run(args)
    except KeyboardInterrupt:
        return fail("interrupted", args.progress_lines, 130)
    except (prepare.PrepareError, byo.InputError, cache.CacheWriteError, NotRecurrentError) as error:
        return fail(str(error), args.progress_lines, 2)
    except Exception as error:
        if _debug():
            raise
        message = f"unexpected failure: {type(error).__name__}: {str(error)[:500]}"
        return fail(message, args.progress_lines, 1)
    if args.json:
        print(json.dumps(summary))
    elif summary.get("exported"):
        print(
            f"{summary['dataset']}: exported to {summary['directory']} (test accuracy "
            f"{summary['test_accuracy']:.4f}, {summary['embedding_dtype']} embedding, "
            f"classifier {summary['classifier_source']})"
        )
    else:
        missing = summary.get("rows_without_label") or 0
        print(
            f"{summary['dataset']}: test accuracy {summary['test_accuracy']:.3f}, "
            f"{summary['n_hidden_states']} hidden states of {summary['n_sequences']} sequences projected "
            f"with {summary['projection']} in {summary['seconds']['total']:.1f} s"
            + (" (cached)" if summary["cached"] else "")
            + (f"; {missing} CSV rows without a label were left out" if missing else "")
        )
    return 0
