"""The engine's words are keys (issue 12 item 5): every why()/term() key the engine asks for exists in every language
with the placeholders it is given; on real data the driver table's reasons are English on English pages and the
bokmål they always were on bokmål ones; a Reason survives pickling; engine, report and export_pack no longer switch
on the language."""

from __future__ import annotations

import ast
import copy
import pickle
import string
from pathlib import Path

import pytest
from engine_data import shared_panel

import drivers
from drivers import i18n
from drivers.engine import api, decompose, peers
from drivers.engine.averages import CONVENTIONS
from drivers.engine.reasons import Money, Named, Reason, Share, joined, term, why

SRC = Path(drivers.__file__).parent
ENGINE = sorted(p for p in (SRC / "engine").glob("*.py") if p.name != "reasons.py")  # reasons.py defines why/term
# f"<prefix>{…}" keys: the values the braces take
FSTRING_KEYS = {"conv.long.": CONVENTIONS, "sum.conv.": CONVENTIONS, "comp.": decompose.COMPONENTS,
                "peer.var.": list(peers.VARIABLES),
                # the goal rules (engine/goals.py): a direction, a side of the peers, or the bound a level missed
                **{f"goal.rule.{k}_": ["up", "down"] for k in ("direction_not", "direction_on_track", "direction_met",
                                                               "last_year_met", "last_year_not_met")},
                **{f"goal.rule.{k}_": ["at_most", "at_least"] for k in ("peers_met", "peers_on_track",
                                                                        "peers_not_met")},
                **{f"goal.rule.{k}_": ["min", "max"] for k in ("level_on_track", "level_not_closer", "level_not_met_by",
                                                               "level_not_met")},
                "goal.rule.level_met_": ["min", "max"], "goal.sum.": ["on_track", "not_met", "missing"]}
BOKMAL_ONLY = ("mangler", "kommunen", "hent med", "snitt", "tabell ", "databasen", "ingen ", "sammenligning",
               "finnes", " uten ", "ikke ")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _asked(path: Path) -> list[tuple[str, set[str], int]]:
    """(key, keyword argument names, line) of every why()/term() call in a file; f-string keys expanded."""
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("why", "term")
                and node.args):
            continue
        assert all(k.arg for k in node.keywords), f"{path.name}:{node.lineno}: **arguments cannot be checked"
        names = {k.arg for k in node.keywords}
        prefix = "reason." if node.func.id == "why" else ""
        arg = node.args[0]
        if isinstance(arg, ast.IfExp):  # term("sum.total_more" if g > 0 else "sum.total_less", …): both
            assert all(isinstance(b, ast.Constant) for b in (arg.body, arg.orelse)), f"{path.name}:{node.lineno}"
            out += [(prefix + b.value, names, node.lineno) for b in (arg.body, arg.orelse)]
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            out.append((prefix + arg.value, names, node.lineno))
        elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
            head = prefix + arg.values[0].value
            assert head in FSTRING_KEYS and len(arg.values) == 2, \
                f"{path.name}:{node.lineno}: f-string key {head!r}… (add its values to FSTRING_KEYS)"
            out += [(head + v, names, node.lineno) for v in FSTRING_KEYS[head]]
        else:
            raise AssertionError(f"{path.name}:{node.lineno}: a key that is neither a literal nor a known f-string")
    return out


def test_every_key_the_engine_asks_for_exists_with_its_placeholders():
    asked = [(p.name, *a) for p in ENGINE for a in _asked(p)]
    assert len(asked) > 60
    problems = []
    for lang in i18n.LANGS:
        words = i18n.words(lang)
        for file, key, names, line in asked:
            if key not in words:
                problems.append(f"{lang}: {file}:{line} {key} missing")
            elif _fields(words[key]) != names:
                problems.append(f"{lang}: {file}:{line} {key} has {sorted(_fields(words[key]))}, given {sorted(names)}")
    assert not problems, problems


def test_report_keys_made_from_codes_exist():
    from drivers.report import queries, story

    keys = [f"rep.service.{c}" for c in queries.SERVICE_NAMED] + [f"rep.konv.{c}" for c in CONVENTIONS]
    keys += [f"rep.comp_short.{c}" for c in queries.SHORT_COMPONENTS] + story.SECTION_KEYS + list(story.LEVERS.values())
    assert [k for k in keys if not i18n.has(k)] == []
    from drivers.engine import indicators

    for code, svc in indicators.services().items():  # the words say the registry's target groups
        if svc.get("target_label"):
            assert queries.target_label(code, "nb") == svc["target_label"], code
            assert "år" not in queries.target_label(code, "en"), code


