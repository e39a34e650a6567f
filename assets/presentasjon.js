// Presentation mode: arrow keys, PageUp/PageDown, space, Home/End move between slides by clicking the
// page's own links (so Dash's router keeps the URL, one deep link per slide); "f" toggles full screen.
(function () {
  function go(id) {
    var link = document.getElementById(id);
    if (link && !link.classList.contains("disabled")) { link.click(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    var root = document.getElementById("pres-root");
    if (!root || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    var key = event.key;
    var handled = false;
    if (key === "ArrowRight" || key === "PageDown" || key === " ") { handled = go("pres-next"); }
    else if (key === "ArrowLeft" || key === "PageUp") { handled = go("pres-prev"); }
    else if (key === "Home" || key === "End") {
      var total = parseInt(root.getAttribute("data-total") || "1", 10);
      var url = new URL(window.location.href);
      url.searchParams.set("lysbilde", key === "Home" ? "1" : String(total));
      window.history.pushState({}, "", url.toString());
      window.dispatchEvent(new PopStateEvent("popstate"));  // Dash's router follows history changes
      handled = true;
    } else if (key === "f" && document.documentElement.requestFullscreen) {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
      handled = true;
    }
    if (handled) { event.preventDefault(); }
  });
})();
