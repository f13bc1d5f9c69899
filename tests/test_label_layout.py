"""Threshold labels never collide (mas_screen.render.figures.label_layout), at phone, tablet and desktop widths.

The crowded cases are the ones a user met (issue 12): ferritin thresholds from 500 to 6000,
fibrinogen 131–360 and AST 30–48, where "Parodi ≤ 1.5e ≤ 2.5 (30 pts) 3.6" and
"OHI > 1000|Score > 6000" were printed on top of each other. Boxes are recomputed from the
figure's own annotations, so the test checks what plotly is asked to draw.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_screen import PatientInput, assess
from mas_screen.render.figures.kit import scale_for
from mas_screen.render.figures.label_layout import (
    GAP_PX,
    LabelBox,
    LabelSpec,
    collisions,
    layout_labels,
    text_px,
    wrap_px,
)
from mas_screen.render.figures.labs import lab_threshold_figure

# Chart widths the bedside page draws at: phone (390 px screen), tablet (820), desktop results
# column (1440), and the print/design width.
WIDTHS = (330, 358, 480, 620, 760, 1000)

CROWDED = {
    "context": {"age_years": 9, "underlying_disease": "sjia"},
    "labs": {
        "ferritin": {"value": "2500", "unit": "ng/mL"},  # thresholds 500, 684, 1000, 2000, 6000
        "fibrinogen": {"value": "300", "unit": "mg/dL"},  # 131, 150, 250, 360
        "ast": {"value": "60", "unit": "U/L"},  # 30, 40, 48
        "platelets": {"value": "150", "unit": "10^9/L"},
        "triglycerides": {"value": "140", "unit": "mg/dL"},
        "hemoglobin": {"value": "9.5", "unit": "g/dL"},
        "ldh": {"value": "900", "unit": "U/L"},
        "esr": {"value": "20", "unit": "mm/h"},
    },
}
SI = {
    "context": {"age_years": 40, "underlying_disease": "sle"},
    "labs": {
        "ferritin": {"value": "8000", "unit": "µg/L"},
        "fibrinogen": {"value": "1.4", "unit": "g/L"},  # 1.31, 1.5, 2.5, 3.6 g/L: "1.5e ≤ 2.5" case
        "ast": {"value": "35", "unit": "U/L"},
        "triglycerides": {"value": "2.5", "unit": "mmol/L"},
    },
}


def figure(data: dict, width: int) -> go.Figure:
    patient = PatientInput.model_validate(data)
    return lab_threshold_figure(patient, assess(patient), width=width)


def boxes_of(fig: go.Figure, width: int) -> dict[str, list[LabelBox]]:
    """Label boxes per row, recomputed from the annotations and the line traces (pixels)."""
    sc = scale_for(width)
    plot_px = width - sc.margin["l"] - sc.margin["r"]
    rows: dict[str, list[LabelBox]] = {}
    for trace in fig.data:
        if not (trace.meta and "value" in trace.meta):
            continue
        axis_name = "xaxis" + trace.xaxis[1:]
        axis = fig.layout[axis_name]
        lo, hi = axis.range

        def px(pos: float, lo=lo, hi=hi) -> float:
            return (pos - lo) / (hi - lo) * plot_px

        def pos_of(x: float, axis=axis) -> float:
            return math.log10(x) if axis.type == "log" else x

        lines = {
            t.name: px(pos_of(t.x[0]))
            for t in fig.data
            if t.meta and "result" in t.meta and t.xaxis == trace.xaxis and t.meta["analyte"] == trace.meta["analyte"]
        }
        line_tops = {t.name: t.y[1] for t in fig.data if t.meta and "result" in t.meta and t.xaxis == trace.xaxis}
        found = []
        for a in fig.layout.annotations:
            if a.xref != trace.xaxis or a.text.startswith("<b>"):
                continue
            parts = a.text.split("<br>")
            text_w = max(text_px(p, sc.label_font) for p in parts)
            x_px = px(a.x) + (a.xshift or 0)
            x0, x1 = (x_px - text_w, x_px) if a.xanchor == "right" else (x_px, x_px + text_w)
            level = round(a.y - (len(parts) - 1) / 2)
            line_x = None
            for name, lx in lines.items():
                if name == a.text.replace("<br>", " · ") or name.replace(" · ", "<br>") == a.text:
                    line_x = lx
                    assert line_tops[name] < level, (name, "line must stop under its label")
            if line_x is None:  # wrapped at spaces: match by the line whose top is just under it
                cands = [n for n in lines if n.replace(" ", "") == a.text.replace("<br>", "").replace(" ", "")]
                line_x = lines[cands[0]] if cands else None
            found.append(LabelBox(a.text, tuple(parts), line_x, x0, x1, level, a.xanchor))
        rows[trace.meta["analyte"]] = found
    return rows


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("data", [CROWDED, SI], ids=["us-crowded", "si-crowded"])
def test_crowded_rows_have_no_colliding_labels(data, width):
    fig = figure(data, width)
    sc = scale_for(width)
    plot_px = width - sc.margin["l"] - sc.margin["r"]
    rows = boxes_of(fig, width)
    assert {"ferritin", "fibrinogen", "ast"} <= set(rows)
    for analyte, boxes in rows.items():
        assert boxes, analyte
        assert collisions(boxes) == [], (analyte, width)
        for box in boxes:  # inside the plot (a little slack for plotly's own padding)
            assert box.x0 >= -2 and box.x1 <= plot_px + 6, (analyte, width, box.text)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_threshold_keeps_its_label_text(width):
    """Wrapping moves text to new lines; it never drops a threshold."""
    fig = figure(CROWDED, width)
    drawn = " ".join(a.text.replace("<br>", " ") for a in fig.layout.annotations)
    for t in fig.data:
        if t.meta and "result" in t.meta:
            for part in t.name.split(" · "):
                assert part in drawn.replace("  ", " "), (width, part)


def test_phone_scale_puts_row_titles_above_and_keeps_type_readable():
    sc = scale_for(358)
    assert sc.titles_above and sc.label_font >= 12 and sc.tick_font >= 12
    fig = figure(CROWDED, 358)
    titles = [a for a in fig.layout.annotations if a.text.startswith("<b>Ferritin</b>")]
    assert titles and titles[0].xanchor == "left"
    assert fig.layout.width == 358
    assert not scale_for(1000).titles_above


def test_layout_function_on_the_ferritin_cluster():
    """Direct geometry: the five ferritin thresholds on a 340 px phone plot, log axis 400–8000."""
    lo, hi = math.log10(400), math.log10(8000)
    labels = {
        500: "HLH-2004 ≥ 500 · Parodi > 500",
        684: "2016 > 684",
        1000: "OHI > 1000",
        2000: "HScore ≥ 2000 (35 pts)",
        6000: "HScore > 6000 (50 pts)",
    }
    plot = 340.0
    specs = [LabelSpec(t, (math.log10(x) - lo) / (hi - lo) * plot) for x, t in labels.items()]
    boxes = layout_labels(specs, plot, 13)
    assert collisions(boxes) == []
    assert all(b.x0 >= 0 and b.x1 <= plot for b in boxes)
    assert [b.text for b in boxes] == list(labels.values())


def test_wrap_keeps_merged_labels_whole_and_breaks_long_notes():
    assert wrap_px("HLH-2004 ≥ 500 · Parodi > 500", 13, 120) == ["HLH-2004 ≥ 500", "Parodi > 500"]
    assert wrap_px("2016 > 684", 13, 300) == ["2016 > 684"]
    long = "Ferritin:ESR ≥ 21.5: open (ferritin reported as a bound)"
    lines = wrap_px(long, 13, 200)
    assert len(lines) > 1 and " ".join(lines) == long
    assert all(text_px(line, 13) <= 200 for line in lines)


def test_text_width_errs_wide():
    # DejaVu Sans digits are 0.636 em; a 4-digit number at 15 px is about 38 px.
    assert text_px("2500", 15) >= 38
    assert text_px("Ferritin", 15) > text_px("iiii", 15)


@settings(max_examples=200, deadline=None)
@given(
    xs=st.lists(st.floats(min_value=0, max_value=400), min_size=1, max_size=9),
    words=st.lists(st.sampled_from(["2016 > 684", "HScore ≥ 2000 (35 pts)", "MH ≤ 131", "OHI > 1000"]), min_size=9),
    plot=st.sampled_from([300.0, 400.0, 800.0]),
)
def test_labels_never_overlap_whatever_the_positions(xs, words, plot):
    """Promise 1 holds for any set of lines: no two labels overlap, and each stays in the plot."""
    specs = [LabelSpec(words[i], min(x, plot)) for i, x in enumerate(xs)]
    boxes = layout_labels(specs, plot, 13)
    for i, a in enumerate(boxes):
        assert a.x0 >= 0 and a.x1 <= plot + 1e-6
        for b in boxes[i + 1 :]:
            apart = a.x1 + GAP_PX <= b.x0 + 1e-6 or b.x1 + GAP_PX <= a.x0 + 1e-6
            assert apart or a.top < b.level or b.top < a.level
