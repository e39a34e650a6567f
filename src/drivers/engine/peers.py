"""Peer groups: KOSTRA group, county, Landet, Landet uten Oslo, nearest neighbours and saved named sets.

Every peer definition becomes a boolean membership matrix M (municipality i × peer j) over
panel.municipalities, so that peer averages for all municipalities are one matrix product (averages.py).
The municipality itself is a member of its own KOSTRA group, county and country unless the caller leaves
it out (exclude_self, the ASSS practice of kostra-method.md §5.4; api does so under the "-excl-self"
conventions). Nearest neighbours never include the municipality itself.

Nearest neighbours follow CIPFA (§5.8): structural variables are z-scored over all municipalities, the
distance is the weighted Euclidean distance, and a neighbour's distance is rebased so that the farthest
municipality is 1. Each neighbour's per-variable share of the squared distance says why it is similar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from drivers.engine import indicators as reg
from drivers.engine.averages import excludes_self
from drivers.engine.panel import OSLO, Panel
from drivers.engine.reasons import Reason, term, why
from drivers.errors import UserError

BUILTIN = ["kostragruppe", "fylke", "landet", "landet-uten-oslo", "naboer"]

# Structural variables for nearest neighbours; their labels are worded in drivers.i18n ("peer.var.<name>").
VARIABLES = ("innbyggere", "andel_0_5", "andel_6_15", "andel_67_79", "andel_80", "kostnadsindeks",
             "frie_inntekter_per_innb")


def variable_label(name: str) -> Reason:
    """A structural variable's label ('Innbyggere (log)', 'Kostnadsindeks (DKI, ikke SSB)', …)."""
    return term(f"peer.var.{name}")


# The variables that drive each service's need (used when neighbours are chosen per service).
SERVICE_VARIABLES = {
    "FGK7": ["innbyggere", "andel_0_5", "kostnadsindeks"],
    "FGK8b": ["innbyggere", "andel_6_15", "kostnadsindeks"],
    "FGK9": ["innbyggere", "andel_67_79", "andel_80", "kostnadsindeks"],
    "FGK13": ["innbyggere", "andel_0_5", "andel_6_15", "kostnadsindeks"],
}
MIN_COVERAGE = 0.9  # a variable present for fewer municipalities than this is left out (and said so)


# ---- saved named sets (as data: files are drivers.peersets' business) ------------------------------------
@dataclass(frozen=True)
class PeerSet:
    """A user's named peer set as data: its name and member codes (sorted, unique). Equal and hashed by name
    AND members, so every cache keyed on a PeerSet forgets the old numbers when a set is saved with other
    members. Built by drivers.peersets from the saved-sets file; the engine never reads that file."""

    name: str
    members: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise UserError(why("err_peerset_no_name"))
        if self.name in BUILTIN:
            raise UserError(why("err_peerset_builtin", name=self.name))
        if isinstance(self.members, str):
            raise UserError(why("err_peerset_members_text"))
        object.__setattr__(self, "members", tuple(sorted({str(m).strip() for m in self.members if str(m).strip()})))


PeerArg = str | PeerSet  # a built-in peer definition by name, or a saved set as data


def peer_name(peers: PeerArg) -> str:
    """The name shown and stored for a peer choice: the built-in's id or the saved set's name."""
    return peers.name if isinstance(peers, PeerSet) else peers


def check_peers(peers) -> PeerArg:
    """A built-in name or a PeerSet; anything else (e.g. a saved set's bare name) is one clear UserError."""
    if isinstance(peers, PeerSet) or peers in BUILTIN:
        return peers
    if not isinstance(peers, str) or not peers:
        raise UserError(why("err_no_peers"))
    raise UserError(why("err_unknown_peers", peers=peers, known=", ".join(BUILTIN)))


# ---- nearest neighbours -------------------------------------------------------------------------------
def structural_variables(panel: Panel, year: int) -> pd.DataFrame:
    """The structural variables per municipality for accounting year `year` (residents at 31.12)."""

    def compute() -> pd.DataFrame:
        tot = panel.residents_kostra(year)
        share = lambda lo, hi: panel.residents_kostra(year, lo, hi) / tot  # noqa: E731
        need, _ = panel.need_index(year)
        frame = pd.DataFrame(
            {
                "innbyggere": np.log(np.where(tot > 0, tot, np.nan)),
                "andel_0_5": share(0, 5),
                "andel_6_15": share(6, 15),
                "andel_67_79": share(67, 79),
                "andel_80": share(80, 105),
                "kostnadsindeks": need,
            },
            index=pd.Index(panel.municipalities, name="region"),
        )
        frie = panel.measure("frie_inntekter_per_innbygger_kr", None, year).value
        frame["frie_inntekter_per_innb"] = frie
        return frame

    return panel.memo(("structural", year), compute)


