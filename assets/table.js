/* The sequence grid (dash-ag-grid, infinite row model) in the browser: a click on a row selects its
 * sequence, the selected sequence's row is marked, and a filter outside the grid (search, confusion
 * cell, lasso) makes the grid drop its blocks and ask the server again; the arrow keys move the
 * selection through the rows (rnnxTableKey, in window.dashAgGridFunctions). Clientside callbacks are in
 * window.dash_clientside.rnnx (table*); element ids are those of components/ids/analytics.py. */
(function () {
    "use strict";

    var IDS = {
        table: "sequence-table"
    };
    var MAX_SEQ = 2147483647;
    var SELECTED = "rnnx-row-selected";

    function noUpdate() {
        return window.dash_clientside.no_update;
    }

    function sequenceIndex(value) {
        if (typeof value === "number") { value = String(value); }
        if (typeof value !== "string" || !/^[0-9]{1,10}$/.test(value)) { return null; }
        var seq = parseInt(value, 10);
        return seq <= MAX_SEQ ? seq : null;
    }

    // cellClicked → the selection store {dataset, seq, step: null}; the row's id is its sequence index
    // (the grid's getRowId). Anything else (a row still loading, a malformed event) changes nothing.
    function tableSelect(clicked, dataset, selection) {
        if (!clicked || typeof clicked !== "object") { return noUpdate(); }
        var seq = sequenceIndex(clicked.rowId);
        if (seq === null || typeof dataset !== "string" || !dataset || dataset.length > 200) {
            return noUpdate();
        }
        if (selection && selection.dataset === dataset && selection.seq === seq && selection.step === null) {
            return noUpdate();
        }
        return {dataset: dataset, seq: seq, step: null};
    }

    // The selection store → the grid's rowClassRules (components/analytics_overview.selected_row_rules).
    function tableSelectedRow(selection, dataset) {
        var seq = selection && typeof selection === "object" && selection.dataset === dataset
            ? selection.seq : null;
        var rules = {};
        rules[SELECTED] = typeof seq === "number" && Number.isInteger(seq) && seq >= 0 && seq <= MAX_SEQ
            ? "params.data != null && params.data.id === " + seq
            : "false";
        return rules;
    }

    // A new query from outside the grid (or none: a dataset not prepared): drop the loaded blocks (the
    // grid asks for the rows in view again, with its own sort and column filters), back to the first row.
    function tableRefresh(_query) {
        var grid = window.dash_ag_grid;
        if (grid && grid.getApiAsync) {
            grid.getApiAsync(IDS.table).then(function (api) {
                if (api && !api.isDestroyed()) { api.purgeInfiniteCache(); }
            }).catch(function () { return null; });
        }
        return {rowIndex: 0, rowPosition: "top"};
    }

    // The arrow keys move the selection through the rows, as a click would (the grid's
    // eventListeners: cellKeyDown → rnnxTableKey(params, setGridProps)): once the grid has moved its
    // focus, the focused row is sent as the grid's cellClicked, which tableSelect reads.
    function rnnxTableKey(params, setGridProps) {
        var key = params && params.event ? params.event.key : null;
        if ((key !== "ArrowDown" && key !== "ArrowUp") || typeof setGridProps !== "function") { return; }
        setTimeout(function () {
            var api = params.api;
            var focused = api && !api.isDestroyed() ? api.getFocusedCell() : null;
            var node = focused ? api.getDisplayedRowAtIndex(focused.rowIndex) : null;
            if (!node || !node.data || sequenceIndex(node.id) === null) { return; }
            setGridProps({cellClicked: {
                value: null, colId: focused.column.getColId(), rowIndex: focused.rowIndex,
                rowId: node.id, timestamp: Date.now()
            }});
        }, 0);
    }
    window.dashAgGridFunctions = Object.assign(window.dashAgGridFunctions || {}, {rnnxTableKey: rnnxTableKey});

    // Every asset file adds its functions to the one namespace (files load in alphabetical order).
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        tableSelect: tableSelect,
        tableSelectedRow: tableSelectedRow,
        tableRefresh: tableRefresh
    });
})();
