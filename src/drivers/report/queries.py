"""What a view shows (report layer, no Dash): thin adapters from a State to the engine's API, labels, and the
registry look-ups pages need (indicators, fetch commands, neighbour variables), so pages never import the engine.
What the engine says in words (reasons, labels, notes, the summary: drivers.engine.reasons) is handed out worded in
the view's language (drivers.i18n.reason_text), so an English page shows English reasons.
The engine caches its own results; only the driver table and the municipalities' rows are cached here (see
_driver_table, _rows). No DuckDB here: only the in-memory Panel.

Long on purpose: the pages' one surface on the engine and the registry (as drivers.engine.api is the engine's), so a
page reads one module to know what a view can show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from drivers import fmt, i18n, peersets
from drivers.i18n import t
from drivers.report import data
from drivers.report import state as st
from drivers.report.cache import cached

SERVICES = ["FGK7", "FGK8b", "FGK9", "FGK13", "FGK12", "FGK1b", "FGK2", "FGK17", "FGK15"]
# The services the dashboard names (their names are the words "rep.service.<code>"), with the rest and the total.
SERVICE_NAMED = (*SERVICES, "OTHER", "TOTAL")

# The chart shows one municipality, so the line is the level recommended for municipalities alone (1.75 %);
# TBU's 2 % (3 % until 2013) is for the municipal sector as a whole (municipalities and counties together).
# Sources: TBU-rapport kap. 3, figur 3.14A (regjeringen.no/contentassets/887f976224eb486ca773729f11184408/
# kap3-filer/sheet028.htm) and Kommunal Rapport 2019-03 «Slik ble resultatet i Kommune-Norge»
# (kommunal-rapport.no/okonomi/2019/03/slik-ble-resultatet-i-kommune-norge).
# Their words are keys by measure (ov.health.<measure>, ov.health_norm.<measure>, ov.health_source.<measure>).
NORM_KOMMUNE_PCT = 1.75
HEALTH = [
    {"measure": "netto_driftsresultat_pct", "norm": NORM_KOMMUNE_PCT},
    {"measure": "fri_egenkapital_drift_pct"},
    {"measure": "langsiktig_gjeld_pct"},
]


def service_name(code: str, lang: str = "nb") -> str:
    return t(f"rep.service.{code}", lang) if code in SERVICE_NAMED else code


def group_label(code: str | None, lang: str = "nb") -> str:
    if not isinstance(code, str):
        return fmt.MISSING
    return t("rep.group_label", lang, n=int(code[3:]), code=code) if code.startswith("EKG") else code


def worded(frame: pd.DataFrame, lang: str, columns=("reason",)) -> pd.DataFrame:
    """The engine's words in `columns` of `frame` (a copy the caller owns) worded in `lang`; None stays None."""
    for c in columns:
        if c in frame:
            frame[c] = pd.Series([i18n.reason_text(x, lang) for x in frame[c]], index=frame.index, dtype=object)
    return frame


@cached("views-municipality-rows", 2)
def _rows() -> dict[str, dict]:
    """code -> its row of data.meta().municipalities: a look-up ~3 µs, filtering the frame ~0.8 ms (CPU), 8× a page."""
    return {str(r["code"]): r for r in data.meta().municipalities.to_dict("records")}


def municipality(kommune: str) -> dict:
    """code, name, county, county_name, group_code, group_name (a dict of its own; {} for a code not in the data)."""
    return dict(_rows().get(kommune, {}))



def group_number(code: str | None) -> str:
    return str(int(code[3:])) if isinstance(code, str) and code.startswith("EKG") else fmt.MISSING


def peers_label(state: st.State) -> str:
    """The peer group's name; under the ASSS conventions it says the municipality is left out (as the engine's
    peer_label), so every chart title, legend and tile names the choice."""
    label = i18n.reason_text(_peers_name(state), state.lang)  # a county without a name in the data: 'fylke 32'
    if state.konv.endswith("-excl-self") and state.peers != "naboer":
        label = t("peer.excluding", state.lang, label=label, name=data.meta().name(state.kommune))
    return label


