"""URL state (drivers.report.state) against the real database: defaults, validation with suggestions, round trips."""

import pytest

from drivers.config import Settings
from drivers.report import data
from drivers.report import state as st


@pytest.fixture(scope="module", autouse=True)
def real_data():
    settings = Settings.from_env()
    if not settings.database_for_reading().exists():
        pytest.skip(f"no database at {settings.database_for_reading()}: run `drivers snapshot build`")
    data.configure(settings)
    yield
    data.configure(settings)


def test_defaults_are_documented_values():
    s = st.parse({})
    meta = data.meta()
    assert s.kommune == st.DEFAULT_KOMMUNE == "3222"
    assert s.aar == meta.default_year and s.aar in meta.years
    assert (s.peers, s.konv, s.lang) == ("kostragruppe", "weighted", "nb")


def test_default_year_has_the_municipal_total():
    panel = data.get_panel()
    obs = panel.observations
    year = data.meta().default_year
    total = obs[(obs["measure"] == "ndu_1000kr") & (obs["dims"] == data.TOTAL_DIMS) & (obs["year"] == year)]
    assert total["value"].notna().sum() >= 300  # the snapshot's 2024 total covers all 357


def test_url_round_trip_reproduces_state():
    s = st.parse({"kommune": "1151", "aar": str(data.meta().years[0]), "peers": "fylke", "konv": "unweighted", "lang": "en",
                  "tjeneste": "FGK7"}, allowed_extra=("tjeneste",))
    link = st.url("/tjenester", s)
    back = st.parse(st.query_from_search(link.split("?", 1)[1]), allowed_extra=("tjeneste",))
    assert back == s
    assert "kommune=1151" in link and "tjeneste=FGK7" in link


def test_unknown_municipality_gives_suggestions():
    with pytest.raises(st.StateError) as err:
        st.parse({"kommune": "3299"})
    assert "3299" in err.value.message
    assert err.value.suggestions and all(href.startswith("/?kommune=") for _, href in err.value.suggestions)
    # a misspelt name suggests the real one
    with pytest.raises(st.StateError) as err:
        st.parse({"kommune": "Lørenskg"})
    assert any("3222" in label for label, _ in err.value.suggestions)


def test_sami_name_suggestion():
    labels = [label for label, _ in st.suggest_kommune("Guovdageaidnu")]
    assert any(label.startswith("5612") for label in labels)


@pytest.mark.parametrize("year", ["1990", "2100"])
def test_year_outside_data(year):
    with pytest.raises(st.StateError) as err:
        st.parse({"kommune": "0301", "aar": year})
    assert year in err.value.message and "drivers fetch" in err.value.message
    assert {label for label, _ in err.value.suggestions} == {str(y) for y in data.meta().years}


@pytest.mark.parametrize(("query", "word"), [({"aar": "tjuetjuefire"}, "årstall"), ({"peers": "<script>alert(1)</script>"}, "sammenligningsgruppe"),
                                              ({"konv": "median"}, "snittberegning"), ({"kommune": "abc"}, "kommunenummer")])
def test_malformed_parameters(query, word):
    with pytest.raises(st.StateError) as err:
        st.parse(query)
    assert word in err.value.message
    assert "<script>" not in err.value.message


def test_english_messages():
    with pytest.raises(st.StateError) as err:
        st.parse({"kommune": "0301", "aar": "1990", "lang": "en"})
    assert "no figures for 1990" in err.value.message


def test_list_values_and_unknown_params_are_tolerated():
    s = st.parse({"kommune": ["0301", "1151"], "utm_source": "mail"})
    assert s.kommune == "0301" and s.extra == {}


def test_a_saved_peer_set_is_a_valid_url_choice(tmp_path, monkeypatch):
    """A set saved on Sammenlign can be named in a link (peers=<name>); an unknown name still gets the error page."""
    from drivers import peersets

    monkeypatch.setenv("DRIVERS_PEER_SETS", str(tmp_path / "sets.json"))
    assert "Vestlandsbyer" not in st.saved_peer_sets()
    with pytest.raises(st.StateError):
        st.parse({"kommune": "4601", "peers": "Vestlandsbyer"})
    peersets.save("Vestlandsbyer", ["1103", "5001", "1508"], panel=data.get_panel())
    assert st.saved_peer_sets() == ["Vestlandsbyer"]
    assert st.parse({"kommune": "4601", "peers": "Vestlandsbyer"}).peers == "Vestlandsbyer"
