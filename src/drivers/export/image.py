"""Static chart images (PNG for print and screen, SVG) through kaleido 1.x and the system Chromium.

One Chromium is started on first use and kept warm: a `Renderer` owns a kaleido session on its own event
loop thread and renders any number of figures through the same tabs (`render_many`). Starting Chromium
costs seconds; each further figure costs a fraction of a second.

The layout of each picture (title, caption, margins, sizes) is `drivers.export.layout`; this module renders.

Print PNG: 16 cm wide at 300 dpi = 1890 px (rendered at 945 × 590 CSS px, scale 2), with a pHYs chunk
saying 300 dpi so Word and LibreOffice place it 16 cm wide. Screen PNG: 1280 × 720 px at 96 dpi.

Maps export offline: plotly.js loads a base-map topojson for every geo subplot (from cdn.plot.ly by default),
even with every base layer hidden. The renderer's page preloads an empty topology under every name plotly.js
can ask for, and points `topojsonURL` at a local folder holding the same, so no image needs the network.

Long on purpose: the Chromium session's life (start, warm tabs drawing each figure once per size, offline base
maps, Ctrl-C and shutdown) is one piece of state with one event-loop thread; split, each part would reach into the
others' session.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import json
import os
import shutil
import struct
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from drivers.errors import UserError
from drivers.export.layout import (  # noqa: F401 - re-exported: callers name them as image.*
    CAPTION_FONT,
    PRINT,
    SCREEN,
    SIZES,
    SLIDE,
    TITLE_FONT,
    Size,
    export_figure,
)
from drivers.export.theme import Theme
from drivers.figures import EMPTY_TOPOLOGY

CM_PER_INCH = 2.54





class ExportUnavailable(UserError):
    """Chromium is missing or would not start: static images cannot be made on this machine."""


def chromium_path() -> str | None:
    """The browser kaleido should drive: $DRIVERS_CHROMIUM, $BROWSER_PATH, Debian's /usr/bin/chromium, PATH."""
    for candidate in (os.environ.get("DRIVERS_CHROMIUM"), os.environ.get("BROWSER_PATH")):
        if candidate and Path(candidate).is_file():
            return candidate
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# ------------------------------------------------------------------------------------ offline base map

# plotly.js names the file `<scope>_<resolution>m` (geo.scope with spaces as '-', geo.resolution 110 or 50)
GEO_SCOPES = ("world", "usa", "europe", "asia", "africa", "north-america", "south-america")
GEO_RESOLUTIONS = (110, 50)

_geo_dir: Path | None = None
_geo_lock = threading.Lock()


def topojson_names() -> list[str]:
    return [f"{scope}_{res}m" for scope in GEO_SCOPES for res in GEO_RESOLUTIONS]


def geo_assets_dir() -> Path:
    """A process-wide temporary folder with `<name>.json` (empty topology) for every base-map name plotly.js
    may fetch, and `plotly-geo-assets.js` that registers them all in `window.PlotlyGeoAssets` up front."""
    global _geo_dir
    with _geo_lock:
        if _geo_dir is None or not (_geo_dir / "plotly-geo-assets.js").is_file():
            folder = Path(tempfile.mkdtemp(prefix="drivers-topojson-"))
            body = json.dumps(EMPTY_TOPOLOGY)
            for name in topojson_names():
                (folder / f"{name}.json").write_text(body, encoding="utf-8")
            (folder / "plotly-geo-assets.js").write_text(
                "window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};\n"
                + "".join(f"window.PlotlyGeoAssets.topojson[{json.dumps(n)}] = {body};\n" for n in topojson_names()),
                encoding="utf-8")
            atexit.register(shutil.rmtree, folder, True)
            _geo_dir = folder
        return _geo_dir


def topojson_url() -> str:
    """`topojsonURL` for kaleido: the local folder as a file:// URL (kaleido's Chromium may read local files)."""
    return geo_assets_dir().as_uri() + "/"


