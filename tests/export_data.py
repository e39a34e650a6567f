"""Real charts for the export tests, built straight from /work/shared (no engine needed).

Net operating expenditure per service (KOSTRA 12362, NOK 1000, from the third-party copy described in
/work/shared/ssb/PROVENANCE.md) for one municipality. Nothing invented: the numbers are read from the file.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from drivers.config import Settings
from drivers.figures import TEMPLATE_NAME, Chart

LIPPEN = Settings.from_env().shared_dir / "ssb" / "derived" / "lippen_kostra_net_expenses_by_service_2024.csv"


def net_expenditure(region: str = "3222", year: int = 2024) -> pd.DataFrame:
    if not LIPPEN.exists():
        pytest.skip(f"real data missing: {LIPPEN}")
    frame = pd.read_csv(LIPPEN, dtype={"kommunenummer": str})
    rows = frame[(frame["kommunenummer"] == region) & (frame["year"] == year) & (frame["service_code"] != "TOTAL")]
    return rows.sort_values("amount_nok_1000", ascending=False)


def service_chart(region: str = "3222", year: int = 2024, chart_id: str | None = None) -> Chart:
    rows = net_expenditure(region, year)
    fig = go.Figure(go.Bar(x=rows["service_name"], y=rows["amount_nok_1000"] / 1000, marker_color="#56B4E9"))
    title = f"Netto driftsutgifter per tjeneste, kommune {region}, {year}, mill. kr"
    fig.update_layout(template=TEMPLATE_NAME, showlegend=False, yaxis_title="mill. kr", meta={"title": title})
    data = pd.DataFrame({
        "Tjeneste": rows["service_name"].to_list(),
        "KOSTRA-kode": rows["service_code"].to_list(),
        "Netto driftsutgifter (1000 kr)": rows["amount_nok_1000"].astype("int64").to_list(),
        "Netto driftsutgifter (mill. kr)": (rows["amount_nok_1000"] / 1000).round(1).to_list(),
    })
    caption = (f"Kilde: SSB, KOSTRA tabell 12362 (kommunekonsern, via tredjepartskopi), {year}, endelige tall · "
               "Sammenligning: ingen · Snitt: – · Ikke korrigert for utgiftsbehov")
    return Chart(chart_id or f"ndu-tjenester-{region}-{year}", title, fig, data, caption)


def charts(n: int) -> list[Chart]:
    """`n` different real charts (one per municipality, largest first) for pack and bench tests."""
    frame = pd.read_csv(LIPPEN, dtype={"kommunenummer": str})
    codes = [c for c in frame["kommunenummer"].unique() if c.isdigit()][:n]
    return [service_chart(code) for code in codes]
