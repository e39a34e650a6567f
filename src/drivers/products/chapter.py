"""The plan chapter: the seminar storyline as a Word chapter (DOCX) ready to paste into the økonomiplan.

    make(state) -> Product «kapittel-<kommune>-<år>.docx»

The storyline is `drivers.report.story` (the same messages, numbers and charts as the deck); the renderer is
`drivers.export.chapter`. What the storyline leaves out is named once in the chapter and in `Product.left_out`;
a peer group switched by `story.prepare` (Oslo alone in KOSTRA-gruppe 13) is said in the chapter and in
`Product.notes`. `template`: a .docx/.dotx whose styles the chapter takes (a bad path is one UserError).
"""

from __future__ import annotations

import re
from pathlib import Path

from drivers import i18n
from drivers.products import LeftOut, Product

MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STATBANK = "https://www.ssb.no/statbank/table/{table}"
_TABLE_ID = re.compile(r"(?<![\d.])\b(\d{5})\b(?!\.\d)")  # «tabell 12362,» but not a date or a number


def filename(state) -> str:
    return f"kapittel-{state.kommune}-{state.aar}.docx"


def table_ids(captions) -> list[str]:
    """SSB table numbers a chart's source line names (the part before the first « · »), in order, once."""
    seen: list[str] = []
    for caption in captions:
        for table in _TABLE_ID.findall(str(caption or "").split(" · ")[0]):
            if table not in seen:
                seen.append(table)
    return seen


def sources(state, captions) -> list[str]:
    """One entry per SSB table the figures stand on: number, title from the data's table list, the statbank
    address, and where a third-party copy supplied the numbers, that copy's address."""
    from drivers.report import queries

    lang = state.lang
    frame = queries.tables()
    info = {str(r["table_id"]): r for r in frame.to_dict("records")} if frame is not None and len(frame) else {}
    out = []
    for table in table_ids(captions):
        row = info.get(table) or {}
        title = str(row.get("title") or "").strip()
        title = title.removeprefix(f"{table}:").strip()
        url = STATBANK.format(table=table)
        text = (i18n.t("ch.source_entry", lang, table=table, title=title, url=url) if title
                else i18n.t("ch.source_entry_untitled", lang, table=table, url=url))
        copy = str(row.get("source_url") or "")
        if copy.startswith("http") and "ssb.no" not in copy:
            text += " " + i18n.t("ch.source_copy", lang, url=copy)
        out.append(text)
    return out


def _reason(text: str, name: str) -> str:
    """A reason read after «fordi»/«because»: no closing full stop, a capital first letter lowered unless the
    sentence opens with a name (the municipality, SSB, KOSTRA)."""
    text = str(text or "").strip().rstrip(".")
    first = text.split(" ", 1)[0]
    if text[:1].isupper() and text[1:2].islower() and not name.startswith(first):
        text = text[0].lower() + text[1:]
    return text


def left_out_sentence(item: LeftOut, lang: str, name: str) -> str:
    """«Ikke med: … fordi …; kjør …» (the command left off when no fetch supplies the numbers)."""
    reason = _reason(item.reason, name)
    if item.command:
        return i18n.t("ch.left_out", lang, title=item.title, reason=reason, command=item.command)
    return i18n.t("ch.left_out_nocmd", lang, title=item.title, reason=reason)


def make(state, *, theme=None, template=None, progress=None, engine=None) -> Product:
    """The chapter for a view (`drivers.report.state.State`): DOCX bytes and what was left out.
    `theme`: a `drivers.export.theme.Theme` (None: the municipality's theme file). `template`: a .docx/.dotx path.
    `progress(done, total)`: called as figures are rendered. `engine`: an `image.Renderer` (None: the shared one)."""
    from drivers.export import chapter as render
    from drivers.export import theme as themes
    from drivers.report import data, queries, story

    if template is not None:
        template = Path(template)
        render.open_template(template, state.lang)  # a bad path is one clear message before any work
    state, switched = story.prepare(state)
    lang = state.lang
    name = data.meta().name(state.kommune)
    slides = story.build(state)
    left = story.left_out(state, charts=False)
    look = theme if theme is not None else themes.load()

    items = [render.Item(section=s.section, title=s.title, text=s.notes, chart=s.chart, alt=s.alt,
                         lines=tuple(s.lines)) for s in slides]
    captions = [s.chart.caption for s in slides if s.chart is not None]
    intro = [i18n.t("ch.intro", lang, name=name, peers=queries.peers_label(state), year=state.aar),
             story.heading(state)]
    notes = [switched] if switched else []
    intro += notes
    payload = render.build_chapter(
        items,
        title=i18n.t("ch.title", lang, name=name, year=state.aar),
        intro=intro,
        left_out=[left_out_sentence(item, lang, name) for item in left],
        sources=sources(state, captions),
        lang=lang,
        highlight=name,
        theme=look,
        template=template,
        engine=engine,
        progress=progress,
    )
    figures_drawn = sum(1 for s in slides if s.chart is not None)
    return Product(payload, filename(state), MIME, left_out=list(left), notes=notes, count=figures_drawn)
