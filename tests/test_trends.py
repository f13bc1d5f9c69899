"""Serial panels (contract.md "Series"): hand-built series, every change figure worked by hand.

Rounding (trends.py): values and absolute changes to 4 significant digits (never fewer than the
integer part), percentages to 2 dp, half away from zero; computed in decimal arithmetic from the
values as typed, in each lab's default unit.
"""

from __future__ import annotations

import pytest
from conftest import without_generated_at
from pydantic import ValidationError

from mas_screen import PatientInput, assess
from mas_screen.domain.series import TREND_ANALYTES, Panel, SeriesInput, UserAlert
from mas_screen.faces.trends import assess_series
from mas_screen.kernel.inputs.times import TimeError, format_time, parse_time
from mas_screen.render.text import render_trend_text

SJIA = {"age_years": 7, "underlying_disease": "sjia", "febrile": True}
CRITERION_IDS = ["mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi"]


def series(panels: list[dict], context: dict | None = None) -> SeriesInput:
    return SeriesInput.model_validate({"context": SJIA if context is None else context, "panels": panels})


def run(panels: list[dict], context: dict | None = None, **kwargs):
    return assess_series(series(panels, context), **kwargs)


def three_days(platelets, ferritin, **more) -> list[dict]:
    """Panels at 08:00 on 1, 2 and 3 March 2026; `more` maps a lab key to its three values."""
    panels = []
    for i in range(3):
        labs = {"platelets": platelets[i], "ferritin": ferritin[i]}
        labs.update({k: v[i] for k, v in more.items() if v[i] is not None})
        panels.append({"time": f"2026-03-0{i + 1}T08:00", "labs": labs})
    return panels


def statuses(result, iid: str) -> list[str]:
    return [p.assessment.criteria[iid].status for p in result.points]


def figures(change) -> tuple:
    return (
        change.value,
        change.change_from_first,
        change.change_from_first_percent,
        change.change_from_previous,
        change.change_from_previous_percent,
        change.per_day_from_previous,
        change.direction,
    )


# ------------------------------------------------------------------------- the issue's example

DAY1, DAY2, DAY3 = "2026-03-01T08:00", "2026-03-02T08:00", "2026-03-03T08:00"


def test_issue_example_change_figures_by_hand():
    result = run(three_days([300, 220, 140], [900, 4000, 12000]))
    assert [p.time for p in result.points] == [DAY1, DAY2, DAY3]
    plt = result.changes["platelets"]
    # day 1: the first value, nothing to compare with
    assert figures(plt[0]) == (300, None, None, None, None, None, None)
    # day 2: 220 − 300 = −80; −80/300 = −26.666…% → −26.67; one day elapsed → −80/day
    assert figures(plt[1]) == (220, -80, -26.67, -80, -26.67, -80, "down")
    # day 3: 140 − 300 = −160; −160/300 = −53.333…% → −53.33; 140 − 220 = −80; −80/220 = −36.3636…% → −36.36
    assert figures(plt[2]) == (140, -160, -53.33, -80, -36.36, -80, "down")
    fer = result.changes["ferritin"]
    # day 2: 4000 − 900 = 3100; 3100/900 = 344.444…% → 344.44
    assert figures(fer[1]) == (4000, 3100, 344.44, 3100, 344.44, 3100, "up")
    # day 3: 12000 − 900 = 11100; 11100/900 = 1233.333…% → 1233.33; 12000 − 4000 = 8000; 8000/4000 = 200%
    assert figures(fer[2]) == (12000, 11100, 1233.33, 8000, 200.0, 8000, "up")
    assert [c.days_from_previous for c in fer] == [None, 1.0, 1.0]
    assert plt[1].unit == "10^9/L" and plt[1].value_text == "220 ×10⁹/L" and fer[2].unit == "ng/mL"


def test_issue_example_2016_criteria_not_met_without_companions():
    # Ferritin > 684 from day 1; platelets ≤ 181 only on day 3 = 1 companion of the 2 needed, the other
    # three (AST, triglycerides, fibrinogen) not entered: indeterminate, never met.
    result = run(three_days([300, 220, 140], [900, 4000, 12000]))
    assert statuses(result, "mas2016") == ["indeterminate"] * 3
    assert result.first_met["mas2016"] is None
    assert result.first_indeterminate["mas2016"] == DAY1


