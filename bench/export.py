"""Benchmark: a 20-chart pack (each chart as print PNG, screen PNG and SVG, plus XLSX and CSV) through the
warm kaleido renderer, against naive per-figure `fig.write_image` (a new Chromium per image, plotly's
default path) in the same run. Prints seconds and the ratio. Target: the pack at least 4× faster.

Charts: net operating expenditure per service for 20 municipalities, built from the real file in
../shared (KOSTRA 12362, third-party copy; see ../shared/ssb/PROVENANCE.md).

    python bench/export.py [--charts 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# bench/drivers.py shares the package's name: keep this folder off sys.path so `import drivers` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from drivers.config import Settings  # noqa: E402
from drivers.export import image, pack  # noqa: E402
from drivers.export.tables import to_csv, to_xlsx  # noqa: E402
from drivers.figures import TEMPLATE_NAME, Chart  # noqa: E402

LIPPEN = Settings.from_env().shared_dir / "ssb" / "derived" / "lippen_kostra_net_expenses_by_service_2024.csv"


def charts(n: int) -> list[Chart]:
    frame = pd.read_csv(LIPPEN, dtype={"kommunenummer": str})
    frame = frame[(frame["year"] == 2024) & (frame["service_code"] != "TOTAL") & frame["kommunenummer"].str.isdigit()]
    out = []
    for code in sorted(frame["kommunenummer"].unique())[:n]:
        rows = frame[frame["kommunenummer"] == code].sort_values("amount_nok_1000", ascending=False)
        fig = go.Figure(go.Bar(x=rows["service_name"], y=rows["amount_nok_1000"] / 1000))
        fig.update_layout(template=TEMPLATE_NAME, yaxis_title="mill. kr")
        data = pd.DataFrame({"Tjeneste": rows["service_name"].to_list(),
                             "Netto driftsutgifter (1000 kr)": rows["amount_nok_1000"].to_list()})
        out.append(Chart(f"ndu-{code}", f"Netto driftsutgifter per tjeneste, kommune {code}, 2024", fig, data,
                         "Kilde: SSB, KOSTRA tabell 12362 (tredjepartskopi), 2024 · Ikke korrigert for utgiftsbehov"))
    return out


IMAGES = (("png", image.PRINT, ""), ("png", image.SCREEN, "-skjerm"), ("svg", image.PRINT, ""))


def naive(chosen: list[Chart], folder: Path, offline_mathjax: bool) -> None:
    """What a script without a warm browser does: one image at a time, a new Chromium for each.

    offline_mathjax=False is plain `fig.write_image` (kaleido's default page asks a CDN for MathJax);
    True is the same per-image call with MathJax switched off, so the baseline is not slowed by the network.
    """
    import kaleido

    for chart in chosen:
        for fmt, size, suffix in IMAGES:
            fig = go.Figure(image.export_figure(chart, size))
            path = folder / f"{chart.id}{suffix}.{fmt}"
            opts = {"format": fmt, "width": size.width, "height": size.height, "scale": size.scale if fmt == "png" else 1}
            if offline_mathjax:
                path.write_bytes(kaleido.calc_fig_sync(fig, opts=opts, kopts={"mathjax": False}))
            else:
                fig.write_image(path, **opts)
        (folder / f"{chart.id}.xlsx").write_bytes(to_xlsx(chart))
        (folder / f"{chart.id}.csv").write_bytes(to_csv(chart))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--naive-charts", type=int, default=4,
                        help="charts the naive baselines render (scaled to --charts; use 20 for the full run)")
    args = parser.parse_args()
    if not LIPPEN.exists():
        print(f"missing real data: {LIPPEN}", file=sys.stderr)
        return 1
    if image.chromium_path() is None:
        print("no Chromium: set DRIVERS_CHROMIUM", file=sys.stderr)
        return 1
    chosen = charts(args.charts)
    n_images = 3 * len(chosen)

    t0 = time.perf_counter()
    renderer = image.Renderer()
    raw = pack.build_pack(chosen, heading="bench", engine=renderer)  # cold: includes starting Chromium
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    pack.build_pack(chosen, heading="bench", engine=renderer)  # warm: as in the running dashboard
    warm = time.perf_counter() - t0
    renderer.close()

    print(f"charts: {len(chosen)} ({n_images} images + {len(chosen)} XLSX + {len(chosen)} CSV), ZIP {len(raw) / 1e6:.1f} MB")
    print(f"pack, cold (starts Chromium once): {cold:7.1f} s")
    print(f"pack, warm (browser already up):   {warm:7.1f} s", flush=True)
    sample = chosen[:max(1, min(args.naive_charts, len(chosen)))]
    scale = len(chosen) / len(sample)
    for label, offline in (("naive, kaleido per image, MathJax off", True), ("naive fig.write_image per image", False)):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            naive(sample, Path(tmp), offline)
            measured = time.perf_counter() - t0
        slow = measured * scale
        note = f"measured {measured:.1f} s on {len(sample)} charts, x{scale:.1f}" if scale != 1 else "measured"
        print(f"{label}: {slow:7.1f} s  ({measured / (3 * len(sample)):.2f} s per image; {note})")
        print(f"    ratio {label} / pack cold: {slow / cold:.1f}x   / pack warm: {slow / warm:.1f}x   (target >= 4x)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
