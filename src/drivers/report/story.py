"""The seminar storyline as a list of slides (section, Chart, speaker notes), built from the engine's numbers
(through `drivers.report.queries`, the same cached calls the dashboard pages make) and `drivers.figures`:

  1 income and need → 2 total gap → 3 gaps by service → 4–6 what drives the three largest → 7 what-if.

Nothing is computed here beyond formatting: values, peer averages, gaps, decompositions and the what-if
come from `drivers.engine.api`. Where a number is missing, the slide says what is missing and which
`drivers fetch` command gets it, instead of drawing anything in its place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from drivers import figures, fmt
from drivers.report import data, queries
from drivers.report import state as st

SECTIONS_NB = ["Inntekt og behov", "Samlet avvik", "Avvik per tjeneste", "Hva driver avviket", "Hva om"]
SECTIONS_EN = ["Income and need", "Total gap", "Gaps by service", "What drives the gap", "What if"]
LEVERS = {"coverage": ("dekningsgrad", "coverage"), "unit_cost": ("enhetskostnad", "unit cost")}
NEED_NOTE_NB = "Ikke korrigert for utgiftsbehov"
NEED_NOTE_EN = "Not corrected for expenditure need"


@dataclass
class StorySlide:
    """One slide: the storyline section, the chart, and the plain-language summary for the speaker notes."""

    section: str
    chart: figures.Chart
    notes: str


def heading(state: st.State) -> str:
    """The pack's and the deck's subtitle: municipality, year, comparison and convention."""
    return (f"{data.meta().name(state.kommune)} ({state.kommune}), KOSTRA {state.aar} · "
            f"sammenlignet med {queries.peers_label(state)} · {queries.konv_label(state)} snitt")


def _en(state: st.State) -> bool:
    return state.lang == "en"


def _section(state: st.State, i: int) -> str:
    return (SECTIONS_EN if _en(state) else SECTIONS_NB)[i]


def _caption(state: st.State, table_ids: list[str], extra: str | None = None) -> str:
    need = NEED_NOTE_EN if _en(state) else NEED_NOTE_NB
    return figures.source_line(queries.tables(), table_ids, state.aar, queries.peers_label(state), queries.konv_label(state),
                               f"{extra} · {need}" if extra else need, state.lang)


def _name(state: st.State) -> str:
    return data.meta().name(state.kommune)


def _labels(frame: pd.DataFrame, en: bool) -> dict[str, str]:
    """Component labels: the dashboard's, else the engine's own names (e.g. 'not split', 'averaging')."""
    own = dict(zip(frame["component"], frame["name_en" if en else "name_nb"], strict=False)) if "name_nb" in frame else {}
    short = dict(queries.COMPONENT_LABELS[en])
    if "unit_cost" in own and ("per bruker" in own["unit_cost"] or "per user" in own["unit_cost"]):
        short.pop("unit_cost")  # net spending per user, our derivation: keep the engine's name that says so
    return {**own, **short}


def missing_chart(chart_id: str, title: str, what: str, reason: str | None, command: str | None, caption: str,
                  lang: str = "nb") -> figures.Chart:
    """A slide for numbers the data lacks: says what is missing and how to fetch it; draws no values."""
    en = lang == "en"
    lines = [("Missing: " if en else "Mangler tall: ") + what]
    if reason:
        lines.append(str(reason))
    if command:
        lines.append(("Fetch with: " if en else "Hent med: ") + command)
    fig = go.Figure()
    fig.add_annotation(text="<br>".join(lines), x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=20), align="center")
    fig.update_layout(template=figures.TEMPLATE_NAME, xaxis=dict(visible=False), yaxis=dict(visible=False),
                      meta={"title": title})
    table = pd.DataFrame({("Missing" if en else "Mangler"): [what], ("Why" if en else "Hvorfor"): [reason or ""],
                          ("Command" if en else "Kommando"): [command or ""]})
    return figures.Chart(chart_id, title, fig, table, caption)


# ---- the slides ----------------------------------------------------------------------------------------


def income_and_need(state: st.State) -> StorySlide:
    en, name = _en(state), _name(state)
    p = queries.profile(state)
    caption = _caption(state, ["12134", "07459"])
    title = (f"{name}: free income per resident against {queries.peers_label(state)}, {state.aar}" if en
             else f"{name}: frie inntekter per innbygger mot {queries.peers_label(state)}, {state.aar}")
    frame = queries.indicator_values(state, "frie_inntekter_per_innb")
    if frame["value"].notna().sum() == 0 or fmt.is_missing(p.get("frie_inntekter_per_innb")):
        chart = missing_chart("story-1-inntekt", title,
                              "free income per resident (SSB 12134)" if en else "frie inntekter per innbygger (SSB 12134)",
                              None, "drivers fetch --tables 12134", caption, state.lang)
    else:
        peer = frame["peer_value"].dropna()
        chart = figures.peer_rank(frame, state.kommune, title, "kr per innbygger" if not en else "NOK per resident",
                                  caption, float(peer.iloc[0]) if len(peer) else None,
                                  "Peers' average" if en else "Gruppens snitt", 0, "story-1-inntekt", state.lang)
    need = p.get("need_index")
    parts = []
    if en:
        parts.append(f"{name} had {fmt.number(p.get('population'))} residents on 1 January {state.aar + 1}.")
        parts.append(f"Free income per resident: {fmt.kr(p.get('frie_inntekter_per_innb'))}." if not fmt.is_missing(
            p.get("frie_inntekter_per_innb")) else "Free income per resident is not in the data yet.")
        parts.append(f"Expenditure need index: {fmt.number(need, 3)} (1 = national average; "
                     f"{p.get('need_note_en') or p.get('need_note')})."
                     if not fmt.is_missing(need) else "No expenditure need index in the data.")
    else:
        parts.append(f"{name} hadde {fmt.number(p.get('population'))} innbyggere 1. januar {state.aar + 1}.")
        parts.append(f"Frie inntekter per innbygger: {fmt.kr(p.get('frie_inntekter_per_innb'))}." if not fmt.is_missing(
            p.get("frie_inntekter_per_innb")) else "Frie inntekter per innbygger finnes ikke i dataene ennå.")
        parts.append(f"Kostnadsindeks (utgiftsbehov): {fmt.number(need, 3)} (1 = landsgjennomsnittet; {p.get('need_note')})."
                     if not fmt.is_missing(need) else "Dataene har ingen kostnadsindeks (utgiftsbehov).")
    return StorySlide(_section(state, 0), chart, " ".join(parts))


def total_gap(state: st.State) -> StorySlide:
    en, name = _en(state), _name(state)
    g = queries.gaps(state)
    total = g[g["service"] == "TOTAL"]
    caption = _caption(state, ["12362", "07459"])
    title = (f"{name}: total net operating expenditure per resident against {queries.peers_label(state)}, {state.aar}"
             if en else f"{name}: samlede netto driftsutgifter per innbygger mot {queries.peers_label(state)}, {state.aar}")
    frame = queries.indicator_values(state, "ndu_total_per_innb")
    row = total.iloc[0] if len(total) else None
    if row is None or frame["value"].notna().sum() == 0:
        reason = row["reason"] if row is not None and "reason" in row else None
        chart = missing_chart("story-2-samlet", title, "total net operating expenditure (AGD1)" if en
                              else "samlede netto driftsutgifter (AGD1)", reason, "drivers fetch --tables 12362",
                              caption, state.lang)
        return StorySlide(_section(state, 1), chart, chart.data.iloc[0, 1] or "")
    peer = row["peer_per_resident"]
    chart = figures.peer_rank(frame, state.kommune, title, "kr per innbygger" if not en else "NOK per resident", caption,
                              None if fmt.is_missing(peer) else float(peer), "Peers' average" if en else "Gruppens snitt",
                              0, "story-2-samlet", state.lang)
    gap, gap_nc = row.get("gap_nok"), row.get("gap_need_corrected_nok")
    if en:
        notes = (f"{name} spent {fmt.kr(row['per_resident'])} per resident; {queries.peers_label(state)} "
                 f"{fmt.kr(peer)} ({queries.konv_label(state)} average). Times the residents, that is "
                 f"{fmt.mill_kr(gap, sign=True)} against the peers.")
        if not fmt.is_missing(gap_nc):
            notes += f" Corrected for expenditure need: {fmt.mill_kr(gap_nc, sign=True)}."
    else:
        notes = (f"{name} brukte {fmt.kr(row['per_resident'])} per innbygger; {queries.peers_label(state)} "
                 f"{fmt.kr(peer)} ({queries.konv_label(state)} snitt). Ganget med innbyggertallet blir det "
                 f"{fmt.mill_kr(gap, sign=True)} mot gruppen.")
        if not fmt.is_missing(gap_nc):
            notes += f" Korrigert for utgiftsbehov: {fmt.mill_kr(gap_nc, sign=True)}."
    return StorySlide(_section(state, 1), chart, notes)


def gaps_by_service(state: st.State) -> StorySlide:
    en, name = _en(state), _name(state)
    g = queries.gaps(state)
    services = g[g["service"] != "TOTAL"].copy()
    services["name"] = services["service"].map(lambda s: queries.service_name(s, state.lang))
    caption = _caption(state, ["12362", "07459"], "«Other services and overlap» = the total gap minus the services "
                       "shown, so the bars add up to the total gap" if en else "«Øvrige tjenester og overlapp» = samlet "
                       "avvik minus tjenestene som er vist, så søylene summerer til samlet avvik")
    if services["gap_nok"].notna().any():
        chart = figures.gap_waterfall(services, name, queries.peers_label(state), caption, state.lang)
        chart.id = "story-3-tjenester"
    else:
        chart = missing_chart("story-3-tjenester", f"{name}: " + ("gaps by service" if en else "avvik per tjeneste"),
                              "net operating expenditure per service" if en else "netto driftsutgifter per tjeneste",
                              None, "drivers fetch --tables 12362", caption, state.lang)
    return StorySlide(_section(state, 2), chart, queries.summary_text(state))


def largest_services(state: st.State, n: int = 3) -> list[str]:
    """The services with the largest gaps in kroner (either sign), largest first."""
    g = queries.gaps(state)
    s = g[~g["service"].isin(["TOTAL", "OTHER"]) & g["gap_nok"].notna()]
    return s.reindex(s["gap_nok"].abs().sort_values(ascending=False).index)["service"].head(n).tolist()


def service_driver(state: st.State, service: str, number: int) -> StorySlide:
    en, name = _en(state), _name(state)
    sname = queries.service_name(service, state.lang)
    chart_id = f"story-{number}-{service.lower()}"
    frame, reason = queries.decomposition(state, service)
    g = queries.gaps(state)
    row = g[g["service"] == service].iloc[0]
    if frame is not None and frame["nok"].notna().sum() > 0:
        title = (f"{sname}: why the gap — need, coverage, unit cost" if en
                 else f"{sname}: hvorfor avviket – behov, dekningsgrad, enhetskostnad")
        labels = _labels(frame, en)
        chart = figures.decomposition(frame, title, _caption(state, queries.service_tables(service)), state.lang,
                                      labels, chart_id=chart_id)
        parts = [f"{labels.get(r['component'], r['component'])}: {fmt.mill_kr(r['nok'], sign=True)}"
                 for _, r in frame[frame["nok"].notna()].iterrows()]
        split = "; ".join(parts)
    else:
        values = queries.service_values(state, service)
        title = (f"{sname}: net operating expenditure per resident, {queries.peers_label(state)}" if en
                 else f"{sname}: netto driftsutgifter per innbygger, {queries.peers_label(state)}")
        caption = _caption(state, ["12362", "07459"])
        if values is None or values["value"].notna().sum() == 0:
            chart = missing_chart(chart_id, title, sname, reason, queries.fetch_command(service), caption, state.lang)
        else:
            peer = row.get("peer_per_resident")
            chart = figures.peer_rank(values, state.kommune, title, "NOK per resident" if en else "kr per innbygger",
                                      caption, None if fmt.is_missing(peer) else float(peer),
                                      "Peers' average" if en else "Gruppens snitt", 0, chart_id, state.lang)
        split = (("Coverage and unit cost cannot be separated yet: " if en
                  else "Dekningsgrad og enhetskostnad kan ikke skilles ennå: ") + (reason or queries.fetch_command(service)))
    if en:
        notes = (f"{sname}: {name} spends {fmt.kr(row['per_resident'])} per resident against {fmt.kr(row['peer_per_resident'])} "
                 f"for {queries.peers_label(state)}, {fmt.mill_kr(row['gap_nok'], sign=True)} in total. {split}.")
    else:
        notes = (f"{sname}: {name} bruker {fmt.kr(row['per_resident'])} per innbygger mot {fmt.kr(row['peer_per_resident'])} "
                 f"i {queries.peers_label(state)}, til sammen {fmt.mill_kr(row['gap_nok'], sign=True)}. {split}.")
    return StorySlide(_section(state, 3), chart, notes)


def what_if(state: st.State, service: str, lever: str = "coverage") -> dict:
    """The engine's what-if (api.what_if, against the peers' median) plus a plain-language sentence: 'If our
    coverage in X matched the peers' median, spending would change by N mill. kr'. Keys as api.what_if, plus
    `sentence`."""
    api = data.api()
    result = dict(api.what_if(data.get_panel(), state.kommune, state.aar, service, lever, state.peers, state.konv))
    en = _en(state)
    sname = queries.service_name(service, state.lang).lower()
    lever_name = LEVERS[lever][en]
    if result.get("available") and not fmt.is_missing(result.get("nok")):
        nok = result["nok"]
        if en:
            result["sentence"] = (f"If our {lever_name} in {sname} matched the median of {queries.peers_label(state)}, net spending "
                                  f"would change by {fmt.mill_kr(nok, sign=True)}, all else equal.")
        else:
            result["sentence"] = (f"Hvis vår {lever_name} i {sname} var lik medianen i {queries.peers_label(state)}, ville netto "
                                  f"driftsutgifter endret seg med {fmt.mill_kr(nok, sign=True)}, alt annet likt.")
    else:
        reason = result.get("reason") or ""
        result["sentence"] = ((f"The what-if for {lever_name} in {sname} cannot be computed: {reason}") if en
                              else f"Hva om-beregningen for {lever_name} i {sname} kan ikke gjøres: {reason}")
    return result


def what_if_slide(state: st.State, service: str, lever: str = "coverage", number: int = 7) -> StorySlide:
    en, name = _en(state), _name(state)
    res = what_if(state, service, lever)
    sname = queries.service_name(service, state.lang)
    lever_name = LEVERS[lever][en]
    title = (f"What if: {sname.lower()}, {lever_name} at the peers' level" if en
             else f"Hva om: {sname.lower()}, {lever_name} som gruppens")
    caption = _caption(state, queries.service_tables(service))
    chart_id = f"story-{number}-hva-om"
    if not res.get("available"):
        chart = missing_chart(chart_id, title, f"{lever_name} ({sname.lower()})", res.get("reason"),
                              queries.fetch_command(service), caption, state.lang)
        return StorySlide(_section(state, 4), chart, res["sentence"])
    unit = "%" if lever == "coverage" else "kr"
    labels = [name, f"{queries.peers_label(state)} ({queries.konv_label(state)})"]
    values = [res["own"], res["peer"]]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=[figures.HIGHLIGHT, figures.PEER],
                           text=[fmt.number(v, 1 if unit == "%" else 0) for v in values], textposition="outside",
                           cliponaxis=False))
    fig.add_annotation(text=("Change in net spending: " if en else "Endring i netto driftsutgifter: ")
                       + fmt.mill_kr(res["nok"], sign=True), xref="paper", yref="paper", x=1, y=1.02,
                       xanchor="right", yanchor="bottom", showarrow=False, font=dict(size=18))
    fig.update_layout(template=figures.TEMPLATE_NAME, showlegend=False, yaxis_title=f"{lever_name} ({unit})",
                      meta={"title": title})
    table = pd.DataFrame({
        ("Who" if en else "Hvem"): labels,
        f"{lever_name.capitalize()} ({unit})": values,
    })
    table[("Change in net spending (NOK million)" if en else "Endring i netto driftsutgifter (mill. kr)")] = [
        round(res["nok"] / 1e6, 1), math.nan]
    chart = figures.Chart(chart_id, title, fig, table, caption)
    return StorySlide(_section(state, 4), chart, res["sentence"])


def build(state: st.State, what_if_service: str | None = None, lever: str = "coverage") -> list[StorySlide]:
    """The whole storyline for a view (municipality, year, peers, convention, language).

    The what-if slide uses a service and lever the data can answer (the asked lever first, then the other); when
    none can be answered for the year, the slide is left out and the last slide's notes say why, once."""
    slides = [income_and_need(state), total_gap(state), gaps_by_service(state)]
    top = largest_services(state)
    for k, service in enumerate(top):
        slides.append(service_driver(state, service, 4 + k))
    if what_if_service:
        slides.append(what_if_slide(state, what_if_service, lever, 4 + len(top)))
        return slides
    choice = _what_if_default(state, top, lever)
    if choice:
        slides.append(what_if_slide(state, choice[0], choice[1], 4 + len(top)))
    elif slides:
        slides[-1].notes += (" The what-if slide is left out: no service has coverage or unit cost for "
                             f"{state.aar} in the data." if _en(state) else
                             " Hva om-lysbildet er utelatt: ingen tjeneste har dekningsgrad eller enhetskostnad for "
                             f"{state.aar} i dataene (helse og omsorg har dekningsgrad for 2025).")
    return slides


