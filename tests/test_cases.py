"""Teaching cases (cases/**/*.yaml): every case loads (schema version 2) and computes, every claim its
teaching points rely on agrees with what the core computes, every citation resolves, near-miss values
sit exactly on their thresholds, a published case holds the paper's values as published, and every
panel carries the author's reading and ranked next steps.

Parametrised over the folder, so every case added to cases/ is covered.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from mas_screen.criteria.loading import criteria
from mas_screen.faces.teaching.check import check_folder
from mas_screen.faces.teaching.claims import (
    INTERPRETATION_RULE,
    case_series,
    check_case,
    check_claims,
    compute,
    derive_interpretation,
    near_miss_check,
    published_value_problems,
    warning_codes,
)
from mas_screen.faces.teaching.loading import case_by_id, case_files, load_case_file, load_cases
from mas_screen.faces.teaching.schema import CASES_DIR, CaseDataError, Claim, PublishedSource

CASES = load_cases()
IDS = [c.id for c in CASES]


def by_id(case_id: str):
    return case_by_id(case_id)


# ------------------------------------------------------------------------------------- the library


def test_library_size_and_unique_ids():
    assert len(CASES) >= 40
    assert len(set(IDS)) == len(IDS)
    assert sorted(p.stem for p in case_files(CASES_DIR)) == sorted(IDS)


def test_library_shape_asked_for_by_issue_16():
    """>= 15 adapted from published reports (each with a DOI), >= 12 with three or more panels, near
    misses kept but no more than a quarter of the library."""
    published = [c for c in CASES if c.published]
    assert len(published) >= 15 and all(c.source_doi for c in published)
    assert sum(len(c.panels) >= 3 for c in CASES) >= 12
    near = [c for c in CASES if "near-miss" in c.themes or "near-miss" in c.tags or c.near_miss]
    assert 0 < len(near) <= len(CASES) / 4


def test_published_cases_cover_the_scenarios_of_issue_16():
    """sJIA-MAS, AOSD-MAS, jSLE-MAS, Kawasaki, MAS under IL-1/IL-6 blockade, primary HLH in a child
    under 2, EBV/infection HLH, malignancy HLH, sepsis or other mimics, MIS-C, DRESS, an sJIA flare."""
    published = [c for c in CASES if c.published]
    themes = {t for c in published for t in c.themes}
    assert {
        "sjia-mas",
        "aosd-mas",
        "jsle-mas",
        "kawasaki",
        "biologic-blunted",
        "primary-hlh",
        "infection-hlh",
        "malignancy-hlh",
        "sepsis-mimic",
        "mis-c",
        "drug-reaction",
        "sjia-flare",
    } <= themes
    assert any("primary-hlh" in c.themes and float(c.context.age_years) < 2 for c in published)
    assert any(c.final_reading == "not_hlh" for c in published)  # a mimic without a haemophagocytic syndrome


def test_library_covers_the_required_scenarios():
    """The issue's list, checked on the cases' computed results, not their titles."""

    def last(case):
        return compute(case).last

    def disease(case):
        return case.context.underlying_disease

    sjia = [c for c in CASES if disease(c) in ("sjia", "suspected_sjia")]
    # Early sJIA-MAS: a multi-panel course where the 2016 criteria are met only on a later panel.
    early = [
        c
        for c in sjia
        if len(c.panels) > 1
        and compute(c).trend.first_met["mas2016"] not in (None, compute(c).times[0])
        and last(c).criteria["mas2016"].status == "met"
    ]
    assert early
    # Full-blown sJIA-MAS: a single panel meeting the 2016 criteria with all four companions.
    assert any(
        len(c.panels) == 1
        and last(c).criteria["mas2016"].status == "met"
        and last(c).criteria["mas2016"].count_met == 4
        for c in sjia
    )
    # sJIA flare without MAS.
    assert any(last(c).summary.mas_signal == "not_suggestive" and c.final_reading == "flare" for c in sjia)
    aosd = [c for c in CASES if disease(c) == "aosd"]
    assert any(c.final_reading == "mas" for c in aosd)
    assert any(c.final_reading == "flare" for c in aosd)
    # AOSD cases show the AOSD MS-score cut-off beside the derivation cut-off.
    for c in aosd:
        extra = last(c).criteria["ms_score"].additional_cutoffs
        assert [a.cutoff for a in extra] == [-1.74]
    # jSLE-MAS meets Parodi 2009.
    assert any(disease(c) == "sle" and last(c).criteria["parodi2009"].status == "met" for c in CASES)
    # MAS under IL-6 blockade: not febrile, low ferritin, the 2016 criteria under-call it.
    il6 = [c for c in CASES if c.context.biologic_therapy == "il6"]
    assert il6
    for c in il6:
        assert c.context.febrile is False
        r = last(c).criteria["mas2016"]
        assert r.status == "not_met"
        assert next(i for i in r.items if i.id == "ferritin").result == "not_met"
        assert any("tocilizumab" in cav for cav in r.caveats)
        assert c.final_reading == "mas"
    # Primary HLH in an infant: MH score >= 60.
    assert any(
        c.context.age_years is not None
        and c.context.age_years < 1
        and last(c).criteria["mh_score"].status == "met"
        and last(c).criteria["mh_score"].score >= 60
        for c in CASES
    )
    # Infection-triggered secondary HLH in an adult: HScore high.
    assert any(
        c.driver == "infection"
        and c.context.age_years >= 18
        and last(c).criteria["hscore"].status == "met"
        and last(c).criteria["hscore"].probability is not None
        and last(c).criteria["hscore"].score >= 250
        for c in CASES
    )
    # Kawasaki-associated MAS: underlying disease "other" with a rheumatic driver.
    assert any(
        "kawasaki" in c.tags and disease(c) == "other" and c.driver == "rheumatic_disease" and c.final_reading == "mas"
        for c in CASES
    )
    # At least two near misses sitting exactly on a threshold.
    assert sum(1 for c in CASES if c.near_miss) >= 2


# -------------------------------------------------------------------------------------- every case


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_computes_every_panel(case):
    result = compute(case)
    assert len(result.trend.points) == len(case.panels)
    assert result.times == case.times
    assert result.last is result.trend.points[-1].assessment
    assert set(result.last.criteria) == set(criteria().instruments)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_has_no_unexpected_warnings(case):
    assert sorted(warning_codes(compute(case))) == sorted(case.expected_warnings)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_claim_holds(case):
    failures = check_claims(case)
    assert not failures, "\n".join(f"{f.where}: {f.claim} ({f.time}) -> {f.actual}" for f in failures)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_teaching_points_are_tied_to_computed_findings(case):
    """Most teaching points rest on claims; every case has claims to check."""
    assert sum(len(tp.claims) for tp in case.teaching_points) >= 3
    assert sum(1 for tp in case.teaching_points if tp.claims) >= len(case.teaching_points) // 2


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_citation_resolves(case):
    refs = criteria().references
    for tp in case.teaching_points:
        assert tp.citation in refs
    for _time, panel in case.panels_in_order():
        assert set(panel.answer.references) <= set(refs)
        for step in panel.next_steps:
            assert set(step.references) <= set(refs)
    if isinstance(case.source, PublishedSource) and case.source.reference:
        assert case.source.reference in refs


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_is_version_2_with_an_authored_reading_and_ranked_next_steps_per_panel(case):
    assert case.version == 2
    assert case.themes and case.difficulty in (1, 2, 3)
    assert case.source_kind in ("published", "constructed")
    for _time, panel in case.panels_in_order():
        assert panel.answer is not None and len(panel.answer.rationale) >= 80
        assert 3 <= len(panel.next_steps) <= 6
        assert any(s.grade == "best" for s in panel.next_steps)
        assert any(s.grade == "unhelpful" for s in panel.next_steps), "a choice needs a wrong option"
        assert panel.short_label is None or len(panel.short_label) <= 12


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_published_values_are_present_as_published(case):
    """Every value a published case takes from its paper is in the case as the paper prints it
    (after converting to the unit written in the case); values under the panel's `adapted` are exempt."""
    assert published_value_problems(case) == []
    if isinstance(case.source, PublishedSource):
        assert case.source.published_values and case.source.doi.startswith("10.")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_passes_the_full_check(case):
    """What `python -m mas_screen cases check` runs per case: claims, near misses, warnings, values."""
    assert [str(p) for p in check_case(case)] == []


