"""Norwegian number formatting for the dashboard and exports: "1 234,5", "38,2 mill. kr", "3,1 %".

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


def number(value, decimals: int = 0, status: str | None = None) -> str:
    """1234.5 -> "1 234,5" (decimal comma, space for thousands, "-" for negatives).

    A missing value gives SSB's status symbol if there is one, otherwise "–".
    """
    if is_missing(value):
        return status or MISSING
    text = f"{abs(float(value)):,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", THIN)
    if float(value) < 0 and text.strip("0, ") != "":
        text = "-" + text
    return text


def signed(value, decimals: int = 0) -> str:
    """Like `number` but always with a sign: "+1 234", "-56"."""
    if is_missing(value):
        return MISSING
    text = number(value, decimals)
    return text if text.startswith("-") or text.strip("0, ") == "" else "+" + text


def kr(value, decimals: int = 0) -> str:
    """1234 -> "1 234 kr"."""
    return MISSING if is_missing(value) else f"{number(value, decimals)} kr"


def mill_kr(value_kr, decimals: int = 1, sign: bool = False) -> str:
    """A kroner amount in millions: 38_200_000 -> "38,2 mill. kr" (sign=True gives "+38,2 mill. kr")."""
    if is_missing(value_kr):
        return MISSING
    millions = float(value_kr) / 1e6
    return f"{signed(millions, decimals) if sign else number(millions, decimals)} mill. kr"


def pct(value, decimals: int = 1) -> str:
    """3.14 -> "3,1 %" (value is already in percent)."""
    return MISSING if is_missing(value) else f"{number(value, decimals)} %"


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
