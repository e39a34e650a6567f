// dcc.Graph calls Plotly.Plots.resize after a chart's first drawing. plotly.js debounces every resize on a
// 100 ms timer and then relayouts the chart even when its box has not changed, so each newly drawn chart does
// a second layout pass (10-20 ms) 100 ms after it is already on screen. Here a resize of a chart whose box
// already has the drawn size resolves at once; any other resize (window, container, hidden chart) is plotly's.
// Later changes of the container are still followed: dcc.Graph watches its parent and calls resize again.
(function () {
  function sameSize(gd) {
    var full = gd && gd._fullLayout;
    if (!full || !gd.layout || gd._redrawTimer || !gd.offsetParent) { return false; }
    if (gd.layout.width && gd.layout.height) { return true; }  // fixed size: plotly's resize does nothing either
    var style = window.getComputedStyle(gd);
    var width = parseFloat(style.width), height = parseFloat(style.height);
    return Math.abs(full.width - width) <= 1 && Math.abs(full.height - height) <= 1;
  }
  function patch(Plotly) {
    if (!Plotly || !Plotly.Plots || Plotly.Plots.__driversResize) { return; }
    var resize = Plotly.Plots.resize;
    Plotly.Plots.resize = function (gd) {
      var el = typeof gd === "string" ? document.getElementById(gd) : gd;
      return sameSize(el) ? Promise.resolve(el) : resize.apply(this, arguments);
    };
    Plotly.Plots.__driversResize = true;
  }
  if (window.Plotly) { patch(window.Plotly); return; }
  var value;
  Object.defineProperty(window, "Plotly", {
    configurable: true,
    get: function () { return value; },
    set: function (v) { value = v; patch(v); },
  });
})();
