"""The panel: every input the engine needs, as numpy arrays over the current (2024) municipalities.

A Panel is built once from the store's frames (observations, population, regions, groups, need, tables,
code_changes) and then answers array look-ups: a measure for one year, residents in an age band at 1
January, the need index. Historical municipality codes are mapped to the current code here (see
history.py), so every year of a series lines up on the 2024 structure. Look-ups are memoised on the
Panel, so the dashboard's callbacks pay for each array only once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from drivers.engine.reasons import Reason, term, why
from drivers.errors import UserError

OSLO = "0301"
MAX_AGE = 105
LRU_ENTRIES = 1024  # per kind of per-municipality result (Panel.lru): ~12 MB for the summaries


def need_note_term() -> Reason:
    """What the need index is and where it comes from (worded in drivers.i18n)."""
    return term("ind.need_note")


@dataclass(frozen=True)
class MeasureArray:
    """One measure for one year over panel.municipalities: value (NaN if missing), SSB status, back-cast flag."""

    value: np.ndarray
    status: np.ndarray
    backcast: np.ndarray


def _norm_dims(dims: str | None) -> str:
    if not dims:
        return ""
    return ";".join(sorted(p for p in str(dims).split(";") if p))


class Panel:
    """All inputs, aligned on the current municipalities (`self.municipalities`, sorted codes)."""

    def __init__(
        self,
        observations: pd.DataFrame,
        population: pd.DataFrame,
        regions: pd.DataFrame,
        groups: pd.DataFrame,
        need: pd.DataFrame,
        tables: pd.DataFrame | None = None,
        code_changes: pd.DataFrame | None = None,
    ) -> None:
        from drivers.engine import history  # local: history imports panel constants

        self.observations = observations.copy()
        self.observations["region"] = self.observations["region"].astype(str)
        self.observations["year"] = self.observations["year"].astype(int)
        self.observations["dims"] = self.observations["dims"].fillna("").map(_norm_dims)
        status = self.observations["status"].astype(object)
        # a missing status is None, never NaN (a NaN would read as a symbol: "SSB-status «nan»")
        self.observations["status"] = status.where(status.notna() & (status != ""), None)
        self.population = population
        self.regions = regions if regions is not None else pd.DataFrame()
        self.groups = groups
        self.need = need
        self.tables = tables if tables is not None else pd.DataFrame()
        self.code_changes = code_changes if code_changes is not None else pd.DataFrame()
        self._memo: dict = {}

        self.code_map = history.code_map(self.regions, self.code_changes)
        self.first_year = history.first_year_of_code(self.regions, self.code_changes)
        self.municipalities = self._current_municipalities()
        self.n = len(self.municipalities)
        self.pos = {c: i for i, c in enumerate(self.municipalities)}
        self.names = self._names()
        self.county = np.array([c[:2] for c in self.municipalities], dtype=object)
        grp = groups.set_index(groups["region"].astype(str))["group_code"] if len(groups) else pd.Series(dtype=object)
        self.group = np.array([grp.get(c) for c in self.municipalities], dtype=object)
        self._build_population()

    # ---- structure -------------------------------------------------------------------------------
    def _current_municipalities(self) -> np.ndarray:
        reg = self.regions
        codes: set[str] = set()
        if len(reg):
            kommune = reg[reg["kind"] == "kommune"]
            current = kommune["current_code"].fillna(kommune["code"]) == kommune["code"]
            if "valid_to" in kommune:
                current &= kommune["valid_to"].isna()
            codes = set(kommune.loc[current, "code"].astype(str))
        if not codes:  # no region table: the KOSTRA-group membership lists the 2024 municipalities
            codes = set(self.groups["region"].astype(str))
        codes.discard("9999")
        codes.discard("2111")  # Longyearbyen is not a municipality in KOSTRA's sense
        if not codes:
            raise UserError(why("err_no_municipalities"))
        return np.array(sorted(codes), dtype=object)

    def _names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        reg = self.regions
        if len(reg):
            for code, name in zip(reg["code"].astype(str), reg["name"], strict=False):
                names.setdefault(code, name)
            # current names win over historical rows with the same code
            cur = reg[reg["current_code"].fillna(reg["code"]) == reg["code"]]
            names.update(dict(zip(cur["code"].astype(str), cur["name"], strict=False)))
        for code in self.municipalities:
            names.setdefault(code, code)
        return names

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def county_name(self, county: str) -> str:
        """The county's name from the regions table (codes '32' or 'EKA32'), else 'fylke 32' (a Reason, so it
        is 'county 32' in English)."""
        names = self.memo(("county_names",), self._county_names)
        name = names.get(county)
        return name if name is not None else term("peer.county_code", code=county)

    def _county_names(self) -> dict[str, str]:
        reg = self.regions
        out: dict[str, str] = {}
        if len(reg):
            for code, name in zip(reg.loc[reg["kind"] == "fylke", "code"].astype(str),
                                  reg.loc[reg["kind"] == "fylke", "name"], strict=True):
                out.setdefault(code.removeprefix("EKA"), str(name))
        return out

    def check_region(self, region: str) -> int:
        """Index of a current municipality code; a historical code is accepted and mapped."""
        region = str(region).strip()
        region = self.code_map.get(region, region)
        if region not in self.pos:
            raise UserError(why("err_unknown_municipality", region=repr(region), n=self.n))
        return self.pos[region]

    # ---- population --------------------------------------------------------------------------------
    def current_index(self, codes) -> np.ndarray:
        """Row index in self.municipalities for each code (historical codes mapped), -1 if not current."""
        arr = np.asarray(pd.Series(codes).astype(str).to_numpy(), dtype=object)
        uniq, inv = np.unique(arr, return_inverse=True)
        look = np.array([self.pos.get(self.code_map.get(c, c), -1) for c in uniq], dtype=np.int64)
        return look[inv] if len(uniq) else np.zeros(0, dtype=np.int64)

    def _build_population(self) -> None:
        pop = self.population
        ri_all = self.current_index(pop["region"])
        keep = ri_all >= 0
        year_all = pop["year"].to_numpy(dtype=np.int64)
        years = np.sort(np.unique(year_all[keep]))
        self.pop_years = years
        ypos = {int(y): i for i, y in enumerate(years)}
        arr = np.zeros((self.n, len(years), MAX_AGE + 1), dtype=np.float64)
        seen = np.zeros((self.n, len(years)), dtype=bool)
        ri = ri_all[keep]
        yi = np.searchsorted(years, year_all[keep])
        ai = np.clip(pop["age"].to_numpy(dtype=np.int64)[keep], 0, MAX_AGE)
        np.add.at(arr, (ri, yi, ai), pop["persons"].astype(float).fillna(0).to_numpy()[keep])
        seen[ri, yi] = True
        self._pop_cum = np.concatenate([np.zeros((self.n, len(years), 1)), np.cumsum(arr, axis=2)], axis=2)
        self._pop_seen = seen
        self._ypos = ypos

    def residents(self, year: int, lo: int = 0, hi: int = MAX_AGE) -> np.ndarray:
        """Residents aged lo..hi on 1 January of `year` (NaN where the year or municipality is missing)."""
        key = ("pop", year, lo, hi)
        if key not in self._memo:
            yi = self._ypos.get(int(year))
            if yi is None:
                out = np.full(self.n, np.nan)
            else:
                lo_, hi_ = max(0, lo), min(MAX_AGE, hi)
                out = self._pop_cum[:, yi, hi_ + 1] - self._pop_cum[:, yi, lo_]
                out = np.where(self._pop_seen[:, yi], out, np.nan)
            self._memo[key] = out
        return self._memo[key]

    def code_backcast(self, year: int) -> np.ndarray:
        """True where the current municipality code did not exist yet in `year` (figures are back-cast)."""
        return self.memo(("code_backcast", year), lambda: np.array(
            [year < self.first_year.get(c, -10**9) for c in self.municipalities], dtype=bool))

    def residents_kostra(self, year: int, lo: int = 0, hi: int = MAX_AGE) -> np.ndarray:
        """KOSTRA's denominator for accounting year t: residents at 31.12.t = 1 January t+1."""
        return self.residents(year + 1, lo, hi)

    # ---- observations ------------------------------------------------------------------------------
    def _rows(self, measure: str, dims: str | None) -> pd.DataFrame:
        """Observation rows of a measure. dims=None accepts any dims (an SSB key figure that some source
        files under extra labels); rows fetched from SSB (dims '') then come first and win duplicates."""
        index = self.memo(("obs_index",), lambda: self.observations.groupby(["measure", "dims"], sort=False).indices)
        if dims is None:
            parts = sorted(((d != "", idx) for (m, d), idx in index.items() if m == measure), key=lambda t: t[0])
            idx = np.concatenate([i for _, i in parts]) if parts else np.zeros(0, dtype=np.int64)
        else:
            idx = index.get((measure, _norm_dims(dims)), np.zeros(0, dtype=np.int64))
        return self.observations.iloc[idx]

    def measure(self, measure: str, dims: str | None = "", year: int | None = None,
                additive: bool | None = None) -> MeasureArray:
        """One measure (by catalog id and dims; dims=None = any) for one year over the current municipalities."""
        from drivers.engine import history

        key = ("measure", measure, None if dims is None else _norm_dims(dims))
        if key not in self._memo:
            rows = self._rows(measure, dims)
            self._memo[key] = history.align(rows, self, additive=history.is_additive(measure) if additive is None else additive)
        wide = self._memo[key]
        if year is None:
            raise ValueError("year is required")
        if year not in wide.years:
            return MeasureArray(np.full(self.n, np.nan), np.full(self.n, None, dtype=object), np.zeros(self.n, bool))
        j = wide.years.index(year)
        return MeasureArray(wide.value[:, j], wide.status[:, j], wide.backcast[:, j])

    def aggregate(self, measure: str, dims: str | None, year: int) -> dict[str, float]:
        """SSB's own figures for aggregate regions (EAK, EKGxx, counties) of a measure in one year: code -> value.

        Rows of current or historical municipality codes are not aggregates; missing values are left out."""
        key = ("aggregate", measure, None if dims is None else _norm_dims(dims))
        if key not in self._memo:
            rows = self._rows(measure, dims)
            agg = rows[~rows["region"].isin(self.pos) & ~rows["region"].isin(self.code_map) & rows["value"].notna()]
            by_year: dict[int, dict[str, float]] = {}
            for region, y, v in zip(agg["region"], agg["year"], agg["value"], strict=True):
                by_year.setdefault(int(y), {}).setdefault(str(region), float(v))
            self._memo[key] = by_year
        return self._memo[key].get(int(year), {})

    def measure_years(self, measure: str, dims: str | None = "") -> list[int]:
        """Years in which a current municipality (or a code mapped to one) has a figure for the measure.

        Memoised per (measure, dims): the scan over the observation rows took ~8 ms (CPU) a call, and a Tjenester
        page asked four times per view (the coverage tiles' reasons), every time series once or twice more."""
        key = ("measure_years", measure, None if dims is None else _norm_dims(dims))
        if key not in self._memo:
            rows = self._rows(measure, dims)
            rows = rows[rows["region"].isin(self.pos) | rows["region"].isin(self.code_map)]
            self._memo[key] = tuple(sorted(int(y) for y in rows.loc[rows["value"].notna(), "year"].unique()))
        return list(self._memo[key])

    def has_measure(self, measure: str) -> bool:
        return bool((self.observations["measure"] == measure).any())

    @property
    def years(self) -> list[int]:
        """Accounting years with net operating expenditure (the core measure)."""
        key = ("years",)
        if key not in self._memo:
            obs = self.observations
            ys = obs.loc[(obs["measure"] == "ndu_1000kr") & obs["value"].notna(), "year"].unique()
            self._memo[key] = sorted(int(y) for y in ys)
        return self._memo[key]

    def latest_year(self) -> int:
        ys = self.years
        if not ys:
            raise UserError(why("err_no_ndu"))
        return ys[-1]

    def check_year(self, year: int) -> int:
        year = int(year)
        if year not in self.years:
            have = ", ".join(map(str, self.years)) or why("err_no_years")
            raise UserError(why("err_no_year", year=year, have=have))
        return year

    # ---- need index ------------------------------------------------------------------------------
    def need_index(self, year: int, sector: str = "total") -> tuple[np.ndarray, int | None]:
        """Expenditure-need index per municipality (national mean 1.0) and the index year actually used.

        Uses the index of `year` if present, otherwise the nearest year available (the snapshot only has
        Grønt hefte 2026). Falls back to the total index when the sector index is missing.
        """
        key = ("need", year, sector)
        if key not in self._memo:
            need = self.need
            out, used = np.full(self.n, np.nan), None
            if need is not None and len(need):
                sub = need[need["sector"] == sector]
                # a sector index known for a few municipalities only (the snapshot has Lørenskog's) would
                # compare unlike with unlike: then the total index is used for everyone
                if sub["region"].nunique() < 0.9 * self.n:
                    sub = need[need["sector"] == "total"]
                if len(sub):
                    years = np.array(sorted(sub["year"].astype(int).unique()))
                    used = int(years[np.argmin(np.abs(years - int(year)))])
                    s = sub[sub["year"].astype(int) == used]
                    idx = s["region"].astype(str).map(lambda c: self.code_map.get(c, c))
                    ser = pd.Series(s["value"].astype(float).to_numpy(), index=idx)
                    ser = ser[~ser.index.duplicated()]
                    out = ser.reindex(self.municipalities).to_numpy(dtype=float)
            self._memo[key] = (out, used)
        return self._memo[key]

    def memo(self, key, compute):
        """Memoise `compute()` under `key` on this panel (used by api for precomputed tables)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def lru(self, key, compute, maxsize: int = LRU_ENTRIES, *, cache: str = "_lru"):
        """Like memo, but bounded: for per-municipality results (a long-running dashboard would otherwise
        keep one per municipality × year × peers × convention × language forever). Least recently used
        entries go first. Each kind of entry (key[0], e.g. "summary") has its own bound, so thousands of
        cheap per-municipality entries never push out the few expensive per-country-year ones. `cache`
        names the attribute that holds the caches (driver tables live apart from per-municipality results).
        A kind keeps LRU_ENTRIES by default: with 4 096-8 192 a kind, a soak of 8 users (bench/soak.py) kept
        filling them (summaries ~12 KB each) for the whole run."""
        kinds = self.__dict__.setdefault(cache, {})
        lock = self.__dict__.setdefault("_lru_lock", threading.Lock())  # the dashboard serves from threads
        kind = key[0] if isinstance(key, tuple) and key else None
        with lock:
            entries = kinds.setdefault(kind, OrderedDict())
            if key in entries:
                entries.move_to_end(key)
                return entries[key]
        value = compute()
        with lock:
            entries = kinds.setdefault(kind, OrderedDict())
            entries[key] = value
            while len(entries) > maxsize:
                entries.popitem(last=False)
        return value

