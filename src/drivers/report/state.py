"""URL state: every view is a query string, so a link reproduces it and back/forward works.

Shared parameters (every page):
  kommune  4-digit municipality code. Default 3222 Lørenskog: the municipality with a full
           third-party KOSTRA workbook in ../shared, so the default view can be cross-checked.
  aar      KOSTRA year. Default: the latest year where the municipal total exists in the data.
  peers    kostragruppe | fylke | landet | landet-uten-oslo | naboer | a team set's name (the file an administrator
           edits, drivers.peersets) | an own set carried whole: egen.<name>.<code>.<code>… (State.peers is then a
           peersets.Personal: its name, with the members as data). Default kostragruppe.
  konv     weighted | unweighted | weighted-excl-self | unweighted-excl-self. Default weighted (sum over sum,
           the municipality included: SSB's published group figures); "-excl-self" leaves the municipality
           out of its own average (ASSS practice), labelled so wherever it is shown.
  lang     nb | en. Default nb.
Page parameters (kept as `extra`): tjeneste (FGK code, /tjenester), indikator (/kart), lysbilde (/presentasjon).

`parse(query)` gives a State or raises StateError (a friendly message plus suggested links, never a traceback).
`url(path, state, **changes)` builds a link with every shared parameter written out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

from drivers import i18n, peersets
from drivers.errors import UserError
from drivers.report import data

DEFAULT_KOMMUNE = "3222"
DEFAULT_PEERS = "kostragruppe"
DEFAULT_KONV = "weighted"
DEFAULT_LANG = i18n.DEFAULT
PEER_SETS = ["kostragruppe", "fylke", "landet", "landet-uten-oslo", "naboer"]
# The municipality is in its own group, as in SSB's group figures; "-excl-self" leaves it out (ASSS practice).
CONVENTIONS = ["weighted", "unweighted", "weighted-excl-self", "unweighted-excl-self"]
SHARED = ("kommune", "aar", "peers", "konv", "lang")
_NAME_RE = re.compile(r"^[\w\-]{1,40}$")


class StateError(UserError):
    """A URL that does not describe a view: message plus (label, href) suggestions."""

    def __init__(self, message: str, suggestions: list[tuple[str, str]] | None = None, lang: str = "nb"):
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []
        self.lang = lang


@dataclass(frozen=True)
class State:
    kommune: str
    aar: int
    peers: str = DEFAULT_PEERS
    konv: str = DEFAULT_KONV
    lang: str = DEFAULT_LANG
    extra: dict = field(default_factory=dict, hash=False, compare=True)

    def __hash__(self) -> int:
        return hash((self.kommune, self.aar, self.peers, self.konv, self.lang, tuple(sorted(self.extra.items()))))

    def query(self, **changes) -> dict:
        """The query parameters of this state with `changes` applied (None removes an extra parameter)."""
        peers = self.peers.param if isinstance(self.peers, peersets.Personal) else self.peers
        params = {"kommune": self.kommune, "aar": str(self.aar), "peers": peers, "konv": self.konv, "lang": self.lang}
        params.update({k: str(v) for k, v in self.extra.items()})
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = str(value)
        return params

    def with_(self, **changes) -> State:
        shared = {k: v for k, v in changes.items() if k in SHARED}
        extra = {**self.extra, **{k: v for k, v in changes.items() if k not in SHARED}}
        if "aar" in shared:
            shared["aar"] = int(shared["aar"])
        return replace(self, **shared, extra={k: v for k, v in extra.items() if v is not None})


def saved_peer_sets() -> list[str]:
    """Names of the team's shared peer sets (the file an administrator edits, drivers.peersets), sorted."""
    return [p for p in peersets.names() if p not in PEER_SETS]


def _first(value):
    return value[0] if isinstance(value, list | tuple) else value


