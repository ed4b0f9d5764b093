"""Ids of the analytics page (``pages/analytics.py``, ``components/cards/analytics_*.py``)."""

# ---------------------------------------------------------------- page stores and alerts
ANALYTICS_ALERT = "analytics-alert"
ANALYTICS_MODEL_BAR = "analytics-model-bar"
ANALYTICS_SELECTION = "analytics-selection"
ANALYTICS_HOVER = "analytics-hover"
ANALYTICS_URL_SYNC = "analytics-url-sync"
ANALYTICS_FADED = "analytics-faded"
# What the selection hub last put into controls the user also moves (the jump slider, the units span and
# threshold): assets/selection.js tells those echoes from the user's own moves, so an echo costs no request.
SEQUENCE_DRAWN = "sequence-drawn"
SEQUENCE_CONTROLS = "sequence-controls"
UNIT_HUB_DRAWN = "unit-hub-drawn"
UNIT_QUERY = "unit-query"
ANALYTICS_FILTER = "analytics-filter"
ANALYTICS_TABLE_QUERY = "analytics-table-query"
ANALYTICS_LASSO = "analytics-lasso"
ANALYTICS_PREPARED = "analytics-prepared"
ANALYTICS_AUTOPREP = "analytics-autoprep"
ANALYTICS_UPLOADS = "analytics-uploads"
ANALYTICS_REQUESTED_UPLOAD = "analytics-requested-upload"
ANALYTICS_BYO_FILES = "analytics-byo-files"
# Says why a shared link's upload is not shown (another session's, or expired).
ANALYTICS_LINK_NOTICE = "analytics-link-notice"
PROJECTION_VIEW = "projection-view"

# ---------------------------------------------------------------- top controls (analytics_layout.controls)
ANALYTICS_DATASET = "analytics-dataset"
ANALYTICS_PROJECTION_METHOD = "analytics-projection-method"
ANALYTICS_PREPARE = "analytics-prepare"
ANALYTICS_PROGRESS = "analytics-progress"
ANALYTICS_PROGRESS_WRAP = "analytics-progress-wrap"  # components.progress: "<bar>-wrap"
ANALYTICS_PROGRESS_TEXT = "analytics-progress-text"  # components.progress: "<bar>-text", its label
ANALYTICS_BYO_TOGGLE = "analytics-byo-toggle"

# ---------------------------------------------------------------- export menu (components/analytics_byo.py)
ANALYTICS_EXPORT_MENU = "analytics-export-menu"
ANALYTICS_EXPORT_STATES = "analytics-export-states"
ANALYTICS_EXPORT_SEQUENCES = "analytics-export-sequences"
ANALYTICS_EXPORT_TENSORBOARD = "analytics-export-tensorboard"
ANALYTICS_EXPORT_PNG = "analytics-export-png"
ANALYTICS_EXPORT_SVG = "analytics-export-svg"
ANALYTICS_EXPORT_ALL_SVG = "analytics-export-all-svg"
ANALYTICS_DOWNLOAD = "analytics-download"  # retired: files come from /download/<token> (export card)
ANALYTICS_FIGURE_EXPORT = "analytics-figure-export"
# ---------------------------------------------------------------- export card (components/cards/analytics_export_card.py)
ANALYTICS_EXPORT_PARQUET = "analytics-export-parquet"
ANALYTICS_EXPORT_HIDDEN = "analytics-export-hidden"
ANALYTICS_EXPORT_JOB = "analytics-export-job"
ANALYTICS_EXPORT_FILE = "analytics-export-file"
ANALYTICS_EXPORT_STARTED = "analytics-export-started"
ANALYTICS_EXPORT_PROGRESS = "analytics-export-progress"
ANALYTICS_EXPORT_PROGRESS_WRAP = "analytics-export-progress-wrap"  # components.progress: "<bar>-wrap"
ANALYTICS_EXPORT_PROGRESS_TEXT = "analytics-export-progress-text"

# ---------------------------------------------------------------- bring your own (upload panel)
ANALYTICS_BYO_COLLAPSE = "analytics-byo-collapse"
ANALYTICS_BYO_REFUSED = "analytics-byo-refused"
ANALYTICS_UPLOAD_MODEL = "analytics-upload-model"
ANALYTICS_UPLOAD_CSV = "analytics-upload-csv"
ANALYTICS_UPLOAD_VOCAB = "analytics-upload-vocab"
ANALYTICS_UPLOAD_MODEL_NAME = "analytics-upload-model-name"  # components.analytics_byo: "<zone>-name"
ANALYTICS_UPLOAD_CSV_NAME = "analytics-upload-csv-name"
ANALYTICS_UPLOAD_VOCAB_NAME = "analytics-upload-vocab-name"
ANALYTICS_UPLOAD_REPLY = "analytics-upload-reply"  # the upload route's JSON reply, set by assets/uploads.js
ANALYTICS_UPLOAD_PROGRESS = "analytics-upload-progress"  # {slot, name, percent} of the upload under way
ANALYTICS_TEXT_COLUMN = "analytics-text-column"
ANALYTICS_LABEL_COLUMN = "analytics-label-column"
ANALYTICS_CLASS_NAMES = "analytics-class-names"
ANALYTICS_LAYER = "analytics-layer"
ANALYTICS_LAYER_WRAP = "analytics-layer-wrap"
ANALYTICS_BYO_RUN = "analytics-byo-run"
ANALYTICS_BYO_PROGRESS = "analytics-byo-progress"
ANALYTICS_BYO_PROGRESS_WRAP = "analytics-byo-progress-wrap"
ANALYTICS_BYO_PROGRESS_TEXT = "analytics-byo-progress-text"
ANALYTICS_BYO_ALERT = "analytics-byo-alert"
ANALYTICS_BYO_MESSAGE = "analytics-byo-message"

