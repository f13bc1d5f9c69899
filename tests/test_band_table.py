"""Bands by atoms (logic.band_table / band_points) against the definition: a band is possible when
some value of the interval meets all its conditions, the points range over the possible bands, and
(least, most) of all bands when none is (an empty interval after float rounding, NaN)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_screen.criteria.loading import criteria
from mas_screen.kernel.logic import Interval, band_points, band_possible, band_table
from mas_screen.kernel.ops import SCALAR, ArrayOps

THRESHOLDS = [0.0, 1.5, 2.0, 3.0, 10.0]
values = st.one_of(st.sampled_from([*THRESHOLDS, -math.inf, math.inf, math.nan]), st.floats(-5, 15))
conditions = st.lists(st.tuples(st.sampled_from([">", ">=", "<", "<="]), st.sampled_from(THRESHOLDS)), max_size=2)
bands = st.lists(st.tuples(st.integers(0, 60).map(float), conditions.map(tuple)), min_size=1, max_size=4)
intervals = st.tuples(values, values, st.booleans(), st.booleans()).map(lambda t: Interval(*t))


def by_definition(band_list, iv: Interval) -> tuple[float, float]:
    possible = [p for p, conds in band_list if band_possible(SCALAR, iv, conds)]
    if not possible:
        return min(p for p, _ in band_list), max(p for p, _ in band_list)
    return min(possible), max(possible)


@settings(max_examples=400, deadline=None)
@given(bands.map(tuple), st.lists(intervals, min_size=1, max_size=12))
def test_band_points_equal_the_definition_for_one_patient_and_for_a_cohort(band_list, ivs):
    table = band_table(band_list)
    expected = [by_definition(band_list, iv) for iv in ivs]
    assert [band_points(SCALAR, iv, table) for iv in ivs] == expected
    ops = ArrayOps(len(ivs))
    columns = Interval(*(np.array(field) for field in zip(*ivs, strict=True)))
    least, most = band_points(ops, columns, table)
    assert list(zip(least.tolist(), most.tolist(), strict=True)) == expected


def test_the_hscore_bands_from_the_yaml_are_tabled_exactly():
    """Every HScore band item: at each published threshold, just inside and outside it, the table
    gives what the bands' own conditions give (thresholds read from criteria/hscore.yaml)."""
    spec = criteria().instruments["hscore"]
    items = [item for item in spec.items if item.kind == "bands"]
    assert items
    for item in items:
        band_list = tuple((float(b.points), tuple(b.conditions)) for b in item.bands)
        table = band_table(band_list)
        for _, t in (c for b in item.bands for c in b.conditions):
            for x in (t, math.nextafter(t, -math.inf), math.nextafter(t, math.inf)):
                for iv in (Interval(x, x), Interval(x, math.inf, True, False), Interval(-math.inf, x, False, True)):
                    assert band_points(SCALAR, iv, table) == by_definition(band_list, iv), (item.id, iv)