def test_cases_check_cli_passes_on_the_library():
    code, lines = check_folder(CASES_DIR)
    assert code == 0, "\n".join(lines)
    assert lines[-1] == f"{len(CASES)} case file(s): {len(CASES)} pass, 0 fail"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_text_fields(case):
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", case.story.strip()) if s]
    assert 3 <= len(sentences) <= 6, sentences
    assert case.title and case.learning_objectives and case.teaching_points
    for tp in case.teaching_points:
        assert tp.text.strip()
    # Screening language, never a diagnosis.
    for text in [case.story, *(p.story or "" for p in case.panels), *(tp.text for tp in case.teaching_points)]:
        assert "diagnosed with MAS" not in text and "diagnosis of MAS is" not in text


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_declared_case_reading_agrees_with_the_last_panels_authored_reading(case):
    """The version-1 field is kept as the case-level reading; it may not contradict the author."""
    assert case.final_reading == case.panels_in_order()[-1][1].answer.reading


@pytest.mark.parametrize("case", [c for c in CASES if c.near_miss], ids=[c.id for c in CASES if c.near_miss])
def test_near_miss_values_sit_exactly_on_their_thresholds(case):
    assert near_miss_check(case) == []


def test_near_miss_cases_sit_on_the_thresholds_named_in_the_brief():
    """Worked by hand: each value equals the published number in its published unit."""
    ferritin = compute(by_id("near_miss_ferritin_684")).last.criteria["mas2016"]
    assert next(i for i in ferritin.items if i.id == "ferritin").value == 684
    assert ferritin.status == "not_met"

    pf = compute(by_id("near_miss_platelets_fibrinogen")).last.criteria["mas2016"]
    values = {i.id: (i.value, i.result) for i in pf.items}
    assert values["platelets"] == (181, "met")
    assert values["fibrinogen"] == (360, "met")  # entered as 3.6 g/L
    assert values["ast"] == (48, "not_met")
    assert values["triglycerides"] == (156, "not_met")
    assert pf.status == "met"

    assert compute(by_id("near_miss_ms_score")).last.criteria["ms_score"].score == -2.1
    hs = compute(by_id("near_miss_hscore_169")).last.criteria["hscore"]
    assert (hs.score, hs.status, hs.probability.label) == (169, "met", "40–54%")
    ratio = compute(by_id("near_miss_ferritin_esr")).last.criteria["ferritin_esr"]
    assert (ratio.score, ratio.status) == (21.5, "met")


