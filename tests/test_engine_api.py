"""The engine API on real data: driver table against a naive pandas computation, conventions, reasons,
errors, load_panel through the store readers, and `drivers show`."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from engine_data import build_duckdb, shared_frames, shared_panel

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.cli import main
from drivers.engine import api, indicators
from drivers.errors import UserError
from drivers.loading import load_panel

CONTRACT = ["indicator", "region", "year", "value", "unit", "status", "peer_value", "peer_set", "convention",
            "n_peers", "rank", "gap_nok", "gap_need_corrected_nok", "reason"]


@pytest.fixture(scope="module")
def panel():
    return shared_panel()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_duckdb(tmp_path_factory.mktemp("engine") / "engine.duckdb")


def naive_peer_values(region: str, year: int, service: str, group_of: dict[str, str],
                      include_self: bool = False) -> tuple[float, float]:
    """Σ NDU / Σ residents and mean of per-resident over the KOSTRA group, with or without the region itself
    (pandas only); NaN when the group has no other member (Oslo in EKG13)."""
    f = shared_frames()
    obs = f["observations"]
    nd = obs[(obs["year"] == year) & (obs["dims"] == f"KOKart0000=AGD2;KOKfunksjon0000={service}")]
    nd = nd.set_index("region")["value"]
    pop = f["population"]
    res = pop[pop["year"] == year + 1].groupby("region")["persons"].sum()
    peers = [c for c, g in group_of.items() if g == group_of[region] and c != region]
    if not peers:
        return math.nan, math.nan
    peers += [region] if include_self else []
    w = nd[peers].sum() * 1000 / res[peers].sum()
    u = (nd[peers] * 1000 / res[peers]).mean()
    return float(w), float(u)


def test_driver_table_shape_and_contract_columns(panel):
    t = api.driver_table(panel, 2024)
    assert set(CONTRACT) <= set(t.columns)
    assert len(t) == 357 * len(indicators.all())
    assert t["region"].nunique() == 357


@pytest.mark.parametrize("region", ["3222", "0301", "1151", "5001"])
@pytest.mark.parametrize("service", ["FGK7", "FGK9", "FGK2"])
def test_peer_values_equal_a_naive_computation(panel, region, service):
    groups = dict(zip(shared_frames()["groups"]["region"], shared_frames()["groups"]["group_code"], strict=True))
    w, u = naive_peer_values(region, 2024, service, groups, include_self=True)
    we, ue = naive_peer_values(region, 2024, service, groups)
    ind = f"ndu_{service.lower()}_per_innb"
    for convention, expected in (("weighted", w), ("unweighted", u), ("weighted-excl-self", we),
                                 ("unweighted-excl-self", ue)):
        row = api.driver_table(panel, 2024, "kostragruppe", convention, [region]).set_index("indicator").loc[ind]
        if math.isnan(expected):  # Oslo is alone in EKG13
            assert math.isnan(row["peer_value"]) and row["n_peers"] == 0 and "ingen andre kommuner enn" in row["reason"]
            assert row["n_peer_members"] == 0
            continue
        assert row["peer_value"] == pytest.approx(expected, rel=1e-12)
        assert row["gap_nok"] == pytest.approx(row["denominator"] * (row["value"] - expected), rel=1e-9)


def test_weighted_and_unweighted_differ_and_are_named(panel):
    w = api.driver_table(panel, 2024, "landet", "weighted", ["3222"]).set_index("indicator")
    u = api.driver_table(panel, 2024, "landet", "unweighted", ["3222"]).set_index("indicator")
    assert w.loc["ndu_fgk9_per_innb", "peer_value"] != u.loc["ndu_fgk9_per_innb", "peer_value"]
    assert set(w["convention"]) == {"weighted"} and set(u["convention"]) == {"unweighted"}


def test_missing_values_stay_missing_with_a_reason(panel):
    t = api.driver_table(panel, 2024, regions=["3222"]).set_index("indicator")
    row = t.loc["netto_driftsresultat_pct"]
    assert math.isnan(row["value"]) and math.isnan(row["peer_value"])
    assert "drivers fetch --tables 12134" in row["reason"]
    # an SSB rate with no denominator has no honest weighted average
    oslo = api.driver_table(panel, 2024, "landet", "unweighted-excl-self", ["0301"]).set_index("indicator")
    assert oslo.loc["frie_inntekter_per_innb", "value"] == 81240
    assert oslo.loc["frie_inntekter_per_innb", "peer_value"] == pytest.approx((66605 + 62853) / 2)
    assert "uten Oslo" in oslo.loc["frie_inntekter_per_innb", "peer_label"]  # the ASSS choice is labelled
    oslo = api.driver_table(panel, 2024, "landet", "unweighted", ["0301"]).set_index("indicator")
    assert oslo.loc["frie_inntekter_per_innb", "peer_value"] == pytest.approx((81240 + 66605 + 62853) / 3)


def test_need_corrected_gap_is_n_i_times_k_difference(panel):
    t = api.driver_table(panel, 2024, regions=["3222"]).set_index("indicator")
    k = t.loc["ndu_fgk9_per_innb_behovskorr"]
    n = panel.residents_kostra(2024)[panel.check_region("3222")]
    need = 0.9551  # Lørenskog's total DKI 2026 (Grønt hefte, not SSB)
    assert k["gap_nok"] == pytest.approx(n * need * (k["value"] - k["peer_value"]), rel=1e-9)
    assert t.loc["ndu_fgk9_per_innb", "gap_need_corrected_nok"] == k["gap_nok"]


def test_rank_is_among_self_and_peers(panel):
    t = api.driver_table(panel, 2024, "kostragruppe", "weighted")
    sub = t[(t["indicator"] == "ndu_fgk9_per_innb") & (t["region"].isin(api.peer_members(panel, "3222", 2024) + ["3222"]))]
    expected = sub["value"].rank(ascending=False, method="min")
    assert (sub["rank"].to_numpy() == expected.to_numpy()).all()


def test_user_errors(panel):
    with pytest.raises(UserError, match="kommunenummer"):
        api.driver_table(panel, 2024, regions=["9998"])
    with pytest.raises(UserError, match="2019"):
        api.driver_table(panel, 2019)
    with pytest.raises(UserError):
        api.driver_table(panel, 2024, convention="median")
    with pytest.raises(UserError):
        api.timeseries(panel, "3222", "no_such_indicator")
    with pytest.raises(UserError):
        api.decompose(panel, "3222", 2024, "FGK99")


def test_profile_and_summary(panel):
    prof = api.profile(panel, "3222", 2024)
    assert prof["population"] == 50013 and prof["kostragruppe"] == "EKG10" and prof["need_index"] == 0.9551
    assert "ikke SSB" in prof["need_note"]
    text = api.summary_text(panel, "3222", 2024)
    g = api.gaps(panel, "3222", 2024).set_index("service")
    biggest = g.drop("TOTAL")["gap_nok"].abs().idxmax()
    assert biggest == "FGK9"
    millions = f"{abs(g.loc['FGK9', 'gap_nok']) / 1e6:.1f}".replace(".", ",")
    assert "Lørenskog" in text and f"{millions} mill. kr mindre" in text and "helse og omsorg" in text


def test_gap_total_row_is_the_agd1_total(panel):
    g = api.gaps(panel, "3222", 2024).set_index("service")
    assert g.loc["TOTAL", "ndu_1000kr"] == 3183337.0  # 12362 AGD1, Lørenskog 2024
    assert g.loc["FGK7", "per_resident"] == pytest.approx(568522.0 * 1000 / 50013)


def test_load_panel_reads_the_store_and_gives_the_same_numbers(panel, db):
    from drivers import store

    con = store.connect(db, read_only=True)
    try:
        p2 = load_panel(con)
    finally:
        con.close()
    a = api.driver_table(panel, 2024, regions=["3222", "4601"])
    b = api.driver_table(p2, 2024, regions=["3222", "4601"])
    pd.testing.assert_series_equal(a["value"], b["value"])
    pd.testing.assert_series_equal(a["peer_value"], b["peer_value"])
    assert np.array_equal(a["gap_nok"].isna(), b["gap_nok"].isna())


def test_show_json_records(db, capsys):
    assert main(["show", "--region", "3222", "--year", "2024", "--format", "json", "--db", str(db)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == len(indicators.all())
    for key in ["indicator", "region", "year", "value", "unit", "status", "peer_value", "gap_nok"]:
        assert key in records[0]
    bh = next(r for r in records if r["indicator"] == "ndu_fgk7_per_maalgruppe")
    assert round(bh["value"]) == 192981 and bh["region"] == "3222" and bh["year"] == 2024
    missing = next(r for r in records if r["indicator"] == "netto_driftsresultat_pct")
    assert missing["value"] is None and missing["gap_nok"] is None


def test_show_csv_table_and_errors(db, capsys):
    assert main(["show", "--region", "3222", "--format", "csv", "--indicator", "ndu_fgk2_per_innb",
                 "--peers", "landet-uten-oslo", "--convention", "unweighted", "--db", str(db)]) == 0
    out = capsys.readouterr().out.splitlines()  # Norwegian Excel: BOM, semicolons, decimal comma
    assert out[0].startswith("\ufeffindicator;") and len(out) == 2 and "ndu_fgk2_per_innb" in out[1]
    assert main(["show", "--region", "3222", "--format", "csv-plain", "--indicator", "ndu_fgk2_per_innb",
                 "--db", str(db)]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert plain[0].startswith("indicator,") and len(plain) == 2
    assert main(["show", "--region", "3222", "--year", "2024", "--db", str(db), "--what", "gaps"]) == 0
    assert "Helse og omsorg" in capsys.readouterr().out
    assert main(["show", "--region", "9998", "--db", str(db)]) == 2
    assert "kommunenummer" in capsys.readouterr().err
    assert main(["show", "--region", "3222", "--peers", "ingen-slik", "--db", str(db)]) == 2


@pytest.mark.parametrize("peer_set", ["kostragruppe", "fylke", "landet", "landet-uten-oslo"])
@pytest.mark.parametrize("exclude_oslo", [False, True])
@pytest.mark.parametrize("convention", ["weighted", "unweighted", "weighted-excl-self", "unweighted-excl-self"])
def test_group_sum_shortcut_equals_the_matrix_product(panel, peer_set, exclude_oslo, convention):
    from drivers.engine import measures, peers
    from drivers.engine.averages import base, excludes_self, peer_average, rank_within

    comps = [measures.components(panel, i, 2024) for i in indicators.all()]
    v, num, den = (np.column_stack([getattr(c, a) for c in comps]) for a in ("value", "num", "den"))
    m = peers.membership(panel, peer_set, 2024, exclude_self=excludes_self(convention), exclude_oslo=exclude_oslo)
    avg, n_peers = peer_average(m, num, den, v, convention)
    if base(convention) == "weighted":
        avg[:, [j for j, c in enumerate(comps) if not c.weighted_ok]] = np.nan
    alone = (m.sum(axis=1) - np.diagonal(m)) == 0  # Oslo alone in EKG13 / county 03: nothing to compare with
    avg[alone], n_peers[alone] = np.nan, 0
    t = api.driver_table(panel, 2024, peer_set, convention, exclude_oslo=exclude_oslo)
    shape = (panel.n, len(comps))
    np.testing.assert_allclose(t["peer_value"].to_numpy(float).reshape(shape), avg, rtol=1e-9)
    assert np.array_equal(t["n_peers"].to_numpy().reshape(shape), n_peers)
    expected_rank = np.where(n_peers > 0, rank_within(m, v), np.nan)
    np.testing.assert_array_equal(t["rank"].to_numpy(float).reshape(shape), expected_rank)


def test_the_snapshot_gives_the_same_numbers_as_the_shared_files(panel):
    """data/snapshot.duckdb (read-only) against the frames read straight from ../shared."""
    from drivers import store
    from drivers.config import Settings

    path = Settings.from_env().snapshot_path
    if not path.exists():
        pytest.skip(f"{path} not built (run `drivers snapshot build`)")
    con = store.connect(path, read_only=True)
    try:
        snap = load_panel(con)
    finally:
        con.close()
    assert list(snap.municipalities) == list(panel.municipalities)
    for year in (2024, 2025):
        a = api.driver_table(panel, year, "kostragruppe", "weighted")
        b = api.driver_table(snap, year, "kostragruppe", "weighted")
        ndu = a["indicator"].str.startswith("ndu_")
        np.testing.assert_allclose(a.loc[ndu, "value"].to_numpy(float), b.loc[ndu, "value"].to_numpy(float), rtol=1e-12)
        np.testing.assert_allclose(a.loc[ndu, "peer_value"].to_numpy(float), b.loc[ndu, "peer_value"].to_numpy(float),
                                   rtol=1e-12)
    # the snapshot holds SSB's key figures for 5 municipalities only: a driver they feed is not split
    dec = api.decompose(snap, "3222", 2024, "FGK7", "fylke").set_index("component")
    assert not dec.loc["coverage", "available"] and "4 av 21" in dec.loc["coverage", "reason"]
    assert dec.loc[dec["available"], "nok"].sum() == pytest.approx(dec.attrs["gap_nok"], abs=0.5)


def test_free_income_corrected_for_need_is_sum_over_need_weighted_residents(panel):
    t = api.driver_table(panel, 2024, "landet", "weighted-excl-self", ["0301"]).set_index("indicator")
    row = t.loc["frie_inntekter_per_innb_behovskorr"]
    need, _ = panel.need_index(2024)
    res = panel.residents_kostra(2024)
    i_osl, i_bgo, i_trd = (panel.check_region(c) for c in ("0301", "4601", "5001"))
    assert row["value"] == pytest.approx(81240 / need[i_osl])
    expected = (66605 * res[i_bgo] + 62853 * res[i_trd]) / (res[i_bgo] * need[i_bgo] + res[i_trd] * need[i_trd])
    assert row["peer_value"] == pytest.approx(expected) and row["n_peers"] == 2
    assert "ikke SSB" in indicators.get("frie_inntekter_per_innb_behovskorr").ssb_definition
