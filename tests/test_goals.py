"""Goals linked to indicators (issue 15 items 1-2), without data: the status rules (drivers.engine.goals) and the
indikatorsett reader (drivers.goals): the example ships and is clean, bad files give one message with the line."""

from __future__ import annotations

import pytest

from drivers import goals as gf
from drivers import i18n  # noqa: F401  (gives the engine its wording)
from drivers.engine import goals as rules
from drivers.engine import indicators as registry
from drivers.report import goals as gv

T = rules.Target


def status(target, series, year, **kw):
    return rules.assess(target, series, year, **kw).status


# ---- rules -----------------------------------------------------------------------------------------------------
def test_level_met_on_track_not_met_and_rounding():
    lvl = T("level", minimum=1.75)
    assert status(lvl, {2023: 1.0, 2024: 1.9}, 2024, unit="%", decimals=1) == rules.MET
    assert status(lvl, {2023: 1.0, 2024: 1.5}, 2024, unit="%", decimals=1, target_year=2027) == rules.ON_TRACK
    assert status(lvl, {2023: 1.6, 2024: 1.5}, 2024, unit="%", decimals=1, target_year=2027) == rules.NOT_MET
    # the target year has come: closer is not enough
    assert status(lvl, {2023: 1.0, 2024: 1.5}, 2024, unit="%", decimals=1, target_year=2024) == rules.NOT_MET
    # compared as shown: 1.749 is shown as 1,7 % and is below 1,75 %
    assert status(lvl, {2024: 1.749}, 2024, unit="%", decimals=1) == rules.NOT_MET
    hi = T("level", maximum=100.0)
    assert status(hi, {2024: 100.4}, 2024, decimals=0) == rules.MET  # shown as 100
    v = rules.assess(lvl, {2023: 1.0, 2024: 1.5}, 2024, unit="%", decimals=1, target_year=2027)
    text = gv.word(v.rule, "nb")
    assert text == "1,5 % i 2024 er under 1,75 %, men høyere enn 1,0 % i 2023; målåret er 2027"
    assert gv.word(v.rule, "en") == "1.5% in 2024 is below 1.75%, but higher than 1.0% in 2023; the target year is 2027"


def test_direction_peers_last_year():
    up = T("direction", direction="up", base_year=2015)
    series = {2015: 80.0, 2023: 90.0, 2024: 91.0}
    assert status(up, series, 2024, target_year=2027) == rules.ON_TRACK
    assert status(up, series, 2024) == rules.MET
    assert status(up, {2015: 95.0, 2024: 91.0}, 2024) == rules.NOT_MET
    assert status(up, {2024: 91.0}, 2024) == rules.MISSING  # no figure for the start year
    peers = T("peers", direction="down", peers="kostragruppe")
    assert status(peers, {2024: 100.0}, 2024, peer_values={2024: 110.0}) == rules.MET
    assert status(peers, {2023: 130.0, 2024: 120.0}, 2024, peer_values={2023: 100.0, 2024: 110.0},
                  target_year=2027) == rules.ON_TRACK
    assert status(peers, {2023: 105.0, 2024: 120.0}, 2024, peer_values={2023: 100.0, 2024: 110.0}) == rules.NOT_MET
    assert status(peers, {2024: 120.0}, 2024, peer_values={}) == rules.MISSING
    last = T("last_year")
    assert status(last, {2023: 1.0, 2024: 2.0}, 2024, polarity="higher_is_better") == rules.MET
    assert status(last, {2023: 1.0, 2024: 2.0}, 2024, polarity="lower_is_better") == rules.NOT_MET
    assert status(last, {2023: 2.0, 2024: 2.0}, 2024, polarity="higher_is_better") == rules.NOT_MET  # unchanged
    assert status(last, {2024: 2.0}, 2024, polarity="higher_is_better") == rules.MISSING


def test_missing_and_too_old_figures():
    lvl = T("level", minimum=1.0)
    assert status(lvl, {}, 2024) == rules.MISSING
    assert status(lvl, {2023: 2.0}, 2024) == rules.MET  # the year before counts
    old = rules.assess(lvl, {2022: 2.0}, 2024, unit="%", decimals=1)
    assert old.status == rules.MISSING
    assert gv.word(old.rule, "nb") == "siste tall er fra 2022 (2,0 %), mer enn ett år før 2024"
    assert gv.word(rules.summary([rules.MET, rules.MISSING, rules.ON_TRACK]), "nb") == "1 av 3 nådd; 1 på vei; 1 mangler tall"


def test_impossible_targets():
    assert rules.impossible(T("level", minimum=120.0), "barnehage_andel_1_2", "%", "neutral") is not None
    assert rules.impossible(T("level", minimum=5.0, maximum=1.0), "netto_driftsresultat_pct", "%", "higher_is_better")
    assert rules.impossible(T("last_year"), "ndu_fgk7_per_innb", "kr", "neutral") is not None
    assert rules.impossible(T("last_year"), "netto_driftsresultat_pct", "%", "higher_is_better") is None
    assert rules.impossible(T("level", minimum=-3.0), "netto_driftsresultat_pct", "%", "higher_is_better") is None


