"""kernel.ops.select is np.where, bit for bit and type for type (the cohort kernel chooses by it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mas_screen.kernel.ops import ArrayOps, select

DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.float32, np.float64]


def _same(got, want) -> None:
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    assert np.array_equal(np.ascontiguousarray(got).view(np.uint8), np.ascontiguousarray(want).view(np.uint8))


def _values(dtype, n):
    """An array of `n` values of `dtype`, or a scalar (numpy or Python) that broadcasts."""
    elements = hnp.from_dtype(np.dtype(dtype), allow_nan=True, allow_infinity=True)
    array = hnp.arrays(dtype, n, elements=elements)
    scalar = elements.map(lambda v: np.asarray(v, dtype)[()])
    python = st.one_of(st.booleans(), st.integers(-100, 100), st.floats(allow_nan=True, allow_infinity=True))
    return st.one_of(array, scalar, python)


@st.composite
def cases(draw):
    n = draw(st.integers(0, 40))
    cond = draw(hnp.arrays(np.bool_, n))
    a = draw(_values(draw(st.sampled_from(DTYPES)), n))
    b = draw(_values(draw(st.sampled_from(DTYPES)), n))
    return cond, a, b


@settings(max_examples=600, deadline=None)
@given(cases())
def test_select_is_np_where(case) -> None:
    cond, a, b = case
    try:
        want = np.where(cond, a, b)
    except (OverflowError, TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            select(cond, a, b)
        return
    _same(select(cond, a, b), want)


def test_nan_payloads_and_signed_zero_kept() -> None:
    odd_nan = np.array([0x7FF8_0000_0000_0001], np.int64).view(np.float64)
    a = np.array([-0.0, odd_nan[0], 1.5, np.inf])
    b = np.array([0.0, 2.0, -np.inf, np.nan])
    cond = np.array([True, True, False, False])
    _same(select(cond, a, b), np.where(cond, a, b))


def test_anything_else_goes_to_np_where() -> None:
    """Conditions that are not 1-d booleans, other shapes and object values: np.where's own answer."""
    n = 5
    ints = np.arange(n) % 2  # a condition of ints: nonzero is true
    _same(select(ints, 1.0, 2.0), np.where(ints, 1.0, 2.0))
    grid = np.ones((2, n), bool)
    _same(select(grid, np.arange(n), 0), np.where(grid, np.arange(n), 0))
    objects = np.array(["a", "b", "c", "d", "e"], object)
    cond = np.arange(n) > 2
    assert list(select(cond, objects, "z")) == list(np.where(cond, objects, "z"))
    _same(select(True, 1, 2), np.where(True, 1, 2))
    with pytest.raises(ValueError):
        select(cond, np.arange(n + 1), 0)


def test_the_cohort_ops_choose_with_it() -> None:
    assert ArrayOps.where is select
