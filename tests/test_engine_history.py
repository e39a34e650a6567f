"""Merger-aware series: the 112 code changes of 2024 resolve; rates are never summed; back-casts flagged."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from engine_data import CODE_HISTORY, require_shared, shared_frames, shared_panel

import drivers.i18n  # noqa: F401  (gives the engine its words: drivers.engine.reasons)
from drivers.engine import api, measures
from drivers.engine import indicators as reg
from drivers.engine.panel import Panel


@pytest.fixture(scope="module")
def panel():
    return shared_panel()


def test_all_112_code_changes_of_2024_resolve(panel):
    hist = json.loads(CODE_HISTORY.read_text())["endringer"]
    pairs = [(o["code"], new) for new, e in hist.items() for o in e["oldCodes"]]
    assert len(pairs) == 112
    for old, new in pairs:
        assert panel.code_map[old] == new
        assert panel.municipalities[panel.check_region(old)] == new  # an old code is accepted as input
        assert panel.first_year[new] == 2024


def _panel_with(extra_obs: pd.DataFrame, extra_changes: pd.DataFrame | None = None) -> Panel:
    require_shared()
    f = dict(shared_frames())
    f["observations"] = pd.concat([f["observations"], extra_obs], ignore_index=True)
    if extra_changes is not None:
        f["code_changes"] = pd.concat([f["code_changes"], extra_changes], ignore_index=True)
    return Panel(**f)


def _obs(region, year, measure, value, dims=""):
    return {"table_id": "t", "region": region, "year": year, "contents_code": "", "dims": dims, "measure": measure,
            "value": value, "status": None}


FGK7 = "KOKart0000=AGD2;KOKfunksjon0000=FGK7"


def test_a_back_cast_rate_is_never_a_sum_and_amounts_are():
    # Test inputs (not SSB figures): Lillestrøm 3205 <- 3030 (2020-23) <- 0226 Sørum, 0227 Fet, 0231 Skedsmo.
    changes = pd.DataFrame([
        {"old_code": "3030", "new_code": "3205", "valid_to": pd.Timestamp("2024-01-01"), "name": "Lillestrøm"},
        {"old_code": "0226", "new_code": "3030", "valid_to": pd.Timestamp("2020-01-01"), "name": "Sørum"},
        {"old_code": "0227", "new_code": "3030", "valid_to": pd.Timestamp("2020-01-01"), "name": "Fet"},
        {"old_code": "0231", "new_code": "3030", "valid_to": pd.Timestamp("2020-01-01"), "name": "Skedsmo"},
    ])
    obs = pd.DataFrame([
        _obs("0226", 2019, "ndu_1000kr", 100_000.0, FGK7), _obs("0227", 2019, "ndu_1000kr", 50_000.0, FGK7),
        _obs("0231", 2019, "ndu_1000kr", 400_000.0, FGK7),
        _obs("0226", 2019, "netto_driftsresultat_pct", 2.0), _obs("0227", 2019, "netto_driftsresultat_pct", 3.0),
        _obs("0231", 2019, "netto_driftsresultat_pct", 1.0),
        _obs("3030", 2023, "netto_driftsresultat_pct", -1.5),  # a pure renumbering: carried over
    ])
    p = _panel_with(obs, changes)
    i = p.check_region("0231")
    assert p.municipalities[i] == "3205"
    ndu = p.measure("ndu_1000kr", FGK7, 2019)
    assert ndu.value[i] == 550_000.0 and ndu.backcast[i]  # amounts add up
    rate = p.measure("netto_driftsresultat_pct", "", 2019)
    assert math.isnan(rate.value[i]) and rate.backcast[i]  # three rates: never summed, never averaged
    assert rate.value[i] not in (6.0, 2.0)
    renum = p.measure("netto_driftsresultat_pct", "", 2023)
    assert renum.value[i] == -1.5 and renum.backcast[i]
    # the per-target ratio is recomputed from the summed amount and the summed residents
    c = measures.components(p, reg.get("ndu_fgk7_per_maalgruppe"), 2019)
    kids = p.residents(2020, 1, 5)[i]
    assert c.value[i] == pytest.approx(550_000.0 * 1000 / kids) and c.backcast[i]
    ts = api.timeseries(p, "3205", "netto_driftsresultat_pct", "landet", "unweighted")
    row = ts.set_index("year").loc[2019]
    assert row["backcast"] and math.isnan(row["value"])


def test_the_current_code_wins_over_its_predecessor():
    obs = pd.DataFrame([_obs("3029", 2023, "ndu_1000kr", 1.0, FGK7), _obs("3222", 2023, "ndu_1000kr", 2.0, FGK7)])
    p = _panel_with(obs)
    i = p.check_region("3222")
    m = p.measure("ndu_1000kr", FGK7, 2023)
    assert m.value[i] == 2.0 and m.backcast[i]  # SSB's own back-cast under 3222: used, still flagged


def test_2024_series_are_not_back_cast(panel):
    ts = api.timeseries(panel, "3222", "ndu_fgk7_per_maalgruppe", "kostragruppe", "weighted")
    assert list(ts["year"]) == [2024, 2025]
    assert not ts["backcast"].any()
    assert np.isfinite(ts["value"]).all()


def test_a_sector_index_for_one_municipality_is_not_used_for_comparison(panel):
    import pandas as pd

    f = dict(shared_frames())
    f["need"] = pd.concat([f["need"], pd.DataFrame([{"region": "3222", "year": 2026, "sector": "barnehage",
                                                      "value": 1.1783, "source": "test"}])], ignore_index=True)
    p = Panel(**f)
    sector, _ = p.need_index(2024, "barnehage")
    total, _ = p.need_index(2024, "total")
    assert np.array_equal(sector, total, equal_nan=True)
