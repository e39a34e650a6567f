"""Download endpoints on the dashboard's Flask server (the shell calls `register(server)` from create_app):

  /last-ned/chart/<id>.<png|svg|xlsx|csv>?<state>[&storrelse=trykk|skjerm]   one chart
  /last-ned/pakke.zip?<state>                                                 every chart (ZIP + index)
  /last-ned/seminar.pptx?<state>[&hva_om=FGK7&spak=coverage]                  the seminar deck
  /last-ned/kapittel.docx?<state>                                             the plan chapter (Word)
  /tema.css                                                                   the theme (colours, font, logo)

The files are made by `drivers.products` (pack.make, deck.make, chapter.make: the same makers as the CLI's).
The chart pack, the deck and the chapter are export jobs (drivers.ui.serving.jobs): a fixed number of render slots off the
request threads, identical requests on one job, finished files cached by (data version, view), a full queue a
503 with Retry-After. The browser (assets/exports.js) uses the job routes:

  POST|GET /last-ned/jobb/<pakke|seminar|kapittel>?<state>  start (or join) → 202, JSON status with its URLs
  GET      /last-ned/jobb/<kind>/<id>?<state>            status → JSON {state, step, steps, ahead, message}
  GET      /last-ned/jobb/<kind>/<id>/fil?<state>        the file when done (202 while it is being made)

The direct URLs above still answer with the file (for links opened without the page's script, the CLI and
tests): the request joins the job and waits for it, at most DIRECT_WAITERS requests per process at a time.

<state> is the dashboard's query string (kommune, aar, peers, konv, lang). A chart shown on a page is also
reachable by `k=<key>` (registered when the page drew it), so every chart card gets download links.
Bad input gives a one-line message with status 400/404, never a traceback; words in the view's language.

Long on purpose: every route the dashboard offers a file on, with its checks and its job glue, in one place; each
handler is short, and splitting them would separate the link builders from the routes they point to.
"""

from __future__ import annotations

import hashlib
import threading
from urllib.parse import urlencode

from dash import html
from flask import Response, jsonify, request

from drivers import i18n
from drivers.errors import UserError
from drivers.report.cache import Cache
from drivers.ui.serving import jobs

