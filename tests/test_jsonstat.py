"""JSON-stat parsing on SSB's real responses (../shared/ssb/raw), with pyjstat as the reference for values."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from shared_data import FIXTURE_12134, RAW, V0_FILES, need_shared

from drivers import jsonstat
from drivers.errors import UserError


@pytest.fixture(autouse=True)
def _shared():
    need_shared()


def test_12134_fixture_values_and_metadata():
    parsed = jsonstat.parse(FIXTURE_12134.read_bytes())
    obs = parsed.observations
    assert parsed.table_id == "12134"
    assert parsed.updated == datetime(2026, 3, 16, 7, 0)
    assert parsed.dimension_ids == ["KOKkommuneregion0000", "ContentsCode", "Tid"]
    assert parsed.role == {"time": ["Tid"], "geo": ["KOKkommuneregion0000"], "metric": ["ContentsCode"]}
    assert obs["region"].astype(str).tolist() == ["0301", "4601", "5001"]
    assert obs["value"].tolist() == [81240, 66605, 62853]
    assert obs["year"].tolist() == [2024] * 3
    assert set(obs["contents_code"].astype(str)) == {"KOSAG110000"}
    assert set(obs["dims"].astype(str)) == {""}
    assert obs["status"].isna().all()
    assert any("Tall for landet uten Oslo publiseres ikke 16. mars 2026" in n for n in parsed.notes)
    assert parsed.source == "Statistisk sentralbyrå"
    cats = parsed.categories.set_index(["dimension", "code"])
    assert cats.loc[("ContentsCode", "KOSAG110000"), "unit"] == "kr"
    assert cats.loc[("ContentsCode", "KOSAG110000"), "decimals"] == 0
    assert cats.loc[("KOKkommuneregion0000", "5001"), "label"] == "Trondheim - Tråante"
    assert cats.loc[("KOKkommuneregion0000", "4601"), "position"] == 1


def test_spike_results_body_is_the_same_response():
    """The full results file holds the same response as a JSON string; it parses to the same cells."""
    spike = json.loads((RAW / "kommunebarometer_ssb-spike-results_2026-04-25T10-35-12-819Z.json").read_text("utf-8"))
    body = spike["smoke"]["body"]
    a = jsonstat.parse(body).observations
    b = jsonstat.parse(FIXTURE_12134.read_text("utf-8")).observations
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("path", V0_FILES, ids=lambda p: p.name.split("_")[2])
def test_v0_files_values_and_status_match_the_file(path):
    doc = json.loads(path.read_text("utf-8"))
    ds = doc["dataset"]
    parsed = jsonstat.parse(path.read_bytes())
    obs = parsed.observations
    assert parsed.version == "1.x"
    assert parsed.table_id == path.name.split("_")[2]
    assert len(obs) == int(np.prod(ds["dimension"]["size"])) == len(ds["value"])
    expected = np.array([np.nan if v is None else v for v in ds["value"]], dtype=float)
    np.testing.assert_array_equal(obs["value"].to_numpy(), expected)
    # status per cell exactly as in the file, and nowhere else
    got = {i: s for i, s in enumerate(obs["status"].astype(object)) if isinstance(s, str)}
    assert got == {int(k): v for k, v in ds["status"].items()}
    # a null with a status is missing, never 0
    nulls = obs["value"].isna()
    assert nulls.sum() > 0 and obs.loc[nulls, "status"].notna().all()
    assert not (obs.loc[obs["status"].notna(), "value"] == 0).any()


@pytest.mark.parametrize("path", V0_FILES, ids=lambda p: p.name.split("_")[2])
def test_v0_files_agree_with_pyjstat(path):
    import warnings

    from pyjstat import pyjstat

    text = path.read_text("utf-8")
    doc = json.loads(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # from_json_stat is pyjstat's 1.x reader
        ref = pyjstat.from_json_stat({"dataset": doc["dataset"]}, naming="id")[0]
    ours = jsonstat.parse(text).observations
    assert len(ref) == len(ours)
    np.testing.assert_allclose(ours["value"].to_numpy(), pd.to_numeric(ref["value"]).to_numpy(dtype=float),
                               equal_nan=True)
    # the coordinates agree too: contents code and time code per cell
    assert (ours["contents_code"].astype(str).to_numpy() == ref["ContentsCode"].astype(str).to_numpy()).all()
    tid = ours["dims"].astype(str).str.extract(r"(?:^|;)Tid=([^;]*)")[0]
    assert (tid.to_numpy() == ref["Tid"].astype(str).to_numpy()).all()


def test_time_codes_that_are_not_years_stay_in_dims():
    monthly = jsonstat.parse((RAW / "riksdata_v0-jsonstat1_07218_bankruptcies.json").read_bytes()).observations
    first = monthly.iloc[0]
    assert (first["year"], first["dims"]) == (1995, "Tid=1995M01")
    quarterly = jsonstat.parse((RAW / "riksdata_v0-jsonstat1_11654_basic-salary.json").read_bytes()).observations
    # region: the dimension named Region (no geo role in this file); other dims sorted by id
    assert quarterly.iloc[0]["region"] == "Ialt"
    assert quarterly.iloc[0]["dims"] == "NACE2007=00-99;Tid=2016K1"
    assert quarterly.iloc[0]["year"] == 2016


def _as_v2(ds: dict) -> dict:
    """A real v0 dataset re-shaped as JSON-stat 2.0 (id/size/role at the top); values unchanged."""
    dims = {k: v for k, v in ds["dimension"].items() if k not in ("id", "size", "role")}
    return {"version": "2.0", "class": "dataset", "label": ds["label"], "updated": ds["updated"],
            "id": ds["dimension"]["id"], "size": ds["dimension"]["size"], "role": ds["dimension"]["role"],
            "dimension": dims, "value": ds["value"], "status": ds["status"]}


def test_v2_dense_sparse_and_status_forms_agree():
    ds = json.loads((RAW / "riksdata_v0-jsonstat1_08651_construction-costs.json").read_text("utf-8"))["dataset"]
    v1 = jsonstat.parse({"dataset": ds}).observations
    dense = _as_v2(ds)
    v2 = jsonstat.parse(dense).observations
    pd.testing.assert_frame_equal(v1, v2)
    sparse = dict(dense, value={str(i): v for i, v in enumerate(ds["value"]) if v is not None})
    status_list = [ds["status"].get(str(i)) for i in range(len(ds["value"]))]
    sparse["status"] = status_list
    v3 = jsonstat.parse(sparse).observations
    np.testing.assert_array_equal(v3["value"].to_numpy(), v2["value"].to_numpy())
    assert v3["status"].astype(object).where(v3["status"].notna(), None).tolist() == \
        v2["status"].astype(object).where(v2["status"].notna(), None).tolist()
    one = jsonstat.parse(dict(dense, status="..")).observations
    assert (one["status"] == "..").all()


@pytest.mark.parametrize("doc, words", [
    (b"kommunenummer,kommunenavn\n0301,Oslo\n", "not JSON"),
    ("[1, 2, 3]", "not JSON-stat"),
    ('{"type":"Parameter error","title":"Non-existent table","status":404}', "not JSON-stat"),
    ('{"version":"2.0","class":"dataset","id":["A"],"size":[2],"dimension":{"A":{"category":{"index":["x"]}}},"value":[1,2]}',
     "size 2"),
    ('{"version":"2.0","class":"dataset","id":["A"],"size":[1],"dimension":{"A":{"category":{"index":["x"]}}},"value":[1,2]}',
     "2 values for 1 cells"),
])
def test_bad_input_is_one_clear_user_error(doc, words):
    with pytest.raises(UserError, match=words):
        jsonstat.parse(doc)


def test_real_non_jsonstat_responses_are_rejected():
    for name in ("klass-v1_classifications-131_codesAt_2026-01-01_nb.json", "pxwebapi-v2_error-responses_2026-04-25.json",
                 "janbrus_ssbapi_table_07459_v0-query.json"):
        with pytest.raises(UserError, match="not JSON-stat"):
            jsonstat.parse((RAW / name).read_bytes())


def _reference_decode(ids, codes, values):
    """Row-major decoding the slow, obvious way: itertools.product over the dimensions' codes."""
    import itertools

    return [dict(zip(ids, combo, strict=True)) | {"value": v}
            for combo, v in zip(itertools.product(*[codes[d] for d in ids]), values, strict=True)]


