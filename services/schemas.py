"""One schema per callback: the bounds of every value the browser may send.

Callbacks call ``SCHEMA.check(name=value, ...)`` first thing and turn
:class:`~services.validation.InvalidInput` into a message in the page.
"""

from __future__ import annotations

from services.validation import Anything, Choice, Custom, Flag, InvalidInput, ListOf, Number, Schema, Text

# ---------------------------------------------------------------- shared fields

TAB = Text("Page session id", max_len=32, pattern=r"[0-9a-f]{32}")
LR_LOG = Number("Learning rate (log10)", -4.0, 0.0, default=round(__import__("math").log10(0.025), 3))
BATCH = Number("Batch size", 5, 50, integer=True, default=25)
NOISE = Number("Noise", 0.0, 0.4, default=0.0)
CLICKS = Number("Clicks", 0, 10**9, integer=True, default=0)
LAYER_INDEX = Number("Layer", 0, 6, integer=True)
UNITS = Number("Units per layer", 4, 64, integer=True, default=16)
THRESHOLD = Number("Threshold", 0.0, 1.0)
PROJECTION = Choice("Projection", ("pca", "umap", "tsne"), default="pca")
DATASET = Text(
    "Dataset",
    max_len=80,
    pattern=r"[a-z][a-z0-9_-]*(@[a-z_]+)?(~(all|[1-9][0-9]{0,6}))?|upload-[0-9a-f]{8,64}",
)
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


VIEW = Text("Page view id", max_len=32, pattern=r"[0-9a-f]{32}")
LAYER_CLICKS = ListOf("Layer buttons", CLICKS, max_items=8)
TRAINER_TRIGGERS = (
    "trainer-session",
    "trainer-input-select",
    "cell-type",
    "trainer-units",
    "add-layer",
    "trainer-layers-sent",
    "reset-button",
    "step-button",
    "trainer-request",
)
LAYER_COUNT = Number("Layers", 1, 7, integer=True)


def _layer_count(value: object) -> int | None:
    """The layer count the page sent (``{"layers": n, "n": sequence number}``), or None."""
    if value is None:
        return None
    if not isinstance(value, dict) or "layers" not in value or set(value) - {"layers", "n"}:
        raise InvalidInput("The layer count is malformed.")
    CLICKS.clean(value.get("n"))  # the page's count of sends: a whole number, unused here
    return LAYER_COUNT.clean(value["layers"])


def _trigger(names: tuple[str, ...], patterns: tuple[str, ...]):
    """A check of ``ctx.triggered_id``: one of ``names``, or ``{"type": one of patterns, "index": layer}``."""

    def check(value: object) -> str | dict | None:
        if value is None or (isinstance(value, str) and value in names):
            return value
        if isinstance(value, dict) and set(value) == {"type", "index"} and value["type"] in patterns:
            index = LAYER_INDEX.clean(value["index"])
            if index is not None:
                return {"type": value["type"], "index": index}
        raise InvalidInput(f"Unexpected control {str(value)[:60]!r}.")

    return check