# ---------------------------------------------------------------- projection card
PROJECTION_GRAPH = "projection-graph"
ANALYTICS_COLOR_MODE = "analytics-color-mode"
ANALYTICS_FADE = "analytics-fade"
ANALYTICS_FINAL_ONLY = "analytics-final-only"
ANALYTICS_TRAJECTORY_COLOR = "analytics-trajectory-color"
ANALYTICS_LABEL_RULES = "analytics-label-rules"
ANALYTICS_JUMP_AUTO = "analytics-jump-auto"
DISTANCE_THRESHOLD = "distance-threshold"
ANALYTICS_EP_THRESHOLD = "analytics-ep-threshold"

# ---------------------------------------------------------------- selected sequence card (and attributions)
ANALYTICS_SEQUENCE_SUMMARY = "analytics-sequence-summary"
SEQUENCE_TEXT = "sequence-text"
EP_HEATMAP = "ep-heatmap"
DISTANCE_GRAPH = "distance-graph"
SALIENCY_SLOT = "saliency-slot"
SALIENCY_MODE = "saliency-mode"
SALIENCY_BUSY = "saliency-busy"
SALIENCY_NOTE = "saliency-note"
SALIENCY_LEGEND = "saliency-legend"
SALIENCY_GRAPH = "saliency-graph"
SALIENCY_GRAPH_WRAP = "saliency-graph-wrap"
SALIENCY_STORE = "saliency-store"

# ---------------------------------------------------------------- sequences table
SEQUENCE_TABLE = "sequence-table"
ANALYTICS_SEARCH = "analytics-search"
ANALYTICS_FILTER_LABEL = "analytics-filter-label"
ANALYTICS_CLEAR_FILTER = "analytics-clear-filter"
# Set when a filter outside the grid changes (search, confusion cell, lasso): the grid drops its blocks.
ANALYTICS_TABLE_REFRESH = "analytics-table-refresh"

# ---------------------------------------------------------------- classification overview card
CLASS_BARS = "class-bars"
CONFUSION_MATRIX = "confusion-matrix"
ANALYTICS_MODEL_SUMMARY = "analytics-model-summary"
ANALYTICS_PROFILE_BADGE = "analytics-profile-badge"
ANALYTICS_CHANCE_WARNING = "analytics-chance-warning"
ANALYTICS_WAITING = "analytics-waiting"

# ---------------------------------------------------------------- slice metrics card
SLICE_SUMMARY = "slice-summary"
SLICE_METRICS = "slice-metrics"
SLICE_RELIABILITY = "slice-reliability"

# ---------------------------------------------------------------- hidden units card
UNIT_STATE = "unit-state"
UNIT_SORT = "unit-sort"
UNIT_SPAN = "unit-span"
UNIT_THRESHOLD = "unit-threshold"
UNIT_SUMMARY = "unit-summary"
UNIT_HEATMAP = "unit-heatmap"
UNIT_MATCHES = "unit-matches"
UNIT_DRAWN = "unit-drawn"
UNIT_PENDING = "unit-pending"
UNIT_MATCH_CLICK = (
    "unit-match-click"  # {"type", "seq", "start", "end", "t"} of a clicked match (assets/selection.js)
)
UNIT_MATCH = "unit-match"  # pattern-matching id type of a listed match: {"type", "seq", "start", "end"}

# ---------------------------------------------------------------- nearest neighbours card
NEIGHBORS_K = "neighbors-k"
NEIGHBORS_OTHER = "neighbors-other"
NEIGHBORS_LIST = "neighbors-list"
NEIGHBORS_QUERY = "neighbors-query"
NEIGHBORS_WORD_CLICK = "neighbors-word-click"
RNNX_NEIGHBOR = "rnnx-neighbor"  # pattern-matching id type of a listed neighbour: {"type", "seq", "step"}
# {"seq", "step", "t"} of the last pressed row of the list (assets/neighbors.js reports it).
NEIGHBORS_ROW_CLICK = "neighbors-row-click"