def _peers_name(state: st.State) -> str:
    lang = state.lang
    if state.peers == "kostragruppe":
        return group_label(municipality(state.kommune).get("group_code"), lang)
    if state.peers == "fylke":
        return municipality(state.kommune).get("county_name") or t("peers_fylke", lang)
    return t(f"peers_{state.peers}", lang) if state.peers in st.PEER_SETS else state.peers


def peer_arg(state: st.State):
    """The view's peer choice as the engine takes it: a built-in name, or a saved set as its PeerSet with the
    members saved now (so the caches below, keyed on it, follow a set saved again with other members)."""
    return peersets.resolve(state.peers)


def no_peers(state: st.State) -> bool:
    """True when the chosen peer set is empty for this municipality (Oslo is alone in KOSTRA group 13)."""
    return len(_members(state.kommune, state.aar, peer_arg(state))) == 0


def konv_label(state: st.State) -> str:
    return t(f"rep.konv.{state.konv}", state.lang)


def page_title(state: st.State, nav_key: str) -> str:
    return f"{data.meta().name(state.kommune)}: {t(nav_key, state.lang).lower()} {state.aar}"


def tables() -> pd.DataFrame:
    return data.get_panel().tables


def _gaps(kommune: str, aar: int, peers: str, konv: str) -> pd.DataFrame:
    return data.api().gaps(data.get_panel(), kommune, aar, peers, konv)


def gaps(state: st.State) -> pd.DataFrame:
    """Per service (and 'TOTAL' where the engine gives it): per_resident, peer_per_resident, gap_nok, reason (worded
    in the view's language); without the engine's attrs (its new frame per call), which no view reads and pandas
    deep-copies at every step: ~3 ms (CPU) of Oversikt's gap section."""
    frame = _gaps(state.kommune, state.aar, peer_arg(state), state.konv)
    frame.attrs = {}
    return worded(frame, state.lang)


def _profile(kommune: str, aar: int) -> dict:
    return dict(data.api().profile(data.get_panel(), kommune, aar))


def profile(state: st.State) -> dict:
    """The engine's profile; its notes and labels worded in the view's language."""
    return {k: i18n.reason_text(v, state.lang) if isinstance(v, str) else v
            for k, v in _profile(state.kommune, state.aar).items()}


def _summary(kommune: str, aar: int, peers: str, konv: str) -> str:
    return data.api().summary(data.get_panel(), kommune, aar, peers, konv)


def summary_text(state: st.State) -> str:
    text = i18n.reason_text(_summary(state.kommune, state.aar, peer_arg(state), state.konv), state.lang)
    return text or t("rep.no_summary", state.lang)


def _timeseries(kommune: str, indicator: str, peers: str, konv: str) -> pd.DataFrame:
    return data.api().timeseries(data.get_panel(), kommune, indicator, peers, konv)


def health_series(state: st.State, measure: str) -> pd.DataFrame | None:
    """year, value, peer_value for a 12134 key figure, or None if the data has none at all."""
    if not data.get_panel().has_measure(measure):
        return None
    return worded(_timeseries(state.kommune, measure, peer_arg(state), state.konv).copy(), state.lang)


def health_missing_reason(state: st.State, frame: pd.DataFrame | None) -> str:
    """Why a key figure has no line: the engine's last reason (in the view's language), else what the data lacks."""
    if frame is not None and "reason" in frame and frame["reason"].notna().any():
        return i18n.reason_text(frame["reason"].dropna().iloc[-1], state.lang)
    return t("rep.health_no_12134" if frame is None else "rep.health_other_only", state.lang)


SERVICE_TABLES = {"FGK7": ["13502"], "FGK8b": ["12255"], "FGK9": ["12209"], "FGK13": ["12279"],
                  "FGK12": ["14019"]}
# The dashboard's short names of the decomposition's components (words "rep.comp_short.<component>").
SHORT_COMPONENTS = ("need", "target_share", "coverage", "unit_cost", "net_gross")


def component_labels(lang: str = "nb") -> dict[str, str]:
    """component -> the dashboard's short name ('Behov', 'Need', …)."""
    return {c: t(f"rep.comp_short.{c}", lang) for c in SHORT_COMPONENTS}


