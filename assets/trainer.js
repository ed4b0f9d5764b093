/* Trainer page: client-side play loop and per-epoch animation.
 *
 * The server returns real results in the `trainer-result` store (the full
 * prediction figure, with traces tagged by `meta`); this file only reveals
 * them phase by phase: forward (the prediction grows, the window slides),
 * validation (the error lines grow), backward (flow reversed in the network).
 */
(function () {
  "use strict";

  const PHASES = [
    { key: "forward", ms: 1600 },
    { key: "validation", ms: 800 },
    { key: "backward", ms: 1300 },
  ];
  const PHASE = "trainer-phase"; // the phase cards' class (their ids are PHASE + "-" + key)
  /* Element ids: those of components/ids/trainer.py (tests/unit/test_ids.py checks them). */
  const IDS = {
    play: "play-button",
    step: "step-button",
    reset: "reset-button",
    addLayer: "add-layer",
    network: "network-diagram",
    insertLayer: "trainer-insert-layer", // a pattern-matching id's type
    removeLayer: "trainer-remove-layer", // a pattern-matching id's type
    selected: "trainer-selected-layer",
    layersSent: "trainer-layers-sent",
  };
  const MIN_LAYERS = 1;
  const MAX_LAYERS = 7; // services/trainer.py MIN_LAYERS, MAX_LAYERS
  const RESEND_MS = 15000; // a count sent this long ago without a reply is sent again
  const MAX_TRIES = 3; // the same count sent this often without being built: the server's count is taken
  const PENDING = "trainer-network-pending";

  function now() {
    return Date.now();
  }

  function phaseAt(elapsed) {
    let start = 0;
    for (const p of PHASES) {
      if (elapsed < start + p.ms) {
        return { key: p.key, progress: (elapsed - start) / p.ms };
      }
      start += p.ms;
    }
    return { key: "done", progress: 1 };
  }

  function phaseClasses(key) {
    return PHASES.map((p) => PHASE + (p.key === key ? " active" : ""));
  }

  function traceIndex(fig, meta) {
    return (fig.data || []).findIndex((t) => t.meta === meta);
  }

  function sliceTrace(trace, count) {
    const keys = ["x", "y", "text", "hovertext"];
    for (const k of keys) {
      if (Array.isArray(trace[k])) trace[k] = trace[k].slice(0, count);
    }
    if (trace.textfont && Array.isArray(trace.textfont.color)) {
      trace.textfont.color = trace.textfont.color.slice(0, count);
    }
  }

  /* The figure as it looks at `progress` (0..1) of phase `key`. */
  function frame(figure, key, progress) {
    const fig = JSON.parse(JSON.stringify(figure));
    const ip = traceIndex(fig, "prediction");
    const ie = traceIndex(fig, "errors");
    if (ip < 0) return fig;
    const pred = fig.data[ip];
    const n = (pred.x || []).length;
    const step = n > 1 ? pred.x[1] - pred.x[0] : 1;
    if (key === "forward") {
      const shown = Math.max(1, Math.ceil(progress * n));
      sliceTrace(pred, shown);
      if (ie >= 0) sliceTrace(fig.data[ie], 0);
      const win = (fig.layout.shapes || []).find((s) => s.name === "window");
      if (win) {
        win.x0 += (shown - 1) * step;
        win.x1 += (shown - 1) * step;
        win.fillcolor = "rgba(33,150,243,0.12)";
      }
    } else if (key === "validation" && ie >= 0) {
      const err = fig.data[ie];
      const ys = err.y.slice();
      for (let i = 0; i + 1 < ys.length; i += 3) {
        if (ys[i] !== null && ys[i + 1] !== null) {
          ys[i + 1] = ys[i] + progress * (ys[i + 1] - ys[i]);
        }
      }
      err.y = ys;
      const shown = Math.ceil(progress * n) * 3;
      sliceTrace(err, shown);
    }
    return fig;
  }

  function netClass(key) {
    return "trainer-network-wrap" + (key && key !== "done" ? " phase-" + key : "");
  }

  const NO = () => window.dash_clientside.no_update;
  /* playing flag, clock disabled, play icon, play label */
  const playControls = (playing) =>
    [playing, !playing, playing ? "bi bi-pause-fill" : "bi bi-play-fill", playing ? "Pause" : "Play"];

  /* Play / pause. */
  function trainerTogglePlay(_clicks, playing) {
    return playControls(!playing);
  }

  /* Opening a layer's cell view pauses training, so the values shown stay those of its epoch. */
  function trainerPauseForCell(layer, playing) {
    if (layer === null || layer === undefined || !playing) {
      return [NO(), NO(), NO(), NO()];
    }
    return playControls(false);
  }

  /* A new epoch while a cell view is open (one in flight when training paused) refreshes it, and so
     does the network's first result for a layer clicked before it was ready; with no layer selected
     nothing is sent to the server. */
  function trainerRefreshCell(epoch, layer) {
    return layer === null || layer === undefined ? NO() : epoch;
  }

  /* The store a server callback listens to, written from the browser (never a declared output of a
     callback fired as the diagram is drawn, so drawing it chains nothing to the server). */
  function write(id, data) {
    window.dash_clientside.set_props(id, { data: data });
  }

  /* A click on a layer selects it here, at once: a click is never lost to the diagram being drawn
     again meanwhile (the server checks the index when it opens the view). Said until the view is open. */
  function trainerSelectLayer(_clicks) {
    const ctx = window.dash_clientside.callback_context;
    const hits = (ctx && ctx.triggered) || [];
    if (hits.length !== 1 || !hits[0].value) return NO();
    let id = null;
    try {
      id = JSON.parse(hits[0].prop_id.slice(0, hits[0].prop_id.lastIndexOf(".")));
    } catch (_error) {
      return NO();
    }
    if (!id || !Number.isInteger(id.index)) return NO();
    write(IDS.selected, id.index);
    return "Opening layer " + (id.index + 1) + "…";
  }

  /* ---- the layer count: shown at once, sent whole, one request at a time ---- */

  function layersLabel(label, n) {
    const count = n + " layer" + (n > 1 ? "s" : "");
    const text = typeof label === "string" ? label : "";
    return /^\d+ layers?/.test(text) ? text.replace(/^\d+ layers?/, count) : count;
  }

  function drawnLayers() {
    return document.querySelectorAll("#" + IDS.network + " .net-layer").length || null;
  }

  /* Send ``layers`` to the server; the wanted state, now waiting for its reply. */
  function send(wanted, sent, layers) {
    const again = sent && sent.layers === layers;
    const tries = again ? (wanted.tries || 0) + 1 : 0;
    write(IDS.layersSent, { layers: layers, n: ((sent && sent.n) || 0) + 1 });
    return Object.assign({}, wanted, { layers: layers, busy: true, at: now(), tries: tries });
  }

  /* A press of + (or "+" between layers, or a layer's ×): the count shown changes now; the count is
     sent unless a request is on its way (its reply sends the latest count: trainerLayersBuilt). */
  function trainerLayerPress(add, _inserts, _removes, wanted, sent, built, label) {
    const ctx = window.dash_clientside.callback_context;
    wanted = Object.assign({}, wanted || {});
    let delta = 0;
    for (const t of (ctx && ctx.triggered) || []) {
      const id = t.prop_id.split(".")[0];
      if (id === IDS.addLayer) delta += Math.max(0, (add || 0) - (wanted.add || 0));
      else if (id.indexOf(IDS.insertLayer) >= 0 && t.value) delta += 1;
      else if (id.indexOf(IDS.removeLayer) >= 0 && t.value) delta -= 1;
    }
    wanted.add = add || 0;
    const base = wanted.layers || (built && built.layers) || drawnLayers() || MIN_LAYERS;
    const next = Math.min(MAX_LAYERS, Math.max(MIN_LAYERS, base + delta));
    const full = delta > 0 && base >= MAX_LAYERS;
    const notice = full ? ["At most " + MAX_LAYERS + " layers.", true, "warning"] : [NO(), NO(), NO()];
    if (next === base) return [wanted, NO(), NO(), ...notice];
    wanted.layers = next;
    if (!(wanted.busy && now() - (wanted.at || 0) < RESEND_MS)) wanted = send(wanted, sent, next);
    const pending = built && built.layers === next && !wanted.busy ? "" : PENDING;
    return [wanted, layersLabel(label, next), pending, ...notice];
  }

  /* The server built a network (any reply of the page's update): done, or send the count the page
     shows now; a count the server never builds (MAX_TRIES) gives way to the server's. */
  function trainerLayersBuilt(built, wanted, sent, label) {
    if (!built || typeof built.layers !== "number") return [NO(), NO(), NO()];
    wanted = wanted || {};
    const settled = [Object.assign({}, wanted, { layers: built.layers, busy: false, tries: 0 }), NO(), ""];
    if (!wanted.busy) return wanted.layers === built.layers ? [NO(), NO(), NO()] : settled;
    if (wanted.layers === built.layers || (wanted.tries || 0) >= MAX_TRIES) return settled;
    return [send(wanted, sent, wanted.layers), layersLabel(label, wanted.layers), PENDING];
  }

  /* A new server result: animate it (playing, not fast) or show it at once. */
  function trainerOnResult(result, playing, fast) {
    if (!result || !result.figure) {
      return [NO(), NO(), NO(), NO(), NO(), NO(), NO()];
    }
    if (result.animate && playing && !fast) {
      const anim = { epoch: result.epoch, start: now(), done: false, waiting: false };
      const first = frame(result.figure, "forward", 0);
      return [first, anim, false, netClass("forward"), ...phaseClasses("forward")];
    }
    const anim = { epoch: result.epoch, start: null, done: true, waiting: false };
    return [result.figure, anim, !playing, netClass(null), ...phaseClasses(null)];
  }

  /* A clock tick: advance the animation; when it is over and we play, ask for the next epoch. */
  function trainerOnTick(_n, anim, result, playing, request) {
    const none = [NO(), NO(), NO(), NO(), NO(), NO(), NO(), NO()];
    anim = anim || { done: true };
    if (!anim.done && anim.start && result && result.figure) {
      const p = phaseAt(now() - anim.start);
      if (p.key !== "done") {
        return [
          frame(result.figure, p.key, p.progress),
          NO(),
          NO(),
          NO(),
          netClass(p.key),
          ...phaseClasses(p.key),
        ];
      }
      const done = Object.assign({}, anim, { done: true });
      return [result.figure, done, NO(), !playing, netClass(null), ...phaseClasses(null)];
    }
    if (!playing) {
      return [NO(), NO(), NO(), true, NO(), NO(), NO(), NO()];
    }
    if (anim.waiting && now() - (anim.asked || 0) < 15000) {
      return none;
    }
    const waiting = Object.assign({}, anim, { waiting: true, asked: now() });
    return [NO(), waiting, (request || 0) + 1, NO(), NO(), NO(), NO(), NO()];
  }

  // Every asset file adds its functions to the one namespace (files load in alphabetical order).
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
    trainerTogglePlay: trainerTogglePlay,
    trainerPauseForCell: trainerPauseForCell,
    trainerRefreshCell: trainerRefreshCell,
    trainerSelectLayer: trainerSelectLayer,
    trainerLayerPress: trainerLayerPress,
    trainerLayersBuilt: trainerLayersBuilt,
    trainerOnResult: trainerOnResult,
    trainerOnTick: trainerOnTick,
  });

  /* Keyboard (shown in the Training card and the buttons' tooltips): Space play/pause, Enter step,
     R reset, + add a layer, - remove the last layer. Never while typing, never with Ctrl/Alt/Meta
     (Ctrl+R still reloads), and Space/Enter not on a focused control (they press it themselves). */
  const TYPING = ["text", "search", "number", "email", "password", "url", "tel"];

  function typing(target) {
    const tag = (target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) return true;
    return tag === "input" && TYPING.includes((target.type || "text").toLowerCase());
  }

  function clickId(id) {
    const el = document.getElementById(id);
    if (el && !el.disabled) el.click();
  }

  /* The last layer's remove button (pattern id {"index": i, "type": "trainer-remove-layer"}). */
  function removeLastLayer() {
    const buttons = Array.from(document.querySelectorAll("#" + IDS.network + " button[id*='" + IDS.removeLayer + "']"));
    if (buttons.length) buttons[buttons.length - 1].click();
  }

  document.addEventListener("keydown", function (event) {
    if (!document.getElementById(IDS.play)) return;
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    const tag = (event.target.tagName || "").toLowerCase();
    const onControl = ["input", "button"].includes(tag);
    if (event.code === "Space" && !onControl) {
      event.preventDefault();
      clickId(IDS.play);
    } else if (event.key === "Enter" && !onControl) {
      event.preventDefault();
      clickId(IDS.step);
    } else if (event.key === "r" || event.key === "R") {
      event.preventDefault();
      clickId(IDS.reset);
    } else if (event.key === "+" || event.key === "=") {
      event.preventDefault();
      clickId(IDS.addLayer);
    } else if (event.key === "-" || event.key === "_") {
      event.preventDefault();
      removeLastLayer();
    }
  });

})();
