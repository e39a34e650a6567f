"""The seminar storyline as a list of slides (section, message title, key number, Chart, alt text, speaker notes),
built from the engine's numbers (through `drivers.report.queries`, the same cached calls the dashboard pages make)
and `drivers.figures`:

  1 income and need → 2 total gap → 3 gaps by service (adding up to the total) → 4–6 what drives the three
  largest → 7 what-if → «hva betyr dette» (the whole story in plain words, from the numbers shown).

Nothing is computed here beyond formatting and the differences the slides state as ours: values, peer averages,
gaps, decompositions and the what-if come from `drivers.engine.api`. A slide whose numbers are missing is left out
(never drawn as a placeholder) and listed once by `left_out` with the reason and the `drivers fetch` command.
A peer group with only the municipality itself (Oslo in KOSTRA-gruppe 13) is switched, stated, by `prepare`.

Long on purpose: the slides reconcile with each other (the services add up to the total, the drivers to the
service's gap, the closing slide repeats the figures shown), so they are built side by side from one set of
queries; split per slide, each module would recompute or pass around the others' numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from drivers import figures, fmt, i18n
from drivers.i18n import t
from drivers.report import data, queries
from drivers.report import state as st
from drivers.report.cache import cached
from drivers.report.leftout import LeftOut

SECTION_KEYS = ["rep.sec.income", "rep.sec.total", "rep.sec.services", "rep.sec.drivers", "rep.sec.what_if",
                "rep.sec.meaning"]
SECTIONS_NB = [t(k, i18n.DEFAULT) for k in SECTION_KEYS]  # the sections in bokmål (tests name them)
LEVERS = {"coverage": "comp.lever.coverage", "unit_cost": "comp.lever.unit_cost"}  # lever -> its word's key
SWITCH_TO = "landet"  # the named alternative when the peer group holds only the municipality itself
# decomposition components that explain a gap (a chart of only 'not split' and 'averaging' explains nothing)
EXPLAINING = ("need", "target_share", "coverage", "unit_cost", "net_gross")


@dataclass
class StorySlide:
    """One slide: the storyline section, the chart (None for the closing «hva betyr dette» slide, which is
    text), the plain-language summary for the speaker notes, the message title, the key number as text with the
    line that says what it is, the alt text of the picture (chart title + summary), and text lines for the slide
    (the closing slide's points, or one line reconciling this slide with the one before)."""

    section: str
    chart: figures.Chart | None
    notes: str
    title: str = ""
    key: str = ""
    key_label: str = ""
    alt: str = ""
    lines: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.title:
            self.title = self.chart.title if self.chart is not None else self.section
        if not self.alt and self.chart is not None:
            self.alt = f"{self.chart.title}. {self.notes}".strip()


def heading(state: st.State) -> str:
    """The pack's and the deck's subtitle: municipality, year, comparison and convention."""
    return t("rep.heading", state.lang, name=data.meta().name(state.kommune), code=state.kommune, year=state.aar,
             peers=queries.peers_label(state), konv=queries.konv_label(state))


def deck_title(state: st.State) -> str:
    """The deck's title: 'Budsjettseminar: Lørenskog 2024'."""
    return t("rep.deck_title", state.lang, name=data.meta().name(state.kommune), year=state.aar)


def prepare(state: st.State) -> tuple[st.State, str | None]:
    """The state to make products from, and a sentence the user must read (None when nothing changed).

    When the peer group holds only the municipality itself (Oslo is alone in KOSTRA-gruppe 13), there is no
    average, rank or gap to show: the peers switch to Landet, and the sentence says so in the view's language."""
    if state.peers == SWITCH_TO or not queries.no_peers(state):
        return state, None
    switched = state.with_(peers=SWITCH_TO)
    if queries.no_peers(switched):
        return state, None
    return switched, t("rep.peer_switch", state.lang, name=_name(state), peers=queries.peers_label(state),
                       alt=queries.peers_label(switched))


def _section(state: st.State, i: int) -> str:
    return t(SECTION_KEYS[i], state.lang)


def _caption(state: st.State, table_ids: list[str], extra: str | None = None) -> str:
    need = t("rep.not_need_corrected", state.lang)
    return figures.source_line(queries.tables(), table_ids, state.aar, queries.peers_label(state), queries.konv_label(state),
                               f"{extra} · {need}" if extra else need, state.lang)


def _name(state: st.State) -> str:
    return data.meta().name(state.kommune)


def _labels(frame: pd.DataFrame, lang: str) -> dict[str, str]:
    """Component labels: the dashboard's, else the engine's own names (e.g. 'not split', 'averaging')."""
    own = dict(zip(frame["component"], frame["name"], strict=False)) if "name" in frame else {}
    short = queries.component_labels(lang)
    if queries.is_net_unit_cost(frame):
        short.pop("unit_cost")  # net spending per user, our derivation: keep the engine's name that says so
    return {**own, **short}


def _lever(state: st.State, lever: str) -> str:
    return t(LEVERS[lever], state.lang)


def _more_less(value: float, lang: str) -> str:
    return t("rep.msg.more" if value >= 0 else "rep.msg.less", lang)


def _left(title: str, what: str, reason, command: str | None, state: st.State) -> LeftOut:
    """A slide or chart left out: its title, why (the engine's reason worded, else 'not in the data'), the command."""
    worded = i18n.reason_text(reason, state.lang) if reason is not None else None
    why = str(worded) if worded else t("rep.lo.no_values", state.lang, what=what, year=state.aar)
    return LeftOut(title, why, command)


def explains(frame: pd.DataFrame | None) -> bool:
    """True when a decomposition has a part that explains the gap (need, target share, coverage, unit cost,
    net/gross); one of only 'not split' and 'averaging' is a bar that explains nothing."""
    if frame is None:
        return False
    have = frame[frame["nok"].notna() & frame["component"].isin(EXPLAINING)]
    return bool(len(have)) and bool((have["nok"].abs() > 0).any())


def _total_row(state: st.State):
    g = queries.gaps(state)
    total = g[g["service"] == "TOTAL"]
    return total.iloc[0] if len(total) and not fmt.is_missing(total.iloc[0].get("gap_nok")) else None


# ---- the slides: each gives a StorySlide, or a LeftOut saying why it is not there ------------------------


def income_and_need(state: st.State) -> StorySlide | LeftOut:
    lang, name = state.lang, _name(state)
    p = queries.profile(state)
    caption = _caption(state, ["12134", "07459"])
    title = t("rep.income.title", lang, name=name, peers=queries.peers_label(state), year=state.aar)
    frame = queries.indicator_values(state, "frie_inntekter_per_innb")
    free = p.get("frie_inntekter_per_innb")
    if frame["value"].notna().sum() == 0 or fmt.is_missing(free):
        return _left(title, t("rep.income.what", lang), None, "drivers fetch --tables 12134", state)
    peer = frame["peer_value"].dropna()
    peer_value = float(peer.iloc[0]) if len(peer) else None
    chart = figures.peer_rank(frame, state.kommune, title, t("rep.unit_kr_per_resident", lang), caption,
                              peer_value, t("rep.peers_average", lang), 0, "story-1-inntekt", lang)
    notes = " ".join(_profile_sentences(state, p))
    if peer_value is not None:
        msg = t("rep.msg.income", lang, name=name, own=fmt.kr(free, lang=lang), peer=fmt.kr(peer_value, lang=lang),
                peers=queries.peers_label(state))
    else:
        msg = title
    return StorySlide(_section(state, 0), chart, notes, msg, fmt.kr(free, lang=lang),
                      t("rep.key.income", lang, year=state.aar))


def _profile_sentences(state: st.State, p: dict | None = None) -> list[str]:
    lang, name = state.lang, _name(state)
    p = p if p is not None else queries.profile(state)
    free, need = p.get("frie_inntekter_per_innb"), p.get("need_index")
    return [t("rep.income.population", lang, name=name, n=fmt.number(p.get("population"), lang=lang), year=state.aar + 1),
            t("rep.income.free", lang, kr=fmt.kr(free, lang=lang)) if not fmt.is_missing(free) else t("rep.income.free_missing", lang),
            t("rep.income.need", lang, index=fmt.number(need, 3, lang=lang), note=p.get("need_note"))
            if not fmt.is_missing(need) else t("rep.income.need_missing", lang)]


def total_gap(state: st.State, with_profile: bool = False) -> StorySlide | LeftOut:
    """The headline: the total gap in kroner. `with_profile`: the income slide is left out, so its sentences
    (population, need index) go in these notes."""
    lang, name = state.lang, _name(state)
    caption = _caption(state, ["12362", "07459"])
    title = t("rep.total.title", lang, name=name, peers=queries.peers_label(state), year=state.aar)
    frame = queries.indicator_values(state, "ndu_total_per_innb")
    g = queries.gaps(state)
    total = g[g["service"] == "TOTAL"]
    row = _total_row(state)
    if row is None or frame["value"].notna().sum() == 0:
        reason = total.iloc[0].get("reason") if len(total) else None
        return _left(title, t("rep.total.what", lang), reason, "drivers fetch --tables 12362", state)
    peer = row["peer_per_resident"]
    chart = figures.peer_rank(frame, state.kommune, title, t("rep.unit_kr_per_resident", lang), caption,
                              None if fmt.is_missing(peer) else float(peer), t("rep.peers_average", lang),
                              0, "story-2-samlet", lang)
    gap, gap_nc = row.get("gap_nok"), row.get("gap_need_corrected_nok")
    notes = t("rep.total.notes", lang, name=name, own=fmt.kr(row["per_resident"], lang=lang), peers=queries.peers_label(state),
              peer=fmt.kr(peer, lang=lang), konv=queries.konv_label(state), gap=fmt.mill_kr(gap, sign=True, lang=lang))
    lines = [t("rep.key.total_how", lang, diff=fmt.signed(row["per_resident"] - peer, lang=lang))]
    if not fmt.is_missing(gap_nc):
        notes += " " + t("rep.total.need", lang, gap=fmt.mill_kr(gap_nc, sign=True, lang=lang))
        lines.append(t("rep.key.total_need", lang, gap=fmt.mill_kr(gap_nc, sign=True, lang=lang)))
    if with_profile:
        notes = " ".join([*_profile_sentences(state), notes])
    msg = t("rep.msg.total", lang, name=name, gap=fmt.mill_kr(abs(gap), lang=lang), dir=_more_less(gap, lang),
            peers=_peers_short(state))
    key_label = t("rep.key.total", lang, year=state.aar, own=fmt.kr(row["per_resident"], lang=lang),
                  peer=fmt.kr(peer, lang=lang), peers=_peers_short(state))
    return StorySlide(_section(state, 1), chart, notes, msg, fmt.mill_kr(gap, sign=True, lang=lang), key_label,
                      lines=tuple(lines))


def _peers_short(state: st.State) -> str:
    """The peer group's name without the code in brackets: 'KOSTRA-gruppe 12' (titles are read aloud)."""
    label = queries.peers_label(state)
    return label.split(" (EKG")[0] if "(EKG" in label else label


def gaps_by_service(state: st.State) -> StorySlide | LeftOut:
    """Gaps per service in kroner, ending in the total gap: «Øvrige tjenester og overlapp» is the remainder
    (total minus the services shown), so the bars add up to the headline on the slide before."""
    lang, name = state.lang, _name(state)
    g = queries.gaps(state)
    services = g[g["service"] != "TOTAL"].copy()
    services["name"] = services["service"].map(lambda s: queries.service_name(s, lang))
    caption = _caption(state, ["12362", "07459"], t("rep.services.caption", lang))
    title = t("rep.services.title", lang, name=name)
    shown = services[services["service"] != "OTHER"]
    if not shown["gap_nok"].notna().any():
        reason = next((r for r in shown["reason"] if r), None) if "reason" in shown else None
        return _left(title, t("rep.services.what", lang), reason, "drivers fetch --tables 12362", state)
    chart = figures.gap_waterfall(services, name, queries.peers_label(state), caption, lang)
    chart.id = "story-3-tjenester"
    have = shown[shown["gap_nok"].notna()]
    top = have.loc[have["gap_nok"].abs().idxmax()]
    row = _total_row(state)
    end = float(services["gap_nok"].dropna().sum())
    lines = []
    if row is not None and "OTHER" in set(services.loc[services["gap_nok"].notna(), "service"]):
        other = services[services["service"] == "OTHER"].iloc[0]["gap_nok"]
        lines.append(t("rep.key.services_adds", lang, total=fmt.mill_kr(row["gap_nok"], sign=True, lang=lang),
                       other=fmt.mill_kr(other, sign=True, lang=lang)))
        key_value = row["gap_nok"]
    elif row is not None:
        lines.append(t("rep.key.services_sum", lang, total=fmt.mill_kr(end, sign=True, lang=lang),
                       headline=fmt.mill_kr(row["gap_nok"], sign=True, lang=lang)))
        key_value = end
    else:
        lines.append(t("rep.key.services_no_total", lang, total=fmt.mill_kr(end, sign=True, lang=lang), year=state.aar))
        key_value = end
    msg = t("rep.msg.services", lang, service=top["name"], gap=fmt.mill_kr(top["gap_nok"], sign=True, lang=lang),
            total=fmt.mill_kr(key_value, sign=True, lang=lang))
    return StorySlide(_section(state, 2), chart, queries.summary_text(state), msg,
                      fmt.mill_kr(top["gap_nok"], sign=True, lang=lang),
                      t("rep.key.services", lang, service=top["name"]), lines=tuple(lines))


def largest_services(state: st.State, n: int = 3) -> list[str]:
    """The services with the largest gaps in kroner (either sign), largest first."""
    g = queries.gaps(state)
    s = g[~g["service"].isin(["TOTAL", "OTHER"]) & g["gap_nok"].notna()]
    return s.reindex(s["gap_nok"].abs().sort_values(ascending=False).index)["service"].head(n).tolist()


def service_driver(state: st.State, service: str, number: int) -> StorySlide | LeftOut:
    """What drives one service's gap: the decomposition where it explains something, else where the
    municipality stands among its peers; left out when neither has numbers."""
    lang, name = state.lang, _name(state)
    sname = queries.service_name(service, lang)
    chart_id = f"story-{number}-{service.lower()}"
    frame, reason = queries.decomposition(state, service)
    g = queries.gaps(state)
    row = g[g["service"] == service].iloc[0]
    gap = row["gap_nok"]
    peers = _peers_short(state)
    lines: list[str] = []
    if explains(frame):
        title = t("rep.driver.title", lang, service=sname)
        labels = _labels(frame, lang)
        chart = figures.decomposition(frame, title, _caption(state, queries.service_tables(service)), lang,
                                      labels, chart_id=chart_id)
        have = frame[frame["nok"].notna()]
        parts = [f"{labels.get(r['component'], r['component'])}: {fmt.mill_kr(r['nok'], sign=True, lang=lang)}"
                 for _, r in have.iterrows()]
        split = "; ".join(parts)
        # the largest part; 'not split' counts (it can outweigh every part that was split out), averaging not
        parts_shown = have[have["component"].isin([*EXPLAINING, "not_split"])]
        big = parts_shown.loc[parts_shown["nok"].abs().idxmax()]
        msg = t("rep.msg.driver", lang, service=sname, gap=fmt.mill_kr(abs(gap), lang=lang), dir=_more_less(gap, lang),
                peers=peers, part=labels.get(big["component"], big["component"]).lower(),
                nok=fmt.mill_kr(big["nok"], sign=True, lang=lang))
        need = have[have["component"] == "need"]
        nc = row.get("gap_need_corrected_nok")
        if len(need) and not fmt.is_missing(nc):  # two need figures: the split's and the need-corrected gap's
            lines.append(t("rep.key.driver_need2", lang, need=fmt.mill_kr(need.iloc[0]["nok"], sign=True, lang=lang),
                           nc=fmt.mill_kr(nc, sign=True, lang=lang), diff=fmt.mill_kr(gap - nc, sign=True, lang=lang)))
    else:
        values = queries.service_values(state, service)
        title = t("rep.driver.values_title", lang, service=sname, peers=queries.peers_label(state))
        if values is None or values["value"].notna().sum() == 0:
            return _left(title, sname, reason, queries.fetch_command(service), state)
        peer = row.get("peer_per_resident")
        chart = figures.peer_rank(values, state.kommune, title, t("rep.unit_kr_per_resident", lang),
                                  _caption(state, ["12362", "07459"]), None if fmt.is_missing(peer) else float(peer),
                                  t("rep.peers_average", lang), 0, chart_id, lang)
        split = t("rep.driver.unsplit", lang, why=reason or queries.fetch_command(service))
        msg = t("rep.msg.driver_rank", lang, service=sname, gap=fmt.mill_kr(abs(gap), lang=lang),
                dir=_more_less(gap, lang), peers=peers)
        lines.append(t("rep.key.driver_unsplit", lang))
    notes = t("rep.driver.notes", lang, service=sname, name=name, own=fmt.kr(row["per_resident"], lang=lang),
              peer=fmt.kr(row["peer_per_resident"], lang=lang), peers=queries.peers_label(state),
              gap=fmt.mill_kr(gap, sign=True, lang=lang), split=split)
    key_label = t("rep.key.driver", lang, own=fmt.kr(row["per_resident"], lang=lang),
                  peer=fmt.kr(row["peer_per_resident"], lang=lang))
    return StorySlide(_section(state, 3), chart, notes, msg, fmt.mill_kr(gap, sign=True, lang=lang), key_label,
                      lines=tuple(lines))


def what_if(state: st.State, service: str, lever: str = "coverage") -> dict:
    """The engine's what-if (api.what_if, against the peers' median) plus a plain-language sentence: 'If our
    coverage in X matched the peers' median, spending would change by N mill. kr'. Keys as api.what_if (the reason
    worded in the view's language), plus `sentence`."""
    api = data.api()
    result = dict(api.what_if(data.get_panel(), state.kommune, state.aar, service, lever, queries.peer_arg(state),
                              state.konv))
    lang = state.lang
    result["reason"] = i18n.reason_text(result.get("reason"), lang)
    sname = queries.service_name(service, lang).lower()
    lever_name = _lever(state, lever)
    if result.get("available") and not fmt.is_missing(result.get("nok")):
        result["sentence"] = t("rep.whatif.sentence", lang, lever=lever_name, service=sname,
                               peers=queries.peers_label(state), change=fmt.mill_kr(result["nok"], sign=True, lang=lang))
    else:
        result["sentence"] = t("rep.whatif.cannot", lang, lever=lever_name, service=sname,
                               reason=result.get("reason") or "")
    return result


def what_if_slide(state: st.State, service: str, lever: str = "coverage", number: int = 7) -> StorySlide | LeftOut:
    lang, name = state.lang, _name(state)
    res = what_if(state, service, lever)
    sname = queries.service_name(service, lang)
    lever_name = _lever(state, lever)
    title = t("rep.whatif.title", lang, service=sname.lower(), lever=lever_name)
    caption = _caption(state, queries.service_tables(service))
    chart_id = f"story-{number}-hva-om"
    if not res.get("available") or fmt.is_missing(res.get("nok")):
        return LeftOut(title, str(res.get("reason") or res["sentence"]), queries.fetch_command(service))
    unit = "%" if lever == "coverage" else "kr"
    labels = [name, t("rep.whatif.median", lang, peers=queries.peers_label(state))]  # the engine's target: the median
    values = [res["own"], res["peer"]]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=[figures.HIGHLIGHT, figures.PEER],
                           text=[fmt.number(v, 1 if unit == "%" else 0, lang=lang) for v in values], textposition="outside",
                           cliponaxis=False))
    fig.update_layout(template=figures.TEMPLATE_NAME, showlegend=False, yaxis_title=f"{lever_name} ({unit})",
                      meta={"title": title})
    table = pd.DataFrame({
        t("rep.whatif.col_who", lang): labels,
        f"{lever_name.capitalize()} ({unit})": values,
    })
    table[t("rep.whatif.col_change", lang)] = [round(res["nok"] / 1e6, 1), math.nan]
    chart = figures.Chart(chart_id, title, fig, table, caption)
    change = fmt.mill_kr(res["nok"], sign=True, lang=lang)
    msg = t("rep.msg.whatif", lang, lever=lever_name, service=sname.lower(), peers=_peers_short(state), change=change)
    return StorySlide(_section(state, 4), chart, res["sentence"], msg, change,
                      t("rep.key.whatif", lang), lines=(t("rep.key.whatif_ours", lang),))