# ------------------------------------------------------------------------------------------------- PNG


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def set_png_dpi(png: bytes, dpi: float) -> bytes:
    """Write (or replace) the pHYs chunk so programs know the physical size; pixels are unchanged."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    ppm = round(dpi / CM_PER_INCH * 100)  # pixels per metre
    out = [png[:8]]
    pos = 8
    while pos < len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        kind = png[pos + 4:pos + 8]
        end = pos + 12 + length
        if kind != b"pHYs":
            out.append(png[pos:end])
        if kind == b"IHDR":
            out.append(_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        pos = end
    return b"".join(out)


def png_info(png: bytes) -> dict:
    """Width and height in pixels, and dpi from pHYs (None when absent)."""
    width, height = struct.unpack(">II", png[16:24])
    dpi = None
    pos = 8
    while pos < len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        if png[pos + 4:pos + 8] == b"pHYs":
            ppx, _ppy, unit = struct.unpack(">IIB", png[pos + 8:pos + 17])
            dpi = ppx * CM_PER_INCH / 100 if unit == 1 else None
        pos += 12 + length
    return {"width": width, "height": height, "dpi": dpi}


# -------------------------------------------------------------------------------------------- renderer


@dataclass(frozen=True)
class Job:
    """One image to make: a figure dict laid out for `size`, in `fmt` ("png" or "svg"). Jobs that share one
    figure object and size are drawn once (see `Renderer`)."""

    figure: dict
    fmt: str
    size: Size


RELOAD_EVERY = 50  # draws per tab between page reloads

# One draw per figure and size, every format from it: Plotly.toImage lays the figure out and serialises it as SVG
# (what kaleido returns for svg), and each PNG is that SVG rasterised by plotly's own Snapshot.svgToImg at the
# job's scale, which is what Plotly.toImage does for a png (toSVG, then svgToImg) - the same pixels, with one
# layout instead of one per format. Returns a JSON list: the SVG text, or a PNG's base64 without its data: prefix.
_DRAW_JS = r"""async function(fig, width, height, outs, topojsonURL) {
  const maxScale = Math.max(1, ...outs.map(o => o[1]));
  const config = Object.assign({plotGlPixelRatio: maxScale * 2}, topojsonURL ? {topojsonURL} : {}, fig.config || {});
  const svg = await Plotly.toImage({data: fig.data || [], layout: fig.layout || {}, config},
                                   {format: 'svg', width, height, scale: 1, imageDataOnly: true});
  const res = [];
  for (const [fmt, scale] of outs) {
    if (fmt === 'svg') { res.push(svg); continue; }
    const canvas = document.createElement('canvas');
    const url = await Plotly.Snapshot.svgToImg({format: fmt, width, height, scale, canvas, svg, promise: true});
    res.push(url.replace(/^data:image\/[a-z]+;base64,/, ''));
  }
  return JSON.stringify(res);
}"""


def _warm_kaleido_class():
    """kaleido.Kaleido, but a tab goes back to the queue without reloading its page after every figure.

    Kaleido reloads the page (and re-parses ~4 MB of plotly.js) after each image, which is most of the
    per-figure cost. Plotly.toImage draws into a throw-away div and purges it, so the page stays clean;
    we still reload every RELOAD_EVERY renders to bound any slow leak. Falls back to stock kaleido if its
    private hook is not there (another kaleido version).
    """
    import kaleido

    # `tabs_ready` is only annotated on the class (set in __init__): hasattr() on the class is False, which made
    # this fall back to stock kaleido (a page reload after every image: 5.1 s instead of 1.2 s for 12 draws in
    # one tab, 2026-12-03) ever since kaleido 1.x
    if not hasattr(kaleido.Kaleido, "_return_kaleido_tab") or "tabs_ready" not in getattr(
            kaleido.Kaleido, "__annotations__", {}):
        return kaleido.Kaleido

    class WarmKaleido(kaleido.Kaleido):
        _renders: dict

        async def _return_kaleido_tab(self, tab) -> None:
            counts = self.__dict__.setdefault("_renders", {})
            counts[id(tab)] = counts.get(id(tab), 0) + 1
            if counts[id(tab)] % RELOAD_EVERY == 0:
                await super()._return_kaleido_tab(tab)
            else:
                await self.tabs_ready.put(tab)

    return WarmKaleido


def _can_draw(k) -> bool:
    """The kaleido internals `Renderer._draw` uses (kaleido 1.x): a tab queue and a tab's js context."""
    try:
        from kaleido._kaleido_tab import _devtools_utils  # noqa: F401
    except ImportError:
        return False
    return all(hasattr(k, name) for name in ("_get_kaleido_tab", "_return_kaleido_tab", "tabs_ready"))


def _groups(jobs: list[Job]) -> list[list[int]]:
    """Job indices grouped by figure object and size, in first-seen order: each group is one draw."""
    groups: dict[tuple, list[int]] = {}
    for i, job in enumerate(jobs):
        groups.setdefault((id(job.figure), job.size), []).append(i)
    return list(groups.values())


