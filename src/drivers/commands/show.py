"""`drivers show`: a municipality's indicators, peer values, gaps and their decomposition, scriptable.

    drivers show --region 3222 --year 2024 --peers kostragruppe --convention weighted --format json

json prints a list of records (indicator, region, year, value, unit, status, peer_value, gap_nok, …);
csv prints the same records; table prints indicators, gaps per service, the decomposition and a summary.
Missing values are null in json, empty in csv and SSB's symbol (or "–") in the table, never 0.

--what goals: the indikatorsett's goals (the example unless --indikatorsett or DRIVERS_INDIKATORSETT names one) with
each indicator's status (nådd, på vei, ikke nådd, mangler tall) and the rule that decided it, as the page
Mål og indikatorer shows them; what in the file could not be used is printed first, with its line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import pandas as pd

from drivers.engine.averages import CONVENTIONS
from drivers.errors import UserError
from drivers.i18n import LANGS

SECTIONS = ["indicators", "gaps", "decomposition", "neighbours", "summary", "goals", "all"]
INDICATOR_FIELDS = [
    "indicator", "name_nb", "region", "name", "year", "value", "unit", "status", "peer_value", "ssb_peer_value", "peer_set",
    "peer_label",
    "convention", "n_peers", "n_peer_members", "rank", "gap_nok", "gap_need_corrected_nok", "backcast", "ssb_match", "reason",
]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("show", help="vis indikatorer, avvik og dekomponering for en kommune",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--region", required=True, help="kommunenummer, f.eks. 3222 (gamle numre godtas)")
    p.add_argument("--year", type=int, default=None, help="KOSTRA-år (standard: siste år i databasen)")
    p.add_argument("--peers", default="kostragruppe",
                   help="kostragruppe | fylke | landet | landet-uten-oslo | naboer | navnet på en lagret gruppe")
    p.add_argument("--convention", default="weighted", choices=CONVENTIONS)
    p.add_argument("--indicator", action="append", default=None, help="indikator-id (kan gjentas)")
    p.add_argument("--service", action="append", default=None, help="tjeneste (FGK7, FGK9, …) for dekomponering")
    p.add_argument("--what", default=None, choices=SECTIONS, help="hva som skrives ut (standard: all for table, "
                   "indicators for json/csv)")
    p.add_argument("--format", default="table", choices=["table", "json", "csv", "csv-plain"],
                   help="csv: for Norwegian Excel (semikolon, desimalkomma, UTF-8 med BOM); csv-plain: komma og "
                        "desimalpunktum, for andre verktøy")
    p.add_argument("--exclude-oslo", action="store_true", help="ta Oslo ut av sammenligningsgruppen")
    p.add_argument("--k", type=int, default=10, help="antall naboer for --peers naboer")
    p.add_argument("--lang", default="nb", choices=list(LANGS))
    p.add_argument("--db", type=Path, default=None, help="databasefil (standard: hentet database, ellers snapshot)")
    p.add_argument("--indikatorsett", type=Path, default=None,
                   help="indikatorsett (YAML) for --what goals (standard: DRIVERS_INDIKATORSETT, ellers eksempelet)")
    p.set_defaults(run=run)


def _panel(db: Path | None):
    from drivers.config import Settings
    from drivers.loading import load_panel_from

    return load_panel_from(db or Settings.from_env().database_for_reading())


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _records(frame: pd.DataFrame, fields: list[str] | None = None) -> list[dict]:
    cols = [c for c in (fields or list(frame.columns)) if c in frame.columns]
    columns = [frame[c].tolist() for c in cols]  # column lists: itertuples costs ~10 ms per municipality
    return [{c: _clean(v) for c, v in zip(cols, row, strict=True)} for row in zip(*columns, strict=True)]


def collect(args, panel) -> dict:
    """The sections asked for, as DataFrames (and the summary as text)."""
    from drivers import peersets
    from drivers.engine import api
    from drivers.engine import indicators as reg

    what = args.what or ("all" if args.format == "table" else "indicators")
    year = panel.check_year(args.year) if args.year is not None else panel.latest_year()
    region = panel.municipalities[panel.check_region(args.region)]
    opts = {"exclude_oslo": args.exclude_oslo, "k": args.k}
    peers = peersets.resolve(args.peers)  # a saved set's name -> its members (the engine takes sets as data)
    out: dict = {"region": region, "name": panel.name(region), "year": year}
    if not api.peer_members(panel, region, year, peers, **opts):  # e.g. Oslo alone in KOSTRA group 13
        from drivers.engine import peers as peermod

        label = peermod.peer_label(panel, panel.check_region(region), peers, args.k)
        out["peer_note"] = peermod.empty_reason(label, out["name"])
    if what in ("indicators", "all"):
        table = api.driver_table(panel, year, peers, args.convention, [region], **opts)
        if args.indicator:
            for ind in args.indicator:
                reg.get(ind)  # unknown id -> UserError naming the known ones
            table = table[table["indicator"].isin(args.indicator)]
        out["indicators"] = table
    if what in ("gaps", "all"):
        out["gaps"] = api.gaps(panel, region, year, peers, args.convention, **opts)
    if what in ("decomposition", "all"):
        services = args.service or list(reg.services()) + ["TOTAL"]
        parts = []
        for svc in services:
            d = api.decompose(panel, region, year, svc, peers, args.convention, **opts)
            d.insert(0, "service", svc)
            d.insert(1, "gap_nok", d.attrs.get("gap_nok"))
            parts.append(d)
        out["decomposition"] = pd.concat(parts, ignore_index=True)
    if what in ("neighbours", "all"):
        nn = api.nearest_neighbours(panel, region, year, k=args.k)
        out["neighbours"] = nn
    if what in ("summary", "all"):
        out["summary"] = api.summary_text(panel, region, year, peers, args.convention, lang=args.lang, **opts)
    out["what"] = what
    return out


def _note(reason, peer_note: str | None) -> str:
    """The table's remark column: short, and the empty-peer-group note once at the top instead of per row."""
    if not isinstance(reason, str):
        return ""
    if peer_note:
        reason = reason.replace(peer_note, "ingen andre kommuner i gruppen (se merk over)")
    return reason[:90]


