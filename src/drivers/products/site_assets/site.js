/* drivers publish: draws every chart from the figure JSON in its page (plotly.min.js, shipped beside this file;
   the map's boundaries come from geo.js through window.PlotlyGeoAssets) and makes the tables sortable. No
   network: the site works from file:// as from any web server. */
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function drawAll() {
    var charts = document.querySelectorAll(".chart[data-fig]");
    Array.prototype.forEach.call(charts, function (el) {
      var spec = JSON.parse(document.getElementById(el.getAttribute("data-fig")).textContent);
      Plotly.newPlot(el, spec.data, spec.layout, config).then(function () {
        el.setAttribute("data-drawn", "true");
        el.style.minHeight = "";
      });
    });
  }

  function sortKey(cell, type) {
    var key = cell.getAttribute("data-sort");
    if (type === "num") { return key === "" || key === null ? null : parseFloat(key); }
    return key === null ? cell.textContent.trim().toLowerCase() : key;
  }

  function makeSortable(table) {
    var heads = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button.sort");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var type = button.getAttribute("data-type");
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortKey(a.cells[col], type), y = sortKey(b.cells[col], type);
          if (x === null && y === null) { return 0; }
          if (x === null) { return 1; }   /* missing last, either way */
          if (y === null) { return -1; }
          var c = type === "num" ? x - y : x.localeCompare(y, document.documentElement.lang);
          return ascending ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
  drawAll();
}());
