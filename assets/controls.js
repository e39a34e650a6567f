// Controls -> URL, in the browser. A Dash callback whose input sits in a page but whose output does not (the
// URL, the shared control bar) runs whenever the page is inserted, even with prevent_initial_call; on the
// server that was one wasted round trip per page view, answered "no change". Here the same decisions cost
// no request: a control's value becomes a new URL only when it differs from the view in the state key.
// Used by drivers.ui.components (shared controls), pages/sammenlign.py (view) and pages/kart.py (indicator, click).
(function () {
  var nu = function () { return window.dash_clientside.no_update; };

  // '?kommune=0301&aar=2024' -> Map in first-seen order, last value wins, blank values dropped
  // (as Python's dict(parse_qsl(...)) in drivers.report.state.query_from_search)
  function query(search) {
    var out = new Map();
    new URLSearchParams(String(search || "").replace(/^\?/, "")).forEach(function (value, key) {
      if (value !== "") { out.set(key, value); }
    });
    return out;
  }

  function href(pathname, params) {
    var text = new URLSearchParams(Array.from(params.entries())).toString();
    return text ? (pathname || "/") + "?" + text : (pathname || "/");
  }

  // values/ids: the controls ({param}); stateKey: "<path>?<canonical query>" of the view on screen (written by
  // the server); trigger: the param the user changed, if known. A control equal to the view's value is no
  // change, so a page's first rendering pushes no history entry; a page control the view has no canonical
  // value for counts only when it is the one changed.
  function controlsToHref(values, ids, pathname, search, stateKey, trigger) {
    var current = query(search);
    var cut = stateKey ? String(stateKey).indexOf("?") : -1;
    var baseline = cut >= 0 ? query(String(stateKey).slice(cut + 1)) : new Map(current);
    var changed = new Map();
    (values || []).forEach(function (value, i) {
      var param = ids[i].param;
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) { return; }
      if (!baseline.has(param) && param !== trigger) { return; }
      if (String(value) !== baseline.get(param)) { changed.set(param, String(value)); }
    });
    if (!changed.size) { return null; }
    var merged = new Map(current);
    baseline.forEach(function (v, k) { merged.set(k, v); });
    changed.forEach(function (v, k) { merged.set(k, v); });
    return href(pathname, merged);
  }

  // a page's own control (Sammenlign's view, Kart's indicator): its value against the URL's (or the default)
  function paramToHref(param, fallback, value, pathname, search) {
    var current = query(search);
    var shown = current.has(param) ? current.get(param) : fallback;
    if (value === null || value === undefined || value === shown) { return null; }
    return controlsToHref([value], [{param: param}], pathname, search, null, param);
  }

  // a click on the map: the municipality's number when it is one (not a county outline) and a new choice
  function clickedKommune(clickData, current, names) {
    var point = clickData && clickData.points && clickData.points[0];
    var code = point && String(point.location || "");
    if (!code || !/^\d{4}$/.test(code) || code === current || !(names && names[code])) { return null; }
    return code;
  }

  // ClientsideFunction("drivers", ...) callbacks; the helpers beside them are what the browser tests call
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.drivers = {
    query: query, controlsToHref: controlsToHref, paramToHref: paramToHref, clickedKommune: clickedKommune,
    controls: function (values, ids, pathname, search, stateKey) {
      var ctx = window.dash_clientside.callback_context || {};
      var trigger = ctx.triggered_id && typeof ctx.triggered_id === "object" ? ctx.triggered_id.param : null;
      return controlsToHref(values, ids, pathname, search, stateKey, trigger) || nu();
    },
    mapClick: function (clickData, current, text) {
      return clickedKommune(clickData, current, text && text.names) || nu();
    },
  };
})();