def _table_text(out: dict) -> str:
    from drivers import fmt

    lines = [f"{out['name']} ({out['region']}), KOSTRA {out['year']}"]
    if out.get("peer_note"):
        lines.append(f"Merk: {out['peer_note']}.")
    ind = out.get("indicators")
    if ind is not None and len(ind):
        lines.append(f"\nIndikatorer mot {ind['peer_label'].iloc[0]} ({ind['convention'].iloc[0]}):")
        rows = []
        for r in ind.itertuples(index=False):
            dec = int(r.decimals)
            rows.append({
                "indikator": r.indicator,
                "verdi": fmt.number(r.value, dec, r.status),
                "enhet": r.unit,
                "snitt": fmt.number(r.peer_value, dec),
                "SSBs tall": fmt.number(r.ssb_peer_value, dec) if not fmt.is_missing(r.ssb_peer_value) else "",
                "n": r.n_peers,
                "rang": fmt.number(r.rank, 0),
                "avvik": fmt.mill_kr(r.gap_nok, 1, sign=True) if not fmt.is_missing(r.gap_nok) else "",
                "behovskorr. avvik": fmt.mill_kr(r.gap_need_corrected_nok, 1, sign=True)
                if not fmt.is_missing(r.gap_need_corrected_nok) else "",
                "merknad": _note(r.reason, out.get("peer_note")),
            })
        lines.append(pd.DataFrame(rows).to_string(index=False))
    gaps = out.get("gaps")
    if gaps is not None and len(gaps):
        lines.append("\nMer-/mindreforbruk per tjeneste (N·(x − x̄) og N·I·(k − k̄)):")
        rows = [{"tjeneste": r.name_nb, "NDU 1000 kr": fmt.number(r.ndu_1000kr), "per innb.": fmt.number(r.per_resident),
                 "snitt": fmt.number(r.peer_per_resident), "avvik": fmt.mill_kr(r.gap_nok, 1, sign=True),
                 "behovskorr.": fmt.mill_kr(r.gap_need_corrected_nok, 1, sign=True)} for r in gaps.itertuples(index=False)]
        lines.append(pd.DataFrame(rows).to_string(index=False))
        lines.append(f"Merk: {gaps.attrs.get('need_note', '')}")
    dec = out.get("decomposition")
    if dec is not None and len(dec):
        lines.append("\nDekomponering av avviket (LMDI, delene summerer til avviket):")
        for svc, d in dec.groupby("service", sort=False):
            lines.append(f"  {svc}: avvik {fmt.mill_kr(d['gap_nok'].iloc[0], 1, sign=True)}")
            for r in d.itertuples(index=False):
                val = fmt.mill_kr(r.nok, 1, sign=True) if r.available else "–"
                derived = r.available and r.component == "unit_cost" and "vår utledning" in str(r.reason)
                note = "  (vår utledning, ikke SSB-tall)" if derived else (
                    "" if r.available or not isinstance(r.reason, str) else f"  ({r.reason})")
                lines.append(f"    {r.name_nb:<52} {val:>16}{note}")
    nn = out.get("neighbours")
    if nn is not None and len(nn):
        lines.append("\nNærmeste naboer (avstand 0–1, 1 = lengst unna):")
        lines.append(nn[["region", "name", "distance"]].to_string(index=False))
    if out.get("summary"):
        lines.append("\n" + out["summary"])
    return "\n".join(lines)


def run(args) -> int:
    try:
        return _run(args)
    except BrokenPipeError:  # `drivers show … | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


GOAL_FIELDS = ["goal", "indicator", "name", "target", "target_year", "owner", "year", "value", "value_text",
               "peer_value", "status", "status_text", "rule", "fetch"]


