"""One schema per callback: the bounds of every value the browser may send.

Callbacks call ``SCHEMA.check(name=value, ...)`` first thing and turn
:class:`~services.validation.InvalidInput` into a message in the page.
"""

from __future__ import annotations

from services.validation import Anything, Choice, Flag, ListOf, Number, Schema, Text

# ---------------------------------------------------------------- shared fields

TAB = Text("Page session id", max_len=32, pattern=r"[0-9a-f]{32}")
LR_LOG = Number("Learning rate (log10)", -4.0, 0.0, default=round(__import__("math").log10(0.025), 3))
BATCH = Number("Batch size", 5, 50, integer=True, default=25)
NOISE = Number("Noise", 0.0, 0.4, default=0.0)
CLICKS = Number("Clicks", 0, 10**9, integer=True, default=0)
LAYER_INDEX = Number("Layer", 0, 6, integer=True)
THRESHOLD = Number("Threshold", 0.0, 1.0)
PROJECTION = Choice("Projection", ("pca", "umap", "tsne"), default="pca")
DATASET = Text("Dataset", max_len=80, pattern=r"[a-z][a-z0-9_-]*(@[a-z_]+)?|upload-[0-9a-f]{8,64}")
SEQUENCE = Number("Sequence", 0, 10_000_000, integer=True)
STEP = Number("Step", 0, 100_000, integer=True)
LABEL_RULES = ListOf("Word labels", Choice("Word label", ("jump", "ep", "flip", "before")), max_items=4)
SEARCH = Text("Search", max_len=200)
WHATIF_TEXT = Text("What-if text", max_len=5_000)
COLUMN = Text("Column", max_len=200)
CLASS_NAMES = Text("Class names", max_len=2_000)
LAYER_NAME = Text("Layer", max_len=200)
FILE_NAME = Text("File name", max_len=255)
EVENT = Anything("Event data", max_chars=200_000)

# ---------------------------------------------------------------- trainer


def _trainer_data() -> tuple[str, ...]:
    from model import signals

    return tuple(signals.DATA_KEYS)


def _cell_types() -> tuple[str, ...]:
    from model import trainer

    return tuple(trainer.CELL_TYPES)


def _examples() -> tuple[str, ...]:
    from model import trainer

    return tuple(trainer.EXAMPLES)


TRAINER_UPDATE = Schema(
    "update_trainer",
    {
        "tab": TAB,
        "data": Choice("Input", _trainer_data(), default="sine"),
        "cell": Choice("Cell type", _cell_types(), default="lstm"),
        "lr_log": LR_LOG,
        "batch": BATCH,
        "noise": NOISE,
        "fast": Flag("Fast mode"),
        "request": CLICKS,
    },
)
TRAINER_EXAMPLE = Schema("load_example", {"tab": TAB, "name": Choice("Example", _examples())})
TRAINER_SLIDERS = Schema(
    "slider_labels",
    {
        "lr_log": LR_LOG,
        "batch": BATCH,
        "noise": NOISE,
        "data": Choice("Input", _trainer_data(), default="sine"),
    },
)
CELL_VIEW = Schema("show_cell_view", {"tab": TAB, "layer": LAYER_INDEX, "refresh": Anything("Refresh", 200)})

# ---------------------------------------------------------------- analytics (filled by the analytics cards)
