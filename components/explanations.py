"""Every explanation text of the app, with its equations (Markdown + MathJax).

Covers the original exploRNN's 22 dialogs (five headings, three phases, four
cell sub-steps, three sliders, epochs, six LSTM cell elements) and the parts
this app adds (GRU and SimpleRNN cells, the loss chart, gradient norms).
Use :func:`info` for an (i) icon, :func:`explanation` for the raw text.
"""

from __future__ import annotations

from typing import NamedTuple

from dash import html

from components.info import info_icon


class Explanation(NamedTuple):
    title: str  # plain text (a popover or modal header renders no maths): Unicode, never $…$
    body: str
    group: str


_E = Explanation

EXPLANATIONS: dict[str, Explanation] = {
    # --- five headings -------------------------------------------------------------
    "input": _E(
        "Input",
        "The network reads a **sequence**, one point after the other. A function is sampled every "
        "$0.2$ on the $x$ axis; a window of $T = 15$ consecutive values $x^1, \\dots, x^T$ is one "
        "input, and the value that follows is the label. Text is read one character at a time, each "
        "character a one-hot vector. Unlike a feed-forward network, which sees one fixed-size input "
        "at once, a recurrent network can read sequences of any length and must *remember* what it "
        "has seen to predict what comes next. Noise can be added to the inputs (never to the labels).",
        "heading",
    ),
    "network": _E(
        "Network",
        "A stack of recurrent layers (16 units each unless you choose another width), then a dense output layer. Each layer is drawn "
        "with a **loop**: at every time step a layer combines its new input $x^t$ with its own "
        "previous output $a^{t-1}$,\n\n$$a^t = \\tanh(W_{ax} x^t + W_{aa} a^{t-1} + b_a).$$\n\n"
        "The output of one layer is the input of the next. Add a layer with **+**, remove one by "
        "hovering it, and click a layer to look inside its cell.",
        "heading",
    ),
    "prediction": _E(
        "Prediction",
        "Dark points are the input window, the thin grey line the ground truth, the blue line the "
        "network's prediction. After the window the network continues **autoregressively**: each "
        "predicted value is fed back as the next input, so it keeps predicting where no ground truth "
        "is given to it. Vertical lines show the error $\\hat y^t - y^t$ at each point.",
        "heading",
    ),
    "cell": _E(
        "LSTM cell",
        "Inside one layer: a long short-term memory cell. Besides its output $a^t$ it keeps a "
        "**cell state** $c^t$, a memory that three **gates** (numbers between 0 and 1, one per "
        "unit) control: what to forget ($f^t$), what to write ($i^t$) and what to output ($o^t$).\n\n"
        "$$c^t = f^t \\circ c^{t-1} + i^t \\circ \\tilde c^t, \\qquad a^t = o^t \\circ \\tanh(c^t)$$\n\n"
        "Every value shown here is computed from this layer's real weights on the current test "
        "window (one coloured cell per unit; hover for the numbers) and checked against "
        "the model. Click any part for its equation.",
        "heading",
    ),
    "network_data": _E(
        "Network data",
        "What the whole network sees and says while this cell works: the input points enter one per "
        "time step, the target is the next value, and the prediction appears once the last time step "
        "has left the top layer. This cell sits between other layers, so it never sees the raw input "
        "or makes the prediction itself. Past predictions can be fed back as inputs to keep building "
        "up the state and predict further ahead.",
        "heading",
    ),
    # --- three phases --------------------------------------------------------------
    "phase_forward": _E(
        "Forward pass (prediction)",
        "The input window flows through the network, time step by time step and layer by layer. "
        "Each cell updates its state from the new input and its previous output; after the last "
        "step the output layer predicts the next value $\\hat y = \\tanh(W_y a^T + b_y)$.",
        "phase",
    ),
    "phase_error": _E(
        "Error (validation)",
        "The prediction is compared with the target. For functions the loss is the mean squared "
        "error\n\n$$L = \\frac{1}{n} \\sum_t (\\hat y^t - y^t)^2,$$\n\nfor text the cross-entropy "
        "$L = -\\sum_k y_k \\log \\hat y_k$. The error lines in the plot show each difference.",
        "phase",
    ),
    "phase_backward": _E(
        "Backward pass (training)",
        "The error flows backwards: through the layers and **back through time** over every step "
        "of the window (backpropagation through time). Each weight moves against its gradient,\n\n"
        "$$W \\leftarrow W - \\eta \\, \\frac{\\partial L}{\\partial W}.$$\n\nThe bars show "
        "$\\lVert \\partial L / \\partial a^t \\rVert$ per time step: how strongly the error still "
        "reaches step $t$.",
        "phase",
    ),
    # --- four cell sub-steps -------------------------------------------------------
    "sub_input": _E(
        "1 · Receive the layer input",
        "The cell receives $x^t$ (the network input, or the output of the layer below) and its own "
        "previous output $a^{t-1}$ through the recurrent loop. At $t = 1$ the previous output is zero.",
        "substep",
    ),
    "sub_gates": _E(
        "2 · Compute the gate activations",
        "Every gate looks at $x^t$ and $a^{t-1}$ through its own weights and squashes the result:\n\n"
        "$$i^t = \\sigma(W_{ix} x^t + W_{ia} a^{t-1} + b_i)$$\n$$f^t = \\sigma(W_{fx} x^t + W_{fa} "
        "a^{t-1} + b_f)$$\n$$o^t = \\sigma(W_{ox} x^t + W_{oa} a^{t-1} + b_o)$$\n$$\\tilde c^t = "
        "\\tanh(W_{cx} x^t + W_{ca} a^{t-1} + b_c)$$",
        "substep",
    ),
    "sub_state": _E(
        "3 · Update the cell state",
        "The memory keeps what the forget gate lets through and adds what the input gate admits of "
        "the candidate, unit by unit ($\\circ$ is the element-wise product):\n\n"
        "$$c^t = f^t \\circ c^{t-1} + i^t \\circ \\tilde c^t$$",
        "substep",
    ),
    "sub_output": _E(
        "4 · Output the activation",
        "The output gate filters the squashed memory: $a^t = o^t \\circ \\tanh(c^t)$. It goes up to "
        "the next layer and, through the loop, back into this cell at the next time step.",
        "substep",
    ),
    # --- three sliders and epochs --------------------------------------------------
    "learning_rate": _E(
        "Learning rate",
        "How far each training step moves the weights: $W \\leftarrow W - \\eta\\, \\nabla_W L$. "
        "Too small and learning crawls; too large and the loss jumps around or explodes. The slider "
        "is logarithmic, from $10^{-4}$ to $1$ (default $0.025$).",
        "slider",
    ),
    "batch_size": _E(
        "Batch size",
        "How many training windows are averaged for one weight update, "
        "$\\nabla L = \\frac{1}{B} \\sum_{b=1}^{B} \\nabla L_b$. Small batches give many noisy "
        "updates per epoch, large batches few smooth ones (100 windows per epoch, so a batch of 25 "
        "makes 4 updates).",
        "slider",
    ),
    "noise": _E(
        "Noise",
        "Uniform noise $\\varepsilon \\sim U(-n, n)$ added to the inputs, never to the targets, as in "
        "real measurements: $\\tilde x^t = x^t + \\varepsilon^t$. The network must learn the "
        "underlying function despite it.",
        "slider",
    ),
    "epochs": _E(
        "Epochs",
        "One epoch: fresh training windows are generated, the network predicts a new test window, "
        "the error is measured, and the weights are trained once over all 100 windows. The counter "
        "shows how many epochs have run.",
        "control",
    ),
    # --- six LSTM cell elements ----------------------------------------------------
    "layer_input": _E(
        "Layer input",
        "Where $x^t$ and the previous output $a^{t-1}$ meet. Each gate $g$ (input $i$, forget $f$, "
        "output $o$ and the candidate $\\tilde c$) gets both, through its own weights and bias:\n\n"
        "$$W_{gx} x^t + W_{ga} a^{t-1} + b_g$$\n\nThis is the recurrence: the cell's own past output "
        "is part of its input.",
        "element",
    ),
    "input_gate": _E(
        "Input gate iᵗ",
        "$$i^t = \\sigma(W_{ix} x^t + W_{ia} a^{t-1} + b_i) \\in (0, 1)$$\n\nDecides, per unit, how "
        "much of the candidate is written into the memory: $0$ keeps the new information out, $1$ "
        "lets it all in.",
        "element",
    ),
    "forget_gate": _E(
        "Forget gate fᵗ",
        "$$f^t = \\sigma(W_{fx} x^t + W_{fa} a^{t-1} + b_f) \\in (0, 1)$$\n\nDecides, per unit, how "
        "much of the old memory $c^{t-1}$ is kept: $1$ keeps it, $0$ erases it. Because $c^t$ depends "
        "on $c^{t-1}$ only through this product, gradients can flow back through many steps without "
        "vanishing while $f^t \\approx 1$.",
        "element",
    ),
    "output_gate": _E(
        "Output gate oᵗ",
        "$$o^t = \\sigma(W_{ox} x^t + W_{oa} a^{t-1} + b_o) \\in (0, 1)$$\n\nDecides which part of "
        "the memory is shown to the outside: $a^t = o^t \\circ \\tanh(c^t)$.",
        "element",
    ),
    "candidate": _E(
        "Update (candidate) c̃ᵗ",
        "$$\\tilde c^t = \\tanh(W_{cx} x^t + W_{ca} a^{t-1} + b_c) \\in (-1, 1)$$\n\nThe new "
        "information proposed for the memory; the input gate decides how much of it is written.",
        "element",
    ),
    "cell_state": _E(
        "Cell state cᵗ",
        "The cell's memory (the square icon), carried from step to step along its own loop:\n\n"
        "$$c^t = f^t \\circ c^{t-1} + i^t \\circ \\tilde c^t$$\n\nIt is only ever scaled and added "
        "to, never squashed, which lets an LSTM keep information over long ranges.",
        "element",
    ),
    # --- added by this app ---------------------------------------------------------
    "output_activation": _E(
        "Output aᵗ",
        "$$a^t = o^t \\circ \\tanh(c^t)$$\n\nThe layer's output at step $t$ (also called the hidden "
        "state $h^t$): it goes to the next layer and back into this cell as $a^{t-1}$ at the next step.",
        "element",
    ),
    "recurrent_loop": _E(
        "Recurrent loops",
        "Two loops carry the past into the present: the output $a^t$ returns as the next step's "
        "input $a^{t-1}$, and the cell state $c^t$ returns as $c^{t-1}$. Unrolled over the window, "
        "the cell becomes a chain of $T$ copies sharing the same weights.",
        "element",
    ),
    "update_gate": _E(
        "Update gate zᵗ (GRU)",
        "$$z^t = \\sigma(W_{zx} x^t + W_{za} a^{t-1} + b_z)$$\n\nMixes old and new: "
        "$a^t = z^t \\circ a^{t-1} + (1 - z^t) \\circ \\tilde a^t$. It does the work of the LSTM's "
        "forget and input gates at once.",
        "element",
    ),
    "reset_gate": _E(
        "Reset gate rᵗ (GRU)",
        "$$r^t = \\sigma(W_{rx} x^t + W_{ra} a^{t-1} + b_r)$$\n\nDecides how much of the previous "
        "output is used to form the candidate $\\tilde a^t = \\tanh(W_{hx} x^t + r^t \\circ (W_{ha} "
        "a^{t-1} + b_{ha}) + b_{hx})$.",
        "element",
    ),
    "gru_candidate": _E(
        "Candidate ãᵗ (GRU)",
        "$$\\tilde a^t = \\tanh(W_{hx} x^t + r^t \\circ (W_{ha} a^{t-1} + b_{ha}) + b_{hx})$$\n\n"
        "The proposed new state; the update gate decides how much of it replaces the old one.",
        "element",
    ),
    "gru_state": _E(
        "State update (GRU)",
        "A GRU has no separate cell state: its output is its memory.\n\n"
        "$$a^t = z^t \\circ a^{t-1} + (1 - z^t) \\circ \\tilde a^t$$",
        "element",
    ),
    "simple_activation": _E(
        "Activation (SimpleRNN)",
        "$$a^t = \\tanh(W_{ax} x^t + W_{aa} a^{t-1} + b_a)$$\n\nNo gates and no separate memory. "
        "Backpropagated through time the error is multiplied by $W_{aa}^\\top$ and by "
        "$\\tanh' \\le 1$ at every step, so it usually shrinks exponentially: the **vanishing "
        "gradient** that makes long dependencies hard to learn.",
        "element",
    ),
    "gradient_norm": _E(
        "Gradient per time step",
        "$\\lVert \\partial L / \\partial a^t \\rVert$: how much the loss would change if this "
        "layer's output at step $t$ changed, through every later step and layer. If the bars shrink "
        "towards the start of the window, the early inputs hardly influence learning (vanishing "
        "gradients). LSTM and GRU gates keep the path open; compare with a SimpleRNN layer.",
        "element",
    ),
    "loss": _E(
        "Loss",
        "Training and validation loss per epoch (log scale). Both falling: the network learns. "
        "Validation rising while training falls: it overfits. Jumping up and down: the learning "
        "rate is probably too high.",
        "heading",
    ),
    "cell_type": _E(
        "Cell type",
        "**LSTM**: memory cell with forget, input and output gates. **GRU**: two gates (update, "
        "reset), no separate memory, fewer weights. **SimpleRNN**: $a^t = \\tanh(W_{ax} x^t + "
        "W_{aa} a^{t-1} + b)$, no gates, prone to vanishing gradients.",
        "control",
    ),
    "rnn_vs_ffn": _E(
        "What recurrence adds",
        "A feed-forward network maps one input to one output and forgets it. A recurrent network "
        "reads a sequence step by step and carries a **state** from step to step, so its output "
        "can depend on everything it has read so far, with the same weights applied at every step.",
        "heading",
    ),
}

# The original exploRNN's 22 dialogs, by group, all covered above.
ORIGINAL_TOPICS: dict[str, tuple[str, ...]] = {
    "heading": ("input", "network", "prediction", "cell", "network_data"),
    "phase": ("phase_forward", "phase_error", "phase_backward"),
    "substep": ("sub_input", "sub_gates", "sub_state", "sub_output"),
    "slider": ("learning_rate", "batch_size", "noise"),
    "control": ("epochs",),
    "element": ("layer_input", "input_gate", "forget_gate", "output_gate", "candidate", "cell_state"),
}

SUBSTEP_KEYS = ORIGINAL_TOPICS["substep"]
PHASE_KEYS = {"forward": "phase_forward", "error": "phase_error", "backward": "phase_backward"}


def explanation(key: str) -> Explanation:
    """The explanation for ``key`` (KeyError if there is none)."""
    return EXPLANATIONS[key]


def info(key: str, icon_id: str | None = None) -> html.Span:
    """An (i) icon opening the explanation ``key``; ``icon_id`` defaults to ``info-<key>``."""
    entry = EXPLANATIONS[key]
    return info_icon(icon_id or f"info-{key.replace('_', '-')}", entry.title, entry.body)