def service_tables(service: str) -> list[str]:
    return ["12362", *SERVICE_TABLES.get(service, [])]


def fetch_command(service: str) -> str:
    return f"drivers fetch --tables {','.join(service_tables(service))}"


def indicator_id(service: str, kind: str = "per_innb") -> str:
    return f"ndu_{service.lower()}_{kind}"


def indicator_name(ind: str, lang: str = "nb") -> str:
    """The registry's name of an indicator ('Andel barn 1–5 år med barnehageplass', …)."""
    from drivers.engine import indicators

    for i in indicators.all():
        if i.id == ind:
            return i.name(lang)
    return ind


def has_indicator(ind: str) -> bool:
    from drivers.engine import indicators

    return ind in {i.id for i in indicators.all()}


def target_label(service: str, lang: str = "nb") -> str | None:
    """The service's target group in words ('1–5 år', '80 år og over', 'alle innbyggere'), from its age band."""
    from drivers.engine import indicators
    from drivers.engine.panel import MAX_AGE

    svc = indicators.services().get(service) or {}
    if not svc.get("target_label"):
        return None
    lo, hi = svc.get("target") or (None, None)
    if lo is None:
        return t("rep.target.all", lang)
    if hi >= MAX_AGE:
        return t("rep.target.over", lang, lo=lo)
    return t("rep.target.range", lang, lo=lo, hi=hi)


@cached("views-driver-table", 64)
def _driver_table(aar: int, peers: str, konv: str) -> dict[str, pd.DataFrame]:
    """indicator -> its rows (region, value, status, peer_value) of the engine's driver table.

    Measured (five pages × six municipalities, built whole, DRIVERS_SERVING=plain): without this cache Tjenester
    takes ~330 ms a page instead of ~80 ms (it reads a dozen indicators, each a copy of the whole table), all five
    pages 2.35 s instead of 0.90 s. The view caches beside it (gaps, profile, summary, time series, members,
    decomposition, the municipality's row) saved nothing measurable over the engine's own caches: removed.

    Only the four columns the pages read: the engine already memoises the whole table and hands out a full
    copy (26 columns, ~3 MB), which kept here for every year × peer set × convention cost ~75 MB of RSS."""
    table = data.api().driver_table(data.get_panel(), aar, peers, konv)
    cols = table[["indicator", "region", "value", "status", "peer_value"]]
    return {str(ind): rows.drop(columns="indicator").reset_index(drop=True)
            for ind, rows in cols.groupby("indicator", sort=False, observed=True)}


def _members(kommune: str, aar: int, peers: str) -> tuple[str, ...]:
    return tuple(data.api().peer_members(data.get_panel(), kommune, aar, peers))


def _view_rows(state: st.State, indicator: str) -> tuple[pd.DataFrame | None, np.ndarray]:
    """The indicator's rows of the view's driver table (None if it has none) and the positions of the peers' and
    the municipality's rows in it, in table order (the rows an isin on the regions picks)."""
    peers = peer_arg(state)
    table = _driver_table(state.aar, peers, state.konv).get(indicator)
    if table is None:
        return None, np.zeros(0, dtype=np.int64)
    wanted = {*_members(state.kommune, state.aar, peers), state.kommune}
    return table, np.fromiter((i for i, r in enumerate(table["region"].to_numpy()) if r in wanted), dtype=np.int64)


def indicator_values(state: st.State, indicator: str) -> pd.DataFrame:
    """region, name, value, status, peer_value for the peers and the selected municipality (one indicator)."""
    table, pos = _view_rows(state, indicator)
    if table is None:
        return pd.DataFrame({"region": [], "value": [], "status": [], "peer_value": [], "name": []})
    frame = table.take(pos).reset_index(drop=True)
    frame["name"] = frame["region"].map(data.meta().name)
    return frame


