/* The selection's echoes, told from the user's own moves (components/cards/analytics_selection.py).
 *
 * One request draws every view of a new selection, and it also sets a few controls the user can move
 * (the jump slider to the automatic cut, the units span and threshold, the word scores). Dash fires the
 * callbacks of a control whenever its value is set, even by a callback; these gates compare the new
 * value with what the server said it drew and pass only real moves on to the server. */
(function () {
    "use strict";

    function same(a, b) {
        return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
    }

    function triggeredProps() {
        var context = window.dash_clientside.callback_context;
        return ((context && context.triggered) || []).map(function (t) {
            return t.prop_id;
        });
    }

    function scoresKey(saliency) {
        if (!saliency || typeof saliency !== "object") { return null; }
        return [saliency.dataset, saliency.seq, saliency.target];
    }

    /** The sequence card's controls: [controls store, jump rule switch]. The slider set to the automatic
     *  cut by the server, or the scores it just drew with, are no move; moving the slider by hand takes
     *  manual control of the jump rule. */
    function sequenceControls(rules, jump, epc, traj, auto, mode, saliency, drawn) {
        var noUpdate = window.dash_clientside.no_update;
        var props = triggeredProps();
        var only = function (prop) { return props.length === 1 && props[0] === prop; };
        drawn = drawn || {};
        if (only("distance-threshold.value") && drawn.jump !== undefined && Number(drawn.jump) === Number(jump)) {
            return [noUpdate, noUpdate];
        }
        if (only("saliency-store.data") && same(scoresKey(saliency), drawn.saliency)) {
            return [noUpdate, noUpdate];
        }
        var autoOut = noUpdate;
        if (only("distance-threshold.value") && auto) {
            autoOut = false;
        }
        return [{at: Date.now()}, autoOut];
    }

    /** The units card's query: the span, threshold, kind and order last drawn with are no move. Returns
     *  [query, what is drawn now]: a move passed on becomes what is drawn, so moving back is a move. */
    function unitsQuery(span, threshold, kind, sort, drawn) {
        var noUpdate = window.dash_clientside.no_update;
        var now = {span: span, threshold: threshold, kind: kind, sort: sort};
        if (drawn && same(now, {span: drawn.span, threshold: drawn.threshold, kind: drawn.kind, sort: drawn.sort})) {
            return [noUpdate, noUpdate];
        }
        return [Object.assign({}, now, {at: Date.now()}), now];
    }

    // A click on a match of the units card: its id (a JSON string of {"type", "seq", "start", "end"}).
    document.addEventListener("click", function (ev) {
        var button = ev.target && ev.target.closest ? ev.target.closest(".rnnx-unit-match") : null;
        if (!button || !button.closest("#unit-matches") || !window.dash_clientside || !window.dash_clientside.set_props) {
            return;
        }
        var id;
        try { id = JSON.parse(button.id); } catch (e) { return; }
        window.dash_clientside.set_props("unit-match-click", {data: Object.assign({}, id, {t: Date.now()})});
    });

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        sequenceControls: sequenceControls,
        unitsQuery: unitsQuery
    });
})();
