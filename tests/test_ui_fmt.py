"""Norwegian number formatting (drivers.fmt): decimal comma, space thousands, missing is never 0."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from drivers import fmt


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(1234.5, 1, "1 234,5"), (0, 0, "0"), (999, 0, "999"), (1000, 0, "1 000"), (-1234567.891, 2, "-1 234 567,89"),
     (50013, 0, "50 013"), (-0.04, 1, "0,0"), (0.9551, 3, "0,955")],
)
def test_number(value, decimals, expected):
    assert fmt.number(value, decimals) == expected


def test_mill_kr_and_signs():
    assert fmt.mill_kr(38_200_000) == "38,2 mill. kr"
    assert fmt.mill_kr(-628_514_600) == "-628,5 mill. kr"
    assert fmt.mill_kr(37_759_180, sign=True) == "+37,8 mill. kr"
    assert fmt.kr(63650.19) == "63 650 kr"
    assert fmt.pct(2) == "2,0 %"


@pytest.mark.parametrize("missing", [None, math.nan, float("nan")])
def test_missing_is_never_zero(missing):
    assert fmt.number(missing) == "–"
    assert fmt.number(missing, status=":") == ":"
    assert fmt.mill_kr(missing) == "–"
    assert fmt.kr(missing) == "–"


def test_status_meanings_are_ssbs():
    assert fmt.status_text(".") == "ikke mulig å oppgi tall"
    assert fmt.status_text("..") == "tall mangler"
    assert fmt.status_text(":") == "vises ikke av konfidensialitetshensyn"
    assert fmt.status_text("-").startswith("null")
    assert fmt.missing_label(":") == ": (vises ikke av konfidensialitetshensyn)"
    assert "confidential" in fmt.status_text(":", "en")


@given(hs.floats(min_value=-1e12, max_value=1e12, allow_nan=False), hs.integers(min_value=0, max_value=3))
def test_number_reads_back(value, decimals):
    text = fmt.number(value, decimals)
    back = float(text.replace(" ", "").replace(",", "."))
    assert back == pytest.approx(round(value, decimals), abs=10 ** -decimals)
    assert "." not in text
