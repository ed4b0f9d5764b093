/* Analytics page: client-side hover linking and URL state (no server round trips). */
(function () {
    "use strict";

    var HIGHLIGHT = "#ff9800";
    var current = null;
    var pending = null;

    function graphDiv(id) {
        return document.querySelector("#" + id + " .js-plotly-plot");
    }

    function traceIndex(gd, uid) {
        if (!gd || !gd.data) { return -1; }
        for (var i = 0; i < gd.data.length; i++) {
            if (gd.data[i].uid === uid) { return i; }
        }
        return -1;
    }

    function highlightWords(step) {
        var box = document.getElementById("sequence-text");
        if (!box) { return; }
        var old = box.querySelectorAll(".rnnx-word.is-hover");
        for (var i = 0; i < old.length; i++) { old[i].classList.remove("is-hover"); }
        if (step === null) { return; }
        var span = box.querySelector('.rnnx-word[data-step="' + step + '"]');
        if (span) { span.classList.add("is-hover"); }
    }

    function highlightProjection(step) {
        var gd = graphDiv("projection-graph");
        var Plotly = window.Plotly;
        if (!gd || !Plotly) { return; }
        var pts = traceIndex(gd, "traj-points");
        var mark = traceIndex(gd, "hover-mark");
        if (pts < 0 || mark < 0) { return; }
        var xs = gd.data[pts].x || [];
        var ys = gd.data[pts].y || [];
        var ok = step !== null && step < xs.length;
        Plotly.restyle(gd, {x: [ok ? [xs[step]] : []], y: [ok ? [ys[step]] : []]}, [mark]);
    }

    function columnShape(step) {
        return {
            type: "rect", xref: "x", yref: "paper", x0: step - 0.5, x1: step + 0.5, y0: 0, y1: 1,
            line: {color: HIGHLIGHT, width: 2}, fillcolor: "rgba(255,152,0,0.12)", layer: "above"
        };
    }

    function highlightColumn(id, shapeIndex, step) {
        var gd = graphDiv(id);
        var Plotly = window.Plotly;
        if (!gd || !Plotly || !gd.layout) { return; }
        var upd = {};
        upd["shapes[" + shapeIndex + "]"] = step === null ? null : columnShape(step);
        var shapes = gd.layout.shapes || [];
        if (step === null && shapes.length <= shapeIndex) { return; }
        if (step !== null && shapes.length < shapeIndex) { return; }
        Plotly.relayout(gd, upd);
    }

    function apply(step) {
        highlightWords(step);
        highlightProjection(step);
        highlightColumn("ep-heatmap", 0, step);
        highlightColumn("distance-graph", 1, step);
        highlightColumn("unit-heatmap", 1, step); // shapes[0] of the units heatmap is its span
    }

    /** Highlight ``step`` (or nothing for null) in every view, at most once per frame. */
    function highlight(step) {
        if (step === current) { return; }
        current = step;
        if (pending !== null) { return; }
        pending = window.requestAnimationFrame(function () {
            pending = null;
            try { apply(current); } catch (e) { /* a view may be mid-render; the next hover fixes it */ }
        });
    }

    function stepFromHover(id, data) {
        if (!data || !data.points || !data.points.length) { return null; }
        var p = data.points[0];
        if (id === "projection-graph") {
            var gd = graphDiv(id);
            var pts = traceIndex(gd, "traj-points");
            if (p.curveNumber !== pts || !p.customdata) { return null; }
            return Number(p.customdata[0]);
        }
        var x = Number(p.x);
        return isNaN(x) ? null : Math.round(x);
    }

    function isSelectedWord(el) {
        return el && el.classList && el.classList.contains("rnnx-word") && el.closest && el.closest("#sequence-text");
    }

    var FIGURES = ["projection-graph", "ep-heatmap", "distance-graph", "class-bars", "confusion-matrix",
        "analytics-whatif-heatmap", "analytics-whatif-distance", "analytics-checkpoints-graph", "analytics-cells-graph"];

    /** Download figures through Plotly in the browser (PNG at twice the size, or SVG). */
    function exportFigures(png, svg, all) {
        var ctx = window.dash_clientside.callback_context;
        var trig = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id.split(".")[0] : "";
        var format = trig === "analytics-export-png" ? "png" : "svg";
        var ids = trig === "analytics-export-all-svg" ? FIGURES : ["projection-graph"];
        var done = [];
        ids.forEach(function (id) {
            var gd = graphDiv(id);
            if (!gd || !gd.data || !window.Plotly || gd.offsetParent === null) { return; }
            window.Plotly.downloadImage(gd, {format: format, filename: "rnnx-" + id, scale: format === "png" ? 2 : 1});
            done.push(id + "." + format);
        });
        return done;
    }

    document.addEventListener("mouseover", function (ev) {
        var el = ev.target;
        if (isSelectedWord(el)) {
            highlight(Number(el.getAttribute("data-step")));
        }
    });
    document.addEventListener("mouseout", function (ev) {
        var el = ev.target;
        if (isSelectedWord(el)) { highlight(null); }
    });

    // Esc clears the selected sequence (arrow keys already move through the table's rows).
    document.addEventListener("keydown", function (ev) {
        if (ev.key !== "Escape" || window.location.pathname.indexOf("analytics") < 0) { return; }
        var tag = (ev.target && ev.target.tagName) || "";
        if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
        if (!window.dash_clientside || !window.dash_clientside.set_props) { return; }
        window.dash_clientside.set_props("sequence-table", {active_cell: null});
        window.dash_clientside.set_props("analytics-selection", {data: null});
    });

    // The compare card sits below the fold: its checkpoint models are loaded and its figure drawn
    // only once it scrolls into view, so the first load of the page does not pay for it.
    function watchCompareCard() {
        var card = document.getElementById("analytics-compare-tabs");
        if (!card || card.getAttribute("data-rnnx-watched") || !window.IntersectionObserver) { return; }
        if (!document.querySelector("#sequence-table td")) { return; } // the layout above is not filled yet
        card.setAttribute("data-rnnx-watched", "1");
        var seen = new IntersectionObserver(function (entries) {
            if (!entries.some(function (e) { return e.isIntersecting; })) { return; }
            seen.disconnect();
            if (window.dash_clientside && window.dash_clientside.set_props) {
                window.dash_clientside.set_props("analytics-compare-seen", {data: true});
            }
        });
        seen.observe(card);
    }
    setInterval(watchCompareCard, 500);

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.analytics = {
        highlight: highlight,
        exportFigures: exportFigures,

        onGraphHover: function (projHover, heatHover, distHover) {
            var ctx = window.dash_clientside.callback_context;
            var trig = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : "";
            var id = trig.split(".")[0];
            var data = {"projection-graph": projHover, "ep-heatmap": heatHover, "distance-graph": distHover}[id];
            var step = stepFromHover(id, data);
            highlight(step);
            return step;
        },

        syncUrl: function (dataset, method, selection, jump, epc, rules) {
            if (window.location.pathname.indexOf("analytics") < 0) { return window.dash_clientside.no_update; }
            var params = new URLSearchParams();
            if (dataset) { params.set("dataset", dataset); }
            if (method) { params.set("method", method); }
            if (selection && selection.seq !== null && selection.seq !== undefined && selection.dataset === dataset) {
                params.set("seq", String(selection.seq));
            }
            if (jump !== null && jump !== undefined) { params.set("jump", String(jump)); }
            if (epc !== null && epc !== undefined) { params.set("epchange", String(epc)); }
            if (rules) { params.set("labels", rules.join(",")); }
            var url = window.location.pathname + "?" + params.toString();
            if (url !== window.location.pathname + window.location.search) {
                window.history.replaceState(window.history.state, "", url);
            }
            return url;
        }
    };
})();

/* Hidden units card: hovering its heatmap highlights the step everywhere (x is the step). */
(function () {
    "use strict";
    window.dash_clientside = window.dash_clientside || {};
    var ns = window.dash_clientside.analytics = window.dash_clientside.analytics || {};
    ns.onUnitHover = function (hover) {
        var p = hover && hover.points && hover.points.length ? hover.points[0] : null;
        var x = p ? Number(p.x) : NaN;
        var step = isNaN(x) ? null : Math.round(x);
        if (ns.highlight) { ns.highlight(step); }
        return step;
    };
})();