def test_early_case_course():
    case = by_id("sjia_mas_early")
    result = compute(case)
    assert [p.assessment.criteria["mas2016"].status for p in result.trend.points] == ["not_met", "not_met", "met"]
    assert [derive_interpretation(case, p.assessment) for p in result.trend.points] == ["flare", "mas", "mas"]


# ------------------------------------------------------------------------------ interpretation rule


def test_interpretation_rule_phlh_only_inside_the_mh_population():
    infant = by_id("infant_phlh")
    assert derive_interpretation(infant, compute(infant).last) == "phlh"
    adult = by_id("adult_infection_shlh")
    a = compute(adult).last
    assert a.summary.phlh_signal == "favours_phlh"  # MH >= 60 in an adult ...
    assert a.criteria["mh_score"].population == "outside"
    assert derive_interpretation(adult, a) == "other_hlh"  # ... is not followed
    assert "population" in INTERPRETATION_RULE


def test_interpretation_rule_unsure_when_data_do_not_decide():
    case = by_id("kawasaki_mas")
    first = compute(case).trend.points[0].assessment
    assert first.summary.mas_signal == "insufficient_data"
    assert derive_interpretation(case, first) == "unsure"


def test_interpretation_uses_the_driver_when_the_disease_is_other():
    kawasaki = by_id("kawasaki_mas")
    assert kawasaki.context.underlying_disease == "other"
    assert derive_interpretation(kawasaki, compute(kawasaki).last) == "mas"
    changed = kawasaki.model_copy(update={"driver": "infection"})
    assert derive_interpretation(changed, compute(kawasaki).last) == "other_hlh"


# ----------------------------------------------------------------------------------------- helpers


def test_case_series_carries_panel_context_overrides():
    case = by_id("adult_infection_shlh")
    series = case_series(case)
    assert series.context.hemophagocytosis_marrow is None
    assert series.panels[-1].context.hemophagocytosis_marrow is True
    result = compute(case)
    assert result.context_at(case).hemophagocytosis_marrow is True
    assert result.context_at(case, "first").hemophagocytosis_marrow is None


def test_compute_is_memoised_and_at_reads_any_time_format():
    case = by_id("sjia_mas_early")
    result = compute(case)
    assert compute(case) is result
    assert result.at("2026-02-04 08:00") is result.trend.points[1].assessment
    assert result.at("first") is result.trend.points[0].assessment
    with pytest.raises(KeyError):
        result.at("2026-02-03T08:00")


def test_load_cases_is_cached():
    assert load_cases()[0] is load_cases()[0]


# ------------------------------------------------------------------------------ claims can fail


def test_a_false_claim_is_reported():
    case = by_id("sjia_flare")
    wrong = case.model_copy(
        update={
            "claims": [
                Claim.model_validate({"criterion": "mas2016", "status": "met"}),
                Claim.model_validate({"item": ["mas2016", "ferritin"], "value": 1499}),
                Claim.model_validate({"summary": "next_tests", "contains": "ldh"}),
                Claim.model_validate({"first_met": "ferritin_esr", "time": "2026-03-16T09:00"}),
                Claim.model_validate({"interpretation": "mas"}),
                Claim.model_validate({"criterion": "ms_score", "score_between": [-4, 0]}),
            ]
        }
    )
    failures = [f for f in check_claims(wrong, compute(case)) if f.where.startswith("claims.")]
    assert [f.where for f in failures] == [f"claims.{i}" for i in range(6)]
    assert "status not_met" in failures[0].actual
    assert "value 1500" in failures[1].actual
    assert "first met None" in failures[3].actual
    assert "interpretation flare" in failures[4].actual


