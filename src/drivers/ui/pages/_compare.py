"""The Sammenlign page's tables, from the engine's driver table (memoised on the Panel, no DuckDB).

side_by_side: one row per municipality (the selected one first, then each peer) and one column per indicator
              of the chosen view, plus the peer averages under both conventions as pinned rows.
conventions:  per indicator, the selected municipality's value against the peer average taken both ways —
              weighted (Σ numerator / Σ denominator, SSB's group figures) and unweighted (mean of the
              municipalities' ratios) — and how far apart the two are.
why_similar:  the nearest neighbours with each structural variable's share of the distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from drivers import fmt, i18n

# Views of the indicator registry (URL parameter `visning`): which indicator kinds the grid shows. A view's name
# is the words' key "cmp.view.<view>".
VIEWS = {
    "per-innbygger": ("per_resident",),
    "maalgruppe": ("per_target",),
    "behovskorrigert": ("need_corrected",),
    "andel": ("priority",),
    "nokkeltall": ("ssb", "unit_cost"),
}
DEFAULT_VIEW = "per-innbygger"
WEIGHTED, UNWEIGHTED = "weighted", "unweighted"
EXCL_SELF = "-excl-self"


def pair(konv: str) -> tuple[str, str]:
    """The weighted and unweighted convention with the same membership as `konv` (municipality in or out)."""
    suffix = EXCL_SELF if konv.endswith(EXCL_SELF) else ""
    return WEIGHTED + suffix, UNWEIGHTED + suffix
# The two averages differ "noticeably" when they are more than this far apart, relative to the weighted one.
NOTICEABLE = 0.02


def view_indicators(view: str, inds: list) -> list:
    kinds = VIEWS.get(view, VIEWS[DEFAULT_VIEW])
    return [i for i in inds if i.kind in kinds]


def view_label(view: str, lang: str) -> str:
    return i18n.t(f"cmp.view.{view if view in VIEWS else DEFAULT_VIEW}", lang)


def _clean(v):
    """JSON-safe cell: NaN -> None (shown as missing, never 0)."""
    if v is None:
        return None
    if isinstance(v, float | np.floating) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass(frozen=True)
class Wide:
    """A driver table (one year, one peer set, one convention) as region × indicator arrays, so a view is a
    few numpy look-ups instead of pandas scalar access."""

    regions: np.ndarray
    names: np.ndarray
    indicators: list[str]
    value: np.ndarray
    status: np.ndarray
    peer_value: np.ndarray
    n_peers: np.ndarray
    reason: np.ndarray
    ssb_peer_value: np.ndarray | None = None  # SSB's published figure for the group (weighted, municipality in)

    @property
    def pos(self) -> dict[str, int]:
        return {r: i for i, r in enumerate(self.regions)}

    @property
    def ipos(self) -> dict[str, int]:
        return {c: j for j, c in enumerate(self.indicators)}


def wide(table: pd.DataFrame) -> Wide:
    """Reshape the engine's long driver table (region-major: every indicator of a region in a row block)."""
    indicators = list(dict.fromkeys(table["indicator"].tolist()))
    m = len(indicators)
    n = len(table) // m if m else 0
    ind_col = table["indicator"].to_numpy(dtype=object)
    reg_col = table["region"].to_numpy(dtype=object)
    region_major = (n * m == len(table) and (ind_col.reshape(n, m) == np.array(indicators, dtype=object)).all()
                    and (reg_col.reshape(n, m) == reg_col.reshape(n, m)[:, :1]).all())
    if not region_major:  # not the layout we know: sort into it
        table = table.assign(_j=table["indicator"].map({c: j for j, c in enumerate(indicators)}))
        table = table.sort_values(["region", "_j"], kind="stable")
        regions_all = table["region"].drop_duplicates().tolist()
        full = pd.MultiIndex.from_product([regions_all, range(m)], names=["region", "_j"])
        table = table.set_index(["region", "_j"]).reindex(full).reset_index()
        n = len(regions_all)
        reg_col = table["region"].to_numpy(dtype=object)

    def arr(col, dtype=object):
        return table[col].to_numpy(dtype=dtype).reshape(n, m)

    return Wide(
        regions=reg_col.reshape(n, m)[:, 0].astype(str),
        names=arr("name")[:, 0],
        indicators=indicators,
        value=arr("value", float),
        status=arr("status"),
        peer_value=arr("peer_value", float),
        n_peers=arr("n_peers", float),
        reason=arr("reason"),
        ssb_peer_value=arr("ssb_peer_value", float) if "ssb_peer_value" in table else None,
    )


def _status(v) -> str | None:
    return v if isinstance(v, str) and v else None


def side_by_side(w: Wide, selected: str, members: list[str], inds: list, population: dict) -> list[dict]:
    """Rows for the grid: the selected municipality, then its peers (by name), each indicator a column.

    Missing values stay None, with SSB's status symbol in `<indicator>__status`.
    """
    pos, ipos = w.pos, w.ipos
    cols = [(i.id, ipos[i.id]) for i in inds if i.id in ipos]
    regions = [selected] + [m for m in members if m != selected]
    rows = []
    for r in regions:
        i = pos.get(r)
        row = {"kommune": str(w.names[i]) if i is not None else r, "nr": r, "valgt": r == selected,
               "innbyggere": _clean(population.get(r))}
        for ind_id, j in cols:
            row[ind_id] = _clean(w.value[i, j]) if i is not None else None
            row[f"{ind_id}__status"] = _status(w.status[i, j]) if i is not None else None
        rows.append(row)
    head, rest = rows[:1], sorted(rows[1:], key=lambda x: x["kommune"])  # selected first, peers by name
    return head + rest


