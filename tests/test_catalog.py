"""The catalog (src/drivers/catalog.json) against the brief's tables and measure ids and against real metadata."""

from __future__ import annotations

import csv
import json
import re

import pytest
from fakessb.tables import FIXTURE_12134, POPULATION_CSV, table_07459

from drivers import catalog

AGREED = {"ndu_1000kr", "kbdu_1000kr", "ndu_per_innbygger_kr", "frie_inntekter_per_innbygger_kr",
          "netto_driftsresultat_pct", "fri_egenkapital_drift_pct", "langsiktig_gjeld_pct",
          "barnehage_andel_1_5_pct", "barnehage_ndu_per_1_5_kr", "grunnskole_ndu_per_6_15_kr",
          "pleie_andel_80_institusjon_pct"}


def test_tables_and_measure_ids_of_the_brief_are_catalogued():
    entries = catalog.entries()
    assert {"12362", "12134", "13502", "12255", "12209", "12293", "12279", "14019", "07459"} <= set(entries)
    ids = [m["id"] for e in entries.values() for m in e.measures]
    assert AGREED <= set(ids) and len(ids) == len(set(ids))
    for e in entries.values():
        assert e.verified and isinstance(e.codes_verified, bool)
        assert all(m["verified"] in ("V", "C") for m in e.measures)
        named_all_v = bool(e.measures) and all(m["verified"] == "V" for m in e.measures)
        assert e.codes_verified == named_all_v or e.kind == "population", e.id


def test_unknown_table_is_one_clear_message():
    with pytest.raises(catalog.UserError, match="tabell 99999 er ikke i katalogen"):
        catalog.get("99999")


def test_12134_recipe_on_the_recorded_response():
    doc = json.loads(FIXTURE_12134.read_text(encoding="utf-8"))
    r = catalog.resolve(catalog.get("12134"), doc)
    assert r.selection == {"KOKkommuneregion0000": ["0301", "4601", "5001"], "ContentsCode": ["KOSAG110000"],
                           "Tid": ["2024"]}
    assert r.region_dim == "KOKkommuneregion0000" and r.time_dim == "Tid"
    assert r.problems == ["12134: 19 aggregat(er) finnes ikke i KOKkommuneregion0000: EAK, EAKUO, " +
                          ", ".join(f"EKG{i:02d}" for i in range(1, 18))]


@pytest.mark.skipif(not POPULATION_CSV.exists(), reason="real population data (../shared/ssb) missing")
def test_07459_recipe_eliminates_sex_and_keeps_every_age():
    meta = table_07459().metadata()
    r = catalog.resolve(catalog.get("07459"), meta, years=(2020, 2022), regions=["0301", "9999"])
    assert "Kjonn" not in r.selection and len(r.selection["Alder"]) == 106
    assert r.selection["Region"] == ["0301"] and r.selection["Tid"] == ["2020", "2021", "2022"]
    assert "07459: region 9999 finnes ikke i tabellen (not in the table)" in r.problems


# ---- codes from ../shared/ssb/derived/contentscodes_found.csv ------------------------------------------------------