def parse(query: dict | None, allowed_extra: tuple[str, ...] = ()) -> State:
    """Validate query parameters against the data. Unknown extra parameters are ignored (links stay tolerant)."""
    query = {k: _first(v) for k, v in (query or {}).items()}
    lang = i18n.known(query.get("lang"))
    meta = data.meta()
    home = url("/", None)

    kommune = (query.get("kommune") or DEFAULT_KOMMUNE).strip()
    if not meta.has(kommune):
        raise StateError(_unknown_kommune_msg(kommune, lang), suggest_kommune(kommune), lang)

    raw_year = query.get("aar")
    if raw_year in (None, ""):
        year = meta.default_year
    else:
        try:
            year = int(str(raw_year).strip())
        except ValueError:
            raise StateError(
                i18n.t("rep.state.not_year", lang, value=raw_year),
                _year_links(kommune, meta.years, lang),
                lang,
            ) from None
        if year not in meta.years:
            span = f"{meta.years[0]}–{meta.years[-1]}" if len(meta.years) > 1 else str(meta.years[0])
            raise StateError(
                i18n.t("rep.state.no_year", lang, year=year, span=span),
                _year_links(kommune, meta.years, lang),
                lang,
            )

    peers = query.get("peers") or DEFAULT_PEERS
    if peersets.is_param(peers):  # an own set, carried whole in the URL
        try:
            peers = peersets.from_param(peers, data.get_panel())
        except peersets.SetProblem as exc:
            raise StateError(
                i18n.t("sets.bad_url", lang, problem=exc.text(lang)),
                [(p, url("/", None, kommune=kommune, aar=year, peers=p, lang=lang)) for p in PEER_SETS],
                lang,
            ) from None
    elif peers not in PEER_SETS and peers not in saved_peer_sets():
        if not _NAME_RE.match(peers):
            peers = "?"
        raise StateError(
            i18n.t("rep.state.unknown_peers", lang, peers=peers, choices=", ".join(PEER_SETS)),
            [(p, url("/", None, kommune=kommune, aar=year, peers=p, lang=lang)) for p in PEER_SETS],
            lang,
        )
    konv = query.get("konv") or DEFAULT_KONV
    if konv not in CONVENTIONS:
        raise StateError(
            i18n.t("rep.state.unknown_konv", lang, konv=konv[:40], choices=", ".join(CONVENTIONS)),
            [(c, url("/", None, kommune=kommune, aar=year, konv=c, lang=lang)) for c in CONVENTIONS] + [("/", home)],
            lang,
        )
    extra = {k: str(query[k]) for k in allowed_extra if query.get(k) not in (None, "")}
    return State(kommune, year, peers, konv, lang, extra)


def url(path: str, state: State | None, **changes) -> str:
    """`path?query` for `state` with `changes`; with state=None only the given parameters are written."""
    params = state.query(**changes) if state is not None else {k: str(v) for k, v in changes.items() if v is not None}
    return f"{path}?{urlencode(params)}" if params else path


def query_from_search(search: str | None) -> dict:
    """'?kommune=0301&aar=2024' -> {'kommune': '0301', 'aar': '2024'} (last value wins)."""
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))


def suggest_kommune(text: str, n: int = 5) -> list[tuple[str, str]]:
    """Municipalities whose number starts with, or whose name resembles, `text`: (label, href)."""
    meta = data.meta()
    text = (text or "").strip().lower()
    frame = meta.municipalities
    codes: list[str] = []
    if text.isdigit():
        codes = [c for c in frame["code"] if c.startswith(text[:2])][:n]
    else:
        lowered = {row.name.lower(): row.code for row in frame.itertuples()}
        parts = {part.strip(): code for name, code in lowered.items() for part in name.split(" - ")}
        codes = [c for c in frame["code"] if text and text in meta.name(c).lower()][:n]
        for hit in difflib.get_close_matches(text, list(parts), n=n, cutoff=0.6):
            if parts[hit] not in codes:
                codes.append(parts[hit])
    if not codes:
        codes = [DEFAULT_KOMMUNE, "0301", "1151"]
    return [(f"{c} {meta.name(c)}", url("/", None, kommune=c)) for c in codes[:n] if meta.has(c)]


def _unknown_kommune_msg(kommune: str, lang: str) -> str:
    shown = kommune[:40]
    if not re.fullmatch(r"\d{4}", kommune):
        return i18n.t("rep.state.not_kommune", lang, value=shown)
    return i18n.t("rep.state.no_kommune", lang, value=shown)


def _year_links(kommune: str, years: list[int], lang: str) -> list[tuple[str, str]]:
    return [(str(y), url("/", None, kommune=kommune, aar=y, lang=lang)) for y in reversed(years)]