def meaning_slide(state: st.State, slides: list[StorySlide]) -> StorySlide | None:
    """«Hva betyr dette»: the whole story in plain words, from the numbers on the slides before (no new ones)."""
    lang, name = state.lang, _name(state)
    by_section = {}
    for s in slides:
        by_section.setdefault(s.section, []).append(s)
    points = []
    total = _total_row(state)
    if _section(state, 1) in by_section and total is not None:
        points.append(t("rep.mean.total", lang, name=name, gap=fmt.mill_kr(abs(total["gap_nok"]), lang=lang),
                        dir=_more_less(total["gap_nok"], lang), peers=_peers_short(state), year=state.aar))
        if not fmt.is_missing(total.get("gap_need_corrected_nok")):
            points.append(t("rep.mean.need", lang, gap=fmt.mill_kr(total["gap_need_corrected_nok"], sign=True, lang=lang)))
    drivers = by_section.get(_section(state, 3), [])
    if drivers:
        g = queries.gaps(state)
        named = []
        for service in largest_services(state, len(drivers)):
            r = g[g["service"] == service].iloc[0]
            named.append(f"{queries.service_name(service, lang).lower()} ({fmt.mill_kr(r['gap_nok'], sign=True, lang=lang)})")
        points.append(t("rep.mean.largest", lang, services=", ".join(named)))
        points.append(drivers[0].title + ".")
    for s in by_section.get(_section(state, 4), []):
        points.append(s.notes)
    if not points:
        return None
    points.append(t("rep.mean.ours", lang))
    return StorySlide(_section(state, 5), None, " ".join(points), t("rep.mean.title", lang, name=name),
                      lines=tuple(points))


