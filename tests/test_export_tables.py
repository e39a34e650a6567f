"""The numbers export right: XLSX/CSV read back equal the chart's data, missing stays empty, the ZIP index lists
every file. Real data (tests/export_data.py)."""

from __future__ import annotations

import hashlib
import io
import math
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from export_data import charts, service_chart

from drivers.errors import UserError
from drivers.export import image, pack, tables


def test_xlsx_reads_back_equal_to_the_chart_data():
    chart = service_chart("5001")
    wb = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx(chart)))
    ws = wb["Tall"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(chart.data.columns)
    back = pd.DataFrame(rows[1:], columns=rows[0])
    pd.testing.assert_frame_equal(back, chart.data, check_dtype=False)
    about = {r[0]: r[1] for r in wb["Om tallene"].iter_rows(values_only=True)}
    assert about["Tittel"] == chart.title and about["Kilde og forklaring"] == chart.caption


def test_missing_values_stay_empty_not_zero_in_xlsx_and_csv():
    chart = service_chart("3222")
    data = chart.data.copy()
    data["Status"] = None
    data.loc[1, "Netto driftsutgifter (mill. kr)"] = np.nan
    data.loc[1, "Status"] = ".."
    chart.data = data
    ws = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx(chart)))["Tall"]
    assert ws.cell(row=3, column=4).value is None
    assert ws.cell(row=3, column=5).value == ".."
    back = tables.read_csv(tables.to_csv(chart))
    assert math.isnan(back.loc[1, "Netto driftsutgifter (mill. kr)"])
    assert back.loc[1, "Status"] == ".."


def test_csv_is_semicolon_decimal_comma_with_bom_and_reads_back():
    chart = service_chart("1103")
    raw = tables.to_csv(chart)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header.split(";") == list(chart.data.columns)
    first = text.splitlines()[1].split(";")
    mill = chart.data["Netto driftsutgifter (mill. kr)"].iloc[0]
    assert first[3] == f"{mill}".replace(".", ",")
    back = tables.read_csv(raw)
    pd.testing.assert_frame_equal(back, chart.data, check_dtype=False)


def test_pack_zip_index_lists_every_file(warm):
    chosen = charts(3)
    raw = pack.build_pack(chosen, heading="Test: tre kommuner, 2024", engine=warm)
    zf = zipfile.ZipFile(io.BytesIO(raw))
    names = set(zf.namelist())
    index = zf.read(pack.INDEX_NAME).decode("utf-8")
    listed = set(pack.index_files(index))
    assert listed == names - {pack.INDEX_NAME}
    # per chart: two PNGs, an SVG and a CSV; the numbers of all charts in one workbook
    assert len(listed) == 4 * len(chosen) + 1 and pack.WORKBOOK_NAME in listed
    assert not [n for n in names if n.endswith(".xlsx") and n != pack.WORKBOOK_NAME]
    for chart in chosen:
        assert chart.title in index and chart.caption in index
    first = sorted(n for n in names if n.endswith(".png") and "skjerm" not in n)[0]
    assert image.png_info(zf.read(first))["width"] == 1890
    ET.fromstring(zf.read(sorted(n for n in names if n.endswith(".svg"))[0]))


def test_pack_packs_a_repeated_chart_once_with_0644_files_and_the_left_out_list(warm):
    """The storyline repeats charts under other ids: each is packed once (no two entries with the same bytes);
    every entry is a regular file with mode 0644; the index lists what was left out with reason and command."""
    from dataclasses import replace as copy

    from drivers.products import LeftOut

    first, second = charts(2)
    repeat = copy(first, id="story-4-" + first.id)
    left = [LeftOut("Frie inntekter per innbygger", "tabell 12134 mangler for 2024", "drivers fetch --tables 12134"),
            LeftOut("Hva om", "ingen tjeneste har dekningsgrad for 2024", None)]
    raw = pack.build_pack([first, second, repeat], heading="Test", engine=warm, left_out=left,
                          notes=["KOSTRA-gruppe 13 har bare Oslo; sammenlignet med Landet i stedet"])
    zf = zipfile.ZipFile(io.BytesIO(raw))
    infos = zf.infolist()
    digests = [hashlib.sha256(zf.read(i)).hexdigest() for i in infos]
    assert len(digests) == len(set(digests)), "a payload is packed twice"
    assert len([i for i in infos if i.filename.endswith(".png") and "skjerm" not in i.filename]) == 2
    for info in infos:
        assert info.external_attr >> 16 == 0o100644, (info.filename, oct(info.external_attr >> 16))
    index = zf.read(pack.INDEX_NAME).decode("utf-8")
    assert "Utelatt fordi tallene mangler:" in index
    assert "Frie inntekter per innbygger: tabell 12134 mangler for 2024 (hent med: drivers fetch --tables 12134)" in index
    assert "Hva om: ingen tjeneste har dekningsgrad for 2024" in index
    assert "KOSTRA-gruppe 13 har bare Oslo" in index
    assert set(pack.index_files(index)) == set(zf.namelist()) - {pack.INDEX_NAME}
    wb = openpyxl.load_workbook(io.BytesIO(zf.read(pack.WORKBOOK_NAME)))
    assert len(wb.sheetnames) == 3 and wb.sheetnames[-1] == "Om tallene"


def test_pack_without_charts_is_a_user_error():
    with pytest.raises(UserError):
        pack.build_pack([], heading="tom")