def indicator_own(state: st.State, indicator: str) -> tuple:
    """(value, peer_value, status) of the municipality itself (None each without a row), and how many of the
    view's municipalities (the peers and itself) have a value: what a tile shows, read from indicator_values'
    rows with no frame built (~0.4 ms instead of ~0.8 ms, CPU in a request)."""
    table, pos = _view_rows(state, indicator)
    if table is None:
        return None, None, None, 0
    value = table["value"].to_numpy()[pos]
    own = pos[table["region"].to_numpy()[pos] == state.kommune]
    n = int(np.count_nonzero(~np.isnan(value)))
    if not len(own):
        return None, None, None, n
    return table["value"].to_numpy()[own[0]], table["peer_value"].to_numpy()[own[0]], table["status"].to_numpy()[own[0]], n


def service_values(state: st.State, service: str) -> pd.DataFrame | None:
    """region, name, value (kr per resident), status for the peers and the selected municipality."""
    frame = indicator_values(state, indicator_id(service))
    return None if frame.empty else frame


def service_timeseries(state: st.State, service: str, kind: str = "per_innb") -> pd.DataFrame | None:
    """year, value, peer_value, status, reason (worded in the view's language) over the years in the data."""
    ind = indicator_id(service, kind)
    if not has_indicator(ind):
        return None
    return worded(_timeseries(state.kommune, ind, peer_arg(state), state.konv).copy(), state.lang)


def _decompose(kommune: str, aar: int, service: str, peers: str, konv: str) -> pd.DataFrame:
    return data.api().decompose(data.get_panel(), kommune, aar, service, peers, konv)


def decomposition(state: st.State, service: str) -> tuple[pd.DataFrame | None, str | None]:
    """component, name (in the view's language; the engine's name_nb/name_en too), nok (available ones sum to
    the gap), reason (in the view's language); plus the first reason for gaps."""
    frame = _decompose(state.kommune, state.aar, service, peer_arg(state), state.konv).copy()
    frame.loc[~frame["available"].astype(bool), "nok"] = np.nan
    frame["name"] = [i18n.reason_text(x, state.lang) for x in frame["name_nb"]]
    frame = worded(frame, state.lang)
    reasons = [r for r in frame["reason"].dropna().unique() if r]
    return frame, (reasons[0] if reasons else None)


def is_net_unit_cost(frame: pd.DataFrame) -> bool:
    """True when the decomposition's unit cost is net spending per user (our derivation, named so by the engine)."""
    names = dict(zip(frame["component"], frame["name_nb"], strict=False)) if "name_nb" in frame else {}
    return getattr(names.get("unit_cost"), "key", None) == "comp.unit_cost_net"


# Coverage and unit cost per service (registry ids). Where SSB gives the coverage but no user counts, unit cost
# is the residual net spending per user (our derivation, ssb_match "own", said on the tile). `parts`: SSB's own
# shares that make up a coverage we add up; `series`: coverage indicators shown over the years.
COVERAGE = {"FGK7": ("barnehage_andel_1_5", "barnehage_ndu_per_barn"), "FGK9": ("pleie_dekning_80", "pleie_ndu_per_bruker_80")}
COVERAGE_PARTS = {"FGK9": ("pleie_andel_80_hjemmetjenester", "pleie_andel_80_institusjon")}
COVERAGE_SERIES = {"FGK7": ("barnehage_andel_1_2", "barnehage_andel_1_5"), "FGK9": ("pleie_dekning_80",)}


def coverage_unit_cost(state: st.State, service: str) -> pd.DataFrame | None:
    """region, name, coverage, unit_cost for the peers and the municipality, where the registry has both."""
    pair = COVERAGE.get(service)
    if not pair or not all(has_indicator(i) for i in pair):
        return None
    (cov, pos), (cost, _) = _view_rows(state, pair[0]), _view_rows(state, pair[1])
    if cov is not None and cost is not None and np.array_equal(cov["region"].to_numpy(), cost["region"].to_numpy()):
        region = pd.Series(cov["region"].to_numpy()[pos], dtype="str")  # one driver table's rows: no alignment
        return pd.DataFrame({"region": region, "name": region.map(data.meta().name),
                             "coverage": cov["value"].to_numpy()[pos], "unit_cost": cost["value"].to_numpy()[pos]})
    cov = indicator_values(state, pair[0]).set_index("region")
    cost = indicator_values(state, pair[1]).set_index("region")
    frame = pd.DataFrame({"name": cov["name"], "coverage": cov["value"], "unit_cost": cost["value"].reindex(cov.index)})
    return frame.reset_index()


