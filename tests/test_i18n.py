"""Words in one place (issue 12 item 5): every language has every key with the same placeholders, no code outside
drivers.i18n switches on the language, every literal key the code asks for exists."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import drivers
from drivers import i18n

SRC = Path(drivers.__file__).parent


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_key_with_the_same_placeholders():
    nb = i18n.words("nb")
    assert len(nb) > 50
    for lang in i18n.LANGS:
        other = i18n.words(lang)
        assert set(other) == set(nb), (lang, sorted(set(nb) ^ set(other))[:20])
        for key, text in nb.items():
            assert other[key].strip(), (lang, key)
            assert _fields(other[key]) == _fields(text), (lang, key, other[key], text)


def test_languages_are_the_files_of_the_package():
    files = sorted(p.stem for p in (SRC / "i18n").glob("*.py") if not p.stem.startswith("_"))
    assert sorted(i18n.LANGS) == files and i18n.LANGS[0] == "nb"


def test_lookup_falls_back_and_formats():
    assert i18n.t("nav_oversikt", "en") == "Overview" and i18n.t("nav_oversikt") == "Oversikt"
    assert i18n.t("profile_population_note", "nb", year=2025) == "1. januar 2025"
    assert i18n.t("nav_oversikt", "xx") == "Oversikt"  # unknown language: bokmål
    assert i18n.t("no-such-key") == "no-such-key"
    assert i18n.known("en") == "en" and i18n.known(["en"]) == "nb" and i18n.known(None) == "nb"


def _language_switches(tree: ast.AST) -> list[int]:
    """Lines comparing something with the literal "en" or "nb" (lang == "en", lang != "en", lang in ("nb", "en"))."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            consts = [c for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
            consts += [e for c in node.comparators if isinstance(c, (ast.Tuple, ast.List, ast.Set)) for e in c.elts
                       if isinstance(e, ast.Constant)]
            if any(c.value in ("en", "nb") for c in consts):
                lines.append(node.lineno)
    return lines


def test_no_code_outside_i18n_switches_on_the_language():
    """A text chosen by `lang == "en"` is a text a new language cannot translate: words go through t(key, lang)."""
    found = {}
    for path in SRC.rglob("*.py"):
        if path.parent.name == "i18n":
            continue
        lines = _language_switches(ast.parse(path.read_text("utf-8")))
        if lines:
            found[path.relative_to(SRC).as_posix()] = lines
    assert not found, f"language switches (use t(key, lang) and add the words to every file in drivers/i18n): {found}"


def test_every_literal_key_asked_for_exists():
    missing = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                if not i18n.has(node.args[0].value):
                    missing.setdefault(str(path.relative_to(SRC)), []).append(node.args[0].value)
    assert not missing, missing
