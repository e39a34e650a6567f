"""The chart pack: one ZIP with every chart for a municipality as PNG (print and screen), SVG, XLSX and CSV,
plus `innhold.txt`, an index naming each file with the chart's title and caption.

All images are rendered in one batch through the warm Chromium (`drivers.export.image`).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

from drivers.export import image, tables
from drivers.export.theme import Theme

INDEX_NAME = "innhold.txt"
FORMATS = (("png", image.PRINT), ("png", image.SCREEN), ("svg", image.PRINT))


def slug(text: str) -> str:
    """A file-name-safe id: lower case, ascii letters/digits/hyphens (æøå spelt out)."""
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "figur"


def chart_files(charts) -> list[tuple[object, str]]:
    """(chart, file stem) with a running number so files sort in storyline order."""
    width = max(2, len(str(len(charts))))
    return [(c, f"{i:0{width}d}-{slug(c.id)}") for i, c in enumerate(charts, start=1)]


def build_pack(charts, *, heading: str, theme: Theme | None = None, engine: image.Renderer | None = None,
               progress=None) -> bytes:
    """ZIP bytes: for each chart `NN-id.png` (16 cm, 300 dpi), `NN-id-skjerm.png`, `NN-id.svg`,
    `NN-id.xlsx`, `NN-id.csv`; and the index. `heading` opens the index (municipality, year, peers).
    `progress(done, total)`: called after each image (image.render_charts)."""
    charts = list(charts)
    if not charts:
        from drivers.errors import UserError

        raise UserError("ingen figurer å pakke for dette utvalget")
    images = image.render_charts(charts, FORMATS, theme, engine, progress)
    buf = io.BytesIO()
    index = [heading, f"Laget {datetime.now(UTC):%d.%m.%Y %H:%M} UTC med drivers.", "",
             "Bilder: *.png er 16 cm brede i 300 dpi (for økonomiplanen), *-skjerm.png 1280 × 720 for skjerm,",
             "*.svg er vektorgrafikk. Tallene bak hver figur ligger i *.xlsx og *.csv (semikolon, desimalkomma,",
             "UTF-8 med BOM, åpnes riktig i norsk Excel). Tomme celler betyr at tallet mangler hos SSB (ikke 0).", ""]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for chart, stem in chart_files(charts):
            files = {
                f"{stem}.png": images[(chart.id, "png", image.PRINT.name)],
                f"{stem}-skjerm.png": images[(chart.id, "png", image.SCREEN.name)],
                f"{stem}.svg": images[(chart.id, "svg", image.PRINT.name)],
                f"{stem}.xlsx": tables.to_xlsx(chart, theme),
                f"{stem}.csv": tables.to_csv(chart),
            }
            index.append(f"{stem}: {chart.title}")
            index.append(f"    {chart.caption}")
            for name, payload in files.items():
                zf.writestr(name, payload)
                index.append(f"    - {name}")
            index.append("")
        zf.writestr(INDEX_NAME, "\n".join(index).encode("utf-8"))
    return buf.getvalue()


def index_files(index_text: str) -> list[str]:
    """The file names an index lists (for tests and checks)."""
    return [line.strip()[2:] for line in index_text.splitlines() if line.strip().startswith("- ")]