def test_issue_example_2016_criteria_first_met_on_day_3_with_a_companion():
    # AST 30 → 40 → 60: > 48 U/L only on day 3, with platelets 140 ≤ 181 → 2 companions → met on day 3.
    result = run(three_days([300, 220, 140], [900, 4000, 12000], ast=[30, 40, 60]))
    assert statuses(result, "mas2016") == ["indeterminate", "indeterminate", "met"]
    assert result.first_met["mas2016"] == DAY3
    assert result.first_met_after_indeterminate["mas2016"] == DAY3
    assert result.first_indeterminate["mas2016"] == DAY1
    # AST: 60 − 30 = 30, 30/30 = 100%; 60 − 40 = 20, 20/40 = 50%
    assert figures(result.changes["ast"][2]) == (60, 30, 100.0, 20, 50.0, 20, "up")


def test_issue_example_2016_criteria_not_met_when_companions_are_not():
    # Day 3: platelets met, AST 30 (≤ 48), triglycerides 100 mg/dL (≤ 156), fibrinogen 400 mg/dL (> 360):
    # 1 companion of 4 → not met.
    result = run(
        three_days([300, 220, 140], [900, 4000, 12000], ast=[30, 30, 30], triglycerides=[100] * 3, fibrinogen=[400] * 3)
    )
    assert statuses(result, "mas2016") == ["not_met", "not_met", "not_met"]
    assert result.first_met["mas2016"] is None
    assert result.first_indeterminate["mas2016"] is None
    assert result.first_met_after_indeterminate["mas2016"] is None


def test_each_point_equals_assess_on_its_panel():
    panels = three_days([300, 220, 140], [900, 4000, 12000], ast=[30, 40, 60])
    result = run(panels)
    for point, panel in zip(result.points, panels, strict=True):
        alone = assess(PatientInput.model_validate({"context": SJIA, "labs": panel["labs"]}))
        assert without_generated_at(point.assessment.model_dump(mode="json")) == without_generated_at(
            alone.model_dump(mode="json")
        )


def test_first_met_keys_are_every_instrument():
    result = run(three_days([300, 220, 140], [900, 4000, 12000]))
    for d in (result.first_met, result.first_indeterminate, result.first_met_after_indeterminate):
        assert list(d) == CRITERION_IDS


def test_met_from_the_first_point_is_not_after_indeterminate():
    result = run(three_days([140, 120, 100], [900, 4000, 12000], ast=[60, 60, 60]))
    assert result.first_met["mas2016"] == DAY1
    assert result.first_met_after_indeterminate["mas2016"] is None
    assert result.first_indeterminate["mas2016"] is None


def test_met_after_indeterminate_needs_the_immediately_previous_point_indeterminate():
    # not_met (AST 30, TG 100, fibrinogen 400) → indeterminate (AST only) → met (AST 60 + platelets 140)
    panels = three_days([150, 150, 140], [900, 900, 900], ast=[30, 30, 60], triglycerides=[100, None, None])
    panels[0]["labs"]["fibrinogen"] = 400
    panels[0]["labs"]["platelets"] = 300
    result = run(panels)
    assert statuses(result, "mas2016") == ["not_met", "indeterminate", "met"]
    assert result.first_met_after_indeterminate["mas2016"] == DAY3


# ---------------------------------------------------------------------------------------- units


def test_changes_in_default_unit_from_other_units():
    panels = [
        {
            "time": "2026-03-01",
            "labs": {"fibrinogen": {"value": 3.6, "unit": "g/L"}, "triglycerides": {"value": 1.9, "unit": "mmol/L"}},
        },
        {"time": "2026-03-02", "labs": {"fibrinogen": 250, "triglycerides": {"value": 2.5, "unit": "mmol/L"}}},
    ]
    result = run(panels)
    fib = result.changes["fibrinogen"]
    # 3.6 g/L = 360 mg/dL exactly; 250 − 360 = −110; −110/360 = −30.555…% → −30.56
    assert figures(fib[1]) == (250, -110, -30.56, -110, -30.56, -110, "down")
    assert fib[0].value == 360 and fib[0].input == "3.6 g/L" and fib[0].value_text == "360 mg/dL"
    tg = result.changes["triglycerides"]
    # 1.9 × 88.57 = 168.283 → 168.3 shown; 2.5 × 88.57 = 221.425 → 221.4 shown;
    # change 221.425 − 168.283 = 53.142 → 53.14; percent 0.6/1.9 = 31.578…% → 31.58 (unit-free)
    assert tg[0].value == 168.3 and tg[0].value_text == "168.3 mg/dL"
    assert figures(tg[1]) == (221.4, 53.14, 31.58, 53.14, 31.58, 53.14, "up")
    mixed = [w for w in result.warnings if w.code == "mixed_units"]
    assert [(w.row, w.field, w.severity) for w in mixed] == [(1, "fibrinogen", "info")]
    assert "g/L" in mixed[0].message and "mg/dL" in mixed[0].message


