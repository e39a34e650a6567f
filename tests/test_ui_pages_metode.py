"""Metode og kilder (/metode) on real data, and a check that the pages of this helper never open the database
after start-up (callbacks read only the in-memory panel and caches)."""

from __future__ import annotations

import pytest
from ui_pages_data import (
    copy_database,
    duplicate_ids,
    find,
    make_app,
    page_layout,
    page_module,
    pages_app,  # noqa: F401  (the module fixture below)
    text,
)

from drivers.config import Settings
from drivers.ui import data, ids

pytestmark = pytest.mark.usefixtures("pages_app")

def test_met001_every_indicator_has_a_definition_row():
    from drivers.engine import indicators

    metode = page_module("/metode")
    inds = indicators.all()
    rows = metode.indicator_rows(inds, "nb")
    assert [r["id"] for r in rows] == [i.id for i in inds]
    by_id = {r["id"]: r for r in rows}
    fgk7 = by_id["ndu_fgk7_per_innb"]
    assert "ndu_1000kr" in fgk7["teller"] and "FGK7" in fgk7["teller"] and "× 1 000" in fgk7["teller"]
    assert "1.1. året etter" in fgk7["nevner"] and "07459" in fgk7["nevner"]
    assert fgk7["tabell"] == "12362" and fgk7["tjeneste"] == "Barnehage"
    assert "1–5 år" == by_id["ndu_fgk7_per_maalgruppe"]["maalgruppe"]
    assert "kostnadsindeks" in by_id["ndu_fgk7_per_innb_behovskorr"]["nevner"]
    assert all(r["ssb_definisjon"] and r["samsvar"] and r["polaritet"] for r in rows)


def test_met002_source_tables_show_updated_release_and_fetched():
    metode = page_module("/metode")
    rows = {r["tabell"]: r for r in metode.table_rows(data.get_panel().tables, "nb")}
    assert "12362" in rows
    tables = data.get_panel().tables.set_index("table_id")
    for tid, row in rows.items():
        release = tables.at[tid, "release"]
        assert row["status"] == (release if isinstance(release, str) else "kan ikke vurderes")
        assert row["hentet"].endswith("UTC")
        assert row["oppdatert"]  # a date, or says the source did not give one


def test_met003_page_shows_lacks_commands_and_licences():
    layout = page_layout("/metode")(kommune="1151")
    assert find(layout, ids.PAGE_ROOT) is not None
    body = text(layout)
    for needed in ("Kilde: Statistisk sentralbyrå", "© Kartverket", "CC BY 4.0", "Grønt hefte 2026", "ikke fra SSB",
                   "robhop/fylker-og-kommuner", "Lippen1995", "csdata"):
        assert needed in body, needed
    described = page_module("/metode").describe()
    for m in described.get("missing") or []:
        if m.get("command"):
            assert m["command"] in body
    assert duplicate_ids(layout) == []
    grid = find(layout, "metode-indikatorer")
    assert len(grid.rowData) >= 40
    en = text(page_layout("/metode")(kommune="1151", lang="en"))
    assert "What the data lacks" in en and "Licences" in en


@pytest.mark.slow
def test_met004_pages_render_without_the_database_file(tmp_path):
    """After start-up the pages read only memory: delete the database file and render every view again."""
    db = copy_database(tmp_path)
    make_app(db)
    try:
        db.unlink()
        for path, query in [("/kart", {"kommune": "1151"}), ("/kart", {"kommune": "0301", "indikator": "ndu_fgk9_per_innb"}),
                            ("/sammenlign", {"kommune": "3222", "konv": "unweighted"}),
                            ("/sammenlign", {"kommune": "1151", "peers": "naboer"}), ("/metode", {"kommune": "0301"})]:
            layout = page_layout(path)(**query)
            assert find(layout, ids.PAGE_ROOT) is not None, (path, query)
            assert "kunne ikke beregnes" not in text(layout), (path, query)
    finally:
        data.configure(Settings.from_env())