def _switches(path: Path) -> int:
    tree = ast.parse(path.read_text("utf-8"))
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            consts = [c for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
            consts += [e for c in node.comparators if isinstance(c, (ast.Tuple, ast.List, ast.Set)) for e in c.elts
                       if isinstance(e, ast.Constant)]
            n += any(c.value in ("en", "nb") for c in consts)
    return n


def test_engine_report_and_export_pack_do_not_switch_on_the_language():
    files = [*(SRC / "engine").glob("*.py"), *(SRC / "report").glob("*.py"), SRC / "commands" / "export_pack.py"]
    found = {p.relative_to(SRC).as_posix(): _switches(p) for p in files}
    assert {f: n for f, n in found.items() if n} == {}


@pytest.fixture(scope="module")
def panel():
    return shared_panel()


@pytest.mark.parametrize("region", ["0301", "3201", "1151"])
def test_driver_table_reasons_are_worded_in_each_language(panel, region):
    seen = 0
    for peer_set, convention in [("kostragruppe", "weighted"), ("fylke", "unweighted-excl-self"), ("naboer", "weighted")]:
        table = api.driver_table(panel, 2024, peer_set, convention, [region])
        texts = [x for c in ("reason", "peer_label") for x in table[c] if x is not None]
        texts += [x for x in table.attrs.values() if isinstance(x, Reason)]
        g = api.gaps(panel, region, 2024, peer_set, convention)
        d = api.decompose(panel, region, 2024, "FGK9", peer_set, convention)
        texts += [x for x in [*g["reason"], *d["reason"], *d["name_nb"], d.attrs["reason"]] if isinstance(x, str)]
        for x in texts:
            assert isinstance(x, Reason), x  # the engine's words reach the caller as Reasons, not plain text
            assert i18n.reason_text(x, "nb") == str(x)
            en = i18n.reason_text(x, "en")
            lacking = [w for w in BOKMAL_ONLY if w in en.lower().replace(panel.name(region).lower(), "")]
            assert not lacking, (region, peer_set, lacking, en)
            seen += 1
    assert seen > 50


def test_oslo_alone_is_said_in_english(panel):
    row = api.driver_table(panel, 2024, "kostragruppe", "weighted", ["0301"]).iloc[0]
    assert i18n.reason_text(row["reason"], "en").startswith("the peer group KOSTRA group 13 has no members other than Oslo")
    assert "ingen andre kommuner enn Oslo" in row["reason"]


def test_a_reason_pickles_copies_and_keeps_its_key():
    r = joined([why("no_peer_figures", label=term("peer.excluding", label=term("peer.kostragruppe", n=10),
                                                   name="Lørenskog")), why("need_corrected_gap_missing")])
    for again in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r), copy.copy(r)):
        assert isinstance(again, Reason) and again == r and again.key == r.key and again.args == r.args
        assert i18n.reason_text(again, "en") == i18n.reason_text(r, "en")
    assert str(r) == ("ingen sammenligningskommuner (KOSTRA-gruppe 10 uten Lørenskog) har tall; "
                      "behovskorrigert avvik mangler: kommunen mangler kostnadsindeks")
    assert i18n.reason_text(r, "en") == ("no peer municipality (KOSTRA group 10 excluding Lørenskog) has figures; "
                                         "no need-corrected gap: the municipality has no cost index")


def test_numbers_names_and_case_are_worded_per_language():
    s = term("sum.need_more", amount=Money(-1234567.0))
    assert str(s) == "Korrigert for utgiftsbehov er avviket 1,2 mill. kr mer."
    assert i18n.reason_text(s, "en") == "Corrected for expenditure need, the gap is NOK 1.2 million more."
    big = term("sum.share", share=Share(0.424), what=Named.of(nb="Helse og omsorg", en="Health and care").lower())
    assert str(big) == "Om lag 42 % av avviket skyldes helse og omsorg."
    assert i18n.reason_text(big, "en") == "About 42% of the gap is due to health and care."
    assert i18n.number(1234567.5, 1, "nb") == "1 234 567,5" and i18n.number(1234567.5, 1, "en") == "1,234,567.5"
    name = term("comp.need")
    assert name.lower() == "utgiftsbehov (kostnadsindeks)" and isinstance(name.lower(), Reason)
    assert i18n.reason_text(name.lower().capitalize(), "en") == "Expenditure need (cost index)"
    assert i18n.reason_text("a plain text", "en") == "a plain text" and i18n.reason_text(None, "en") is None
    assert joined([None, ""]) is None and joined([name]) is name
