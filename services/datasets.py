"""Dataset ids as the browser may send them: a built-in name (optionally ``@cell``) or an owned upload."""

from __future__ import annotations

import re
from collections.abc import Iterable

from model import cellmath
from services import uploads
from services.validation import InvalidInput

UPLOAD_ID = re.compile(r"^upload-[0-9a-f]{8,64}$")
BUILTIN_ID = re.compile(r"^([a-z][a-z0-9_]{0,30})(?:@([a-z_]{1,20}))?$")
CELL_TYPES = cellmath.CELL_TYPES
METHODS = ("pca", "umap", "tsne")


def is_upload(dataset: str) -> bool:
    return dataset.startswith("upload-")


def check_dataset(value: object, builtin: Iterable[str]) -> str:
    """``value`` if it names a built-in dataset (or a cell variant of one) or an upload this session owns.

    InvalidInput otherwise (``uploads.UploadRefused`` for another session's upload).
    """
    if not isinstance(value, str) or not value or len(value) > 80:
        raise InvalidInput("Choose a dataset from the list.")
    if is_upload(value):
        if not UPLOAD_ID.match(value):
            raise InvalidInput("This upload id is malformed.")
        return uploads.require_owned(value)
    match = BUILTIN_ID.match(value)
    if not match or match.group(1) not in set(builtin) or (match.group(2) or "lstm") not in CELL_TYPES:
        raise InvalidInput(f"Unknown dataset {value[:40]!r}: choose one from the list.")
    return value


def check_method(value: object) -> str:
    """A projection method name (PCA when none is given)."""
    if value in (None, ""):
        return "pca"
    if value not in METHODS:
        raise InvalidInput(f"Unknown projection {str(value)[:20]!r}: choose PCA, UMAP or t-SNE.")
    return str(value)