def test_vectorised_decoder_matches_the_obvious_one_on_real_values():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    real = json.loads((RAW / "riksdata_v0-jsonstat1_08651_construction-costs.json").read_text("utf-8"))["dataset"]["value"]
    names = ["ContentsCode", "Alder", "KOKkommuneregion0000", "Tid", "KOKfunksjon0000"]

    @settings(max_examples=40, deadline=None)
    @given(st.permutations(names).flatmap(lambda order: st.tuples(
        st.just(order), st.lists(st.integers(1, 4), min_size=5, max_size=5), st.booleans(), st.integers(0, 3000))))
    def check(args):
        order, sizes, as_list, offset = args
        ids = list(order)
        codes = {d: ([str(2015 + i) for i in range(n)] if d == "Tid" else [f"{d[:3]}{i}" for i in range(n)])
                 for d, n in zip(ids, sizes, strict=True)}
        cells = int(np.prod(sizes))
        values = real[offset:offset + cells] + [None] * max(0, cells - len(real[offset:offset + cells]))
        doc = {"version": "2.0", "class": "dataset", "id": ids, "size": sizes,
               "role": {"geo": ["KOKkommuneregion0000"], "time": ["Tid"], "metric": ["ContentsCode"]},
               "dimension": {d: {"category": {"index": codes[d] if as_list else {c: i for i, c in enumerate(codes[d])}}}
                             for d in ids},
               "value": values}
        obs = jsonstat.parse(doc).observations
        expected = _reference_decode(ids, codes, values)
        rest = sorted(["Alder", "KOKfunksjon0000"])
        assert obs["region"].astype(str).tolist() == [e["KOKkommuneregion0000"] for e in expected]
        assert obs["contents_code"].astype(str).tolist() == [e["ContentsCode"] for e in expected]
        assert obs["year"].tolist() == [int(e["Tid"]) for e in expected]
        assert obs["dims"].astype(str).tolist() == [";".join(f"{d}={e[d]}" for d in rest) for e in expected]
        np.testing.assert_array_equal(obs["value"].to_numpy(),
                                      np.array([np.nan if e["value"] is None else e["value"] for e in expected]))

    check()
