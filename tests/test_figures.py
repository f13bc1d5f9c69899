"""The lab-against-thresholds figure and the score gauges (mas_screen.render.figures.kit)."""

from __future__ import annotations

import itertools
import json
import math

import plotly.graph_objects as go
import pytest
from panels import FULL_PANEL

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import MISSING_WORD as MISSING
from mas_screen.explain.wording import NOT_MET_WORD as NOT_MET
from mas_screen.explain.wording import tag
from mas_screen.render.figures.gauges import max_points, score_gauge_figure
from mas_screen.render.figures.kit import (
    CHAR_PX,
    EMPTY_MESSAGE,
    MARGIN,
    STYLE,
    WIDTH,
    display_number,
    rules_by_analyte,
    used_analytes,
)
from mas_screen.render.figures.labs import lab_threshold_figure


def figure_for(data: dict, **kwargs) -> go.Figure:
    patient = PatientInput.model_validate(data)
    return lab_threshold_figure(patient, assess(patient), **kwargs)


def markers(fig: go.Figure) -> dict[str, go.Scatter]:
    """Value markers by analyte."""
    return {t.meta["analyte"]: t for t in fig.data if t.meta and "value" in t.meta}


def lines(fig: go.Figure, analyte: str) -> list[go.Scatter]:
    return [t for t in fig.data if t.meta and t.meta.get("analyte") == analyte and "result" in t.meta]


def line_named(fig: go.Figure, analyte: str, name: str) -> go.Scatter:
    found = [t for t in lines(fig, analyte) if name in t.name.split(" · ")]
    assert len(found) == 1, [t.name for t in lines(fig, analyte)]
    return found[0]


def texts(fig: go.Figure) -> list[str]:
    return [a.text.replace("\u202f", " ") for a in fig.layout.annotations]


@pytest.fixture(scope="module")
def full() -> go.Figure:
    return figure_for(FULL_PANEL)


def test_one_row_per_entered_lab_that_an_instrument_uses(full):
    entered = set(FULL_PANEL["labs"])
    assert set(markers(full)) == entered - {"alt", "crp"}  # ALT and CRP feed no instrument
    assert set(used_analytes()) >= set(markers(full))
    assert len(row_axes(full)) == len(markers(full))
    assert any("ALT" in t and "CRP" in t for t in texts(full))  # said under the figure


def row_axes(fig: go.Figure) -> list[str]:
    """y-axis names of the rows, top row first (yaxis, yaxis2, …)."""
    names = [k for k in fig.layout if k.startswith("yaxis") and fig.layout[k].domain is not None]
    return sorted(names, key=lambda k: int(k.removeprefix("yaxis") or 1))


def test_rows_do_not_overlap_and_keep_their_order(full):
    domains = [full.layout[k].domain for k in row_axes(full)]
    tops = [d[1] for d in domains]
    assert tops == sorted(tops, reverse=True)
    for upper, lower in itertools.pairwise(domains):
        assert lower[1] < upper[0]


def test_thresholds_shown_in_the_unit_typed(full):
    # fibrinogen typed in g/L: the 2016 threshold (≤ 360 mg/dL) sits at 3.6
    line = line_named(full, "fibrinogen", "2016 ≤ 3.6")
    assert line.x == (3.6, 3.6)
    assert line.meta["result"] == MET  # 1.4 g/L ≤ 3.6 g/L
    assert line_named(full, "fibrinogen", "HScore ≤ 2.5 (30 pts)").x[0] == 2.5
    assert line_named(full, "fibrinogen", "MH ≤ 1.31 (15 pts)").meta["result"] == NOT_MET
    # haemoglobin typed in g/L: HScore ≤ 9.2 g/dL → 92 g/L, met exactly at the threshold
    assert line_named(full, "hemoglobin", "HScore ≤ 92").meta["result"] == MET
    # triglycerides typed in mmol/L: 2016 > 156 mg/dL → 1.76 mmol/L (line at the exact value)
    tg = line_named(full, "triglycerides", "2016 > 1.76")
    assert tg.x[0] == pytest.approx(156 / 88.57)
    assert "156 mg/dL" in tg.hovertemplate
    assert line_named(full, "triglycerides", "HScore > 4.0 (64 pts)").meta["result"] == NOT_MET


