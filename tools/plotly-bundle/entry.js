// The Plotly build RNN Explorer serves: the core (scatter, shapes, annotations, colour bars,
// image export) plus the three other trace types the app draws. 1.6 MB instead of the full
// 4.8 MB bundle, so the browser parses a third of the code before the first figure appears.
var Plotly = require("plotly.js/lib/core");

Plotly.register([
  require("plotly.js/lib/bar"),
  require("plotly.js/lib/heatmap"),
  require("plotly.js/lib/scattergl"),
]);

module.exports = Plotly;
