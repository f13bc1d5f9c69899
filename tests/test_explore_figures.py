"""Distance-to-threshold chart (mas_screen.render.figures.explore): rows worked by hand from the
criteria thresholds, the cap, the baseline and flip marks, colours and fonts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import plotly.graph_objects as go
import pytest

from mas_screen import PatientInput
from mas_screen.faces.explore import distances, replace_input
from mas_screen.render.figures.explore import (
    CAP_PERCENT,
    EMPTY_DISTANCES,
    HOLDS_COLOUR,
    NOT_HOLDS_COLOUR,
    distance_figure,
    distance_fits,
    distance_rows,
)
from mas_screen.render.figures.kit import OKABE_ITO

SJIA = {"febrile": True, "underlying_disease": "sjia"}
# Worked example 2c (criteria-spec.md): every companion on or one unit from its threshold.
EXAMPLE_2C = {"ferritin": 685, "platelets": 181, "ast": 48, "triglycerides": 156, "fibrinogen": 360}


def patient(labs: dict, **context) -> PatientInput:
    return PatientInput.model_validate({"context": context, "labs": labs})


def rows_by_key(rows):
    return {(r.key[0], r.key[1], r.key[3]): r for r in rows}


def test_rows_worked_example_2c():
    """Ferritin 685 vs > 684: +1 ng/mL = 0.15 % of 684, the rule holds. Platelets 181 vs ≤ 181: on the
    threshold and holding. AST 48 vs > 48: on the threshold and not holding (bar of length 0 on the
    'does not hold' side). Fibrinogen 360 vs ≤ 360 holds."""
    rows = rows_by_key(distance_rows(distances(patient(EXAMPLE_2C, **SJIA)), instruments=["mas2016"]))
    ferritin = rows[("mas2016", "ferritin", 684)]
    assert (ferritin.margin_percent, ferritin.x, ferritin.capped, ferritin.satisfied) == (0.15, 0.15, False, True)
    assert ferritin.value_text == "685 ng/mL: 1 above"
    assert ferritin.label == "Ferritin (mandatory)  > 684 ng/mL"
    platelets = rows[("mas2016", "platelets", 181)]
    assert (platelets.margin_percent, platelets.satisfied) == (0.0, True)
    assert platelets.value_text == "181 ×10⁹/L: exactly at the threshold"
    ast_row = rows[("mas2016", "ast", 48)]
    assert (ast_row.margin_percent, ast_row.satisfied) == (0.0, False)
    assert {r.key[0] for r in rows.values()} == {"mas2016"}
    assert len(rows) == 5


def test_sign_follows_the_rule_not_the_direction():
    """Platelets 205 vs ≤ 181: 24 above = 13.26 % of 181, and the rule does not hold → −13.26.
    Triglycerides 148 vs > 156: 8 below = 5.13 %, does not hold → −5.13. AST 66 vs > 48: 18 above
    = 37.5 %, holds → +37.5."""
    p = patient({"platelets": 205, "triglycerides": 148, "ast": 66}, **SJIA)
    rows = rows_by_key(distance_rows(distances(p), instruments=["mas2016"]))
    assert rows[("mas2016", "platelets", 181)].margin_percent == -13.26
    assert rows[("mas2016", "platelets", 181)].value_text == "205 ×10⁹/L: 24 above"
    assert rows[("mas2016", "triglycerides", 156)].margin_percent == -5.13
    assert rows[("mas2016", "triglycerides", 156)].value_text == "148 mg/dL: 8 below"
    assert rows[("mas2016", "ast", 48)].margin_percent == 37.5


def test_far_values_are_capped_and_say_so():
    """Ferritin 9800 vs > 684 is 1332.75 % above: drawn at the cap, the number stays exact."""
    rows = rows_by_key(distance_rows(distances(patient({"ferritin": 9800}, **SJIA)), instruments=["mas2016"]))
    row = rows[("mas2016", "ferritin", 684)]
    assert (row.margin_percent, row.x, row.capped) == (1332.75, CAP_PERCENT, True)
    assert row.value_text == "9800 ng/mL: 9116 above"
    fig = distance_figure(distances(patient({"ferritin": 9800}, **SJIA)), instruments=["mas2016"])
    capped = [t for t in fig.data if (t.meta or {}).get("kind") == "capped"]
    assert len(capped) == 1 and list(capped[0].marker.symbol) == ["triangle-right"]


def test_published_unit_for_hscore_bands_and_points_in_the_label():
    """HScore triglyceride bands are in mmol/L: 156 mg/dL = 1.761 mmol/L, above the 1.5 edge (44 points)."""
    rows = rows_by_key(distance_rows(distances(patient(EXAMPLE_2C, **SJIA)), instruments=["hscore"]))
    tg = rows[("hscore", "triglycerides", 1.5)]
    assert tg.label == "Triglycerides  ≥ 1.5 mmol/L (44 pts)"
    assert tg.value_text == "1.76 mmol/L: 0.261 above"
    assert tg.satisfied


def test_scores_against_cut_offs_use_two_decimals_and_a_true_minus():
    """MS score exactly −2.1 (the near-miss case): on the cut-off, the rule (≥) holds."""
    from mas_screen.faces.teaching.loading import case_by_id

    case = case_by_id("near_miss_ms_score")
    p = PatientInput.model_validate({"context": case.context.model_dump(), "labs": case.panels[0].labs})
    rows = rows_by_key(distance_rows(distances(p), instruments=["ms_score"]))
    ms = rows[("ms_score", None, -2.1)]
    assert ms.label == "Score  ≥ −2.1"
    assert ms.value_text == "−2.1: exactly at the cut-off"
    assert (ms.margin_percent, ms.satisfied) == (0.0, True)


def test_baseline_marks_moved_rows_and_flips():
    """Platelets 205 → 170 crosses ≤ 181 (flip); ferritin unchanged: no start marker, no flip."""
    start = patient({"ferritin": 2500, "platelets": 205}, **SJIA)
    now = replace_input(start, "platelets", 170)
    rows = rows_by_key(distance_rows(distances(now), baseline=distances(start), instruments=["mas2016"]))
    plt = rows[("mas2016", "platelets", 181)]
    assert plt.flipped and plt.label.startswith("⇄ ")
    assert plt.baseline_x == -13.26  # where it started (205 vs 181)
    assert plt.margin_percent == pytest.approx(6.08)  # 11 / 181 = 6.08 %
    ferritin = rows[("mas2016", "ferritin", 684)]
    assert not ferritin.flipped and ferritin.baseline_x is None

    fig = distance_figure(distances(now), baseline=distances(start), instruments=["mas2016"])
    base = [t for t in fig.data if (t.meta or {}).get("kind") == "baseline"]
    assert len(base) == 1 and list(base[0].x) == [-13.26]
    highlighted = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(highlighted) == 1  # the flipped row only
    ticks = list(fig.layout.yaxis.ticktext)
    assert "<b>⇄ Platelet count  ≤ 181 ×10⁹/L</b>" in ticks


def test_a_value_entered_only_now_has_no_start_marker():
    start = patient({"ferritin": 2500}, **SJIA)
    now = replace_input(start, "platelets", 150)
    rows = rows_by_key(distance_rows(distances(now), baseline=distances(start), instruments=["mas2016"]))
    assert rows[("mas2016", "platelets", 181)].baseline_x is None
    assert not rows[("mas2016", "platelets", 181)].flipped


def test_figure_bars_colours_and_groups():
    fig = distance_figure(distances(patient(EXAMPLE_2C, **SJIA)), instruments=["mas2016", "ms_score"])
    bars = {t.name: t for t in fig.data if isinstance(t, go.Bar)}
    holds, not_holds = bars["Rule holds"], bars["Rule does not hold"]
    assert holds.marker.color == HOLDS_COLOUR == OKABE_ITO["vermillion"]
    assert not_holds.marker.line.color == NOT_HOLDS_COLOUR == OKABE_ITO["blue"]
    assert not_holds.marker.pattern.shape == "/"  # hatched: reads without colour
    assert [k[1] for k in holds.meta["keys"]] == ["ferritin", "platelets", "fibrinogen"]
    assert [k[1] for k in not_holds.meta["keys"]] == ["ast", "triglycerides"]
    texts = [a.text for a in fig.layout.annotations]
    # The MS score needs LDH and three yes/no answers: not computable, so it has no row (and no header).
    assert "<b>2016 MAS criteria</b>" in texts and "<b>MS score</b>" not in texts
    assert fig.layout.xaxis.range[0] < -CAP_PERCENT and fig.layout.xaxis.range[1] > CAP_PERCENT
    assert list(fig.layout.xaxis.ticktext) == ["100 %", "50 %", "threshold", "50 %", "100 %"]


def test_fonts_are_large_and_local():
    fig = distance_figure(distances(patient(EXAMPLE_2C, **SJIA)))
    assert fig.layout.font.size >= 16
    assert fig.layout.yaxis.tickfont.size >= 14 and fig.layout.xaxis.tickfont.size >= 14
    assert all((a.font.size or 0) >= 12 for a in fig.layout.annotations)
    assert "DejaVu" in fig.layout.font.family  # installed locally: no web font


def test_every_instrument_by_default_in_order():
    fig = distance_figure(distances(patient(EXAMPLE_2C, **SJIA)))
    headers = [a.text for a in fig.layout.annotations if a.text.startswith("<b>") and a.xanchor == "left"]
    assert headers[:3] == ["<b>2016 MAS criteria</b>", "<b>MH score</b>", "<b>HScore</b>"]
    assert fig.layout.height > 600  # every row has its 30 px


def test_empty_without_values():
    fig = distance_figure(distances(patient({}, **SJIA)))
    assert fig.layout.annotations[0].text == EMPTY_DISTANCES
    assert distance_rows([]) == []


def test_module_is_pure_core():
    """A core module: plotly and the core only, never Streamlit."""
    source = Path(__file__).resolve().parents[1] / "mas_screen" / "render" / "figures" / "explore.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert "streamlit" not in imported


def test_the_chart_is_drawn_only_where_its_words_fit():
    """Below the width where the rules (left) and the values (right) leave the bars 38 % of it, a
    face shows the rows as a list: the chart's words would be cut (a phone, a tablet)."""
    rows = distance_rows(distances(patient(EXAMPLE_2C, **SJIA)))
    assert distance_fits(rows, 1150)  # the desktop chart, as drawn before
    assert not distance_fits(rows, 760) and not distance_fits(rows, 360)
    assert distance_fits([], 360)  # nothing to draw: the chart's empty message
