// After the first page, while the browser is idle, what other pages need is made ready ahead:
// - the lazily loaded parts of Dash's components (tables, text, chart wrapper: webpack chunks that register
//   themselves when run, so a page that needs one later finds it loaded) and plotly.js if this page had no
//   chart; without this the first visit to Sammenlign or Metode waited for the table code, and the first chart
//   after a page without charts ~2 s for plotly.js;
// - the map's boundaries (~1 MB of GeoJSON), parsed into plotly.js' own cache (window.PlotlyGeoAssets, keyed by
//   URL; topojson by name), so the first visit to Kart draws at once instead of waiting for the download;
// - a table and the map drawn once, small and out of sight (#warmup): their code runs about twice as slowly the
//   first time (V8 compiles it function by function as it is first used), which made every first visit to
//   Sammenlign, Metode and Kart 150-450 ms slower than later ones.
// The URLs come from the server (#prefetch, written by drivers.ui.app). A failed step changes nothing: the page
// then loads what it needs itself, as without this file.
(function () {
  function idle() {
    return new Promise(function (resolve) {
      (window.requestIdleCallback || function (f) { return setTimeout(f, 200); })(resolve, {timeout: 3000});
    });
  }

  function script(src) {
    return new Promise(function (resolve) {
      var present = Array.prototype.some.call(document.scripts, function (s) { return s.src && s.src.indexOf(src) >= 0; });
      if (present) { resolve(); return; }
      var el = document.createElement("script");
      el.src = src;
      el.async = true;
      el.onload = el.onerror = function () { resolve(); };
      document.head.appendChild(el);
    });
  }

  function json(url) {
    return fetch(url).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }

  // Resolves to [url, geojson] of the municipalities once they are in plotly's cache, or null when plotly has
  // them already (or is fetching them: "pending") or the download failed.
  function boundaries(el) {
    var assets = window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
    assets.topojson = assets.topojson || {};
    var topo = el.getAttribute("data-topojson"), name = el.getAttribute("data-topojson-name");
    if (topo && name && !assets.topojson[name]) {
      json(topo).then(function (t) { if (t && !assets.topojson[name]) { assets.topojson[name] = t; } });
    }
    var urls = (el.getAttribute("data-geojson") || "").split(" ").filter(Boolean);
    return Promise.all(urls.map(function (url) {
      if (assets[url]) { return null; }
      return json(url).then(function (g) {
        if (!g || assets[url]) { return null; }
        assets[url] = g;
        return [url, g];
      });
    })).then(function (got) { return got[0] || null; });
  }

  // what has been warmed, for the browser tests: <div id="warmup" data-warmed="grid map">
  function mark(what) {
    var box = document.getElementById("warmup");
    if (box) { box.setAttribute("data-warmed", ((box.getAttribute("data-warmed") || "") + " " + what).trim()); }
  }

  // A small table through Dash (as the pages make theirs), removed once it shows rows.
  function warmGrid() {
    var dc = window.dash_clientside;
    if (!dc || !dc.set_props || !document.getElementById("warmup") || document.querySelector(".ag-root-wrapper")) {
      return Promise.resolve();
    }
    var rows = [];
    for (var i = 0; i < 20; i++) { rows.push({navn: "rad " + i, verdi: i}); }
    dc.set_props("warmup", {children: {type: "AgGrid", namespace: "dash_ag_grid", props: {
      id: "warmup-grid", rowData: rows, className: "ag-theme-alpine", style: {height: "300px", width: "600px"},
      columnDefs: [{field: "navn", headerName: "Navn"}, {field: "verdi", headerName: "Verdi", type: "numericColumn"}],
      defaultColDef: {sortable: true, filter: true, resizable: true}}}});
    return new Promise(function (resolve) {
      var tries = 0;
      (function check() {
        if (document.querySelector("#warmup-grid .ag-row") || ++tries > 50) {
          dc.set_props("warmup", {children: null});
          mark("grid");
          resolve();
        } else { setTimeout(check, 100); }
      })();
    });
  }

  // The municipalities drawn once with plotly.js directly (a map with the same kind of traces as Kart's).
  function warmMap(found) {
    var box = document.getElementById("warmup");
    if (!found || !window.Plotly || !box || document.querySelector(".js-plotly-plot .geo")) { return Promise.resolve(); }
    var ids = (found[1].features || []).map(function (f) { return f.id; });
    var div = document.createElement("div");
    div.style.width = "400px";
    div.style.height = "400px";
    box.appendChild(div);
    return window.Plotly.newPlot(div, [{type: "choropleth", geojson: found[0], featureidkey: "id", locations: ids,
      z: ids.map(function (_, i) { return i; }), marker: {line: {width: 0.4}}}],
      {geo: {fitbounds: "locations", visible: false, projection: {type: "mercator"}}, margin: {l: 0, r: 0, t: 0, b: 0}},
      {staticPlot: true}).then(function () {
      window.Plotly.purge(div);
      div.remove();
      mark("map");
    }).catch(function () { div.remove(); });
  }

  function start(el) {
    var srcs = (el.getAttribute("data-scripts") || "").split(" ").filter(Boolean);
    // plotly.js where dcc.Graph would load it (a page with a chart has loaded it already)
    if (!window.Plotly && window._dashPlotlyJSURL) { srcs.push(window._dashPlotlyJSURL); }
    var geo = boundaries(el);
    Promise.all(srcs.map(script)).then(idle).then(warmGrid).then(function () { return Promise.all([geo, idle()]); })
      .then(function (got) { return warmMap(got[0]); });
  }

  function wait(tries) {  // Dash renders the layout after this script has run
    var el = document.getElementById("prefetch");
    if (el) { idle().then(function () { start(el); }); }
    else if (tries > 0) { setTimeout(function () { wait(tries - 1); }, 500); }
  }
  if (document.readyState === "complete") { wait(40); } else { window.addEventListener("load", function () { wait(40); }); }
})();