def test_cell_counts_per_microlitre():
    # 150,000 /µL = 150 ×10⁹/L; 90,000 /µL = 90; 90 − 150 = −60, −60/150 = −40%
    result = run(
        [
            {"time": "2026-03-01", "labs": {"platelets": {"value": "150,000", "unit": "/µL"}}},
            {"time": "2026-03-02", "labs": {"platelets": {"value": 90000, "unit": "/uL"}}},
        ]
    )
    assert figures(result.changes["platelets"][1]) == (90, -60, -40.0, -60, -40.0, -60, "down")


def test_temperature_has_no_percent():
    # 102.2 °F = (102.2 − 32) × 5/9 = 39.0 °C; 39.0 − 38.0 = +1.0
    result = run(
        [
            {"time": "2026-03-01", "labs": {"temperature": 38.0}},
            {"time": "2026-03-02", "labs": {"temperature": {"value": 102.2, "unit": "degF"}}},
        ]
    )
    t = result.changes["temperature"][1]
    assert (t.value, t.change_from_previous, t.change_from_first, t.per_day_from_previous) == (39, 1, 1, 1)
    assert t.change_from_previous_percent is None and t.change_from_first_percent is None
    assert any("percent of °C" in c for c in result.caveats)


def test_percent_none_when_base_is_zero():
    result = run(
        [
            {"time": "2026-03-01", "labs": {"platelets": 0}},
            {"time": "2026-03-02", "labs": {"platelets": 20}},
            {"time": "2026-03-03", "labs": {"platelets": 30}},
        ]
    )
    p = result.changes["platelets"]
    assert (p[1].change_from_previous, p[1].change_from_previous_percent, p[1].change_from_first_percent) == (
        20,
        None,
        None,
    )
    # 30 − 20 = 10, 10/20 = 50%; from the first (0): +30, no percent
    assert (p[2].change_from_previous_percent, p[2].change_from_first, p[2].change_from_first_percent) == (
        50.0,
        30,
        None,
    )


def test_per_day_over_half_a_day_and_rounding_half_up():
    # 200 → 150 over 12 h: −50 / 0.5 d = −100/day; −50/200 = −25%
    # 150 → 149 over 36 h: −1 / 1.5 d = −0.6667/day (4 significant digits, −0.66666… rounds away from zero)
    # −1/150 = −0.6666…% → −0.67
    result = run(
        [
            {"time": "2026-03-01 08:00", "labs": {"platelets": 200}},
            {"time": "2026-03-01 20:00", "labs": {"platelets": 150}},
            {"time": "2026-03-03 08:00", "labs": {"platelets": 149}},
        ]
    )
    p = result.changes["platelets"]
    assert (p[1].days_from_previous, p[1].per_day_from_previous, p[1].change_from_previous_percent) == (
        0.5,
        -100,
        -25.0,
    )
    assert (p[2].days_from_previous, p[2].per_day_from_previous, p[2].change_from_previous_percent) == (
        1.5,
        -0.6667,
        -0.67,
    )
    # from the first: 149 − 200 = −51; −51/200 = −25.5%
    assert (p[2].change_from_first, p[2].change_from_first_percent) == (-51, -25.5)


