/* RNN Explorer guided tour: highlight + popover, next/back/skip, remembered in localStorage.
   Steps come from window.rnnxTourSteps (assets/tour_steps.js, generated from components/tour.py).
   Starts by itself on the first visit of a page that has a tour; the navbar #tour-start restarts it.
   A step with "prepare" first makes its subject visible (PREPARE below): until it is, the card says
   what it waits for and points at nothing. */
(function () {
  "use strict";
  var state = null; // {name, steps, index, baseEpoch, timer, ready, tries}

  function config() { return window.rnnxTourSteps || { storagePrefix: "rnnx-tour-done-", tours: {} }; }
  function storeKey(name) { return config().storagePrefix + name; }
  function isDone(name) { try { return localStorage.getItem(storeKey(name)) === "1"; } catch (e) { return false; } }
  function setDone(name, done) {
    try { if (done) { localStorage.setItem(storeKey(name), "1"); } else { localStorage.removeItem(storeKey(name)); } } catch (e) { /* private mode */ }
  }

  function tourForPath() {
    var tours = config().tours, path = window.location.pathname.replace(/\/+$/, "");
    for (var name in tours) {
      if (Object.prototype.hasOwnProperty.call(tours, name) && path.endsWith(tours[name].path)) { return name; }
    }
    return null;
  }

  function find(target) {
    if (!target) { return null; }
    var el = /^[#.\[]/.test(target) ? document.querySelector(target) : document.getElementById(target);
    if (!el) { return null; }
    var rect = el.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) { return null; }
    return el;
  }

  function epoch() {
    var el = document.getElementById("epoch-counter");
    var n = el ? parseInt(el.textContent, 10) : NaN;
    return isNaN(n) ? 0 : n;
  }

  function make(tag, cls, parent, text) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (text !== undefined) { el.textContent = text; }
    if (parent) { parent.appendChild(el); }
    return el;
  }

  function ui() {
    var pop = document.getElementById("tour-popover");
    if (pop) { return pop; }
    var spot = make("div", "rnnx-tour-spot", document.body);
    spot.id = "tour-spot";
    pop = make("div", "rnnx-tour-pop", document.body);
    pop.id = "tour-popover";
    pop.setAttribute("role", "dialog");
    pop.setAttribute("aria-live", "polite");
    var head = make("div", "rnnx-tour-head", pop);
    make("span", "rnnx-tour-title", head).id = "tour-title";
    // A text cross: the theme's .btn-close draws a white icon, invisible on the white card.
    var close = make("button", "rnnx-tour-close", head, "\u00d7");
    close.id = "tour-skip";
    close.type = "button";
    close.setAttribute("aria-label", "Skip the tour (Esc)");
    close.title = "Skip the tour (Esc)";
    make("div", "rnnx-tour-body", pop).id = "tour-body";
    make("div", "rnnx-tour-actions", pop).id = "tour-actions";
    make("div", "rnnx-tour-wait", pop).id = "tour-wait";
    var foot = make("div", "rnnx-tour-foot", pop);
    make("span", "rnnx-tour-progress", foot).id = "tour-progress";
    var back = make("button", "btn btn-sm btn-outline-secondary", foot, "Back");
    back.id = "tour-back";
    back.type = "button";
    var next = make("button", "btn btn-sm btn-primary", foot, "Next");
    next.id = "tour-next";
    next.type = "button";
    var hint = make("div", "rnnx-tour-hint", pop);
    hint.id = "tour-hint";
    make("kbd", "", hint, "Esc");
    hint.appendChild(document.createTextNode(" closes the tour · "));
    make("kbd", "", hint, "\u2190");
    hint.appendChild(document.createTextNode(" "));
    make("kbd", "", hint, "\u2192");
    hint.appendChild(document.createTextNode(" move between steps"));
    close.addEventListener("click", function () { finish(); });
    back.addEventListener("click", function () { go(-1); });
    next.addEventListener("click", function () { go(1); });
    return pop;
  }

  /* A Dash component's props (stores too, which have no element), or null when it is not in the page. */
  function dashProps(id) {
    var api = window.dash_component_api, found = null;
    try { found = api && api.getLayout ? api.getLayout(id) : null; } catch (e) { found = null; }
    return found && found.props ? found.props : null;
  }

  function setProps(changes) {
    if (!changes || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    Object.keys(changes).forEach(function (id) {
      if (document.getElementById(id) || dashProps(id)) { window.dash_clientside.set_props(id, changes[id]); }
    });
  }

  function setOne(id, props) { var change = {}; change[id] = props; setProps(change); }

  function matches(item, pattern) {
    return Object.keys(pattern || {}).every(function (key) { return item[key] === pattern[key]; });
  }

  /* Do ``action`` now unless it was done within the last few asks (``memo``: this step's own). */
  function once(memo, what, tries, action) {
    if (memo.what === what && tries - memo.at < 5) { return; }
    memo.what = what;
    memo.at = tries;
    action();
  }

  /* What a step's "prepare" runs: each answers whether the step's subject is visible yet, and is
     asked again every tick until it is (``tries``: how often it was asked; ``memo``: the step's notes). */
  var PREPARE = {
    // the element ``selector`` is shown; clicks ``click`` once first when it is not
    until: function (p, tries) {
      if (find(p.selector)) { return true; }
      if (tries === 0 && p.click) {
        var el = document.querySelector(p.click);
        if (el) { el.click(); }
      }
      return false;
    },
    // the step-through (payload ``ids.payload``, position ``ids.position``, phase control ``ids.phase``)
    // at the first (or ``last``) frame matching ``match``; then ``selector`` is shown
    frame: function (p, tries, memo) {
      var ids = p.ids || {}, payload = (dashProps(ids.payload) || {}).data;
      if (!payload || !payload.frames) { return false; }
      var want = -1;
      payload.frames.forEach(function (f, k) { if (matches(f, p.match) && (want < 0 || p.last)) { want = k; } });
      if (want < 0) { return true; } // no such frame: nothing to wait for
      var phase = payload.frames[want].phase;
      if ((dashProps(ids.phase) || {}).value !== phase) {
        once(memo, "phase", tries, function () { setOne(ids.phase, { value: phase }); });
        return false;
      }
      if ((dashProps(ids.position) || {}).data !== want) {
        once(memo, "position", tries, function () { setOne(ids.position, { data: want }); });
        return false;
      }
      return !p.selector || !!find(p.selector);
    },
    // a sequence selected (store ``ids.store``): the page's own, or sequence ``value`` of the data set
    // chosen in ``ids.dataset``; then ``selector`` is shown
    select: function (p, tries, memo) {
      var ids = p.ids || {}, current = (dashProps(ids.store) || {}).data;
      if (!current || current.seq === null || current.seq === undefined) {
        var dataset = (dashProps(ids.dataset) || {}).value;
        if (dataset) {
          once(memo, "select", tries, function () {
            setOne(ids.store, { data: { dataset: dataset, seq: p.value, step: null } });
          });
        }
        return false;
      }
      return !p.selector || !!find(p.selector);
    }
  };

  /* Whether the current step's subject is visible (running its preparation once more if not). */
  function prepared(step) {
    var p = step.prepare, run = p ? PREPARE[p.run] : null;
    if (!run) { return true; }
    try { return !!run(p, state.tries++, state.memo); } catch (e) { return true; }
  }

  function showActions(step) {
    var box = document.getElementById("tour-actions");
    box.textContent = "";
    (step.actions || []).forEach(function (action, k) {
      var button = make("button", "btn btn-sm btn-outline-primary me-2", box, action.label);
      button.type = "button";
      button.id = "tour-action-" + k;
      button.addEventListener("click", function () { setProps(action.set); });
    });
    box.style.display = step.actions && step.actions.length ? "" : "none";
  }

  function applyStep(step) {
    setProps(step.set);
    if (step.click) {
      var el = document.querySelector(step.click);
      if (el) { el.click(); }
    }
  }

  function show() {
    var step = state.steps[state.index];
    var pop = ui();
    document.getElementById("tour-title").textContent = step.title;
    document.getElementById("tour-body").textContent = step.body;
    document.getElementById("tour-progress").textContent = (state.index + 1) + " / " + state.steps.length;
    document.getElementById("tour-back").disabled = state.index === 0;
    var last = state.index === state.steps.length - 1;
    document.getElementById("tour-next").textContent = last ? "Finish" : "Next";
    showActions(step);
    var wait = document.getElementById("tour-wait");
    if (!state.ready) {
      wait.textContent = step.prepare.note || "One moment…";
      wait.style.display = "";
    } else if (step.wait && step.wait.epochs) {
      wait.textContent = "Continues by itself after " + step.wait.epochs + " more epoch" + (step.wait.epochs > 1 ? "s" : "") + " (or press Next).";
      wait.style.display = "";
    } else {
      wait.style.display = "none";
    }
    pop.style.display = "block";
    place(true);
  }

  function place(scroll) {
    if (!state) { return; }
    var step = state.steps[state.index];
    var pop = document.getElementById("tour-popover"), spot = document.getElementById("tour-spot");
    var el = state.ready ? find(step.target) : null; // nothing to point at until its subject is there
    if (el && scroll) { el.scrollIntoView({ block: "center", inline: "nearest" }); }
    var vw = window.innerWidth, vh = window.innerHeight, pw = pop.offsetWidth, ph = pop.offsetHeight, gap = 12;
    if (!el) {
      spot.style.display = "none";
      pop.classList.add("rnnx-tour-centre");
      pop.style.left = Math.max(8, (vw - pw) / 2) + "px";
      pop.style.top = Math.max(8, (vh - ph) / 2) + "px";
      document.body.classList.add("rnnx-tour-dim");
      return;
    }
    document.body.classList.remove("rnnx-tour-dim");
    pop.classList.remove("rnnx-tour-centre");
    var r = el.getBoundingClientRect(), pad = 6;
    spot.style.display = "block";
    spot.style.left = (r.left - pad) + "px";
    spot.style.top = (r.top - pad) + "px";
    spot.style.width = (r.width + 2 * pad) + "px";
    spot.style.height = (r.height + 2 * pad) + "px";
    var order = step.placement ? [step.placement, "bottom", "top", "right", "left"] : ["bottom", "top", "right", "left"];
    var pos = null;
    for (var k = 0; k < order.length && !pos; k++) {
      var p = order[k];
      if (p === "bottom" && r.bottom + gap + ph < vh) { pos = [r.left + r.width / 2 - pw / 2, r.bottom + gap]; }
      if (p === "top" && r.top - gap - ph > 0) { pos = [r.left + r.width / 2 - pw / 2, r.top - gap - ph]; }
      if (p === "right" && r.right + gap + pw < vw) { pos = [r.right + gap, r.top + r.height / 2 - ph / 2]; }
      if (p === "left" && r.left - gap - pw > 0) { pos = [r.left - gap - pw, r.top + r.height / 2 - ph / 2]; }
    }
    if (!pos) { pos = [vw - pw - 16, vh - ph - 16]; }
    pop.style.left = Math.min(Math.max(8, pos[0]), vw - pw - 8) + "px";
    pop.style.top = Math.min(Math.max(8, pos[1]), vh - ph - 8) + "px";
  }

  function enter(index) {
    state.index = index;
    var step = state.steps[index];
    state.baseEpoch = epoch();
    state.tries = 0;
    state.memo = {};
    applyStep(step);
    state.ready = prepared(step);
    show();
    // the target may render a moment later (Dash callbacks): place again once it is there
    setTimeout(function () { place(true); }, 350);
    setTimeout(function () { place(false); }, 900);
  }

  function go(delta) {
    if (!state) { return; }
    var next = state.index + delta;
    if (next >= state.steps.length) { finish(); return; }
    if (next < 0) { return; }
    enter(next);
  }

  function tick() {
    if (!state) { return; }
    var step = state.steps[state.index];
    if (!state.ready) {
      state.ready = prepared(step);
      if (state.ready) { show(); return; }
    }
    if (step.wait && step.wait.epochs && epoch() >= state.baseEpoch + step.wait.epochs) { go(1); return; }
    place(false);
  }

  function finish() {
    if (!state) { return; }
    setDone(state.name, true);
    clearInterval(state.timer);
    state = null;
    ["tour-popover", "tour-spot"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.remove(); }
    });
    document.body.classList.remove("rnnx-tour-dim", "rnnx-tour-on");
  }

  function start(name) {
    var tour = config().tours[name];
    if (!tour) { return false; }
    if (state) { finish(); }
    setDone(name, false);
    state = { name: name, steps: tour.steps, index: 0, baseEpoch: epoch(), timer: setInterval(tick, 400), ready: true, tries: 0, memo: {} };
    document.body.classList.add("rnnx-tour-on");
    enter(0);
    return true;
  }

  // First visit: start once the page (and the first target after the intro) has rendered.
  var lastPath = null;
  function watchPage() {
    var path = window.location.pathname;
    if (path === lastPath) { return; }
    var name = tourForPath();
    if (state && state.name !== name) { finish(); }
    if (!name || isDone(name) || state) { lastPath = path; return; }
    var steps = config().tours[name].steps, probe = steps[1] ? steps[1].target : null;
    if (probe && !find(probe)) { return; } // not rendered yet: try again on the next poll
    lastPath = path;
    start(name);
  }
  setInterval(watchPage, 500);

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("#tour-start") : null;
    if (!button) { return; }
    var name = tourForPath();
    if (name) { start(name); return; }
    setDone("trainer", false); // on other pages the button leads to the trainer's tour
    var link = document.getElementById("nav-trainer");
    if (link) { link.click(); } else { window.location.href = "trainer"; }
  });
  document.addEventListener("keydown", function (event) {
    if (!state) { return; }
    var t = event.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.getAttribute("role") === "slider")) { return; }
    if (event.key === "Escape") { finish(); }
    else if (event.key === "ArrowRight") { go(1); }
    else if (event.key === "ArrowLeft") { go(-1); }
  });
  window.addEventListener("resize", function () { place(false); });
  window.addEventListener("scroll", function () { place(false); }, true);

  window.rnnxTour = {
    start: start,
    finish: finish,
    next: function () { go(1); },
    back: function () { go(-1); },
    isDone: isDone,
    watched: function () { return lastPath; }, // the path whose first-visit check has run
    current: function () {
      return state ? { name: state.name, index: state.index, count: state.steps.length, ready: state.ready } : null;
    },
  };
})();