def coverage_indicators(service: str) -> tuple[str, str] | None:
    return COVERAGE.get(service)


def coverage_parts(service: str) -> tuple[str, ...]:
    return COVERAGE_PARTS.get(service, ())


def coverage_series(state: st.State, service: str) -> list[tuple[str, pd.DataFrame]]:
    """(indicator, year/value/peer_value frame) for the service's coverage indicators with ≥ 2 years of figures."""
    out = []
    for ind in COVERAGE_SERIES.get(service, ()):
        frame = _timeseries(state.kommune, ind, peer_arg(state), state.konv)
        if frame["value"].notna().sum() >= 2:
            out.append((ind, worded(frame.copy(), state.lang)))
    return out


def indicator_years(ind: str) -> list[int]:
    """Years in which any municipality has a figure for the indicator (its first measure)."""
    from drivers.engine import indicators

    measure, dims = indicators.get(ind).numerator_parts[0]
    return data.get_panel().measure_years(measure, dims)


def indicator_table(ind: str) -> str:
    from drivers.engine import indicators

    return indicators.get(ind).table.split("+")[-1]


def is_derived(ind: str) -> bool:
    """True for our own derivations (registry ssb_match 'own'), which must never be shown as SSB's figures."""
    from drivers.engine import indicators

    return indicators.get(ind).ssb_match == "own"


def warm(default_only: bool = False, stop=None) -> None:
    """Compute the engine's all-municipality tables for every year, peer set and convention once (in the
    background after start-up), so the first visitor's page is a lookup too. Stops early when `stop` (an
    Event) is set or the data layer was pointed at another database meanwhile."""
    panel = data.get_panel()
    meta = data.meta()
    combos = [(meta.default_year, st.DEFAULT_PEERS, st.DEFAULT_KONV)]
    if not default_only:
        # the default and the latest year only: with 2015–2025 every year × peer set × convention would be 220
        # driver tables (~290 MB); other years are computed when asked (~50–100 ms a table)
        years = list(dict.fromkeys([meta.default_year, meta.years[-1]]))
        combos += [(y, p, k) for y in years for p in st.PEER_SETS for k in st.CONVENTIONS[:2]]
    for year, peers, konv in combos:
        if (stop is not None and stop.is_set()) or data.loaded_panel() is not panel:
            return  # shutting down, or reconfigured: never load a panel (DuckDB) from this thread then
        try:
            _driver_table(year, peers, konv)
            if peers == st.DEFAULT_PEERS and konv == st.DEFAULT_KONV:
                for spec in HEALTH:
                    _timeseries(st.DEFAULT_KOMMUNE, spec["measure"], peers, konv)
        except Exception:  # noqa: BLE001 - warming is best effort; the page reports real errors
            continue


def all_indicators() -> list:
    """The engine's indicator registry, in its order."""
    from drivers.engine import indicators

    return indicators.all()


def fetch_hint(tables) -> str:
    """The `drivers fetch --tables …` command that fetches `tables` (without backquotes)."""
    from drivers.engine import indicators

    return indicators.fetch_hint(list(tables)).strip("`")


def indicator_components(panel, indicator, year: int):
    """The indicator for every municipality in `year` (the engine's components: value, status, … per region)."""
    from drivers.engine import measures

    return measures.components(panel, indicator, year)


def neighbour_variables(lang: str = "nb") -> dict:
    """The nearest-neighbour variables: name -> label in `lang`."""
    from drivers.engine import peers

    return {v: i18n.reason_text(peers.variable_label(v), lang) for v in peers.VARIABLES}


def structural_variables(panel, year: int):
    """The structural variables the nearest neighbours are found on, for `year`."""
    from drivers.engine import peers

    return peers.structural_variables(panel, year)