def test_percent_rounds_half_away_from_zero():
    # Haemoglobin typed as text; percentages that end in exactly 5 round away from zero (0.125 → 0.13, not
    # banker's 0.12).
    result = run(
        [
            {"time": "2026-03-01", "labs": {"hemoglobin": "8"}},
            {"time": "2026-03-02", "labs": {"hemoglobin": "8.01"}},
            {"time": "2026-03-03", "labs": {"hemoglobin": "7.99"}},
        ]
    )
    h = result.changes["hemoglobin"]
    # 8.01 − 8 = 0.01; 0.01/8 = 0.125% → 0.13; 7.99 − 8 = −0.01 → −0.13%; 7.99 − 8.01 = −0.02; −0.02/8.01 = −0.2496…% → −0.25
    assert (h[1].change_from_first, h[1].change_from_first_percent) == (0.01, 0.13)
    assert (h[2].change_from_first, h[2].change_from_first_percent) == (-0.01, -0.13)
    assert (h[2].change_from_previous, h[2].change_from_previous_percent) == (-0.02, -0.25)


def test_same_value_direction_same():
    result = run([{"time": "2026-03-01", "labs": {"esr": 40}}, {"time": "2026-03-02", "labs": {"esr": 40}}])
    assert figures(result.changes["esr"][1]) == (40, 0, 0, 0, 0, 0, "same")


# ------------------------------------------------------------------------------------- censored


def test_censored_values_have_no_change_figures_but_a_decided_direction():
    result = run(
        [
            {"time": "2026-03-01", "labs": {"ferritin": 900}},
            {"time": "2026-03-02", "labs": {"ferritin": ">10000"}},
            {"time": "2026-03-03", "labs": {"ferritin": 8000}},
            {"time": "2026-03-04", "labs": {"ferritin": "> 5,000"}},
        ]
    )
    f = result.changes["ferritin"]
    assert (f[1].value, f[1].bound, f[1].op, f[1].value_text) == (None, 10000, ">", "> 10000 ng/mL")
    assert f[1].change_from_first is None and f[1].change_from_previous_percent is None
    assert f[1].direction == "up"  # above 10000 is above 900
    # day 3: from the first 8000 − 900 = 7100; 7100/900 = 788.888…% → 788.89; from the previous (censored): none
    assert figures(f[2]) == (8000, 7100, 788.89, None, None, None, "down")  # 8000 is below "> 10000"
    assert f[3].direction is None  # "> 5000" after 8000: could be either side
    assert any("beyond an assay's range" in c for c in result.caveats)


def test_censored_first_value_leaves_change_from_first_empty():
    result = run(
        [
            {"time": "2026-03-01", "labs": {"platelets": "<50"}},
            {"time": "2026-03-02", "labs": {"platelets": 100}},
            {"time": "2026-03-03", "labs": {"platelets": 120}},
        ]
    )
    p = result.changes["platelets"]
    assert p[1].direction == "up" and p[1].change_from_first is None
    # 120 − 100 = 20, 20/100 = 20%; from the first (censored): none
    assert figures(p[2]) == (120, None, None, 20, 20.0, 20, "up")


def test_bad_values_are_left_out_of_changes_and_stay_in_the_point():
    result = run(
        [
            {"time": "2026-03-01", "labs": {"ferritin": "elevated", "fibrinogen": {"value": 3.2, "unit": "mg/dL"}}},
            {"time": "2026-03-02", "labs": {"ferritin": 2000, "fibrinogen": 300}},
        ]
    )
    assert [c.time for c in result.changes["ferritin"]] == ["2026-03-02T00:00"]
    assert result.changes["ferritin"][0].change_from_first is None
    codes = {(w.field, w.code) for w in result.points[0].assessment.input_warnings}
    assert codes == {("ferritin", "not_a_number"), ("fibrinogen", "unit_suspect")}


def test_lab_entered_only_as_bad_values_has_an_empty_change_list():
    result = run([{"time": "2026-03-01", "labs": {"ast": "high"}}])
    assert result.changes == {"ast": []}


def test_change_keys_in_consensus_order_then_the_rest():
    labs = {"ldh": 400, "esr": 10, "ast": 40, "ferritin": 900, "platelets": 200}
    result = run([{"time": "2026-03-01", "labs": labs}])
    assert list(result.changes) == ["platelets", "ferritin", "ast", "esr", "ldh"]
    assert TREND_ANALYTES[:3] == ("platelets", "ferritin", "ast")


