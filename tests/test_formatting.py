"""How gains, intervals and detectable effects are written: never a signed zero, never a
detectable effect of 0.000."""

from __future__ import annotations

import math

import pytest

from tuneworth.formatting import (
    detectable_cell,
    interval,
    is_point,
    magnitude,
    reach,
    signed,
    signed_small,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0174, "+0.017"),
        (-0.0174, "-0.017"),
        (0.0, "0.000"),
        (-0.0, "0.000"),
        (-0.0004, "0.000"),
        (0.00049, "0.000"),
        (-0.0006, "-0.001"),
        (1e-17, "0.000"),
    ],
)
def test_a_gain_that_rounds_to_zero_prints_without_a_sign(value: float, text: str) -> None:
    assert signed(value) == text


def test_a_missing_gain_says_so_instead_of_printing_nan() -> None:
    assert signed(math.nan) == ""
    assert signed(math.nan, missing="n/a") == "n/a"
    assert signed_small(math.nan, missing="n/a") == "n/a"


def test_a_small_gain_per_thousand_rows_keeps_two_significant_digits_and_its_sign() -> None:
    assert signed_small(0.00042) == "+0.00042"
    assert signed_small(-0.000042) == "-4.2e-05"
    assert signed_small(0.0125) == "+0.013"
    assert signed_small(-0.0) == "0.000"


def test_an_interval_of_one_value_is_not_shown_and_its_zero_ends_lose_their_sign() -> None:
    assert interval(0.0, 0.0) == ""
    assert interval(0.01, 0.01) == ""
    assert is_point(0.01, 0.01) and not is_point(math.nan, math.nan)
    assert interval(math.nan, math.nan) == ""
    assert interval(-0.0004, 0.0003) == "[0.000, 0.000]"
    assert interval(-0.0012, 0.0003) == "[-0.001, 0.000]"


def test_a_detectable_effect_of_zero_is_said_in_words_and_a_tiny_one_keeps_its_digits() -> None:
    assert reach(0.0, 0.0) == "no difference on any fold"
    assert reach(0.0, 0.01) == "the same gain on every fold"
    assert reach(0.00012, -0.00005) == "could detect ≥ 0.00012"
    assert reach(0.0451, 0.01) == "could detect ≥ 0.045"
    assert reach(math.nan, 0.0) == ""
    assert magnitude(0.00012) == "0.00012" and magnitude(0.0284) == "0.028"
    assert [detectable_cell(v) for v in (0.0, 0.0284, 0.00012, math.nan)] == [
        "n/a",
        "0.028",
        "0.00012",
        "",
    ]