# ---- the file -------------------------------------------------------------------------------------------------
def test_the_example_ships_clean_and_uses_only_registry_indicators_and_public_norms():
    from drivers.report.queries import NORM_KOMMUNE_PCT

    ex = gf.load(None) if gf.path() is None else gf.parse(gf.example_text(), gf.EXAMPLE)
    assert ex.example and not ex.problems and len(ex.goals) >= 3
    known = {i.id for i in registry.all()}
    entries = [e for g in ex.goals for e in g.entries]
    assert entries and all(e.indicator in known for e in entries)
    for e in entries:  # never an invented number: a level is the public norm, everything else relative
        if e.target.kind == "level":
            assert (e.indicator, e.target.minimum, e.target.maximum) == ("netto_driftsresultat_pct", NORM_KOMMUNE_PCT, None)
            assert "1,75 %" in e.source
    assert {e.target.kind for e in entries} == set(rules.KINDS)
    assert "EKSEMPEL" in gf.example_text().splitlines()[0]


GOOD = """\
mål:
  - mål: Sunn økonomi
    indikatorer:
      - indikator: netto_driftsresultat_pct
        målsetting: {minst: "1,75"}
"""


def test_a_decimal_comma_is_read():
    gs = gf.parse(GOOD, "x.yaml")
    assert not gs.problems and gs.goals[0].entries[0].target == T("level", minimum=1.75)


def one(text: str):
    gs = gf.parse(text, "indikatorsett.yaml")
    assert len(gs.problems) == 1, [str(p) for p in gs.problems]
    return gs, gs.problems[0]


def test_unknown_indicator_is_one_message_with_its_line_and_the_rest_is_kept():
    gs, p = one(GOOD + """\
  - mål: Effektiv drift
    indikatorer:
      - indikator: netto_drift
        målsetting: bedre enn fjoråret
      - indikator: ndu_fgk1b_per_innb
        målsetting: på eller under KOSTRA-gruppen
""")
    assert p.line == 8
    assert str(p).startswith("indikatorsett.yaml, linje 8: ukjent indikator «netto_drift» (ligner: netto_driftsresultat_pct")
    assert p.text("en").startswith("indikatorsett.yaml, line 8: unknown indicator «netto_drift»")
    assert [len(g.entries) for g in gs.goals] == [1, 1]
    assert gs.goals[1].entries[0].target == T("peers", direction="down", peers="kostragruppe")


def test_impossible_target_gives_its_line():
    gs, p = one("""\
mål:
  - mål: Barnehage for alle
    indikatorer:
      - indikator: barnehage_andel_1_2
        målsetting: {minst: 120}
""")
    assert p.line == 5 and "umulig målsetting for barnehage_andel_1_2" in str(p) and "0–100 %" in str(p)
    assert gs.goals[0].entries == ()  # the goal stays, with no indicator; the message says why
    gs2 = gf.parse(GOOD.replace('{minst: "1,75"}', "bedre enn fjoråret").replace(
        "netto_driftsresultat_pct", "ndu_fgk7_per_innb"), "x.yaml")
    assert len(gs2.problems) == 1 and "ingen retning som er bedre" in str(gs2.problems[0])


@pytest.mark.parametrize("text, line, words", [
    ("mål:\n  - mål: A\n    indikatorer: [\n", 4, "ikke gyldig YAML"),
    ("mål:\n  - mål: A\n   indikatorer:\n", 3, "ikke gyldig YAML"),
    ("mål: ingen liste\n", 1, "skal være en liste"),
    ("tittel: x\n", 1, "fant ingen «mål:»-liste"),
    (GOOD.replace("målsetting", "maalsetting"), 4, "mangler «målsetting:» (står det feil i «maalsetting»?)"),
    (GOOD + "    farge: blå\n", 6, "ukjent nøkkel «farge»"),
    (GOOD.replace('{minst: "1,75"}', "{retning: opp}"), 5, "startåret mangler"),
    (GOOD.replace('{minst: "1,75"}', "{på_eller_under: nabolaget}"), 5, "ukjent sammenligningsgruppe"),
    (GOOD + "    målår: tjuetjue\n", 6, "er ikke et årstall"),
])
def test_malformed_files_give_one_message_with_the_line(text, line, words):
    _, p = one(text)
    assert p.line == line and words in str(p), str(p)


def test_a_bad_goal_keeps_the_others(tmp_path):
    f = tmp_path / "sett.yaml"
    f.write_text(GOOD + "  - eier: ingen tekst\n    indikatorer: [ ]\n", "utf-8")
    gs = gf.load(f)
    assert len(gs.goals) == 1 and len(gs.problems) == 1 and gs.problems[0].line == 6
    assert str(gs.problems[0]).startswith(f"{f}, linje 6: målet mangler teksten")
    f.write_text(GOOD, "utf-8")  # an edit is read again
    import os
    os.utime(f, ns=(1, 10**18))
    assert not gf.load(f).problems
    assert "filen finnes ikke" in str(gf.load(tmp_path / "nei.yaml").problems[0])
