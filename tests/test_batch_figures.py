"""Cohort score histograms: cut-offs from the criteria data, bars split exactly at them, honest counts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mas_screen.criteria.loading import criteria
from mas_screen.faces.cohort import screen_frame
from mas_screen.render.figures.cohort import (
    TARGET_BARS,
    bin_step,
    bins,
    cohort_score_figure,
    cutoff_lines,
    drawn,
    meets,
    open_summary,
    score_histogram,
)
from mas_screen.render.figures.kit import OKABE_ITO
from mas_screen.ui.batch_demo import demo_cohort


def spec(iid: str):
    return criteria().instruments[iid]


def test_the_core_module_does_not_import_streamlit():
    code = "import sys, mas_screen.render.figures.cohort; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("iid", ["hscore", "ms_score"])  # policy.yaml cohort_scores
def test_cutoffs_come_from_the_criteria_data(iid):
    lines = cutoff_lines(iid)
    main = [c for c in lines if c.main]
    assert len(main) == 1
    assert main[0].value == spec(iid).cutoff.value
    assert main[0].comparator == spec(iid).cutoff.comparator
    assert main[0].source == spec(iid).cutoff.source
    extra = [c for c in lines if not c.main]
    assert [(c.value, c.source) for c in extra] == [
        (cut.value, cut.source) for cut in spec(iid).additional_cutoffs if drawn(cut)
    ]


def test_ms_score_draws_the_aosd_cutoff_and_hscore_skips_an_unconfirmed_one():
    ms = {c.value: c for c in cutoff_lines("ms_score")}
    aosd = next(c for c in spec("ms_score").additional_cutoffs if c.applies_to_diseases == ["aosd"])
    assert aosd.value in ms and not ms[aosd.value].main
    assert aosd.label in ms[aosd.value].text
    # An additional cut-off marked UNCONFIRMED, or applying to no population, is never drawn.
    for cut in spec("hscore").additional_cutoffs:
        if not cut.confirmation.startswith("CONFIRMED") or cut.applies_to_diseases == []:
            assert cut.value not in {c.value for c in cutoff_lines("hscore")}


def test_labels_use_the_published_comparator_and_a_true_minus():
    (hs,) = [c for c in cutoff_lines("hscore") if c.main]
    assert hs.text == f"cut-off ≥ {spec('hscore').cutoff.value}"
    ms = next(c for c in cutoff_lines("ms_score") if c.main)
    assert "−" in ms.text and "-" not in ms.text.replace("sJIA", "")


@pytest.mark.parametrize(
    ("comparator", "inside"),
    [(">=", True), (">", False), ("<=", True), ("<", False)],
)
def test_a_value_at_the_cutoff_falls_on_the_side_its_comparison_says(comparator, inside):
    cut, step = -2.1, 0.5
    values = np.array([cut, np.nextafter(cut, -np.inf), np.nextafter(cut, np.inf)])
    index = bins(values, cut, step, comparator)
    hit = meets(values, comparator, cut)
    assert bool(hit[0]) is inside
    # Bars never straddle the cut-off: bar >= 0 lies wholly above it, bar < 0 wholly below.
    above = index >= 0
    assert list(above) == [(v >= cut) if comparator in (">=", "<") else (v > cut) for v in values]


def test_bar_width_keeps_the_range_within_the_target():
    for values, base in ((np.array([0, 337.0]), 1.0), (np.array([-8.4, 41.8]), 0.1), (np.array([5.0, 5.0]), 1.0)):
        step = bin_step(values, base)
        assert (values.max() - values.min()) / step <= TARGET_BARS
        assert step >= base


def words(fig) -> str:
    """Every annotation's text, wrapped lines joined again."""
    return " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")


def traces(fig) -> dict[str, tuple[list[int], str]]:
    return {t.name: (list(t.y), t.marker.color) for t in fig.data}


def test_histogram_splits_at_the_cutoff_and_counts_every_score():
    cut = spec("hscore").cutoff.value
    scores = [cut - 40, cut - 1, cut, cut, cut + 50]
    fig = score_histogram(scores, "hscore", open_status={"met": 2, "not_met": 3, "indeterminate": 4})
    found = traces(fig)
    below = next(v for k, v in found.items() if k.startswith("HScore <"))
    above = next(v for k, v in found.items() if k.startswith("HScore ≥"))
    assert sum(below[0]) == 2 and sum(above[0]) == 3
    assert below[1] == OKABE_ITO["blue"] and above[1] == OKABE_ITO["vermillion"]
    assert any("(n = 3)" in k for k in found)
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert [s.x0 for s in lines] == [cut]
    texts = words(fig)
    assert f"cut-off ≥ {cut}" in texts
    assert "Fardet 2014" in texts
    assert "5 row(s) with a complete score" in texts
    assert "9 open score(s)" in texts and "2 met and 3 not met" in texts and "4 undecided" in texts


def test_ms_score_histogram_marks_both_cutoffs_in_their_own_styles():
    fig = score_histogram([-4.2, -2.1, -1.9, 0.5, 3.3], "ms_score")
    lines = sorted((s for s in fig.layout.shapes if s.type == "line"), key=lambda s: s.x0)
    values = sorted(c.value for c in cutoff_lines("ms_score"))
    assert [s.x0 for s in lines] == values
    assert {s.line.dash for s in lines} == {"solid", "dash"}
    low, high = fig.layout.xaxis.range
    assert low < min(values) and high > max(values)
    labels = [a for a in fig.layout.annotations if a.xref == "x"]
    assert {a.xanchor for a in labels} == {"left", "right"}  # close lines: labels point away from each other
    assert len({a.yshift for a in labels}) == 2  # and sit on two rows


def test_no_complete_score_is_said_not_drawn():
    fig = score_histogram([], "hscore", open_status={"indeterminate": 7})
    assert not fig.data
    text = words(fig)
    assert "No row has a complete HScore" in text and "7 open score(s)" in text


def test_open_summary_words():
    assert open_summary({}) == ""
    assert open_summary({"indeterminate": 3}).endswith("3 undecided")
    assert "1 met and 0 not met whatever the missing inputs" in open_summary({"met": 1})


@pytest.mark.parametrize("iid", ["hscore", "ms_score"])  # policy.yaml cohort_scores
def test_cohort_figure_agrees_with_the_status_column(iid):
    screened = screen_frame(demo_cohort())
    fig = cohort_score_figure(screened, iid)
    complete = screened[screened[f"{iid}_score"].notna()]
    assert len(complete) > 5, "the demo cohort has complete scores to draw"
    found = traces(fig)
    met = sum(next(v for k, v in found.items() if "≥" in k)[0])
    not_met = sum(next(v for k, v in found.items() if "<" in k)[0])
    statuses = complete[f"{iid}_status"].astype("str")
    assert met == int((statuses == "met").sum())
    assert not_met == int((statuses == "not_met").sum())
    open_rows = len(screened) - len(complete)
    assert f"{open_rows:,} open score(s)" in words(fig)


def test_integer_y_ticks():
    fig = score_histogram([170, 171, 172], "hscore")
    assert fig.layout.yaxis.tick0 == 0 and float(fig.layout.yaxis.dtick).is_integer()


def test_scores_may_come_as_a_nullable_series():
    series = pd.Series([169, None, 100], dtype="Int64").dropna()
    fig = score_histogram(series.to_numpy(dtype=float), "hscore")
    assert sum(sum(t.y) for t in fig.data) == 2
