"""Property tests (hypothesis) for serial panels (mas_screen.faces.trends).

- the order rows are entered in does not change the result (beyond the row numbers and the
  "entered out of order" notes);
- a series of one panel gives exactly assess() on that panel;
- every change figure agrees with the values it is computed from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from conftest import without_generated_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mas_screen import PatientInput, assess
from mas_screen.domain.series import SeriesInput
from mas_screen.faces.trends import assess_series
from mas_screen.kernel.exact import round_half_up
from mas_screen.kernel.inputs.times import parse_time

SETTINGS = settings(
    deadline=None,
    database=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
START = datetime(2026, 3, 1, 8, 0)

# Values in the default unit (integers and short decimals), censored bounds, the odd bad value, and
# the same quantity in another unit.
LABS = {
    "platelets": st.one_of(
        st.integers(0, 800),
        st.integers(0, 800).map(lambda v: {"value": v * 1000, "unit": "/µL"}),
        st.sampled_from(["<20", "> 500", "clumped"]),
    ),
    "ferritin": st.one_of(
        st.integers(1, 60000),
        st.integers(1, 60000).map(lambda v: {"value": str(v), "unit": "µg/L"}),
        st.sampled_from([">40000", ">100000"]),
    ),
    "ast": st.integers(5, 3000),
    "fibrinogen": st.one_of(
        st.integers(50, 800),
        st.decimals("0.5", "8.0", places=1).map(lambda d: {"value": str(d), "unit": "g/L"}),
    ),
    "esr": st.integers(0, 140),
    "triglycerides": st.decimals("0.5", "6.0", places=2).map(lambda d: {"value": str(d), "unit": "mmol/L"}),
}
CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        "underlying_disease": st.sampled_from(["sjia", "aosd", "sle", "other"]),
        "febrile": st.booleans(),
        "age_years": st.integers(1, 80),
        "biologic_therapy": st.sampled_from(["none", "il1", "il6"]),
    },
)
panel_labs = st.fixed_dictionaries({}, optional=LABS)


@st.composite
def distinct_times(draw, n: int) -> list[str]:
    minutes = draw(st.lists(st.integers(0, 60 * 24 * 30), min_size=n, max_size=n, unique=True))
    fmt = draw(st.sampled_from(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]))
    return [(START + timedelta(minutes=m)).strftime(fmt) for m in minutes]


@st.composite
def series_data(draw, distinct: bool = True) -> dict:
    n = draw(st.integers(1, 6))
    if distinct:
        times = draw(distinct_times(n))
    else:
        times = draw(
            st.lists(st.sampled_from(["2026-03-01", "2026-03-02T08:00", "2026-03-03 20:00"]), min_size=n, max_size=n)
        )
    panels = [{"time": t, "labs": draw(panel_labs)} for t in times]
    return {"context": draw(CONTEXTS), "panels": panels}


def comparable(result) -> dict:
    """The result without what depends on the order of entry: row numbers and out-of-order notes."""
    data = without_generated_at(result.model_dump(mode="json"))
    for p in data["points"]:
        p.pop("row")
    for changes in data["changes"].values():
        for c in changes:
            c.pop("row")
    for f in data["ferritin_esr"]:
        f.pop("row")
    data["warnings"] = sorted(
        (w["code"], w["time"], w["field"]) for w in data["warnings"] if w["code"] not in ("out_of_order", "mixed_units")
    )
    return data


@SETTINGS
@given(series_data(), st.randoms(use_true_random=False))
def test_row_order_does_not_change_results(data, rnd):
    shuffled = dict(data, panels=list(data["panels"]))
    rnd.shuffle(shuffled["panels"])
    a = assess_series(SeriesInput.model_validate(data))
    b = assess_series(SeriesInput.model_validate(shuffled))
    assert comparable(a) == comparable(b)


@SETTINGS
@given(series_data(distinct=False), st.randoms(use_true_random=False))
def test_row_order_with_duplicate_times_changes_only_the_order_within_a_time(data, rnd):
    shuffled = dict(data, panels=list(data["panels"]))
    rnd.shuffle(shuffled["panels"])
    a = assess_series(SeriesInput.model_validate(data))
    b = assess_series(SeriesInput.model_validate(shuffled))

    def per_time(result):
        out: dict[str, list] = {}
        for p in result.points:
            out.setdefault(p.time, []).append(sorted((k, v.status) for k, v in p.assessment.criteria.items()))
        return {t: sorted(v) for t, v in out.items()}

    assert per_time(a) == per_time(b)
    assert a.first_met == b.first_met and a.first_indeterminate == b.first_indeterminate
    # duplicates are kept: every dated row is a point
    assert len(a.points) == len(b.points) == len(data["panels"])


@SETTINGS
@given(CONTEXTS, panel_labs, st.sampled_from(["2026-03-01", "2026-03-01T08:00", "2026-03-01 08:00+02:00"]))
def test_a_series_of_one_equals_assess(context, labs, time):
    result = assess_series(SeriesInput.model_validate({"context": context, "panels": [{"time": time, "labs": labs}]}))
    (point,) = result.points
    alone = assess(PatientInput.model_validate({"context": context, "labs": labs}))
    assert without_generated_at(point.assessment.model_dump(mode="json")) == without_generated_at(
        alone.model_dump(mode="json")
    )
    assert point.time == parse_time(time).value.isoformat(timespec="minutes")
    for changes in result.changes.values():
        for c in changes:
            assert c.change_from_first is None and c.change_from_previous is None and c.direction is None


@SETTINGS
@given(
    st.lists(st.integers(0, 5000), min_size=1, max_size=8),
    st.lists(st.integers(1, 60 * 24 * 5), min_size=8, max_size=8),
)
def test_changes_agree_with_values(values, gaps):
    # Platelets as integers in the default unit: values are exact, so every figure can be recomputed.
    times, t = [], START
    for gap in gaps[: len(values)]:
        t += timedelta(minutes=gap)
        times.append(t)
    panels = [{"time": tt.isoformat(), "labs": {"platelets": v}} for tt, v in zip(times, values, strict=True)]
    changes = assess_series(SeriesInput.model_validate({"panels": panels})).changes["platelets"]
    assert [c.value for c in changes] == values
    first = Decimal(values[0])
    for i in range(1, len(values)):
        c, v, prev = changes[i], Decimal(values[i]), Decimal(values[i - 1])
        assert c.change_from_first == float(v - first)
        assert c.change_from_previous == float(v - prev)
        assert c.change_from_first_percent == (None if first == 0 else round_half_up((v - first) / first * 100, 2))
        assert c.change_from_previous_percent == (None if prev == 0 else round_half_up((v - prev) / prev * 100, 2))
        assert c.direction == ("up" if v > prev else "down" if v < prev else "same")
        days = Decimal((times[i] - times[i - 1]).total_seconds()) / 86400
        assert c.days_from_previous == round_half_up(days, 4)
        expected = (v - prev) / days
        # per day: 4 significant digits (never fewer than the integer part)
        assert abs(Decimal(repr(c.per_day_from_previous)) - expected) <= max(
            abs(expected) * Decimal("0.0005"), Decimal("0.5")
        )
        if c.change_from_previous_percent is not None and c.change_from_previous_percent != 0:
            assert (c.change_from_previous_percent > 0) == (c.direction == "up")


@SETTINGS
@given(series_data())
def test_first_met_is_the_earliest_met_point(data):
    result = assess_series(SeriesInput.model_validate(data))
    for iid, when in result.first_met.items():
        met = [p.time for p in result.points if p.assessment.criteria[iid].status == "met"]
        assert when == (met[0] if met else None)
        after = result.first_met_after_indeterminate[iid]
        if after is not None:
            i = [p.time for p in result.points].index(after)
            assert i > 0 and result.points[i - 1].assessment.criteria[iid].status == "indeterminate"
            assert result.points[i].assessment.criteria[iid].status == "met"
