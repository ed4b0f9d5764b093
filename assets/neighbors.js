/* Analytics page: a click on a word of the selected sequence chooses that state for the neighbours card,
 * and a click on a row of the neighbours list selects that neighbour.
 * Element ids are those of components/ids/analytics.py (tests/unit/test_ids.py checks them). */
(function () {
    "use strict";

    var IDS = {
        sequenceText: "sequence-text",
        wordClick: "neighbors-word-click",
        list: "neighbors-list",
        rowClick: "neighbors-row-click"
    };
    var CLICK_AFTER_PRESS_MS = 800; // a click this soon after a handled press is that press's own

    document.addEventListener("click", function (ev) {
        var el = ev.target;
        if (!el || !el.classList || !el.classList.contains("rnnx-word") || !el.closest) { return; }
        if (!el.closest("#" + IDS.sequenceText)) { return; }
        var step = Number(el.getAttribute("data-step"));
        if (!isFinite(step) || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
        window.dash_clientside.set_props(IDS.wordClick, {data: {step: step, t: Date.now()}});
    });

    // A row of the neighbours list. The row is read when the button goes down: the list may be redrawn
    // (a new answer arriving) before it comes up, and the browser then sends the click to no row at
    // all, so a row's own n_clicks would miss it. The release anywhere in the list selects the row
    // that was pressed; a click without a press (keyboard, a script) selects the row it names.
    var pressed = null, handledAt = 0;

    function rowOf(el) {
        var row = el && el.closest ? el.closest("tr.rnnx-nb-row") : null;
        return row && row.closest("#" + IDS.list) ? row : null;
    }

    function idsOf(row) {
        return {seq: Number(row.getAttribute("data-seq")), step: Number(row.getAttribute("data-step"))};
    }

    function pick(where, row) {
        if (!isFinite(where.seq) || !isFinite(where.step)) { return; }
        if (!window.dash_clientside || !window.dash_clientside.set_props) { return; }
        var list = document.getElementById(IDS.list);
        if (list) {
            Array.prototype.forEach.call(list.querySelectorAll("tr.is-picked"), function (r) {
                r.classList.remove("is-picked");
            });
        }
        if (row && idsOf(row).seq === where.seq && idsOf(row).step === where.step) {
            row.classList.add("is-picked"); // seen at once, while the server answers
        }
        window.dash_clientside.set_props(IDS.rowClick, {data: {seq: where.seq, step: where.step, t: Date.now()}});
    }

    document.addEventListener("pointerdown", function (ev) {
        var row = ev.button === 0 ? rowOf(ev.target) : null;
        pressed = row ? idsOf(row) : null;
    }, true);
    document.addEventListener("pointerup", function (ev) {
        var was = pressed;
        pressed = null;
        var list = document.getElementById(IDS.list);
        if (!was || ev.button !== 0 || !list || !list.contains(ev.target)) { return; }
        handledAt = Date.now();
        pick(was, rowOf(ev.target));
    }, true);
    document.addEventListener("click", function (ev) {
        var row = rowOf(ev.target);
        if (!row || Date.now() - handledAt < CLICK_AFTER_PRESS_MS) { return; }
        pick(idsOf(row), row);
    });

    /** The clicked word's step as the selection's step (nothing when it is already selected). */
    function neighborsWordStep(word, selection) {
        if (!word || !selection || selection.seq === null || selection.seq === undefined) {
            return window.dash_clientside.no_update;
        }
        var step = Number(word.step);
        if (!isFinite(step) || step < 0 || step === selection.step) { return window.dash_clientside.no_update; }
        return Object.assign({}, selection, {step: step});
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        neighborsWordStep: neighborsWordStep
    });
})();
