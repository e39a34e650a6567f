"""The engine's public functions (contract: .team/ENGINE_API.md). Pure: Panel in, DataFrame/dict out.

Everything expensive is computed for all municipalities at once and held on the Panel per
(year, peers, convention, options), so a dashboard callback asking for one municipality is a lookup. Driver
tables are held compactly (drivertable.Table) in a bounded cache (table_cache_size).

Long on purpose: this is the engine's one public surface (the contract above); each function is a short
wrapper over a module of its own (drivertable, decompose, gaps, summary, peers), kept together so a caller
reads one file to know what the engine offers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from drivers.engine import decompose as dec
from drivers.engine import drivertable, measures
from drivers.engine import gaps as gapmod
from drivers.engine import indicators as reg
from drivers.engine import peers as peermod
from drivers.engine import summary as summ
from drivers.engine.averages import base, check_convention, convention_term, excludes_self, peer_average
from drivers.engine.panel import Panel, need_note_term
from drivers.engine.reasons import Named, Reason, joined, term, why, worded
from drivers.errors import UserError

PEER_SETS = list(peermod.BUILTIN)


PeerSet = peermod.PeerSet  # a saved set as data: PeerSet(name, members); pass it wherever `peers` is taken
PeerArg = peermod.PeerArg


def peer_sets(saved=()) -> list[str]:
    """Built-in peer definitions followed by the names of the saved sets given (names or PeerSets), sorted."""
    return PEER_SETS + sorted({peermod.peer_name(p) for p in saved} - set(PEER_SETS))


def _check(panel: Panel, year: int | None, peer_set: PeerArg, convention: str) -> int:
    check_convention(convention)
    peermod.check_peers(peer_set)
    return panel.check_year(panel.latest_year() if year is None else year)


def peer_members(panel: Panel, region: str, year: int, peers: PeerArg = "kostragruppe", *, exclude_self: bool = True,
                 exclude_oslo: bool = False, k: int = 10) -> list[str]:
    """The peer municipalities of `region` (codes, sorted)."""
    i = panel.check_region(region)
    m = peermod.membership(panel, peers, year, exclude_self=exclude_self, exclude_oslo=exclude_oslo, k=k)
    return [str(c) for c in panel.municipalities[m[i]]]


def driver_table(panel: Panel, year: int | None = None, peers: PeerArg = "kostragruppe", convention: str = "weighted",
                 regions: list[str] | None = None, *, exclude_oslo: bool = False, k: int = 10) -> pd.DataFrame:
    """One row per (region, indicator): value, peer value, rank, gaps in kroner, status and reason."""
    year = _check(panel, year, peers, convention)
    table = _full_table(panel, year, peers, convention, exclude_oslo, k)
    if regions is None:
        return table.frame()
    return table.frame(table.rows_of([panel.check_region(r) for r in regions]))


# The driver tables held in memory at once (least recently used go first). The dashboard warms the default and
# the latest year × built-in peer set × the two conventions with the municipality included; time series do not
# read driver tables. So the bound is that warm-up set plus room for the "-excl-self" conventions, saved peer sets
# and the exclude_oslo / k variants (each save of a peer set gives new keys, so without a bound the old tables
# would stay forever). Never below MIN_TABLES. A table holds ~1.3 MB (drivertable.Table).
MIN_TABLES = 24
TABLE_SLACK = 8


WARM_YEARS = 2  # the dashboard warms the default and the latest year (views.warm); other years on demand


def table_cache_size(panel: Panel) -> int:
    """How many driver tables the panel keeps: the dashboard's warm-up set (WARM_YEARS × built-in peer sets × the
    two conventions with the municipality included) plus TABLE_SLACK, at least MIN_TABLES. Not one per year:
    with 2015–2025 that would be ~120 tables (~150 MB)."""
    return max(MIN_TABLES, min(len(panel.years), WARM_YEARS) * len(PEER_SETS) * 2 + TABLE_SLACK)


def _full_table(panel: Panel, year: int, peers: PeerArg, convention: str, exclude_oslo: bool = False,
                k: int = 10) -> drivertable.Table:
    """The compact driver table of a country-year, from the bounded cache (a PeerSet keys it by its members)."""
    key = ("driver_table", year, peers, convention, exclude_oslo, k)
    return panel.lru(key, lambda: drivertable.compute_table(panel, year, peers, convention, exclude_oslo=exclude_oslo, k=k),
                     maxsize=table_cache_size(panel), cache="_tables")


def gaps(panel: Panel, region: str, year: int | None = None, peers: PeerArg = "kostragruppe",
         convention: str = "weighted", *, exclude_oslo: bool = False, k: int = 10) -> pd.DataFrame:
    """Per service and in total: NDU, per resident, peer per resident, gap and need-corrected gap (kr)."""
    year = _check(panel, year, peers, convention)
    i = panel.check_region(region)
    m = len(reg.all())
    table = _full_table(panel, year, peers, convention, exclude_oslo, k)
    # plain lists of one municipality's rows (the table is region-major): microseconds, no pandas
    rows = {c: table.column(c, slice(i * m, (i + 1) * m)).tolist() for c in ["indicator", "peer_label", *gapmod.COLUMNS]}
    need, used = panel.need_index(year)
    out = gapmod.service_gaps(rows, reg.services(), None if math.isnan(need[i]) else float(need[i]))
    out.attrs["need_note"] = need_note_term()
    out.attrs["need_index_year"] = used
    out.attrs["peer_label"] = rows["peer_label"][0]
    out.attrs["convention_nb"] = convention_term(convention)
    return out


# ---- decomposition -------------------------------------------------------------------------------------
def _service_inputs(panel: Panel, service: str, year: int):
    """Arrays N, NDU, T, B, KBDU, I over all municipalities for one service, why any are missing (Reasons) and
    how to fetch them."""

    def compute():
        svc = reg.services().get(service) if service != "TOTAL" else {"target": None, "coverage_measure": None, "fetch_tables": ["12362"]}
        dims = "KOKart0000=AGD1" if service == "TOTAL" else f"KOKart0000=AGD2;KOKfunksjon0000={service}"
        n = panel.residents_kostra(year)
        ndu = panel.measure("ndu_1000kr", dims, year).value * 1000.0
        target = svc.get("target")
        t = panel.residents_kostra(year, *target) if target else np.full(panel.n, np.nan)
        missing: dict[str, Reason] = {}
        hints: dict[str, Reason] = {}
        cov = svc.get("coverage_measure")
        if cov:
            # users B = coverage × target group: SSB gives the coverage, not the user counts (kostra-method §5.7)
            pct, _, _ = measures.coverage_pct(panel, cov, year)
            b = pct / 100.0 * t
            names = [cov] if isinstance(cov, str) else list(cov)
            tab = ",".join(dict.fromkeys((reg.measure_spec(c) or {}).get("table", "?") for c in names))
            hints["B"] = why("fetch_measures", measures=joined(names, term("fmt.and")), fetch=reg.fetch_hint([tab]))
            if np.isnan(pct).all():
                missing["B"] = why("coverage_missing", measures=" + ".join(names), table=tab, year=year,
                                   fetch=reg.fetch_hint([tab]))
        elif service == "TOTAL":
            b = np.full(panel.n, np.nan)
            missing["B"] = why("total_not_by_service")
        else:
            b = np.full(panel.n, np.nan)
            missing["B"] = why("no_user_counts", service=Named.of(nb=svc.get("name_nb", service),
                                                                  en=svc.get("name_en")).lower())
        kb = panel.measure("kbdu_1000kr", f"KOKart0000=AGD4;KOKfunksjon0000={service}", year).value * 1000.0
        if service == "TOTAL":
            missing["KBDU"] = why("total_no_net_gross")
        else:
            hints["KBDU"] = why("fetch_measures", measures="kbdu_1000kr", fetch=reg.fetch_hint(["12362"]))
        if service != "TOTAL" and np.isnan(kb).all():
            missing["KBDU"] = why("kbdu_missing", fetch=reg.fetch_hint(["12362"]))
        need, _ = panel.need_index(year)
        if np.isnan(need).all():
            missing["I"] = why("need_index_missing")
        return {"N": n, "NDU": ndu, "T": t, "B": b, "KBDU": kb, "I": need}, missing, bool(target), hints

    return panel.memo(("service_inputs", service, year), compute)


def decompose(panel: Panel, region: str, year: int | None = None, service: str = "FGK9", peers: PeerArg = "kostragruppe",
              convention: str = "weighted", *, exclude_oslo: bool = False, k: int = 10) -> pd.DataFrame:
    """The service's gap split into need, target share, coverage, unit cost, net/gross (+ not split, averaging).

    attrs: gap_nok (NaN when not computable), reason (why not, e.g. the peer group has no other members),
    n_peer_members, service, region, year, need_note, convention_nb."""
    year = _check(panel, year, peers, convention)
    if service != "TOTAL":
        reg.service(service)
    i = panel.check_region(region)
    key = ("decompose", i, year, service, peers, convention, exclude_oslo, k)

    def compute():
        rows, n_members = _decompose_rows(panel, i, year, service, peers, convention, exclude_oslo, k)
        # columns as lists, then one DataFrame: row dicts and column assignments cost ~10× the LMDI itself
        data = {c: [r[c] for r in rows] for c in ("component", "name_nb", "name_en", "nok", "available", "reason")}
        for c in ("name_nb", "reason"):  # object columns keep the Reasons (a str column would make them plain text)
            data[c] = pd.Series(data[c], dtype=object)
        avail = [r["nok"] for r in rows if r["available"]]
        gap = float(np.sum(avail)) if avail else math.nan
        data["share"] = [x / gap for x in data["nok"]] if gap else [math.nan] * len(rows)
        data["status"] = [None] * len(rows)
        out = pd.DataFrame(data)
        out.attrs.update(gap_nok=gap, service=service, region=panel.municipalities[i], year=year,
                         reason=None if avail else rows[0]["reason"], n_peer_members=n_members,
                         need_note=need_note_term(), convention_nb=convention_term(convention))
        return out

    res = panel.lru(key, compute)
    out = res.copy()
    out.attrs = dict(res.attrs)
    return out


def _decompose_rows(panel: Panel, i: int, year: int, service: str, peers: PeerArg, convention: str, exclude_oslo: bool,
                    k: int) -> tuple[list[dict], int]:
    """dec.split's rows for municipality index i (plain dicts, shared by decompose and summary_text) and the
    number of members in its peer group. An empty peer group gives every row the reason, nothing else."""

    def compute():
        arrays, missing, has_target, hints = _service_inputs(panel, service, year)
        m = peers_mod_membership(panel, peers, year, exclude_oslo, k, convention)
        idx = np.flatnonzero(m[i])
        own = dec.Inputs(**{key_: float(v[i]) for key_, v in arrays.items()})
        rows = dec.split(own, {key_: v[idx] for key_, v in arrays.items()}, base(convention), has_target, missing, hints,
                         peer_value=_ssb_peer_value(panel, i, year, service, peers, convention, exclude_oslo, k))
        if not (idx != i).any():
            alone = peermod.empty_reason(peermod.peer_label(panel, i, peers, k, convention=convention),
                                         panel.name(panel.municipalities[i]))
            for r in rows:
                r.update(nok=math.nan, available=False, reason=alone)
        elif not any(r["available"] for r in rows) and not (own.N > 0 and np.isfinite(own.NDU)):
            for r in rows:
                r["reason"] = why("own_spending_missing", year=year)
        return rows, int((idx != i).sum())  # the other members: 0 when the municipality is alone

    key = ("decompose_rows", i, year, service, peers, convention, exclude_oslo, k)
    return panel.lru(key, compute)


def _ssb_peer_value(panel: Panel, i: int, year: int, service: str, peers: PeerArg, convention: str, exclude_oslo: bool,
                    k: int) -> float | None:
    """SSB's published per-resident figure for municipality i's group and the service, when the driver table uses
    it as the peer value (so the decomposition splits the same gap as the tables show), else None."""
    inds = [x.id for x in reg.all()]
    ind = f"ndu_{service.lower()}_per_innb"
    if ind not in inds:
        return None
    full = _full_table(panel, year, peers, convention, exclude_oslo, k)
    row = i * len(inds) + inds.index(ind)
    return float(full.column("peer_value", row)) if full.column("peer_source", row) == "ssb" else None


def peers_mod_membership(panel, peer_set, year, exclude_oslo, k, convention="weighted"):
    """The membership matrix the convention asks for (the municipality in its own group unless "-excl-self")."""
    return peermod.membership(panel, peer_set, year, exclude_self=excludes_self(convention), exclude_oslo=exclude_oslo, k=k)


def what_if(panel: Panel, region: str, year: int | None = None, service: str = "FGK7", lever: str = "coverage",
            peers: PeerArg = "kostragruppe", convention: str = "weighted", target: str = "median", **kw) -> dict:
    """NDU change (kr) if the municipality had its peers' coverage or unit cost, all else equal.

    `target` "median" (default) takes the peers' median ratio; "average" the peer average in `convention`.
    """
    year = _check(panel, year, peers, convention)
    if lever not in ("coverage", "unit_cost"):
        raise UserError(why("err_lever"))
    if target not in ("median", "average"):
        raise UserError(why("err_target"))
    reg.service(service)
    i = panel.check_region(region)
    arrays, missing, _, _ = _service_inputs(panel, service, year)
    # the target is the OTHER members' median (or average): "what if we had our peers' coverage"
    m = peermod.membership(panel, peers, year, exclude_self=True, exclude_oslo=kw.get("exclude_oslo", False),
                           k=kw.get("k", 10))
    idx = np.flatnonzero(m[i])
    if len(idx) == 0:  # no other members at all: that, not a missing input, is the reason
        missing = {"B": peermod.empty_reason(peermod.peer_label(panel, i, peers, kw.get("k", 10), convention=convention),
                                             panel.name(panel.municipalities[i]))}
    top, bottom = ("B", "T") if lever == "coverage" else ("KBDU", "B")
    need = [top, bottom]
    lack = [missing[x] for x in need if x in missing]
    result = {"service": service, "lever": lever, "target": target, "region": panel.municipalities[i], "year": year,
              "nok": math.nan,
              "own": math.nan, "peer": math.nan, "unit": "%" if lever == "coverage" else "kr", "available": False}
    if lack:
        result["reason"] = joined(lack)
        return result
    own_ratio = arrays[top][i] / arrays[bottom][i]
    a, b = arrays[top][idx], arrays[bottom][idx]
    ok = ~(np.isnan(a) | np.isnan(b)) & (b > 0)
    what = term("comp.lever.coverage") if lever == "coverage" else term("comp.lever.unit_cost")
    if not np.isfinite(own_ratio) or own_ratio <= 0:
        result["reason"] = why("own_lever_missing", what=what, year=year)
        return result
    if not ok.any():
        result["reason"] = why("peers_lever_missing", n=len(idx), what=what, year=year,
                               label=peermod.peer_label(panel, i, peers, kw.get("k", 10), convention=convention))
        return result
    if target == "median":
        peer_ratio = float(np.median(a[ok] / b[ok]))
    elif base(convention) == "weighted":
        peer_ratio = a[ok].sum() / b[ok].sum()
    else:
        peer_ratio = float(np.mean(a[ok] / b[ok]))
    ndu = arrays["NDU"][i]
    scale = 100.0 if lever == "coverage" else 1.0
    result.update(nok=float(ndu * (peer_ratio / own_ratio - 1.0)), own=float(own_ratio * scale),
                  peer=float(peer_ratio * scale), available=True, reason=None,
                  inputs={"ndu_nok": float(ndu), "n_peers": int(ok.sum())})
    return result


# ---- series, neighbours, profile, summary ------------------------------------------------------------------
def timeseries(panel: Panel, region: str, indicator: str, peers: PeerArg = "kostragruppe", convention: str = "weighted",
               *, exclude_oslo: bool = False, k: int = 10) -> pd.DataFrame:
    """The indicator for every year the data has, on the 2024 structure, with back-cast years flagged.

    A year without a figure is a row with value NaN (a gap in the line, never 0). One indicator and one
    municipality per year: the indicator's components (memoised per year) and this municipality's peer row,
    not the whole driver table of every year (11 years × ~50 indicators × 357 municipalities)."""
    check_convention(convention)
    ind = reg.get(indicator)
    i = panel.check_region(region)
    key = ("timeseries", i, ind.id, peers, convention, exclude_oslo, k)
    out = panel.lru(key, lambda: _timeseries(panel, i, ind, peers, convention, exclude_oslo, k))
    res = out.copy()
    res.attrs = dict(out.attrs)
    return res


def _timeseries(panel: Panel, i: int, ind, peers: PeerArg, convention: str, exclude_oslo: bool, k: int) -> pd.DataFrame:
    years = sorted(set().union(*(panel.measure_years(m, dims) for m, dims in ind.numerator_parts)))
    if years:
        years = list(range(years[0], years[-1] + 1))  # a year inside the span with no figure is a gap
    rows = []
    keys = drivertable.ssb_group_keys(panel, peers, convention, exclude_oslo)
    for y in years:
        c = measures.components(panel, ind, y)
        m = peermod.membership(panel, peers, y, exclude_self=excludes_self(convention), exclude_oslo=exclude_oslo, k=k)
        row = m[i:i + 1]
        alone = not (row[0] & (np.arange(panel.n) != i)).any()
        avg, _ = peer_average(row, c.num, c.den, c.value, convention)
        peer = math.nan if alone or (base(convention) == "weighted" and not c.weighted_ok) else float(avg[0])
        if keys is not None and not alone:  # SSB's own group figure where the data holds it, as the driver table
            peer = measures.ssb_aggregate(panel, ind, y).get(str(keys[i]), peer)
        value = float(c.value[i])
        gap = float(c.den[i] * (value - peer)) if ind.gap else math.nan
        reason = c.reason[i]
        if alone:
            reason = peermod.empty_reason(peermod.peer_label(panel, i, peers, k, convention=convention),
                                          panel.name(panel.municipalities[i]))
        rows.append({"year": y, "value": value, "peer_value": peer, "backcast": bool(c.backcast[i]),
                     "status": c.status[i], "gap_nok": gap, "reason": reason})
    out = pd.DataFrame(rows, columns=["year", "value", "peer_value", "backcast", "status", "gap_nok", "reason"])
    out["reason"] = pd.Series([r["reason"] for r in rows], dtype=object)  # Reasons kept, None where none
    out.attrs.update(indicator=ind.id, unit=ind.unit, region=panel.municipalities[i])
    return out


def nearest_neighbours(panel: Panel, region: str, year: int | None = None, k: int = 10, weights: dict | None = None,
                       service: str | None = None) -> pd.DataFrame:
    """The k most similar municipalities (CIPFA-style), distance rebased to 0..1, contrib_<variable> shares."""
    year = panel.latest_year() if year is None else int(year)
    return peermod.nearest_frame(panel, region, year, k=k, weights=weights, service=service)


def profile(panel: Panel, region: str, year: int | None = None) -> dict:
    """Key facts about a municipality for headers and exports."""
    year = panel.latest_year() if year is None else int(year)
    i = panel.check_region(region)
    code = panel.municipalities[i]
    pop = panel.residents_kostra(year)[i]
    need, used = panel.need_index(year)
    frie = panel.measure("frie_inntekter_per_innbygger_kr", None, year)
    total = measures.components(panel, reg.get("ndu_total_per_innb"), year)
    group = panel.group[i]
    return {
        "region": code,
        "name": panel.name(code),
        "year": year,
        "population": None if math.isnan(pop) else int(pop),
        "population_date": f"{year + 1}-01-01",
        "kostragruppe": group,
        "kostragruppe_label": peermod.peer_label(panel, i, "kostragruppe"),
        "county": panel.county[i],
        "county_name": panel.county_name(panel.county[i]),
        "need_index": None if math.isnan(need[i]) else float(need[i]),
        "need_index_year": used,
        "need_note": need_note_term(),
        "need_note_en": worded(need_note_term(), "en"),
        "frie_inntekter_per_innb": None if math.isnan(frie.value[i]) else float(frie.value[i]),
        "frie_inntekter_status": frie.status[i],
        "ndu_total_per_innb": None if math.isnan(total.value[i]) else float(total.value[i]),
        "ndu_total_1000kr": None if math.isnan(total.num[i]) else float(total.num[i] / 1000.0),
        "backcast": bool(total.backcast[i]),
    }


def summary(panel: Panel, region: str, year: int | None = None, peers: PeerArg = "kostragruppe",
            convention: str = "weighted", **kw) -> Reason:
    """A few sentences on the largest gaps and what drives them, from the numbers above, as a Reason (its str is
    the bokmål text; drivers.i18n.reason_text words it in any language).

    Fast: the service gaps are a slice of the memoised driver table and only the three largest are split
    (summary_facts, _decompose_rows); the same text as summary_text_reference (api frames) in ~1 ms."""
    exclude_oslo, k = bool(kw.get("exclude_oslo", False)), int(kw.get("k", 10))
    year = _check(panel, year, peers, convention)
    i = panel.check_region(region)
    key = ("summary", i, year, peers, convention, exclude_oslo, k)
    return panel.lru(key, lambda: _summary_fast(panel, i, year, peers, convention, exclude_oslo, k))


def summary_text(panel: Panel, region: str, year: int | None = None, peers: PeerArg = "kostragruppe",
                 convention: str = "weighted", lang: str = "nb", **kw) -> str:
    """summary() in `lang`, as drivers.i18n words it (bokmål for a language it does not have)."""
    return worded(summary(panel, region, year, peers, convention, **kw), lang)


def summary_facts(panel: Panel, year: int, peers: PeerArg = "kostragruppe", convention: str = "weighted", *,
                  exclude_oslo: bool = False, k: int = 10) -> dict:
    """What the summary needs for every municipality at once, sliced from the driver table (no recomputation):
    services, their names, gap and need-corrected gap (n × services arrays, TOTAL last), peer-group labels
    (Reasons) and sizes. Memoised per (year, peers, convention, options) in a bounded cache."""
    year = _check(panel, year, peers, convention)

    def compute():
        full = _full_table(panel, year, peers, convention, exclude_oslo, k)
        inds = [x.id for x in reg.all()]
        n, m = panel.n, len(inds)
        total = term("ind.total_ndu")
        svcs = [(c, s["name_nb"], s.get("name_en", s["name_nb"])) for c, s in reg.services().items()]
        svcs.append(("TOTAL", total, worded(total, "en")))
        svcs = [t for t in svcs if f"ndu_{t[0].lower()}_per_innb" in inds]
        cols = [inds.index(f"ndu_{c.lower()}_per_innb") for c, _, _ in svcs]
        gap = full.column("gap_nok").astype(float).reshape(n, m)[:, cols]
        gap_nc = full.column("gap_need_corrected_nok").astype(float).reshape(n, m)[:, cols]
        return {
            "services": [c for c, _, _ in svcs], "name_nb": [a for _, a, _ in svcs], "name_en": [b for _, _, b in svcs],
            "gap": gap, "gap_nc": gap_nc,
            "label": full.column("peer_label", slice(None, None, m)) if m else np.array([], dtype=object),
            "n_members": full.column("n_peer_members", slice(None, None, m)) if m else np.zeros(0, dtype=np.int64),
        }

    return panel.lru(("summary_facts", year, peers, convention, exclude_oslo, k), compute,
                     maxsize=max(64, table_cache_size(panel)))


def _summary_fast(panel: Panel, i: int, year: int, peers: PeerArg, convention: str, exclude_oslo: bool,
                  k: int) -> Reason:
    f = summary_facts(panel, year, peers, convention, exclude_oslo=exclude_oslo, k=k)
    name = panel.name(panel.municipalities[i])
    label = f["label"][i]
    if f["n_members"][i] == 0:
        return summ.empty_text(name, label, year)
    gap, gap_nc = f["gap"][i], f["gap_nc"][i]
    rows = [{"service": c, "name_nb": nb, "name_en": en, "gap_nok": float(gap[j]), "gap_need_corrected_nok": float(gap_nc[j])}
            for j, (c, nb, en) in enumerate(zip(f["services"], f["name_nb"], f["name_en"], strict=True))]
    svc = [r for r in rows if r["service"] != "TOTAL" and not math.isnan(r["gap_nok"])]
    top = sorted(svc, key=lambda r: -abs(r["gap_nok"]))[:3]  # the summary names three
    decs = {r["service"]: _decompose_rows(panel, i, year, r["service"], peers, convention, exclude_oslo, k)[0]
            for r in top}
    return summ.summary(name, label, year, rows, decs, convention)


def summary_text_reference(panel: Panel, region: str, year: int | None = None, peers: PeerArg = "kostragruppe",
                           convention: str = "weighted", lang: str = "nb", **kw) -> str:
    """The summary built the plain way, from the public frames (api.gaps, api.decompose), nothing cached on
    the way: the baseline that tests and bench/drivers.py compare summary_text with."""
    year = _check(panel, year, peers, convention)
    i = panel.check_region(region)
    g = gaps(panel, region, year, peers, convention, **kw)
    name = panel.name(panel.municipalities[i])
    label = g.attrs.get("peer_label", peers)
    if len(g) and (g["n_peer_members"] == 0).all():
        return worded(summ.empty_text(name, label, year), lang)
    svc_rows = g[~g["service"].isin(["TOTAL", gapmod.OTHER]) & g["gap_nok"].notna()]
    top = svc_rows.assign(a=svc_rows["gap_nok"].abs()).nlargest(3, "a")["service"]
    decs = {svc: decompose(panel, region, year, svc, peers, convention, **kw) for svc in top}
    return worded(summ.summary(name, label, year, g, decs, convention), lang)


def group_value(panel: Panel, indicator: str, year: int, group: str | list[str] | PeerSet,
                convention: str = "weighted") -> float:
    """An indicator for a whole group (nobody left out): 'landet', 'landet-uten-oslo', 'EKG08', a county
    code like '32', a saved set (PeerSet), or a list of municipality codes. SSB's aggregates are weighted."""
    check_convention(convention)
    ind = reg.get(indicator)
    c = measures.components(panel, ind, int(year))
    codes = panel.municipalities
    if isinstance(group, PeerSet):
        group = list(group.members)
    if isinstance(group, list | tuple):
        mask = np.isin(codes, [panel.municipalities[panel.check_region(g)] for g in group])
    elif group == "landet":
        mask = np.ones(panel.n, dtype=bool)
    elif group == "landet-uten-oslo":
        mask = codes != "0301"
    elif str(group).startswith("EKG"):
        mask = panel.group == group
    elif str(group).isdigit() and len(str(group)) == 2:
        mask = panel.county == group
    else:
        raise UserError(why("err_unknown_group", group=str(group)))
    if not mask.any():
        raise UserError(why("err_empty_group", group=str(group)))
    if base(convention) == "weighted":
        if not c.weighted_ok:
            return math.nan
        from drivers.engine.averages import weighted_mean

        return weighted_mean(c.num[mask], c.den[mask])
    from drivers.engine.averages import unweighted_mean

    return unweighted_mean(c.value[mask])


def warm(panel: Panel, years: list[int] | None = None, peer_sets_: list[str] | None = None,
         conventions: tuple[str, ...] = ("weighted", "unweighted")) -> int:
    """Precompute the driver tables a dashboard opens with (latest year, built-in peer sets, both
    conventions), so the first callbacks are lookups. Returns the number of tables computed."""
    years = years or [panel.latest_year()]
    count = 0
    for y in years:
        for p in peer_sets_ or PEER_SETS:
            for c in conventions:
                _full_table(panel, y, p, c)
                summary_facts(panel, y, p, c)  # and the slices gaps and summary_text read, so they are ~1 ms
                count += 1
    return count
