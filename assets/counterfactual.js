/* Analytics page, what-if card: the counterfactual's Undo button (components/cards/analytics_attribution.py).
 * Element ids are those of components/ids/analytics.py (tests/unit/test_ids.py checks them). */
(function () {
    "use strict";

    /** Shown while the what-if box still holds the text the counterfactual put there; typing hides it. */
    function counterfactualUndoStyle(text, undo) {
        var shown = undo && typeof undo.edited === "string" && (text || "") === undo.edited &&
            undo.previous !== undo.edited;
        return shown ? {} : {display: "none"};
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        counterfactualUndoStyle: counterfactualUndoStyle
    });
})();
