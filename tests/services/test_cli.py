"""The prepare CLI at its boundary: every bad input ends as one ``error: ...`` line, never a traceback.

Each case runs the real CLI (``python -m model.prepare``) in a subprocess with its own cache
folder, in plain mode and in ``--progress-lines`` mode (which adds an ``RNNX-ERROR`` line for
the web app). The cases are all refused before TensorFlow starts, except the cache-write one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model import byo, prepare, prepare_cli
from tests.support.byo_models import (
    float_input_model,
    sentiment_texts,
    token_id_model,
    write_csv,
    write_vocabulary,
)
from tests.support.servers import ROOT

SESSION = "0123456789abcdef" * 2


def run_cli(
    args: list[str], cache_dir: Path, progress: bool = False, env: dict | None = None, code: str | None = None
) -> subprocess.CompletedProcess:
    """``python -m model.prepare ARGS`` (or ``python -c CODE ARGS``) with its own cache folder."""
    head = ["-c", code] if code else ["-m", "model.prepare"]
    command = [sys.executable, *head, *args, *(["--progress-lines"] if progress else [])]
    environment = {key: value for key, value in os.environ.items() if key != "RNNX_DEBUG"}
    environment.update({"RNNX_CACHE_DIR": str(cache_dir), **(env or {})})
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, words: list[str], progress: bool) -> str:
    """Non-zero exit, no traceback, one ``error:`` line holding ``words`` (and the RNNX-ERROR line)."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]
    prefixed = [line for line in result.stderr.splitlines() if line.startswith(prepare.ERROR_PREFIX)]
    if progress:
        assert prefixed == [prepare.ERROR_PREFIX + errors[0][len("error: ") :]], result.stderr
    else:
        assert not prefixed
    return errors[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("cli")
    texts, labels = sentiment_texts(40)
    vocab, n_ids = write_vocabulary(folder / "vocab.txt", texts)
    no_labels = folder / "no-labels.csv"
    no_labels.write_text("comment,label\n" + "".join(f"{text},\n" for text in texts[:5]), encoding="utf-8")
    jsons = {
        "vocab-strings.json": {"good": "5", "bad": 2},
        "vocab-lists.json": {"good": [1, 2], "bad": 2},
        "vocab-negative.json": {"good": -1, "bad": 2},
        "vocab-too-big.json": {"good": n_ids + 500, "bad": 2},
        "vocab-array.json": ["good", "bad"],
    }
    for name, value in jsons.items():
        (folder / name).write_text(json.dumps(value), encoding="utf-8")
    return {
        "folder": folder,
        "model": token_id_model(folder / "tokens.keras", n_ids),
        "float": float_input_model(folder / "float.keras"),
        "csv": write_csv(folder / "reviews.csv", texts, labels, "comment", "label"),
        "no-labels": no_labels,
        "vocab": vocab,
        "n_ids": n_ids,
    }


def _upload(files: dict, model: str = "model", csv: str = "csv", vocab: str = "vocab") -> list[str]:
    pick = lambda key: str(files[key]) if key in files else str(files["folder"] / key)  # noqa: E731
    return ["--model", pick(model), "--csv", pick(csv), "--vocab", pick(vocab)]


CASES = {
    "missing model": (
        lambda f: _upload(f, model="nowhere.keras"),
        ["model file", "nowhere.keras", "not found"],
    ),
    "missing csv": (lambda f: _upload(f, csv="nowhere.csv"), ["CSV file", "nowhere.csv", "not found"]),
    "csv is a folder": (lambda f: _upload(f, csv="folder"), ["CSV file", "is a folder"]),
    "model is a folder": (lambda f: _upload(f, model="folder"), ["model file", "is a folder"]),
    "all labels missing": (
        lambda f: _upload(f, csv="no-labels"),
        ["No row of the CSV has a label", "'label'", "all 5 are empty"],
    ),
    "vocabulary strings": (
        lambda f: _upload(f, vocab="vocab-strings.json"),
        ["Vocabulary ids must be whole numbers", "'good'", '"5" (a string)'],
    ),
    "vocabulary lists": (
        lambda f: _upload(f, vocab="vocab-lists.json"),
        ["Vocabulary ids must be whole numbers", "[1, 2] (a list)"],
    ),
    "vocabulary negative": (
        lambda f: _upload(f, vocab="vocab-negative.json"),
        ["Vocabulary ids must be 0 or larger", "'good' maps to -1"],
    ),
    "vocabulary beyond the embedding": (
        lambda f: _upload(f, vocab="vocab-too-big.json"),
        ["ids go up to", "'good'", "Embedding layer takes ids below", "input_dim"],
    ),
    "vocabulary json array": (
        lambda f: _upload(f, vocab="vocab-array.json"),
        ["JSON array", 'a JSON object {"word": id} or one token per line'],
    ),
    "unknown layer": (
        lambda f: [*_upload(f), "--layer", "nope"],
        ["no recurrent layer named 'nope'", "its recurrent layers are: lstm_a, gru_b"],
    ),
    "float inputs": (
        lambda f: _upload(f, model="float"),
        ["float inputs", "not token ids", "no TextVectorization layer"],
    ),
    "sequences zero": (
        lambda f: ["--dataset", "imdb", "--sequences", "0"],
        ["--sequences", "must be 1 or more"],
    ),
    "sequences negative": (
        lambda f: ["--dataset", "imdb", "--sequences=-3"],
        ["--sequences", "must be 1 or more"],
    ),
    "sequences not a number": (lambda f: ["--dataset", "imdb", "--sequences", "many"], ["'all'"]),
    "bad session": (
        lambda f: [*_upload(f), "--session", "../../etc"],
        ["--session", "32 lowercase hexadecimal characters"],
    ),
}


@pytest.mark.heavy
@pytest.mark.parametrize("progress", [False, True], ids=["plain", "progress-lines"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_no_traceback(
    case: str, progress: bool, files: dict, tmp_path: Path
) -> None:
    build, words = CASES[case]
    result = run_cli(build(files), tmp_path / "cache", progress)
    assert_one_line_error(result, words, progress)
    assert not (tmp_path / "cache" / "uploads-cache").exists()  # refused before anything was stored


@pytest.mark.heavy
def test_cache_write_error_is_one_line(files: dict, tmp_path: Path) -> None:
    """A cache that cannot keep the result (its quota is one byte) is reported, not raised."""
    env = {"RNNX_UPLOAD_QUOTA_GB": "1e-12"}
    result = run_cli([*_upload(files), "--session", SESSION], tmp_path / "cache", True, env)
    assert_one_line_error(result, ["larger than the cache limit"], progress=True)
    assert result.returncode == 2


BOOM = (
    "import sys\n"
    "from model import prepare\n"
    "def boom(*args, **kwargs):\n"
    "    raise RuntimeError('disk on fire\\nsecond line')\n"
    "prepare.prepare = boom\n"
    "sys.exit(prepare.main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("progress", [False, True], ids=["plain", "progress-lines"])
def test_unexpected_failure_is_one_line(progress: bool, tmp_path: Path) -> None:
    result = run_cli(["--dataset", "imdb"], tmp_path, progress, code=BOOM)
    line = assert_one_line_error(result, [], progress)
    assert line == "error: unexpected failure: RuntimeError: disk on fire second line"
    assert result.returncode == 1


def test_unexpected_failure_shows_its_traceback_with_rnnx_debug(tmp_path: Path) -> None:
    result = run_cli(["--dataset", "imdb"], tmp_path, env={"RNNX_DEBUG": "1"}, code=BOOM)
    assert result.returncode == 1 and "Traceback" in result.stderr and "disk on fire" in result.stderr


def test_sequences_all_means_every_test_sequence() -> None:
    args = prepare_cli._parser().parse_args(["--dataset", "reuters", "--sequences", "all"])
    assert args.sequences == prepare.ALL_SEQUENCES
    assert prepare_cli._parser().parse_args(["--dataset", "reuters", "--sequences", "7"]).sequences == 7


def test_rows_without_label_are_counted_and_reported(
    files: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    texts, labels = sentiment_texts(40)
    labels = [label if i % 10 else "" for i, label in enumerate(labels)]  # 4 rows without a label
    csv = write_csv(tmp_path / "gaps.csv", texts, labels, "comment", "label")
    args = ["--model", str(files["model"]), "--csv", str(csv), "--vocab", str(files["vocab"])]
    assert prepare_cli.main([*args, "--session", SESSION]) == 0
    out = capsys.readouterr().out
    assert "36 sequences" in out and "4 CSV rows without a label were left out" in out
    assert prepare_cli.main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["rows_without_label"] == 4 and summary["n_sequences"] == 36
    assert summary["classes"] == ["neg", "pos"] and summary["cached"] is True


def test_comment_label_csv_is_read_with_pandas_string_dtype() -> None:
    data = b"comment,label\nwhat a good film,pos\nbad and dull,neg\n"
    parsed = byo.read_csv(data)
    assert (parsed.text_column, parsed.label_column) == ("comment", "label")
    assert parsed.texts == ["what a good film", "bad and dull"] and parsed.rows_without_label == 0
    unnamed = byo.read_csv(b"words,stars\na long enough text,1\nanother long text here,0\n")
    assert (unnamed.text_column, unnamed.label_column) == ("words", "stars")


def test_column_guessing_failure_names_the_columns() -> None:
    with pytest.raises(byo.InputError, match=r"among \['a', 'b'\]: choose the text column"):
        byo.read_csv(b"a,b\n1,2\n3,4\n")
    assert byo.csv_columns(b"a,b\n1,2\n3,4\n") == ["a", "b"]


def test_csv_columns_decodes_like_read_csv() -> None:
    assert byo.csv_columns("\ufeffcomment,étiquette\nx,1\n".encode()) == ["comment", "étiquette"]
    assert byo.csv_columns("comment,label\nx,1\n".encode("utf-16")) == ["comment", "label"]
    assert byo.read_csv("comment,label\nsome text,1\n".encode("utf-16")).texts == ["some text"]
    with pytest.raises(byo.InputError, match="not UTF-8"):
        byo.csv_columns("comment,label\ncafé,1\n".encode("latin-1"))
    with pytest.raises(byo.InputError, match="empty"):
        byo.csv_columns(b"")


def test_a_loaded_model_is_checked_too(files: dict) -> None:
    """The checks also hold when a model reaches Keras (for what-if, or a config this reader skips)."""
    with pytest.raises(byo.InputError, match="float inputs"):
        byo.load_model(files["float"])
    model = byo.load_model(files["model"])
    with pytest.raises(byo.InputError, match="Embedding layer takes ids below"):
        byo.encode_for_model(model, ["good film"], {"good": files["n_ids"] + 3, "[UNK]": 1}, 8)


def test_uploads_dir_refuses_anything_but_a_session_id() -> None:
    assert byo.uploads_dir(SESSION).name == SESSION and byo.uploads_dir("cli").name == "cli"
    for bad in ("../x", "s2", SESSION.upper(), SESSION + "\n", "", "/tmp"):
        with pytest.raises(byo.InputError, match="session id"):
            byo.uploads_dir(bad)
