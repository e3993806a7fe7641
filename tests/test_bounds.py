"""``bounded``, the one validator for numeric settings: a value comes back unchanged inside
its bounds, or is refused with a SettingError naming the field."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_anveo.errors import SettingError
from mock_anveo.sim.bounds import bounded

# Any JSON (or TOML) value, numbers of every kind included: NaN and infinities (Python's json
# reads them), huge integers, floats that are whole.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.0, -0.0, 1.0, 0.5, 1e308, 5e-324, 2**53 + 1]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
NAMES = st.sampled_from(["seconds", "balance", "tenants[0].calls[3].max_minutes"])


def acceptable(value: Any, low: float, high: float, whole: bool) -> bool:
    """The rule, written out plainly: a non-bool number, finite, whole if asked, in range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if whole and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return low <= value <= high


@given(JSON, st.integers(-(10**6), 10**6), st.integers(0, 10**7), st.booleans(), NAMES)
def test_a_value_comes_back_unchanged_or_is_refused_naming_the_field(
    value: Any, low: int, span: int, whole: bool, name: str
) -> None:
    high = low + span
    try:
        got = bounded(value, name, low, high, whole=whole)
    except SettingError as exc:
        assert not acceptable(value, low, high, whole)
        assert exc.field == name
        what = "a whole number" if whole else "a number"
        assert exc.message.startswith(f"{name} must be {what} from {low} to {high}, got ")
        assert len(exc.message) < 200  # even for a huge value
    else:
        assert acceptable(value, low, high, whole)
        assert got == value and low <= got <= high
        assert type(got) is (int if whole else float)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1e6))
def test_real_bounds_take_any_finite_float_in_range(value: float, high: float) -> None:
    if math.isfinite(value) and 0 <= value <= high:
        assert bounded(value, "x", 0, high, whole=False) == value
    else:
        with pytest.raises(SettingError, match=r"^x must be a number"):
            bounded(value, "x", 0, high, whole=False)


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        "5",
        None,
        [5],
        {"a": 5},
        float("nan"),
        float("inf"),
        -float("inf"),
        1.0,
        0.5,
        10**400,
        -(10**400),
    ],
    ids=lambda value: repr(value)[:12],
)
def test_what_a_whole_number_field_refuses(value: Any) -> None:
    with pytest.raises(SettingError) as caught:
        bounded(value, "nth", 1, 1_000_000)
    assert caught.value.field == "nth"
    assert caught.value.message.startswith("nth must be a whole number from 1 to 1000000, got ")


def test_a_huge_integer_for_a_real_field_is_refused_not_overflowed() -> None:
    # math.isfinite(10**400) raised OverflowError: a server error for {"seconds": 1000...0}.
    with pytest.raises(SettingError, match="more than 30 digits"):
        bounded(10**400, "seconds", 0, 60, whole=False, unit="seconds")
    assert bounded(10**5, "seconds", 0, 1e6, whole=False) == 1e5
