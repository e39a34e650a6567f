"""UI texts by key, one module per language.

Each language is one module in this package (`nb.py`, `en.py`) holding `WORDS: dict[str, str]`, its own name under
"lang_name" included; a new language is a copy of `nb.py` under its code. `t(key, lang, **values)` formats one text. A key missing in a language falls back to
bokmål, and a key missing everywhere is shown as itself, so a gap is visible, never a crash
(tests/test_i18n.py holds that every language has every key with the same placeholders).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

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
