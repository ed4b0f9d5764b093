/* Level of detail: while the projection shows the density image, compile the WebGL point shaders in
   the background, so the first zoom into real points does not pay for it (about a second in a
   software renderer such as headless Chromium's; the later zooms never did).

   How: once the page has settled, one invisible point is drawn in an empty state trace and removed again.
   Dash's own figure is untouched (the next figure update replaces the trace anyway). */
(function () {
  "use strict";
  var GRAPH = "#projection-graph .js-plotly-plot";

  function emptyGlTrace(gd) {
    var found = -1;
    (gd.data || []).some(function (trace, i) {
      if (trace.type === "scattergl" && Array.isArray(trace.x) && trace.x.length === 0) { found = i; }
      return found >= 0;
    });
    return found;
  }

  function warm(gd) {
    var layout = gd._fullLayout;
    if (gd.__rnnxPointsWarm || !layout || !window.Plotly) { return; }
    var images = layout.images || [];
    if (!images.length || !images[0].visible) { return; } // points drawn already: nothing to warm
    var index = emptyGlTrace(gd);
    if (index < 0) { return; }
    gd.__rnnxPointsWarm = true;
    var x = layout.xaxis.range[0], y = layout.yaxis.range[0];
    window.Plotly.restyle(gd, {x: [[x]], y: [[y]], "marker.opacity": 0.01, hoverinfo: "skip"}, [index])
      .then(function () {
        var trace = gd.data[index];
        if (trace && Array.isArray(trace.x) && trace.x.length === 1 && trace.x[0] === x) {
          return window.Plotly.restyle(gd, {x: [[]], y: [[]]}, [index]);
        }
        return null;
      })
      .catch(function () { gd.__rnnxPointsWarm = false; });
  }

  // Warm once the page has settled: the projection drawn a moment ago and no callback pending (Dash
  // titles the page "Updating..." meanwhile), so the warm-up never delays the page's first figures.
  var QUIET_MS = 1500;
  setInterval(function () {
    var gd = document.querySelector(GRAPH);
    if (!gd || !gd.on || gd.__rnnxPointsWarm) { return; }
    if (!gd.__rnnxWarmHooked) {
      gd.__rnnxWarmHooked = true;
      gd.__rnnxLastPlot = Date.now();
      gd.on("plotly_afterplot", function () { gd.__rnnxLastPlot = Date.now(); });
      return;
    }
    if (Date.now() - gd.__rnnxLastPlot < QUIET_MS || /^Updating/.test(document.title)) { return; }
    warm(gd);
  }, 400);
})();
