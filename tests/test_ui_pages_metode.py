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
from drivers.report import data
from drivers.ui import ids

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


def test_met005_changes_section_on_the_project_database_says_what_it_is():
    """On the snapshot (no fetch yet) the section says so and names the command; on a fetched database it
    lists the last fetch per table."""
    metode = page_module("/metode")
    changes = metode.changes()
    nb = page_layout("/metode")(kommune="0301")
    section = find(nb, "metode-endringer")
    assert section is not None and "Endringer ved siste henting" in text(section)
    if changes.get("changes") is None or changes["changes"].empty:
        assert "drivers fetch" in text(section) and "ingenting er hentet fra SSB ennå" in text(section)
        en = find(page_layout("/metode")(kommune="0301", lang="en"), "metode-endringer")
        assert "Changes at the last fetch" in text(en) and "nothing has been fetched from SSB yet" in text(en)
    else:
        assert all(t in text(section) for t in changes["changes"]["table_id"])


@pytest.mark.slow
def test_met006_changes_section_after_a_march_to_june_refresh(tmp_path):
    """A real DuckDB file: the project's database copied, SSB 13502 fetched from the fake SSB as a «March» version,
    then refreshed to the real «June» export; the page lists the counts and each municipality's revisions."""
    from fakessb.server import FakeSSB, VirtualClock
    from test_fetch_incremental import _client, _march_and_june

    from drivers import fetch as fetching

    db = copy_database(tmp_path)
    march, june, v, prev = _march_and_june()
    clock = VirtualClock()
    server = FakeSSB({"13502": march}, clock=clock).start()
    try:
        fetching.fetch(_client(server, clock), db, ["13502"])
        server.tables["13502"] = june
        report = fetching.fetch(_client(server, clock), db, ["13502"])
    finally:
        server.stop()
    assert {k: report.changes["13502"][k] for k in ("revised", "added", "removed")} == {"revised": 3, "added": 1, "removed": 1}
    make_app(db)
    try:
        metode = page_module("/metode")
        rows = metode.change_rows(metode.changes()["changes"])
        assert [(r["tabell"], r["aar"], r["revidert"], r["lagt_til"], r["fjernet"]) for r in rows] == [("13502", "2023", 3, 1, 1)]
        assert rows[0]["ssb_oppdatert"] == "15.03.2024 → 17.06.2024"
        oslo = find(page_layout("/metode")(kommune="0301"), "metode-endringer")
        body = text(oslo)
        assert "Største revisjoner for Oslo" in body and "KOSandel120000" in body and "barnehage_andel_1_2_pct" in body
        assert metode.revision_rows(metode.changes()["revisions"], "0301") == [{
            "tabell": "13502", "aar": 2023, "kode": "KOSandel120000", "maal": "barnehage_andel_1_2_pct", "dims": "",
            "foer": "..", "naa": "87,6", "endring": "–"}]
        bergen = metode.revision_rows(metode.changes()["revisions"], "4601")
        assert [(r["foer"], r["naa"]) for r in bergen] == [("91,6", "93,2")]  # 2022's figure, then SSB's 2023
        assert bergen[0]["endring"] == "+1,6"
        utsira = text(find(page_layout("/metode")(kommune="1151"), "metode-endringer"))
        assert "SSB reviderte ingen tall for Utsira ved siste henting" in utsira
        en = text(find(page_layout("/metode")(kommune="0301", lang="en"), "metode-endringer"))
        assert "Changes at the last fetch" in en and "Largest revisions for Oslo" in en
    finally:
        data.configure(Settings.from_env())
