/* Level of detail: while the projection shows the density image, compile the WebGL point shaders in
   the background, so the first zoom into real points does not pay for it (about a second in a
   software renderer such as headless Chromium's; the later zooms never did).

   How: once the page is idle, one invisible point is drawn in an empty state trace and removed again.
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

  function whenIdle(fn) {
    var later = window.requestIdleCallback || function (cb) { return setTimeout(cb, 200); };
    setTimeout(function () { later(fn, {timeout: 3000}); }, 1000);
  }

  setInterval(function () {
    var gd = document.querySelector(GRAPH);
    if (!gd || gd.__rnnxWarmHooked || !gd.on) { return; }
    gd.__rnnxWarmHooked = true;
    gd.on("plotly_afterplot", function () {
      if (!gd.__rnnxPointsWarm) { whenIdle(function () { warm(gd); }); }
    });
    whenIdle(function () { warm(gd); });
  }, 1000);
})();
