"""The embedded snapshot built from ../shared: what it holds, checked against the sources' own figures."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from shared_data import SHARED, snapshot_db  # noqa: F401  (session fixture)

from drivers import reference, snapshot, store
from drivers.config import Settings
from drivers.errors import UserError

GROUP_SIZES = [40, 18, 9, 39, 33, 28, 38, 13, 27, 13, 10, 11, 1, 25, 36, 8, 8]  # SSB's page, via PROVENANCE.md


@pytest.fixture
def con(snapshot_db):  # noqa: F811
    c = store.connect(snapshot_db, read_only=True)
    yield c
    c.close()


def test_regions_municipalities_groups_and_history(con):
    regions = store.read_regions(con)
    current = regions[(regions["kind"] == "kommune") & regions["valid_to"].isna()]
    assert len(current) == 357 and (current["code"] == current["current_code"]).all()
    assert current.set_index("code").loc["5001", "name"] == "Trondheim - Tråante"
    historical = regions[regions["valid_to"].notna()]
    assert len(historical) == 112 and set(historical["valid_to"]) == {2023}
    assert historical.set_index("code").loc["1507", "current_code"] == "1508"
    assert set(regions.loc[regions["kind"] == "landet", "code"]) == {"EAK", "EAKUO"}
    assert len(regions[regions["kind"] == "fylke"]) == 15
    groups = store.read_kostra_groups(con)
    sizes = groups.groupby("group_code").size()
    assert sizes.index.tolist() == reference.GROUP_CODES and sizes.tolist() == GROUP_SIZES
    assert groups.set_index("region").loc["0301", "group_code"] == "EKG13"
    assert groups.set_index("region").loc["3222", "group_code"] == "EKG10"
    changes = store.read_code_changes(con)
    assert len(changes) == 112 and str(changes.set_index("old_code").loc["1507", "valid_to"])[:10] == "2023-12-31"


def test_population(con):
    pop = store.read_population(con)
    nation = pop[pop["region"] == "EAK"].groupby("year")["persons"].sum()
    assert nation[2024] == 5_550_203 and nation[2025] == 5_594_340 and nation[2026] == 5_627_400
    assert sorted(pop["year"].unique()) == list(range(2015, 2027))
    assert pop["region"].nunique() == 357 + 15 + 1
    assert pop["age"].min() == 0 and pop["age"].max() == 105
    # Lørenskog 1.1.2025 = the workbook's «Innbyggere 2024» (PROVENANCE.md)
    assert pop[(pop["region"] == "3222") & (pop["year"] == 2025)]["persons"].sum() == 50_013


def test_net_expenditure_from_the_lippen_copy(con):
    ndu = store.read_observations(con, measures=["ndu_1000kr"], years=[2024, 2025])
    assert set(ndu["table_id"]) == {"12362"} and set(ndu["contents_code"]) == {""}
    total = ndu[(ndu["dims"] == "KOKart0000=AGD1")].set_index(["region", "year"])["value"]
    assert total[("0301", 2024)] == 64_600_013
    fgk9 = ndu[ndu["dims"] == "KOKart0000=AGD2;KOKfunksjon0000=FGK9"].set_index(["region", "year"])["value"]
    assert fgk9[("0301", 2024)] == 18_607_632
    y24, y25 = ndu[ndu["year"] == 2024], ndu[ndu["year"] == 2025]
    assert y24["dims"].nunique() == 10 and y25["dims"].nunique() == 7
    assert "KOKart0000=AGD1" not in set(y25["dims"])
    municipalities = ndu[ndu["region"].str.fullmatch(r"\d{4}")]
    assert municipalities["region"].nunique() == 357
    assert set(ndu["region"]) - set(municipalities["region"]) == {"EAK", *reference.GROUP_CODES}
    assert ndu["value"].notna().all()
    table = store.read_tables(con).set_index("table_id").loc["12362"]
    assert table["origin"] == "snapshot" and "Lippen1995" in table["note"]


def test_12134_response_and_vestland(con):
    obs = store.read_observations(con, tables=["12134"])
    fi = obs[obs["contents_code"] == "KOSAG110000"]
    assert fi["value"].tolist() == [81240, 66605, 62853] and set(fi["measure"]) == {"frie_inntekter_per_innbygger_kr"}
    ndr = obs[obs["contents_code"] == "KOSAGD230000"].set_index("region")
    assert len(ndr) == 43 and ndr.loc["4601", "value"] == 1.0 and ndr.index.str.startswith("46").all()
    nulls = ndr[ndr["value"].isna()]
    assert sorted(nulls.index) == ["4628", "4633", "4637"] and nulls["status"].isna().all()
    table = store.read_tables(con).set_index("table_id").loc["12134"]
    assert table["release"] == "foreløpig" and "status NULL" in table["note"]


def test_lorenskog_workbook_and_its_kostragruppe_8_column(con):
    wb = store.read_observations(con, tables=["lorenskog-xlsx"])
    assert set(wb["region"]) == {"3222", "EAK", "EAKUO", "EKG08", "0301", "3205", "3220", "3224"}
    # the «Kostragr. 8» column is EKG08: its residents 2024 equal EKG08's sum of 1.1.2025 in the population file
    groups = store.read_kostra_groups(con)
    pop = store.read_population(con)
    ekg08 = pop[pop["region"].isin(groups.loc[groups["group_code"] == "EKG08", "region"]) & (pop["year"] == 2025)]
    innbyggere = wb[wb["dims"].str.startswith("indikator=innbyggere;") & (wb["year"] == 2024)].set_index("region")
    assert innbyggere.loc["EKG08", "value"] == ekg08["persons"].sum() == 158_586
    # a cell the SSB response holds is stored once (from the response)
    oslo = store.read_observations(con, measures=["frie_inntekter_per_innbygger_kr"], regions=["0301"], years=[2024])
    assert oslo["table_id"].tolist() == ["12134"] and oslo["value"].tolist() == [81240]
    assert wb[(wb["region"] == "3222") & (wb["measure"] == "netto_driftsresultat_pct")].set_index("year")["value"].to_dict() \
        == {2024: 0.2, 2025: 4.0}
    note = store.read_tables(con).set_index("table_id").loc["lorenskog-xlsx", "note"]
    assert "Kostragr. 8" in note and "uverifisert" in note


def test_need_index_is_marked_not_ssb(con):
    need = store.read_need_index(con)
    total = need[need["sector"] == "total"]
    assert len(total) == 355 and set(need["year"]) == {2026}
    assert total.set_index("region").loc["3222", "value"] == 0.9551
    assert need["source"].str.startswith("IKKE SSB").all()


def test_boundaries_match_the_municipalities(con):
    kom = json.loads(store.read_boundaries(con, "kommune", "S"))
    regions = store.read_regions(con)
    current = set(regions.loc[(regions["kind"] == "kommune") & regions["valid_to"].isna(), "code"])
    assert {f["id"] for f in kom["features"]} == current
    assert len(json.loads(store.read_boundaries(con, "kommune", "M"))["features"]) == 357
    assert len(json.loads(store.read_boundaries(con, "fylke", "S"))["features"]) == 15


def test_input_hashes_match_provenance(con):
    meta = store.read_meta(con)
    listed = {}
    for folder in ("ssb",):
        text = (SHARED / folder / "PROVENANCE.md").read_text("utf-8")
        for digest, rel in re.findall(r"^([0-9a-f]{64})\s+(\S+)$", text, flags=re.M):
            listed[f"{folder}/{rel}"] = digest
    listed["ssb/" + reference.LIPPEN_NDU.split("/", 1)[1]] = re.search(r"sha256 `([0-9a-f]{64})`", text).group(1)
    hashed = {k.removeprefix("sha256:"): v for k, v in meta.items() if k.startswith("sha256:")}
    common = set(listed) & set(hashed)
    assert len(common) >= 10
    assert {k: hashed[k] for k in common} == {k: listed[k] for k in common}
    assert meta["built_by"] == "drivers snapshot build" and meta["built_at"].endswith("Z")


def test_describe_says_what_is_held_and_missing(con, snapshot_db):  # noqa: F811
    d = snapshot.describe(con)
    held = {(h["table_id"], h["measure"]): h for h in d["observations"]}
    ndu = held[("12362", "ndu_1000kr")]
    assert ndu["years"] == list(range(2015, 2026)) and ndu["municipalities"] == 357
    assert held[("12209", "pleie_andel_80_hjemmetjenester_pct")]["values"] == 354
    assert held[("13502", "barnehage_andel_1_2_pct")]["years"] == list(range(2015, 2024))
    lacks = " ".join(m["what"] for m in d["missing"])
    assert "12292" in " ".join(" ".join(m["tables"]) for m in d["missing"]) and "AGD4" in lacks
    assert d["population"]["first_year"] == 2015 and d["population"]["last_year"] == 2026
    assert any("drivers fetch --tables" in (m["command"] or "") for m in d["missing"])
    assert "drivers fetch" in d["fetch_command"]
    # the 2020 mergers summed from their parts (for the Metode page) and what still lacks 2015-2019
    assert len(d["backcast_sums"]) >= 30 and d["backcast_sums"]["3203"]["parts"] == ["0220", "0627", "0628"]
    assert "5001" in d["no_backcast"] and "3203" not in d["no_backcast"]
    assert snapshot_db.stat().st_size < 20_000_000


def _partial_shared(tmp_path, leave_out: str):
    """A copy of ../shared (symlinks) without one file."""
    root = tmp_path / "shared"
    for src in reference.input_files(SHARED):
        rel = src.relative_to(SHARED)
        if str(rel) == leave_out:
            continue
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(src)
    return root


def test_build_is_atomic(tmp_path, snapshot_db, monkeypatch):  # noqa: F811
    out = tmp_path / "snapshot.duckdb"
    shutil.copyfile(snapshot_db, out)
    before = out.read_bytes()
    with pytest.raises(UserError, match="missing"):
        snapshot.build(_partial_shared(tmp_path, reference.LIPPEN_NDU), out)

    def boom(shared):
        raise RuntimeError("failure late in the build")

    monkeypatch.setattr(reference, "ratedata_2015", boom)
    with pytest.raises(RuntimeError):
        snapshot.build(SHARED, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["snapshot.duckdb"]


def test_the_committed_snapshot_is_built_from_the_current_files():
    path = Settings().snapshot_path
    if not path.exists():
        pytest.skip(f"{path} is not there (run `drivers snapshot build`)")
    con = store.connect(path, read_only=True)
    try:
        meta = store.read_meta(con)
    finally:
        con.close()
    for src in reference.input_files(SHARED):
        assert meta[f"sha256:{src.relative_to(SHARED)}"] == snapshot.sha256(src), src
    assert path.stat().st_size < 20_000_000
    assert isinstance(pd.Timestamp(meta["built_at"]), pd.Timestamp)