# ---------------------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "expected", "date_only"),
    [
        ("2026-03-01", "2026-03-01T00:00", True),
        ("2026-03-01T08:00", "2026-03-01T08:00", False),
        ("2026-03-01 08:00", "2026-03-01T08:00", False),
        ("  2026-03-01   08:00 ", "2026-03-01T08:00", False),
        ("2026-3-1 8:00", "2026-03-01T08:00", False),
        ("2026/03/01 08:00", "2026-03-01T08:00", False),
        ("2026-03-01T08", "2026-03-01T08:00", False),
        ("2026-03-01T08:30:15", "2026-03-01T08:30:15", False),
        ("2026-03-01T08:00Z", "2026-03-01T08:00+00:00", False),
        ("2026-03-01 08:00 +01:00", "2026-03-01T08:00+01:00", False),
        ("2026-03-01t08:00z", "2026-03-01T08:00+00:00", False),
        ("20260301T0800", "2026-03-01T08:00", False),
    ],
)
def test_parse_time(text, expected, date_only):
    parsed = parse_time(text)
    assert format_time(parsed.value) == expected
    assert parsed.date_only is date_only


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("01/03/2026", "ambiguous"),
        ("3.1.2026", "ambiguous"),
        ("2026-13-01", "month must be in 1..12"),
        ("2026-03-01 25:00", "hour must be in 0..23"),
        ("yesterday", "YYYY-MM-DD"),
        ("", "no time"),
    ],
)
def test_parse_time_refuses_with_a_reason(text, reason):
    with pytest.raises(TimeError, match=reason):
        parse_time(text)


def test_bad_and_missing_times_are_left_out_with_a_message_on_their_row():
    result = run(
        [
            {"time": "2026-03-01", "labs": {"platelets": 200}},
            {"time": "01/03/2026", "labs": {"platelets": 150}},
            {"labs": {"platelets": 120}},
            {"time": "  ", "labs": {"platelets": 110}},
            {"time": 20260302, "labs": {"platelets": 100}},  # a number: kept as typed, read as ISO basic
        ]
    )
    assert [p.row for p in result.points] == [0, 4]
    by_row = {w.row: w for w in result.warnings}
    assert (by_row[1].code, by_row[1].input, by_row[1].field) == ("bad_time", "01/03/2026", "time")
    assert "left out" in by_row[1].message and "'01/03/2026'" in by_row[1].message
    assert (by_row[2].code, by_row[3].code) == ("no_time", "no_time")
    assert all(w.severity == "warning" for w in result.warnings)


def test_duplicate_times_both_kept_in_input_order():
    result = run(
        [
            {"time": "2026-03-01T08:00", "labs": {"platelets": 200}},
            {"time": "2026-03-01 08:00", "labs": {"platelets": 180}},
            {"time": "2026-03-02T08:00", "labs": {"platelets": 160}},
        ]
    )
    assert [p.row for p in result.points] == [0, 1, 2]
    dup = [w for w in result.warnings if w.code == "duplicate_time"]
    assert [(w.row, w.severity) for w in dup] == [(1, "warning")]
    p = result.changes["platelets"]
    # 180 − 200 = −20 (−10%) at no elapsed time: no rate per day
    assert (p[1].change_from_previous, p[1].change_from_previous_percent, p[1].per_day_from_previous) == (
        -20,
        -10.0,
        None,
    )
    assert p[1].days_from_previous == 0
    # 160 − 180 = −20 over one day; −20/180 = −11.111…% → −11.11
    assert (p[2].per_day_from_previous, p[2].change_from_previous_percent) == (-20, -11.11)


def test_out_of_order_rows_are_sorted_with_a_note():
    result = run(
        [
            {"time": "2026-03-03", "labs": {"platelets": 140}},
            {"time": "2026-03-01", "labs": {"platelets": 300}},
            {"time": "2026-03-02", "labs": {"platelets": 220}},
        ]
    )
    assert [p.row for p in result.points] == [1, 2, 0]
    assert [p.time for p in result.points] == ["2026-03-01T00:00", "2026-03-02T00:00", "2026-03-03T00:00"]
    notes = [(w.row, w.code, w.severity) for w in result.warnings]
    assert notes == [(1, "out_of_order", "info"), (2, "out_of_order", "info")]
    assert [c.value for c in result.changes["platelets"]] == [300, 220, 140]