TRAINER_SESSION = Schema("init_session", {"tab": TAB})
TRAINER_UPDATE = Schema(
    "update_trainer",
    {
        "tab": TAB,
        "view": VIEW,
        "trigger": Custom(
            "Control", _trigger(TRAINER_TRIGGERS, ("trainer-insert-layer", "trainer-remove-layer"))
        ),
        "data": Choice("Input", _trainer_data(), default="sine"),
        "cell": Choice("Cell type", _cell_types(), default="lstm"),
        "units": UNITS,
        "lr_log": LR_LOG,
        "batch": BATCH,
        "noise": NOISE,
        "fast": Flag("Fast mode"),
        "request": CLICKS,
        "step": CLICKS,
        "add": CLICKS,
        "reset": CLICKS,
        "inserts": LAYER_CLICKS,
        "removes": LAYER_CLICKS,
        "layers": Custom("Layers", _layer_count),
        "value": CLICKS,
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
CELL_CLOSE = Schema("close_cell", {"back": CLICKS, "backdrop": CLICKS})
CELL_EXPLAIN = Schema("explain_part", {"click": EVENT})

# ---------------------------------------------------------------- analytics (filled by the analytics cards)


def _dataset(value: object) -> str:
    from model.prepare import DATASETS
    from services.datasets import check_dataset

    return check_dataset(value, DATASETS)


def _method(value: object) -> str:
    from services.datasets import check_method

    return check_method(value)


def _selection(value: object) -> dict | None:
    """``{"dataset", "seq", "step"}`` of the selected sequence, bounded; None when nothing is selected."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"dataset", "seq", "step"}:
        raise InvalidInput("The selection is malformed.")
    return {
        "dataset": DATASET.clean(value.get("dataset")),
        "seq": SEQUENCE.clean(value.get("seq")),
        "step": STEP.clean(value.get("step")),
    }


DATASET_ID = Custom("Dataset", _dataset)
METHOD = Custom("Projection", _method)
SELECTION = Custom("Selection", _selection)


def _pinned(value: object) -> dict | None:
    """The pinned what-if text, ``{"text": ...}``; None when nothing is pinned."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"text"}:
        raise InvalidInput("The pinned what-if text is malformed: unpin it and pin it again.")
    return {"text": PINNED_TEXT.clean(value.get("text"))}


PINNED_TEXT = Text("Pinned what-if text", max_len=WHATIF_TEXT.max_len)
PINNED = Custom("Pinned text", _pinned)
COLOR_MODE = Choice("Colour", ("ep", "actual"), default="ep")
FADE = Choice("Fade", ("none", "correct", "wrong"), default="none")
TRAJECTORY = Choice("Trajectory colour", ("ep", "time"), default="ep")
FINAL_ONLY = Flag("Final states only")
JUMP_AUTO = Flag("Automatic jump labels")

OVERVIEW = Schema("show_overview", {"dataset": DATASET_ID, "method": METHOD})
PREPARE = Schema("run_preparation", {"_auto": EVENT, "dataset": DATASET_ID, "method": METHOD})
PROJECTION_FIGURE = Schema(
    "draw_projection",
    {
        "dataset": DATASET_ID,
        "method": METHOD,
        "color_mode": COLOR_MODE,
        "fade": FADE,
        "final_only": FINAL_ONLY,
        "selection": SELECTION,
        "rules": LABEL_RULES,
        "jump": THRESHOLD,
        "epc": THRESHOLD,
        "traj": TRAJECTORY,
        "typed": WHATIF_TEXT,
        "pinned": PINNED,
        "jump_auto": JUMP_AUTO,
    },
)
SELECT_SEQUENCE = Schema(
    "select_sequence",
    {
        "click": EVENT,
        "dataset": DATASET_ID,
        "selection": SELECTION,
        "method": METHOD,
        "final_only": FINAL_ONLY,
        "color_mode": COLOR_MODE,
    },
)
SHOW_SELECTION = Schema(
    "show_selection",
    {
        "selection": SELECTION,
        "rules": LABEL_RULES,
        "jump": THRESHOLD,
        "epc": THRESHOLD,
        "traj": TRAJECTORY,
        "dataset": DATASET_ID,
        "method": METHOD,
        "fade": FADE,
        "final_only": FINAL_ONLY,
        "faded": Flag("Faded"),
        "color_mode": COLOR_MODE,
        "jump_auto": JUMP_AUTO,
    },
)
CLASS_INDEX = Number("Class", 0, 1_000, integer=True)
FILTER_QUERY = Text("Column filter", max_len=2_000, default="")


def _table_sort(value: object) -> list[dict]:
    from services import table

    return table.check_sort(value)


def _grid_filters(value: object) -> str:
    from services import table_grid

    return table_grid.check_filter_model(value)


def _grid_request(value: object) -> dict | None:
    from services import table_grid

    return table_grid.check_rows_request(value)


def _table_shape(value: object) -> dict | None:
    from services import table

    return table.check_shape(value)


SORT_BY = Custom("Sort order", _table_sort)
LASSO = Custom("Lasso", _table_shape)


def _table_filter(value: object) -> dict:
    """The table card's own filter store: a confusion cell, and a lasso with the view it was drawn on."""
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - {"actual", "predicted", "shape", "final_only", "method"}:
        raise InvalidInput("The table's filter is malformed.")
    fields = {
        "actual": CLASS_INDEX,
        "predicted": CLASS_INDEX,
        "shape": LASSO,
        "final_only": FINAL_ONLY,
        "method": METHOD,
    }
    clean = {k: fields[k].clean(v) for k, v in value.items() if v is not None}
    return clean


TABLE_FILTER = Custom("Table filter", _table_filter)
EXPORT = Schema(
    "export_data", {"dataset": DATASET_ID, "method": METHOD, "hidden": Flag("Hidden vectors", default=True)}
)


def _export_job(value: object) -> dict:
    """The export card's job store: ``{"token": <32 URL-safe characters>}`` (the server's handle)."""
    if not isinstance(value, dict) or set(value) != {"token"}:
        raise InvalidInput("The export request is malformed: export again.")
    return {"token": EXPORT_TOKEN.clean(value["token"])}


EXPORT_TOKEN = Text("Export handle", max_len=32, pattern=r"[A-Za-z0-9_-]{32}")
EXPORT_BUILD = Schema("build_export", {"job": Custom("Export request", _export_job)})
UPLOAD_SLOT = Choice("Upload slot", ("model", "csv", "vocab"))
UPLOAD_FILE_ID = Text("Upload id", max_len=26, pattern=r"f-[0-9a-f]{24}")
UPLOAD_MESSAGE = Text("Upload message", max_len=2_000)


def _upload_reply(value: object) -> dict | None:
    """The upload route's reply as the page relays it: ``{"slot", "id" | "error", "name", "n"}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"slot", "id", "name", "error", "n"}:
        raise InvalidInput("The upload's reply is malformed: drop the file again.")
    slot = UPLOAD_SLOT.clean(value.get("slot"))
    if slot is None:
        raise InvalidInput("The upload's reply names no slot: drop the file again.")
    return {
        "slot": slot,
        "id": UPLOAD_FILE_ID.clean(value.get("id")),
        "name": FILE_NAME.clean(value.get("name")),
        "error": UPLOAD_MESSAGE.clean(value.get("error")),
    }


UPLOAD_REPLY = Schema("show_upload", {"reply": Custom("Upload reply", _upload_reply)})
ANALYSE_UPLOAD = Schema(
    "analyse_upload",
    {
        "text_col": COLUMN,
        "label_col": COLUMN,
        "class_names": CLASS_NAMES,
        "layer": LAYER_NAME,
        "method": METHOD,
    },
)
WHATIF = Schema(
    "show_whatif",
    {
        "text": WHATIF_TEXT,
        "pinned": PINNED,
        "jump": THRESHOLD,
        "dataset": DATASET_ID,
        "method": METHOD,
        "rules": LABEL_RULES,
        "epc": THRESHOLD,
    },
)
WHATIF_PIN = Schema("pin_whatif", {"text": WHATIF_TEXT})
WHATIF_FROM_SELECTION = Schema(
    "text_of_selection", {"selection": SELECTION, "dataset": DATASET_ID, "method": METHOD}
)
CHECKPOINTS = Schema(
    "show_checkpoints",
    {
        "source": Choice("Compare source", ("selected", "typed"), default="selected"),
        "selection": SELECTION,
        "typed": WHATIF_TEXT,
        "tab": Text("Tab", max_len=40),
        "dataset": DATASET_ID,
        "method": METHOD,
    },
)
OTHER_CELL = Schema("prepare_other_cell", {"dataset": DATASET_ID, "method": METHOD})
SHOW_CELLS = Schema(
    "show_cells", {"ready": EVENT, "dataset": DATASET_ID, "method": METHOD, "tab": Text("Tab", max_len=40)}
)


def _table_query(value: object) -> dict | None:
    """The ``analytics-table-query`` store: every filter of the sequence table, bounded field by field."""
    if value is None:
        return None
    fields = {"dataset", "method", "final_only", "actual", "predicted", "shape", "search", "filter_query"}
    if not isinstance(value, dict) or set(value) - fields - {"sort_by"}:
        raise InvalidInput("The table's query is malformed.")
    clean = {
        "dataset": DATASET_ID.clean(value.get("dataset")),
        "method": METHOD.clean(value.get("method")),
        "final_only": FINAL_ONLY.clean(value.get("final_only")),
        "actual": CLASS_INDEX.clean(value.get("actual")),
        "predicted": CLASS_INDEX.clean(value.get("predicted")),
        "shape": LASSO.clean(value.get("shape")),
        "search": SEARCH.clean(value.get("search")),
        "filter_query": FILTER_QUERY.clean(value.get("filter_query")),
        "sort_by": SORT_BY.clean(value.get("sort_by")),
    }
    return clean


TABLE_QUERY = Custom("Table query", _table_query)
SLICE_METRICS = Schema("slice_metrics", {"query": TABLE_QUERY})
# The sequence table's filters: outside the grid, the grid's own (its filterModel), the last query.
FILTER_TABLE = Schema(
    "filter_table",
    {
        "dataset": DATASET_ID,
        "confusion_click": EVENT,
        "lasso": LASSO,
        "search": SEARCH,
        "filter_model": Custom("Column filters", _grid_filters),  # the grid's filterModel, as a query
        "current": TABLE_FILTER,
        "method": METHOD,
        "final_only": FINAL_ONLY,
        "previous": TABLE_QUERY,
    },
)
# One block of the sequence grid's infinite row model: rows, sort and column filters of the request,
# the other filters from the table query.
TABLE_ROWS = Schema(
    "get_rows",
    {
        "request": Custom("Rows request", _grid_request),
        "query": TABLE_QUERY,
        "dataset": Custom("Dataset", lambda value: None if value is None else DATASET_ID.clean(value)),
        "method": METHOD,
    },
)

# ---------------------------------------------------------------- projection level of detail (services.cloud)


def _view_change(value: object) -> dict | str | None:
    from services import cloud

    return cloud.view_change(value)


def _stored_view(value: object) -> dict | None:
    from services import cloud

    return cloud.stored_view(value)


PROJECTION_VIEW_STORE = Custom("Projection view", _stored_view)
PROJECTION_VIEW = Schema(
    "update_projection_view",
    {
        "relayout": Custom("Projection zoom", _view_change),
        "stored": PROJECTION_VIEW_STORE,
        "dataset": DATASET_ID,
        "method": METHOD,
        "color_mode": COLOR_MODE,
        "fade": FADE,
        "final_only": FINAL_ONLY,
    },
)
