"""The 2015-2023 series in the snapshot (12362, 12137, 13502) and 12209 2025, checked against the source files."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from shared_data import DERIVED, SHARED, snapshot_db  # noqa: F401  (session fixture)

from drivers import reference, snapshot, store

FGK9 = "KOKart0000=AGD2;KOKfunksjon0000=FGK9"
TOTAL = "KOKart0000=AGD1"


@pytest.fixture
def con(snapshot_db):  # noqa: F811
    c = store.connect(snapshot_db, read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def source_fgk9():
    return pd.read_csv(DERIVED / "lippen_index_2015-2023_service_FGK9.csv")


def _series(con, measure, dims, region=None):
    obs = store.read_observations(con, measures=[measure], regions=region)
    return obs[obs["dims"] == dims].set_index(["region", "year"])["value"]


def test_fgk9_2015_2025_for_most_municipalities(con):
    fgk9 = _series(con, "ndu_1000kr", FGK9).reset_index()
    kom = fgk9[fgk9["region"].str.fullmatch(r"\d{4}")]
    per_year = kom.groupby("year")["region"].nunique()
    assert per_year.index.tolist() == list(range(2015, 2026))
    assert (per_year >= 300).all(), per_year.to_dict()
    assert per_year[2024] == 357 and per_year[2023] == 355  # 1508 Ålesund and 1580 Haram have no 2023 figure
    regions = store.read_regions(con)
    current = set(regions.loc[(regions["kind"] == "kommune") & regions["valid_to"].isna(), "code"])
    assert set(kom["region"]) <= current  # only 2024 codes


def test_trondheim_and_alesund_other_territories_are_left_out(con):
    for measure, dims in [("ndu_1000kr", FGK9), ("ndu_per_innbygger_kr", TOTAL)]:
        s = _series(con, measure, dims)
        trondheim = sorted(y for r, y in s.index if r == "5001")
        assert not set(range(2015, 2020)) & set(trondheim)
        assert set(range(2020, 2024)) <= set(trondheim)
        assert not {y for r, y in s.index if r == "1508"} & set(range(2015, 2024))
    debt = store.read_observations(con, measures=["netto_lanegjeld_1000kr"], regions=["5001", "1508"])
    assert debt.empty
    meta = store.read_meta(con)
    dropped = {(d["code"], d["target"], d["year"]) for d in json.loads(meta["dropped_12362_12137"])}
    assert {("5001", "5001", y) for y in range(2015, 2020)} <= dropped
    assert {("1507", "1508", y) for y in range(2020, 2024)} <= dropped
    assert json.loads(meta["territory_differs"])["1507"] == [2020, 2021, 2022, 2023]


def test_renumbered_lorenskog_has_2015_2023_from_its_old_codes(con, source_fgk9):
    s = _series(con, "ndu_1000kr", FGK9, ["3222"])
    assert [y for _r, y in s.index] == list(range(2015, 2026))
    src = source_fgk9.set_index(["entity", "year"])["amount_nok_1000"]
    assert s[("3222", 2021)] == src[("municipality:3029", 2021)]  # 3029 -> 3222 by the 2024 code history
    assert s[("3222", 2016)] == src[("municipality:3222", 2016)] == src[("municipality:0230", 2016)]
    pc = _series(con, "ndu_per_innbygger_kr", FGK9, ["3222"])
    assert pc[("3222", 2021)] == source_fgk9.set_index(["entity", "year"])["per_capita_nok"][("municipality:3029", 2021)]


def test_nation_and_groups(con):
    fgk9 = _series(con, "ndu_1000kr", FGK9)
    assert fgk9[("EAK", 2015)] == 95_045_027
    assert _series(con, "ndu_per_innbygger_kr", FGK9)[("EAK", 2015)] == 18_229
    ndu = store.read_observations(con, tables=["12362"])
    groups = ndu[ndu["region"].str.startswith("EKG")]
    old = groups[groups["year"] < 2020]
    assert len(old) and old["dims"].str.endswith(";gruppering=pre2020").all()
    assert not groups.loc[groups["year"] >= 2020, "dims"].str.contains("gruppering").any()
    assert "EAFK" not in set(ndu["region"])
    counties = ndu[ndu["region"].str.fullmatch(r"\d{2}")]
    assert set(counties["year"]) == {2020, 2021, 2022, 2023}
    assert set(counties["region"]) == {"03", "11", "15", "18", "34", "42", "46", "50"}
    assert counties["dims"].str.endswith(";enhet=fylkeskommune").all()  # county authorities' accounts
    assert counties.set_index(["region", "year", "measure"])["value"][("03", 2022, "ndu_1000kr")] == 58_302_603


def test_no_duplicate_cells(con):
    dup = store.read_frame(con, """SELECT table_id, region, year, contents_code, dims, measure, count(*) AS n
                                   FROM observations GROUP BY ALL HAVING count(*) > 1""")
    assert dup.empty, dup.head()


def test_every_stored_municipality_year_matches_its_population(con):
    """amount x 1000 / SSB's per-capita figure = the 2024 municipality's residents 1.1. year+1 within 2 %."""
    obs = store.read_observations(con, tables=["12362", "12137"], years=range(2015, 2024))
    obs = obs[obs["region"].str.fullmatch(r"\d{4}")]
    wide = obs.pivot_table(index=["region", "year", "dims", "table_id"], columns="measure", values="value")
    amount = wide["ndu_1000kr"].fillna(wide["netto_lanegjeld_1000kr"])
    pc = wide["ndu_per_innbygger_kr"].fillna(wide["netto_lanegjeld_per_innbygger_kr"])
    pop = store.read_population(con).groupby(["region", "year"])["persons"].sum()
    real = np.array([pop[(r, y + 1)] for r, y, _d, _t in wide.index], dtype=float)
    big = pc.abs().to_numpy() >= 100  # smaller per-capita figures are too rounded to tell
    assert big.sum() > 10_000
    deviation = (amount * 1000 / pc).to_numpy()[big] / real[big] - 1
    assert np.abs(deviation).max() <= 0.0205


def _source(metric_file: str) -> pd.Series:
    frame = pd.read_csv(DERIVED / metric_file, dtype={"entity": str})
    return frame.set_index(["entity", "year"])["amount_nok_1000"]


def test_lillestrom_2016_is_the_sum_of_skedsmo_fet_and_sorum(con):
    """3205 Lillestrøm = 0231 Skedsmo + 0227 Fet + 0226 Sørum (merged 1.1.2020), the amounts as in the source."""
    src = _source("lippen_index_2015-2023_service_FGK9.csv")
    parts = sum(src[(f"municipality:{c}", 2016)] for c in ("0231", "0227", "0226"))
    s = _series(con, "ndu_1000kr", FGK9, ["3205"])
    assert s[("3205", 2016)] == parts
    total = _source("lippen_index_2015-2023_net_expenses.csv")
    assert _series(con, "ndu_1000kr", TOTAL, ["3205"])[("3205", 2017)] == sum(
        total[(f"municipality:{c}", 2017)] for c in ("0231", "0227", "0226"))
    debt = _source("lippen_index_2015-2018_debt.csv")
    held = store.read_observations(con, measures=["netto_lanegjeld_1000kr"], regions=["3205"])
    assert held.set_index("year")["value"][2016] == sum(debt[(f"municipality:{c}", 2016)] for c in ("0231", "0227", "0226"))
    # 2019: the parts' residents exceed today's Lillestrøm by 0.8 % (a part moved on 1.1.2020): not written
    assert ("3205", 2019) not in s.index
    meta = store.read_meta(con)
    sums = json.loads(meta["backcast_sums"])["3205"]
    assert sums["parts"] == ["0226", "0227", "0231"] and sums["years"] == [2015, 2016, 2017, 2018]
    assert "Skedsmo (-2019)" in sums["names"] and "2019" in json.loads(meta["no_backcast"])["3205"]
    note = store.read_tables(con).set_index("table_id").loc["12362", "note"]
    assert "3205 Lillestrøm 2015-2018 = 0226 + 0227 + 0231" in note


@pytest.fixture(scope="module")
def backcast():
    series = reference.kostra_series_2024(SHARED)
    return series, reference.lippen_index(SHARED), reference.residents_31_december(reference.population(SHARED))


def _implied(raw: pd.DataFrame) -> dict:
    """Residents implied per (code, year) by the source: amount x 1000 / per capita of the row with the largest
    |per capita| (recomputed here from the files, not taken from the module)."""
    mun = raw[(raw["kind"] == "municipality") & (raw["per_capita_nok"].abs() > 0)]
    mun = mun.assign(_abs=mun["per_capita_nok"].abs()).sort_values("_abs", ascending=False)
    best = mun.drop_duplicates(["code", "year"])
    return {(c, int(y)): a * 1000 / p for c, y, a, p in
            zip(best["code"], best["year"], best["amount_nok_1000"], best["per_capita_nok"], strict=True)}


def test_merged_municipalities_are_back_cast_and_every_set_sums(con, backcast):
    series, raw, residents = backcast
    sums = json.loads(store.read_meta(con)["backcast_sums"])
    assert len(sums) >= 30, len(sums)
    assert {"3205", "3203", "3301", "4204", "5530"} <= set(sums)
    implied = _implied(raw)
    worst = 0.0
    ndu = _series(con, "ndu_1000kr", TOTAL).reset_index()
    held = ndu.groupby("region")["year"].agg(set).to_dict()
    for code, entry in sums.items():
        for year in entry["years"]:
            parts = entry["parts_by_year"][str(year)]
            dev = sum(implied[(c, year)] for c in parts) / residents[(code, year)] - 1
            assert abs(dev) <= reference.BACKCAST_TOLERANCE, (code, year, dev)
            worst = max(worst, abs(dev))
        # every year 2015-2019 is accounted for: the code's own figures, a written sum, or named as left out
        own = {y for y in held.get(code, set()) if y < 2020} - set(entry["years"])
        assert own | set(entry["years"]) | {int(y) for y in entry["left_out"]} == set(range(2015, 2020)), code
        assert abs(entry["max_rel_error"]) <= reference.BACKCAST_TOLERANCE
    assert worst == pytest.approx(max(e["max_rel_error"] for e in sums.values()))
    assert worst < 0.001  # measured: 5.5e-4 (Stavanger 2019); most sets below 4e-5
    assert series["backcast"]["county_check"] == []  # the county map allows every proven renumbering


def test_split_and_other_territories_stay_missing(con):
    """Ålesund/Haram (csdata splits 1507 by weight before 2024), Trondheim (its own part lacks 2018-2019 and
    5001 carries Klæbu's), Narvik/Hamarøy (Tysfjord split) and Heim/Hitra/Orkland (Snillfjord split)."""
    meta = store.read_meta(con)
    sums, missing = json.loads(meta["backcast_sums"]), json.loads(meta["no_backcast"])
    for code in ("1508", "1580", "5001", "1806", "1875", "5055", "5056", "5059"):
        assert code not in sums and code in missing, code
    for measure, dims in [("ndu_1000kr", FGK9), ("ndu_1000kr", TOTAL)]:
        s = _series(con, measure, dims)
        assert not {y for r, y in s.index if r == "5001"} & set(range(2015, 2020))
        assert not {y for r, y in s.index if r == "1508"} & set(range(2015, 2024))
        assert not {y for r, y in s.index if r in ("1806", "1875", "5055")} & set(range(2015, 2020))
    assert "delvis grenseendring" in missing["4602"]  # Kinn: the parts are 3.1 % more than today's Kinn in 2019
    assert "4602" not in sums


def test_no_rate_is_summed(con):
    sums = json.loads(store.read_meta(con)["backcast_sums"])
    rates = store.read_observations(con, measures=["ndu_per_innbygger_kr", "netto_lanegjeld_per_innbygger_kr"],
                                    regions=sorted(sums))
    cells = set(zip(rates["region"], rates["year"], strict=True))
    written = {(c, y) for c, e in sums.items() for y in e["years"]}
    assert written and not written & cells
    amounts = store.read_observations(con, measures=["ndu_1000kr"], regions=sorted(sums), years=range(2015, 2020))
    assert written == set(zip(amounts["region"], amounts["year"], strict=True)) - cells


def test_each_written_merger_is_the_only_set(con, backcast):
    """An independent search per period of every written merger finds exactly its set: all subsets (1-6) of the
    unmapped pre-2020 codes in a plausible county that sum within the identifying bound in every year of the
    period; a period with one such year (Trøndelag 2018) must be the only one that continues the set before."""
    series, raw, residents = backcast
    pool = reference.backcast_pool(series, raw)
    implied = {k: v for k, v in _implied(raw).items() if k in set(zip(pool["code"], pool["year"], strict=True))}
    sums = json.loads(store.read_meta(con)["backcast_sums"])
    checked = 0
    for code, entry in sums.items():
        periods: dict[tuple, list[int]] = {}
        for y, parts in entry["parts_by_year"].items():
            periods.setdefault(tuple(parts), []).append(int(y))
        previous = None
        for parts, years in sorted(periods.items(), key=lambda kv: kv[1]):
            good = [y for y in years if abs(sum(implied[(c, y)] for c in parts) / residents[(code, y)] - 1)
                    <= reference.BACKCAST_IDENTIFY]
            items = [(c, v) for (c, y), v in implied.items()
                     if y == good[0] and code[:2] in reference.PRE2020_COUNTIES.get(c[:2], ())]
            hits = [h for h, _e in reference._subset_sums(items, float(residents[(code, good[0])]),
                                                          reference.BACKCAST_IDENTIFY, 6)
                    if all((c, y) in implied for c in h for y in good)
                    and all(abs(sum(implied[(c, y)] for c in h) / residents[(code, y)] - 1)
                            <= reference.BACKCAST_IDENTIFY for y in good)]
            if len(good) == 1:
                hits = [h for h in hits if previous and reference._linked(previous, (h, years), implied)]
            assert hits == [parts], (code, years, hits[:5])
            previous = (parts, years)
            checked += 1
    assert checked >= 30
    lillestrom = json.loads(store.read_meta(con)["backcast_sums"])["3205"]["parts_by_year"]["2016"]
    assert lillestrom == ["0226", "0227", "0231"]


def test_release_and_provenance_rows(con):
    tables = store.read_tables(con).set_index("table_id")
    assert tables.loc["12362", "release"] == "endelig" and tables.loc["12137", "release"] == "endelig"
    assert tables.loc["13502", "release"] == "endelig"
    assert tables.loc["12209", "release"] == "foreløpig"
    assert str(tables.loc["12209", "updated"])[:10] == "2026-03-16"
    assert "utledet" in tables.loc["12137", "note"] and "KG31" in tables.loc["12137", "note"]
    debt = store.read_observations(con, tables=["12137"])
    assert set(debt["year"]) == {2015, 2016, 2017, 2018}
    assert set(debt["measure"]) == {"netto_lanegjeld_1000kr", "netto_lanegjeld_per_innbygger_kr"}
    assert set(debt.loc[~debt["region"].str.startswith("EKG"), "dims"]) == {""}


def test_12209_coverage_80_plus(con):
    obs = store.read_observations(con, tables=["12209"]).set_index(["measure", "region"])
    home = obs.loc["pleie_andel_80_hjemmetjenester_pct"]
    inst = obs.loc["pleie_andel_80_institusjon_pct"]
    assert len(home) == len(inst) == 357 and home["value"].notna().sum() == 354
    for code in ("1151", "1835", "4629"):  # Utsira, Træna, Modalen: no value in the source
        assert pd.isna(home.loc[code, "value"]) and pd.isna(inst.loc[code, "value"]) and home.loc[code, "status"] is None
    assert inst["value"].notna().sum() == 350
    assert pd.isna(inst.loc["1816", "value"])  # Vevelstad: null in the source, never 0
    assert (inst["value"] != 0).all()
    assert home.loc["3222", "value"] == 17.5 and inst.loc["3222", "value"] == 7.5
    assert home.loc["0301", "value"] == 21.6 and inst.loc["0301", "value"] == 10.4
    assert set(obs["contents_code"]) == {"KOShjtj80aarover0001", "KOSsykhjand80aar0000"} and set(obs.reset_index()["year"]) == {2025}
    note = store.read_tables(con).set_index("table_id").loc["12209", "note"]
    assert all(n in note for n in ("Utsira", "Træna", "Modalen", "Vevelstad", "Berlevåg", "Iveland", "Åseral"))


def test_13502_share_of_children_1_2(con):
    obs = store.read_observations(con, tables=["13502"])
    assert set(obs["contents_code"]) == {"KOSandel120000"} and set(obs["measure"]) == {"barnehage_andel_1_2_pct"}
    s = obs.set_index(["region", "year"])["value"]
    assert [s[("0301", y)] for y in (2020, 2021, 2022, 2023)] == [84.5, 86.1, 86.9, 87.6]
    raw = pd.read_csv(DERIVED / "ssb-13502_KOSandel120000_long_DERIVED-from-xlsm.csv", dtype={"region_code": str})
    assert raw.loc[raw["year"] == 2023, "value_pct"].notna().sum() == 355  # the source's 2020-structure codes
    y2023 = obs[(obs["year"] == 2023) & obs["value"].notna()]
    assert y2023["region"].nunique() == 353  # less 1507 Ålesund (other territory) and 2111 Longyearbyen
    assert not obs["region"].isin(["1507", "2111"]).any()
    alesund = obs[obs["region"] == "1508"]  # only SSB's '.' of 1507 before 2020 (the code did not exist)
    assert alesund["value"].isna().all() and set(alesund["status"]) == {"."} and alesund["year"].max() == 2019
    status = obs[obs["status"].notna()]
    assert len(status) >= 1 and status["value"].isna().all() and set(status["status"]) <= {".", "..", ":"}
    st = obs.set_index(["region", "year"])["status"]
    assert st[("1151", 2023)] == ".." and st[("3205", 2016)] == "."  # Utsira 2023; Lillestrøm (3030) before 2020
    assert (obs["value"] > 100).any()  # real: children attend kindergarten in another municipality
    # renumberings proven by identical 12362 figures: 0101 -> 3101 (2015-2019), 3018 -> 3114 (2020-2023)
    src = raw.set_index(["region_code", "year"])["value_pct"]
    assert s[("3101", 2016)] == src[("0101", 2016)] and s[("3114", 2021)] == src[("3018", 2021)]
    # Trondheim 2018-2019 and Stavanger before 2020 are not proven to be the 2024 territory by 12362
    assert ("5001", 2019) not in s.index and ("1103", 2019) not in s.index
    assert json.loads(store.read_meta(con)["dropped_13502"])["1507"]["years"] == [2020, 2021, 2022, 2023]


def test_13502_csv_agrees_with_the_verbatim_xlsm():
    import openpyxl

    wb = openpyxl.load_workbook(SHARED / reference.BARNEHAGE_13502_XLSM, data_only=True, read_only=True)
    ws = wb["KOSandel120000"]
    cells = {}
    years = None
    for row in ws.iter_rows(values_only=True):
        texts = [str(v) if v is not None else "" for v in row]
        if years is None and sum(bool(re.fullmatch(r"20\d\d", t)) for t in texts) >= 9:
            years = {i: int(t) for i, t in enumerate(texts) if re.fullmatch(r"20\d\d", t)}
            continue
        label = next((t for t in texts if re.match(r"\d{4} ", t)), None)
        if years and label:
            for i, y in years.items():
                cells[(label[:4], y)] = row[i]
    wb.close()
    assert len(cells) > 6000
    raw = pd.read_csv(DERIVED / "ssb-13502_KOSandel120000_long_DERIVED-from-xlsm.csv", dtype={"region_code": str})
    for code, year in [("0301", 2023), ("0101", 2015), ("0230", 2019), ("3029", 2021), ("5001", 2018), ("1507", 2021)]:
        row = raw[(raw["region_code"] == code) & (raw["year"] == year)].iloc[0]
        assert float(cells[(code, year)]) == row["value_pct"]


def test_every_provenance_file_is_loaded_or_said_to_be_left_out():
    text = (SHARED / "ssb" / "PROVENANCE.md").read_text("utf-8")
    listed = set(re.findall(r"`((?:raw|derived)/[^`*…]+\.[a-z.]+)`", text))
    assert len(listed) >= 25
    inputs = {str(p.relative_to(SHARED / "ssb")) for p in reference.input_files(SHARED) if "ssb" in p.parts}
    doc = snapshot.__doc__
    unaccounted = [f for f in listed if f not in inputs and f.split("/", 1)[1] not in doc]
    assert not unaccounted, unaccounted
    for rel in listed:
        assert (SHARED / "ssb" / rel).exists(), rel


def test_new_inputs_hashes_match_the_provenance_tables(con):
    text = (SHARED / "ssb" / "PROVENANCE.md").read_text("utf-8")
    table = dict(re.findall(r"^\| `((?:raw|derived)/[^`]+)` \| `([0-9a-f]{64})` \|", text, flags=re.M))
    meta = store.read_meta(con)
    new = [rel for rel, _d in reference.LIPPEN_INDEX.values()] + [reference.OMSORG_12209, reference.BARNEHAGE_13502]
    for rel in new:
        key = rel.split("/", 1)[1]
        assert meta[f"sha256:{rel}"] == table[key], rel


def test_population_check_refuses_a_wrong_territory_on_the_real_rows():
    """The pure check on real rows: Klæbu's figures under 5001 fail, Trondheim's 2020 figures pass."""
    raw = reference.lippen_index(SHARED)
    rows = raw[(raw["code"] == "5001") & raw["year"].isin([2017, 2021])].assign(target="5001")
    residents = reference.residents_31_december(reference.population(SHARED))
    checked = reference.check_population(rows, residents).set_index("year")
    assert not checked.loc[2017, "population_ok"].any() and checked.loc[2021, "population_ok"].all()
    assert checked.loc[2017, "implied_residents"].max() < 7_000 < 190_000 < checked.loc[2017, "residents"].min()


def test_12209_and_13502_agree_with_the_lorenskog_workbook(con):
    """Two independent copies of SSB's figures: the omsorgsradar/Statbank files and the Lørenskog workbook."""
    wb = store.read_observations(con, tables=["lorenskog-xlsx"])
    wb = wb[wb["region"].str.fullmatch(r"\d{4}")]
    ours = store.read_observations(con, tables=["12209", "13502"]).set_index(["measure", "region", "year"])["value"]
    pairs = {
        "andel_innb_80_som_bruker_hjemmetjenester": "pleie_andel_80_hjemmetjenester_pct",
        "andel_innb_80_med_institusjonsopphold": "pleie_andel_80_institusjon_pct",
        "andel_barn_1_2_ar_i_barnehage": "barnehage_andel_1_2_pct",
    }
    compared = 0
    for slug, measure in pairs.items():
        cells = wb[wb["dims"].str.startswith(f"indikator={slug};")]
        for r in cells.itertuples(index=False):
            key = (measure, r.region, r.year)
            if key in ours.index:
                assert ours[key] == r.value, key
                compared += 1
    assert compared == 10 + 4  # 12209 2025 for 5 municipalities x 2; 13502 2020-2023 for Oslo (the others: 2024-)


def test_12209_weighted_mean_is_ssbs_national_figure(con):
    """The 80+-weighted mean of the home-care share (residents 80+ on 1.1.2026) is SSB's «Landet» 24.8 %."""
    home = store.read_observations(con, measures=["pleie_andel_80_hjemmetjenester_pct"]).set_index("region")["value"]
    pop = store.read_population(con)
    p80 = pop[(pop["year"] == 2026) & (pop["age"] >= 80)].groupby("region")["persons"].sum()
    have = home.dropna()
    mean = (have * p80[have.index]).sum() / p80[have.index].sum()
    landet = store.read_observations(con, tables=["lorenskog-xlsx"], regions=["EAK"], years=[2025])
    landet = landet[landet["dims"].str.startswith("indikator=andel_innb_80_som_bruker_hjemmetjenester;")]
    assert round(mean, 1) == landet["value"].iloc[0] == 24.8
