"""Dataset ids as the browser may send them: a built-in name (optionally ``@cell`` and ``~size``) or an owned upload.

A built-in id is ``name[@cell][~size]``: ``imdb``, ``reuters@gru``, ``imdb~5000``, ``imdb~all``. The size
is one the dataset offers (its catalogue entry's ``sizes``; the first is the default and is written
without a size). :class:`DatasetId` is the parsed form: the boundary (:func:`check_dataset`) returns
it, so a callback and every service it calls read the parts without parsing the string again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from model import cellmath
from services import uploads
from services.validation import InvalidInput

UPLOAD_ID = re.compile(r"^upload-[0-9a-f]{8,64}$")
BUILTIN_ID = re.compile(r"^([a-z][a-z0-9_]{0,30})(?:@([a-z_]{1,20}))?(?:~(all|[1-9][0-9]{0,6}))?$")
ALL = "all"


class DatasetId(str):
    """A parsed dataset id: the id string itself (cache keys, URLs and the pipeline use it as is)
    with its parts: ``source`` "builtin" or "upload", ``name``, ``cell_type`` and ``size`` (None:
    the default size). Immutable, like the string."""

    source: str
    name: str
    cell_type: str
    size: int | str | None

    def __new__(
        cls, source: str, name: str, cell_type: str = "lstm", size: int | str | None = None
    ) -> DatasetId:
        if source == "upload":
            text = name
        else:
            cell = "" if cell_type == "lstm" else f"@{cell_type}"
            text = f"{name}{cell}" + ("" if size is None else f"~{size}")
        self = super().__new__(cls, text)
        for field, value in (("source", source), ("name", name), ("cell_type", cell_type), ("size", size)):
            object.__setattr__(self, field, value)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("A DatasetId is immutable.")

    def __reduce__(self):  # pickles (background jobs, the disk cache) as its parts
        return (DatasetId, (self.source, self.name, self.cell_type, self.size))

    @property
    def id(self) -> str:
        """The id as the browser and the pipeline write it (a plain ``str``)."""
        return str.__str__(self)

    @property
    def is_upload(self) -> bool:
        return self.source == "upload"


def parse(value: str) -> DatasetId:
    """The parts of a well-formed id (no ownership or catalogue check: see :func:`check_dataset`)."""
    if isinstance(value, DatasetId):
        return value
    if is_upload(value):
        return DatasetId("upload", value, "lstm")
    match = BUILTIN_ID.match(value)
    if not match:
        raise InvalidInput(f"Unknown dataset {value[:40]!r}: choose one from the list.")
    size = match.group(3)
    return DatasetId(
        "builtin", match.group(1), match.group(2) or "lstm", None if size is None else _size(size)
    )


def _size(text: str) -> int | str:
    return ALL if text == ALL else int(text)


def sizes(facts: Mapping) -> tuple:
    """The sizes a catalogue entry offers (the first is its default); ``(None,)`` when it offers none."""
    return tuple(facts.get("sizes") or (None,))


def size_label(facts: Mapping, size: int | str | None) -> str:
    """``"all 25,000 reviews"`` / ``"5,000 reviews"``: how a size reads in the dataset list."""
    unit = facts.get("unit", "sequences")
    if size == ALL:
        return f"all {int(facts.get('test_size', 0)):,} {unit}" if facts.get("test_size") else f"all {unit}"
    return f"{int(size):,} {unit}" if size is not None else ""


def choices(catalogue: Mapping[str, Mapping]) -> list[dict]:
    """``{"label", "value"}`` of every built-in dataset at every size it offers (default size first)."""
    options = []
    for name, facts in catalogue.items():
        offered = sizes(facts)
        for i, size in enumerate(offered):
            value = name if i == 0 else f"{name}~{size}"
            extra = size_label(facts, size)
            label = facts.get("label", name) + (f" · {extra}" if extra else "")
            options.append({"label": label, "value": value})
    return options


def label_of(dataset: str, catalogue: Mapping[str, Mapping]) -> str:
    """The dataset list's label of a built-in id (the id itself when it is not listed)."""
    return next((o["label"] for o in choices(catalogue) if o["value"] == dataset), dataset)


CELL_TYPES = cellmath.CELL_TYPES
METHODS = ("pca", "umap", "tsne")


def is_upload(dataset: str) -> bool:
    return dataset.startswith("upload-")


def check_dataset(value: object, builtin: Iterable[str] | Mapping[str, Mapping]) -> DatasetId:
    """``value`` parsed, if it names a built-in dataset (a cell variant, a size it offers) or an owned upload.

    ``builtin``: the catalogue (name -> facts, whose ``sizes`` are checked) or just the names.
    InvalidInput otherwise (``uploads.UploadRefused`` for another session's upload).
    """
    if not isinstance(value, str) or not value or len(value) > 80:
        raise InvalidInput("Choose a dataset from the list.")
    if is_upload(value):
        if not UPLOAD_ID.match(value):
            raise InvalidInput("This upload id is malformed.")
        return DatasetId("upload", uploads.require_owned(value))
    match = BUILTIN_ID.match(value)
    if not match or match.group(1) not in set(builtin) or (match.group(2) or "lstm") not in CELL_TYPES:
        raise InvalidInput(f"Unknown dataset {value[:40]!r}: choose one from the list.")
    size = match.group(3)
    if size is not None:
        offered = sizes(builtin[match.group(1)]) if isinstance(builtin, Mapping) else ()
        if _size(size) not in offered:
            raise InvalidInput(
                f"{match.group(1)} is not offered with {size} sequences: choose one from the list."
            )
    return parse(value)


def check_method(value: object) -> str:
    """A projection method name (PCA when none is given)."""
    if value in (None, ""):
        return "pca"
    if value not in METHODS:
        raise InvalidInput(f"Unknown projection {str(value)[:20]!r}: choose PCA, UMAP or t-SNE.")
    return str(value)
