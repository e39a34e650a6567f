"""The storyline, the export-pack command and the download routes, on a snapshot built from /work/shared.

Numbers in slide notes and what-if sentences are checked against the engine's own answers (api.gaps,
api.what_if), so the exports say what the engine says."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest
from pptx import Presentation

from drivers import fmt
from drivers.cli import main
from drivers.config import Settings
from drivers.export import image, pack
from drivers.report import story


@pytest.fixture(scope="module")
def state(snapshot_db):
    from drivers.report import data
    from drivers.report import state as st

    # another database file is another data version: every serving cache forgets by itself
    data.configure(replace(Settings.from_env(), db_path=snapshot_db))
    return st.parse({"kommune": "3222", "aar": "2024"})


@pytest.fixture(scope="module")
def chromium():
    if image.chromium_path() is None:
        pytest.skip("no Chromium found (set DRIVERS_CHROMIUM); image exports cannot be made")


def test_storyline_order_sections_and_notes_follow_the_engine(state):
    from drivers.report import data

    slides = story.build(state)
    sections = [s.section for s in slides]
    # in storyline order, the closing «hva betyr dette» last
    assert sections == sorted(sections, key=story.SECTIONS_NB.index)
    assert sections[:3] == story.SECTIONS_NB[:3] and sections[-1] == story.SECTIONS_NB[5]
    left = story.left_out(state)
    # 2024 has no coverage or unit cost for any service of Lørenskog's group: the what-if is left out, named once
    assert story.SECTIONS_NB[4] not in sections
    assert [x.title for x in left].count(story.SECTIONS_NB[4]) == 1
    top = story.largest_services(state)
    assert len(top) == 3 and sections[3:3 + len(top)] == [story.SECTIONS_NB[3]] * 3
    assert len({s.chart.id for s in slides if s.chart is not None}) == len(slides) - 1
    g = data.api().gaps(data.get_panel(), "3222", 2024, "kostragruppe", "weighted")
    total = g[g["service"] == "TOTAL"].iloc[0]
    assert fmt.mill_kr(total["gap_nok"], sign=True) in slides[1].notes
    assert fmt.mill_kr(abs(total["gap_nok"])) in slides[1].title  # the message title carries the headline
    services = g[~g["service"].isin(["TOTAL", "OTHER"]) & g["gap_nok"].notna()]
    largest = services.loc[services["gap_nok"].abs().idxmax()]
    assert top[0] == largest["service"]
    assert fmt.mill_kr(largest["gap_nok"], sign=True) in slides[3].notes
    assert all(s.notes and s.title for s in slides)
    for s in slides[:-1]:  # every chart says where its numbers come from
        assert s.chart.caption.startswith("Kilde: Statistisk sentralbyrå (SSB)")
        assert "2024" in s.chart.caption and "KOSTRA-gruppe" in s.chart.caption
        assert s.alt.startswith(s.chart.title)


def test_2025_story_has_a_what_if_the_data_can_answer(state):
    """12209 gives coverage of residents 80+ for 2025: the what-if slide is there, on a lever with figures."""
    slides = story.build(state.with_(aar=2025))
    assert slides[-2].section == story.SECTIONS_NB[4] and slides[-2].chart.id.endswith("hva-om")
    assert "mill. kr" in slides[-2].notes and "kan ikke gjøres" not in slides[-2].notes
    assert slides[-2].key in slides[-2].notes and slides[-2].notes in slides[-1].notes  # told again on «hva betyr dette»


def test_what_if_sentence_carries_the_engines_number_or_its_reason(state):
    from drivers.report import data

    for service in ("FGK7", "FGK9"):
        raw = data.api().what_if(data.get_panel(), "3222", 2024, service, "coverage", "kostragruppe", "weighted")
        res = story.what_if(state, service, "coverage")
        if raw["available"]:
            assert fmt.mill_kr(raw["nok"], sign=True) in res["sentence"]
            assert res["sentence"].startswith("Hvis vår dekningsgrad")
        else:
            assert raw["reason"] in res["sentence"]


def test_missing_numbers_are_left_out_and_named_with_the_fetch_command(state):
    assert isinstance(story.income_and_need(state), story.StorySlide)  # Lørenskog has free income (12134)
    state = state.with_(kommune="3201")
    item = story.income_and_need(state)  # free income is in the snapshot for three cities only: not Bærum
    assert isinstance(item, story.LeftOut)
    assert item.command == "drivers fetch --tables 12134" and "12134" in item.reason
    charts = story.all_charts(state)
    assert not any(c.id == "story-1-inntekt" for c in charts)
    assert not any(list(c.data.columns[:1]) == ["Mangler"] for c in charts)  # no placeholder chart in the pack
    titles = [x.title for x in story.left_out(state)]
    assert titles.count(item.title) == 1 and len(titles) == len(set(titles))


def test_one_member_peer_group_switches_to_landet_stated(state):
    oslo, note = story.prepare(state.with_(kommune="0301"))
    assert oslo.peers == "landet" and note == "KOSTRA-gruppe 13 (EKG13) har bare Oslo - Oslove; sammenlignet med Landet i stedet."
    english = story.prepare(state.with_(kommune="0301", lang="en"))[1]
    assert "compared with" in english and "instead" in english
    assert story.prepare(state) == (state, None)  # Lørenskog's group has members: nothing changes


def test_export_pack_command_writes_zip_and_deck(snapshot_db, state, chromium, tmp_path, capsys):
    out, deck_path = tmp_path / "pakke.zip", tmp_path / "seminar.pptx"
    rc = main(["export-pack", "--region", "3222", "--year", "2024", "--peers", "kostragruppe", "--db", str(snapshot_db),
               "--out", str(out), "--deck", str(deck_path)])
    assert rc == 0
    zf = zipfile.ZipFile(out)
    index = zf.read(pack.INDEX_NAME).decode()
    charts = story.all_charts(state)
    assert set(pack.index_files(index)) == set(zf.namelist()) - {pack.INDEX_NAME}
    assert len(charts) >= 20 and [n for n in zf.namelist() if n.endswith(".xlsx")]
    assert not any(list(c.data.columns[:1]) == ["Mangler"] for c in charts)
    slides = story.build(state)
    prs = Presentation(deck_path)
    assert len(prs.slides) == len(slides) + 1
    # the speaker notes: the slide's summary, then the chart's whole source line (the picture shows a short one)
    for shown, slide in zip(list(prs.slides)[1:], slides, strict=True):
        notes = shown.notes_slide.notes_text_frame.text
        assert notes.startswith(slide.notes) and (slide.chart is None or slide.chart.caption in notes)
    assert [s.shapes.title.text_frame.text for s in list(prs.slides)[1:]] == [s.title for s in slides]


def test_export_pack_bad_region_is_one_message_and_no_file(snapshot_db, state, tmp_path, capsys):
    out = tmp_path / "x.zip"
    rc = main(["export-pack", "--region", "9998", "--db", str(snapshot_db), "--out", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("drivers: ") and "Traceback" not in err and "9998" in err
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def client(state):
    import flask

    from drivers.ui import downloads

    server = flask.Flask("test-downloads")
    downloads.register(server)
    return server.test_client()


def test_download_xlsx_and_csv_equal_the_story_chart(client, state):
    chart = story.find_chart(state, "story-3-tjenester")
    resp = client.get("/last-ned/chart/story-3-tjenester.xlsx?kommune=3222&aar=2024")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(resp.data))["Tall"].iter_rows(values_only=True))
    pd.testing.assert_frame_equal(pd.DataFrame(rows[1:], columns=rows[0]), chart.data, check_dtype=False)
    csv = client.get("/last-ned/chart/story-3-tjenester.csv?kommune=3222&aar=2024")
    assert csv.data.startswith(b"\xef\xbb\xbf") and b";" in csv.data


def test_download_png_svg_pack_and_deck(client, state, chromium):
    png = client.get("/last-ned/chart/story-2-samlet.png?kommune=3222&aar=2024")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert image.png_info(png.data)["width"] == 1890
    screen = client.get("/last-ned/chart/story-2-samlet.png?kommune=3222&aar=2024&storrelse=skjerm")
    assert image.png_info(screen.data)["width"] == 1280
    svg = client.get("/last-ned/chart/story-2-samlet.svg?kommune=3222&aar=2024")
    assert svg.data.lstrip().startswith(b"<svg")
    deck = client.get("/last-ned/seminar.pptx?kommune=3222&aar=2024")
    assert deck.status_code == 200
    assert len(Presentation(io.BytesIO(deck.data)).slides) == len(story.build(state)) + 1


def test_download_bad_input_is_a_short_message(client, state):
    bad = client.get("/last-ned/chart/story-2-samlet.png?kommune=abcd")
    assert bad.status_code == 400 and b"Traceback" not in bad.data and bad.mimetype == "text/plain"
    unknown = client.get("/last-ned/chart/finnes-ikke.xlsx?kommune=3222")
    assert unknown.status_code == 404
    fmt_bad = client.get("/last-ned/chart/story-2-samlet.gif?kommune=3222")
    assert fmt_bad.status_code == 404
    expired = client.get("/last-ned/chart/story-2-samlet.xlsx?k=deadbeef")
    assert expired.status_code == 400 and "last siden" in expired.data.decode()


def test_chart_card_links_reach_the_chart_drawn(client, state):
    from drivers.ui import downloads

    chart = story.find_chart(state, "story-3-tjenester")
    links = downloads.chart_links(chart)
    hrefs = [c.href for c in links.children if hasattr(c, "href")]
    xlsx = next(h for h in hrefs if ".xlsx" in h)
    resp = client.get(xlsx)
    rows = list(openpyxl.load_workbook(io.BytesIO(resp.data))["Tall"].iter_rows(values_only=True))
    assert list(rows[0]) == list(chart.data.columns)
