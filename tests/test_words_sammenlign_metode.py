"""Sammenlign and Metode say everything in the page's language (issue 12 item 5): both pages built in English and
in bokmål for Bærum (3201) on the real data; no text of three words or more on the English page is the same as
on the bokmål page, and the English page has its own English words. Texts are every string in the component
tree: children, placeholders, dropdown labels, and in the ag-grids the column headers and the text cells of the
rows (pinned rows too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from ui_pages_data import (
    page_layout,
    pages_app,  # noqa: F401  (the module fixture below)
    walk,
)

import drivers
from drivers.report import data

pytestmark = pytest.mark.usefixtures("pages_app")

CODE = "3201"
# Views that between them show every section and notice of the two pages: the default, nearest neighbours (the
# 'why similar' grid), the ASSS convention (the municipality left out), a view with indicators the data lacks
# (the missing notice and its reason), an unknown view (the error page's message) and Metode.
VIEWS = [
    ("/sammenlign", {}),
    ("/sammenlign", {"peers": "naboer"}),
    ("/sammenlign", {"konv": "unweighted-excl-self", "peers": "landet-uten-oslo"}),
    ("/sammenlign", {"visning": "nokkeltall"}),
    ("/sammenlign", {"visning": "no-such-view"}),
    ("/metode", {}),
]
# Grid cells that are data kept in bokmål only, not UI words (the allow-list; keep it this short):
# - the SSB tables' titles and SSB's own notes on them, as SSB publishes them (Norwegian);
# - each stored table's provenance note, written into the database in bokmål when it is built;
# - the registry's account of which SSB definition an indicator follows (engine/indicators.json has no English).
DATA_FIELDS = {"tittel", "ssb_merknader", "ssb_definisjon"}
TABLE_GRID = "metode-tabeller"  # its "merknad" column is the provenance note above (elsewhere "merknad" is a reason)
# A word: letters (and inner hyphens or apostrophes) between spaces, punctuation around it left off; a code, a
# number or a path (ndu_1000kr, 07459, Lippen1995/Project_statsbudsjett) is not a word.
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
KEY = re.compile(r"\b(?:sml|met|cmp)\.[a-z_.-]+[a-z]\b")


def words(text: str) -> int:
    return sum(bool(WORD.fullmatch(token.strip("()[]«»,.;:!?\"'"))) for token in text.split())


def only_names(text: str, names: set[str]) -> bool:
    """A municipality's name, or a list of them, each perhaps with its number: the same in every language."""
    return all(re.sub(r"\s*\(\d{4}\)$", "", part) in names for part in re.split(r",\s*", text))


def _grid_texts(grid) -> list[str]:
    out = []

    def headers(cols):
        for c in cols or []:
            out.extend(v for k in ("headerName", "headerTooltip") if isinstance(v := c.get(k), str))
            headers(c.get("children"))

    headers(grid.columnDefs)
    rows = list(grid.rowData or []) + list((getattr(grid, "dashGridOptions", None) or {}).get("pinnedBottomRowData") or [])
    skip = DATA_FIELDS | ({"merknad"} if grid.id == TABLE_GRID else set())
    for row in rows:
        out.extend(v for k, v in row.items() if isinstance(v, str) and k not in skip)
    return out


def texts(layout) -> list[str]:
    out = []
    for c in walk(layout):
        for prop in ("children", "placeholder", "title"):
            v = getattr(c, prop, None)
            out.extend(x for x in (v if isinstance(v, list | tuple) else [v]) if isinstance(x, str))
        for option in getattr(c, "options", None) or []:
            if isinstance(option, dict) and isinstance(option.get("label"), str):
                out.append(option["label"])
        if type(c).__name__ == "AgGrid":
            out.extend(_grid_texts(c))
    return [t.strip() for t in out if t.strip()]


@pytest.fixture(scope="module")
def trees():
    names = {data.meta().name(c) for c in data.get_panel().municipalities}
    out = {}
    for lang in ("nb", "en"):
        found = []
        for path, query in VIEWS:
            found += texts(page_layout(path)(kommune=CODE, lang=lang, **query))
        out[lang] = [t for t in found if not only_names(t, names)]
    return out


def test_no_sentence_of_the_english_pages_is_bokmal(trees):
    nb = set(trees["nb"])
    same = sorted({t for t in trees["en"] if words(t) >= 3 and t in nb})
    assert not same, f"{len(same)} texts on the English pages are the bokmål ones: {same[:15]}"


def test_the_english_pages_have_english_words(trees):
    en = " | ".join(trees["en"])
    for words in ("Who is compared", "Show the municipalities", "and each municipality in", "Download CSV",
                  "Why similar?", "% of distance", "Share aged 0–5", "Make your own peer group", "Peer average, weighted",
                  "Weighted or unweighted average: what changes", "Unknown view «no-such-view»", "Per resident",
                  "How the figures are computed", "Source tables", "What the data lacks", "Licences and credits",
                  "Third-party copies in the snapshot", "no licence given", "Agreement with SSB", "residents"):
        assert words in en, words
    nb = " | ".join(trees["nb"])
    for words in ("Hvem sammenlignes", "Hvorfor like?", "Gruppesnitt, vektet", "Slik regnes tallene", "Kildetabeller",
                  "ingen lisens oppgitt"):
        assert words in nb, words


def test_no_key_is_shown_in_place_of_its_words(trees):
    shown = sorted({m for lang in trees for t in trees[lang] for m in KEY.findall(t)})
    assert not shown, shown


def test_the_pages_do_not_switch_on_the_language():
    from test_i18n import _language_switches

    src = Path(drivers.__file__).parent / "ui" / "pages"
    for name in ("sammenlign.py", "metode.py", "_compare.py"):
        assert _language_switches(ast.parse((src / name).read_text("utf-8"))) == [], name
