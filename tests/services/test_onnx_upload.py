"""An ONNX model brought by the user, through the same preparation as a Keras upload, and every view on it.

The model is built with ``onnx.helper`` (no PyTorch, no TensorFlow): the analysis, the what-if
box, attributions (by occlusion, and the page says so), counterfactuals and the page's upload
description all run on onnxruntime.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import attribution, byo, byo_models, counterfactual, prepare, whatif
from services import attribution as attribution_service
from services import byo as byo_service
from tests.support import onnx_models as om
from tests.support.byo_models import FILLER, NEGATIVE, POSITIVE, sentiment_texts, write_csv
from tests.support.servers import ROOT

WORDS = FILLER + POSITIVE + NEGATIVE


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx")
    texts, labels = sentiment_texts(120)
    built = om.build(vocab=len(WORDS) + 2, embed=6, hidden=8, classes=2, layers=2, final="logits", seed=2)
    return {
        "model": built.save(folder / "sentiment.onnx"),
        "csv": write_csv(folder / "reviews.csv", texts, labels),
        "vocab": om.write_vocabulary(folder / "vocab.txt", WORDS),
        "folder": folder,
        "built": built,
    }


@pytest.fixture(scope="module")
def prepared(files: dict) -> dict:
    return prepare.prepare_upload(files["model"], files["csv"], vocab_path=files["vocab"])


def test_prepare_an_onnx_upload(prepared: dict, files: dict) -> None:
    assert prepared["classes"] == ["neg", "pos"] and prepared["n_sequences"] == 120
    analysis = prepare.load_analysis(prepared["dataset"])
    assert (
        analysis.summary["model_format"] == "onnx" and analysis.summary["attribution_method"] == "occlusion"
    )
    assert analysis.summary["recurrent_layers"] == ["/rnn/LSTM", "/rnn/LSTM_1"]
    assert analysis.summary["layer"] == "/rnn/LSTM_1" and analysis.summary["units"] == 8
    # EP at each text's last step is the model's own prediction on the whole text
    upload = byo_models.load(files["model"], None, files["vocab"])
    ids, _same, _words = upload.encode(list(analysis.texts))
    own = upload.classifier.predict(ids)
    last = np.asarray(analysis.offsets[1:]) - 1
    np.testing.assert_allclose(np.asarray(analysis.ep[last], np.float32), own, atol=2e-3)  # stored as float16
    assert prepare.load_projection(prepared["dataset"], "pca").shape == (analysis.n_states, 2)
    again = prepare.prepare_upload(files["model"], files["csv"], vocab_path=files["vocab"])
    assert again["cached"] and again["dataset"] == prepared["dataset"]


def test_what_if_attribution_and_counterfactual(prepared: dict, files: dict) -> None:
    dataset = prepared["dataset"]
    analysis = prepare.load_analysis(dataset)
    text = analysis.texts[3]
    typed = whatif.analyse_text(dataset, text, "pca")
    rows = analysis.rows(3)
    stored = np.asarray(prepare.load_states(dataset)["hidden"][rows], np.float32)  # float16 on disk
    np.testing.assert_allclose(typed.hidden, stored, atol=2e-3)
    np.testing.assert_allclose(typed.ep, np.asarray(analysis.ep[rows], np.float32), atol=2e-3)
    assert typed.points.shape == (len(typed.words), 2)
    found = attribution.attribute_text(dataset, text)
    assert found.method == "occlusion" and found.words == list(analysis.words[3])
    from components.cards.analytics_attribution import _legend

    shown = attribution_service.Saliency(
        seq=3,
        words=found.words,
        target=0,
        ep_change=found.scores,
        attribution=found.scores,
        method="occlusion",
    )
    assert "attribution by occlusion" in str(_legend(shown, ["neg", "pos"], "attribution").children)
    result = counterfactual.counterfactual_for(dataset, list(typed.words), found.scores)
    assert result.before.shape == (2,) and result.tried > 0


def test_the_page_describes_an_onnx_upload(files: dict, tmp_path: Path) -> None:
    kept = tmp_path / "abc.keras"  # the page keeps every model under this suffix
    kept.write_bytes(files["model"].read_bytes())
    facts = byo_service.describe("model", kept)
    assert facts["layers"] == ["/rnn/LSTM", "/rnn/LSTM_1"]
    assert byo_service.describe("vocab", files["vocab"])["detail"].startswith(f"{len(WORDS) + 2}")


def test_page_uploads_refuse_external_data_and_a_missing_vocabulary(files: dict, tmp_path: Path) -> None:
    import onnx

    path = tmp_path / "m.onnx"
    onnx.save(files["built"].model, str(path), save_as_external_data=True, location="w.bin", size_threshold=0)
    with pytest.raises(byo.InputError, match="weights in separate files"):
        prepare.prepare_upload(path, files["csv"], vocab_path=files["vocab"], session="0" * 32)
    with pytest.raises(byo.InputError, match="takes token ids: give its vocabulary"):
        prepare.prepare_upload(files["model"], files["csv"])


@pytest.mark.heavy
def test_cli_with_json_lines_a_tokenizer_json_and_a_layer(files: dict, tmp_path: Path) -> None:
    """``python -m model.prepare --model m.onnx --csv d.jsonl --vocab tokenizer.json --layer L --json``."""
    import pandas as pd
    from tokenizers import Tokenizer, models, pre_tokenizers

    texts, labels = sentiment_texts(120)
    data = tmp_path / "reviews.jsonl"  # as a Hugging Face dataset's to_json writes it
    pd.DataFrame({"text": texts, "label": labels}).to_json(data, orient="records", lines=True)

    vocabulary = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    command = [
        sys.executable,
        "-m",
        "model.prepare",
        "--model",
        str(files["model"]),
        "--csv",
        str(data),
    ]
    command += ["--vocab", str(tmp_path / "tokenizer.json"), "--layer", "/rnn/LSTM", "--json"]
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["cell_type"] == "lstm" and summary["n_sequences"] == 120 and summary["units"] == 8
    bad = subprocess.run(
        [*command[:-3], "--layer", "nope", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "no recurrent layer named 'nope'" in bad.stderr