# ---------------------------------------------------------------- what-if card (and counterfactuals)
ANALYTICS_WHATIF_TEXT = "analytics-whatif-text"
ANALYTICS_WHATIF_PIN = "analytics-whatif-pin"
ANALYTICS_WHATIF_UNPIN = "analytics-whatif-unpin"
ANALYTICS_WHATIF_FROM_SELECTION = "analytics-whatif-from-selection"
ANALYTICS_WHATIF_SUMMARY = "analytics-whatif-summary"
ANALYTICS_WHATIF_WORDS = "analytics-whatif-words"
ANALYTICS_WHATIF_PINNED = "analytics-whatif-pinned"
ANALYTICS_WHATIF_HEATMAP = "analytics-whatif-heatmap"
ANALYTICS_WHATIF_DISTANCE = "analytics-whatif-distance"
ANALYTICS_WHATIF_PIN_STORE = "analytics-whatif-pin-store"
COUNTERFACTUAL_SLOT = "counterfactual-slot"
COUNTERFACTUAL_BUTTON = "counterfactual-button"
COUNTERFACTUAL_GUIDE = "counterfactual-guide"
COUNTERFACTUAL_RESULT = "counterfactual-result"
COUNTERFACTUAL_SUMMARY = "counterfactual-summary"
COUNTERFACTUAL_DIFF = "counterfactual-diff"
COUNTERFACTUAL_UNDO = "counterfactual-undo"
# {"previous", "edited"}: the what-if text a counterfactual replaced, and what it put there.
COUNTERFACTUAL_UNDO_STORE = "counterfactual-undo-store"

# ---------------------------------------------------------------- compare card
ANALYTICS_COMPARE_TABS = "analytics-compare-tabs"
ANALYTICS_COMPARE_SEEN = "analytics-compare-seen"
ANALYTICS_COMPARE_SOURCE = "analytics-compare-source"
ANALYTICS_CHECKPOINTS_GRAPH = "analytics-checkpoints-graph"
ANALYTICS_CHECKPOINTS_NOTE = "analytics-checkpoints-note"
ANALYTICS_COMPARE_CELLS = "analytics-compare-cells"
ANALYTICS_CELLS_PROGRESS = "analytics-cells-progress"
ANALYTICS_CELLS_PROGRESS_WRAP = "analytics-cells-progress-wrap"
ANALYTICS_CELLS_PROGRESS_TEXT = "analytics-cells-progress-text"
ANALYTICS_CELLS_ALERT = "analytics-cells-alert"
ANALYTICS_CELLS_STATS = "analytics-cells-stats"
ANALYTICS_CELLS_GRAPH = "analytics-cells-graph"
ANALYTICS_CELLS_READY = "analytics-cells-ready"
# the "Models" tab: two models on the same texts (analytics_models_card)
ANALYTICS_MODELS_BASELINE = "analytics-models-baseline"
ANALYTICS_MODELS_OTHER = "analytics-models-other"
ANALYTICS_MODELS_STATS = "analytics-models-stats"
ANALYTICS_MODELS_GRAPH = "analytics-models-graph"
ANALYTICS_MODELS_SORT = "analytics-models-sort"
ANALYTICS_MODELS_TABLE = "analytics-models-table"
ANALYTICS_MODELS_ROW = "analytics-models-row"  # the "type" of each disagreement row's pattern id
ANALYTICS_MODELS_PAIR = "analytics-models-pair"  # {"a", "b", "method"} of the pair drawn
ANALYTICS_MODELS_PICK = "analytics-models-pick"  # {"a", "b", "seq"}: a row picked outside the page's dataset

# ---------------------------------------------------------------- the cards' info icons (analytics_layout.card)
ANALYTICS_INFO_PROJECTION = "analytics-info-projection"
ANALYTICS_INFO_SEQUENCE = "analytics-info-sequence"
ANALYTICS_INFO_TABLE = "analytics-info-table"
ANALYTICS_INFO_OVERVIEW = "analytics-info-overview"
ANALYTICS_INFO_SLICES = "analytics-info-slices"
ANALYTICS_INFO_UNITS = "analytics-info-units"
ANALYTICS_INFO_NEIGHBORS = "analytics-info-neighbors"
ANALYTICS_INFO_WHATIF = "analytics-info-whatif"
ANALYTICS_INFO_COMPARE = "analytics-info-compare"
ANALYTICS_INFO = {
    "projection": ANALYTICS_INFO_PROJECTION,
    "sequence": ANALYTICS_INFO_SEQUENCE,
    "table": ANALYTICS_INFO_TABLE,
    "overview": ANALYTICS_INFO_OVERVIEW,
    "slices": ANALYTICS_INFO_SLICES,
    "units": ANALYTICS_INFO_UNITS,
    "neighbors": ANALYTICS_INFO_NEIGHBORS,
    "whatif": ANALYTICS_INFO_WHATIF,
    "compare": ANALYTICS_INFO_COMPARE,
}
