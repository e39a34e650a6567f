"""SSB's own group figures are the default peer values (issue 11), on the embedded snapshot (real data).

SSB's KOSTRA group, county and country figures include the municipality itself and are sum over sum. Our sum
over the members must equal SSB's published aggregate wherever every member has a figure, and where SSB's
aggregate is in the data it is the peer value the pages show. Leaving the municipality out (ASSS) is a
choice, labelled so."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from engine_data import snapshot_panel

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.engine import api, indicators

SERVICES = [s for s in indicators.services()]


@pytest.fixture(scope="module")
def panel():
    return snapshot_panel()


def _rows(panel, measure: str, dims: str, year: int) -> pd.Series:
    obs = panel.observations
    sel = obs[(obs["measure"] == measure) & (obs["dims"] == dims) & (obs["year"] == year) & obs["value"].notna()]
    return sel.set_index("region")["value"]


@pytest.mark.parametrize("year", [2024, 2025])
def test_members_add_up_to_ssbs_group_amounts(panel, year):
    """Σ members' net expenditure (1000 kr) = SSB's EKG and EAK amount, for every group and service with both."""
    checked = 0
    for service in [*SERVICES, "TOTAL"]:
        dims = "KOKart0000=AGD1" if service == "TOTAL" else f"KOKart0000=AGD2;KOKfunksjon0000={service}"
        amounts = _rows(panel, "ndu_1000kr", dims, year)
        own = amounts.reindex(panel.municipalities)
        if own.isna().all():
            continue
        for group in sorted({g for g in panel.group if g}) + ["EAK"]:
            if group not in amounts.index:
                continue
            mask = np.ones(panel.n, bool) if group == "EAK" else panel.group == group
            if own[mask].isna().any():
                continue
            # each member's amount is rounded to 1000 kr, as is the group's: the sum may differ by one per member
            assert abs(own[mask].sum() - amounts[group]) <= 0.5 * (mask.sum() + 1), (service, group)
            checked += 1
    assert checked >= (7 if year == 2025 else 9) * 18  # every group and the country, every service with figures


@pytest.mark.parametrize("year", [2024, 2025])
def test_default_kostra_group_figure_is_ssbs(panel, year):
    """The default peer value equals SSB's published group figure for every municipality and service."""
    t = api.driver_table(panel, year, "kostragruppe", "weighted")
    per_innb = t[t["indicator"].isin([f"ndu_{s.lower()}_per_innb" for s in SERVICES]) & t["value"].notna()
                 & (t["n_peer_members"] > 0)]
    assert len(per_innb) >= 7 * 356
    assert (per_innb["peer_source"] == "ssb").all()
    np.testing.assert_allclose(per_innb["peer_value"].to_numpy(float), per_innb["ssb_peer_value"].to_numpy(float))
    # and that figure is our own sum over the members, the municipality included
    for region in ("3201", "1151", "3222", "4601"):
        i = panel.check_region(region)
        members = panel.group == panel.group[i]
        ndu = _rows(panel, "ndu_1000kr", "KOKart0000=AGD2;KOKfunksjon0000=FGK9", year).reindex(panel.municipalities)
        residents = panel.residents(year + 1)
        ours = ndu[members].sum() * 1000 / residents[members].sum()
        row = per_innb[(per_innb["region"] == region) & (per_innb["indicator"] == "ndu_fgk9_per_innb")].iloc[0]
        assert row["peer_value"] == pytest.approx(ours, rel=1e-9)


def test_baerums_group_figure_is_the_one_kommunefakta_shows(panel):
    """Issue 11's anchor: SSB publishes 28 012 kr per resident for KOSTRA group 12, health and care, 2024; the
    old default (Bærum left out) gave 27 621."""
    row = api.driver_table(panel, 2024, "kostragruppe", "weighted", ["3201"]).set_index("indicator").loc["ndu_fgk9_per_innb"]
    assert round(row["peer_value"]) == 28012
    asss = api.driver_table(panel, 2024, "kostragruppe", "weighted-excl-self", ["3201"]).set_index("indicator")
    assert round(asss.loc["ndu_fgk9_per_innb", "peer_value"]) == 27621
    assert asss.loc["ndu_fgk9_per_innb", "peer_label"] == "KOSTRA-gruppe 12 uten Bærum"
    assert math.isnan(asss.loc["ndu_fgk9_per_innb", "ssb_peer_value"])  # never claimed to be SSB's


@pytest.mark.parametrize("year", [2015, 2019, 2021, 2023])
def test_before_2024_the_country_figure_is_ssbs_own(panel, year):
    """2015–2023: municipalities merged in 2020 (and Ålesund/Haram, split in 2024) have no figures on today's
    codes, so a sum over today's members would miss them; SSB's own EAK figure is the peer value instead."""
    t = api.driver_table(panel, year, "landet", "weighted", ["3222"]).set_index("indicator")
    ssb = _rows(panel, "ndu_per_innbygger_kr", "KOKart0000=AGD2;KOKfunksjon0000=FGK9", year)
    assert t.loc["ndu_fgk9_per_innb", "peer_value"] == ssb["EAK"]
    assert t.loc["ndu_fgk9_per_innb", "peer_source"] == "ssb"
    # the members we hold do not reach SSB's country figure: leaving the aggregate unused would be wrong
    members = api.group_value(panel, "ndu_fgk9_per_innb", year, "landet")
    assert abs(members - ssb["EAK"]) > 1


def test_the_asss_convention_is_labelled_wherever_it_is_used(panel):
    g = api.gaps(panel, "3222", 2024, "kostragruppe", "weighted-excl-self")
    assert g.attrs["peer_label"] == "KOSTRA-gruppe 10 uten Lørenskog"
    assert "uten kommunen selv" in g.attrs["convention_nb"]
    text = api.summary_text(panel, "3222", 2024, "kostragruppe", "weighted-excl-self")
    assert "uten Lørenskog" in text and "uten kommunen selv" in text
    assert "kommunen selv med" in api.summary_text(panel, "3222", 2024, "kostragruppe", "weighted")


def test_oslo_alone_in_its_group_gets_no_comparison(panel):
    """Oslo is EKG13's only member: SSB's EKG13 figure is Oslo's own, so there is nothing to compare with."""
    t = api.driver_table(panel, 2024, "kostragruppe", "weighted", ["0301"])
    assert t["peer_value"].isna().all() and (t["n_peer_members"] == 0).all()
    assert t["reason"].str.contains("gruppens tall er kommunens egne").all()
