/* Analytics page: client-side hover linking, URL state, figure export and the lasso's outline
 * (no server round trips). Clientside callbacks are in window.dash_clientside.rnnx (analytics*);
 * element ids are those of components/ids/analytics.py (tests/unit/test_ids.py checks both). */
(function () {
    "use strict";

    var IDS = {
        projection: "projection-graph",
        sequenceText: "sequence-text",
        epHeatmap: "ep-heatmap",
        distance: "distance-graph",
        unitHeatmap: "unit-heatmap",
        classBars: "class-bars",
        confusion: "confusion-matrix",
        whatifHeatmap: "analytics-whatif-heatmap",
        whatifDistance: "analytics-whatif-distance",
        checkpoints: "analytics-checkpoints-graph",
        cells: "analytics-cells-graph",
        exportPng: "analytics-export-png",
        exportAllSvg: "analytics-export-all-svg",
        table: "sequence-table",
        selection: "analytics-selection",
        compareTabs: "analytics-compare-tabs",
        compareSeen: "analytics-compare-seen"
    };
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
        var box = document.getElementById(IDS.sequenceText);
        if (!box) { return; }
        var old = box.querySelectorAll(".rnnx-word.is-hover");
        for (var i = 0; i < old.length; i++) { old[i].classList.remove("is-hover"); }
        if (step === null) { return; }
        var span = box.querySelector('.rnnx-word[data-step="' + step + '"]');
        if (span) { span.classList.add("is-hover"); }
    }

    function highlightProjection(step) {
        var gd = graphDiv(IDS.projection);
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
        highlightColumn(IDS.epHeatmap, 0, step);
        highlightColumn(IDS.distance, 1, step);
        highlightColumn(IDS.unitHeatmap, 1, step); // shapes[0] of the units heatmap is its span
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
        if (id === IDS.projection) {
            var gd = graphDiv(id);
            var pts = traceIndex(gd, "traj-points");
            if (p.curveNumber !== pts || !p.customdata) { return null; }
            return Number(p.customdata[0]);
        }
        var x = Number(p.x);
        return isNaN(x) ? null : Math.round(x);
    }

    function isSelectedWord(el) {
        return el && el.classList && el.classList.contains("rnnx-word") && el.closest && el.closest("#" + IDS.sequenceText);
    }

    function triggeredId() {
        var ctx = window.dash_clientside.callback_context;
        return ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id.split(".")[0] : "";
    }

    var FIGURES = [IDS.projection, IDS.epHeatmap, IDS.distance, IDS.classBars, IDS.confusion,
        IDS.whatifHeatmap, IDS.whatifDistance, IDS.checkpoints, IDS.cells];

    /** Download figures through Plotly in the browser (PNG at twice the size, or SVG). */
    function analyticsExportFigures(png, svg, all) {
        var trig = triggeredId();
        var format = trig === IDS.exportPng ? "png" : "svg";
        var ids = trig === IDS.exportAllSvg ? FIGURES : [IDS.projection];
        var done = [];
        ids.forEach(function (id) {
            var gd = graphDiv(id);
            if (!gd || !gd.data || !window.Plotly || gd.offsetParent === null) { return; }
            window.Plotly.downloadImage(gd, {format: format, filename: "rnnx-" + id, scale: format === "png" ? 2 : 1});
            done.push(id + "." + format);
        });
        return done;
    }

    /** Hovering the projection, the EP heatmap or the jump bars highlights the step everywhere. */
    function analyticsGraphHover(projHover, heatHover, distHover) {
        var id = triggeredId();
        var byId = {};
        byId[IDS.projection] = projHover;
        byId[IDS.epHeatmap] = heatHover;
        byId[IDS.distance] = distHover;
        var step = stepFromHover(id, byId[id]);
        highlight(step);
        return step;
    }

    /** Hidden units card: hovering its heatmap highlights the step everywhere (x is the step). */
    function analyticsUnitHover(hover) {
        var p = hover && hover.points && hover.points.length ? hover.points[0] : null;
        var x = p ? Number(p.x) : NaN;
        var step = isNaN(x) ? null : Math.round(x);
        highlight(step);
        return step;
    }

    /** The view in the URL (replaceState): a reload or a shared link restores it. An automatic jump
     *  rule leaves "jump" out of the URL, so a reload keeps it automatic. */
    function analyticsSyncUrl(dataset, method, selection, jump, epc, rules, auto) {
        if (window.location.pathname.indexOf("analytics") < 0) { return window.dash_clientside.no_update; }
        if (auto) { jump = null; }
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

    /** The projection's lasso or box, as its outline only (at most 2,000 vertices, evenly thinned):
     *  the server finds the states inside among all drawn states, even those the browser never held. */
    function analyticsLasso(selected, current) {
        var CAP = 2000;
        // a click on the plot clears plotly's selection: no lasso before, none now, nothing to filter again
        if (!selected) { return current ? null : window.dash_clientside.no_update; }
        function axis(obj, letter) {
            var key = Object.keys(obj || {}).filter(function (k) { return k.charAt(0) === letter; }).sort()[0];
            return key ? obj[key] : null;
        }
        var lx = axis(selected.lassoPoints, "x"), ly = axis(selected.lassoPoints, "y");
        if (lx && ly && lx.length === ly.length && lx.length >= 3) {
            var step = Math.max(1, lx.length / CAP), x = [], y = [];
            for (var i = 0; Math.floor(i * step) < lx.length && x.length < CAP; i++) {
                var j = Math.floor(i * step);
                x.push(Number(lx[j]));
                y.push(Number(ly[j]));
            }
            return {lasso: {x: x, y: y}};
        }
        var rx = axis(selected.range, "x"), ry = axis(selected.range, "y");
        if (rx && ry && rx.length === 2 && ry.length === 2) {
            return {box: {x: [Number(rx[0]), Number(rx[1])], y: [Number(ry[0]), Number(ry[1])]}};
        }
        return current ? null : window.dash_clientside.no_update;
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

    // Esc clears the selected sequence (the table marks the selected row from the selection store).
    document.addEventListener("keydown", function (ev) {
        if (ev.key !== "Escape" || window.location.pathname.indexOf("analytics") < 0) { return; }
        var tag = (ev.target && ev.target.tagName) || "";
        if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
        if (!window.dash_clientside || !window.dash_clientside.set_props) { return; }
        window.dash_clientside.set_props(IDS.selection, {data: null});
    });

    // The compare card sits below the fold: its checkpoint models are loaded and its figure drawn
    // only once it scrolls into view, so the first load of the page does not pay for it.
    function watchCompareCard() {
        var card = document.getElementById(IDS.compareTabs);
        if (!card || card.getAttribute("data-rnnx-watched") || !window.IntersectionObserver) { return; }
        if (!document.querySelector("#" + IDS.table + " .ag-cell")) { return; } // the layout above is not filled yet
        card.setAttribute("data-rnnx-watched", "1");
        var seen = new IntersectionObserver(function (entries) {
            if (!entries.some(function (e) { return e.isIntersecting; })) { return; }
            seen.disconnect();
            if (window.dash_clientside && window.dash_clientside.set_props) {
                window.dash_clientside.set_props(IDS.compareSeen, {data: true});
            }
        });
        seen.observe(card);
    }
    setInterval(watchCompareCard, 500);

    // Every asset file adds its functions to the one namespace (files load in alphabetical order).
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        analyticsGraphHover: analyticsGraphHover,
        analyticsUnitHover: analyticsUnitHover,
        analyticsSyncUrl: analyticsSyncUrl,
        analyticsExportFigures: analyticsExportFigures,
        analyticsLasso: analyticsLasso
    });
})();
