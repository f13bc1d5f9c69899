"""Practice grading of judgement: the clinical reading (against the case author, never the engine),
the population (which instruments apply), the next step (the author's ranked list) and, last and
lightest, the arithmetic of the patient's own instruments.

Expected statuses were worked out by hand from the case values (criteria-spec.md thresholds); the
grader reads them from the core, so these tests check that both agree.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mas_screen.faces.teaching.claims import compute
from mas_screen.faces.teaching.grading import (
    SKILLS,
    WEIGHTS,
    PracticeAnswer,
    grade,
    model_answer,
    own_instruments,
    ranked_next_steps,
    shuffled_next_steps,
)
from mas_screen.faces.teaching.loading import case_by_id, load_cases, read_case_text

CASES = load_cases()
EARLY = "sjia_mas_early"


def answer(**kw) -> PracticeAnswer:
    return PracticeAnswer(**kw)


# ------------------------------------------------------------------------------------------ weights


def test_weights_follow_the_order_of_clinical_importance():
    assert list(SKILLS) == ["interpretation", "population", "next_step", "arithmetic"]
    assert WEIGHTS["interpretation"] > WEIGHTS["population"] > WEIGHTS["next_step"] > WEIGHTS["arithmetic"]


def test_the_right_call_with_wrong_arithmetic_beats_perfect_arithmetic_with_the_wrong_call():
    case = case_by_id(EARLY)
    day4 = compute(case).times[-1]
    model = model_answer(case, day4)
    judgement = grade(case, model.model_copy(update={"met": set()}), day4)  # every own instrument wrong
    arithmetic = grade(case, model.model_copy(update={"reading": "flare", "next_step": "complete_hlh2004"}), day4)
    assert judgement.skills["arithmetic"].earned == 0
    assert arithmetic.skills["arithmetic"].earned == WEIGHTS["arithmetic"]
    assert judgement.earned > arithmetic.earned


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_model_answer_earns_full_credit_at_every_panel(case):
    for time in compute(case).times:
        fb = grade(case, model_answer(case, time), at_time=time)
        assert fb.earned == fb.possible == sum(WEIGHTS.values()), (time, fb.skills)
        assert fb.time == time


# ------------------------------------------------------------------------------------------ reading


def test_reading_is_judged_against_the_author_with_the_rationale():
    case = case_by_id(EARLY)
    day3 = compute(case).times[1]
    right = grade(case, answer(reading="mas"), day3)
    assert right.reading.correct is True and right.reading.score.earned == WEIGHTS["interpretation"]
    assert "direction of change" in right.reading.rationale
    assert [c.short for c in right.reading.references] == ["Ravelli 2016", "Minoia 2019", "Shimizu 2018"]
    assert right.reading.references[0].url.startswith("https://doi.org/")
    wrong = grade(case, answer(reading="flare"), day3)
    assert wrong.reading.correct is False and wrong.reading.score.earned == 0
    assert "The case author reads this panel as: MAS" in wrong.reading.explanation


def test_reading_is_never_the_engines_summary():
    """HScore exactly 169: the screen is 'suggestive' (its own instrument is met), but the author
    reads a score at the cut-off as not enough data; the engine's answer earns nothing."""
    case = case_by_id("near_miss_hscore_169")
    fb = grade(case, answer(reading="other_hlh"))
    assert fb.reading.screen_signal == "suggestive"  # shown beside the author's reading ...
    assert fb.reading.expected == "not_enough_data"  # ... never used as the key
    assert fb.reading.correct is False
    assert grade(case, answer(reading="not_enough_data")).reading.correct is True


def test_not_enough_data_is_a_legitimate_reading():
    case = case_by_id("kawasaki_mas")
    first, last = compute(case).times
    assert grade(case, answer(reading="not_enough_data"), first).reading.correct is True
    assert grade(case, answer(reading="not_enough_data"), last).reading.correct is False


