// Exports as background jobs (drivers.ui.downloads, drivers.ui.serving.jobs). A click on a link to the chart pack
// (/last-ned/pakke.zip) or the seminar deck (/last-ned/seminar.pptx), on Oversikt or in the presentation, starts
// an export job on the server instead of holding a request open while the file is made: the page shows the
// job's progress (the server words it in the view's language), then fetches the finished file, which the
// browser saves under the name the server gives. A full queue (503) is tried again after its Retry-After.
// Without this script the link is a plain download, as before.
(function () {
  var KINDS = {"/last-ned/pakke.zip": "pakke", "/last-ned/seminar.pptx": "seminar",
               "/last-ned/kapittel.docx": "kapittel"};
  var JOBS = "/last-ned/jobb/";
  var POLL_MS = 1000;
  var busy = {};  // kind + query -> true while a job runs: a second click changes nothing

  function place(link) {
    // Oversikt's card has a line for it; elsewhere a small note at the bottom of the window
    var inCard = link.closest && link.closest("#eksport-oversikt");
    var line = inCard ? document.getElementById("eksport-fremdrift") : null;
    if (line) { return line; }
    var note = document.getElementById("eksport-melding");
    if (!note) {
      note = document.createElement("div");
      note.id = "eksport-melding";
      note.setAttribute("role", "status");
      note.style.cssText = "position:fixed;left:1rem;bottom:1rem;max-width:40rem;padding:0.6rem 0.9rem;" +
        "background:#fff;color:#111;border:1px solid #888;border-radius:6px;z-index:1000;font-size:0.95rem;";
      document.body.appendChild(note);
    }
    note.hidden = false;
    return note;
  }

  function show(out, text) { if (out && text) { out.textContent = text; } }

  function save(url) {
    var a = document.createElement("a");
    a.href = url;
    a.setAttribute("download", "");
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { a.remove(); }, 1000);
  }

  function answer(resp) {
    return resp.json().catch(function () { return {}; }).then(function (body) {
      return {status: resp.status, body: body, retry: parseInt(resp.headers.get("Retry-After") || "0", 10)};
    });
  }

  function run(link, kind, search, fallback) {
    var key = kind + search;
    if (busy[key]) { return; }
    busy[key] = true;
    var out = place(link);
    var restarted = false;

    function done(text) { show(out, text); delete busy[key]; }

    function start() {
      fetch(JOBS + kind + search, {method: "POST", headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(answer).then(function (r) {
          if (r.status === 503) { show(out, r.body.message); setTimeout(start, Math.max(2, r.retry || 10) * 1000); return; }
          if (r.status >= 400 || !r.body.status_url) { done(r.body.message || ""); return; }
          follow(r.body);
        }).catch(function () { delete busy[key]; window.location.assign(fallback); });
    }

    function follow(job) {
      show(out, job.message);
      if (job.state === "done") { save(job.result_url); done(job.message); return; }
      if (job.state === "failed") { done(job.message); return; }
      setTimeout(function () {
        fetch(job.status_url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(answer).then(function (r) {
            if (r.status === 404 && !restarted) { restarted = true; start(); return; }  // the data changed
            if (r.status === 503) { show(out, r.body.message); setTimeout(function () { follow(job); }, (r.retry || 10) * 1000); return; }
            if (r.status >= 400) { done(r.body.message || ""); return; }
            follow(r.body);
          }).catch(function () { setTimeout(function () { follow(job); }, 5 * POLL_MS); });
      }, POLL_MS);
    }

    start();
  }

  // capture: before Dash's own handlers, which still see the click (n_clicks: Oversikt's "being made" line)
  document.addEventListener("click", function (ev) {
    if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey || !window.fetch) { return; }
    var link = ev.target && ev.target.closest ? ev.target.closest("a[href]") : null;
    if (!link) { return; }
    var url = new URL(link.href, window.location.href);
    var kind = KINDS[url.pathname];
    if (!kind || url.origin !== window.location.origin) { return; }
    ev.preventDefault();
    run(link, kind, url.search, url.href);
  }, true);
})();
