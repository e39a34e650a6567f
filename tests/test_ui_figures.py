"""Chart template and figure functions (drivers.figures) on real snapshot numbers."""

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from drivers import figures


def test_template_is_registered_and_norwegian():
    tpl = pio.templates[figures.TEMPLATE_NAME]
    assert tpl.layout.separators == ", "  # decimal comma, space for thousands
    assert tpl.layout.font.size >= 16  # projector distance
    assert list(tpl.layout.colorway) == figures.OKABE_ITO
    assert tpl.layout.yaxis.tickformat == ",~f"  # no "12.5k"


def test_highlight_is_reserved_for_the_selected_municipality():
    assert figures.HIGHLIGHT not in (figures.MORE, figures.LESS, figures.NEUTRAL, figures.PEER, figures.COST)


def test_peer_rank_missing_values_are_notes_not_zero_bars():
    frame = pd.DataFrame({"region": ["a", "b", "c"], "name": ["A", "B", "C"], "value": [10.0, np.nan, 5.0],
                          "status": [None, ":", None]})
    chart = figures.peer_rank(frame, "c", "T", "kr", "Kilde: SSB")
    assert list(chart.figure.data[0].y) == ["C", "A"]
    assert chart.notes == ["B: : (vises ikke av konfidensialitetshensyn)"]
    assert chart.rank == (2, 2)
    assert chart.caption == "Kilde: SSB"


def test_waterfall_total_is_the_sum():
    gaps = pd.DataFrame({"service": ["FGK7", "FGK9", "FGK2"], "name": ["Barnehage", "Helse og omsorg", "Kultur"],
                         "gap_nok": [37_759_180.0, -490_509_100.0, np.nan], "reason": [None, None, "mangler"]})
    chart = figures.gap_waterfall(gaps, "Lørenskog", "KOSTRA-gruppe 10", "Kilde")
    bar = chart.figure.data[0]
    assert bar.y[-1] == pytest.approx((37_759_180 - 490_509_100) / 1e6)
    assert bar.text[-1] == "-452,7"
    assert chart.notes == ["Kultur: mangler"]
    assert list(chart.data.columns) == ["Tjeneste", "Avvik (mill. kr)"]


def test_source_line_names_table_year_and_release():
    tables = pd.DataFrame({"table_id": ["12362"], "updated": [pd.Timestamp("2026-03-16")], "release": ["foreløpige"]})
    line = figures.source_line(tables, ["12362"], 2024, "KOSTRA-gruppe 10", "vektet")
    assert line.startswith("Kilde: Statistisk sentralbyrå (SSB), KOSTRA tabell 12362, oppdatert 16.03.2026")
    assert "År 2024" in line and "KOSTRA-gruppe 10" in line and "vektet" in line


def test_timeseries_drops_empty_years_and_draws_norm():
    frame = pd.DataFrame({"year": [2020, 2024, 2025], "value": [np.nan, 0.2, 4.0], "peer_value": [np.nan, np.nan, 2.5]})
    chart = figures.timeseries(frame, "Lørenskog", "Gruppe", "Netto driftsresultat", "%", "Kilde", norm=2.0)
    assert list(chart.figure.data[0].x) == [2024, 2025]
    assert chart.figure.data[0].line.color == figures.HIGHLIGHT
    assert chart.figure.layout.shapes[0].y0 == 2.0


def test_peer_rank_long_lists_keep_selected_and_all_data():
    n = 300
    frame = pd.DataFrame({"region": [f"{i:04d}" for i in range(n)], "name": [f"K{i}" for i in range(n)],
                          "value": np.arange(n, dtype=float), "status": None})
    chart = figures.peer_rank(frame, "0150", "T", "kr", "Kilde")
    names = list(chart.figure.data[0].y)
    assert "K150" in names and "K0" in names and f"K{n - 1}" in names
    assert len(names) <= 31
    assert len(chart.data) == n  # the download has every municipality
    assert chart.rank == (n - 150, n)
    assert chart.notes[0].startswith("Viser")


def test_peer_average_line_says_its_number_in_the_charts_language():
    frame = pd.DataFrame({"region": ["a", "b"], "name": ["A", "B"], "value": [52_000.0, 54_420.0], "status": None})
    nb = figures.peer_rank(frame, "a", "T", "kr per innbygger", "Kilde", 53_210.4, "Gruppens snitt")
    assert nb.figure.layout.annotations[0].text == "Gruppens snitt: 53 210 kr"
    en = figures.peer_rank(frame, "a", "T", "NOK per resident", "Source", 53_210.4, "Peers' average", lang="en")
    assert en.figure.layout.annotations[0].text == "Peers' average: NOK 53,210"
    pct = figures.peer_rank(frame, "a", "T", "%", "Kilde", 12.34, "Gruppens snitt", decimals=1)
    assert pct.figure.layout.annotations[0].text == "Gruppens snitt: 12,3 %"