def _what_if_default(state: st.State, top: list[str], lever: str) -> tuple[str, str] | None:
    """(service, lever) for the largest-gap service where the engine can answer the what-if, the asked lever
    before the other; None when no service can be answered."""
    levers = [lever, *[x for x in LEVERS if x != lever]]
    for lv in levers:
        for service in [*top, *[s for s in queries.SERVICES if s not in top]]:
            try:
                if what_if(state, service, lv).get("available"):
                    return service, lv
            except Exception:  # noqa: BLE001 - a service the engine cannot model is simply not the default
                continue
    return None


def all_charts(state: st.State) -> list[figures.Chart]:
    """Every chart for the municipality: the storyline, then each service's rank and decomposition."""
    charts = [s.chart for s in build(state)]
    seen = {c.id for c in charts}
    for service in queries.SERVICES:
        values = queries.service_values(state, service)
        sname = queries.service_name(service, state.lang)
        if values is not None and values["value"].notna().any():
            g = queries.gaps(state)
            row = g[g["service"] == service]
            peer = row["peer_per_resident"].iloc[0] if len(row) else None
            en = _en(state)
            title = (f"{sname}: net operating expenditure per resident, {queries.peers_label(state)}" if en
                     else f"{sname}: netto driftsutgifter per innbygger, {queries.peers_label(state)}")
            chart = figures.peer_rank(values, state.kommune, title, "NOK per resident" if en else "kr per innbygger",
                                      _caption(state, ["12362", "07459"]), None if fmt.is_missing(peer) else float(peer),
                                      "Peers' average" if en else "Gruppens snitt", 0, f"rank-{service}", state.lang)
            if chart.id not in seen:
                charts.append(chart)
                seen.add(chart.id)
        frame, _reason = queries.decomposition(state, service)
        if frame is not None and frame["nok"].notna().sum() > 0 and f"decomp-{service}" not in seen:
            title = (f"{sname}: why the gap — need, coverage, unit cost" if _en(state)
                     else f"{sname}: hvorfor avviket – behov, dekningsgrad, enhetskostnad")
            charts.append(figures.decomposition(frame, title, _caption(state, queries.service_tables(service)), state.lang,
                                                _labels(frame, _en(state)), chart_id=f"decomp-{service}"))
            seen.add(f"decomp-{service}")
    return charts


def find_chart(state: st.State, chart_id: str) -> figures.Chart | None:
    """A chart by id among everything `all_charts` makes for this view."""
    for chart in all_charts(state):
        if chart.id == chart_id:
            return chart
    return None
