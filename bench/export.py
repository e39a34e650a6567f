"""Benchmark: the chart pack (each chart as print PNG, screen PNG and SVG, plus XLSX, CSV and the index) through
the warm renderer, against today's path in the same run.

"Today's path" (the baseline, kept callable here as `OldRenderer`): the renderer before issue 14, one kaleido
`calc_fig` per image (a full plotly layout for every PNG and SVG) and a page reload after each, two tabs. The new path (`image.Renderer`): one
layout per figure and size, its PNG rasterised from the SVG in the page, figures drawn in parallel on `--tabs`
tabs of one browser. Both render the same charts into the same pack; old and new runs alternate (`--rounds`) so
a machine shared with other work loads both alike, and the best of each is compared. The script also checks
that both give the same PNG bytes.

Charts: the real storyline of a municipality (`story.all_charts`, default Bærum 3201, 2024) from the configured
database (data/snapshot.duckdb, else the fetched one), first `--charts` of them (default 20). The storyline's own
cost (engine calls, building the figures) is printed separately: in the dashboard and in a second pack of the
same view it is cached.

    python bench/export.py [--charts 20] [--region 3201] [--tabs 2,3,4] [--rounds 2]

Target (issue 14): the 20-chart pack in <= 5 s warm.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

# bench/drivers.py shares the package's name: keep this folder off sys.path so `import drivers` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from drivers.export import image, pack  # noqa: E402


class OldRenderer(image.Renderer):
    """The renderer as it was before issue 14 (the baseline): one kaleido calc_fig per image, two tabs, and stock
    kaleido's page reload after every image (its warm-tab subclass never took effect: it looked for `tabs_ready`
    on the class, where kaleido 1.x only annotates it)."""

    def __init__(self):
        super().__init__(tabs=2)

    async def _open(self, browser: str):
        import kaleido

        page = kaleido.PageGenerator(mathjax=False, others=[image.geo_assets_dir() / "plotly-geo-assets.js"])
        k = kaleido.Kaleido(n=self.tabs, timeout=self.timeout, page_generator=page, path=browser)
        await k.open()
        return k

    async def _render_all(self, jobs, progress=None):
        done = 0

        async def one(job):
            nonlocal done
            opts = {"format": job.fmt, "width": job.size.width, "height": job.size.height,
                    "scale": job.size.scale if job.fmt == "png" else 1}
            out = await self._kaleido.calc_fig(job.figure, opts=opts, topojson=image.topojson_url())
            done += 1
            if progress is not None:
                progress(done, len(jobs))
            return out

        return list(await asyncio.gather(*(one(j) for j in jobs)))


def storyline(region: str, year: int, n: int):
    from drivers.commands.export_pack import load_state
    from drivers.report import story

    t0 = time.perf_counter()
    state = load_state(region, year, "kostragruppe", "weighted", "nb", None)
    loaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    charts = story.all_charts(state)
    built = time.perf_counter() - t0
    return charts[:n], loaded, built, len(charts)


def browser_cpu() -> float:
    """CPU seconds (user + system) of every process below this one: the browsers. Shared-machine load stretches
    wall time; CPU seconds say what the work itself costs."""
    parents: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except (OSError, IndexError, ValueError):
                continue
    below, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {child for child, (parent, _) in parents.items() if parent in frontier} - below
        below |= frontier
    return sum(parents[p][1] for p in below) / os.sysconf("SC_CLK_TCK")


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and the browsers)."""
    cpu0, t0 = sum(os.times()[:2]) + browser_cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, sum(os.times()[:2]) + browser_cpu() - cpu0


def same_pngs(charts, old: image.Renderer, new: image.Renderer, look) -> bool:
    formats = (("png", image.PRINT), ("png", image.SCREEN))
    a = image.render_charts(charts[:3], formats, look, old)
    b = image.render_charts(charts[:3], formats, look, new)
    return a == b


def main() -> int:
    from drivers.export import theme

    parser = argparse.ArgumentParser()
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--region", default="3201")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--tabs", default="2", help="tab counts to try for the new renderer, e.g. 1,2,3")
    parser.add_argument("--rounds", type=int, default=2, help="alternating warm runs of each path")
    args = parser.parse_args()
    if image.chromium_path() is None:
        print("no Chromium: set DRIVERS_CHROMIUM", file=sys.stderr)
        return 1
    charts, loaded, built, total = storyline(args.region, args.year, args.charts)
    look = theme.load()
    print(f"region {args.region} {args.year}: {len(charts)} of {total} storyline charts; "
          f"data load {loaded:.1f} s, storyline (engine + figures) {built:.1f} s, cached after", flush=True)

    def build(engine):
        return pack.build_pack(charts, heading="bench", theme=look, engine=engine)

    engines = {"old (calc_fig per image, 2 tabs)": OldRenderer()}
    for n in (int(x) for x in args.tabs.split(",") if x.strip()):
        engines[f"new ({n} tabs)"] = image.Renderer(tabs=n)
    cold, warm = {}, {name: [] for name in engines}
    size = 0
    for name, engine in engines.items():
        t0 = time.perf_counter()
        size = len(build(engine))  # cold: starts Chromium, first draws
        cold[name] = time.perf_counter() - t0
    for _ in range(args.rounds):
        for name, engine in engines.items():
            warm[name].append(timed(lambda e=engine: build(e)))
    t0 = time.perf_counter()
    for chart in charts:
        pack.tables.to_xlsx(chart, look)
        pack.tables.to_csv(chart)
    tables_s = time.perf_counter() - t0
    names = list(engines)
    identical = same_pngs(charts, engines[names[0]], engines[names[-1]], look)
    for engine in engines.values():
        engine.close()

    print(f"pack: {len(charts)} charts = {3 * len(charts)} images + {len(charts)} XLSX + {len(charts)} CSV, "
          f"ZIP {size / 1e6:.1f} MB; XLSX + CSV alone {tables_s:.1f} s")
    base, base_cpu = min(warm[names[0]])
    for name in names:
        best, cpu = min(warm[name])
        runs = ", ".join(f"{t:.1f}" for t, _ in warm[name])
        print(f"{name:34s} cold {cold[name]:6.1f} s   warm best {best:6.1f} s wall, {cpu:5.1f} s CPU  (runs {runs})"
              f"   old/this: wall {base / best:4.1f}x, CPU {base_cpu / cpu:4.1f}x")
    print(f"PNG bytes old == new: {identical}   (target: the pack <= 5 s warm)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
