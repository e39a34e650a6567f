"""The indicator registry: definitions live in indicators.json (data), this module only reads them.

Each indicator is numerator / denominator × scale. Numerators are catalog measures (`ndu_1000kr` with the
function group in dims, …); denominators are residents of an age band at 31.12 of the year (1 January of
the next), optionally times the need index, or another measure. SSB's own published rates (kind "ssb")
are taken as they are; their weighted peer average uses the SSB denominator (residents) as weight where
the registry names one, and is otherwise unavailable rather than guessed.
"""

from __future__ import annotations

import functools
import json
import pkgutil
from dataclasses import dataclass, field

from drivers.engine.reasons import Named, why
from drivers.errors import UserError

# The registry is package data shipped with the code (read through the package loader, never a path from outside).
REGISTRY = "indicators.json"


@dataclass(frozen=True)
class Indicator:
    id: str
    name_nb: str
    name_en: str
    kind: str
    category: str
    service: str | None
    numerator: dict
    denominator: dict | None
    table: str
    unit: str
    decimals: int
    target_group: tuple[int, int] | None
    polarity: str
    gap: bool
    need_correctable: bool
    ssb_definition: str
    ssb_match: str
    weight: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def numerator_parts(self) -> list[tuple[str, str | None]]:
        """(measure, dims) of the numerator: its one measure, or the parts of a sum ("measures", no dims)."""
        if "measures" in self.numerator:
            return [(m, None) for m in self.numerator["measures"]]
        return [(self.numerator["measure"], self.numerator.get("dims"))]

    @property
    def measures(self) -> list[str]:
        """Catalog measure ids this indicator reads."""
        out = [m for m, _ in self.numerator_parts]
        den = self.denominator or {}
        if "measure" in den:
            out.append(den["measure"])
        pct = den.get("times_measure_pct")
        if pct:
            out += [pct] if isinstance(pct, str) else list(pct)
        return out

    @property
    def names(self) -> Named:
        """The registry's names, bokmål first (drivers.i18n words a Named in each language)."""
        return Named.of(nb=self.name_nb, en=self.name_en)

    def name(self, lang: str = "nb") -> str:
        """The name in `lang` (bokmål for a language the registry has no name in)."""
        return self.names.get(lang)


@functools.cache
def _registry() -> dict:
    return json.loads(pkgutil.get_data(__package__, REGISTRY).decode("utf-8"))


@functools.cache
def _indicators() -> tuple[Indicator, ...]:
    known = {f for f in Indicator.__dataclass_fields__ if f != "extra"}
    out = []
    for raw in _registry()["indicators"]:
        kw = {k: v for k, v in raw.items() if k in known}
        tg = kw.get("target_group")
        kw["target_group"] = tuple(tg) if tg else None
        kw["extra"] = {k: v for k, v in raw.items() if k not in known}
        out.append(Indicator(**kw))
    return tuple(out)


def all() -> list[Indicator]:  # noqa: A001 - the contract's name (indicators.all())
    """Every indicator in the registry, in registry order."""
    return list(_indicators())


def get(indicator_id: str) -> Indicator:
    for ind in _indicators():
        if ind.id == indicator_id:
            return ind
    ids = ", ".join(i.id for i in _indicators())
    raise UserError(why("err_unknown_indicator", indicator=repr(indicator_id), known=ids))


def services() -> dict[str, dict]:
    """KOSTRA function groups the engine knows: name, target group, need sector, coverage measure."""
    return _registry()["services"]


def service(code: str) -> dict:
    svc = services()
    if code not in svc:
        raise UserError(why("err_unknown_service", service=repr(code), known=", ".join(svc)))
    return svc[code]


def measures() -> dict[str, dict]:
    """Catalog measure ids the engine reads, with unit, table and whether they are additive."""
    return _registry()["measures"]


def measure_spec(measure: str) -> dict | None:
    return _registry()["measures"].get(measure)


def fetch_hint(tables: list[str] | tuple[str, ...]) -> str:
    """The command that fetches what is missing (named in every 'reason')."""
    return f"`drivers fetch --tables {','.join(tables)}`"
