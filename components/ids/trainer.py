"""Ids of the trainer page (``pages/trainer.py``, ``components/cards/trainer_*.py``) and its cell view."""

# ---------------------------------------------------------------- the page view's stores (trainer_session)
TRAINER_SESSION = "trainer-session"
TRAINER_VIEW = "trainer-view"
TRAINER_RESULT = "trainer-result"
TRAINER_REQUEST = "trainer-request"
TRAINER_ANIM = "trainer-anim"
TRAINER_PLAYING = "trainer-playing"
TRAINER_SELECTED_LAYER = "trainer-selected-layer"
CELL_REFRESH = "cell-refresh"
TRAINER_CLOCK = "trainer-clock"
TRAINER_NOTICE = "trainer-notice"
# The layer count: what the buttons asked for (shown at once, assets/trainer.js), what was sent to the
# server (one request at a time, the latest count) and what the server built.
TRAINER_LAYERS_WANTED = "trainer-layers-wanted"
TRAINER_LAYERS_SENT = "trainer-layers-sent"
TRAINER_LAYERS_BUILT = "trainer-layers-built"

# ---------------------------------------------------------------- Input card
TRAINER_INPUT_SELECT = "trainer-input-select"
TRAINER_INFO_INPUT = "trainer-info-input"

# ---------------------------------------------------------------- Network card
TRAINER_NETWORK_WRAP = "trainer-network-wrap"
NETWORK_DIAGRAM = "network-diagram"
ADD_LAYER = "add-layer"
TRAINER_LAYER_COUNT = "trainer-layer-count"
TRAINER_UNITS = "trainer-units"
CELL_TYPE = "cell-type"
TRAINER_INFO_NETWORK = "trainer-info-network"
# pattern-matching id types of the diagram's buttons: {"type": ..., "index": layer}
TRAINER_LAYER = "trainer-layer"
TRAINER_INSERT_LAYER = "trainer-insert-layer"
TRAINER_REMOVE_LAYER = "trainer-remove-layer"

# ---------------------------------------------------------------- Prediction and Loss cards
PREDICTION_GRAPH = "prediction-graph"
TRAINER_INFO_PREDICTION = "trainer-info-prediction"
LOSS_GRAPH = "loss-graph"
TRAINER_INFO_LOSS = "trainer-info-loss"

# ---------------------------------------------------------------- Training card
PLAY_BUTTON = "play-button"
TRAINER_PLAY_ICON = "trainer-play-icon"
TRAINER_PLAY_LABEL = "trainer-play-label"
STEP_BUTTON = "step-button"
RESET_BUTTON = "reset-button"
EPOCH_COUNTER = "epoch-counter"
TRAINER_EXAMPLE = "trainer-example"
TRAINER_FAST = "trainer-fast"
TRAINER_SHORTCUTS = "trainer-shortcuts"
LEARNING_RATE = "learning-rate"
BATCH_SIZE = "batch-size"
NOISE = "noise"
TRAINER_LR_VALUE = "trainer-lr-value"
TRAINER_BATCH_VALUE = "trainer-batch-value"
TRAINER_NOISE_VALUE = "trainer-noise-value"
TRAINER_NOISE_COL = "trainer-noise-col"
TRAINER_PROCESS = "trainer-process"
TRAINER_PHASE_FORWARD = "trainer-phase-forward"
TRAINER_PHASE_VALIDATION = "trainer-phase-validation"
TRAINER_PHASE_BACKWARD = "trainer-phase-backward"
TRAINER_PHASES = {
    "forward": TRAINER_PHASE_FORWARD,
    "validation": TRAINER_PHASE_VALIDATION,
    "backward": TRAINER_PHASE_BACKWARD,
}
TRAINER_INFO_PROCESS = "trainer-info-process"
TRAINER_INFO_EPOCHS = "trainer-info-epochs"
TRAINER_INFO_LEARNING_RATE = "trainer-info-learning-rate"
TRAINER_INFO_BATCH_SIZE = "trainer-info-batch-size"
TRAINER_INFO_NOISE = "trainer-info-noise"

# ---------------------------------------------------------------- cell view (trainer_cell_card, cell_view)
CELL_VIEW_CONTAINER = "cell-view-container"
CELL_VIEW = "cell-view"
CELL_WAITING = "cell-waiting"  # "opening layer n once the network is ready" (Network card)
CELL_BACKDROP = "cell-backdrop"
CELL_BACK = "cell-back"
CELL_HEADING = "cell-heading"
CELL_CHECK = "cell-check"
CELL_DIAGRAM = "cell-diagram"
CELL_DATA_GRAPH = "cell-data-graph"
CELL_GRAD_GRAPH = "cell-grad-graph"
CELL_SUBSTEP_LABEL = "cell-substep-label"
CELL_SUB_0 = "cell-sub-0"
CELL_SUB_1 = "cell-sub-1"
CELL_SUB_2 = "cell-sub-2"
CELL_SUB_3 = "cell-sub-3"
CELL_SUBS = (CELL_SUB_0, CELL_SUB_1, CELL_SUB_2, CELL_SUB_3)
CELL_PHASE_LABEL_FORWARD = "cell-phase-label-forward"
CELL_PHASE_LABEL_ERROR = "cell-phase-label-error"
CELL_PHASE_LABEL_BACKWARD = "cell-phase-label-backward"
CELL_PHASE_LABEL_PREDICT = "cell-phase-label-predict"
CELL_PHASE_LABELS = {
    "forward": CELL_PHASE_LABEL_FORWARD,
    "error": CELL_PHASE_LABEL_ERROR,
    "backward": CELL_PHASE_LABEL_BACKWARD,
    "predict": CELL_PHASE_LABEL_PREDICT,
}
CELL_PLAY = "cell-play"
CELL_STEP_BUTTON = "cell-step-button"
CELL_PHASE = "cell-phase"
CELL_SPEED = "cell-speed"
CELL_EXPLAIN = "cell-explain"
CELL_EXPLAIN_TITLE = "cell-explain-title"
CELL_EXPLAIN_BODY = "cell-explain-body"
CELL_PAYLOAD = "cell-payload"
CELL_POSITION = "cell-position"
CELL_FIGURE_READY = "cell-figure-ready"
CELL_INTERVAL = "cell-interval"
INFO_CELL_HEADING = "info-cell-heading"
INFO_CELL_NETWORK_DATA = "info-cell-network-data"
INFO_CELL_GRADIENT = "info-cell-gradient"
INFO_CELL_SUB_0 = "info-cell-sub-0"
INFO_CELL_SUB_1 = "info-cell-sub-1"
INFO_CELL_SUB_2 = "info-cell-sub-2"
INFO_CELL_SUB_3 = "info-cell-sub-3"
INFO_CELL_SUBS = (INFO_CELL_SUB_0, INFO_CELL_SUB_1, INFO_CELL_SUB_2, INFO_CELL_SUB_3)
INFO_CELL_PHASE_FORWARD = "info-cell-phase-forward"
INFO_CELL_PHASE_ERROR = "info-cell-phase-error"
INFO_CELL_PHASE_BACKWARD = "info-cell-phase-backward"
INFO_CELL_PHASE_PREDICT = "info-cell-phase-predict"
INFO_CELL_PHASES = {
    "forward": INFO_CELL_PHASE_FORWARD,
    "error": INFO_CELL_PHASE_ERROR,
    "backward": INFO_CELL_PHASE_BACKWARD,
    "predict": INFO_CELL_PHASE_PREDICT,
}