def test_every_instrument_threshold_including_bands_and_cytopenia_subitems(full):
    platelets = {t.name for t in lines(full, "platelets")}
    assert platelets == {"MH ≤ 78 (11 pts)", "HLH-2004 < 100", "HScore ≤ 110", "Parodi ≤ 150", "2016 ≤ 181"}
    ferritin = " · ".join(t.name for t in lines(full, "ferritin"))
    for label in ("2016 > 684", "HLH-2004 ≥ 500", "Parodi > 500", "OHI > 1000"):
        assert label in ferritin
    assert "HScore ≥ 2000 (35 pts)" in ferritin and "HScore > 6000 (50 pts)" in ferritin
    temperature = " · ".join(t.name for t in lines(full, "temperature"))
    for label in ("Parodi > 38", "HScore ≥ 38.4 (33 pts)", "HScore > 39.4 (49 pts)"):
        assert label in temperature
    # 'febrile' is answered, so the 2016 and HLH-2004 fever items do not read the temperature
    assert "2016" not in temperature and "HLH-2004" not in temperature
    assert any("'febrile' answer" in t for t in texts(full))
    unanswered = figure_for({"labs": {"temperature": {"value": 38.2, "unit": "degC"}}})
    results = {t.name: t.meta["result"] for t in lines(unanswered, "temperature")}
    assert results["2016 ≥ 38.0 · Parodi > 38"] == MET
    assert results["HLH-2004 ≥ 38.5"] == NOT_MET
    assert {t.name for t in lines(full, "wbc")} == {"Parodi ≤ 4.0", "HScore ≤ 5.0"}
    # MS score has coefficients, not thresholds: never drawn
    assert not [t for t in full.data if t.meta and t.meta.get("instrument") == "ms_score"]


def test_every_rule_in_the_criteria_is_drawn_on_its_row():
    """Each threshold of every instrument is a line on its lab's row (guards the walk of the YAML)."""
    labs = {**FULL_PANEL["labs"], "ferritin": 1000}
    fig = figure_for({"labs": labs})  # 'febrile' unanswered: fever items read the temperature
    for analyte, rules in rules_by_analyte().items():
        if analyte not in markers(fig):
            continue
        names = " · ".join(t.name for t in lines(fig, analyte))
        for rule in rules:
            if not rule.infant:
                assert tag(rule.instrument) in names, (analyte, rule.description)


def test_met_and_not_met_are_told_apart_by_colour_and_dash(full):
    for trace in (t for t in full.data if t.meta and "result" in t.meta):
        colour, dash, _ = STYLE[trace.meta["result"]]
        assert trace.line.color == colour and trace.line.dash == dash
    legend = {t.name for t in full.data if t.showlegend is not False and t.x == (None,)}
    assert {"Patient's value", "Criterion met", "Criterion not met"} <= legend


def test_censored_value_points_the_censored_way(full):
    ferritin = markers(full)["ferritin"]
    assert ferritin.marker.symbol == "triangle-right"
    assert ferritin.meta["censored"] == ">"
    assert any("> 40 000" in t for t in texts(full))
    assert all(t.meta["result"] == MET for t in lines(full, "ferritin"))  # > 40000 meets them all
    low = figure_for({"labs": {"fibrinogen": {"value": "<0.5", "unit": "g/L"}}})
    assert markers(low)["fibrinogen"].marker.symbol == "triangle-left"


def test_a_bound_that_cannot_decide_a_threshold_is_drawn_as_undecided():
    fig = figure_for({"labs": {"ferritin": ">600"}})
    results = {t.name: t.meta["result"] for t in lines(fig, "ferritin")}
    assert results["2016 > 684"] == MISSING
    assert results["HLH-2004 ≥ 500 · Parodi > 500"] == MET
    assert STYLE[MISSING][2] in {t.name for t in fig.data}