def test_unanswered_reading_is_wrong_not_a_crash():
    fb = grade(case_by_id("sjia_flare"), answer())
    assert fb.reading.answered is None and fb.reading.correct is False
    assert fb.population.answered is None and fb.population.score.earned == 0
    assert fb.next_step.answered is None and fb.next_step.score.earned == 0
    assert "Not answered" in fb.population.explanation and "Not answered" in fb.next_step.explanation


def _version_1(case_id: str) -> str:
    """A library case written as version 1 (no authored answers, themes, difficulty or short labels)."""
    import yaml

    from mas_screen.faces.teaching.schema import CASES_DIR

    data = yaml.safe_load((CASES_DIR / f"{case_id}.yaml").read_text(encoding="utf-8"))
    data["source"] = "constructed for teaching"
    for key in ("themes", "difficulty"):
        data.pop(key)
    for panel in data["panels"]:
        for key in ("answer", "next_steps", "short_label"):
            panel.pop(key, None)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_a_version_1_case_is_graded_on_what_it_says():
    case = read_case_text(_version_1(EARLY), f"{EARLY}.yaml", stem=EARLY)
    assert case.version == 1
    first, _day3, last = compute(case).times
    early = grade(case, answer(reading="flare", next_step="anything"), first)
    assert early.reading.correct is None and early.reading.score.possible == 0  # no authored reading here
    assert early.next_step.score.possible == 0 and "not graded" in early.next_step.explanation
    final = grade(case, answer(reading="mas"), last)  # expected_interpretation: the case-level reading
    assert final.reading.correct is True and final.reading.rationale is None
    assert final.possible == WEIGHTS["interpretation"] + WEIGHTS["population"] + WEIGHTS["arithmetic"]


# --------------------------------------------------------------------------------------- population


def test_population_own_instruments_from_the_table():
    assert own_instruments("sjia") == own_instruments("suspected_sjia") == own_instruments("aosd")
    assert own_instruments("sjia") == ("mas2016", "ms_score")
    assert own_instruments("sle") == ("parodi2009",)
    assert own_instruments("other") == own_instruments(None) == ("hscore", "hlh2004")


def test_population_exact_partial_and_wrong():
    case = case_by_id("sjia_flare")
    exact = grade(case, answer(applies={"mas2016", "ms_score"})).population
    assert exact.correct and exact.score.earned == WEIGHTS["population"]
    # Parodi (jSLE) and OHI (adult malignancy) added: 2 of 4 chosen are right -> half credit.
    partial = grade(case, answer(applies={"mas2016", "ms_score", "parodi2009", "ohi"})).population
    assert not partial.correct and partial.extra == ["parodi2009", "ohi"]
    assert partial.score.earned == pytest.approx(WEIGHTS["population"] * 2 / 4)
    assert "built for other populations" in partial.explanation
    wrong = grade(case, answer(applies={"hscore"})).population
    assert wrong.score.earned == 0 and wrong.missed == ["mas2016", "ms_score"]


def test_every_instrument_says_why_it_does_or_does_not_apply():
    fb = grade(case_by_id("sjia_flare"), answer(applies={"mas2016"}))
    why = {r.id: r for r in fb.population.instruments}
    assert why["mas2016"].applies and why["mas2016"].chosen
    assert why["ms_score"].applies and why["ms_score"].chosen is False
    assert "it decides the screen" in why["ms_score"].why
    assert why["parodi2009"].why.startswith("Parodi 2009 (jSLE): not for this patient (a 5-year-old with systemic JIA)")
    assert "juvenile SLE" in why["parodi2009"].why
    assert "adults" in why["hscore"].why


def test_lupus_and_unknown_disease_populations():
    sle = grade(case_by_id("jsle_mas"), answer(applies={"parodi2009"})).population
    assert sle.correct and sle.own == ["parodi2009"]
    infant = grade(case_by_id("infant_phlh"), answer(applies={"hscore", "hlh2004"})).population
    assert infant.correct and "underlying disease not known" in infant.explanation


