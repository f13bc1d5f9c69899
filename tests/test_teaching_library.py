"""The case browser (filters, random case from a theme, practice order), the progress file (summary
by skill and theme, download and load with limits) and the projector's screen plan."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_screen.faces.teaching.claims import compute
from mas_screen.faces.teaching.grading import PracticeAnswer, grade, model_answer
from mas_screen.faces.teaching.library import (
    CaseFilter,
    filter_cases,
    neutral_name,
    population_of,
    practice_order,
    random_case,
    themes_in,
)
from mas_screen.faces.teaching.loading import case_by_id, load_cases
from mas_screen.faces.teaching.progress import (
    MAX_PROGRESS_BYTES,
    MAX_RECORDS,
    Progress,
    ProgressError,
    dumps,
    loads,
    record,
    summarise,
)
from mas_screen.faces.teaching.stage import LAB_ROWS, STEPS_BUDGET, TEXT_BUDGET, case_screens, next_label, split_text

CASES = load_cases()


# ------------------------------------------------------------------------------------------ browser


def test_filters_by_population_theme_difficulty_and_source():
    sjia = filter_cases(CASES, CaseFilter(populations={"sjia"}))
    assert sjia and all(c.context.underlying_disease in ("sjia", "suspected_sjia") for c in sjia)
    assert {population_of(case_by_id("kawasaki_mas")), population_of(case_by_id("infant_phlh"))} == {"other"}
    dyn = filter_cases(CASES, CaseFilter(themes={"dynamics"}))
    assert dyn and all("dynamics" in c.themes for c in dyn)
    assert all(c.difficulty == 3 for c in filter_cases(CASES, CaseFilter(difficulties={3})))
    both = filter_cases(CASES, CaseFilter(populations={"aosd"}, themes={"aosd-mas"}))
    expected = [c for c in CASES if population_of(c) == "aosd" and "aosd-mas" in c.themes]
    assert "aosd_mas" in [c.id for c in both] and both == expected  # filters intersect, library order kept
    constructed = filter_cases(CASES, CaseFilter(source="constructed"))
    published = filter_cases(CASES, CaseFilter(source="published"))
    assert len(constructed) + len(published) == len(CASES)
    assert filter_cases(CASES, CaseFilter()) == CASES


def test_theme_counts_in_vocabulary_order():
    counts = themes_in(CASES)
    assert counts["near-miss"] == sum("near-miss" in c.themes for c in CASES)
    assert all(n > 0 for n in counts.values())


def test_random_case_from_a_theme_prefers_unseen_cases():
    rng = random.Random(4)
    pool = [c for c in CASES if "sjia-mas" in c.themes]
    for _ in range(20):
        c = random_case(CASES, "sjia-mas", rng=rng)
        assert c is not None and "sjia-mas" in c.themes
    seen = [c.id for c in pool[:-1]]
    assert random_case(CASES, "sjia-mas", avoid=seen, rng=rng).id == pool[-1].id
    assert random_case(CASES, "sjia-mas", avoid=[c.id for c in pool], rng=rng) in pool  # all seen: any
    assert random_case(CASES, "mis-c") is None or "mis-c" in random_case(CASES, "mis-c").themes


def test_practice_order_opens_on_an_introductory_case_in_a_child():
    first = practice_order(CASES)[0]
    assert first.difficulty == 1 and float(first.context.age_years) < 18
    assert neutral_name(first, 1).startswith("Case 1 · ")
    assert "MAS" not in neutral_name(case_by_id("sjia_mas_full"), 2)


# ----------------------------------------------------------------------------------------- progress


def _progress() -> Progress:
    progress = Progress()
    case = case_by_id("sjia_mas_early")
    for time in compute(case).times:
        progress.add(record(case, grade(case, model_answer(case, time), time)))
    flare = case_by_id("sjia_flare")
    progress.add(record(flare, grade(flare, PracticeAnswer(reading="mas", applies={"mas2016"}))))
    progress.positions["sjia_mas_early"] = 2
    return progress


def test_summary_by_skill_and_theme():
    summary = summarise(_progress().records)
    assert (summary.panels, summary.cases) == (4, 2)
    assert summary.by_skill["interpretation"].earned == 12 and summary.by_skill["interpretation"].possible == 16
    assert summary.by_skill["population"].earned == pytest.approx(9 + 1.5)
    assert summary.by_theme["sjia-flare"]["interpretation"].earned == 0
    assert summary.by_theme["dynamics"]["interpretation"].percent == 100
    # Reading 12 of 16 and next step 6 of 8 tie at 75 %: the tie goes to the weightier skill.
    assert summary.weakest_skill == "interpretation"
    assert summary.total.possible == 40


def test_a_panel_answered_again_counts_once():
    progress = _progress()
    case = case_by_id("sjia_flare")
    progress.add(record(case, grade(case, model_answer(case))))
    assert summarise(progress.records).panels == 4
    assert progress.records[-1].skills["interpretation"].earned == 4


def test_progress_file_round_trip_and_merge():
    progress = _progress()
    raw = dumps(progress)
    assert len(raw) < 10_000 and b"story" not in raw  # ids and scores only, no case text
    loaded = loads(raw)
    assert loaded == progress
    mine = Progress()
    case = case_by_id("jsle_mas")
    mine.add(record(case, grade(case, model_answer(case))))
    mine.positions["sjia_mas_early"] = 1
    merged = mine.merged(loaded)
    assert {r.case_id for r in merged.records} == {"sjia_mas_early", "sjia_flare", "jsle_mas"}
    assert merged.positions["sjia_mas_early"] == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"x" * (MAX_PROGRESS_BYTES + 1), "larger than"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[" * 100_000, "cannot be read as JSON"),
        (b'{"records": []}', "not a MAS Screen practice progress file"),
        (
            json.dumps({"format": "mas-screen-practice-progress", "records": [{"case_id": "../etc"}]}).encode(),
            "records.0",
        ),
        (
            json.dumps(
                {
                    "format": "mas-screen-practice-progress",
                    "records": [
                        {"case_id": "a", "time": "t", "skills": {"interpretation": {"earned": 1e9, "possible": 4}}}
                    ],
                }
            ).encode(),
            "less than or equal to 100",
        ),
        (
            json.dumps(
                {
                    "format": "mas-screen-practice-progress",
                    "records": [{"case_id": "a", "time": "t", "skills": {}}] * (MAX_RECORDS + 1),
                }
            ).encode(),
            "records",
        ),
    ],
)
def test_bad_progress_files_are_refused_whole(raw, message):
    with pytest.raises(ProgressError, match=message):
        loads(raw)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_bytes_either_load_or_give_a_clear_error(raw):
    try:
        loads(raw)
    except ProgressError as exc:
        assert str(exc)


# -------------------------------------------------------------------------------------------- stage


def test_split_text_keeps_sentences_and_budget():
    text = " ".join(f"Sentence number {i} says something about the case." for i in range(40))
    parts = split_text(text, 200)
    assert all(len(p) <= 200 for p in parts)
    assert " ".join(parts) == text
    assert split_text("") == [] and split_text("short") == ["short"]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .!"), max_size=3_000), st.integers(min_value=20, max_value=800))
def test_split_text_always_within_budget(text, budget):
    parts = split_text(text, budget)
    assert all(len(p) <= budget + 2 for p in parts)  # "… " marks a cut inside a sentence


def _lab_keys(case):
    keys = []
    seen: list[str] = []
    for _t, p in case.panels_in_order():
        seen += [k for k in p.labs if k not in seen]
        keys.append(list(seen))
    return keys


def test_case_screens_one_idea_each_in_order():
    case = case_by_id("sjia_mas_early")
    screens = case_screens(case, _lab_keys(case))
    kinds = [s.kind for s in screens]
    assert kinds[:3] == ["title", "story", "patient"]
    per_panel = ["labs", "labs", "reading_question", "step_question", "criteria", "reading_answer", "step_answer"]
    assert kinds[3 : 3 + len(per_panel)] == per_panel  # 12 labs: two tables of at most LAB_ROWS rows
    assert [len(s.items) for s in screens if s.kind == "labs" and s.panel == 0] == [LAB_ROWS, 12 - LAB_ROWS]
    assert kinds.count("timeline") == 2  # from the second panel on ...
    assert [s.items for s in screens if s.kind == "trend"] == [("platelets",), ("ferritin",), ("ast",)] * 2
    assert kinds.count("teaching") == len(case.teaching_points) and kinds[-1] == "objectives"
    assert len({s.key for s in screens}) == len(screens)
    assert next_label(screens[-2]) == f"Teaching point {len(case.teaching_points)}/{len(case.teaching_points)}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_screen_of_every_case_is_within_its_budget(case):
    for s in case_screens(case, _lab_keys(case)):
        if s.kind in ("story", "panel_story", "reading_answer"):
            assert len(s.items[0]) <= TEXT_BUDGET + 2
        if s.kind == "labs":
            assert len(s.items) <= LAB_ROWS
        if s.kind == "step_answer" and len(s.items) > 1:
            steps = {st_.id: st_ for st_ in case.panels_in_order()[s.panel][1].next_steps}
            assert sum(len(steps[i].text) + len(steps[i].rationale) + 40 for i in s.items) <= STEPS_BUDGET
