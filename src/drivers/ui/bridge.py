"""TEMPORARY stand-in for `drivers.engine.api` until the engine lands (then `data.api()` switches over
and this module goes). Only the few functions the shell pages call, with the engine's signatures,
computed from the Panel frames: net operating expenditure (ndu_1000kr) per resident 31.12 (= 1.1. next year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PEER_SETS = ["kostragruppe", "fylke", "landet", "landet-uten-oslo", "naboer"]
SERVICE_NAMES = {
    "FGK7": "Barnehage", "FGK8b": "Grunnskole", "FGK9": "Helse og omsorg", "FGK13": "Barnevern",
    "FGK12": "Sosialsektoren", "FGK1b": "Administrasjon", "FGK2": "Kultur", "FGK17": "Brann og ulykkesvern",
    "FGK15": "Kirke",
}
FETCH = "drivers fetch --tables 12362"


def _service(dims: str) -> str | None:
    if dims == "KOKart0000=AGD1":
        return "TOTAL"
    for part in dims.split(";"):
        if part.startswith("KOKfunksjon0000="):
            return part.split("=", 1)[1]
    return None


def _residents(panel, year: int) -> pd.Series:
    pop = panel.population
    pop = pop[pop["year"] == year + 1]
    return pop.groupby("region")["persons"].sum()


def _ndu(panel, year: int) -> pd.DataFrame:
    key = ("_bridge_ndu", year)
    cache = panel.__dict__.setdefault("_cache", {})
    if key not in cache:
        obs = panel.observations
        obs = obs[(obs["measure"] == "ndu_1000kr") & (obs["year"] == year)].copy()
        obs["service"] = obs["dims"].map(_service)
        obs = obs[obs["service"].notna()]
        obs["population"] = obs["region"].map(_residents(panel, year))
        obs["per_resident"] = obs["value"] * 1000 / obs["population"]
        cache[key] = obs[["region", "service", "value", "status", "population", "per_resident"]]
    return cache[key]


def municipalities(panel) -> list[str]:
    r = panel.regions
    return sorted(r[(r["kind"] == "kommune") & (r["valid_to"].isna())]["code"])


def peer_members(panel, region, year, peers, *, exclude_self=True, exclude_oslo=False, k=10) -> list[str]:
    codes = municipalities(panel)
    if peers == "kostragruppe":
        groups = panel.groups.set_index("region")["group_code"]
        members = [c for c in codes if groups.get(c) == groups.get(region)]
    elif peers == "fylke":
        members = [c for c in codes if c[:2] == region[:2]]
    elif peers == "landet-uten-oslo":
        members = [c for c in codes if c != "0301"]
    else:  # landet; naboer needs the engine (falls back to the whole country here)
        members = codes
    return [c for c in members if not (exclude_self and c == region)]


def peer_values(panel, region, year, peers, convention) -> pd.DataFrame:
    """Per service: the peers' per-resident value (weighted sum/sum or the mean of municipalities)."""
    ndu = _ndu(panel, year)
    mem = ndu[ndu["region"].isin(peer_members(panel, region, year, peers))]
    rows = []
    for service, g in mem.groupby("service"):
        g = g.dropna(subset=["value", "population"])
        if convention == "weighted":
            val = g["value"].sum() * 1000 / g["population"].sum() if len(g) else np.nan
        else:
            val = g["per_resident"].mean()
        rows.append({"service": service, "peer_per_resident": val, "n_peers": len(g)})
    return pd.DataFrame(rows, columns=["service", "peer_per_resident", "n_peers"])


def gaps(panel, region, year, peers, convention) -> pd.DataFrame:
    ndu = _ndu(panel, year)
    own = ndu[ndu["region"] == region].set_index("service")
    peer = peer_values(panel, region, year, peers, convention).set_index("service")
    rows = []
    for service in [*SERVICE_NAMES, "TOTAL"]:
        r = own.loc[service] if service in own.index else None
        per = float(r["per_resident"]) if r is not None else np.nan
        pp = float(peer["peer_per_resident"].get(service, np.nan))
        pop = float(r["population"]) if r is not None else np.nan
        gap = (per - pp) * pop
        rows.append({
            "service": service, "name_nb": SERVICE_NAMES.get(service, "Totalt"),
            "ndu_1000kr": float(r["value"]) if r is not None else np.nan,
            "per_resident": per, "peer_per_resident": pp, "gap_nok": gap,
            "gap_need_corrected_nok": np.nan, "need_index": np.nan,
            "status": r["status"] if r is not None else None,
            "reason": None if not np.isnan(gap) else f"mangler netto driftsutgifter for {year}; hent med `{FETCH}`",
        })
    return pd.DataFrame(rows)


def profile(panel, region, year) -> dict:
    pop = _residents(panel, year)
    regions = panel.regions.set_index("code")
    groups = panel.groups.set_index("region")
    need = panel.need[(panel.need["region"] == region) & (panel.need["sector"] == "total")]
    return {
        "name": regions["name"].get(region),
        "population": pop.get(region, np.nan),
        "population_date": f"1.1.{year + 1}",
        "kostragruppe": groups["group_code"].get(region),
        "county": regions["name"].get(region[:2]),
        "need_index": float(need["value"].iloc[0]) if len(need) else np.nan,
        "frie_inntekter_per_innb": np.nan,
    }


def per_resident_all(panel, year, service) -> pd.DataFrame:
    ndu = _ndu(panel, year)
    return ndu[ndu["service"] == service][["region", "per_resident", "status"]]
