/* RNN Explorer cell view: client-side step-through of one layer's real values.
   The payload (components/cell_view.py) holds the frames in order (forward, error, backward,
   predict ahead), which parts light up in each sub-step, and every vector; this file only
   renders a frame. Clientside callbacks: window.dash_clientside.rnnx.cellControl and .cellRender;
   element ids are those of components/ids/trainer.py (tests/unit/test_ids.py checks both). */
(function () {
  "use strict";
  var IDS = {
    payload: "cell-payload",
    phase: "cell-phase",
    stepButton: "cell-step-button",
    interval: "cell-interval",
    play: "cell-play",
    phaseLabels: {
      forward: "cell-phase-label-forward",
      error: "cell-phase-label-error",
      backward: "cell-phase-label-backward",
      predict: "cell-phase-label-predict"
    }
  };
  var ORANGE = "#ff9800", ORANGE_SOFT = "#ffcc80", DONE_FILL = "#fff3e0", ACTIVE_FILL = "#ffe0b2";
  var IDLE = "#b0bec5", BASE_MS = 700;

  function triggered() {
    var ctx = window.dash_clientside && window.dash_clientside.callback_context;
    var list = ctx && ctx.triggered ? ctx.triggered : [];
    return list.map(function (t) { return t.prop_id.split(".")[0]; });
  }

  function phaseStart(frames, phase) {
    for (var k = 0; k < frames.length; k++) { if (frames[k].phase === phase) { return k; } }
    return 0;
  }

  function icon(playing) {
    return { type: "I", namespace: "dash_html_components", props: { className: playing ? "bi bi-pause-fill" : "bi bi-play-fill" } };
  }

  /* The step-through's position, phase, clock and play icon after a click, a tick or a new payload. */
  function cellControl(step, tick, phase, play, speed, payload, position, disabled) {
    var NOUP = window.dash_clientside.no_update;
    if (!payload || !payload.frames) { return [NOUP, NOUP, true, NOUP, icon(false)]; }
    var frames = payload.frames, last = frames.length - 1, ids = triggered();
    var pos = typeof position === "number" ? position : 0;
    var off = disabled !== false;
    var interval = BASE_MS / Math.pow(2, speed || 0);
    if (ids.indexOf(IDS.payload) >= 0) {
      return [0, "forward", true, interval, icon(false)];
    }
    if (ids.indexOf(IDS.phase) >= 0 && phase && frames[pos].phase !== phase) {
      pos = phaseStart(frames, phase);
    } else if (ids.indexOf(IDS.stepButton) >= 0) {
      pos = Math.min(pos + 1, last);
      off = true;
    } else if (ids.indexOf(IDS.interval) >= 0) {
      pos = Math.min(pos + 1, last);
      if (pos >= last) { off = true; }
    } else if (ids.indexOf(IDS.play) >= 0) {
      off = !off;
      if (!off && pos >= last) { pos = 0; }
    }
    return [pos, frames[pos].phase, off, interval, icon(!off)];
  }

  function copy(obj) { return JSON.parse(JSON.stringify(obj)); }
  function blank(n) { var out = []; for (var k = 0; k < n; k++) { out.push(null); } return out; }
  function maxAbs(rows) {
    var m = 1e-12;
    (rows || []).forEach(function (r) { r.forEach(function (v) { m = Math.max(m, Math.abs(v)); }); });
    return m;
  }

  function partState(sub, frame) {
    // "active" (lights now), "done" (computed earlier in this step) or "idle"
    if (frame.phase === "backward") { return "active"; }
    if (frame.phase === "error") { return "done"; }
    if (sub === frame.sub) { return "active"; }
    return sub < frame.sub ? "done" : "idle";
  }

  function fmtTick(v) { return v === 0 ? "0" : (v < 0 ? "−" : "") + Math.abs(v).toExponential(0); }

  function renderScale(trace, meta, back, gradA) {
    // the signed colour bar reads as the gradient's scale while the backward phase shows ∂L/∂a
    if (meta.scale !== "signed") { return; }
    var bar = trace.marker.colorbar;  // meta keeps the bar's own title and ticks
    bar.title = Object.assign({}, bar.title, { text: back ? "∂L/∂aₜ, ∂L/∂cₜ (other strips faded)" : meta.title });
    bar.ticktext = back ? [fmtTick(-gradA), "0", fmtTick(gradA)] : meta.ticktext.slice();
  }

  function renderDiagram(fig, payload, frame) {
    var t = frame.t, back = frame.phase === "backward", steps = payload.steps;
    var gradA = maxAbs(payload.grad_a), gradC = maxAbs(payload.grad_c);
    var lastNodeSub = 0;
    Object.keys(payload.node_sub).forEach(function (k) { lastNodeSub = Math.max(lastNodeSub, payload.node_sub[k]); });
    fig.data.forEach(function (trace) {
      var meta = trace.meta || {};
      if (meta.role === "nodes") {
        var fills = [], lines = [], widths = [];
        meta.keys.forEach(function (key) {
          var sub = payload.node_sub[key];
          var st = frame.phase === "error" ? (sub === lastNodeSub ? "active" : "done") : partState(sub, frame);
          fills.push(st === "active" ? ACTIVE_FILL : st === "done" ? DONE_FILL : "#ffffff");
          lines.push(st === "active" ? ORANGE : st === "done" ? ORANGE_SOFT : IDLE);
          widths.push(st === "active" ? 3 : 2);
        });
        trace.marker.color = fills;
        trace.marker.line = { color: lines, width: widths };
      } else if (meta.role === "scale") {
        renderScale(trace, meta, back, gradA);
      } else if (meta.role === "strip") {
        var n = trace.x.length - 1, z = null, opacity = 1, values = payload.values;
        trace.zmin = meta.scale === "gate" ? 0 : -1;
        trace.zmax = 1;
        var name = (trace.hovertemplate || "").split(" · ")[0];
        if (back) {
          if (meta.part === "a" || (meta.part === "c" && payload.grad_c)) {
            var g = meta.part === "a" ? payload.grad_a[t] : payload.grad_c[t];
            var m = meta.part === "a" ? gradA : gradC;
            z = g; trace.zmin = -m; trace.zmax = m;
            trace.hovertemplate = "∂L/∂" + (meta.part === "a" ? "aₜ" : "cₜ") + " · %{text}: %{z:.2e}<extra>backward</extra>";
          } else { z = values[meta.part][t]; opacity = 0.25; }
        } else {
          var st = frame.phase === "error" ? "done" : partState(meta.sub, frame);
          if (st !== "idle") { z = values[meta.part][t]; }
          else if (meta.before) { z = values[meta.before][t]; }
          else if (t > 0) { z = values[meta.part][t - 1]; opacity = 0.35; }
          if (trace.hovertemplate && trace.hovertemplate.indexOf("∂L") === 0) {
            trace.hovertemplate = name + " · %{text}: %{z:.3f}<extra></extra>";
          }
        }
        trace.z = [z ? z.slice(0, n) : blank(n)];
        trace.opacity = opacity;
      }
    });
    var active = function (key) {
      var sub = payload.edge_sub[key];
      if (sub === undefined) { return null; }
      if (back) { return "active"; }
      if (frame.phase === "error") { return sub === 3 || key === "out_neighbour" ? "active" : "done"; }
      return partState(sub, frame);
    };
    (fig.layout.annotations || []).forEach(function (a) {
      if (a.name === "title") {
        var base = a.text.split(" · t =")[0];
        a.text = base + " · t = " + (t + 1) + (frame.phase === "predict"
          ? " · predicted " + (t - steps + 1) + " of " + payload.predicted : " / " + steps);
        return;
      }
      var st = active(a.name);
      if (!st) { return; }
      a.arrowcolor = st === "active" ? ORANGE : st === "done" ? ORANGE_SOFT : IDLE;
      a.arrowwidth = st === "active" ? 3 : st === "done" ? 2 : 1.6;
      var g = payload.arrows[a.name];
      if (g) { // the flow runs reversed in the backward phase
        if (back) { a.ax = g[2]; a.ay = g[3]; a.x = g[0]; a.y = g[1]; } else { a.ax = g[0]; a.ay = g[1]; a.x = g[2]; a.y = g[3]; }
      }
    });
    (fig.layout.shapes || []).forEach(function (s) {
      var st = active(s.name);
      if (!st) { return; }
      s.line = Object.assign({}, s.line, { color: st === "active" ? ORANGE : st === "done" ? ORANGE_SOFT : IDLE, width: st === "active" ? 3 : 2, dash: back ? "dash" : "solid" });
    });
    return fig;
  }

  function xAt(d, i) {
    // the data's x positions, continued evenly past the ones the payload carries
    var xs = d.x || [];
    if (i < xs.length) { return xs[i]; }
    var dx = xs.length > 1 ? xs[1] - xs[0] : 1;
    return xs[0] + i * dx;
  }

  function renderAhead(fig, payload, frame) {
    // predict ahead: predicted step k reads prediction k (fed back) and gives prediction k + 1
    var d = payload.data, steps = payload.steps, k = frame.t - steps + 1, ahead = payload.ahead || [];
    var idx = []; for (var j = 0; j <= k && j < ahead.length; j++) { idx.push(steps + j); }
    var shownAhead = ahead.slice(0, idx.length);
    fig.data.forEach(function (tr) {
      var role = (tr.meta || {}).role;
      if (d.kind === "function") {
        if (role === "truth") { tr.x = d.truth_x; tr.y = d.truth; }
        if (role === "input") { tr.x = d.x.slice(0, steps); tr.y = d.inputs.slice(0, steps); }
        if (role === "current") { tr.x = [xAt(d, steps + k - 1)]; tr.y = [ahead[k - 1]]; }
        if (role === "prediction") { tr.x = idx.map(function (i) { return xAt(d, i); }); tr.y = shownAhead; tr.mode = "markers+lines"; }
        if (role === "target" || role === "error") { tr.x = []; tr.y = []; }
      } else {
        var pos = []; for (var m = 0; m < steps; m++) { pos.push(m + 1); }
        var chars = d.inputs.map(function (c) { return c === " " ? "␣" : c; });
        if (role === "input") { tr.x = pos; tr.y = pos.map(function () { return 0; }); tr.mode = "text"; tr.text = chars; tr.textfont = { size: 15, color: "#37474f" }; }
        if (role === "current") { tr.x = [steps + k]; tr.y = [0.15]; tr.marker = { color: "#ff9800", size: 8, symbol: "triangle-up" }; }
        if (role === "prediction") {
          tr.x = idx.map(function (i) { return i + 1; }); tr.y = idx.map(function () { return 0.5; }); tr.mode = "text";
          tr.text = shownAhead; tr.textfont = { size: 16, color: "#2196f3" };
        }
        if (role === "target" || role === "truth" || role === "error") { tr.x = []; tr.y = []; }
      }
    });
    if (d.kind !== "function") {
      fig.layout.yaxis = Object.assign({}, fig.layout.yaxis, { range: [-1, 1], visible: false });
      fig.layout.xaxis = Object.assign({}, fig.layout.xaxis, { range: [0.3, steps + (payload.predicted || 0) + 1.7] });
    }
    return fig;
  }

  function renderData(fig, payload, frame) {
    if (frame.phase === "predict") { return renderAhead(fig, payload, frame); }
    var d = payload.data, steps = payload.steps, t = frame.t;
    var shown = frame.phase === "forward" ? t + 1 : steps;
    var predicted = frame.phase !== "forward" || (t === steps - 1 && frame.sub === 3);
    var pred = payload.prediction || [];
    fig.data.forEach(function (tr) {
      var role = (tr.meta || {}).role;
      if (d.kind === "function") {
        var xs = d.x, tx = xs[steps], py = pred[0];
        if (role === "truth") { tr.x = d.truth_x; tr.y = d.truth; }
        if (role === "input") { tr.x = xs.slice(0, shown); tr.y = d.inputs.slice(0, shown); }
        if (role === "current") { tr.x = frame.phase === "forward" ? [xs[t]] : []; tr.y = frame.phase === "forward" ? [d.inputs[t]] : []; }
        if (role === "target") { tr.x = [tx]; tr.y = [d.target]; }
        if (role === "prediction") { tr.x = predicted ? [tx] : []; tr.y = predicted ? [py] : []; tr.mode = "markers"; }
        if (role === "error") { var e = frame.phase !== "forward"; tr.x = e ? [tx, tx] : []; tr.y = e ? [py, d.target] : []; }
      } else {
        var pos = []; for (var k = 0; k < steps; k++) { pos.push(k + 1); }
        var chars = d.inputs.map(function (c) { return c === " " ? "␣" : c; });
        if (role === "input") { tr.x = pos.slice(0, shown); tr.y = blank(shown).map(function () { return 0; }); tr.mode = "text"; tr.text = chars.slice(0, shown); tr.textfont = { size: 15, color: "#37474f" }; }
        if (role === "current") { tr.x = frame.phase === "forward" ? [t + 1] : []; tr.y = frame.phase === "forward" ? [-0.35] : []; tr.marker = { color: "#ff9800", size: 8, symbol: "triangle-up" }; }
        if (role === "target") { tr.x = [steps + 1]; tr.y = [0]; tr.mode = "text"; tr.text = [d.target === " " ? "␣" : d.target]; tr.textfont = { size: 15, color: "#9e9e9e" }; }
        if (role === "prediction") {
          var ok = d.predicted === d.target;
          tr.x = predicted ? [steps + 1] : []; tr.y = predicted ? [0.5] : []; tr.mode = "text";
          tr.text = [d.predicted === " " ? "␣" : d.predicted]; tr.textfont = { size: 16, color: ok ? "#2e7d32" : "#e53935" };
        }
        if (role === "truth" || role === "error") { tr.x = []; tr.y = []; }
      }
    });
    if (d.kind !== "function") {
      fig.layout.yaxis = Object.assign({}, fig.layout.yaxis, { range: [-1, 1], visible: false });
      fig.layout.xaxis = Object.assign({}, fig.layout.xaxis, { range: [0.3, steps + 1.7] });
    }
    return fig;
  }

  var GRAD_NOTES = {
    forward: "Gradients come in the backward phase:<br>first the error must be known",
    error: "The error is known: the backward phase<br>sends it back through time",
    predict: "Predicting ahead runs forward only:<br>no error, no gradient"
  };

  function renderGrad(fig, payload, frame) {
    var steps = payload.steps, y = [], colors = [], back = frame.phase === "backward";
    for (var k = 0; k < steps; k++) {
      var on = back && k >= frame.t;
      y.push(on ? Math.max(payload.grad_norm[k], 1e-12) : null);
      colors.push(back && k === frame.t ? ORANGE : ORANGE_SOFT);
    }
    fig.data[0].y = y;
    fig.data[0].marker = { color: colors };
    // an empty chart says why it is empty
    var note = (fig.layout.annotations || []).filter(function (a) { return a.name === "note"; })[0];
    var others = (fig.layout.annotations || []).filter(function (a) { return a.name !== "note"; });
    if (!back) {
      note = Object.assign({ name: "note", xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false,
        font: { size: 11, color: "#78909c" } }, note || {}, { text: GRAD_NOTES[frame.phase] || "" });
      others.push(note);
    }
    fig.layout.annotations = others;
    fig.layout.yaxis = Object.assign({}, fig.layout.yaxis, { showticklabels: back });
    return fig;
  }

  function fmt(v) { return (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(3); }

  function label(payload, frame) {
    var steps = payload.steps;
    if (frame.phase === "forward") {
      return "Forward · time step " + (frame.t + 1) + " of " + steps + " · " + (frame.sub + 1) + ". " + payload.substep_titles[frame.sub];
    }
    var d = payload.data, pred = payload.prediction || [];
    if (frame.phase === "error") {
      if (d.kind === "function") { return "Error · prediction " + fmt(pred[0]) + " vs target " + fmt(d.target) + " (error " + fmt(pred[0] - d.target) + ")"; }
      return "Error · predicted '" + d.predicted + "', target '" + d.target + "'";
    }
    if (frame.phase === "predict") {
      var k = frame.t - steps + 1, ahead = payload.ahead || [], next = ahead[k];
      var shown = typeof next === "number" ? fmt(next) : "'" + next + "'";
      return "Predict ahead · time step " + (frame.t + 1) + " · the network reads its own prediction " + k + " of " +
        payload.predicted + " (the window slides to steps " + (k + 1) + "–" + (frame.t + 1) + ", from a zero state) → next " + shown;
    }
    return "Backward through time · step " + (frame.t + 1) + " of " + steps + " · ‖∂L/∂aₜ‖ = " + fmt(payload.grad_norm[frame.t]);
  }

  /* The frame at ``position``: the cell diagram, the data and gradient charts, the labels. */
  function cellRender(position, payload, diagram, data, grad) {
    var NOUP = window.dash_clientside.no_update;
    var ctx = window.dash_clientside && window.dash_clientside.callback_context;
    var outs = (ctx && ctx.outputs_list) || [];
    if (!payload || !payload.frames || !diagram) { return blank(outs.length || 11).map(function () { return NOUP; }); }
    var pos = Math.min(Math.max(position || 0, 0), payload.frames.length - 1);
    var frame = payload.frames[pos];
    var subs = [0, 1, 2, 3].map(function (k) {
      if (frame.phase !== "forward" && frame.phase !== "predict") { return "cell-sub done"; }
      return k === frame.sub ? "cell-sub active" : k < frame.sub ? "cell-sub done" : "cell-sub";
    });
    var names = ["forward", "error", "backward", "predict"];
    var phases = names.map(function (p) {
      return p === frame.phase ? "cell-phase-label active" : "cell-phase-label";
    });
    // the callback's outputs name the phase pills it sets; any other pill is set here directly
    var labelIds = names.map(function (p) { return IDS.phaseLabels[p]; });
    var named = outs.map(function (o) { return o && o.id; }).filter(function (id) { return labelIds.indexOf(id) >= 0; });
    var answered = named.length ? named.map(function (id) { return phases[labelIds.indexOf(id)]; }) : phases.slice(0, 3);
    names.forEach(function (p, k) {
      var el = document.getElementById(labelIds[k]);
      if (el && named.indexOf(labelIds[k]) < 0 && (named.length || k > 2)) { el.className = phases[k]; }
    });
    return [
      renderDiagram(copy(diagram), payload, frame),
      renderData(copy(data), payload, frame),
      renderGrad(copy(grad), payload, frame),
      label(payload, frame),
    ].concat(subs, answered);
  }

  // Every asset file adds its functions to the one namespace (files load in alphabetical order).
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
    cellControl: cellControl,
    cellRender: cellRender
  });
})();