def test_log_axis_for_ferritin_when_the_span_warrants(full):
    ferritin_axis = full.layout.xaxis  # ferritin is the first row
    assert ferritin_axis.type == "log"
    assert ferritin_axis.range[0] < math.log10(500) and ferritin_axis.range[1] > math.log10(40000)
    narrow = figure_for({"labs": {"scd25": 3000}})
    assert narrow.layout.xaxis.type == "linear"  # 2400–3900 and 3000: no need for a log axis
    assert full.layout.xaxis2.type == "linear"  # platelets


def test_no_labs_gives_a_friendly_empty_figure():
    for data in ({}, {"labs": {"crp": 45}}, {"context": {"febrile": True}}):
        fig = figure_for(data)
        assert EMPTY_MESSAGE in texts(fig)
        assert not fig.data


def test_invalid_and_unit_suspect_values_are_skipped_not_fatal():
    data = {
        "labs": {
            "platelets": {"value": 110000, "unit": "10^9/L"},  # unit_suspect
            "ferritin": "elevated",  # not a number
            "ast": {"value": 50, "unit": "furlongs"},  # unknown unit
            "fibrinogen": {"value": 1.4, "unit": "g/L"},
        }
    }
    fig = figure_for(data)
    assert set(markers(fig)) == {"fibrinogen"}
    note = next(t for t in texts(fig) if "Not drawn" in t)
    assert "Platelet count" in note and "Ferritin" in note and "AST" in note
    assert figure_for({"labs": {"ferritin": "elevated"}}).layout.annotations[0].text == EMPTY_MESSAGE


def test_figure_is_json_serialisable(full):
    data = json.loads(full.to_json())
    assert data["layout"]["height"] > 0 and data["data"]
    json.loads(score_gauge_figure(assess(PatientInput.model_validate(FULL_PANEL))).to_json())


def test_labels_do_not_overlap_each_other_or_cross_a_taller_line(full):
    """The layout contract: at the design width, labels on one level never overlap, and no label
    covers a threshold line that rises past it (a covered solid line would look dashed)."""
    plot_px = WIDTH - MARGIN["l"] - MARGIN["r"]
    for index in range(1, len(markers(full)) + 1):
        suffix = "" if index == 1 else str(index)
        axis = full.layout[f"xaxis{suffix}"]
        lo, hi = axis.range

        def px(x: float, axis=axis, lo=lo, hi=hi) -> float:
            pos = math.log10(x) if axis.type == "log" else x
            return (pos - lo) / (hi - lo) * plot_px

        labels = [
            a
            for a in full.layout.annotations
            if a.yref == f"y{suffix}" and a.xref == f"x{suffix}" and not a.text.startswith("<b>")
        ]
        spans = []
        for a in labels:
            x = 10**a.x if axis.type == "log" else a.x
            width = len(a.text) * CHAR_PX
            start = px(x) if a.xanchor == "left" else px(x) - width
            spans.append((a.y, start, start + width))
        for i, (level, start, end) in enumerate(spans):
            for other_level, other_start, other_end in spans[i + 1 :]:
                if level == other_level:
                    assert end <= other_start or other_end <= start, (index, labels[i].text)
        for trace in (t for t in full.data if t.meta and "result" in t.meta and t.xaxis == f"x{suffix}"):
            top = trace.y[1]
            for level, start, end in spans:
                if start + 6 < px(trace.x[0]) < end - 6:
                    assert top < level, (index, trace.name)


def test_unit_system_switch_converts_for_display_only():
    data = {"labs": {"temperature": {"value": 39.6, "unit": "degC"}, "fibrinogen": {"value": 1.4, "unit": "g/L"}}}
    us = figure_for(data, unit_system="us")
    assert markers(us)["temperature"].x[0] == pytest.approx(103.28)
    assert line_named(us, "temperature", "2016 ≥ 100.4").meta["result"] == MET
    assert line_named(us, "fibrinogen", "2016 ≤ 360").meta["result"] == MET
    assert "°F" in " ".join(texts(us))
    same = figure_for(data, unit_system="si")
    assert markers(same)["fibrinogen"].x[0] == pytest.approx(1.4)
    with pytest.raises(ValueError, match="unit_system"):
        figure_for(data, unit_system="imperial")


