"""Margins reserved before the browser draws a chart (drivers.chartmargins), on the real database's charts.

The browser test (tests/browser/test_pages.py, pages001) checks the outcome in Chromium: plotly draws every
chart of every page with exactly these margins. Here: the estimates themselves, without a browser."""

from drivers import chartmargins as cm
from drivers.report import queries as views
from drivers.report import state as st


def _graphs(node):
    if type(node).__name__ == "Graph":
        yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children] if children is not None else []:
        yield from _graphs(child)


def test_number_labels_are_written_as_plotly_writes_them():
    # tickformat ",~f" with separators ", ": space for thousands, decimal comma, trailing zeros dropped, true minus
    assert cm.number_label(12500, 0) == "12 500"
    assert cm.number_label(-2.5, 1) == "−2,5"
    assert cm.number_label(3.0, 1) == "3"
    assert cm.number_label(0.0, 2) == "0"
    assert cm.number_label(1234.5, 1, trim=False) == "1 234,5"


def test_tick_labels_cover_the_widest_tick():
    labels = cm.tick_labels(0, 123_456, 340, 40)
    assert "120 000" in labels and "0" in labels  # six digits: the label that sets the width
    decimals = cm.tick_labels(0.2, 4.0, 300, 40)
    assert "3,5" in decimals  # a label with a decimal between integer ends


def test_text_width_grows_with_text_and_size_and_takes_the_widest_line():
    assert cm.text_width("Kautokeino", 16) > cm.text_width("Utsira", 16)
    assert cm.text_width("Utsira", 20) > cm.text_width("Utsira", 16)
    assert cm.text_width("Utgiftsbehov<br>(kostnadsindeks)", 16) == cm.text_width("(kostnadsindeks)", 16)


def test_rank_chart_reserves_room_for_the_longest_municipality_name(pages):
    tree = pages["tjenester"].layout(kommune="0301", tjeneste="FGK7", peers="landet")
    graph = next(g for g in _graphs(tree) if "rank" in g.id)
    names = list(graph.figure.data[0].y)
    longest = max(names, key=lambda n: cm.text_width(n, 14))
    assert graph.figure.layout.margin.l >= cm.text_width(longest, 14)
    assert graph.figure.layout.margin.b > 40  # the x axis title under the tick labels


def test_waterfall_reserves_room_for_rotated_service_names(pages):
    tree = pages["oversikt"].gap_section(st.parse({"kommune": "3222"}))
    graph = next(g for node in tree for g in _graphs(node))
    names = list(graph.figure.data[0].x)
    widest = max(cm.text_width(n, 16) for n in names)
    # a label at −30° reaches half its width down, plus the tick and a line of text
    assert graph.figure.layout.margin.b >= widest * 0.5 + 16
    # the last step before the total is what the listed services do not cover, so the end bar is the total gap
    assert views.service_name("FGK9") in names and names[-2:] == [views.service_name("OTHER"), "Samlet avvik"]


def test_margins_never_shrink_below_the_template_and_non_cartesian_figures_are_left_alone():
    import plotly.graph_objects as go

    fig = go.Figure(go.Pie(values=[1, 2]))
    assert cm.reserve(fig).layout.margin.l is None
    template = go.Figure().layout.template.layout.margin
    fig = go.Figure(go.Scatter(x=[2024, 2025], y=[1.0, 2.0]))
    cm.reserve(fig)
    assert fig.layout.margin.l >= template.l and fig.layout.margin.t >= template.t