def test_times_with_and_without_offset_are_not_mixed_silently():
    result = run(
        [
            {"time": "2026-03-01T08:00+01:00", "labs": {"platelets": 200}},
            {"time": "2026-03-01T07:30", "labs": {"platelets": 180}},  # read as +01:00: before row 1
            {"time": "2026-03-02T08:00Z", "labs": {"platelets": 160}},
        ]
    )
    assert [p.time for p in result.points] == [
        "2026-03-01T07:30+01:00",
        "2026-03-01T08:00+01:00",
        "2026-03-02T08:00+00:00",
    ]
    mixed = [w for w in result.warnings if w.code == "mixed_timezone"]
    assert [w.row for w in mixed] == [1] and "+01:00" in mixed[0].message
    # 2026-03-01T08:00+01:00 = 07:00 UTC → 2026-03-02T08:00 UTC is 25 h later
    assert result.changes["platelets"][2].days_from_previous == round(25 / 24, 4)


def test_date_only_caveat():
    result = run([{"time": "2026-03-01", "labs": {"platelets": 200}}])
    assert result.points[0].date_only and result.points[0].time_input == "2026-03-01"
    assert any("midnight" in c for c in result.caveats)


def test_empty_series():
    result = assess_series(SeriesInput(panels=[]))
    assert result.points == [] and result.changes == {}
    assert list(result.first_met) == CRITERION_IDS and not any(result.first_met.values())


# -------------------------------------------------------------------------------------- context


def test_panel_context_overrides_series_context_field_by_field():
    panels = three_days([140, 140, 140], [900, 900, 900], ast=[60, 60, 60])
    panels[1]["context"] = {"febrile": False}
    result = run(panels)
    # Not febrile on day 2: the 2016 entry condition fails there; sjia (series context) is kept.
    assert statuses(result, "mas2016") == ["met", "not_met", "met"]
    merged = {**SJIA, "febrile": False}
    alone = assess(PatientInput.model_validate({"context": merged, "labs": panels[1]["labs"]}))
    assert without_generated_at(result.points[1].assessment.model_dump(mode="json")) == without_generated_at(
        alone.model_dump(mode="json")
    )
    assert result.points[1].assessment.criteria["mas2016"].population == "validated"


def test_panel_context_null_means_not_known():
    panels = three_days([140, 140, 140], [900, 900, 900], ast=[60, 60, 60])
    panels[2]["context"] = {"febrile": None}
    result = run(panels)
    assert statuses(result, "mas2016") == ["met", "met", "indeterminate"]


def test_series_context_is_used_when_the_panel_has_none():
    result = run(
        [{"time": "2026-03-01", "labs": {"ferritin": 900}}], context={"underlying_disease": "sle", "age_years": 12}
    )
    assert result.points[0].assessment.summary.mas_signal == "insufficient_data"
    assert result.points[0].assessment.criteria["parodi2009"].population == "validated"


# ---------------------------------------------------------------------------------- ferritin:ESR


def test_ferritin_esr_over_time():
    # 900/60 = 15 (< 21.5, not met); 4000/40 = 100 (met); 12000/15 = 800 (met); ESR 0: not computable
    panels = three_days([300, 220, 140], [900, 4000, 12000], esr=[60, 40, 15])
    panels.append({"time": "2026-03-04T08:00", "labs": {"ferritin": 12000, "esr": 0}})
    result = run(panels)
    assert [(f["ratio"], f["status"]) for f in result.ferritin_esr] == [
        (15, "not_met"),
        (100, "met"),
        (800, "met"),
        (None, "indeterminate"),
    ]
    assert [f["time"] for f in result.ferritin_esr] == [DAY1, DAY2, DAY3, "2026-03-04T08:00"]
    assert result.first_met["ferritin_esr"] == DAY2


# ------------------------------------------------------------------------------ output contract


def test_contract_keys():
    data = run(three_days([300, 220, 140], [900, 4000, 12000])).model_dump(mode="json")
    assert {"points", "changes", "first_met"} <= set(data)
    assert {"time", "assessment"} <= set(data["points"][0])
    assert data["points"][0]["assessment"]["schema_version"] == "1"
    assert {"time", "value", "change_from_first_percent", "change_from_previous_percent"} <= set(
        data["changes"]["platelets"][0]
    )
    assert data["first_met"]["mas2016"] is None


def test_caveat_cites_the_dynamics_consensus_and_sets_no_cut_off():
    result = run(three_days([300, 220, 140], [900, 4000, 12000]))
    caveat = result.caveats[0]
    assert "No published percent-change cut-off exists" in caveat and "Ravelli 2016" in caveat
    assert "user" in caveat
    assert result.references["ravelli2016_dynamics"].doi == "10.1136/rmdopen-2015-000161"
    assert result.alerts == []


