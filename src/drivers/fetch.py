"""Fetch orchestration: catalog -> live metadata -> plan -> client -> parse -> store, one table at a time.

Incremental: each table's `updated` is read first (GET /tables/{id}, one call) and compared with the stored
`ssb_tables.updated`; a table SSB has not republished since our last complete fetch of it is not fetched
again (no metadata, no data). A republished table is fetched from the newest year the database holds
onwards: SSB's API does not say which cells changed, and a KOSTRA publication revises the newest year
(15 March preliminary -> 15 June final) and adds the next one. `full=True` (`drivers fetch --full`) fetches
every table and every year.

Nothing is written until every chunk of a table has arrived and parsed; the table is then written in
one transaction (store.write_fetched_table), together with what changed against the stored version
(cells revised, added, removed; every revised cell's old and new value and status), so an interrupted or
failed fetch leaves that table as it was. Progress goes to stderr as one bar per table; the closing summary
counts requests, cells, retries, 429s and seconds.

Long on purpose: the whole fetch of one table (incremental check, plan, chunks, parse, one write) reads top to
bottom here; the HTTP itself is in drivers.ssb and the SQL in drivers.store.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from drivers import catalog, jsonstat, store
from drivers.errors import UserError
from drivers.ssb import OfflineMiss, SSBClient, TooManyCells, plan, split_request
from drivers.ssb.planner import cell_count, dedupe


@dataclass
class Report:
    """What happened, for the closing summary and the exit code."""

    written: dict[str, int] = field(default_factory=dict)  # table -> rows written
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: list[str] = field(default_factory=list)  # tables SSB has not republished: not fetched
    changes: dict[str, dict] = field(default_factory=dict)  # table -> counts, updated old/new, years, top revisions
    # repeated codes removed before any request (SSB answers a repeated code with 500 and an empty body):
    # '--tables' / '--regions' -> {'': codes}, table id -> {dimension: codes} for a planned selection
    duplicates: dict[str, dict[str, list[str]]] = field(default_factory=dict)


class Progress:
    """One text bar per table on stderr."""

    def __init__(self, stream: TextIO | None = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, table_id: str, done: int, total: int, cells: int) -> None:
        filled = self.width * done // max(total, 1)
        line = f"{table_id} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} forespørsler, {_n(cells)} celler"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        elif done == total:
            self.stream.write(line + "\n")
        self.stream.flush()


def parse_years(text: str | None) -> tuple[int, int] | None:
    """'2015-2024' or '2024' -> (2015, 2024)."""
    if not text:
        return None
    parts = text.split("-")
    try:
        lo, hi = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or hi is None or not (1900 <= lo <= hi <= 2100):
        raise UserError(f"--years må være ÅR eller FRA-TIL, f.eks. 2015-2024 (got {text!r})")
    return lo, hi


def parse_list(text: str | None) -> list[str] | None:
    if not text:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def fetch(client: SSBClient, db_path: Path | str, tables: list[str] | None = None,
          years: tuple[int, int] | None = None, regions: list[str] | None = None,
          progress: Progress | None = None, on_chunk: Callable[[str, int], None] | None = None,
          full: bool = False, report_region: str | None = None, top: int = 5) -> Report:
    """Fetch catalog tables into the database at db_path. `on_chunk(table, n)` runs after each chunk.

    Tables whose `updated` equals the stored one are skipped unless `full`. `report_region` picks whose
    revisions the report lists (the `top` largest per table; all regions when None).
    """
    report = Report()
    for flag, given in (("--tables", tables), ("--regions", regions)):
        if given:
            _, dropped = dedupe({"": given})
            if dropped:
                report.duplicates[flag] = dropped
    tables = list(dict.fromkeys(tables)) if tables else tables
    regions = list(dict.fromkeys(regions)) if regions else regions
    entries = [catalog.get(t) for t in (tables or list(catalog.entries()))]
    progress = progress or Progress()
    start = client.clock()
    stored = _stored(db_path, entries)
    metas: dict[str, tuple[dict, dict]] = {}
    for entry in entries:
        try:
            info = client.table(entry.id)
            if not full and _unchanged(stored.get(entry.id), info, years or (entry.first_year, 9999), regions):
                report.unchanged.append(entry.id)
                continue
            metas[entry.id] = (info, client.metadata(entry.id))
        except UserError as exc:  # SSBError, OfflineMiss: report, go on with the others
            report.failures.append(f"{entry.id}: {exc}")
    named = list(dict.fromkeys((regions or []) + ([report_region] if report_region else [])))
    if named and (metas or report.unchanged):
        _check_regions(named, metas, _stored_regions(db_path, report.unchanged), report.unchanged)
    for entry in entries:
        if entry.id not in metas:
            continue
        info, meta = metas[entry.id]
        scope = years or (None if full else _refresh_years(stored.get(entry.id), info, entry.first_year))
        try:
            rows = _fetch_table(client, db_path, entry, info, meta, scope, regions, progress, report, on_chunk)
        except UserError as exc:
            report.failures.append(f"{entry.id}: {exc}")
            continue
        if rows is not None:
            report.written[entry.id] = rows
    if report.changes:
        _top_revisions(db_path, report, report_region, top)
    report.seconds = client.clock() - start
    return report


def _utc(value) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.floor("s")


def _stored(db_path: Path | str, entries: list) -> dict[str, dict]:
    """What the database holds of each table (updated, origin, years, last fetch's regions); {} if no file."""
    if not Path(db_path).exists():
        return {}
    con = store.connect(db_path, read_only=True)
    try:
        out = {}
        for entry in entries:
            st = store.stored_table(con, entry.id, population=entry.kind == "population")
            if st is not None:
                out[entry.id] = st
        return out
    finally:
        con.close()


def _unchanged(stored: dict | None, info: dict, years: tuple[int, int], regions: list[str] | None) -> bool:
    """True when the stored table is our own complete fetch of the version SSB serves now (same `updated`),
    covering the years asked for (the catalog's default years when none were asked for)."""
    if not stored or stored.get("origin") != "ssb-api" or not stored.get("fetched"):
        return False
    new, old = _utc(info.get("updated")), _utc(stored.get("updated"))
    if new is None or old is None or new != old:
        return False
    if stored.get("last_regions") is not None and not regions:
        return False  # the last fetch asked for some regions only: the others are not stored
    have = stored.get("years") or []
    return {y for y in _period(info, years[0], have) if y <= years[1]} <= set(have)


def _period(info: dict, first_year: int, stored_years: list[int]) -> range:
    """The years SSB has from the catalog's first year on (by firstPeriod/lastPeriod of /tables/{id})."""
    first, last = str(info.get("firstPeriod") or "")[:4], str(info.get("lastPeriod") or "")[:4]
    lo = max(first_year, int(first)) if first.isdigit() else first_year
    hi = int(last) if last.isdigit() else max(stored_years or [lo])
    return range(lo, hi + 1)


def _refresh_years(stored: dict | None, info: dict, first_year: int) -> tuple[int, int] | None:
    """The years a refresh fetches (None = all): from the first default year the database lacks, or, when SSB
    has republished the table, from the newest stored year, whichever is earlier."""
    if not stored or stored.get("origin") != "ssb-api" or not stored.get("years") or not stored.get("fetched"):
        return None
    have = set(stored["years"])
    starts = [y for y in _period(info, first_year, stored["years"]) if y not in have][:1]
    if _utc(info.get("updated")) != _utc(stored.get("updated")):
        starts.append(max(have))
    return (min(starts), 9999) if starts else None


def _stored_regions(db_path: Path | str, table_ids: list[str]) -> set[str]:
    """Region codes of stored tables (from their categories), to check --regions without asking SSB."""
    if not table_ids or not Path(db_path).exists():
        return set()
    con = store.connect(db_path, read_only=True)
    try:
        out: set[str] = set()
        for tid in table_ids:
            cats = store.read_categories(con, tid)
            out.update(cats.loc[cats["dimension"].isin(["KOKkommuneregion0000", "Region"]), "code"])
        return out
    finally:
        con.close()


def _check_regions(regions: list[str], metas: dict[str, tuple[dict, dict]], known: set[str] | None = None,
                   stored_ids: list[str] = ()) -> None:
    """A region the user named that no requested table knows is an error, before anything is fetched
    (checked against SSB's metadata, and for tables not fetched again against their stored categories)."""
    known = set(known or ())
    for table_id, (_, meta) in metas.items():
        known.update(catalog.codes(meta, catalog.resolve(catalog.get(table_id), meta).region_dim))
    unknown = [r for r in regions if r not in known]
    if unknown:
        names = ", ".join([*metas, *stored_ids])
        raise UserError(f"ukjent region {', '.join(unknown)} (unknown region; not in table {names})")


def _fetch_table(client, db_path, entry, info, meta, years, regions, progress, report, on_chunk) -> int | None:
    resolved = catalog.resolve(entry, meta, years, regions)
    report.warnings += resolved.problems
    selection, dropped = dedupe(resolved.selection)
    if dropped:
        report.duplicates[entry.id] = dropped
        resolved = dataclasses.replace(resolved, selection=selection)
    empty = [d for d, v in resolved.selection.items() if not v]
    if empty:
        report.failures.append(f"{entry.id}: tomt utvalg for {', '.join(empty)}; tabellen er ikke hentet")
        return None
    limits = client.limits()
    preferred = (resolved.region_dim,)
    queue = plan(resolved.selection, limits.max_cells, limits.max_values, preferred).requests
    version = str(info.get("updated") or meta.get("updated") or "")
    docs, missing, done, cells = [], [], 0, 0
    while queue:
        request = queue.pop(0)
        try:
            doc = client.data(entry.id, request, version=version)
        except TooManyCells:
            client.stats.splits += 1
            queue[:0] = split_request(request, preferred)
            continue
        except OfflineMiss:
            missing.append(request)
            doc = None
        done += 1
        if doc is not None:
            docs.append(doc)
            cells += cell_count(request)
        progress.update(entry.id, done, done + len(queue), cells)
        if on_chunk:
            on_chunk(entry.id, done)
    if missing:
        raise OfflineMiss(f"offline: {len(missing)} av {done} forespørsler mangler i cachen; kjør uten --offline")
    parsed = [jsonstat.parse(d) for d in docs]
    observations = pd.concat([p.observations for p in parsed], ignore_index=True)
    categories = _categories(parsed, meta)
    url = client.data_url(entry.id)
    # the scope compared and replaced: the years asked for (None = all), the regions asked for (None = all)
    scope_years = None if years is None else sorted({int(c[:4]) for c in resolved.selection[resolved.time_dim]})
    scope_regions = list(resolved.selection[resolved.region_dim]) if regions else None
    if entry.kind == "population":
        meta_row = _meta_row(entry, parsed[0], url, len(docs), resolved.problems, info)
        with store.writer(db_path) as con:
            counts = store.write_fetched_population(con, meta_row, population_rows(observations), categories,
                                                    scope_years, scope_regions)
    else:
        observations, measure_problems = catalog.assign_measures(entry, meta, observations)
        report.warnings += measure_problems
        meta_row = _meta_row(entry, parsed[0], url, len(docs), resolved.problems + measure_problems, info)
        with store.writer(db_path) as con:  # copy-on-write + rename: all or nothing, readers never blocked
            counts = store.write_fetched_table(con, meta_row, observations, categories, scope_years, scope_regions)
    report.changes[entry.id] = {**counts, "years": scope_years, "new_updated": meta_row["updated"]}
    return counts["cells"]


def _categories(parsed: list, meta: dict) -> pd.DataFrame:
    """Union of the chunks' categories; position = the code's place in SSB's full metadata."""
    cats = pd.concat([p.categories for p in parsed], ignore_index=True)
    cats = cats.drop_duplicates(["dimension", "code"], keep="first").reset_index(drop=True)
    order = {(d, c): i for d in meta["id"] for i, c in enumerate(catalog.codes(meta, d))}
    cats["position"] = [order.get((d, c), p) for d, c, p in zip(cats["dimension"], cats["code"], cats["position"],
                                                                  strict=True)]
    return cats


def _meta_row(entry, parsed, url: str, n_requests: int, problems: list[str], info: dict | None = None) -> dict:
    note = f"catalog: {entry.verified}; {n_requests} forespørsler"
    if problems:
        note += "; " + " | ".join(problems)
    # the `updated` the next run compares with is the one /tables/{id} gave (the data's own, if it gave none)
    updated = _utc((info or {}).get("updated")) or _utc(parsed.updated)
    return {
        "table_id": entry.id,
        "title": parsed.title or entry.title,
        "updated": updated.to_pydatetime() if updated is not None else None,
        "fetched_at": datetime.now(UTC).replace(tzinfo=None),
        "source_url": url,
        "release": store.release_for(updated) if updated is not None else None,
        "origin": "ssb-api",
        "note": note,
        "notes_json": parsed.table_meta()["notes_json"],
    }


def population_rows(observations: pd.DataFrame) -> pd.DataFrame:
    """07459 observations -> region, year, age, persons, status ('105+' -> 105; other dims must be totals).

    `status` is SSB's symbol for the cell ('.', '..', ':', ...; None where there is none): a cell with a
    symbol has persons NULL and keeps the symbol (store.write_population puts it in `population_status`)."""
    dims = observations["dims"].astype("category")
    # parse the ~106 distinct dims strings once, not the 450 000 cells
    ages = dims.cat.categories.to_series().str.extract(r"(?:^|;)Alder=(\d+)\+?")[0].astype(int).to_numpy()
    return pd.DataFrame({
        "region": observations["region"].astype(str).to_numpy(),
        "year": observations["year"].astype(int).to_numpy(),
        "age": ages[dims.cat.codes.to_numpy()],
        "persons": observations["value"].astype("Int64").to_numpy(),
        "status": _statuses(observations),
    })


def _statuses(observations: pd.DataFrame) -> np.ndarray:
    """The status column as plain objects (None where SSB gave no symbol)."""
    if "status" not in observations:
        return np.full(len(observations), None, dtype=object)
    return observations["status"].astype(object).where(observations["status"].notna(), None).to_numpy(dtype=object)


def _top_revisions(db_path, report: Report, region: str | None, top: int) -> None:
    """Each changed table's `top` largest revisions (for `region` if given) from the just written database."""
    con = store.connect(db_path, read_only=True)
    try:
        revs = store.read_revisions(con, tables=list(report.changes), regions=[region] if region else None,
                                    limit_per_table=top)
    finally:
        con.close()
    for tid, change in report.changes.items():
        change["top"] = revs[revs["table_id"] == tid].reset_index(drop=True)
        change["region"] = region


def _num(value, status=None) -> str:
    """A cell's value in Norwegian notation with the decimals it has (up to 3), or SSB's symbol if missing."""
    if value is None or pd.isna(value):
        return status or "–"
    v = float(value)
    decimals = 0 if v.is_integer() else min(3, len(f"{v:.3f}".rstrip("0").split(".")[1]))
    text = f"{abs(v):,.{decimals}f}".replace(",", " ").replace(".", ",")
    return ("-" if v < 0 else "") + text


def revision_records(revisions: pd.DataFrame) -> list[dict]:
    """Revised cells as text: region, year, contents code, dims, old -> new (with status), change."""
    out = []
    for r in revisions.to_dict("records"):
        old, new = r.get("old_value"), r.get("new_value")
        both = old is not None and new is not None and not pd.isna(old) and not pd.isna(new)
        change = float(new) - float(old) if both else None
        out.append({
            "table_id": r["table_id"], "region": r["region"], "year": int(r["year"]),
            "contents_code": r["contents_code"], "dims": r.get("dims") or "", "measure": r.get("measure"),
            "old": _num(old, r.get("old_status")), "new": _num(new, r.get("new_status")),
            "change": ("+" if change and change > 0 else "") + _num(change) if change is not None else "–",
        })
    return out


def _date(value) -> str:
    ts = _utc(value)
    return f"{ts:%d.%m.%Y %H:%M}" if ts is not None else "ukjent"


def changes_report(report: Report) -> list[str]:
    """What changed, per table: cells revised, added and removed, and the largest revisions (CLI lines)."""
    lines = []
    for tid, c in report.changes.items():
        years = c.get("years")
        scope = f"år {years[0]}–{years[-1]}" if years and len(years) > 1 else f"år {years[0]}" if years else "alle år"
        if c.get("first_fetch"):
            lines.append(f"{tid}: første henting, {_n(c['cells'])} celler ({scope})")
            continue
        lines.append(f"{tid}: {_n(c['revised'])} celler revidert, {_n(c['added'])} lagt til, {_n(c['removed'])} fjernet "
                     f"av {_n(c['cells'])} hentet ({scope}; SSB oppdatert {_date(c.get('new_updated'))})")
        top = c.get("top")
        if top is not None and len(top):
            who = f" for {c['region']}" if c.get("region") else ""
            lines.append(f"  største revisjoner{who}:")
            for r in revision_records(top):
                dims = f" [{r['dims']}]" if r["dims"] else ""
                lines.append(f"    {r['region']} {r['year']} {r['contents_code']}{dims}: {r['old']} → {r['new']} "
                             f"({r['change']})")
        elif c.get("region") and c["revised"]:
            lines.append(f"  ingen revisjoner for {c['region']}")
    if report.unchanged:
        lines.append(f"uendret hos SSB siden forrige henting, ikke hentet på nytt: {', '.join(report.unchanged)} "
                     "(--full henter likevel)")
    return lines


def duplicates_line(report: Report) -> str | None:
    """One line naming the repeated codes removed before the requests (None if there were none)."""
    if not report.duplicates:
        return None
    parts = []
    for where, dims in report.duplicates.items():
        for dim, codes in dims.items():
            label = where if not dim else f"tabell {where} {dim}"
            parts.append(f"{label}: {', '.join(codes)}")
    return ("gjentatte koder fjernet før forespørselen, hver sendes én gang (repeated codes dropped): "
            + "; ".join(parts))


def _n(x: int) -> str:
    return f"{x:,}".replace(",", " ")


def summary(client: SSBClient, report: Report) -> str:
    s = client.stats
    return (f"ferdig: {len(report.written)} tabeller skrevet, {len(report.unchanged)} uendret, {_n(s.requests)} forespørsler ({_n(s.cached)} fra cache), "
            f"{_n(s.cells)} celler, {s.retries} nye forsøk, {s.throttled} × 429, {s.splits} delt, "
            f"{report.seconds:.1f} s")
