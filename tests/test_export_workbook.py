"""The pack's workbook on the shipped snapshot (real data): group, Landet and Landet uten Oslo rows are SSB's figures
from the database where SSB publishes them (said so where we compute one), kommunenummer and year on every row,
values rounded as shown beside full precision, a missing value an empty cell with SSB's symbol beside it, numeric
cells in nb-NO formats with frozen panes; and the honest provenance of the snapshot's third-party copies."""

from __future__ import annotations

import io
from dataclasses import replace

import openpyxl
import pytest

from drivers import i18n, snapshot, store
from drivers.config import Settings
from drivers.export import tables
from drivers.report import state as st
from drivers.report import story, workbook

# left out of `make test-fast` (the edit-test loop): each case builds real storylines and workbooks (2-60 s)
pytestmark = pytest.mark.slow

SNAPSHOT = Settings.from_env().snapshot_path
VIEWS = [("0301", "kostragruppe"), ("3201", "kostragruppe"), ("1151", "kostragruppe"), ("3201", "landet")]


@pytest.fixture(scope="module")
def db():
    if not SNAPSHOT.exists():
        pytest.skip(f"snapshot missing: {SNAPSHOT}")
    from drivers.report import data

    data.configure(replace(Settings.from_env(), db_path=SNAPSHOT))
    con = store.connect(SNAPSHOT, read_only=True)
    yield con
    con.close()


def _ssb(con, measure: str, dims: str, year: int) -> dict[str, float]:
    """SSB's aggregate rows (EKGxx, EAK, EAKUO) of a measure in the database."""
    obs = store.read_observations(con, tables=["12362"])
    rows = obs[(obs["measure"] == measure) & (obs["dims"] == dims) & (obs["year"] == year) & obs["value"].notna()]
    rows = rows[rows["region"].str.startswith("E")]
    return dict(zip(rows["region"], rows["value"].astype(float), strict=True))


def _view(kommune: str, peers: str, year: int = 2024, lang: str = "nb") -> st.State:
    state, _note = story.prepare(st.parse({"kommune": kommune, "aar": str(year), "peers": peers, "lang": lang}))
    return state


def _columns(lang: str = "nb") -> dict[str, str]:
    return {k: i18n.t(f"wb.col.{k}", lang) for k in ("code", "name", "role", "year", "status", "source")}


@pytest.mark.parametrize("kommune, peers", VIEWS, ids=["0301", "3201", "1151", "3201-landet"])
def test_group_rows_are_ssbs_figures_from_the_database(db, kommune, peers):
    """2023: SSB publishes net expenditure per resident for every KOSTRA group and the country; the workbook's
    group rows are those figures exactly (full column) and rounded as the chart shows them; a group SSB has no
    figure for in the data (Landet uten Oslo) is computed by us and says so."""
    state = _view(kommune, peers, 2023)
    c = _columns()
    frame, decimals, text = workbook.indicator_frame(state, "ndu_total_per_innb")
    unit = i18n.t("rep.unit_kr_per_resident", "nb")
    shown, full = i18n.t("wb.col.shown", "nb", what=unit), i18n.t("wb.col.full", "nb", what=unit)
    published = _ssb(db, "ndu_per_innbygger_kr", "KOKart0000=AGD1", 2023)
    groups = frame[frame[c["role"]] == i18n.t("wb.role.group", "nb")].set_index(c["code"])
    own_group = {"0301": "EKG13", "3201": "EKG12", "1151": "EKG16"}[kommune]
    expected = {"EAK", "EAKUO"} | ({own_group} if state.peers == "kostragruppe" else set())
    assert set(groups.index) == expected and len(groups) == len(expected)
    for code, row in groups.iterrows():
        if code in published:
            assert row[full] == published[code]
            assert row[c["source"]] == i18n.t("wb.src.group_ssb", "nb", code=code)
        else:
            assert "beregnet av drivers" in row[c["source"]]
        assert row[shown] == round(row[full], decimals[shown])
    assert "EAK" in published and own_group in published  # the check above did compare SSB's figures
    # kommunenummer (text, 4 digits for municipalities) and the year on every row
    assert frame[c["year"]].eq(2023).all() and c["code"] in text
    members = frame[frame[c["role"]] != i18n.t("wb.role.group", "nb")]
    assert members[c["code"]].str.fullmatch(r"\d{4}").all() and kommune in set(members[c["code"]])