def test_claims_at_all_and_any():
    case = by_id("sjia_mas_early")
    result = compute(case)
    all_met = Claim.model_validate({"at": "all", "criterion": "mas2016", "status": "met"})
    any_met = Claim.model_validate({"at": "any", "criterion": "mas2016", "status": "met"})
    failing = case.model_copy(update={"claims": [all_met, any_met]})
    failures = [f for f in check_claims(failing, result) if f.where.startswith("claims.")]
    assert {f.where for f in failures} == {"claims.0"}
    assert {f.time for f in failures} == {"2026-02-02T08:00", "2026-02-04T08:00"}


def test_near_miss_check_rejects_a_value_off_the_threshold():
    case = by_id("near_miss_ferritin_684").model_copy()
    panels = [p.model_copy(update={"labs": {**p.labs, "ferritin": 690}}) for p in case.panels]
    moved = case.model_copy(update={"panels": panels})
    problems = near_miss_check(moved)
    assert problems and "690" in problems[0]


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ({"criterion": "mas2016", "summary": "mas_signal", "equals": "x"}, "exactly one subject"),
        ({"criterion": "mas2016"}, "needs at least one"),
        ({"criterion": "mas2016", "result": "met"}, "cannot use result"),
        ({"first_met": "mas2016"}, "needs time"),
        ({"summary": "mas_signal", "contains": "x"}, "takes equals"),
        ({"item": ["mas2016"], "result": "met"}, "item is"),
        ({"criterion": "nope", "status": "met"}, "criterion"),
    ],
)
def test_claim_schema(claim, message):
    with pytest.raises(ValueError, match=message):
        Claim.model_validate(claim)


# --------------------------------------------------------------------------------- loading fails loudly


def _write_variant(tmp_path: Path, case_id: str, change) -> Path:
    data = yaml.safe_load((CASES_DIR / f"{case_id}.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _set(path: list, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(["teaching_points", 0, "citation"], "smith1999"), r"teaching_points\.0\.citation: unknown citation key"),
        (_set(["source"], "a made-up report"), r"field source: .* neither"),
        (_set(["panels", 0, "labs", "ferritn"], 100), r"panels\.0\.labs: .*unknown analyte"),
        (_set(["panels", 0, "time"], "05/02/2026"), r"panels\.0\.time: .*ambiguous"),
        (_set(["context", "febrile"], "maybe"), r"field context\.febrile"),
        (_set(["teaching_points", 0, "claims", 0, "at"], "2027-01-01T00:00"), r"claims\.0\.at: .*not the time"),
        (_set(["teaching_points", 0, "claims", 0, "item"], ["mas2016", "nope"]), r"has no item 'nope'"),
        (_set(["near_miss"], [{"criterion": "mas2016"}]), r"near_miss\.0: mas2016 has no score cut-off"),
        (_set(["learning_objectives"], []), r"field learning_objectives"),
        (_set(["unexpected_field"], 1), r"field unexpected_field: unknown field"),
    ],
)
def test_bad_case_files_fail_naming_file_and_field(tmp_path, change, message):
    path = _write_variant(tmp_path, "near_miss_ferritin_684", change)
    with pytest.raises(CaseDataError, match=rf"^near_miss_ferritin_684\.yaml: .*{message}"):
        load_case_file(path)


def test_id_must_match_the_file_name(tmp_path):
    path = tmp_path / "other_name.yaml"
    shutil.copy(CASES_DIR / "sjia_flare.yaml", path)
    with pytest.raises(
        CaseDataError, match=r"other_name\.yaml: line 1: field id: .sjia_flare. does not match the file name"
    ):
        load_case_file(path)


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CaseDataError, match=r"broken\.yaml: line 1: not valid YAML"):
        load_case_file(bad)
    with pytest.raises(CaseDataError, match="file not found"):
        load_case_file(tmp_path / "absent.yaml")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaseDataError, match="no case files"):
        load_cases(tmp_path / "empty")


def test_case_results_are_remembered_by_content_never_by_object_identity():
    """Issue 14, point 6 (no cache keyed by id()): the same content gives the remembered result; an
    edited copy (a different ferritin in its last panel) is computed for itself."""
    from mas_screen.faces.teaching import claims

    case = load_cases()[0]
    first = claims.compute(case)
    assert claims.compute(case.model_copy(deep=True)) is first
    edited = case.model_copy(deep=True)
    edited.panels[-1].labs["ferritin"] = 123_456
    other = claims.compute(edited)
    assert other is not first
    assert other.last.model_dump(exclude={"provenance"}) != first.last.model_dump(exclude={"provenance"})
