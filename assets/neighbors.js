/* Analytics page: a click on a word of the selected sequence chooses that state for the neighbours card.
 * Element ids are those of components/ids/analytics.py (tests/unit/test_ids.py checks them). */
(function () {
    "use strict";

    var IDS = {sequenceText: "sequence-text", wordClick: "neighbors-word-click"};

    document.addEventListener("click", function (ev) {
        var el = ev.target;
        if (!el || !el.classList || !el.classList.contains("rnnx-word") || !el.closest) { return; }
        if (!el.closest("#" + IDS.sequenceText)) { return; }
        var step = Number(el.getAttribute("data-step"));
        if (!isFinite(step) || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
        window.dash_clientside.set_props(IDS.wordClick, {data: {step: step, t: Date.now()}});
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
