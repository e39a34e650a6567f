"""English pages show every text in English (issue 12 item 5, the Oversikt and Tjenester pages): built for Bærum
(3201) on the real database in English and in bokmål, the two trees share no text of three words or more, no run
of three words, and the English tree holds no common bokmål word; the pages ask for words by keys that exist and
never switch on the language themselves."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from ui_pages_data import walk

from drivers import i18n
from drivers.report import queries as views
from drivers.ui import serving

KOMMUNE = "3201"  # Bærum: every part of both pages has data (charts, tiles, notices, engine reasons)
PAGES = [("oversikt", {"kommune": KOMMUNE}), ("oversikt", {"kommune": "0301"}),  # Oslo: no peers in its group
         *[("tjenester", {"kommune": KOMMUNE, "tjeneste": s}) for s in views.SERVICES],
         ("tjenester", {"kommune": KOMMUNE, "tjeneste": "FGK99"})]  # the unknown-service error page
FILES = [Path(__file__).parents[1] / "src/drivers/ui/pages" / f for f in ("oversikt.py", "tjenester.py")]
# Words that are bokmål and never English: one of them in the English page is a text left untranslated.
BOKMAL_ONLY = {"og", "ikke", "har", "mangler", "hent", "velg", "innbygger", "innbyggere", "kommunen", "dataene",
               "tallet", "tjenesten", "tabell", "utgifter", "driftsutgifter", "dekningsgrad", "enhetskostnad"}
# Texts both languages write alike: none today. Add only proper names or titles of sources, with why.
SHARED_OK: set[str] = set()

_EDGE = "«»()[]{}.,:;!?\"'’"
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _texts(tree) -> set[str]:
    """Every text shown in the tree; code (the `drivers fetch` commands) is the same in every language."""
    out = set()
    for node in walk(tree):
        if type(node).__name__ == "Code":
            continue
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if isinstance(child, str) and child.strip():
                out.add(child.strip())
    return out


def _runs(text: str) -> list[list[str]]:
    """The text's runs of words: numbers, codes (EKG12, pleie_dekning_80) and `commands` break a run."""
    runs, run = [], []
    for token in re.sub(r"`[^`]*`", " | ", text).split():
        word = token.strip(_EDGE)
        if _WORD.fullmatch(word):
            run.append(word)
        else:
            runs.append(run)
            run = []
    return [r for r in [*runs, run] if r]


def _triples(text: str) -> set[tuple[str, ...]]:
    return {tuple(r[i:i + 3]) for r in _runs(text) for i in range(len(r) - 2)}


def _expand(tree):
    """Fill the deferred parts the way the browser's callback does."""
    for node in walk(tree):
        if isinstance(getattr(node, "id", None), dict) and node.id.get("type") == "deferred":
            node.children = serving.render_deferred(node.id)
    return tree


@pytest.fixture(scope="module")
def trees(pages):
    return {(name, tuple(query.items()), lang): _texts(_expand(pages[name].layout(**query, lang=lang)))
            for name, query in PAGES for lang in ("nb", "en")}


@pytest.mark.parametrize(("name", "query"), PAGES)
def test_english_page_shares_no_words_with_the_bokmal_page(trees, name, query):
    en, nb = trees[(name, tuple(query.items()), "en")], trees[(name, tuple(query.items()), "nb")]
    same = {s for s in en & nb if sum(map(len, _runs(s))) >= 3} - SHARED_OK
    assert not same, f"texts not translated: {sorted(same)}"
    nb_triples = set().union(*map(_triples, nb))
    shared = {" ".join(w) for s in en - SHARED_OK for w in _triples(s) & nb_triples}
    assert not shared, f"runs of three words in both languages: {sorted(shared)}"
    bokmal = {(w.lower(), s[:120]) for s in en for r in _runs(s) for w in r if w.lower() in BOKMAL_ONLY}
    assert not bokmal, f"bokmål words in the English page: {sorted(bokmal)}"


@pytest.mark.parametrize(("name", "query", "english", "bokmal"), [
    ("oversikt", {"kommune": KOMMUNE}, ["Net operating expenditure per resident", "Difference in NOK", "Financial health",
                                        "(own − peers) NOK per resident × residents", "2020 grouping"],
     ["Netto driftsutgifter i alt per innbygger", "Forskjell i kroner", "Økonomisk helse",
      "(egen − gruppens) kr per innbygger × innbyggere", "2020-inndelingen"]),
    ("oversikt", {"kommune": "0301"}, ["No peer municipalities in this set; choose another set above."],
     ["Ingen sammenligningskommuner i denne gruppen; velg en annen gruppe øverst."]),
    ("tjenester", {"kommune": KOMMUNE, "tjeneste": "FGK9"},
     ["Coverage and unit cost", "Unit cost", "Of which", "(1 = highest spending per resident)", "why the gap"],
     ["Dekningsgrad og enhetskostnad", "Enhetskostnad", "Herav", "(1 = høyest utgift per innbygger)", "hvorfor avviket"]),
    ("tjenester", {"kommune": KOMMUNE, "tjeneste": "FGK99"}, ["Unknown service «FGK99». Choose one of the links."],
     ["Ukjent tjeneste «FGK99». Velg en av lenkene."]),
])
def test_pages_speak_each_language(trees, name, query, english, bokmal):
    for lang, expected in (("en", english), ("nb", bokmal)):
        body = " ".join(trees[(name, tuple(query.items()), lang)])
        missing = [e for e in expected if e not in body]
        assert not missing, (lang, missing)


def test_pages_ask_for_words_that_exist_and_never_switch_on_the_language():
    for path in FILES:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                consts = [c for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
                assert not any(c.value in i18n.LANGS for c in consts), f"{path.name}:{node.lineno} switches on the language"
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "t"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                assert i18n.has(node.args[0].value), f"{path.name}:{node.lineno}: no key {node.args[0].value!r}"
    for spec in views.HEALTH:  # the keys the Oversikt page makes from the measure
        keys = [f"ov.health.{spec['measure']}"]
        keys += [f"ov.health_norm.{spec['measure']}", f"ov.health_source.{spec['measure']}"] if spec.get("norm") else []
        assert all(i18n.has(k) for k in keys), keys