def _goals(args) -> tuple[object, list[dict]]:
    """The goals view (drivers.report.goals) for the region, through the data layer, and its records."""
    import dataclasses

    from drivers import goals as goalfile
    from drivers.config import Settings
    from drivers.report import data
    from drivers.report import goals as gv
    from drivers.report import state as st

    if args.db is not None:  # else the data layer's database: the fetched one, else the snapshot
        data.configure(dataclasses.replace(Settings.from_env(), db_path=args.db, snapshot_path=args.db))
    panel = data.get_panel()
    region = panel.municipalities[panel.check_region(args.region)]  # old codes are taken, unknown ones named
    query = {"kommune": region, "peers": args.peers, "konv": args.convention, "lang": args.lang}
    if args.year is not None:
        query["aar"] = str(args.year)
    state = st.parse(query)
    goal_set = goalfile.load(args.indikatorsett) if args.indikatorsett else None
    v = gv.view(state, goal_set)
    records = [{"goal": g.text, "indicator": r.indicator, "name": r.name, "target": r.target_text,
                "target_year": r.target_year, "owner": r.owner, "year": r.year, "value": r.value,
                "value_text": r.value_text, "peer_value": r.peer_value, "status": r.status,
                "status_text": r.status_text, "rule": r.rule, "fetch": r.fetch} for g in v.goals for r in g.rows]
    return (state, v), records


def _goals_text(state, v) -> str:
    from drivers import i18n
    from drivers.report import data

    lang = state.lang
    lines = [f"{data.meta().name(state.kommune)} ({state.kommune}), {i18n.t('nav_maal', lang)} {state.aar}",
             i18n.t("goal.example", lang) if v.example else i18n.t("goal.own", lang, file=v.file)]
    if v.problems:
        lines += ["", i18n.t("goal.problems", lang), *(f"  - {p}" for p in v.problems)]
    if not v.goals:
        lines.append(i18n.t("goal.none", lang))
    for g in v.goals:
        meta = [i18n.t("goal.owner", lang, owner=g.owner) if g.owner else None,
                i18n.t("goal.target_year", lang, year=g.target_year) if g.target_year else None]
        lines += ["", f"{i18n.t('goal.col.goal', lang)}: {g.text}", "  " + " · ".join(m for m in meta if m),
                  f"  {g.summary}"]
        rows = [{i18n.t("goal.col.indicator", lang): r.indicator, i18n.t("goal.col.target", lang): r.target_text,
                 i18n.t("goal.col.year", lang): r.year or "–", i18n.t("goal.col.value", lang): r.value_text,
                 i18n.t("goal.col.prev", lang): r.prev_text, v.peers_label: r.peer_text,
                 i18n.t("goal.col.status", lang): r.status_text} for r in g.rows]
        lines.append(pd.DataFrame(rows).to_string(index=False))
        for r in g.rows:
            lines.append(f"    {r.indicator}: {r.rule}")
    return "\n".join(lines)


def _run(args) -> int:
    if args.k < 1:
        raise UserError("--k må være minst 1")
    if args.what == "goals":
        (state, v), records = _goals(args)
        if args.format == "table":
            print(_goals_text(state, v))
        elif args.format == "json":
            json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
            sys.stdout.write("\n")
        else:
            _write_csv(pd.DataFrame(records, columns=GOAL_FIELDS), args.format)
        for problem in v.problems:  # json/csv stay clean on stdout; what could not be used goes to stderr
            if args.format != "table":
                print(problem, file=sys.stderr)
        return 0
    panel = _panel(args.db)
    out = collect(args, panel)
    what = out["what"]
    if args.format == "table":
        print(_table_text(out))
        return 0
    if what == "summary":
        payload = [{"region": out["region"], "year": out["year"], "summary": out["summary"]}]
    elif what == "all":
        raise UserError("--what all finnes bare for --format table; velg én del for json/csv")
    else:
        frame = out[what]
        if what == "indicators":
            payload = _records(frame, INDICATOR_FIELDS)
        else:
            frame = frame.copy()
            if "region" not in frame.columns:
                frame.insert(0, "region", out["region"])
            if "year" not in frame.columns:
                frame.insert(1, "year", out["year"])
            payload = _records(frame)
    if args.format == "json":
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        _write_csv(pd.DataFrame(payload), args.format)
    return 0


def _write_csv(frame: pd.DataFrame, fmt: str) -> None:
    """CSV on stdout in the dialect `drivers export` writes files in (store.CSV_DIALECTS): Norwegian Excel for
    "csv", plain for "csv-plain"."""
    from drivers.store import CSV_DIALECTS

    dialect = dict(CSV_DIALECTS["plain" if fmt == "csv-plain" else "nb"])
    encoding = dialect.pop("encoding")
    text = frame.to_csv(index=False, **dialect)
    if encoding == "utf-8-sig":
        text = "\ufeff" + text
    sys.stdout.write(text)
