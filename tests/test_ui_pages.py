"""Shell pages and callbacks without a browser, on the real database: layouts for a city, a mid-size and a very
small municipality, captions under every chart, missing-data notices naming the fetch command, friendly error
pages, and the control→URL callback."""

import pytest
from dash import html

from drivers.report import data
from drivers.report import queries as views
from drivers.report import state as st
from drivers.ui import components, ids, serving

MUNICIPALITIES = ["0301", "3222", "1151"]


def walk(node):
    """Every component in a tree."""
    yield node
    children = getattr(node, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def expand(tree):
    """Fill the deferred placeholders the way the browser's callback does."""
    for node in walk(tree):
        if isinstance(getattr(node, "id", None), dict) and node.id.get("type") == "deferred":
            node.children = serving.render_deferred(node.id)
    return tree


def find(tree, cls=None, id_=None):
    out = []
    for node in walk(tree):
        classes = (getattr(node, "className", None) or "").split()
        if (cls is None or cls in classes) and (id_ is None or getattr(node, "id", None) == id_):
            out.append(node)
    return out


def text(tree) -> str:
    parts = []
    for node in walk(tree):
        c = getattr(node, "children", None)
        if isinstance(c, str | int | float):
            parts.append(str(c))
    return " ".join(parts)


def expand_layout(page, **query):
    return expand(page.layout(**query))


def check_chart_cards(tree):
    cards = find(tree, "chart-card")
    for card in cards:
        graphs = [n for n in walk(card) if type(n).__name__ == "Graph"]
        if graphs:
            captions = find(card, "caption")
            assert captions, "a chart without caption line"
            assert "Statistisk sentralbyrå" in captions[0].children or "Statistics Norway" in captions[0].children
            assert any(ch.isdigit() for ch in captions[0].children), "caption names no year"
    return cards


@pytest.mark.parametrize("kommune", MUNICIPALITIES)
def test_oversikt_layout(pages, kommune):
    tree = expand_layout(pages["oversikt"], kommune=kommune)
    assert tree.id == ids.PAGE_ROOT
    assert find(tree, id_=ids.PROFILE) and find(tree, id_=ids.SUMMARY)
    body = text(tree)
    assert data.meta().name(kommune) in body
    assert "Grønt hefte 2026, ikke SSB" in body
    check_chart_cards(tree)
    # the profile shows the real population 1.1.(year+1) in Norwegian format
    pop = data.get_panel().residents_kostra(data.meta().default_year)[data.get_panel().pos[kommune]]
    assert f"{int(pop):,}".replace(",", " ") in body


def test_oslo_is_alone_in_its_kostra_group(pages):
    tree = expand_layout(pages["oversikt"], kommune="0301")
    notice = find(tree, "no-peers")
    assert notice, "Oslo has no KOSTRA-group peers; the page must say so and offer other sets"
    hrefs = [n.href for n in walk(notice[0]) if hasattr(n, "href")]
    assert any("peers=landet-uten-oslo" in h for h in hrefs)


def test_oversikt_gap_matches_engine(pages):
    state = st.parse({"kommune": "3222"})
    g = views.gaps(state)
    total = g[g["service"] == "TOTAL"].iloc[0]
    tree = expand_layout(pages["oversikt"], kommune="3222")
    from drivers import fmt

    assert fmt.mill_kr(total["gap_nok"], sign=True) in text(tree)
    waterfall = [n for n in walk(tree) if type(n).__name__ == "Graph" and n.id == ids.chart("gap-waterfall")]
    assert waterfall
    fig = waterfall[0].figure
    bars = fig.data[0]
    services = g[(g["service"] != "TOTAL") & g["gap_nok"].notna()]
    assert bars.y[-1] == pytest.approx(services["gap_nok"].sum() / 1e6)


def test_health_norm_line_and_missing_notices(pages):
    tree = expand_layout(pages["oversikt"], kommune="1151")
    body = text(tree)
    # Utsira has no 12134 key figures in the snapshot: the page says so and names the command
    if "drivers fetch --tables 12134" not in body:
        pytest.fail("missing financial figures must name `drivers fetch --tables 12134`")
    tree = expand_layout(pages["oversikt"], kommune="3222")
    graphs = [n for n in walk(tree) if type(n).__name__ == "Graph" and n.id == ids.chart("health-netto_driftsresultat_pct")]
    assert graphs, "Lørenskog's workbook rows carry netto driftsresultat"
    shapes = graphs[0].figure.layout.shapes
    # a single municipality: the 1,75 % level recommended for municipalities, not the sector-wide 2 %
    assert any(s.y0 == 1.75 for s in shapes), "the 1,75 % line for a kommune"
    assert not any(s.y0 == 2.0 for s in shapes)
    assert "1,75 % (anbefalt for kommuner)" in str(graphs[0].figure.layout.annotations)
    body = text(tree)
    assert "Kommunal Rapport" in body and "TBUs norm 2 % fra 2014" in body and "figur 3.14A" in body
    en = expand_layout(pages["oversikt"], kommune="3222", lang="en")
    graph = [n for n in walk(en) if type(n).__name__ == "Graph" and n.id == ids.chart("health-netto_driftsresultat_pct")][0]
    assert "1.75 % (recommended for municipalities)" in str(graph.figure.layout.annotations)
    assert "TBU's norm is 2 % since 2014" in text(en)


@pytest.mark.parametrize("kommune", MUNICIPALITIES)
@pytest.mark.parametrize("service", ["FGK7", "FGK9", "FGK15"])
def test_tjenester_layout(pages, kommune, service):
    tree = expand_layout(pages["tjenester"], kommune=kommune, tjeneste=service)
    assert tree.id == ids.PAGE_ROOT
    active = find(tree, "active")
    assert any(views.service_name(service) == getattr(a, "children", None) for a in active)
    check_chart_cards(tree)
    for notice in find(tree, "missing-notice"):
        if "Tallet finnes ikke" in text(notice):
            assert "drivers fetch" in text(notice)


def test_tjenester_rank_highlights_selected(pages):
    from drivers import figures

    tree = expand_layout(pages["tjenester"], kommune="3222", tjeneste="FGK7")
    graph = [n for n in walk(tree) if type(n).__name__ == "Graph" and n.id == ids.chart("rank-FGK7")][0]
    bar = graph.figure.data[0]
    colors = list(bar.marker.color)
    names = list(bar.y)
    assert colors[names.index("Lørenskog")] == figures.HIGHLIGHT
    assert colors.count(figures.HIGHLIGHT) == 1
    peers = views.service_values(st.parse({"kommune": "3222"}), "FGK7")
    assert len(names) == peers["value"].notna().sum()


@pytest.mark.parametrize(
    "query",
    [{"kommune": "9999"}, {"kommune": "0301", "aar": "1990"}, {"kommune": "abc"}, {"peers": "x"}, {"konv": "y"},
     {"aar": "20x4"}],
)
def test_bad_params_give_error_page(pages, query):
    for page in ("oversikt", "tjenester"):
        tree = pages[page].layout(**query)
        assert tree.id == ids.ERROR_PAGE
        links = [n for n in walk(tree) if hasattr(n, "href")]
        assert links, "suggestions"
        assert "Traceback" not in text(tree)


def test_unknown_service_and_404(pages):
    tree = expand_layout(pages["tjenester"], kommune="0301", tjeneste="FGK99")
    assert tree.id == ids.ERROR_PAGE and "FGK99" in text(tree)
    tree = pages["feil"].layout()
    assert tree.id == ids.ERROR_PAGE and "finnes ikke" in text(tree)


def test_english(pages):
    tree = expand_layout(pages["oversikt"], kommune="3222", lang="en")
    body = text(tree)
    assert "Profile" in body and "Residents" in body
    assert tree.lang == "en"


def test_control_bar_offers_every_municipality_with_sami_names(pages):
    options = components.kommune_options()
    assert len(options) == 357
    kautokeino = [o for o in options if o["value"] == "5612"][0]
    # the dropdown searches every substring of the label's words: both names and the number are in it
    assert "Guovdageaidnu" in kautokeino["label"] and "Kautokeino" in kautokeino["label"] and "5612" in kautokeino["label"]
    bar = components.control_bar(st.parse({"kommune": "1151"}))
    values = {str(n.id): n.value for n in walk(bar) if isinstance(getattr(n, "id", None), dict)}
    assert "1151" in values.values()


def test_deferred_parts_rebuild_state_from_their_id(pages):
    tree = pages["oversikt"].layout(kommune="3222", peers="fylke")
    parts = [n for n in walk(tree) if isinstance(getattr(n, "id", None), dict) and n.id.get("type") == "deferred"]
    assert {p.id["part"] for p in parts} == {"oversikt-summary", "oversikt-health"}
    summary = [p for p in parts if p.id["part"] == "oversikt-summary"][0]
    assert "peers=fylke" in summary.id["key"] and "kommune=3222" in summary.id["key"]
    out = serving.render_deferred(summary.id)
    assert "Akershus" in text(html.Div(out))  # the summary compares with the county
    bad = serving.render_deferred({"type": "deferred", "part": "oversikt-summary", "key": "kommune=0000"})
    assert bad.id == ids.ERROR_PAGE


def test_guarded_card_shows_notice_instead_of_failing():
    def broken(_):
        raise KeyError("boom")

    out = components.guarded(broken, None)
    assert isinstance(out, html.Div) and "kunne ikke beregnes" in text(out)


def test_pages_never_touch_duckdb_after_start(pages, monkeypatch):
    """Callbacks run on the in-memory Panel: with the store unreachable, new views still render."""
    from drivers import store

    def refuse(*args, **kwargs):
        raise AssertionError("a page opened the database")

    monkeypatch.setattr(store, "connect", refuse)
    for kommune, peers in [("4601", "fylke"), ("5001", "landet"), ("1151", "naboer")]:
        tree = expand_layout(pages["oversikt"], kommune=kommune, peers=peers, konv="unweighted")
        assert tree.id == ids.PAGE_ROOT
        tree = expand_layout(pages["tjenester"], kommune=kommune, peers=peers, tjeneste="FGK2")
        assert tree.id == ids.PAGE_ROOT


def test_serve_command_checks_db(tmp_path):
    import argparse

    from drivers.commands import serve
    from drivers.errors import UserError

    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers())
    with pytest.raises(UserError, match="fant ikke databasen"):
        serve.settings_for(tmp_path / "missing.duckdb")
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"")
    assert serve.settings_for(db).database_for_reading() == db


def test_prefetched_scripts_are_the_ones_dash_serves(pages):
    """The lazily loaded component code that assets/prefetch.js loads while idle is served at those paths."""
    import dash

    from drivers.ui import app as ui_app

    app = dash.get_app()
    client = app.server.test_client()
    layout = app.layout() if callable(app.layout) else app.layout
    prefetch = next(c for c in layout.children if getattr(c, "id", None) == "prefetch")
    urls = prefetch.to_plotly_json()["props"]["data-scripts"].split()
    assert len(urls) == len(ui_app.LAZY_SCRIPTS)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"webpackChunk" in response.data, f"{url} is not a chunk that registers itself"