def test_2024_group_rows_say_where_the_figure_comes_from(db):
    """2024: the database holds SSB's amounts for EKG12 and EAK but no per-resident figure: the row is the amount
    divided by the group's residents, labelled so; Landet uten Oslo is our average, labelled so."""
    state = _view("3201", "kostragruppe", 2024)
    c = _columns()
    frame, _d, _t = workbook.indicator_frame(state, "ndu_fgk7_per_innb")
    groups = frame[frame[c["role"]] == i18n.t("wb.role.group", "nb")].set_index(c["code"])
    amounts = _ssb(db, "ndu_1000kr", "KOKart0000=AGD2;KOKfunksjon0000=FGK7", 2024)
    assert {"EKG12", "EAK"} <= set(amounts)
    for code in ("EKG12", "EAK"):
        assert groups.loc[code, c["source"]] == i18n.t("wb.src.group_ssb_amount", "nb", code=code)
    assert groups.loc["EAKUO", c["source"]].startswith("beregnet av drivers")


def test_missing_value_is_an_empty_cell_with_ssbs_symbol_in_the_xlsx(db):
    """Utsira's share of children 1-2 in kindergarten 2023 is '..' at SSB: an empty cell (never 0) with '..'
    beside it; the row stays. Cells are numbers with nb-NO formats, codes are text, the header and the code and
    name columns are frozen."""
    state = _view("1151", "kostragruppe", 2023)
    frame, decimals, text = workbook.indicator_frame(state, "barnehage_andel_1_2")
    sheet = workbook.Sheet("01 Barnehage 1-2 år", "x", "Andel barn 1–2 år i barnehage", "Kilde: SSB", frame,
                           decimals, text)
    raw = tables.workbook_xlsx(workbook.Book([sheet], "Om tallene", [("Tittel", "test")]))
    ws = openpyxl.load_workbook(io.BytesIO(raw))["01 Barnehage 1-2 år"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    c = _columns()
    shown = next(h for h in header if h.endswith(", avrundet som i figuren"))
    full = next(h for h in header if h.endswith(", full presisjon"))
    utsira = [dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] == "1151"]
    assert len(utsira) == 1
    assert utsira[0][shown] is None and utsira[0][full] is None and utsira[0][c["status"]] == ".."
    others = [dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] != "1151"]
    assert all(isinstance(r[full], int | float) for r in others if r[full] is not None)  # numbers, not text
    assert sum(r[full] is not None for r in others) >= 10
    assert ws.freeze_panes == "C2"
    col = header.index(shown) + 1
    assert ws.cell(row=3, column=col).number_format == "[$-414]#,##0.0"
    assert ws.cell(row=3, column=header.index(full) + 1).number_format == tables.FULL_FORMAT
    assert ws.cell(row=2, column=header.index(c["year"]) + 1).value == 2023


def test_gaps_sheet_keeps_every_service_against_peers_landet_and_landet_uten_oslo(db):
    state = _view("3201", "kostragruppe")
    frame, decimals, _t = workbook.gaps_frame(state)
    compared = frame[i18n.t("wb.col.compared", "nb")]
    assert compared.nunique() == 3
    for _label, rows in frame.groupby(compared):
        assert set(rows[i18n.t("wb.col.service_code", "nb")]) >= set(workbook.queries.SERVICES) | {"TOTAL"}
    gap_mill, gap_kr = i18n.t("wb.col.gap_mill", "nb"), i18n.t("wb.col.gap_kr", "nb")
    have = frame[frame[gap_kr].notna()]
    assert ((have[gap_kr] / 1e6).round(1) == have[gap_mill]).all() and decimals[gap_mill] == 1


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_workbook_of_a_view_has_a_sheet_per_chart_and_om_tallene(db, lang):
    state = _view("3201", "landet", lang=lang)
    charts = story.all_charts(state)
    left = story.left_out(state)
    book = workbook.build(state, charts, heading=story.heading(state), left_out=left)
    raw = tables.workbook_xlsx(book)
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    assert wb.sheetnames == [s.name for s in book.sheets] + [i18n.t("wb.about_sheet", lang)]
    assert len(book.sheets) == len(charts) and all(len(n) <= 31 for n in wb.sheetnames)
    code_col = i18n.t("wb.col.code", lang)
    for sheet in book.sheets:
        assert list(sheet.frame.columns[:2]) == [code_col, i18n.t("wb.col.name", lang)] or \
            code_col in sheet.frame.columns
        assert i18n.t("wb.col.year", lang) in sheet.frame.columns
    about = [r for r in wb[i18n.t("wb.about_sheet", lang)].iter_rows(values_only=True)]
    texts = "\n".join(str(b) for _a, b in about)
    for item in left:
        assert item.title in texts and item.reason in texts
    # the snapshot's 12362 is a third party's copy: said so, with the caveat to check against Statistikkbanken
    assert i18n.t("wb.about.third_party", lang, url=snapshot.SOURCE_LIPPEN) in texts


