"""The chart pack: a view made into a ZIP (drivers.report.story + drivers.report.workbook + drivers.export.pack).

`make` is what the CLI (`drivers export-pack`) and the dashboard's download job call: the view is first prepared
(a peer group with only the municipality itself switches, stated, to Landet), every chart built without
placeholders (story.all_charts), each chart kept once, its numbers put in one workbook (a sheet per chart with the
peer group, Landet and Landet uten Oslo, and «Om tallene»), and what was left out named once in the index.
"""

from __future__ import annotations

from drivers import i18n
from drivers.export import pack as zippack
from drivers.export import theme as themes
from drivers.products import Product
from drivers.report import goals, story, workbook
from drivers.report import state as st

MIME = "application/zip"


def filename(state: st.State) -> str:
    """«figurer-<kommune>-<år>.zip», e.g. figurer-3201-2024.zip."""
    return f"figurer-{state.kommune}-{state.aar}.zip"


def workbook_name(state: st.State) -> str:
    """«tall-<kommune>-<år>.xlsx», the workbook inside the pack."""
    return f"tall-{state.kommune}-{state.aar}.xlsx"


def make(state: st.State, *, theme=None, progress=None, engine=None) -> Product:
    """The pack for `state`. `theme`: an export Theme (None: the installation's theme file); `progress(done,
    total)`: after each picture; `engine`: an image.Renderer (None: the shared one). Raises UserError when the
    view has no chart at all."""
    state, note = story.prepare(state)
    notes = [note] if note else []
    charts, _repeats = zippack.unique_charts(story.all_charts(state))
    left = story.left_out(state)
    heading = story.heading(state)
    book = workbook.build(state, charts, heading=heading, left_out=left, notes=notes)
    status = goals_sheet(state)
    if status is not None:
        book.sheets.append(status)
    payload = zippack.build_pack(charts, heading=heading, theme=theme if theme is not None else themes.load(),
                                 engine=engine, progress=progress, book=book, left_out=left, notes=notes,
                                 lang=state.lang, workbook_name=workbook_name(state))
    return Product(payload, filename(state), MIME, left_out=left, notes=notes, count=len(charts))


def goals_sheet(state: st.State) -> workbook.Sheet | None:
    """The status table of the indikatorsett (Mål og indikatorer) as a sheet of the pack's workbook, for the annual
    report: goal, indicator, value as shown, year, target, status and the rule that decided it. None when the set
    has no goals (a file that could not be read: the page and `drivers show --what goals` say why)."""
    frame = goals.status_frame(state)
    if frame.empty:
        return None
    lang = state.lang
    caption = i18n.t("goal.intro", lang, year=state.aar)
    notes = [i18n.t("goal.example", lang)] if frame.attrs.get("example") else []
    notes += [str(p) for p in frame.attrs.get("problems", [])]
    title = i18n.t("nav_maal", lang)
    return workbook.Sheet(title[:31], "maal-og-indikatorer", title, caption, frame.reset_index(drop=True),
                          text_columns=tuple(str(c) for c in frame.columns if frame[c].dtype == object),
                          notes=notes)