FORMATS = {"png": "image/png", "svg": "image/svg+xml",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
PACK_ROUTE = "/last-ned/pakke.zip"
DECK_ROUTE = "/last-ned/seminar.pptx"
CHAPTER_ROUTE = "/last-ned/kapittel.docx"
JOBS_ROUTE = "/last-ned/jobb"
PACK, DECK, CHAPTER = "pakke", "seminar", "kapittel"  # the export jobs' kinds
# ids of Oversikt's one-click export card
PACK_LINK, DECK_LINK, EXPORTS, EXPORT_STATUS = "last-ned-pakke", "last-ned-seminar", "eksport-oversikt", "eksport-status"
CHAPTER_LINK = "last-ned-kapittel"
EXPORT_PROGRESS = "eksport-fremdrift"  # filled by assets/exports.js (Dash never writes it)
DIRECT_WAITERS = 2  # request threads per process that may wait for a job on a direct URL (a waitress process has 4)
DIRECT_WAIT_S = 900
IMPORT_WAIT_S = 60  # the first requests wait at most this long for the exporters' imports (warm)
# key -> Chart drawn on a page. Not a speed-up but the charts behind the download links; forgotten with the pages
# that link to them when the data changes (a link from before says it has expired and to reload the page). A chart
# holds ~50-60 KB (its figure and data, by report.cache.approx_bytes): 800 are ~45 MB, the links of the last ~100
# page views this process drew. 2 000 (~110 MB) took bench/soak.py's 8 users ~10 minutes to fill, and the server
# grew all that while.
_CHARTS = Cache("download-charts", 800)


def _chart_lang(chart) -> str:
    """The language a chart was drawn in: figures write the language's decimal marks into the layout."""
    browser = getattr(chart, "browser_figure", None)
    if browser is not None:
        # the map: its export figure is built only when a file is asked for (copying the boundaries took ~300 ms of
        # every new Kart view in bench/app_latency.py when this read chart.figure)
        layout = browser.get("layout") if isinstance(browser, dict) else getattr(browser, "layout", None)
    else:
        layout = getattr(chart.figure, "layout", None)
    marks = (layout.get("separators") if isinstance(layout, dict) else getattr(layout, "separators", None)) \
        if layout is not None else None
    return next((code for code in i18n.LANGS if marks and i18n.t("fmtx.separators", code) == marks), i18n.DEFAULT)


def remember(chart) -> str:
    """Keep a chart a page just drew; returns the key its download links carry."""
    digest = hashlib.sha1(f"{chart.id}|{chart.title}|{chart.caption}|{chart.data.to_json()}".encode()).hexdigest()[:16]
    _CHARTS.put(digest, chart)
    return digest


def chart_links(chart):
    """Download links under a chart card (registered with components.register_chart_action)."""
    key = remember(chart)
    lang = _chart_lang(chart)
    base = f"/last-ned/chart/{chart.id}"
    tail = f"k={key}&lang={lang}"
    links = [("dl.png_print", f"{base}.png?{tail}"), ("dl.png_screen", f"{base}.png?{tail}&storrelse=skjerm"),
             ("dl.svg", f"{base}.svg?{tail}"), ("dl.excel", f"{base}.xlsx?{tail}"), ("dl.csv", f"{base}.csv?{tail}")]
    return html.Div([html.Span(i18n.t("dl.label", lang), className="download-label"),
                     *[html.A(i18n.t(label, lang), href=href, className="download-link", download="")
                       for label, href in links]],
                    className="downloads")


def export_links(state, peers_label: str, konv_label: str, name: str) -> html.Div:
    """One click for the whole chart pack (ZIP), the seminar deck (PPTX) and the plan chapter (DOCX) of the
    view's municipality, year,
    peer set, averaging and language. Plain links to the direct URLs; assets/exports.js turns a click into an
    export job, shows its progress in #eksport-fremdrift and fetches the file when it is ready."""
    from drivers.report import state as st

    lang = state.lang
    shared = {k: None for k in state.extra}  # page parameters (tjeneste, indikator, …) do not change the files
    links = [
        html.A(i18n.t("dl.pack", lang), href=st.url(PACK_ROUTE, state, **shared), id=PACK_LINK, className="export-button"),
        html.A(i18n.t("dl.deck", lang), href=st.url(DECK_ROUTE, state, **shared), id=DECK_LINK, className="export-button"),
        html.A(i18n.t("dl.chapter", lang), href=st.url(CHAPTER_ROUTE, state, **shared), id=CHAPTER_LINK,
               className="export-button"),
    ]
    note = i18n.t("dl.note", lang, name=name, year=state.aar, peers=peers_label, konv=konv_label)
    # Shown on click (clientside callback in pages/oversikt.py): the pack takes a while to make, and a page that
    # seems to do nothing invites a second click.
    waiting = {
        "data-pack": i18n.t("dl.wait_pack", lang),
        "data-deck": i18n.t("dl.wait_deck", lang),
        "data-chapter": i18n.t("dl.wait_chapter", lang),
    }
    return html.Div([html.H2(i18n.t("dl.heading", lang)),
                     html.Div(links, className="export-buttons"), html.P(note, className="export-note"),
                     html.P(id=EXPORT_STATUS, className="export-status", role="status", **waiting),
                     html.P(id=EXPORT_PROGRESS, className="export-status", **{"aria-live": "polite"})],
                    id=EXPORTS, className="card exports")


def _lang() -> str:
    return i18n.known(request.args.get("lang"))


def _state(args=None):
    from drivers.report import state as st

    return st.parse(dict(request.args if args is None else args), allowed_extra=("lysbilde",))


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


def _text(message: str, status: int, headers: dict | None = None) -> Response:
    return Response(f"{message}\n", status=status, mimetype="text/plain; charset=utf-8", headers=headers)


def _error(exc: Exception, status: int = 400, lang: str | None = None) -> Response:
    return _text(i18n.t("dl.failed", lang or _lang(), message=_message(exc)), status)


def _file(payload: bytes, mimetype: str, filename: str) -> Response:
    return Response(payload, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def chart_file(chart_id: str, ext: str) -> Response:
    from drivers.export import image, tables, theme
    from drivers.report import story

    lang = _lang()
    if ext not in FORMATS:
        return _error(UserError(i18n.t("dl.bad_format", lang, ext=ext[:10])), 404)
    try:
        key = request.args.get("k")
        chart = _CHARTS.get(key) if key else None
        if chart is None:
            if key and "kommune" not in request.args:
                raise UserError(i18n.t("dl.link_expired", lang))
            chart = story.find_chart(_state(), chart_id)
        if chart is None:
            return _error(UserError(i18n.t("dl.no_chart", lang, chart=chart_id[:40])), 404)
        look = theme.load()
        if ext in ("png", "svg"):
            size = request.args.get("storrelse", "trykk")
            payload = image.chart_image(chart, ext, size, look)
        elif ext == "xlsx":
            payload = tables.to_xlsx(chart, look)
        else:
            payload = tables.to_csv(chart)
        return _file(payload, FORMATS[ext], f"{chart.id}.{ext}")
    except UserError as exc:
        return _error(exc)


# ------------------------------------------------------------------------------- the export jobs' makers
# Module-level functions of (params, progress) -> jobs.File: a slot runs them (in a slot process, unpickled).
class _Steps:
    """progress(n, m) for a maker: step 1 makes the charts, one step per image, the last assembles the file."""

    def __init__(self, progress):
        self.progress, self.total = progress, None
        progress(1, None)

    def image(self, done: int, total: int) -> None:
        self.total = total + 2
        self.progress(1 + done, self.total)

    def finished(self) -> None:
        if self.total:
            self.progress(self.total, self.total)


def _job_file(product) -> jobs.File:
    return jobs.File(product.payload, product.mime, product.filename)


def make_pack(params: dict, progress=lambda n, m=None: None) -> jobs.File:
    from drivers.export import theme
    from drivers.products import pack

    state = _state(params)
    steps = _Steps(progress)
    product = pack.make(state, theme=theme.load(), progress=steps.image)
    steps.finished()
    return _job_file(product)


def make_deck(params: dict, progress=lambda n, m=None: None) -> jobs.File:
    from drivers.export import theme
    from drivers.products import deck

    state = _state(params)
    steps = _Steps(progress)
    product = deck.make(state, what_if=params.get("hva_om") or None, lever=params.get("spak", "coverage"),
                        theme=theme.load(), progress=steps.image)
    steps.finished()
    return _job_file(product)


def make_chapter(params: dict, progress=lambda n, m=None: None) -> jobs.File:
    from drivers.export import theme
    from drivers.products import chapter

    state = _state(params)
    steps = _Steps(progress)
    product = chapter.make(state, theme=theme.load(), progress=steps.image)
    steps.finished()
    return _job_file(product)


MAKERS = {PACK: make_pack, DECK: make_deck, CHAPTER: make_chapter}
ROUTES = {PACK: PACK_ROUTE, DECK: DECK_ROUTE, CHAPTER: CHAPTER_ROUTE}


def import_exporters() -> None:
    """Import what the exports use (PIL, python-pptx, openpyxl, kaleido, plotly's image path) at once, so no
    request thread imports them while pages are served (a first export used to make page requests fail)."""
    import kaleido  # noqa: F401
    import openpyxl  # noqa: F401
    import PIL.Image  # noqa: F401
    import PIL.PngImagePlugin  # noqa: F401
    import plotly.io  # noqa: F401
    import pptx  # noqa: F401
    import pptx.parts.image  # noqa: F401

    from drivers.export import deck, image, pack, tables, theme  # noqa: F401
    from drivers.products import chapter as _chapter  # noqa: F401
    from drivers.products import deck as _deck  # noqa: F401
    from drivers.products import pack as _pack  # noqa: F401
    from drivers.report import story  # noqa: F401


def _prepare() -> None:
    """Thread slots, before each job: Chromium started (once) and at a low priority (again after a restart)."""
    from drivers.export import image

    image.renderer().start()
    jobs.lower_browsers()


def _slot_process_setup(db_path: str, theme_file: str) -> None:
    """Process slots, once per slot process: the server's database and theme, the imports, a warm Chromium."""
    from dataclasses import replace
    from pathlib import Path

    from drivers import figures
    from drivers.config import Settings
    from drivers.export import image, theme
    from drivers.report import data

    data.configure(replace(Settings.from_env(), db_path=Path(db_path)))
    look = theme.load(Path(theme_file))
    figures.apply_theme(theme.plotly_layout(look), look.color("highlight"), look.color("peer"))
    import_exporters()
    try:
        image.renderer().start()
    except UserError:
        pass  # no Chromium: each job says so


_exports: jobs.Exports | None = None
_exports_lock = threading.Lock()


def exports() -> jobs.Exports:
    """The process's export queue (made on first use; tests may set `_exports`)."""
    global _exports
    with _exports_lock:
        if _exports is None:
            from drivers.export import theme
            from drivers.report import data

            _exports = jobs.Exports(MAKERS, prepare=_prepare, setup=_slot_process_setup,
                                    setup_args=(str(data.database_path()), str(theme.theme_path())))
        return _exports


def _view(kind: str, args) -> tuple[str, dict]:
    """The canonical view of an export request (what identical requests share) and the maker's parameters."""
    from drivers.report import story

    state = _state(args)
    params = state.query(**{k: None for k in state.extra})
    if kind == DECK:
        lever = args.get("spak", "coverage")
        if lever not in story.LEVERS:
            raise UserError(i18n.t("dl.bad_lever", state.lang))
        params["spak"] = lever
        if args.get("hva_om"):
            params["hva_om"] = str(args.get("hva_om"))[:20]
    return urlencode(sorted(params.items())), params


def _urls(job: jobs.Job) -> dict:
    status = f"{JOBS_ROUTE}/{job.kind}/{job.id}"
    return {"status_url": f"{status}?{job.view}", "result_url": f"{status}/fil?{job.view}"}


def _status_message(status: dict, job: jobs.Job) -> str:
    lang = i18n.known(job.params.get("lang"))
    state = status["state"]
    if state == "queued" and status["ahead"]:
        return i18n.t("dl.queued", lang, ahead=status["ahead"])
    if state in ("queued", "running"):
        if status["steps"]:
            return i18n.t("dl.step", lang, n=status["step"], m=status["steps"])
        return i18n.t("dl.starting", lang)
    if state == "done":
        return i18n.t("dl.ready", lang)
    return i18n.t("dl.failed", lang, message=job.error or i18n.t("dl.internal", lang))


def _json(body: dict, status: int, headers: dict | None = None) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _job_json(job: jobs.Job, status: int = 200, headers: dict | None = None) -> Response:
    body = exports().status(job)
    body.update(_urls(job), message=_status_message(body, job))
    if job.state == "done" and job.file is not None:
        body["filename"] = job.file.filename
    return _json(body, status, headers)


def _full_json(full: jobs.Full, lang: str) -> Response:
    return _json({"state": "full", "retry_after": full.retry_after,
                  "message": i18n.t("dl.full", lang, seconds=full.retry_after)},
                 503, {"Retry-After": str(full.retry_after)})


def _unknown_json(lang: str) -> Response:
    return _json({"state": "unknown", "message": i18n.t("dl.unknown_job", lang)}, 404)


def start_job(kind: str) -> Response:
    lang = _lang()
    if kind not in MAKERS:
        return _unknown_json(lang)
    try:
        view, params = _view(kind, request.args)
        job = exports().submit(kind, view, params)
    except jobs.Full as full:
        return _full_json(full, lang)
    except UserError as exc:
        return _json({"state": "failed", "message": i18n.t("dl.failed", lang, message=_message(exc))}, 400)
    urls = _urls(job)
    return _job_json(job, 202, {"Location": urls["status_url"]})


def _lookup(kind: str, job_id: str) -> jobs.Job | None:
    """The job with this id; one this process does not know (started by another server process) is started
    here when the URL's view is the one the id stands for. Raises jobs.Full."""
    if kind not in MAKERS:
        return None
    job = exports().find(job_id)
    if job is not None:
        return job if job.kind == kind else None
    if "kommune" not in request.args:
        return None
    try:
        view, params = _view(kind, request.args)
    except UserError:
        return None
    if exports().job_id(kind, view) != job_id:
        return None  # another data version (a job from before the data changed) or another view
    return exports().submit(kind, view, params)


def job_status(kind: str, job_id: str) -> Response:
    lang = _lang()
    try:
        job = _lookup(kind, job_id)
    except jobs.Full as full:
        return _full_json(full, lang)
    if job is None:
        return _unknown_json(lang)
    return _job_json(job)


def job_result(kind: str, job_id: str) -> Response:
    lang = _lang()
    try:
        job = _lookup(kind, job_id)
    except jobs.Full as full:
        return _full_json(full, lang)
    if job is None:
        return _text(i18n.t("dl.unknown_job", lang), 404)
    return _answer(job, wait=False)


def _answer(job: jobs.Job, wait: bool) -> Response:
    """The job's file, its error (400), or — while it is being made — a wait (direct URLs) or a 202."""
    lang = i18n.known(job.params.get("lang"))
    if wait and not job.done.is_set():
        if not _waiters.acquire(blocking=False):
            seconds = exports().retry_after()
            return _text(i18n.t("dl.full", lang, seconds=seconds), 503, {"Retry-After": str(seconds)})
        try:
            job.done.wait(DIRECT_WAIT_S)
        finally:
            _waiters.release()
    if job.state == "done" and job.file is not None:
        return _file(job.file.payload, job.file.mimetype, job.file.filename)
    if job.state == "failed":
        return _text(i18n.t("dl.failed", lang, message=job.error or i18n.t("dl.internal", lang)), 400)
    return _job_json(job, 202, {"Retry-After": "2"})


_waiters = threading.BoundedSemaphore(DIRECT_WAITERS)


def _direct(kind: str) -> Response:
    lang = _lang()
    try:
        view, params = _view(kind, request.args)
        job = exports().submit(kind, view, params)
    except jobs.Full as full:
        return _text(i18n.t("dl.full", lang, seconds=full.retry_after), 503, {"Retry-After": str(full.retry_after)})
    except UserError as exc:
        return _error(exc, lang=lang)
    return _answer(job, wait=True)


def pack_file() -> Response:
    return _direct(PACK)


def deck_file() -> Response:
    return _direct(DECK)


def chapter_file() -> Response:
    return _direct(CHAPTER)


def theme_css() -> Response:
    from drivers.export import theme

    try:
        # read on every request: a changed theme file shows on the next page load (figures: on restart)
        return Response(theme.dashboard_css(theme.load()), mimetype="text/css", headers={"Cache-Control": "no-cache"})
    except UserError as exc:
        return _error(exc)


# ------------------------------------------------------------------------------------------ warm start
_imported = threading.Event()
_warming: threading.Thread | None = None


def warm() -> None:
    """At server start (create_app): import the exporters in a background thread (the first requests wait for
    it, at most IMPORT_WAIT_S), then start the export slots' Chromium (thread slots) or slot processes."""
    global _warming
    if _warming is not None:
        return

    def run():
        try:
            import_exporters()
        finally:
            _imported.set()
        try:
            exports().warm()
        except Exception:  # noqa: BLE001 - no Chromium here: an export then says so
            jobs.log.warning("export slots not warmed", exc_info=True)

    _warming = threading.Thread(target=run, name="drivers-warm-exports", daemon=True)
    _warming.start()


def _wait_for_imports() -> None:
    if _warming is not None and not _imported.is_set():
        _imported.wait(IMPORT_WAIT_S)


def register(server) -> None:
    """Add the download routes to the Flask server and download links under every chart card."""
    if "drivers_last_ned_chart" in server.view_functions:
        return
    server.before_request(_wait_for_imports)
    server.add_url_rule("/last-ned/chart/<chart_id>.<ext>", "drivers_last_ned_chart", chart_file)
    server.add_url_rule(PACK_ROUTE, "drivers_last_ned_pakke", pack_file)
    server.add_url_rule(DECK_ROUTE, "drivers_last_ned_seminar", deck_file)
    server.add_url_rule(CHAPTER_ROUTE, "drivers_last_ned_kapittel", chapter_file)
    server.add_url_rule(f"{JOBS_ROUTE}/<kind>", "drivers_eksport_start", start_job, methods=["GET", "POST"])
    server.add_url_rule(f"{JOBS_ROUTE}/<kind>/<job_id>", "drivers_eksport_status", job_status)
    server.add_url_rule(f"{JOBS_ROUTE}/<kind>/<job_id>/fil", "drivers_eksport_fil", job_result)
    server.add_url_rule("/tema.css", "drivers_tema_css", theme_css)
    from drivers.ui import components

    components.register_chart_action(chart_links)
