"""Fetch orchestration: catalog -> live metadata -> plan -> client -> parse -> store, one table at a time.

Nothing is written until every chunk of a table has arrived and parsed; the table is then written in
one transaction (store.write_table), so an interrupted or failed fetch leaves that table as it was.
Progress goes to stderr as one bar per table; the closing summary counts requests, cells, retries,
429s and seconds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import pandas as pd

from drivers import catalog, jsonstat, store
from drivers.errors import UserError
from drivers.ssb import OfflineMiss, SSBClient, TooManyCells, plan, split_request
from drivers.ssb.planner import cell_count


@dataclass
class Report:
    """What happened, for the closing summary and the exit code."""

    written: dict[str, int] = field(default_factory=dict)  # table -> rows written
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


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
          progress: Progress | None = None, on_chunk: Callable[[str, int], None] | None = None) -> Report:
    """Fetch catalog tables into the database at db_path. `on_chunk(table, n)` runs after each chunk."""
    entries = [catalog.get(t) for t in (tables or list(catalog.entries()))]
    progress = progress or Progress()
    report = Report()
    start = client.clock()
    metas: dict[str, tuple[dict, dict]] = {}
    for entry in entries:
        try:
            metas[entry.id] = (client.table(entry.id), client.metadata(entry.id))
        except UserError as exc:  # SSBError, OfflineMiss: report, go on with the others
            report.failures.append(f"{entry.id}: {exc}")
    if regions and metas:
        _check_regions(regions, metas)
    for entry in entries:
        if entry.id not in metas:
            continue
        info, meta = metas[entry.id]
        try:
            rows = _fetch_table(client, db_path, entry, info, meta, years, regions, progress, report, on_chunk)
        except UserError as exc:
            report.failures.append(f"{entry.id}: {exc}")
            continue
        if rows is not None:
            report.written[entry.id] = rows
    report.seconds = client.clock() - start
    return report


def _check_regions(regions: list[str], metas: dict[str, tuple[dict, dict]]) -> None:
    """A region the user named that no requested table knows is an error, before anything is fetched."""
    known: set[str] = set()
    for table_id, (_, meta) in metas.items():
        known.update(catalog.codes(meta, catalog.resolve(catalog.get(table_id), meta).region_dim))
    unknown = [r for r in regions if r not in known]
    if unknown:
        raise UserError(f"ukjent region {', '.join(unknown)} (unknown region; not in table {', '.join(metas)})")


def _fetch_table(client, db_path, entry, info, meta, years, regions, progress, report, on_chunk) -> int | None:
    resolved = catalog.resolve(entry, meta, years, regions)
    report.warnings += resolved.problems
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
    if entry.kind == "population":
        return _write_population(db_path, entry, parsed[0], observations, categories, url, resolved, len(docs))
    observations, measure_problems = catalog.assign_measures(entry, meta, observations)
    report.warnings += measure_problems
    meta_row = _meta_row(entry, parsed[0], url, len(docs), resolved.problems + measure_problems)
    with store.writer(db_path) as con:  # copy-on-write + rename: all or nothing, readers never blocked
        return store.write_table(con, meta_row, observations, categories)


def _categories(parsed: list, meta: dict) -> pd.DataFrame:
    """Union of the chunks' categories; position = the code's place in SSB's full metadata."""
    cats = pd.concat([p.categories for p in parsed], ignore_index=True)
    cats = cats.drop_duplicates(["dimension", "code"], keep="first").reset_index(drop=True)
    order = {(d, c): i for d in meta["id"] for i, c in enumerate(catalog.codes(meta, d))}
    cats["position"] = [order.get((d, c), p) for d, c, p in zip(cats["dimension"], cats["code"], cats["position"],
                                                                  strict=True)]
    return cats


def _meta_row(entry, parsed, url: str, n_requests: int, problems: list[str]) -> dict:
    note = f"catalog: {entry.verified}; {n_requests} forespørsler"
    if problems:
        note += "; " + " | ".join(problems)
    return {
        "table_id": entry.id,
        "title": parsed.title or entry.title,
        "updated": parsed.updated,
        "fetched_at": datetime.now(UTC).replace(tzinfo=None),
        "source_url": url,
        "release": store.release_for(parsed.updated) if parsed.updated else None,
        "origin": "ssb-api",
        "note": note,
        "notes_json": parsed.table_meta()["notes_json"],
    }


def population_rows(observations: pd.DataFrame) -> pd.DataFrame:
    """07459 observations -> region, year, age, persons ('105+' -> 105; other dims must be totals)."""
    dims = observations["dims"].astype("category")
    # parse the ~106 distinct dims strings once, not the 450 000 cells
    ages = dims.cat.categories.to_series().str.extract(r"(?:^|;)Alder=(\d+)\+?")[0].astype(int).to_numpy()
    return pd.DataFrame({
        "region": observations["region"].astype(str).to_numpy(),
        "year": observations["year"].astype(int).to_numpy(),
        "age": ages[dims.cat.codes.to_numpy()],
        "persons": observations["value"].astype("Int64").to_numpy(),
    })


def _write_population(db_path, entry, parsed, observations, categories, url, resolved, n_requests) -> int:
    meta_row = _meta_row(entry, parsed, url, n_requests, resolved.problems)
    with store.writer(db_path) as con:
        return store.write_population(con, meta_row, population_rows(observations), categories)


def _n(x: int) -> str:
    return f"{x:,}".replace(",", " ")


def summary(client: SSBClient, report: Report) -> str:
    s = client.stats
    return (f"ferdig: {len(report.written)} tabeller skrevet, {_n(s.requests)} forespørsler ({_n(s.cached)} fra cache), "
            f"{_n(s.cells)} celler, {s.retries} nye forsøk, {s.throttled} × 429, {s.splits} delt, "
            f"{report.seconds:.1f} s")