def test_infant_haemoglobin_threshold_only_for_a_known_infant():
    lab = {"hemoglobin": {"value": 9.5, "unit": "g/dL"}}
    infant = figure_for({"context": {"age_years": 0.05}, "labs": lab})
    assert line_named(infant, "hemoglobin", "HLH-2004 < 10.0 (< 28 d)").meta["result"] == MET
    child = figure_for({"context": {"age_years": 7}, "labs": lab})
    assert line_named(child, "hemoglobin", "HLH-2004 < 9.0").meta["result"] == NOT_MET
    assert not [t for t in lines(child, "hemoglobin") if "28 d" in t.name]
    # only that one threshold changes: every other line of an infant's panel is still drawn
    assert {t.name for t in lines(infant, "hemoglobin")} == {
        "MH ≤ 8.3 (11 pts)",
        "HLH-2004 < 10.0 (< 28 d)",
        "Parodi ≤ 9.0",
        "HScore ≤ 9.2",
    }
    assert len(lines(figure_for({"context": {"age_years": 0.05}, "labs": {"ferritin": 300}}), "ferritin")) >= 5


def test_ferritin_esr_gives_the_esr_row_a_patient_specific_line():
    fig = figure_for({"labs": {"ferritin": 1000, "esr": 30}})
    line = lines(fig, "esr")[0]
    assert line.x[0] == pytest.approx(1000 / 21.5)
    assert line.meta["result"] == MET  # 1000 / 30 = 33 ≥ 21.5
    assert "ESR ≤ 46.5" in line.name
    huge = figure_for({"labs": {"ferritin": 40000, "esr": 12}})
    assert not lines(huge, "esr")  # ESR ≤ 1860 is off the ESR scale: said, not drawn
    assert any("for any ESR up to 1860" in t for t in texts(huge))
    lone = figure_for({"labs": {"esr": 30}})
    assert not lines(lone, "esr")
    assert any("needs ferritin" in t for t in texts(lone))
    assert lone.layout.xaxis.range[0] == 0  # an axis from 0, not a sliver around 30


def test_a_value_on_the_threshold_meets_an_inclusive_criterion():
    fig = figure_for({"labs": {"platelets": 181, "ferritin": 684}})
    assert line_named(fig, "platelets", "2016 ≤ 181").meta["result"] == MET
    assert line_named(fig, "ferritin", "2016 > 684").meta["result"] == NOT_MET


def test_display_number_rounding():
    from decimal import Decimal

    assert display_number(Decimal("684")) == "684"
    assert display_number(Decimal("181000")) == "181\u202f000"
    assert display_number(Decimal("1.76133")) == "1.76"
    assert display_number(Decimal("101.12")) == "101.1"
    assert display_number(Decimal("0.17613")) == "0.176"
    assert display_number(Decimal("-2.10")) == "−2.1"


def test_score_gauges_scale_and_cutoffs():
    spec = criteria().instruments
    assert max_points(spec["hscore"]) == 337
    assert max_points(spec["mh_score"]) == 123
    assessment = assess(PatientInput.model_validate(FULL_PANEL))
    fig = score_gauge_figure(assessment)
    assert fig.layout.xaxis.range[1] == 337 and fig.layout.xaxis2.range[1] == 123
    cutoffs = [a.text for a in fig.layout.annotations if a.text.startswith("cut-off")]
    assert cutoffs == ["cut-off ≥ 169", "cut-off ≥ 60", "cut-off ≥ −2.1"]
    words = " ".join(a.text for a in fig.layout.annotations)
    lo, hi = assessment.criteria["hscore"].score_range
    assert f"score range {lo}–{hi}" in words
    complete = {
        "context": {"febrile": True, "cns_involvement": False, "hemorrhagic_manifestations": False},
        "labs": {"platelets": 100, "ldh": 800, "fibrinogen": 150, "ferritin": 3000},
    }
    complete["context"]["active_arthritis"] = False
    exact = score_gauge_figure(assess(PatientInput.model_validate(complete)))
    diamonds = [t for t in exact.data if t.type == "scatter" and t.marker.symbol == "diamond"]
    assert len(diamonds) == 1 and diamonds[0].x[0] == pytest.approx(0.2)