# --------------------------------------------------------------------------------------- next step


def test_next_step_best_acceptable_unhelpful():
    case = case_by_id(EARLY)
    day1 = compute(case).times[0]
    best = grade(case, answer(next_step="treat_repeat"), day1).next_step
    assert best.grade == "best" and best.score.earned == WEIGHTS["next_step"]
    assert best.explanation.startswith("Best choice.")
    # D-dimer can be right: acceptable (half credit) on day 1, as the author ranked it.
    d_dimer = grade(case, answer(next_step="d_dimer_ldh"), day1).next_step
    assert d_dimer.grade == "acceptable" and d_dimer.score.earned == WEIGHTS["next_step"] / 2
    assert "The author's best: Treat the flare" in d_dimer.explanation
    # NK-cell function on day 1 of a flare-looking picture: no credit, with the reason.
    nk = grade(case, answer(next_step="nk_function"), day1).next_step
    assert nk.grade == "unhelpful" and nk.score.earned == 0
    assert "primary HLH" in nk.explanation


def test_next_step_options_are_ranked_best_first_with_citations():
    case = case_by_id(EARLY)
    fb = grade(case, answer(), compute(case).times[1])
    grades = [o.grade for o in fb.next_step.options]
    assert grades == sorted(grades, key=["best", "acceptable", "unhelpful"].index)
    reassure = next(o for o in fb.next_step.options if o.id == "reassure")
    assert reassure.references[0].key == "shimizu2018" and "0.636" in reassure.rationale


def test_an_unknown_next_step_id_earns_nothing():
    fb = grade(case_by_id("sjia_flare"), answer(next_step="not_an_option"))
    assert fb.next_step.score.earned == 0 and fb.next_step.grade is None


def test_shuffled_next_steps_are_a_stable_permutation():
    case = case_by_id("sjia_mas_full")
    time = compute(case).times[0]
    once = [s.id for s in shuffled_next_steps(case, time)]
    assert once == [s.id for s in shuffled_next_steps(case, time)]  # the same on every rerun
    assert sorted(once) == sorted(s.id for s in ranked_next_steps(case, time))
    assert once != [s.id for s in ranked_next_steps(case, time)]  # not the author's ranking


# --------------------------------------------------------------------------------------- arithmetic


def test_arithmetic_grades_own_instruments_only_item_by_item():
    """sJIA flare (5-year-old): 2016 criteria not met (no companion), MS score about -4.5 not met.
    Ticking Parodi (met in many sJIA flares) is not graded: it is not this patient's instrument."""
    case = case_by_id("sjia_flare")
    fb = grade(case, answer(met={"parodi2009", "ms_score"}))
    graded = {f.id: f for f in fb.arithmetic.instruments}
    assert list(graded) == ["mas2016", "ms_score"]
    assert graded["mas2016"].correct and graded["mas2016"].expected_status == "not_met"
    assert not graded["ms_score"].correct
    assert graded["ms_score"].explanation == "Ticked, but the criteria are not met."
    assert fb.arithmetic.score.earned == pytest.approx(WEIGHTS["arithmetic"] / 2)
    others = {o.id: o for o in fb.arithmetic.others}
    assert set(others) == {"mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi"}
    assert others["parodi2009"].answered_met and "not for this patient" in others["parodi2009"].why
    # The item-by-item computation with rules and sources.
    ferritin = next(i for i in graded["mas2016"].items if i.id == "ferritin")
    assert (ferritin.rule, ferritin.result) == ("> 684 ng/mL", "met")
    assert ferritin.citation.key == "ravelli2016" and "doi:10.1002/art.39332" in ferritin.citation.full
    fib = next(i for i in graded["ms_score"].items if i.id == "fibrinogen")
    assert (fib.points, fib.entered, fib.value_text) == (-2.4, "6 g/L", "600 mg/dL")


