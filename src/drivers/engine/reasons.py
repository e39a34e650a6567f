"""What the engine says in words, as keys with arguments: the engine says what, drivers.i18n words it.

A Reason is a `str` whose value is the bokmål wording (so DataFrames, CSV files and bokmål callers see the text
they always saw) and which carries `key` (a key in every language file of drivers.i18n: `reason.<code>` for
why a figure is missing, `peer.*`, `conv.*`, `comp.*`, `sum.*`, … for labels and sentences) and `args` (numbers,
codes, proper names, or other Reasons). `drivers.i18n.reason_text(reason, lang)` words it in any language.

    why(code, **args)           a reason, key "reason.<code>"
    term(key, **args)           any other worded text (a label, a component's name, a summary sentence)
    joined(parts, sep)          several texts in a row ("; " between reasons, ", " in a list, or a worded
                                separator such as term("fmt.and")); empty parts are dropped, repeats once
    Money(nok), Share(x)        numbers each language writes its own way (mill. kr, per cent)
    Named.of(nb=…, en=…)        a name the data gives per language (the registry's name_nb / name_en)
    worded(text, lang)          a Reason in `lang`, for the few engine functions that take a language

The engine may not import drivers.i18n (tests/test_architecture.py), so the wording is given to it: on import
drivers.i18n calls `use_wording(...)`. Until then a Reason's text is its key and arguments, visible and never a
crash; so no Reason is made at import time. `.lower()` and `.capitalize()` keep the Reason (worded, then
changed, in every language).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# [word(key, args, case, lang) -> str] once drivers.i18n is imported
_wording: list[Callable[[str, tuple, str | None, str | None], str]] = []


def use_wording(word: Callable[[str, tuple, str | None, str | None], str]) -> None:
    """Give the engine the function that words a key with arguments in a language (drivers.i18n does, on import;
    lang None is the default language, bokmål)."""
    _wording[:] = [word]
    _MADE.clear()


@dataclass(frozen=True)
class Money:
    """An amount in kroner, written as millions in each language ('1 234,5 mill. kr', 'NOK 1,234.5 million');
    the sign is not written (the sentence says more or less)."""

    nok: float


@dataclass(frozen=True)
class Share:
    """A fraction written as whole per cent ('42 %', '42%')."""

    x: float


@dataclass(frozen=True)
class Named:
    """A name the data gives in some languages, bokmål first: (language, text) pairs. A language without its
    own is given the first."""

    names: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, **names: str) -> Named:
        return cls(tuple((lang, str(text)) for lang, text in names.items() if text))

    def get(self, lang: str | None) -> str:
        return dict(self.names).get(lang) or self.names[0][1]

    def lower(self) -> Named:  # noqa: D102
        return Named(tuple((lang, text.lower()) for lang, text in self.names))

    def capitalize(self) -> Named:  # noqa: D102
        return Named(tuple((lang, text.capitalize()) for lang, text in self.names))

    def __str__(self) -> str:
        return self.names[0][1]


class Reason(str):
    """A worded text as a key with arguments; its str value is the bokmål wording (see the module)."""

    key: str
    args: tuple
    case: str | None  # "lower" / "capitalize": applied after wording, in every language

    def __new__(cls, key: str, args: tuple = (), case: str | None = None):
        self = super().__new__(cls, _word(key, args, case, None))
        self.key, self.args, self.case = key, args, case
        return self

    def lower(self) -> Reason:  # noqa: D102 - str.lower, kept worded
        return _make(self.key, self.args, "lower")

    def capitalize(self) -> Reason:  # noqa: D102
        return _make(self.key, self.args, "capitalize")

    def __reduce__(self):
        return _make, (self.key, self.args, self.case)

    def __repr__(self) -> str:
        return f"Reason({self.key!r}, {str(self)!r})"


JOIN = "_join"  # the key of joined(): parts in args["parts"], the separator in args["sep"]


def _word(key: str, args: tuple, case: str | None, lang: str | None) -> str:
    if _wording:
        return _wording[0](key, args, case, lang)
    if key == JOIN:  # before drivers.i18n: the key and arguments, readable
        d = dict(args)
        text = str(d["sep"]).join(str(p) for p in d["parts"])
    else:
        text = key + ("(" + ", ".join(f"{k}={v}" for k, v in args) + ")" if args else "")
    return text.lower() if case == "lower" else text.capitalize() if case == "capitalize" else text


def worded(text, lang: str | None):
    """`text` in `lang` when it is a Reason (by the wording drivers.i18n gave), else `text` as it is."""
    if isinstance(text, Reason):
        return _word(text.key, text.args, text.case, lang)
    return text


_MADE: dict = {}  # one object per distinct text: the driver table asks for the same few thousands of times
_MAX_MADE = 65536


def _sig(value):
    """A cache key that tells apart texts with equal bokmål but other keys (Reasons compare as their text)."""
    if isinstance(value, Reason):
        return ("R", value.key, _sig(value.args), value.case)
    if isinstance(value, tuple):
        return tuple(_sig(v) for v in value)
    return (type(value).__name__, value)


def _make(key: str, args: tuple, case: str | None = None) -> Reason:
    sig = (key, _sig(args), case)
    made = _MADE.get(sig)
    if made is None:
        if len(_MADE) >= _MAX_MADE:
            _MADE.clear()
        made = _MADE[sig] = Reason(key, args, case)
    return made


def term(key: str, **args) -> Reason:
    """A worded text by its full key (e.g. "peer.kostragruppe", n=10); list arguments are held as tuples."""
    return _make(key, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in args.items()))


def why(code: str, **args) -> Reason:
    """A reason a figure could not be computed: key "reason.<code>"."""
    return term(f"reason.{code}", **args)


def joined(parts: Iterable, sep: str | Reason = "; ") -> Reason | None:
    """The non-empty parts in order, each once, with `sep` between them; one Reason is itself, none is None."""
    seen = list(dict.fromkeys(p for p in parts if p))
    if not seen:
        return None
    if len(seen) == 1 and isinstance(seen[0], Reason):
        return seen[0]
    return _make(JOIN, (("parts", tuple(seen)), ("sep", sep)))