class Renderer:
    """A warm kaleido session on its own event loop thread; thread-safe (`render_many` from any thread).

    Figures are drawn in parallel, one per tab (`tabs`), each figure once per size for all its formats
    (`_DRAW_JS`), on pages kept loaded between figures (WarmKaleido). bench/export.py, Bærum's first 20 storyline
    charts x (print PNG, screen PNG, SVG) + workbook/CSV + ZIP, warm, shared 2-core machine (load 3-10,
    2026-12-03): before (calc_fig per image, page reload after each, 2 tabs) 21.4 s wall / 27.8 s CPU; now
    4.9 s / 5.2 s on 1 tab, 3.3 s / 5.7 s on 2, 4.4 s / 5.3 s on 3 (best of two runs; the other runs 6-8 s as the
    machine's load moved). 2 tabs: the best wall time; a third buys nothing on 2 cores.
    """

    def __init__(self, browser: str | None = None, tabs: int = 2, timeout: float = 90):
        self.browser = browser
        self.tabs = tabs
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None
        self._opening = None  # the browser while it starts (closed too if Ctrl-C comes then)
        self._lock = threading.RLock()

    def start(self) -> None:
        with self._lock:
            if self._kaleido is not None:
                return
            browser = self.browser or chromium_path()
            if browser is None:
                raise ExportUnavailable(
                    "fant ikke Chromium, så bilder (PNG/SVG) kan ikke lages. Installer den (Debian: "
                    "`apt-get install chromium`) eller pek på den med DRIVERS_CHROMIUM=/sti/til/chromium")
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="kaleido", daemon=True)
            self._thread.start()
            try:
                self._kaleido = self._call(self._open(browser), timeout=120)
            except KeyboardInterrupt:
                self._abandon()  # the lock is reentrant: close() takes it again on this thread
                raise
            except Exception as exc:
                self._stop_loop()
                raise ExportUnavailable(f"Chromium ({browser}) startet ikke for bildeeksport: {exc}") from None

    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def browser_pid(self) -> int | None:
        """The process id of the browser's process (a wrapper whose session holds Chromium), None if not up."""
        proc = getattr(self._kaleido or self._opening, "subprocess", None)
        return getattr(proc, "pid", None)

    async def _open(self, browser: str):
        # No CDN fetch at all: mathjax off (the charts use no LaTeX), plotly.js from the plotly package, and the
        # base-map topojson preloaded by a local script (maps would otherwise fetch it from cdn.plot.ly).
        from kaleido import PageGenerator

        page = PageGenerator(mathjax=False, others=[geo_assets_dir() / "plotly-geo-assets.js"])
        k = _warm_kaleido_class()(n=self.tabs, timeout=self.timeout, page_generator=page, path=browser)
        self._opening = k
        await k.open()
        self._opening = None
        return k

    def _call(self, coro, timeout: float | None = None):
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # a timeout or Ctrl-C: the coroutine stops on the loop too
            raise

    async def _draw(self, figure: dict, size: Size, outs: list[tuple[str, float]]) -> list[bytes]:
        """One figure at one size, every (format, scale) in `outs`, on the next free tab."""
        from kaleido._kaleido_tab import _devtools_utils as devtools

        k = self._kaleido
        tab = await k._get_kaleido_tab()  # noqa: SLF001 - kaleido 1.x's tab queue (checked by _can_draw)
        try:
            result = await asyncio.wait_for(
                devtools.exec_js_fn(tab.tab, tab._current_js_id, _DRAW_JS, figure,  # noqa: SLF001
                                    size.width, size.height, [list(o) for o in outs], topojson_url()),
                self.timeout)
            if "error" in result:
                raise RuntimeError(str(result["error"])[:300])
            inner = result.get("result", {})
            if "exceptionDetails" in inner:
                detail = inner["exceptionDetails"]
                raise RuntimeError(str(detail.get("exception", {}).get("description") or detail)[:300])
            values = json.loads(inner["result"]["value"])
        finally:
            await k._return_kaleido_tab(tab)  # noqa: SLF001
        return [v.encode("utf-8") if fmt == "svg" else base64.b64decode(v) for v, (fmt, _) in zip(values, outs,
                                                                                                  strict=True)]

    async def _render_all(self, jobs: list[Job], progress=None) -> list[bytes]:
        out: list[bytes | None] = [None] * len(jobs)
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, len(jobs))

        if not _can_draw(self._kaleido):  # another kaleido: one calc_fig per image
            async def single(i: int) -> None:
                job = jobs[i]
                opts = {"format": job.fmt, "width": job.size.width, "height": job.size.height,
                        "scale": job.size.scale if job.fmt == "png" else 1}
                out[i] = await self._kaleido.calc_fig(job.figure, opts=opts, topojson=topojson_url())
                tick(1)

            await asyncio.gather(*(single(i) for i in range(len(jobs))))
            return out

        async def group(indices: list[int]) -> None:
            first = jobs[indices[0]]
            outs = [(jobs[i].fmt, jobs[i].size.scale if jobs[i].fmt == "png" else 1) for i in indices]
            for i, payload in zip(indices, await self._draw(first.figure, first.size, outs), strict=True):
                out[i] = payload
            tick(len(indices))

        tasks = [asyncio.ensure_future(group(g)) for g in _groups(jobs)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        return out

    def render_many(self, jobs: list[Job], progress=None) -> list[bytes]:
        """Render every job through the warm browser; PNGs get their dpi written in. `progress(done, total)` is
        called (on the renderer's thread) after each image. Ctrl-C closes the browser and re-raises."""
        if not jobs:
            return []
        jobs = list(jobs)
        self.start()
        try:
            raw = self._call(self._render_all(jobs, progress), timeout=self.timeout * max(1, len(jobs)))
        except KeyboardInterrupt:
            self._abandon()
            raise
        except Exception as exc:  # a crashed browser: start afresh once
            self.close()
            self.start()
            try:
                raw = self._call(self._render_all(jobs, progress), timeout=self.timeout * max(1, len(jobs)))
            except KeyboardInterrupt:
                self._abandon()
                raise
            except Exception:
                raise UserError(f"bildeeksporten feilet: {exc}") from exc
        return [set_png_dpi(b, j.size.dpi) if j.fmt == "png" else b for b, j in zip(raw, jobs, strict=True)]

    def _abandon(self) -> None:
        """After Ctrl-C: close the browser (its processes reaped) with further Ctrl-Cs ignored meanwhile."""
        import signal

        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.close()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def close(self) -> None:
        import logging

        with self._lock:
            browser = self._kaleido if self._kaleido is not None else self._opening
            # a browser that exits mid-message makes choreographer log a traceback for the cut message it then
            # ignores: on the way out that is noise on the user's terminal (a CLI's Ctrl-C, exit), not news
            quiet = logging.getLogger("choreographer")
            level = quiet.level
            quiet.setLevel(logging.CRITICAL + 1)
            try:
                if browser is not None and self._loop is not None:
                    try:
                        self._call(browser.close(), timeout=30)
                    except Exception:  # noqa: BLE001  closing a dead (or half-started) browser is best effort
                        self._kill(browser)
                self._kaleido = self._opening = None
                self._stop_loop()
            finally:
                quiet.setLevel(level)

    @staticmethod
    def _kill(browser) -> None:
        """The browser would not close: end its process group (choreographer starts it in its own session)."""
        import signal

        pid = getattr(getattr(browser, "subprocess", None), "pid", None)
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop = None
            self._thread = None


_renderer: Renderer | None = None
_renderer_lock = threading.Lock()


def renderer() -> Renderer:
    """The process-wide warm renderer (started on first render, closed at exit)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = Renderer()
            atexit.register(_renderer.close)
        return _renderer


def render_charts(charts, formats=(("png", PRINT), ("svg", PRINT)), theme: Theme | None = None,
                  engine: Renderer | None = None, progress=None) -> dict[tuple[str, str, str], bytes]:
    """Every chart in every (format, size) in one batch → {(chart.id, fmt, size.name): bytes}.
    `progress(done, total)`: called after each image (an export job's progress)."""
    jobs, keys = [], []
    for chart in charts:
        laid_out: dict[Size, dict] = {}  # one figure per size: its png and svg are drawn from one layout
        for fmt, size in formats:
            if size not in laid_out:
                laid_out[size] = export_figure(chart, size, theme)
            jobs.append(Job(laid_out[size], fmt, size))
            keys.append((chart.id, fmt, size.name))
    engine = engine or renderer()
    images = engine.render_many(jobs, progress) if progress is not None else engine.render_many(jobs)
    return dict(zip(keys, images, strict=True))


def chart_image(chart, fmt: str = "png", size: Size | str = PRINT, theme: Theme | None = None) -> bytes:
    """One chart as PNG or SVG bytes."""
    if isinstance(size, str):
        if size not in SIZES:
            raise UserError(f"ukjent bildestørrelse «{size}»; bruk {', '.join(SIZES)}")
        size = SIZES[size]
    if fmt not in ("png", "svg"):
        raise UserError(f"ukjent bildeformat «{fmt}»; bruk png eller svg")
    return render_charts([chart], ((fmt, size),), theme)[(chart.id, fmt, size.name)]


def as_go(fig: dict) -> go.Figure:
    """A figure dict back as a plotly Figure (for callers that want to show the export layout)."""
    return go.Figure(fig)
