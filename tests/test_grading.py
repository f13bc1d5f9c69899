"""Practice-mode grading: hand-built answers against what the core computes for a case.

Expected statuses here were worked out by hand from the case values (criteria-spec.md thresholds);
the grader itself reads them from the core, so these tests check both agree.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mas_screen.cases import (
    HSCORE_BANDS,
    Answer,
    case_by_id,
    compute,
    grade,
    hscore_band,
    hscore_band_descriptions,
    input_choices,
    load_cases,
    model_answer,
)
from mas_screen.criteria_data import CONTRACT_IDS

CASES = load_cases()


def by_instrument(feedback):
    return {f.id: f for f in feedback.instruments}


# ---------------------------------------------------------------------------------------- all correct


def test_sjia_flare_all_correct_by_hand():
    """5-year-old sJIA flare: MS -4.5, ferritin:ESR 15, no companion criteria; HScore 33-68 (marrow
    missing); HLH-2004 2 met with 3 unknown (NK, sCD25, haemophagocytosis) -> indeterminate."""
    case = case_by_id("sjia_flare")
    answer = Answer(met_instruments=set(), hscore_band="<169", interpretation="flare", next_test="scd25")
    fb = grade(case, answer)
    assert (fb.correct, fb.total) == (11, 11)
    expected = {
        "mas2016": "not_met",
        "ms_score": "not_met",
        "mh_score": "not_met",
        "hscore": "not_met",
        "hlh2004": "indeterminate",
        "ferritin_esr": "not_met",
        "parodi2009": "not_met",
        "ohi": "indeterminate",
    }
    assert {f.id: f.expected_status for f in fb.instruments} == expected
    assert all(f.correct for f in fb.instruments)
    assert fb.interpretation.correct is True
    assert fb.hscore.correct is True
    assert fb.next_test.correct is True
    assert "HLH-2004" in fb.next_test.explanation


def test_full_blown_case_all_correct_with_no_next_test():
    """Every instrument decided: the right next-test answer is 'none needed'."""
    case = case_by_id("sjia_mas_full")
    met = {"mas2016", "ms_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi"}
    fb = grade(case, Answer(met_instruments=met, hscore_band=">=250", interpretation="mas", next_test=None))
    assert (fb.correct, fb.total) == (11, 11)
    assert fb.next_test.expected == []
    assert "already decided" in fb.next_test.explanation


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_model_answer_is_all_correct_at_every_panel(case):
    for time in compute(case).times:
        fb = grade(case, model_answer(case, time), at_time=time)
        assert fb.correct == fb.total, (time, [f.id for f in fb.instruments if not f.correct])
        assert fb.time == time


# ---------------------------------------------------------------------------------------- partly wrong


def test_partly_wrong_answer_item_by_item():
    case = case_by_id("sjia_flare")
    answer = Answer(
        met_instruments={"mas2016", "ferritin_esr", "hlh2004"},
        hscore_band=">=250",
        interpretation="mas",
        next_test="ferritin",
    )
    fb = grade(case, answer)
    inst = by_instrument(fb)
    # Three ticked wrongly (two not met, one indeterminate); the other five right.
    assert [i for i in CONTRACT_IDS if not inst[i].correct] == ["mas2016", "hlh2004", "ferritin_esr"]
    assert inst["mas2016"].explanation.startswith("Ticked, but the criteria are not met")
    assert inst["hlh2004"].explanation.startswith("Ticked, but it cannot be met yet")
    assert "Soluble CD25" in inst["hlh2004"].explanation
    assert (fb.hscore.correct, fb.interpretation.correct, fb.next_test.correct) == (False, False, False)
    assert (fb.correct, fb.total) == (5, 11)
    assert fb.hscore.expected == "<169"
    assert fb.interpretation.expected == "flare"
    assert "not_suggestive" in fb.interpretation.explanation
    assert "would not decide" in fb.next_test.explanation


def test_item_feedback_carries_rule_value_and_citation():
    case = case_by_id("near_miss_ferritin_684")
    fb = grade(case, Answer(met_instruments={"mas2016"}))
    mas = by_instrument(fb)["mas2016"]
    assert mas.correct is False and mas.expected_status == "not_met"
    items = {i.id: i for i in mas.items}
    ferritin = items["ferritin"]
    assert (ferritin.rule, ferritin.result, ferritin.value_text) == ("> 684 ng/mL", "not_met", "684 ng/mL")
    assert ferritin.citation_key == "ravelli2016"
    assert ferritin.citation.startswith("Ravelli A, Minoia F") and "doi:10.1002/art.39332" in ferritin.citation
    assert items["platelets"].rule == "≤ 181 ×10⁹/L" and items["platelets"].result == "met"
    assert mas.score_text == "4 criteria met (4 assessable)"
    assert any("not diagnostic criteria" in c for c in mas.caveats)
    assert mas.citations[0].startswith("Ravelli A")


def test_component_items_are_nested():
    case = case_by_id("near_miss_hscore_169")
    hs = by_instrument(grade(case, Answer()))["hscore"]
    cyto = next(i for i in hs.items if i.id == "cytopenias")
    assert [c.id for c in cyto.components] == ["hemoglobin", "wbc", "platelets"]
    assert [c.result for c in cyto.components] == ["met", "met", "not_met"]
    assert cyto.components[0].rule == "≤ 9.2 g/dL"
    assert cyto.points == 24


def test_unanswered_questions_are_wrong_not_crashes():
    case = case_by_id("near_miss_hscore_169")
    fb = grade(case, Answer())
    assert fb.hscore.answered is None and fb.hscore.correct is False
    assert fb.interpretation.answered is None and fb.interpretation.correct is False
    assert fb.next_test.answered is None and fb.next_test.correct is False
    assert "still undecided" in fb.next_test.explanation
    # Nothing ticked: right for every instrument that is not met (here HScore, 2016, MS score and
    # ferritin:ESR are met).
    assert {f.id for f in fb.instruments if not f.correct} == {"mas2016", "ms_score", "hscore", "ferritin_esr"}


# -------------------------------------------------------------------------------------------- unsure


def test_unsure_is_right_when_the_data_do_not_decide():
    case = case_by_id("kawasaki_mas")
    first = compute(case).times[0]
    fb = grade(case, Answer(interpretation="unsure"), at_time=first)
    assert fb.interpretation.expected == "unsure"
    assert fb.interpretation.correct is True
    assert fb.interpretation.mas_signal == "insufficient_data"


def test_unsure_is_wrong_when_the_screen_decides():
    case = case_by_id("kawasaki_mas")
    fb = grade(case, Answer(interpretation="unsure"))
    assert fb.interpretation.expected == "mas"
    assert fb.interpretation.correct is False
    assert "answered 'unsure'" in fb.interpretation.explanation


# ------------------------------------------------------------------------------------ time points


def test_grading_at_an_earlier_panel_uses_that_panel():
    case = case_by_id("sjia_mas_early")
    fb = grade(case, Answer(interpretation="flare"), at_time="2026-02-02T08:00")
    assert by_instrument(fb)["mas2016"].expected_status == "not_met"
    assert fb.interpretation.correct is True
    later = grade(case, Answer(interpretation="flare"))
    assert by_instrument(later)["mas2016"].expected_status == "met"
    assert later.interpretation.correct is False
    with pytest.raises(KeyError):
        grade(case, Answer(), at_time="2026-02-03T08:00")


def test_panel_context_overrides_are_used_when_grading():
    """The marrow result arrives on day 3: HScore complete (299, >99%) only then."""
    case = case_by_id("adult_infection_shlh")
    first = grade(case, Answer(hscore_band=">=250"), at_time="first")
    assert first.hscore.correct is True and first.hscore.probability is None
    assert "range" in first.hscore.score_text
    last = grade(case, Answer(hscore_band=">=250"))
    assert last.hscore.probability == ">99%"


def test_outside_population_phlh_signal_is_explained():
    case = case_by_id("adult_infection_shlh")
    fb = grade(case, Answer(interpretation="phlh"))
    assert fb.interpretation.phlh_signal == "favours_phlh"
    assert fb.interpretation.expected == "other_hlh"
    assert fb.interpretation.correct is False
    assert "outside its population" in fb.interpretation.explanation


# ---------------------------------------------------------------------------------------- HScore bands


def test_hscore_bands_hand_worked():
    last = {c.id: compute(c).last.criteria["hscore"] for c in CASES}
    assert hscore_band(last["near_miss_hscore_169"]) == "169-199"  # exactly 169
    assert hscore_band(last["adult_infection_shlh"]) == ">=250"  # 299
    assert hscore_band(last["aosd_flare"]) == "<169"  # range 110-145: inside one band
    assert hscore_band(last["jsle_mas"]) == "cannot_tell"  # range 236-271 crosses 250
    assert hscore_band(last["il6_blunted_mas"]) == "cannot_tell"  # range 135-170 crosses 169
    first_adult = compute(case_by_id("adult_infection_shlh")).trend.points[0].assessment.criteria["hscore"]
    assert hscore_band(first_adult) == ">=250"  # range 264-299: inside one band


def test_hscore_band_descriptions_read_the_published_table():
    d = hscore_band_descriptions()
    assert set(d) == set(HSCORE_BANDS) | {"cannot_tell"}
    assert d["<169"] == "HScore 0–168: probability <1% to 40–54%"
    assert d["169-199"] == "HScore 169–199: probability 40–54% to 80–88%"
    assert d["200-249"] == "HScore 200–249: probability 88% to ≥99%"
    assert d[">=250"] == "HScore ≥ 250: probability >99%"


# --------------------------------------------------------------------------------------- next test


def test_next_test_in_the_computed_list_is_right():
    case = case_by_id("kawasaki_mas")
    fb = grade(case, Answer(next_test="nk_activity_low"))
    assert fb.next_test.correct is True
    assert "nk_activity_low" in fb.next_test.expected
    assert "HLH-2004" in fb.next_test.explanation
    assert fb.next_test.answered_label == "Low or absent NK-cell activity"


def test_naming_a_test_when_nothing_is_undecided_is_wrong():
    case = case_by_id("sjia_mas_full")
    fb = grade(case, Answer(next_test="ferritin"))
    assert fb.next_test.correct is False
    assert "would not change any result" in fb.next_test.explanation


# ---------------------------------------------------------------------------------- teaching points


def test_feedback_carries_teaching_points_with_citations():
    case = case_by_id("il6_blunted_mas")
    fb = grade(case, Answer())
    assert len(fb.teaching_points) == len(case.teaching_points)
    first = fb.teaching_points[0]
    assert first.citation_key == "schulert2018"
    assert first.citation.startswith("Schulert GS")
    assert any("2016 MAS criteria" in c for c in first.claims)
    assert fb.learning_objectives == case.learning_objectives


# ------------------------------------------------------------------------------------- answer model


def test_answer_validation():
    with pytest.raises(ValidationError, match="not an input key"):
        Answer(next_test="bone_marrow")
    with pytest.raises(ValidationError):
        Answer(met_instruments={"hscore2"})
    with pytest.raises(ValidationError):
        Answer(hscore_band="170-199")
    with pytest.raises(ValidationError):
        Answer(interpretation="sepsis")
    assert Answer(met_instruments=["mas2016", "mas2016"]).met_instruments == {"mas2016"}


def test_input_choices_cover_labs_and_context():
    choices = input_choices()
    assert choices["ferritin"] == "Ferritin"
    assert "hemophagocytosis_marrow" in choices and "hlh_molecular_diagnosis" in choices
    for key in choices:
        Answer(next_test=key)


def test_feedback_serialises():
    fb = grade(case_by_id("jsle_mas"), model_answer(case_by_id("jsle_mas")))
    data = fb.model_dump(mode="json")
    assert data["case_id"] == "jsle_mas" and data["correct"] == data["total"]