def usable_variables(frame: pd.DataFrame, wanted: list[str]) -> tuple[list[str], dict[str, Reason]]:
    """Variables with enough coverage, and the reason for each left out."""
    used, dropped = [], {}
    for v in wanted:
        cov = frame[v].notna().mean() if v in frame else 0.0
        if cov >= MIN_COVERAGE and frame[v].std(skipna=True) > 0:
            used.append(v)
        else:
            dropped[v] = why("variable_sparse", variable=variable_label(v) if v in VARIABLES else v,
                             share=f"{cov:.0%}")
    return used, dropped


def distance_matrix(frame: pd.DataFrame, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Euclidean distance on z-scores, and the per-variable squared terms (n × n × v).

    A pair is compared on the variables both have; the sum is scaled up to the full weight so that a
    missing variable does not make two municipalities look closer.
    """
    cols = list(weights)
    x = frame[cols].to_numpy(dtype=float)
    z = (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0)
    w = np.array([weights[c] for c in cols], dtype=float)
    present = ~np.isnan(z)
    zf = np.where(present, z, 0.0)
    terms = (zf[:, None, :] - zf[None, :, :]) ** 2 * w  # n × n × v
    both = present[:, None, :] & present[None, :, :]
    terms = np.where(both, terms, 0.0)
    wsum = (both * w).sum(axis=2)
    total_w = w.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        d2 = terms.sum(axis=2) * np.where(wsum > 0, total_w / wsum, np.nan)
    return np.sqrt(d2), terms


def _weights(weights: dict[str, float] | None, wanted: list[str]) -> dict[str, float]:
    weights = dict(weights or {})
    unknown = [k for k in weights if k not in VARIABLES]
    if unknown:
        raise UserError(why("err_unknown_variables", unknown=", ".join(unknown), known=", ".join(VARIABLES)))
    if any((not np.isfinite(v)) or v < 0 for v in weights.values()):
        raise UserError(why("err_bad_weights"))
    out = {v: float(weights.get(v, 1.0)) for v in wanted}
    out = {k: v for k, v in out.items() if v > 0}
    if not out:
        raise UserError(why("err_zero_weights"))
    return out


def neighbour_model(panel: Panel, year: int, weights: dict[str, float] | None = None, service: str | None = None):
    """(distance n×n, per-variable terms, used variables, dropped reasons), memoised per arguments."""
    wanted = SERVICE_VARIABLES.get(service, list(VARIABLES)) if service else list(VARIABLES)
    key = ("nn", year, tuple(sorted((weights or {}).items())), service)

    def compute():
        frame = structural_variables(panel, year)
        used, dropped = usable_variables(frame, wanted)
        w = _weights({k: v for k, v in (weights or {}).items() if k in used or k not in VARIABLES}, used)
        dist, terms = distance_matrix(frame, w)
        return dist, terms, list(w), dropped

    return panel.memo(key, compute)


def nearest(dist: np.ndarray, i: int, k: int) -> np.ndarray:
    """Indices of the k nearest municipalities to i, itself excluded (ties broken by index)."""
    d = dist[i].copy()
    d[i] = np.inf
    d = np.where(np.isnan(d), np.inf, d)
    order = np.argsort(d, kind="stable")
    return order[: max(0, min(k, len(d) - 1))]


def nearest_frame(panel: Panel, region: str, year: int, k: int = 10, weights=None, service=None) -> pd.DataFrame:
    """The k nearest neighbours with rebased distance (farthest municipality = 1) and why they are close."""
    i = panel.check_region(region)
    if service is not None:
        reg.service(service)
    if not 1 <= int(k) < panel.n:
        raise UserError(why("err_neighbour_count", most=panel.n - 1))
    dist, terms, used, dropped = neighbour_model(panel, year, weights, service)
    idx = nearest(dist, i, int(k))
    row = np.where(np.isfinite(dist[i]), dist[i], np.nan)
    row[i] = np.nan
    far = np.nanmax(row)
    out = pd.DataFrame(
        {
            "region": panel.municipalities[idx],
            "name": [panel.name(c) for c in panel.municipalities[idx]],
            "distance": dist[i, idx] / far if far > 0 else 0.0,
            "distance_raw": dist[i, idx],
        }
    )
    t = terms[i, idx, :]
    tot = t.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(tot > 0, t / tot, 0.0)
    for j, v in enumerate(used):
        out[f"contrib_{v}"] = share[:, j]
    out["status"] = None  # the variables are our computations from SSB figures, not SSB cells
    out.attrs["variables"] = used
    out.attrs["dropped"] = dropped
    return out


# ---- membership matrices ------------------------------------------------------------------------------
def membership(
    panel: Panel,
    peers: PeerArg,
    year: int,
    *,
    exclude_self: bool = True,
    exclude_oslo: bool = False,
    k: int = 10,
    weights: dict[str, float] | None = None,
    service: str | None = None,
) -> np.ndarray:
    """Boolean matrix M[i, j]: is municipality j a peer of municipality i. `peers` is a built-in name or a
    PeerSet; the cache key holds the PeerSet itself (its members), never a file's state."""
    peers = check_peers(peers)
    key = ("members", peers, year, exclude_self, exclude_oslo, k, tuple(sorted((weights or {}).items())), service)
    compute = lambda: _membership(panel, peers, year, exclude_self, exclude_oslo, k, weights, service)  # noqa: E731
    if isinstance(peers, PeerSet):  # one per saved version of a set: bounded, or re-saving would grow memory
        return panel.lru(key, compute, maxsize=SAVED_MATRICES)
    return panel.memo(key, compute)


SAVED_MATRICES = 64  # membership matrices of saved sets kept at once (357² booleans, ~130 KB each)


def _membership(panel, peers, year, exclude_self, exclude_oslo, k, weights, service) -> np.ndarray:
    n = panel.n
    if isinstance(peers, PeerSet):
        cols = sorted({panel.pos[panel.code_map.get(c, c)] for c in peers.members if panel.code_map.get(c, c) in panel.pos})
        m = np.zeros((n, n), dtype=bool)
        m[:, cols] = True
    elif peers == "kostragruppe":
        g = panel.group
        m = (g[:, None] == g[None, :]) & (g[:, None] != None)  # noqa: E711 - elementwise on object array
    elif peers == "fylke":
        m = panel.county[:, None] == panel.county[None, :]
    elif peers == "landet":
        m = np.ones((n, n), dtype=bool)
    elif peers == "landet-uten-oslo":
        m = np.ones((n, n), dtype=bool)
        if OSLO in panel.pos:
            m[:, panel.pos[OSLO]] = False
    else:  # "naboer" (check_peers let nothing else through)
        dist = neighbour_model(panel, year, weights, service)[0]
        d = np.where(np.isnan(dist), np.inf, dist.copy())
        np.fill_diagonal(d, np.inf)
        kk = max(1, min(int(k), n - 1))
        nn = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        m = np.zeros((n, n), dtype=bool)
        m[np.arange(n)[:, None], nn] = True
    m = np.array(m, dtype=bool)
    if exclude_self:
        np.fill_diagonal(m, False)
    if exclude_oslo and OSLO in panel.pos:
        m[:, panel.pos[OSLO]] = False
    return m


def partition(panel: Panel, peers: PeerArg, exclude_oslo: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, excluded) when the peer set is "everyone in my group but me (and the excluded)", which lets
    averages use group sums instead of a matrix product; None for neighbours and saved sets."""
    excluded = np.zeros(panel.n, dtype=bool)
    if exclude_oslo or peers == "landet-uten-oslo":
        if OSLO in panel.pos:
            excluded[panel.pos[OSLO]] = True
    if peers == "kostragruppe":
        labels = np.array([g if g else f"_{i}" for i, g in enumerate(panel.group)], dtype=object)
    elif peers == "fylke":
        labels = panel.county
    elif peers in ("landet", "landet-uten-oslo"):
        labels = np.zeros(panel.n, dtype=object)
    else:
        return None
    return labels, excluded


def empty_reason(label: str, name: str) -> Reason:
    """Why a municipality has no peer values: its peer group has no member but itself (Oslo in EKG13)."""
    return why("peer_group_alone", label=label, name=name)


def peer_label(panel: Panel, region_index: int, peers: PeerArg, k: int = 10, convention: str = "weighted") -> str:
    """Name of the peer group of one municipality, e.g. 'KOSTRA-gruppe 10' (a Reason: 'KOSTRA group 10' in
    English; county and saved-set names are proper names and stay as they are). Under an "-excl-self" convention
    (ASSS) the label says the municipality is left out: 'KOSTRA-gruppe 10 uten Lørenskog'."""
    label = _peer_label(panel, region_index, peers, k)
    if excludes_self(convention) and peers != "naboer":
        label = term("peer.excluding", label=label, name=panel.name(panel.municipalities[region_index]))
    return label


def _peer_label(panel: Panel, region_index: int, peers: PeerArg, k: int) -> str:
    if isinstance(peers, PeerSet):
        return peers.name
    if peers == "kostragruppe":
        g = panel.group[region_index]
        return term("peer.kostragruppe", n=int(str(g)[3:])) if g else term("peer.kostragruppe_unknown")
    if peers == "fylke":
        return panel.county_name(panel.county[region_index])  # a name, or 'fylke NN' when the data has none
    if peers == "naboer":
        return term("peer.naboer", k=k)
    if peers == "landet":
        return term("peer.landet")
    if peers == "landet-uten-oslo":
        return term("peer.landet_uten_oslo")
    return peers
