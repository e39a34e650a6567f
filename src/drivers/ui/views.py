"""What the pages show, computed once per view and cached: thin adapters from a State to the engine's API
(or the temporary bridge until the engine lands), plus labels. No DuckDB here: only the in-memory Panel."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from drivers import fmt
from drivers.ui import data
from drivers.ui import state as st
from drivers.ui.i18n import t

SERVICES = ["FGK7", "FGK8b", "FGK9", "FGK13", "FGK12", "FGK1b", "FGK2", "FGK17", "FGK15"]
SERVICE_NAMES = {
    "FGK7": ("Barnehage", "Kindergartens"),
    "FGK8b": ("Grunnskole", "Primary and lower secondary school"),
    "FGK9": ("Helse og omsorg", "Health and care"),
    "FGK13": ("Barnevern", "Child welfare"),
    "FGK12": ("Sosialtjeneste", "Social services"),
    "FGK1b": ("Administrasjon", "Administration"),
    "FGK2": ("Kultur", "Culture"),
    "FGK17": ("Brann og ulykkesvern", "Fire and accident prevention"),
    "FGK15": ("Kirke", "Church"),
    "TOTAL": ("Totalt", "Total"),
}

TBU_SOURCE_NB = ("Stiplet linje: 2 %, Teknisk beregningsutvalgs (TBU) norm for netto driftsresultat i kommunesektoren "
                 "samlet fra 2014 (TBU-rapport, kap. 3, figur «Netto driftsresultat i kommunesektoren», regjeringen.no)")
TBU_SOURCE_EN = ("Dashed line: 2 %, the Technical Calculation Committee's (TBU) norm for the net operating result of the "
                 "municipal sector as a whole since 2014 (TBU report, ch. 3, regjeringen.no)")
NO_NORM_NB = "Ingen anbefalt nivå vist: prosjektets kilder har ingen norm for dette nøkkeltallet"
NO_NORM_EN = "No recommended level shown: the project's sources give no norm for this figure"

HEALTH = [
    {"measure": "netto_driftsresultat_pct", "title_nb": "Netto driftsresultat, % av brutto driftsinntekter",
     "title_en": "Net operating result, % of gross operating revenue", "norm": 2.0, "norm_label": "2 % (TBU)",
     "norm_source_nb": TBU_SOURCE_NB, "norm_source_en": TBU_SOURCE_EN},
    {"measure": "fri_egenkapital_drift_pct", "title_nb": "Disposisjonsfond (fri egenkapital drift), % av brutto driftsinntekter",
     "title_en": "Unrestricted reserves (free operating equity), % of gross revenue",
     "norm_source_nb": NO_NORM_NB, "norm_source_en": NO_NORM_EN},
    {"measure": "langsiktig_gjeld_pct", "title_nb": "Langsiktig gjeld uten pensjonsforpliktelser, % av brutto driftsinntekter",
     "title_en": "Long-term debt excl. pensions, % of gross revenue",
     "norm_source_nb": NO_NORM_NB, "norm_source_en": NO_NORM_EN},
]


def service_name(code: str, lang: str = "nb") -> str:
    pair = SERVICE_NAMES.get(code)
    return (pair[1] if lang == "en" else pair[0]) if pair else code


def group_label(code: str | None, lang: str = "nb") -> str:
    if not isinstance(code, str):
        return fmt.MISSING
    return f"{'KOSTRA group' if lang == 'en' else 'KOSTRA-gruppe'} {int(code[3:])} ({code})" if code.startswith("EKG") else code


def peers_label(state: st.State) -> str:
    lang = state.lang
    if state.peers == "kostragruppe":
        m = data.meta().municipalities.set_index("code")
        return group_label(m["group_code"].get(state.kommune), lang)
    if state.peers == "fylke":
        m = data.meta().municipalities.set_index("code")
        return m["county_name"].get(state.kommune) or t("peers_fylke", lang)
    return t(f"peers_{state.peers}", lang) if state.peers in st.PEER_SETS else state.peers


def konv_label(state: st.State) -> str:
    return {"weighted": ("vektet", "weighted"), "unweighted": ("uvektet", "unweighted")}[state.konv][state.lang == "en"]


def page_title(state: st.State, nav_key: str) -> str:
    return f"{data.meta().name(state.kommune)}: {t(nav_key, state.lang).lower()} {state.aar}"


def tables() -> pd.DataFrame:
    return data.get_panel().tables


@lru_cache(maxsize=2048)
def _gaps(kommune: str, aar: int, peers: str, konv: str) -> pd.DataFrame:
    return data.api().gaps(data.get_panel(), kommune, aar, peers, konv)


def gaps(state: st.State) -> pd.DataFrame:
    """Per service (and 'TOTAL' where the engine gives it): per_resident, peer_per_resident, gap_nok, reason."""
    return _gaps(state.kommune, state.aar, state.peers, state.konv).copy()


@lru_cache(maxsize=2048)
def _profile(kommune: str, aar: int) -> dict:
    return dict(data.api().profile(data.get_panel(), kommune, aar))


def profile(state: st.State) -> dict:
    return _profile(state.kommune, state.aar)


@lru_cache(maxsize=2048)
def _summary(kommune: str, aar: int, peers: str, konv: str, lang: str) -> str:
    api = data.api()
    if hasattr(api, "summary_text"):
        return api.summary_text(data.get_panel(), kommune, aar, peers, konv, lang=lang)
    return ""


def summary_text(state: st.State) -> str:
    text = _summary(state.kommune, state.aar, state.peers, state.konv, state.lang)
    if text:
        return text
    # Until the engine's summary_text lands: one sentence from the gap table, nothing more.
    g = gaps(state)
    total = g[g["service"] == "TOTAL"]
    name = data.meta().name(state.kommune)
    if len(total) and not fmt.is_missing(total["gap_nok"].iloc[0]):
        gap = float(total["gap_nok"].iloc[0])
        more = gap >= 0
        if state.lang == "en":
            return (f"In {state.aar}, {name} spent {fmt.mill_kr(abs(gap))} {'more' if more else 'less'} on net operating "
                    f"expenditure than it would have at the per-resident level of {peers_label(state)}.")
        return (f"I {state.aar} brukte {name} {fmt.mill_kr(abs(gap))} {'mer' if more else 'mindre'} i netto driftsutgifter "
                f"enn om kommunen hadde ligget på nivået per innbygger i {peers_label(state)}.")
    return ("The data has no municipal total for this year; see the services below." if state.lang == "en"
            else "Dataene har ikke kommunens totale netto driftsutgifter for dette året; se tjenestene under.")


@lru_cache(maxsize=4096)
def _health(kommune: str, peers: str, konv: str, measure: str):
    panel = data.get_panel()
    api = data.api()
    if hasattr(api, "timeseries") and api is not _bridge():
        try:
            return api.timeseries(panel, kommune, measure, peers, konv)
        except (KeyError, ValueError):
            pass
    obs = panel.observations
    rows = obs[obs["measure"] == measure]
    if rows.empty:
        return None
    own = rows[rows["region"] == kommune].groupby("year")["value"].first()
    members = _bridge().peer_members(panel, kommune, None, peers)
    peer = rows[rows["region"].isin(members)].groupby("year")["value"].mean()
    years = sorted(set(own.index) | set(peer.index))
    return pd.DataFrame({"year": years, "value": [own.get(y, np.nan) for y in years],
                         "peer_value": [peer.get(y, np.nan) for y in years]})


def _bridge():
    from drivers.ui import bridge

    return bridge


def health_series(state: st.State, measure: str) -> pd.DataFrame | None:
    """year, value, peer_value for a 12134 key figure, or None if the data has none at all."""
    frame = _health(state.kommune, state.peers, state.konv, measure)
    return None if frame is None else frame.copy()


def health_missing_reason(state: st.State, frame: pd.DataFrame | None) -> str:
    en = state.lang == "en"
    if frame is None:
        return ("The snapshot holds no key figures from table 12134 for this municipality." if en
                else "Øyeblikksbildet har ikke nøkkeltall fra tabell 12134 for denne kommunen.")
    return ("The data has this figure for other municipalities only." if en
            else "Dataene har dette tallet bare for andre kommuner.")


SERVICE_TABLES = {"FGK7": ["13502"], "FGK8b": ["12255"], "FGK9": ["12209", "12293"], "FGK13": ["12279"],
                  "FGK12": ["14019"]}
COMPONENT_LABELS = (
    {"need": "Behov", "target_share": "Målgruppens andel", "coverage": "Dekningsgrad", "unit_cost": "Enhetskostnad",
     "net_gross": "Netto/brutto (egenbetaling, tilskudd)"},
    {"need": "Need", "target_share": "Target-group share", "coverage": "Coverage", "unit_cost": "Unit cost",
     "net_gross": "Net/gross (fees, grants)"},
)


def service_tables(service: str) -> list[str]:
    return ["12362", *SERVICE_TABLES.get(service, [])]


def fetch_command(service: str) -> str:
    return f"drivers fetch --tables {','.join(service_tables(service))}"


@lru_cache(maxsize=2048)
def _service_values(kommune: str, aar: int, peers: str, service: str) -> pd.DataFrame | None:
    panel = data.get_panel()
    b = _bridge()
    members = [*b.peer_members(panel, kommune, aar, peers), kommune]
    values = b.per_resident_all(panel, aar, service)
    if values.empty:
        return None
    frame = pd.DataFrame({"region": members})
    frame = frame.merge(values, on="region", how="left")
    frame["name"] = frame["region"].map(data.meta().name)
    frame = frame.rename(columns={"per_resident": "value"})
    return frame[["region", "name", "value", "status"]]


def service_values(state: st.State, service: str) -> pd.DataFrame | None:
    """region, name, value (kr per resident), status for the peers and the selected municipality."""
    frame = _service_values(state.kommune, state.aar, state.peers, service)
    return None if frame is None else frame.copy()


@lru_cache(maxsize=2048)
def _service_ts(kommune: str, peers: str, konv: str, service: str) -> pd.DataFrame:
    panel = data.get_panel()
    rows = []
    for year in data.meta().years:
        g = _gaps(kommune, year, peers, konv)
        r = g[g["service"] == service]
        rows.append({"year": year, "value": float(r["per_resident"].iloc[0]) if len(r) else np.nan,
                     "peer_value": float(r["peer_per_resident"].iloc[0]) if len(r) else np.nan})
    _ = panel
    return pd.DataFrame(rows)


def service_timeseries(state: st.State, service: str) -> pd.DataFrame | None:
    """year, value, peer_value: net expenditure per resident over the years in the data."""
    return _service_ts(state.kommune, state.peers, state.konv, service).copy()


def decomposition(state: st.State, service: str) -> tuple[pd.DataFrame | None, str | None]:
    """component, nok (sums to the gap) from the engine; (None, reason) where it cannot be computed."""
    api = data.api()
    if api is _bridge() or not hasattr(api, "decompose"):
        return None, ("Dekomponeringen beregnes av beregningsmotoren, som ikke er koblet inn ennå." if state.lang != "en"
                      else "The decomposition comes from the engine, which is not wired in yet.")
    frame = api.decompose(data.get_panel(), state.kommune, state.aar, service, state.peers, state.konv)
    reasons = [r for r in frame.get("reason", pd.Series(dtype=object)).dropna().unique() if r]
    return frame, (reasons[0] if reasons else None)


def coverage_unit_cost(state: st.State, service: str) -> pd.DataFrame | None:
    """region, name, coverage, unit_cost for the peers, when the service statistics exist (engine only)."""
    return None
