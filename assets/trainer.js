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
    removeLayer: "trainer-remove-layer", // a pattern-matching id's type
  };

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

  /* A new epoch while a cell view is open (one in flight when training paused) refreshes it;
     with the cell view closed nothing is sent to the server. */
  function trainerRefreshCell(epoch, layer) {
    return layer === null || layer === undefined ? NO() : epoch;
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
