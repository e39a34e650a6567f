"""UI texts and the engine's words by key, one module per language.

Each language is one module in this package (`nb.py`, `en.py`) holding `WORDS: dict[str, str]`, its own name under
"lang_name" included; a new language is a copy of `nb.py` under its code. `t(key, lang, **values)` formats one text;
`reason_text(reason, lang)` words what the engine said (drivers.engine.reasons: a key with arguments). A key
missing in a language falls back to bokmål, and a key missing everywhere is shown as itself, so a gap is visible,
never a crash (tests/test_i18n.py holds that every language has every key with the same placeholders).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from drivers.engine import reasons

DEFAULT = "nb"
# Languages are the modules of this package: adding en.py's sibling adds a language.
LANGS: tuple[str, ...] = tuple(sorted((m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")),
                                      key=lambda code: (code != DEFAULT, code)))
_WORDS: dict[str, Mapping[str, str]] = {code: importlib.import_module(f"{__name__}.{code}").WORDS for code in LANGS}


def words(lang: str) -> Mapping[str, str]:
    """The WORDS of one language (bokmål for an unknown code)."""
    return _WORDS.get(lang, _WORDS[DEFAULT])


def known(lang: object) -> str:
    """`lang` if it is one of LANGS, else the default: for values read from URLs and requests."""
    return lang if isinstance(lang, str) and lang in LANGS else DEFAULT


def has(key: str) -> bool:
    return key in words(DEFAULT)


def t(key: str, lang: str = DEFAULT, **values) -> str:
    """The text for `key` in `lang` (bokmål if that language lacks it), with {placeholders} filled in."""
    text = words(lang).get(key)
    if text is None:
        text = words(DEFAULT).get(key, key)
    return text.format(**values) if values else text


def reason_text(reason, lang: str | None = DEFAULT) -> str | None:
    """What the engine said in `lang`: a drivers.engine.reasons.Reason worded (its arguments first), a Money,
    Share or Named written the language's way; a plain string (a proper name, a code, a text worded before)
    or None as it is."""
    if isinstance(reason, reasons.Reason):
        return _word(reason.key, reason.args, reason.case, lang)
    return _word_arg(reason, lang or DEFAULT)


def _word(key: str, args: tuple, case: str | None, lang: str | None) -> str:
    """A key with arguments (a Reason's parts) in `lang` (None: the default); given to the engine below."""
    lang = lang or DEFAULT
    if key == reasons.JOIN:
        d = dict(args)
        text = _word_arg(d["sep"], lang).join(_word_arg(p, lang) for p in d["parts"])
    else:
        text = t(key, lang, **{name: _word_arg(value, lang) for name, value in args})
    if case == "lower":
        return text.lower()
    return text.capitalize() if case == "capitalize" else text


def _word_arg(value, lang: str):
    if isinstance(value, reasons.Reason):
        return _word(value.key, value.args, value.case, lang)
    if isinstance(value, reasons.Money):
        return t("fmt.mill", lang, n=number(abs(value.nok) / 1e6, 1, lang))
    if isinstance(value, reasons.Share):
        return t("fmt.pct", lang, n=f"{round(100 * value.x):d}")
    if isinstance(value, reasons.Named):
        return value.get(lang)
    return value


def number(x: float, decimals: int, lang: str = DEFAULT) -> str:
    """x with the language's thousands and decimal marks ('1 234,5', '1,234.5')."""
    example = t("num.example", lang)  # how the language writes 1234.5, e.g. "1 234,5": its two marks
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", example[5]).replace("\0", example[1])


# The engine may not import this package: it is given the wording here (see drivers.engine.reasons).
reasons.use_wording(_word)
