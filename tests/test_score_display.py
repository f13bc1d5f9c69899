"""Scores as readers see them: MS score at 2 dp (contract), never blurred across its cut-off."""

from __future__ import annotations

import pytest

from mas_screen import PatientInput, assess
from mas_screen.explain.score_display import minus, shown_score
from mas_screen.render.text import render_text


def ms(score: float, status: str):
    base = assess(PatientInput()).criteria["ms_score"]
    return base.model_copy(update={"score": score, "status": status})


@pytest.mark.parametrize(
    ("score", "status", "shown"),
    [
        (-2.7175, "not_met", "−2.72"),
        (-1.45, "met", "−1.45"),
        (-2.1, "met", "−2.10"),  # on the cut-off: met (≥)
        (-2.1049, "not_met", "−2.1049"),  # 2 dp would read −2.10, which looks met
        (-2.0951, "met", "−2.10"),  # 2 dp stays on the met side
        (-2.105, "not_met", "−2.11"),  # half away from zero: −2.11, still below like the score
        (0.005, "met", "0.01"),
        (3.0, "met", "3.00"),
    ],
)
def test_ms_score_two_places_unless_that_blurs_the_cut_off(score, status, shown):
    assert shown_score(ms(score, status)) == shown


def test_other_scores_are_shown_as_computed():
    a = assess(PatientInput.model_validate({"labs": {"ferritin": {"value": 5000}, "esr": {"value": 7}}}))
    assert shown_score(a.criteria["ferritin_esr"]) == "714.29"
    assert shown_score(a.criteria["hscore"]) is None  # a range, not a single score


def test_minus_sign():
    assert minus("-2.1") == "−2.1"
    assert minus("cut-off ≥ -2.1") == "cut-off ≥ −2.1"
    assert minus("well-known") == "well-known"


def test_text_report_uses_two_places():
    a = assess(
        PatientInput.model_validate(
            {
                "context": {"cns_involvement": False, "hemorrhagic_manifestations": False, "active_arthritis": True},
                "labs": {
                    "platelets": {"value": 150},
                    "ldh": {"value": 800},
                    "fibrinogen": {"value": 250},
                    "ferritin": {"value": 5001},
                },
            }
        )
    )
    assert a.criteria["ms_score"].score == -1.4499  # JSON keeps the 4-dp score
    assert "score −1.45" in render_text(a)