def test_snapshot_provenance_tells_third_party_copies_from_ssbs_responses(db):
    rows = {r["table_id"]: r for r in store.read_tables(db).to_dict("records")}
    assert not snapshot.third_party(rows["12134"])  # SSB's own recorded v2 response (data.ssb.no)
    for tid in ("12362", "12137", "12209", "13502", "lorenskog-xlsx", "ratedata-2015"):
        assert snapshot.third_party(rows[tid]), tid
    assert not snapshot.third_party({"origin": "ssb-api", "source_url": "https://data.ssb.no/api/pxwebapi/v2/x"})
    assert not snapshot.third_party({"origin": "statbank-file", "source_url": "/tmp/x.json"})


@pytest.mark.parametrize("kommune", ["0301", "1151"])
def test_pack_product_of_a_view(db, monkeypatch, kommune):
    """products.pack.make on a real view (pictures stubbed: the renderer has its own tests): «figurer-<kommune>-<år>
    .zip», one workbook with a sheet per chart, no payload twice, 0644 entries, the left-out list and the notes (Oslo
    alone in KOSTRA-gruppe 13 is compared with Landet, stated)."""
    import hashlib
    import zipfile

    from drivers.export import pack as zippack
    from drivers.products import pack

    def pictures(charts, formats, theme, engine, progress):
        return {(c.id, fmt, size.name): f"{c.id}/{fmt}/{size.name}".encode() for c in charts for fmt, size in formats}

    monkeypatch.setattr(zippack.image, "render_charts", pictures)
    state = st.parse({"kommune": kommune, "aar": "2024"})
    product = pack.make(state)
    assert product.filename == f"figurer-{kommune}-2024.zip" and product.mime == "application/zip"
    if kommune == "0301":
        assert product.notes and "Landet" in product.notes[0]
    zf = zipfile.ZipFile(io.BytesIO(product.payload))
    infos = zf.infolist()
    digests = [hashlib.sha256(zf.read(i)).hexdigest() for i in infos]
    assert len(digests) == len(set(digests))
    assert all(i.external_attr >> 16 == 0o100644 for i in infos)
    xlsx = [n for n in zf.namelist() if n.endswith(".xlsx")]
    assert xlsx == [f"tall-{kommune}-2024.xlsx"]
    wb = openpyxl.load_workbook(io.BytesIO(zf.read(xlsx[0])))
    # a sheet per chart, the indikatorsett's status table for the annual report, and «Om tallene»
    assert len(wb.sheetnames) == product.count + 2 and wb.sheetnames[-2:] == ["Mål og indikatorer", "Om tallene"]
    from drivers.report import goals

    status = goals.status_frame(state if kommune != "0301" else st.parse({"kommune": kommune, "aar": "2024",
                                                                         "peers": "landet"}))
    rows = list(wb["Mål og indikatorer"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] == status.columns[0])
    assert [list(r[:2]) for r in rows[header + 1:header + 1 + len(status)]] == status.iloc[:, :2].values.tolist()
    index = zf.read(zippack.INDEX_NAME).decode("utf-8")
    for item in product.left_out:
        assert f"{item.title}: {item.reason}" in index
        if item.command:
            assert item.command in index
    for note in product.notes:
        assert note in index
    csv = [n for n in zf.namelist() if n.endswith(".csv")]
    assert len(csv) == product.count
    assert all(zf.read(n).startswith(b"\xef\xbb\xbf") for n in csv)
