"""The catalog: which SSB tables and measures the drivers need (data in catalog.json).

Pure functions that turn a catalog entry plus SSB's live metadata into an explicit selection, and
that put the catalog's measure ids on parsed observations. Codes the metadata lacks are reported as
problems (one line each), never fatal: the rest of the fetch goes on. A catalogued code whose label
in SSB's metadata differs from the label the catalog recorded from SSB is reported the same way.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from drivers.errors import UserError

CATALOG_JSON = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class TableEntry:
    id: str
    title: str
    kind: str  # observations | population
    verified: str
    codes_verified: bool
    selection: dict
    measures: list[dict]
    expected_values: dict
    region_aggregates: list[str]
    region_pattern: str
    first_year: int


@dataclass
class Resolved:
    """An explicit selection for one table, and what the catalog asked for that SSB does not have."""

    selection: dict[str, list[str]]
    region_dim: str
    time_dim: str
    problems: list[str] = field(default_factory=list)


@functools.cache
def _raw() -> dict:
    return json.loads(CATALOG_JSON.read_text(encoding="utf-8"))


def entries() -> dict[str, TableEntry]:
    raw = _raw()
    out = {}
    for tid, e in raw["tables"].items():
        out[tid] = TableEntry(
            tid, e["title"], e["kind"], e["verified"], bool(e.get("codes_verified", False)), e["selection"], e.get("measures", []),
            e.get("expected_values", {}), e.get("region_aggregates", raw["region_aggregates"]),
            e.get("region_pattern", raw["region_pattern"]), e.get("first_year", raw["default_first_year"]),
        )
    return out


def not_catalogued() -> list[dict]:
    """Rows of contentscodes_found.csv left out of the catalog, each with table, contents and reason."""
    return list(_raw().get("not_catalogued", []))


def _norm(label: str) -> str:
    return " ".join(str(label).split())


def label_problems(entry: TableEntry, meta: dict) -> list[str]:
    """One line per catalogued code whose label in SSB's metadata is not the label the catalog recorded.

    Only measures with `label` (SSB's own label, from a Statbank export or the API) are compared; labels the
    sources paraphrased are not. Whitespace differences do not count.
    """
    labels = meta.get("dimension", {}).get("ContentsCode", {}).get("category", {}).get("label", {})
    out = []
    for rule in entry.measures:
        code, expected = rule.get("contents"), rule.get("label")
        if not code or not expected or code not in labels:
            continue
        found = labels[code]
        if _norm(found) != _norm(expected):
            out.append(f"tabell {entry.id}: koden {code} har fått ny etikett hos SSB — ventet «{expected}», "
                       f"fant «{found}» (måltallet {rule['id']} hentes fortsatt; sjekk at det betyr det samme)")
    return out


def get(table_id: str) -> TableEntry:
    cat = entries()
    if table_id not in cat:
        raise UserError(f"tabell {table_id} er ikke i katalogen (unknown table); kjente: {', '.join(cat)}")
    return cat[table_id]


def _role(meta: dict, role: str, fallback: tuple[str, ...]) -> str:
    ids = meta.get("id", [])
    for dim in (meta.get("role") or {}).get(role, []):
        if dim in ids:
            return dim
    for dim in fallback:
        if dim in ids:
            return dim
    raise UserError(f"tabell {meta.get('label', '?')}: fant ingen {role}-dimensjon i metadata")


def codes(meta: dict, dim: str) -> list[str]:
    index = meta["dimension"][dim]["category"]["index"]
    if isinstance(index, list):
        return list(index)
    return sorted(index, key=index.get)


def resolve(entry: TableEntry, meta: dict, years: tuple[int, int] | None = None,
            regions: list[str] | None = None) -> Resolved:
    """Selection for every dimension from the recipe and the live metadata (dimension order kept)."""
    region_dim = _role(meta, "geo", ("KOKkommuneregion0000", "Region"))
    time_dim = _role(meta, "time", ("Tid",))
    dims = meta["dimension"]
    problems: list[str] = []
    selection: dict[str, list[str]] = {}
    for dim in meta["id"]:
        available = codes(meta, dim)
        if dim == region_dim:
            if regions:
                chosen = [r for r in regions if r in set(available)]
                problems += [f"{entry.id}: region {r} finnes ikke i tabellen (not in the table)"
                             for r in regions if r not in set(available)]
            else:
                pattern = re.compile(entry.region_pattern)
                chosen = [c for c in available if pattern.match(c)]
                have = set(available)
                chosen += [a for a in entry.region_aggregates if a in have]
                absent = [a for a in entry.region_aggregates if a not in have]
                if absent:
                    problems.append(f"{entry.id}: {len(absent)} aggregat(er) finnes ikke i {region_dim}: {', '.join(absent)}")
        elif dim == time_dim:
            lo, hi = years or (entry.first_year, 9999)
            chosen = [c for c in available if c[:4].isdigit() and lo <= int(c[:4]) <= hi]
            if not chosen:
                problems.append(f"{entry.id}: ingen år i {lo}-{hi} (SSB har {available[0]}-{available[-1]})")
        else:
            recipe = entry.selection.get(dim, "eliminate")
            if recipe == "eliminate":
                if dims[dim].get("extension", {}).get("elimination", False):
                    continue
                chosen = available
            elif recipe == "*":
                chosen = available
            elif isinstance(recipe, dict) and "prefix" in recipe:
                chosen = [c for c in available if c.startswith(recipe["prefix"])]
                if not chosen:
                    problems.append(f"{entry.id}: ingen koder i {dim} begynner med {recipe['prefix']}")
            else:
                have = set(available)
                chosen = [c for c in recipe if c in have]
                problems += [f"{entry.id}: koden {c} finnes ikke i {dim} (renamed or removed?)"
                             for c in recipe if c not in have]
        selection[dim] = chosen
    for dim in entry.selection:
        if dim not in dims:
            problems.append(f"{entry.id}: dimensjonen {dim} finnes ikke lenger i tabellen")
    problems += label_problems(entry, meta)
    return Resolved(selection, region_dim, time_dim, problems)


def _contents_for(rule: dict, meta: dict) -> tuple[list[str], str | None]:
    """The ContentsCode(s) a measure rule points at; a note if the code had to be found by label."""
    labels = meta["dimension"].get("ContentsCode", {}).get("category", {}).get("label", {})
    code = rule.get("contents")
    if code and code in labels:
        return [code], None
    pattern = rule.get("contents_label")
    if pattern:
        found = [c for c, lab in labels.items() if pattern.lower() in lab.lower()]
        if len(found) == 1:
            note = None if not code else f"koden {code} mangler; brukte {found[0]} «{labels[found[0]]}» etter etikett"
            return found, note
    likely = " (tabellen var bare antatt i kilden)" if rule.get("table_confidence") == "likely" else ""
    return [], f"koden {code or pattern!r} for måltallet {rule['id']} finnes ikke i metadata (renamed or removed?){likely}"


def assign_measures(entry: TableEntry, meta: dict, observations: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Add the `measure` column: the catalog's id where contents code and dims match, else None."""
    obs = observations.copy()
    measure = pd.Series([None] * len(obs), index=obs.index, dtype=object)
    problems = []
    for rule in entry.measures:
        contents, note = _contents_for(rule, meta)
        if note:
            problems.append(f"{entry.id}: {note}")
        if not contents:
            continue
        mask = obs["contents_code"].isin(contents)
        dims = meta.get("dimension", {})
        for dim, code in rule.get("where", {}).items():
            if dim not in dims:
                problems.append(f"{entry.id}: måltallet {rule['id']} ventet dimensjonen {dim}, som tabellen ikke har "
                                f"(har: {', '.join(meta.get('id', []))})")
            elif code not in set(codes(meta, dim)):
                problems.append(f"{entry.id}: måltallet {rule['id']} ventet koden {code} i {dim}, som ikke finnes")
            mask &= obs["dims"].str.contains(rf"(?:^|;){re.escape(dim)}={re.escape(code)}(?:;|$)", regex=True)
        measure[mask & measure.isna()] = rule["id"]
    obs["measure"] = measure
    return obs, problems