def peer_rows(ww: Wide, wu: Wide, selected: str, inds: list, lang: str = i18n.DEFAULT, ssb: Wide | None = None) -> list[dict]:
    """Pinned rows: the peer average, weighted and unweighted, for every indicator of the view; and SSB's own
    published figure for the group where the data holds it (`ssb`: the weighted table, municipality included)."""
    rows = []
    i = ssb.pos.get(selected) if ssb is not None and ssb.ssb_peer_value is not None else None
    if i is not None and any(ind.id in ssb.ipos and not math.isnan(ssb.ssb_peer_value[i, ssb.ipos[ind.id]]) for ind in inds):
        row = {"kommune": i18n.t("cmp.ssb_row", lang), "nr": "",
               "valgt": False, "snitt": True, "innbyggere": None}
        for ind in inds:
            j = ssb.ipos.get(ind.id)
            row[ind.id] = _clean(ssb.ssb_peer_value[i, j]) if j is not None else None
            row[f"{ind.id}__status"] = None
        rows.append(row)
    for label, w in ((i18n.t("cmp.avg_weighted", lang), ww), (i18n.t("cmp.avg_unweighted", lang), wu)):
        i, ipos = w.pos.get(selected), w.ipos
        row = {"kommune": label, "nr": "", "valgt": False, "snitt": True, "innbyggere": None}
        for ind in inds:
            j = ipos.get(ind.id)
            row[ind.id] = _clean(w.peer_value[i, j]) if i is not None and j is not None else None
            row[f"{ind.id}__status"] = None
        rows.append(row)
    return rows


def conventions(ww: Wide, wu: Wide, selected: str, inds: list, chosen: str, lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """Per indicator: own value, peer average both ways, their difference, and the own gap both ways.

    `noticeable` marks indicators whose two averages differ by more than NOTICEABLE (relative);
    `verdict_changes` marks those where the municipality is above one average and below the other; `merknad` is
    the engine's reason for a missing figure, worded in `lang`.
    """
    i = ww.pos.get(selected)
    iu = wu.pos.get(selected)
    rows = []
    if i is None or iu is None:
        return pd.DataFrame(rows)
    for ind in inds:
        j, ju = ww.ipos.get(ind.id), wu.ipos.get(ind.id)
        if j is None or ju is None:
            continue
        val = float(ww.value[i, j])
        pw = float(ww.peer_value[i, j])
        pu = float(wu.peer_value[iu, ju])
        diff = pu - pw
        rel = diff / abs(pw) if not math.isnan(diff) and pw != 0 else np.nan
        gap_w, gap_u = val - pw, val - pu
        flips = bool(not math.isnan(gap_w) and not math.isnan(gap_u) and gap_w != 0 and gap_u != 0
                     and (gap_w > 0) != (gap_u > 0))
        reason = ww.reason[i, j] if isinstance(ww.reason[i, j], str) else None
        if reason is None and isinstance(wu.reason[iu, ju], str):
            reason = wu.reason[iu, ju]
        rows.append({
            "indikator": ind.name(lang), "id": ind.id, "enhet": ind.unit, "desimaler": int(ind.decimals),
            "verdi": _clean(val), "status": _status(ww.status[i, j]),
            "vektet": _clean(pw), "uvektet": _clean(pu), "forskjell": _clean(diff),
            "forskjell_pct": _clean(rel * 100),
            "avvik_vektet": _clean(gap_w), "avvik_uvektet": _clean(gap_u),
            "n_vektet": _clean(ww.n_peers[i, j]), "n_uvektet": _clean(wu.n_peers[iu, ju]),
            "noticeable": bool(not math.isnan(rel) and abs(rel) > NOTICEABLE),
            "verdict_changes": flips,
            "valgt_snitt": chosen,
            "merknad": i18n.reason_text(reason, lang),
        })
    return pd.DataFrame(rows)


def display_value(variable: str, raw) -> float | None:
    """A structural variable as people read it: residents (not their log), shares in %."""
    if fmt.is_missing(raw):
        return None
    raw = float(raw)
    if variable == "innbyggere":
        return round(math.exp(raw))
    if variable.startswith("andel_"):
        return round(raw * 100, 1)
    if variable == "kostnadsindeks":
        return round(raw, 3)
    return round(raw)


def why_similar(nn: pd.DataFrame, structural: pd.DataFrame, selected: str, selected_name: str) -> tuple[list[dict], list[str]]:
    """Rows for the 'why similar' grid and the variables used, in order.

    The first row is the selected municipality (its own values); then each neighbour with its distance
    (0..1, the farthest municipality in the country = 1), and per variable its value (`<var>`) and that
    variable's share of the squared distance in % (`<var>__andel`). A small share means the variable makes the
    two alike; the shares of one row add up to 100.
    """
    variables = [c[len("contrib_"):] for c in nn.columns if c.startswith("contrib_")]
    own = {"rang": 0, "kommune": selected_name, "nr": selected, "avstand": 0.0, "valgt": True}
    for v in variables:
        own[v] = display_value(v, structural[v].get(selected)) if v in structural else None
        own[f"{v}__andel"] = None
    rows = [own]
    for rank, r in enumerate(nn.to_dict("records"), start=1):
        row = {"rang": rank, "kommune": r["name"], "nr": r["region"], "avstand": _clean(round(float(r["distance"]), 3)),
               "valgt": False}
        for v in variables:
            row[v] = display_value(v, structural[v].get(r["region"])) if v in structural else None
            row[f"{v}__andel"] = _clean(round(float(r[f"contrib_{v}"]) * 100, 1))
        rows.append(row)
    return rows, variables
