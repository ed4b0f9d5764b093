"""Export the current analysis: CSV tables and TensorBoard projector files.

Everything is returned as bytes (the page hands them to ``dcc.Download``; the
CLI writes them to disk), so nothing here touches a web framework.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from model.artifacts import Analysis


def states_table(analysis: Analysis, points: np.ndarray | None = None, hidden: np.ndarray | None = None):
    """One row per hidden state: sequence, step, word, EP per class, distance, x/y, h_0 … h_n."""
    import pandas as pd

    columns = {
        "sequence": analysis.sequence_of_state(),
        "step": analysis.step_of_state(),
        "word": [word for words in analysis.words for word in words],
        "actual": np.repeat([analysis.class_names[i] for i in analysis.labels], np.diff(analysis.offsets)),
        "predicted_here": [analysis.class_names[i] for i in analysis.ep.argmax(axis=1)],
        **{f"ep_{name}": analysis.ep[:, c] for c, name in enumerate(analysis.class_names)},
        "distance": analysis.distance,
    }
    if points is not None:
        columns["x"], columns["y"] = points[:, 0], points[:, 1]
    frame = pd.DataFrame(columns)
    if hidden is not None:
        frame = pd.concat(
            [frame, pd.DataFrame(hidden, columns=[f"h_{i}" for i in range(hidden.shape[1])])], axis=1
        )
    return frame


def states_csv(
    analysis: Analysis, points: np.ndarray | None = None, hidden: np.ndarray | None = None
) -> bytes:
    return states_table(analysis, points, hidden).to_csv(index=False, float_format="%.6g").encode()


def sequences_csv(analysis: Analysis) -> bytes:
    """One row per sequence: id, length, actual, predicted, confidence, correct, text."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "sequence": np.arange(analysis.n_sequences),
            "length": np.diff(analysis.offsets),
            "actual": [analysis.class_names[i] for i in analysis.labels],
            "predicted": [analysis.class_names[i] for i in analysis.predicted],
            "confidence": analysis.confidence,
            "correct": analysis.labels == analysis.predicted,
            "text": analysis.texts,
        }
    )
    return frame.to_csv(index=False, float_format="%.6g").encode()


def _tsv_cell(value: object) -> str:
    return str(value).replace("\t", " ").replace("\n", " ")


def tensorboard_projector(analysis: Analysis, hidden: np.ndarray) -> bytes:
    """A zip with ``vectors.tsv``, ``metadata.tsv`` and ``projector_config.pbtxt`` for the TensorBoard projector."""
    table = states_table(analysis)
    vectors = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in hidden) + "\n"
    meta_columns = ["word", "sequence", "step", "actual", "predicted_here", "distance"]
    lines = ["\t".join(meta_columns)]
    lines += ["\t".join(_tsv_cell(v) for v in row) for row in table[meta_columns].itertuples(index=False)]
    config = (
        'embeddings {\n  tensor_name: "hidden_states"\n  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n}\n'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("vectors.tsv", vectors)
        archive.writestr("metadata.tsv", "\n".join(lines) + "\n")
        archive.writestr("projector_config.pbtxt", config)
    return buffer.getvalue()