def test_panel_labs_accept_bare_numbers_and_refuse_unknown_keys():
    assert Panel.model_validate({"time": "2026-03-01", "labs": {"platelets": 150}}).labs["platelets"].value == 150
    with pytest.raises(ValidationError, match="unknown analyte"):
        Panel.model_validate({"time": "2026-03-01", "labs": {"ferritn": 150}})
    with pytest.raises(ValidationError):
        SeriesInput.model_validate({"panels": [], "extra": 1})


# --------------------------------------------------------------------------- user alert levels


def test_user_alert_levels_are_labelled_as_the_users():
    alerts = [
        UserAlert(analyte="platelets", kind="percent_from_previous", level=-30),
        UserAlert(analyte="ferritin", kind="percent_from_first", level=1000),
        UserAlert(analyte="platelets", kind="value_below", level=150),
        UserAlert(analyte="fibrinogen", kind="value_below", level=2.5, unit="g/L"),
    ]
    panels = three_days([300, 220, 140], [900, 4000, 12000], fibrinogen=[300, 260, 240])
    result = run(panels, alerts=alerts)
    hits = [(h.analyte, h.kind, h.time, h.observed) for h in result.alerts]
    # platelets −26.67% (day 2) does not reach −30%; −36.36% (day 3) does.
    # ferritin +344.44% (day 2) no; +1233.33% (day 3) yes. Platelets below 150 only on day 3.
    # fibrinogen 240 mg/dL = 2.4 g/L < 2.5 on day 3 only (260 mg/dL = 2.6 g/L).
    assert sorted(hits) == sorted(
        [
            ("platelets", "percent_from_previous", DAY3, -36.36),
            ("ferritin", "percent_from_first", DAY3, 1233.33),
            ("platelets", "value_below", DAY3, 140),
            ("fibrinogen", "value_below", DAY3, 2.4),
        ]
    )
    for h in result.alerts:
        assert "Your alert level" in h.label and "user-set, not a published cut-off" in h.label


def test_user_alert_for_unknown_analyte_is_refused():
    with pytest.raises(ValueError, match="unknown analyte"):
        run(three_days([1, 2, 3], [900, 900, 900]), alerts=[UserAlert(analyte="x", kind="value_below", level=1)])


# ------------------------------------------------------------------------------------------ text


def test_text_rendering():
    panels = three_days([300, 220, 140], [900, 4000, 12000], ast=[30, 40, 60])
    panels.append({"time": "bad", "labs": {}})
    text = render_trend_text(run(panels))
    assert "2026-03-03T08:00" in text and "−80 (−36.36%)" in text and "+3100 (+344.44%)" in text
    assert "First met: 2016 MAS criteria: 2026-03-03T08:00" in text
    assert "warning, row 4: Time 'bad' cannot be read" in text and "No published percent-change cut-off" in text


def test_text_names_other_populations_instruments_beside_the_signal_as_indicative_only():
    """The sJIA flare: typing the temperature meets Parodi 2009 (jSLE); the signal stays "not
    suggestive" at both times and Parodi is named only as indicative."""
    context = {"underlying_disease": "sjia", "febrile": True, "age_years": 8, "hepatomegaly": False,
               "splenomegaly": False, "cns_involvement": False, "hemorrhagic_manifestations": False,
               "active_arthritis": True}  # fmt: skip
    labs = {"ferritin": 1800, "platelets": 480, "ast": 35, "ldh": 650, "triglycerides": 190, "fibrinogen": 620}
    panels = [
        {"time": "2026-03-01T08:00", "labs": labs},
        {"time": "2026-03-02T08:00", "labs": {**labs, "temperature": 39.2}},
    ]
    result = run(panels, context)
    assert [p.assessment.summary.mas_signal for p in result.points] == ["not_suggestive", "not_suggestive"]
    assert [p.assessment.summary.other_population_met for p in result.points] == [[], ["parodi2009"]]
    lines = render_trend_text(result).splitlines()
    assert lines[3].endswith("  not suggestive")
    assert lines[4].endswith("  not suggestive (+ indicative only: Parodi 2009 (jSLE))")