CODES_CSV = FIXTURE_12134.parents[1] / "derived" / "contentscodes_found.csv"
STYLE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def _csv_rows() -> list[dict]:
    if not CODES_CSV.exists():
        pytest.skip(f"{CODES_CSV} missing (../shared is not here)")
    with open(CODES_CSV, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _catalogued() -> dict[tuple[str, str], dict]:
    return {(tid, m["contents"]): m for tid, e in catalog.entries().items() for m in e.measures if m.get("contents")}


def test_every_csv_row_with_a_definite_table_is_catalogued_with_its_source_or_listed_with_a_reason():
    rows = _csv_rows()
    assert len(rows) == 47
    have = _catalogued()
    left_out = {(n["table"], n["contents"]): n["reason"] for n in catalog.not_catalogued()}
    definite = [r for r in rows if re.fullmatch(r"\d{5}", r["table"])]
    assert len(definite) == 37
    for r in definite:
        key = (r["table"], r["contents_code"])
        if key in left_out:
            assert len(left_out[key]) > 40, key  # a reason, not a placeholder
            continue
        assert key in have, f"{key} is neither catalogued nor listed with a reason"
        sources = have[key]["sources"]
        assert any((s["repo"], s["path"], s["commit"], s["confidence"]) ==
                   (r["repo"], r["path"], r["commit"], r["confidence"]) for s in sources), key
    # the 'likely' rows: catalogued (and flagged as such) under the table the row names first, or listed
    for r in rows:
        if r in definite:
            continue
        listed = any(n["contents"] == r["contents_code"] for n in catalog.not_catalogued())
        placed = [m for (t, c), m in have.items() if c == r["contents_code"] and t in r["table"]]
        assert listed or placed, r["contents_code"]
        if placed and "likely" in r["table"]:  # a code only the likely row names is flagged as such
            assert all(m.get("table_confidence") == "likely" or len(m["sources"]) > 1 for m in placed), r["contents_code"]


def test_codes_named_in_the_issue_sit_in_the_tables_the_csv_gives():
    have = _catalogued()
    expect = {("12209", "KOShjtj80aarover0001"): "pleie_andel_80_hjemmetjenester_pct",
              ("12209", "KOSsykhjand80aar0000"): "pleie_andel_80_institusjon_pct",
              ("13502", "KOSandel150000"): "barnehage_andel_1_5_pct",
              ("13502", "KOSandel120000"): "barnehage_andel_1_2_pct",
              ("13502", "KOSutg020000"): "barnehage_ndu_per_1_5_kr",
              ("12255", "KOSregnind20000"): "grunnskole_ndu_per_6_15_kr",
              ("12362", "KOSbelopinnbygge0000"): "ndu_per_innbygger_kr"}
    for key, mid in expect.items():
        assert have[key]["id"] == mid, key
    assert ("12293", "KOSsykhjand80aar0000") not in have  # moved to 12209, as the CSV says
    for code in ("KOSbeboersykehje0000", "KOSkjerne80aarov0000", "KOSlangtid0000", "KOSkorttid0000"):
        assert ("12292", code) in have
    for code in ("KOSinstdispplass0000", "KOSsykehjdisppla0000"):
        assert ("11875", code) in have and have[("11875", code)]["label"].endswith("(antall)")


def test_measure_ids_are_additive_and_in_style():
    ids = [m["id"] for e in catalog.entries().values() for m in e.measures]
    assert len(ids) == len(set(ids))
    assert all(STYLE.match(i) for i in ids), [i for i in ids if not STYLE.match(i)]
    assert AGREED <= set(ids)


def test_a_changed_label_is_one_line_naming_table_code_expected_and_found():
    doc = json.loads(FIXTURE_12134.read_text(encoding="utf-8"))
    entry = catalog.get("12134")
    assert catalog.label_problems(entry, doc) == []  # the recorded label is SSB's own
    doc["dimension"]["ContentsCode"]["category"]["label"]["KOSAG110000"] = "Frie inntekter i kroner per innbygger"
    problems = catalog.label_problems(entry, doc)
    assert problems == ["tabell 12134: koden KOSAG110000 har fått ny etikett hos SSB — ventet «Frie inntekter per "
                        "innbygger (kr)», fant «Frie inntekter i kroner per innbygger» (måltallet "
                        "frie_inntekter_per_innbygger_kr hentes fortsatt; sjekk at det betyr det samme)"]
    assert problems[0] in catalog.resolve(entry, doc).problems  # reported with the fetch's other problems
    doc["dimension"]["ContentsCode"]["category"]["label"]["KOSAG110000"] = "Frie inntekter  per innbygger (kr) "
    assert catalog.label_problems(entry, doc) == []  # whitespace is not a change