def test_indeterminate_counts_as_not_met_yet():
    case = case_by_id("kawasaki_mas")  # own: HScore, HLH-2004; HLH-2004 indeterminate at the last panel
    fb = grade(case, answer(met={"hscore", "hlh2004"}))
    hlh = next(f for f in fb.arithmetic.instruments if f.id == "hlh2004")
    assert hlh.expected_status == "indeterminate" and not hlh.correct
    assert hlh.explanation.startswith("Ticked, but it cannot be met yet.")
    assert "Soluble CD25" in hlh.explanation


def test_hscore_components_are_nested():
    fb = grade(case_by_id("near_miss_hscore_169"), answer())
    hs = next(f for f in fb.arithmetic.instruments if f.id == "hscore")
    cyto = next(i for i in hs.items if i.id == "cytopenias")
    assert [c.id for c in cyto.components] == ["hemoglobin", "wbc", "platelets"]
    assert [c.result for c in cyto.components] == ["met", "met", "not_met"]
    assert cyto.points == 24


# ----------------------------------------------------------------------------------------- the rest


def test_feedback_carries_teaching_points_with_citations_and_serialises():
    case = case_by_id("il6_blunted_mas")
    fb = grade(case, answer())
    assert len(fb.teaching_points) == len(case.teaching_points)
    first = fb.teaching_points[0]
    assert first.citation.key == "schulert2018" and first.citation.full.startswith("Schulert GS")
    assert any("2016 MAS criteria" in c for c in first.claims)
    data = fb.model_dump(mode="json")
    assert data["case_id"] == "il6_blunted_mas" and set(data["skills"]) == set(SKILLS)


def test_answer_validation():
    with pytest.raises(ValidationError):
        PracticeAnswer(reading="sepsis")
    with pytest.raises(ValidationError):
        PracticeAnswer(applies={"mh_score"})  # a comparison score is never one of the deciding instruments
    with pytest.raises(ValidationError):
        PracticeAnswer(met={"hscore2"})
    assert PracticeAnswer(applies=["mas2016", "mas2016"]).applies == {"mas2016"}


def test_grading_an_unknown_panel_fails_clearly():
    with pytest.raises(KeyError, match="no panel"):
        grade(case_by_id(EARLY), answer(), at_time="2026-02-03T08:00")


def test_outside_population_mh_score_is_shown_as_not_for_this_patient():
    """Adult EBV-HLH: the MH score reaches 60 (it would favour primary HLH) but was built for children;
    the author reads other HLH, and the feedback says why the MH score is not this patient's."""
    case = case_by_id("adult_infection_shlh")
    fb = grade(case, answer(reading="primary_hlh"))
    assert fb.reading.expected == "other_hlh" and fb.reading.correct is False
    mh = next(o for o in fb.arithmetic.others if o.id == "mh_score")
    assert mh.status == "met"
    assert "never decides the screen on its own" in mh.why and "children" in mh.why
    assert "MH score is 60 or more, but it separates primary HLH" in fb.reading.rationale


def test_not_hlh_is_a_reading_an_author_can_give():
    """A mimic explained by another condition (sepsis, DRESS without HLH): the reading `not_hlh`."""
    from mas_screen.faces.teaching.schema import CASES_DIR

    text = (CASES_DIR / "adult_infection_shlh.yaml").read_text(encoding="utf-8")
    text = text.replace("reading: other_hlh", "reading: not_hlh").replace(
        "expected_interpretation: other_hlh", "expected_interpretation: not_hlh"
    )
    case = read_case_text(text, "adult_infection_shlh.yaml", stem="adult_infection_shlh")
    assert case.final_reading == "not_hlh"
    assert grade(case, answer(reading="not_hlh")).reading.correct is True
    assert grade(case, answer(reading="other_hlh")).reading.correct is False