# ---- the whole storyline ----------------------------------------------------------------------------------


@cached("story-slides", 8)
def _story(state: st.State, what_if_service: str | None, lever: str) -> tuple[list[StorySlide], list[LeftOut]]:
    """The slides and what was left out. Cached (a few per view): the deck, its left-out list and the pack's
    charts each ask for the same storyline (~2 s warm for Bærum on this machine)."""
    slides: list[StorySlide] = []
    left: list[LeftOut] = []

    def add(item):
        (slides if isinstance(item, StorySlide) else left).append(item)

    income = income_and_need(state)
    add(income)
    add(total_gap(state, with_profile=isinstance(income, LeftOut)))
    add(gaps_by_service(state))
    top = largest_services(state)
    for k, service in enumerate(top):
        add(service_driver(state, service, 4 + k))
    number = 4 + len(top)
    if what_if_service:
        add(what_if_slide(state, what_if_service, lever, number))
    else:
        choice = _what_if_default(state, top, lever)
        if choice:
            add(what_if_slide(state, choice[0], choice[1], number))
        else:
            left.append(LeftOut(t("rep.sec.what_if", state.lang), t("rep.whatif.none", state.lang, year=state.aar),
                                None))
    closing = meaning_slide(state, slides)
    if closing is not None:
        slides.append(closing)
    return slides, left


