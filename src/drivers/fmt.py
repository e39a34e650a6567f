"""Number formatting for the dashboard and exports: "1 234,5", "38,2 mill. kr", "3,1 %" in bokmål, and each
language's own marks and units ("1,234.5", "NOK 38.2 million", "3.1%") by its words in drivers.i18n
("fmtx.separators", "fmtx.kr", "fmt.mill", "fmt.pct"); `lang` defaults to bokmål.

Missing values are never shown as 0: they format as SSB's status symbol (or "–" without one), and
`status_text` says what the symbol means.
"""

from __future__ import annotations

import math

from drivers import i18n

THIN = " "  # thousands separator: a plain space, as in the contract ("1 234,5")
MISSING = "–"

# SSB's symbols for missing or suppressed cells (https://www.ssb.no/en/help/explanation-of-symbols): symbol -> the
# key of what it means, worded in every language file of drivers.i18n.
STATUS_KEYS = {
    ".": "fmtx.status_dot",
    "..": "fmtx.status_dotdot",
    ":": "fmtx.status_colon",
    "-": "fmtx.status_dash",
    "...": "fmtx.status_ellipsis",
}


def is_missing(value) -> bool:
    """True for None, NaN and pandas NA."""
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except (TypeError, ValueError):
        return value != value  # pd.NA and friends


def marks(lang: str = "nb") -> tuple[str, str]:
    """(decimal mark, thousands mark) of a language: ("," , " ") in bokmål, (".", ",") in English (the words'
    "fmtx.separators", written as plotly's layout.separators: decimal mark first)."""
    sep = i18n.t("fmtx.separators", lang)
    return sep[0], sep[1:2] or THIN


def number(value, decimals: int = 0, status: str | None = None, lang: str = "nb") -> str:
    """1234.5 -> "1 234,5" (decimal comma, space for thousands, "-" for negatives); "1,234.5" in English.

    A missing value gives SSB's status symbol if there is one, otherwise "–".
    """
    if is_missing(value):
        return status or MISSING
    decimal, thousands = marks(lang)
    text = f"{abs(float(value)):,.{decimals}f}".translate({ord(","): thousands, ord("."): decimal})
    if float(value) < 0 and any(ch in "123456789" for ch in text):
        text = "-" + text
    return text


def signed(value, decimals: int = 0, lang: str = "nb") -> str:
    """Like `number` but always with a sign: "+1 234", "-56"."""
    if is_missing(value):
        return MISSING
    text = number(value, decimals, lang=lang)
    return text if text.startswith("-") or not any(ch in "123456789" for ch in text) else "+" + text


def _unit(text: str, key: str, lang: str) -> str:
    """A number with its unit the language's way ("38,2 mill. kr", "NOK 38.2 million"); a sign stays in front."""
    sign = text[0] if text[:1] in ("+", "-") else ""
    return sign + i18n.t(key, lang, n=text[len(sign):])


def kr(value, decimals: int = 0, lang: str = "nb") -> str:
    """1234 -> "1 234 kr" ("NOK 1,234" in English)."""
    return MISSING if is_missing(value) else _unit(number(value, decimals, lang=lang), "fmtx.kr", lang)


def mill_kr(value_kr, decimals: int = 1, sign: bool = False, lang: str = "nb") -> str:
    """A kroner amount in millions: 38_200_000 -> "38,2 mill. kr" (sign=True gives "+38,2 mill. kr"; English
    "NOK 38.2 million", "+NOK 38.2 million")."""
    if is_missing(value_kr):
        return MISSING
    millions = float(value_kr) / 1e6
    text = signed(millions, decimals, lang) if sign else number(millions, decimals, lang=lang)
    return _unit(text, "fmt.mill", lang)


def pct(value, decimals: int = 1, lang: str = "nb") -> str:
    """3.14 -> "3,1 %" (value is already in percent; "3.1%" in English)."""
    return MISSING if is_missing(value) else _unit(number(value, decimals, lang=lang), "fmt.pct", lang)


def status_text(status: str | None, lang: str = "nb") -> str:
    """What an SSB status symbol means, e.g. ":" -> "vises ikke av konfidensialitetshensyn"."""
    if not status:
        return i18n.t("fmtx.no_value", lang)
    key = STATUS_KEYS.get(status)
    return i18n.t(key, lang) if key else status


def missing_label(status: str | None, lang: str = "nb") -> str:
    """The symbol and its meaning, for a table cell or tooltip: '":" (vises ikke av konfidensialitetshensyn)'."""
    if not status:
        return f"{MISSING} ({status_text(None, lang)})"
    return f"{status} ({status_text(status, lang)})"
