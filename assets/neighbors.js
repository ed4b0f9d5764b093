/* Analytics page: a click on a word of the selected sequence chooses that state for the neighbours card. */
(function () {
    "use strict";

    document.addEventListener("click", function (ev) {
        var el = ev.target;
        if (!el || !el.classList || !el.classList.contains("rnnx-word") || !el.closest) { return; }
        if (!el.closest("#sequence-text")) { return; }
        var step = Number(el.getAttribute("data-step"));
        if (!isFinite(step) || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
        window.dash_clientside.set_props("neighbors-word-click", {data: {step: step, t: Date.now()}});
    });
})();
