// The map's boundaries (~1 MB of GeoJSON) fetched and parsed while the browser is idle after the first page,
// into plotly.js' own cache (window.PlotlyGeoAssets, keyed by URL; topojson by name), so the first visit to
// Kart draws at once instead of waiting for the download. The URLs come from the server (#geo-prefetch,
// written by drivers.ui.app); a failed prefetch changes nothing: plotly then fetches them itself.
(function () {
  function idle(fn) { (window.requestIdleCallback || function (f) { return setTimeout(f, 1500); })(fn, {timeout: 4000}); }
  function prefetch() {
    var el = document.getElementById("geo-prefetch");
    if (!el) { return; }
    var assets = window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
    assets.topojson = assets.topojson || {};
    (el.getAttribute("data-geojson") || "").split(" ").filter(Boolean).forEach(function (url) {
      if (assets[url]) { return; }  // plotly has it, or is fetching it ("pending")
      fetch(url).then(function (r) { return r.ok ? r.json() : null; }).then(function (geo) {
        if (geo && !assets[url]) { assets[url] = geo; }
      }).catch(function () {});
    });
    var topo = el.getAttribute("data-topojson");
    var name = el.getAttribute("data-topojson-name");
    if (topo && name && !assets.topojson[name]) {
      fetch(topo).then(function (r) { return r.ok ? r.json() : null; }).then(function (t) {
        if (t && !assets.topojson[name]) { assets.topojson[name] = t; }
      }).catch(function () {});
    }
  }
  function wait(tries) {  // Dash renders the layout after this script has run
    if (document.getElementById("geo-prefetch")) { idle(prefetch); }
    else if (tries > 0) { setTimeout(function () { wait(tries - 1); }, 500); }
  }
  if (document.readyState === "complete") { wait(40); } else { window.addEventListener("load", function () { wait(40); }); }
})();
