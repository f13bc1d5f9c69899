"""Serial-lab charts (mas_screen.render.figures.trends) and the trend page of the PDF summary.

Series are built by hand (tests/trend_series.py) the way trends.assess_series builds them: one
Assessment per dated panel, each lab's changes in its canonical unit, the first time met.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
import pytest
from test_report import flat, min_font_px, page_count, pdf_text
from trend_series import build_series

from mas_screen import PatientInput, assess
from mas_screen.domain.series import TrendResult
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import NOT_MET_WORD as NOT_MET
from mas_screen.render import export
from mas_screen.render.figures.kit import OKABE_ITO, STYLE, rules_by_analyte
from mas_screen.render.figures.trends import trend_small_multiples
from mas_screen.render.figures.trends_kit import ALERT_COLOUR, CONSENSUS_NOTE, EMPTY_SERIES, KEY_ANALYTES, lab_series
from mas_screen.render.figures.trends_status import (
    STATUS_FILL,
    STATUS_SYMBOL,
    TABLE_COLUMNS,
    changes_table,
    first_met_times,
    status_timeline,
)
from mas_screen.render.pdf import kit as pdf_kit
from mas_screen.render.pdf import report, trend_page
from mas_screen.render.pdf.report import pdf_summary
from mas_screen.render.pdf.trend_page import TIMELINE_HEADING, TREND_HEADING

CHROMIUM = Path("/usr/bin/chromium").exists() or bool(os.environ.get("BROWSER_PATH"))
CONTEXT = {"underlying_disease": "sjia", "febrile": True, "age_years": 7}
DAY1, DAY2, DAY3 = "2026-03-01T08:00", "2026-03-02T08:00", "2026-03-03T08:00"


def three_days(**changes) -> TrendResult:
    labs = [
        {"platelets": 300, "ferritin": 900},
        {"platelets": 220, "ferritin": 4000},
        {"platelets": 140, "ferritin": 12000},
    ]
    for key, values in changes.items():
        for panel, value in zip(labs, values, strict=True):
            panel[key] = value
    return build_series(list(zip((DAY1, DAY2, DAY3), labs, strict=True)), CONTEXT)


@pytest.fixture(scope="module")
def series() -> TrendResult:
    return three_days()


@pytest.fixture(scope="module")
def fig(series) -> go.Figure:
    return trend_small_multiples(series)


def traces(fig: go.Figure, analyte: str, kind: str) -> list:
    return [t for t in fig.data if t.meta and t.meta.get("analyte") == analyte and t.meta.get("kind") == kind]


def values_trace(fig: go.Figure, analyte: str):
    (found,) = traces(fig, analyte, "values")
    return found


def panels(fig: go.Figure) -> list[str]:
    """Labs in drawing order (top first)."""
    return [t.meta["analyte"] for t in fig.data if t.meta and t.meta.get("kind") == "values"]


def lines(fig: go.Figure, analyte: str) -> dict[str, object]:
    """Threshold lines by label ("2016 ≤ 181")."""
    return {t.meta["label"]: t for t in traces(fig, analyte, "threshold")}


def crossings(fig: go.Figure, analyte: str, kind: str = "crossings") -> list[str]:
    found = traces(fig, analyte, kind)
    return [text for t in found for text in t.meta["crossings"]]


def texts(fig: go.Figure) -> list[str]:
    return [(a.text or "").replace("\u202f", " ") for a in fig.layout.annotations]


# ------------------------------------------------------------------------------ small multiples


def test_one_panel_per_lab_in_the_consensus_order(fig, series):
    assert panels(fig) == ["platelets", "ferritin"]
    plt = values_trace(fig, "platelets")
    assert list(plt.y) == [300, 220, 140]
    assert all(isinstance(x, datetime) for x in plt.x)
    assert fig.layout.xaxis.type == "date" and fig.layout.xaxis2.matches == "x"
    mixed = three_days(ldh=[300, 400, 500], esr=[50, 40, 30], ast=[30, 60, 90])
    assert panels(trend_small_multiples(mixed)) == ["platelets", "ferritin", "ast", "esr", "ldh"]
    assert panels(trend_small_multiples(mixed, analytes=["ldh", "ferritin"])) == ["ldh", "ferritin"]
    assert panels(trend_small_multiples(mixed, analytes=["wbc", "ast"])) == ["ast"]  # wbc: no values
    with pytest.raises(ValueError, match="unknown analyte"):
        trend_small_multiples(mixed, analytes=["plateletz"])


def test_every_threshold_that_reads_the_lab_is_a_labelled_line(fig):
    plt = lines(fig, "platelets")
    assert set(plt) == {"2016 ≤ 181", "MH ≤ 78 (11 pts)", "HScore ≤ 110", "HLH-2004 < 100", "Parodi ≤ 150"}
    assert [plt["2016 ≤ 181"].y[0], plt["Parodi ≤ 150"].y[0], plt["HLH-2004 < 100"].y[0]] == [181, 150, 100]
    fer = lines(fig, "ferritin")
    assert fer["2016 > 684"].y[0] == 684
    assert fer["HScore ≥ 2000 (35 pts)"].y[0] == 2000 and fer["HScore > 6000 (50 pts)"].y[0] == 6000
    assert fer["OHI > 1000"].y[0] == 1000
    assert fer["HLH-2004 ≥ 500 · Parodi > 500"].y[0] == 500  # equal thresholds share one line (figures._merge)
    for analyte, drawn in (("platelets", plt), ("ferritin", fer)):
        published = {(r.instrument, r.threshold) for r in rules_by_analyte()[analyte]}
        shown = {
            (i, t)
            for line in drawn.values()
            for i, t in zip(line.meta["instruments"], line.meta["thresholds"], strict=True)
        }
        assert shown == published, analyte
    # each line is labelled in the lane on the right, a merged label over two lines
    assert "2016 ≤ 181" in texts(fig) and "HLH-2004 ≥ 500<br>Parodi > 500" in texts(fig)


def test_line_style_says_whether_the_latest_value_meets_it(fig):
    plt = lines(fig, "platelets")  # latest 140
    assert plt["2016 ≤ 181"].meta["result"] == MET and plt["HScore ≤ 110"].meta["result"] == NOT_MET
    assert plt["2016 ≤ 181"].line.color == STYLE[MET][0] and plt["2016 ≤ 181"].line.dash == "solid"
    assert plt["HScore ≤ 110"].line.color == STYLE[NOT_MET][0] and plt["HScore ≤ 110"].line.dash == "dash"


def test_crossings_are_marked_at_measured_values_never_at_an_invented_time(fig):
    assert crossings(fig, "platelets") == [
        "crossed 2016 ≤ 181 between 2 Mar and 3 Mar (met from 3 Mar)",
        "crossed Parodi ≤ 150 between 2 Mar and 3 Mar (met from 3 Mar)",
    ]
    # One ring, on the first measured value past both thresholds (140 on 3 Mar), not where the
    # straight segment 220 → 140 meets a line: that time was never measured.
    ring = traces(fig, "platelets", "crossings")[0]
    assert list(ring.y) == [140] and list(ring.x) == [datetime(2026, 3, 3, 8)]
    assert list(ring.hovertext) == ["<br>".join(crossings(fig, "platelets"))]
    # The interval between the two measurements is drawn along each threshold, labelled as such.
    band = traces(fig, "platelets", "crossings_intervals")[0]
    assert band.meta["intervals"] == [
        ["2026-03-02T08:00:00", "2026-03-03T08:00:00", 181],
        ["2026-03-02T08:00:00", "2026-03-03T08:00:00", 150],
    ]
    assert list(band.x) == [datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 8), None] * 2
    assert list(band.y) == [181, 181, None, 150, 150, None]
    legend = [t.name for t in fig.data if t.showlegend is not False and t.x == (None,)]
    assert "First measured value past a threshold" in legend
    assert "Crossed somewhere between these two measurements" in legend
    # ferritin 900 → 4000 → 12 000: already above 684 (and 500) on day 1, so no ring there
    assert crossings(fig, "ferritin") == [
        "crossed OHI > 1000 between 1 Mar and 2 Mar (met from 2 Mar)",
        "crossed HScore ≥ 2000 (35 pts) between 1 Mar and 2 Mar (met from 2 Mar)",
        "crossed HScore > 6000 (50 pts) between 2 Mar and 3 Mar (met from 3 Mar)",
    ]
    rings = traces(fig, "ferritin", "crossings")[0]
    assert list(rings.y) == [4000, 12000]  # the measured values, on a log axis as on a linear one
    assert list(rings.x) == [datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 8)]


def test_every_ring_sits_on_a_measured_value():
    for series in (three_days(platelets=[140, 220, 300]), three_days(ferritin=[2100, ">4000", 12000])):
        fig = trend_small_multiples(series)
        measured = {
            (x, y) for t in fig.data if (t.meta or {}).get("kind") == "values" for x, y in zip(t.x, t.y, strict=True)
        }
        for t in fig.data:
            if (t.meta or {}).get("kind") in ("crossings", "alert_crossings"):
                assert set(zip(t.x, t.y, strict=True)) <= measured


def test_falling_back_out_of_a_criterion_is_ringed_too():
    recovered = three_days(platelets=[140, 220, 300])
    assert sorted(crossings(trend_small_multiples(recovered), "platelets")) == [
        "crossed 2016 ≤ 181 between 1 Mar and 2 Mar (no longer met from 2 Mar)",
        "crossed Parodi ≤ 150 between 1 Mar and 2 Mar (no longer met from 2 Mar)",
    ]


def test_log_axis_for_ferritin_spanning_ten_fold(fig):
    assert values_trace(fig, "ferritin").meta["log"] and fig.layout.yaxis2.type == "log"
    assert fig.layout.yaxis.type == "linear"  # platelets
    narrow = trend_small_multiples(three_days(ferritin=[900, 2000, 4000]))
    assert narrow.layout.yaxis2.type == "linear"
    # y ticks in our own format, no "10k"
    assert "10 000" in [t.replace("\u202f", " ") for t in fig.layout.yaxis2.ticktext]


def test_user_alert_level_is_drawn_and_labelled_as_the_users(series):
    fig = trend_small_multiples(series, alert_levels={"platelets": 200})
    (alert,) = traces(fig, "platelets", "alert")
    assert alert.y[0] == 200 and alert.line.color == ALERT_COLOUR and alert.line.dash == "dashdot"
    assert ALERT_COLOUR not in {colour for colour, _d, _t in STYLE.values()}
    assert "<i>your alert level 200</i>" in texts(fig)
    assert "set by you, not a published threshold" in alert.hovertemplate
    assert "Your alert level (not published)" in [t.name for t in fig.data]
    assert any("your alert level, set by you; not a published threshold" in t for t in texts(fig))
    assert crossings(fig, "platelets", "alert_crossings") == [
        "crossed your alert level 200 between 2 Mar and 3 Mar (below it from 3 Mar)"
    ]
    # the alert level is a line of its own, never one of the published thresholds
    assert "your alert level 200" not in lines(fig, "platelets")
    # given in the canonical unit, shown in the unit drawn (fibrinogen mg/dL → g/L)
    fib = three_days(fibrinogen=[400, 300, 200])
    si = trend_small_multiples(fib, unit_system="si", alert_levels={"fibrinogen": 250})
    (alert,) = traces(si, "fibrinogen", "alert")
    assert alert.y[0] == pytest.approx(2.5)
    with pytest.raises(ValueError, match="unknown lab"):
        trend_small_multiples(series, alert_levels={"plt": 100})


def test_no_published_percent_change_cut_off_is_drawn(fig):
    assert not any(re.search(r"\d\s*% (fall|rise|drop)", t) for t in texts(fig))
    assert any(CONSENSUS_NOTE[:60] in t.replace("<br>", " ") for t in texts(fig))


def test_unit_systems(series):
    fib = three_days(fibrinogen=[400, 300, 200])
    si = trend_small_multiples(fib, unit_system="si")
    trace = values_trace(si, "fibrinogen")
    assert trace.meta["unit"] == "g/L" and list(trace.y) == [4, 3, 2]
    assert lines(si, "fibrinogen")["2016 ≤ 3.6"].y[0] == pytest.approx(3.6)  # 360 mg/dL, display only
    us = trend_small_multiples(series, unit_system="us")
    assert values_trace(us, "platelets").meta["unit"] == "10^3/µL"
    with pytest.raises(ValueError, match="unit_system"):
        trend_small_multiples(series, unit_system="metric")


def test_one_point_series():
    one = build_series([(DAY1, {"platelets": 150, "ast": 80})], CONTEXT)
    fig = trend_small_multiples(one)
    assert panels(fig) == ["platelets", "ast"]
    assert list(values_trace(fig, "platelets").y) == [150]
    assert not traces(fig, "platelets", "segments_solid") and not traces(fig, "platelets", "crossings")
    lo, hi = fig.layout.xaxis.range
    assert lo < datetime(2026, 3, 1, 8) < hi
    assert "2016 ≤ 181" in lines(fig, "platelets")
    assert len(status_timeline(one).data[0].z[0]) == 1
    assert changes_table(one)["Change from previous"].isna().all()


def test_censored_values_are_triangles_joined_by_dotted_lines():
    capped = three_days(ferritin=[900, ">40000", 12000])
    fig = trend_small_multiples(capped)
    trace = values_trace(fig, "ferritin")
    assert list(trace.marker.symbol) == ["circle", "triangle-up", "circle"]
    assert trace.meta["censored"] == [None, ">", None]
    assert list(trace.y) == [900, 40000, 12000]
    assert not traces(fig, "ferritin", "segments_solid")
    (dotted,) = traces(fig, "ferritin", "segments_dot")
    assert dotted.line.dash == "dot" and list(dotted.y) == [900, 40000, 12000]
    assert "Reported as a bound (> or <)" in [t.name for t in fig.data]
    # a bound that decides a threshold counts (> 40 000 is > 6000), so the crossing is placed
    assert "crossed HScore > 6000 (50 pts) between 1 Mar and 2 Mar (met from 2 Mar)" in crossings(fig, "ferritin")
    assert "> 40 000" in trace.hovertext[1].replace("\u202f", " ")


def test_an_undecided_bound_is_skipped_when_placing_a_crossing():
    vague = three_days(platelets=[300, "<200", 140])  # < 200 may or may not be ≤ 181
    texts_ = crossings(trend_small_multiples(vague), "platelets")
    assert "crossed 2016 ≤ 181 between 1 Mar and 3 Mar (met from 3 Mar)" in texts_
    assert list(values_trace(trend_small_multiples(vague), "platelets").marker.symbol)[1] == "triangle-down"


def test_empty_series():
    empty = TrendResult(points=[], changes={}, first_met={})
    assert EMPTY_SERIES in texts(trend_small_multiples(empty))
    assert EMPTY_SERIES in texts(status_timeline(empty))
    assert list(changes_table(empty).columns)[: len(TABLE_COLUMNS)] == TABLE_COLUMNS


@pytest.fixture(scope="module")
def year() -> TrendResult:
    start = datetime(2025, 3, 1, 8)
    panels_ = []
    for i in range(365):
        wave = math.sin(math.pi * i / 364) ** 4
        labs = {
            "platelets": round(320 - 200 * wave + 15 * math.sin(i / 3)),
            "ferritin": ">40000" if i == 180 else round(500 + 30000 * wave, -1),
            "ast": round(30 + 200 * wave + 4 * math.cos(i)),
        }
        panels_.append(((start + timedelta(days=i)).isoformat(timespec="minutes"), labs))
    return build_series(panels_, CONTEXT)


def test_a_year_of_daily_values_stays_readable(year, fig):
    t0 = time.thread_time()  # CPU time of this thread: a loaded machine stretches wall time, not this
    big = trend_small_multiples(year, alert_levels={"platelets": 150})
    assert time.thread_time() - t0 < 2.0
    trace = values_trace(big, "platelets")
    assert len(trace.y) == 365
    sizes = list(trace.marker.size)
    assert sizes[0] > 0 and sizes[-1] > 0 and sizes[1:-1].count(0) == 363  # markers thinned out
    assert max(values_trace(big, "ferritin").marker.size) > 0  # the bound keeps its triangle
    assert len(trace.hovertext) == 365  # every value keeps its hover text
    # labels: thresholds, titles and notes only, never one per point
    big_labels = [a for a in big.layout.annotations if not (a.name or "").startswith("alert")]
    assert len(big_labels) <= len(fig.layout.annotations) + 8
    assert len(big.layout.xaxis.tickvals) <= 10
    # a value hovering around a threshold: nearby crossings share one ring whose text counts them
    assert any(" times between " in text for text in crossings(big, "ast"))
    assert len(crossings(big, "ast")) < 12


PHONE_PX = 360  # the chart's width on a 390 px phone (the page's side padding taken off)


def test_on_a_phone_the_plot_keeps_room_and_every_label_fits_the_figure(series):
    """Laid out for the phone's width, not a desktop's squeezed: the plot keeps at least 30% of
    the width (110 px: a week of panels reads), each threshold label is wrapped to its lane (a
    comparator stays with its number, "(35 pts)" stays whole), and the title's latest value sits on
    a line of its own."""
    from mas_screen.render.figures.kit import CHAR_PX
    from mas_screen.render.figures.trends_kit import LEADER_PX, LEFT_PX

    phone = trend_small_multiples(series, width=PHONE_PX)
    margin = phone.layout.margin
    assert phone.layout.width == PHONE_PX
    assert PHONE_PX - margin.l - margin.r >= 0.3 * PHONE_PX
    lane_px = margin.r - LEADER_PX
    labels = [a for a in phone.layout.annotations if a.showarrow]
    assert labels, "threshold labels are drawn"
    for a in labels:
        for line in a.text.split("<br>"):
            assert len(line) * CHAR_PX <= lane_px, line
            assert not line.endswith(("≤", "≥", "<", ">", "(")), line
    drawn = {a.text for a in labels}
    assert "HScore ≥ 2000<br>(35 pts)" in drawn
    assert "HLH-2004 ≥ 500<br>Parodi > 500" in drawn
    titles = [a for a in phone.layout.annotations if (a.text or "").startswith("<b>") and "latest" in a.text]
    assert titles and all("<br>" in a.text and a.xshift == -(LEFT_PX - 4) for a in titles)
    # the legend's longest entry wrapped too
    names = [t.name for t in phone.data if t.x == (None,)]
    assert "Crossed somewhere between these<br>two measurements" in names
    # a desktop figure is laid out as before: one line per instrument, titles on one line
    desktop = trend_small_multiples(series)
    assert "HScore ≥ 2000 (35 pts)" in texts(desktop)
    assert all("<br>" not in a.text for a in desktop.layout.annotations if (a.text or "").startswith("<b>"))


def test_on_a_phone_the_timeline_keeps_its_cells_and_leaves_the_side_words_to_the_table(series):
    phone = status_timeline(series, width=PHONE_PX)
    margin = phone.layout.margin
    assert PHONE_PX - margin.l - margin.r >= 0.4 * PHONE_PX
    assert not any(
        "first met" in (a.text or "") or "not met so far" in (a.text or "") for a in phone.layout.annotations
    )
    met = [t for t in series.first_met.values() if t is not None]
    assert len(phone.layout.shapes) == len(met) == len(status_timeline(series).layout.shapes)  # boxed as ever
    wide = status_timeline(series)
    assert any("not met so far" in (a.text or "") for a in wide.layout.annotations)


# ------------------------------------------------------------------------------- status timeline


def test_timeline_cells_symbols_and_first_met(series):
    fig = status_timeline(series)
    heat = fig.data[0]
    ids = heat.meta["ids"]
    names = [t.replace("<b>", "").replace("</b>", "") for t in fig.layout.yaxis.ticktext]
    points = series.points
    assert names == [points[0].assessment.criteria[i].short_name for i in ids]
    assert ids[0] == "mas2016"
    z_of = {"not_met": 0, "indeterminate": 1, "met": 2}
    for r, iid in enumerate(ids):
        assert list(heat.z[r]) == [z_of[p.assessment.criteria[iid].status] for p in points]
    symbols = fig.data[1]
    cells = {(round(x), y): s for x, y, s in zip(symbols.x, symbols.y, symbols.text, strict=True)}
    assert len(cells) == len(ids) * 3  # wide cells: a symbol in each
    for r, iid in enumerate(ids):
        for c, p in enumerate(points):
            assert cells[(c, r)] == STATUS_SYMBOL[p.assessment.criteria[iid].status]
    assert set(STATUS_SYMBOL.values()) == {"●", "○", "◐"}
    # hover: time, status and score / count
    hs = ids.index("hscore")
    assert "2 Mar 2026 08:00" in heat.hovertext[hs][1] and "score" in heat.hovertext[hs][1]
    # first met: boxed cell and words on the right, from result.first_met
    words = texts(fig)
    for r, iid in enumerate(ids):
        when = series.first_met.get(iid)
        if when is None:
            assert "not met so far" in words[r]
        else:
            col = [p.time for p in points].index(when)
            box = [s for s in fig.layout.shapes if s.y0 == r - 0.5]
            assert len(box) == 1 and box[0].x0 < col < box[0].x1
            assert "first met" in words[r] or "met from the start" in words[r]


def test_timeline_reads_in_greyscale():
    def grey(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    levels = sorted(grey(c) for c in STATUS_FILL.values())
    assert min(b - a for a, b in itertools.pairwise(levels)) >= 35
    assert STATUS_FILL["met"] == OKABE_ITO["vermillion"]


def test_timeline_of_a_year_has_symbols_per_run_not_per_cell(year):
    fig = status_timeline(year)
    assert len(fig.data[0].z[0]) == 365
    assert 0 < len(fig.data[1].x) < 365  # symbols once per run of equal cells
    assert len(fig.layout.xaxis.tickvals) <= 10
    first = first_met_times(year)
    assert first["mas2016"][1] is not None


# --------------------------------------------------------------------------------- changes table


def test_changes_table_numbers(series):
    table = changes_table(series)
    assert list(table.columns)[: len(TABLE_COLUMNS)] == TABLE_COLUMNS
    plt = table[table["key"] == "platelets"]
    assert list(plt["Value"]) == ["300", "220", "140"]
    assert plt["Change from first"].tolist()[1:] == [-80, -160]
    assert plt["Change from first (%)"].tolist()[1:] == [-26.7, -53.3]
    assert plt["Change from previous"].tolist()[1:] == [-80, -80]
    assert plt["Change from previous (%)"].tolist()[1:] == [-26.7, -36.4]
    assert plt["Per day"].tolist()[1:] == [-80, -80]
    assert plt["Direction"].tolist() == ["", "↓", "↓"]
    assert math.isnan(plt["Change from first"].iloc[0])
    fer = table[table["key"] == "ferritin"]
    assert fer["Change from first"].tolist()[1:] == [3100, 11100]
    assert fer["Change from first (%)"].tolist()[1:] == [344.4, 1233.3]
    assert fer["Change from previous (%)"].tolist()[1:] == [344.4, 200.0]
    assert fer["Direction"].tolist()[1:] == ["↑", "↑"]
    assert table["key"].tolist()[:3] == ["platelets"] * 3  # consensus order
    assert str(table["Time"].dtype).startswith("datetime64")
    assert table.attrs["note"] == CONSENSUS_NOTE


def test_changes_table_is_in_the_canonical_unit_whatever_was_typed():
    mixed = three_days(platelets=[{"value": 300000, "unit": "/µL"}, {"value": 220, "unit": "10^3/µL"}, 140])
    plt = changes_table(mixed).query("key == 'platelets'")
    assert plt["Value"].tolist() == ["300", "220", "140"] and set(plt["Unit"]) == {"×10⁹/L"}
    assert plt["Entered as"].tolist() == ["300000 /µL", "220 ×10³/µL", "140 ×10⁹/L"]
    assert plt["Value (number)"].tolist() == [300, 220, 140]
    # the chart too: one unit per lab, the hover says what was typed
    trace = values_trace(trend_small_multiples(mixed), "platelets")
    assert list(trace.y) == [300, 220, 140] and "entered as 300000 /µL" in trace.hovertext[0]


def test_changes_table_keeps_a_bound_as_a_bound():
    table = changes_table(three_days(ferritin=[900, ">40000", 12000]))
    fer = table[table["key"] == "ferritin"]
    assert fer["Value"].tolist() == ["900", "> 40000", "12000"]
    assert math.isnan(fer["Value (number)"].iloc[1]) and math.isnan(fer["Change from previous"].iloc[1])


# ------------------------------------------------------------------------------------------ PDF


def _patient(series: TrendResult) -> tuple[PatientInput, object]:
    patient = PatientInput.model_validate({"context": CONTEXT, "labs": {"platelets": 140, "ferritin": 12000}})
    return patient, assess(patient)


WHEN = datetime(2026, 3, 3, 9, 0)


def test_pdf_without_a_series_is_unchanged(series):
    patient, a = _patient(series)
    plain = pdf_summary(patient, a, generated_at=WHEN, compress=False)
    assert pdf_summary(patient, a, generated_at=WHEN, compress=False, series=None) == plain
    assert TREND_HEADING not in pdf_text(plain)


def test_pdf_with_a_series_adds_the_trend_page_in_words_when_no_images(series, monkeypatch):
    patient, a = _patient(series)
    monkeypatch.setattr(report, "figure_png", lambda fig, **kw: None)
    monkeypatch.setattr(trend_page, "figure_png", lambda fig, **kw: None)
    plain = pdf_summary(patient, a, generated_at=WHEN, compress=False)
    pdf = pdf_summary(patient, a, generated_at=WHEN, compress=False, series=series)
    assert page_count(pdf) == page_count(plain) + 1
    text = flat(pdf_text(pdf))
    assert TREND_HEADING in text and TIMELINE_HEADING in text
    assert "3 dated panels, 1 Mar 2026 08:00 to 3 Mar 2026 08:00" in text
    assert "no percent-change or time-window cut-off" in text
    assert "Platelets: 300 ×10⁹/L → 140 ×10⁹/L (−53% from first)" in text
    assert "Ferritin: 900 ng/mL → 12000 ng/mL (+1233% from first)" in text
    for name, when in first_met_times(series).values():
        assert f"{name}: " + (f"first met {when.day} Mar 2026 08:00" if when else "not met in this series") in text
    # the single-panel part is untouched (but for the page count in its footers)
    assert re.sub(r"page \d/\d", "", flat(pdf_text(plain))) in re.sub(r"page \d/\d", "", text)


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium for kaleido")
def test_pdf_with_a_series_includes_the_charts(series, tmp_path):
    patient, a = _patient(series)
    plain = pdf_summary(patient, a, generated_at=WHEN, compress=False)
    pdf = pdf_summary(patient, a, generated_at=WHEN, compress=False, series=series)
    assert page_count(plain) + 1 <= page_count(pdf) <= page_count(plain) + 2
    assert pdf.count(b"/Subtype /Image") == plain.count(b"/Subtype /Image") + 2
    text = flat(pdf_text(pdf))
    assert TREND_HEADING in text and TIMELINE_HEADING in text
    # the charts print at the A4 text width, laid out at the print width: labels at 8 pt or more
    widths = [float(w) for w in re.findall(rb"q ([\d.]+) 0 0 [\d.]+ [\d.]+ [\d.]+ cm /I", pdf)]
    assert len(widths) >= 2 and min(widths[-2:]) == pytest.approx(pdf_kit.A4_TEXT_W_MM / 25.4 * 72, abs=0.1)
    keys = [k for k in KEY_ANALYTES if k in lab_series(series)]
    for fig in (trend_small_multiples(series, analytes=keys, width=export.PRINT_FIGURE_WIDTH_PX),
                status_timeline(series, width=export.PRINT_FIGURE_WIDTH_PX)):  # fmt: skip
        assert min_font_px(fig) * export.print_scale_pt_per_px() >= 8.0


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium for kaleido")
def test_trend_figures_render_to_png(series, year):
    for result in (series, year):
        for fig in (trend_small_multiples(result, alert_levels={"platelets": 150}), status_timeline(result)):
            png = export.figure_png(fig, scale=1)
            assert png is not None and png.startswith(b"\x89PNG")


def test_matches_assess_series_when_it_exists():
    from mas_screen.domain.series import SeriesInput
    from mas_screen.faces.trends import assess_series

    data = {
        "context": CONTEXT,
        "panels": [
            {"time": t, "labs": labs}
            for t, labs in zip(
                (DAY1, DAY2, DAY3),
                (
                    {"platelets": 300, "ferritin": 900},
                    {"platelets": 220, "ferritin": 4000},
                    {"platelets": 140, "ferritin": ">40000"},
                ),
                strict=True,
            )
        ],
    }
    result = assess_series(SeriesInput.model_validate(data))
    fig = trend_small_multiples(result)
    assert panels(fig)[:2] == ["platelets", "ferritin"]
    assert "crossed 2016 ≤ 181 between 2 Mar and 3 Mar (met from 3 Mar)" in crossings(fig, "platelets")
    assert values_trace(fig, "ferritin").meta["censored"] == [None, None, ">"]
    assert list(values_trace(fig, "ferritin").y) == [900, 4000, 40000]
    table = changes_table(result)
    assert table[table["key"] == "platelets"]["Change from first"].tolist()[1:] == [-80, -160]
    status_timeline(result)


def test_thresholds_are_decided_on_the_value_as_typed_not_the_rounded_change():
    """trends rounds a Change to 4 significant digits (1.7615 mmol/L → 156.0 mg/dL); the rules,
    and so the rings, use the value as typed (156.02 mg/dL > 156)."""
    from mas_screen.domain.series import SeriesInput
    from mas_screen.faces.trends import assess_series

    tg = [{"value": 1.5, "unit": "mmol/L"}, {"value": 1.7615, "unit": "mmol/L"}]
    data = {
        "context": CONTEXT,
        "panels": [{"time": t, "labs": {"triglycerides": v}} for t, v in zip((DAY1, DAY2), tg, strict=True)],
    }
    result = assess_series(SeriesInput.model_validate(data))
    assert result.changes["triglycerides"][1].value == 156.0  # rounded for display by trends
    (item,) = [i for i in result.points[1].assessment.criteria["mas2016"].items if i.id == "triglycerides"]
    assert item.result == "met"  # the rule: > 156
    fig = trend_small_multiples(result)
    assert "crossed 2016 > 156 between 1 Mar and 2 Mar (met from 2 Mar)" in crossings(fig, "triglycerides")
    assert lines(fig, "triglycerides")["2016 > 156"].meta["result"] == MET


def test_the_users_own_alerts_that_fired_are_marked_as_the_users():
    from mas_screen.domain.series import SeriesInput, UserAlert
    from mas_screen.faces.trends import assess_series

    data = {
        "context": CONTEXT,
        "panels": [
            {"time": t, "labs": {"platelets": v}} for t, v in zip((DAY1, DAY2, DAY3), (300, 220, 140), strict=True)
        ],
    }
    alert = UserAlert(analyte="platelets", kind="percent_from_previous", level=-30)
    result = assess_series(SeriesInput.model_validate(data), alerts=[alert])
    fig = trend_small_multiples(result)
    (hits,) = traces(fig, "platelets", "alert_hits")
    assert list(hits.y) == [140] and hits.marker.color == ALERT_COLOUR
    assert all("user-set" in label and "not a published" in label for label in hits.meta["labels"])
    assert any("your own alert fired there" in t for t in texts(fig))


def test_a_ring_past_an_undecided_bound_sits_on_the_next_deciding_value():
    vague = three_days(ferritin=[2100, ">4000", 12000])  # > 4000 cannot tell > 6000
    fig = trend_small_multiples(vague)
    (ring,) = [
        (x, y)
        for t in traces(fig, "ferritin", "crossings")
        for x, y in zip(t.x, t.y, strict=True)
        if any("6000" in text for text in t.meta["crossings"])
    ]
    assert "crossed HScore > 6000 (50 pts) between 1 Mar and 3 Mar (met from 3 Mar)" in crossings(fig, "ferritin")
    assert fig.layout.yaxis2.type == "linear"  # 2100 → 12 000 spans less than ten-fold
    # the first value that decides > 6000 is 12 000 on 3 Mar; the interval runs from 1 Mar
    assert ring == (datetime(2026, 3, 3, 8), 12000)
    band = traces(fig, "ferritin", "crossings_intervals")[0]
    assert ["2026-03-01T08:00:00", "2026-03-03T08:00:00", 6000] in band.meta["intervals"]