def build(state: st.State, what_if_service: str | None = None, lever: str = "coverage") -> list[StorySlide]:
    """The whole storyline for a view (municipality, year, peers, convention, language). No placeholder slides:
    a slide whose numbers are missing is left out (`left_out` names it, with the reason and the fetch command).

    The what-if slide uses a service and lever the data can answer (the asked lever first, then the other); when
    none can be answered for the year, it is left out."""
    return list(_story(state, what_if_service, lever)[0])


def _what_if_default(state: st.State, top: list[str], lever: str) -> tuple[str, str] | None:
    """(service, lever) for the largest-gap service where the engine can answer the what-if, the asked lever
    before the other; None when no service can be answered."""
    levers = [lever, *[x for x in LEVERS if x != lever]]
    for lv in levers:
        for service in [*top, *[s for s in queries.SERVICES if s not in top]]:
            try:
                res = what_if(state, service, lv)
            except Exception:  # noqa: BLE001 - a service the engine cannot model is simply not the default
                continue
            if res.get("available") and not fmt.is_missing(res.get("nok")):
                return service, lv
    return None


@cached("story-charts", 4)
def _pack(state: st.State) -> tuple[list[figures.Chart], list[LeftOut]]:
    slides, left = _story(state, None, "coverage")
    left = list(left)
    charts = [s.chart for s in slides if s.chart is not None]
    seen = {c.id for c in charts}
    lang = state.lang
    g = queries.gaps(state)
    for service in queries.SERVICES:
        values = queries.service_values(state, service)
        sname = queries.service_name(service, lang)
        title = t("rep.driver.values_title", lang, service=sname, peers=queries.peers_label(state))
        if values is not None and values["value"].notna().any():
            row = g[g["service"] == service]
            peer = row["peer_per_resident"].iloc[0] if len(row) else None
            chart = figures.peer_rank(values, state.kommune, title, t("rep.unit_kr_per_resident", lang),
                                      _caption(state, ["12362", "07459"]), None if fmt.is_missing(peer) else float(peer),
                                      t("rep.peers_average", lang), 0, f"rank-{service}", lang)
            if chart.id not in seen:
                charts.append(chart)
                seen.add(chart.id)
        else:
            left.append(_left(title, sname, None, queries.fetch_command(service), state))
        frame, reason = queries.decomposition(state, service)
        title = t("rep.driver.title", lang, service=sname)
        if explains(frame):
            if f"decomp-{service}" not in seen:
                charts.append(figures.decomposition(frame, title, _caption(state, queries.service_tables(service)),
                                                    lang, _labels(frame, lang), chart_id=f"decomp-{service}"))
                seen.add(f"decomp-{service}")
        else:
            command = queries.fetch_command(service) if service in queries.SERVICE_TABLES else None
            left.append(_left(title, t("rep.lo.split", lang, service=sname.lower()), reason, command, state))
    return charts, left


def all_charts(state: st.State) -> list[figures.Chart]:
    """Every chart for the municipality: the storyline, then each service's rank and decomposition. No
    placeholders: what has no numbers (or a split that explains nothing) is left out and named by `left_out`."""
    return list(_pack(state)[0])


def once(items: list[LeftOut]) -> list[LeftOut]:
    """Each left-out item once (by its title), in order."""
    out, seen = [], set()
    for item in items:
        if item.title not in seen:
            seen.add(item.title)
            out.append(item)
    return out


def left_out(state: st.State, what_if_service: str | None = None, lever: str = "coverage", *,
             charts: bool = True) -> list[LeftOut]:
    """Everything `build` (and, with charts=True, `all_charts`) left out, each once: title, reason, command."""
    items = list(_story(state, what_if_service, lever)[1])
    if charts:
        items += _pack(state)[1]
    return once(items)


def find_chart(state: st.State, chart_id: str) -> figures.Chart | None:
    """A chart by id among everything `all_charts` makes for this view."""
    for chart in all_charts(state):
        if chart.id == chart_id:
            return chart
    return None
