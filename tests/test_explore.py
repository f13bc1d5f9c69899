"""What-if explorer: smallest single flips worked by hand at the published boundaries, every flip
verified with assess(), minimality on the search grid, and distances to thresholds.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from mas_screen import PatientInput, assess
from mas_screen.faces.explore import RESOLUTION, _step, distances, instrument_inputs, replace_input, smallest_flip
from mas_screen.faces.teaching.loading import case_by_id, load_cases

SJIA = {"febrile": True, "underlying_disease": "sjia"}
NO_FLAGS = {"cns_involvement": False, "hemorrhagic_manifestations": False}


def patient(labs: dict, **context) -> PatientInput:
    return PatientInput.model_validate({"context": context, "labs": labs})


def summary(flips) -> list[tuple]:
    return [
        (f.input, f.from_value, f.to_value, f.direction, f.distance, f.relative_percent, f.new_status) for f in flips
    ]


# ------------------------------------------------------------------------------- 2016 criteria


def test_worked_example_1_flips_only_by_ferritin_or_fever():
    """Ferritin 2500, platelets 150, AST 60, TG 140, fibrinogen 300: 3 of 4 companions.

    Losing one companion leaves 2 (still met), so no single companion change flips it; losing two
    is two changes. The single flips: ferritin down to 684 (not > 684), or 'febrile' no.
    """
    p = patient({"ferritin": 2500, "platelets": 150, "ast": 60, "triglycerides": 140, "fibrinogen": 300}, **SJIA)
    flips = smallest_flip(p, "mas2016")
    assert summary(flips) == [
        ("ferritin", 2500.0, 684.0, "down", 1816.0, 72.64, "not_met"),  # 1816 / 2500 = 72.64 %
        ("febrile", True, False, None, None, None, "not_met"),
    ]
    assert flips[0].items_changed[0].id == "ferritin"
    assert flips[0].items_changed[0].threshold == "> 684 ng/mL"


def test_worked_example_2c_each_boundary_by_one_unit():
    """Ferritin 685, platelets 181, AST 48, TG 156, fibrinogen 360: exactly 2 companions.

    ferritin 684 (1/685 = 0.15 %), fibrinogen 361 (1/360 = 0.28 %), platelets 182 (1/181 = 0.55 %).
    AST and TG cannot flip it down (they are not met) and raising them only adds companions.
    """
    p = patient({"ferritin": 685, "platelets": 181, "ast": 48, "triglycerides": 156, "fibrinogen": 360}, **SJIA)
    assert summary(smallest_flip(p, "mas2016")) == [
        ("ferritin", 685.0, 684.0, "down", 1.0, 0.15, "not_met"),
        ("fibrinogen", 360.0, 361.0, "up", 1.0, 0.28, "not_met"),
        ("platelets", 181.0, 182.0, "up", 1.0, 0.55, "not_met"),
        ("febrile", True, False, None, None, None, "not_met"),
    ]


def test_worked_example_2b_flips_up_by_one_companion():
    """Same with fibrinogen 361: only platelets met (1 of 4). Adding one companion flips it:
    AST 49 (> 48), TG 157 (> 156), fibrinogen 360 (<= 360). Platelets are already met."""
    p = patient({"ferritin": 685, "platelets": 181, "ast": 48, "triglycerides": 156, "fibrinogen": 361}, **SJIA)
    assert summary(smallest_flip(p, "mas2016")) == [
        ("fibrinogen", 361.0, 360.0, "down", 1.0, 0.28, "met"),
        ("triglycerides", 156.0, 157.0, "up", 1.0, 0.64, "met"),
        ("ast", 48.0, 49.0, "up", 1.0, 2.08, "met"),
    ]


def test_flip_searched_in_the_unit_entered():
    """Fibrinogen 3.6 g/L (= 360 mg/dL): the next value on the 0.01 g/L grid, 3.61 g/L, is 361 mg/dL."""
    p = patient(
        {
            "ferritin": 685,
            "platelets": 181,
            "ast": 48,
            "triglycerides": 156,
            "fibrinogen": {"value": 3.6, "unit": "g/L"},
        },
        **SJIA,
    )
    fib = next(f for f in smallest_flip(p, "mas2016") if f.input == "fibrinogen")
    assert (fib.from_value, fib.to_value, fib.unit, fib.to_text) == (3.6, 3.61, "g/L", "3.61 g/L")
    assert fib.distance == pytest.approx(0.01)
    assert fib.relative_percent == 0.28


def test_triglycerides_in_mmol_per_litre():
    """TG > 156 mg/dL with TG entered in mmol/L (x 88.57): 1.77 -> 156.77 (met), 1.76 -> 155.88 (not).

    Ferritin 2500, platelets 150 (met), AST 40 and fibrinogen 400 (not met): TG is the second
    companion, so the flip is TG 1.77 -> 1.76 mmol/L. Typed with 3 decimals (1.762 -> 156.06 mg/dL),
    the grid is 0.001 mmol/L and the flip is 1.761 (155.97 mg/dL).
    """
    base = {"ferritin": 2500, "platelets": 150, "ast": 40, "fibrinogen": 400}
    p = patient({**base, "triglycerides": {"value": 1.77, "unit": "mmol/L"}}, **SJIA)
    tg = next(f for f in smallest_flip(p, "mas2016") if f.input == "triglycerides")
    assert (tg.to_value, tg.unit, tg.new_status) == (1.76, "mmol/L", "not_met")
    p = patient({**base, "triglycerides": {"value": 1.762, "unit": "mmol/L"}}, **SJIA)
    tg = next(f for f in smallest_flip(p, "mas2016") if f.input == "triglycerides")
    assert tg.to_value == 1.761
    assert tg.distance == pytest.approx(0.001)


# -------------------------------------------------------------------------------------- MS score


def test_ms_score_worked_example_5_at_the_cut_off():
    """Platelets 300, LDH 400, fibrinogen 450, ferritin 2000, no CNS/haemorrhage/arthritis: -2.1 exactly.

    One unit in the unfavourable direction is enough, because -2.1 - 0.0001 = -2.1001 rounds to
    -2.1001 < -2.1: ferritin 1999 (0.05 %), fibrinogen 451 (-2.104; 0.22 %), LDH 399 (-2.101;
    0.25 %), platelets 301 (-2.103; 0.33 %); and active arthritis (-1.3). CNS involvement and
    haemorrhage only raise the score.
    """
    p = patient({"platelets": 300, "ldh": 400, "fibrinogen": 450, "ferritin": 2000}, active_arthritis=False, **NO_FLAGS)
    assert assess(p).criteria["ms_score"].score == -2.1
    assert summary(smallest_flip(p, "ms_score")) == [
        ("ferritin", 2000.0, 1999.0, "down", 1.0, 0.05, "not_met"),
        ("fibrinogen", 450.0, 451.0, "up", 1.0, 0.22, "not_met"),
        ("ldh", 400.0, 399.0, "down", 1.0, 0.25, "not_met"),
        ("platelets", 300.0, 301.0, "up", 1.0, 0.33, "not_met"),
        ("active_arthritis", False, True, None, None, None, "not_met"),
    ]


def test_ms_score_worked_example_3_solved_linearly():
    """Example 3 (-1.45): arthritis 1, platelets 150, LDH 800, fibrinogen 250, ferritin 5000.

    Not met needs the 4-dp rounded score < -2.1, i.e. a score <= -2.10005:
    fibrinogen: -0.004 (F - 250) <= -0.65005 -> F >= 412.51 -> 413 (score -2.102; 412 gives -2.098);
    LDH: 0.001 (L - 800) <= -0.65005 -> L <= 149.95 -> 149 (-2.101; 150 gives -2.100, met);
    platelets: -0.003 (P - 150) <= -0.65005 -> P >= 366.68 -> 367 (-2.101; 366 gives -2.098);
    ferritin would have to fall below 0: no flip. Removing arthritis only raises the score.
    """
    p = patient({"platelets": 150, "ldh": 800, "fibrinogen": 250, "ferritin": 5000}, active_arthritis=True, **NO_FLAGS)
    assert assess(p).criteria["ms_score"].score == -1.45
    assert summary(smallest_flip(p, "ms_score")) == [
        ("fibrinogen", 250.0, 413.0, "up", 163.0, 65.2, "not_met"),
        ("ldh", 800.0, 149.0, "down", 651.0, 81.38, "not_met"),  # 651 / 800 = 81.375 -> 81.38
        ("platelets", 150.0, 367.0, "up", 217.0, 144.67, "not_met"),
    ]
    assert assess(replace_input(p, "ldh", 150)).criteria["ms_score"].status == "met"
    assert assess(replace_input(p, "ldh", 149)).criteria["ms_score"].score == -2.101


def test_ms_score_missing_input_decides_from_a_solved_value():
    """Kawasaki case, first panel: LDH not entered, the rest fixed at -3.335
    (-0.003 x 460 - 0.004 x 510 + 0.0001 x 850). LDH >= 1235 gives >= -2.1 (met); <= 1234 not met."""
    case = case_by_id("kawasaki_mas")
    p = PatientInput.model_validate({"context": case.context.model_dump(), "labs": case.panels[0].labs})
    flips = [f for f in smallest_flip(p, "ms_score") if f.input == "ldh"]
    assert [(f.from_value, f.to_value, f.direction, f.distance, f.new_status) for f in flips] == [
        (None, 1235.0, "up", None, "met"),
        (None, 1234.0, "down", None, "not_met"),
    ]
    assert flips[0].from_text == "not entered" and flips[0].unit == "U/L"


# ---------------------------------------------------------------------------------------- HScore


def hscore_169_patient(**labs) -> PatientInput:
    case = case_by_id("near_miss_hscore_169")
    return PatientInput.model_validate({"context": case.context.model_dump(), "labs": {**case.panels[0].labs, **labs}})


def test_hscore_169_every_band_edge_by_one_step():
    """33 (38.4 °C) + 23 (spleen) + 24 (Hb 9.2, WBC 5.0) + 35 (ferritin 2000) + 19 (AST 30) + 35 (marrow).

    Any lost band drops the score below 169: ferritin 1999 (-35; 0.05 %), temperature 38.3 (-33;
    0.26 %), Hb 9.3 (one lineage: -24; 1.09 %), WBC 5.1 (-24; 2 %), AST 29 (-19; 3.33 %); then the
    answered yes/no fields marrow (-35) and splenomegaly (-23).
    """
    flips = smallest_flip(hscore_169_patient(), "hscore")
    assert summary(flips) == [
        ("ferritin", 2000.0, 1999.0, "down", 1.0, 0.05, "not_met"),
        ("temperature", 38.4, 38.3, "down", pytest.approx(0.1), 0.26, "not_met"),
        ("hemoglobin", 9.2, 9.3, "up", pytest.approx(0.1), 1.09, "not_met"),
        ("wbc", 5.0, 5.1, "up", pytest.approx(0.1), 2.0, "not_met"),
        ("ast", 30.0, 29.0, "down", 1.0, 3.33, "not_met"),
        ("hemophagocytosis_marrow", True, False, None, None, None, "not_met"),
        ("splenomegaly", True, False, None, None, None, "not_met"),
    ]
    hb = flips[2]
    assert [c.id for c in hb.items_changed] == ["cytopenias", "cytopenias.hemoglobin"]
    assert (hb.items_changed[0].from_points, hb.items_changed[0].to_points) == (24, 0)


def test_hscore_168_flips_up_at_ast_30():
    """AST 29 instead of 30: 150 points. AST 30 (>= 30) adds 19 -> 169; 1/29 = 3.45 %."""
    flips = smallest_flip(hscore_169_patient(ast=29), "hscore")
    ast = next(f for f in flips if f.input == "ast")
    assert (ast.to_value, ast.direction, ast.relative_percent, ast.new_status) == (30.0, "up", 3.45, "met")
    assert all(f.new_status == "met" for f in flips)


def test_hlh2004_from_indeterminate_to_met():
    """Same patient, HLH-2004: fever, spleen, haemophagocytosis, ferritin met (4); NK and sCD25 not
    known. One more criterion decides it: fibrinogen <= 1.5 g/L, TG >= 3.0 mmol/L, NK low, sCD25 >= 2400.
    No single change can make it not met (4 met + at least 1 unknown left)."""
    flips = smallest_flip(hscore_169_patient(), "hlh2004")
    assert summary(flips) == [
        ("fibrinogen", 3.0, 1.5, "down", 1.5, 50.0, "met"),
        ("triglycerides", 1.4, 3.0, "up", pytest.approx(1.6), 114.29, "met"),
        ("nk_activity_low", None, True, None, None, None, "met"),
        ("scd25", None, 2400.0, "up", None, None, "met"),
    ]


# ----------------------------------------------------------------------------------- ferritin:ESR


def test_ferritin_esr_exactly_at_21_5():
    """2150 / 100 = 21.5 (>= 21.5 met). Ferritin 2149 -> 21.49; ESR 101 -> 21.29."""
    p = patient({"ferritin": 2150, "esr": 100}, underlying_disease="sjia")
    assert summary(smallest_flip(p, "ferritin_esr")) == [
        ("ferritin", 2150.0, 2149.0, "down", 1.0, 0.05, "not_met"),
        ("esr", 100.0, 101.0, "up", 1.0, 1.0, "not_met"),
    ]


def test_ferritin_esr_from_below():
    """1500 / 100 = 15. Ferritin 2150 (21.5 * 100; +650, 43.33 %); ESR 69 (1500 / 69 = 21.74,
    while 1500 / 70 = 21.43; -31, 31 %)."""
    p = patient({"ferritin": 1500, "esr": 100}, underlying_disease="sjia")
    assert summary(smallest_flip(p, "ferritin_esr")) == [
        ("esr", 100.0, 69.0, "down", 31.0, 31.0, "met"),
        ("ferritin", 1500.0, 2150.0, "up", 650.0, 43.33, "met"),
    ]


# -------------------------------------------------------------------------------- other instruments


def test_parodi_fever_and_organ_size():
    """jSLE case: 2 clinical (fever 38.9 > 38, bleeding) and 6 laboratory criteria met: no single
    change flips it. Without bleeding, fever is the only clinical criterion: 38.0 °C (not > 38)
    flips it (0.9/38.9 = 2.31 %)."""
    case = case_by_id("jsle_mas")
    p = PatientInput.model_validate({"context": case.context.model_dump(), "labs": case.panels[0].labs})
    assert smallest_flip(p, "parodi2009") == []
    p = replace_input(p, "hemorrhagic_manifestations", False)
    assert summary(smallest_flip(p, "parodi2009")) == [
        ("temperature", 38.9, 38.0, "down", pytest.approx(0.9), 2.31, "not_met"),
    ]
    # Afebrile (37.5 °C): no clinical criterion. Fever 38.1 (> 38; 0.6/37.5 = 1.6 %), a liver edge of
    # 3 cm (>= 3; from 2 cm, 50 %), CNS dysfunction or bleeding each flip it. A spleen size is not
    # tried: the spleen is answered 'not enlarged'.
    p = replace_input(p, "temperature", 37.5)
    assert summary(smallest_flip(p, "parodi2009")) == [
        ("temperature", 37.5, 38.1, "up", pytest.approx(0.6), 1.6, "met"),
        ("hepatomegaly_cm", 2.0, 3.0, "up", 1.0, 50.0, "met"),
        ("cns_involvement", False, True, None, None, None, "met"),
        ("hemorrhagic_manifestations", False, True, None, None, None, "met"),
    ]


def test_mh_score_at_60_and_the_age_fallback():
    """Infant with neutrophils 2.0, fibrinogen 200, platelets 100: 37 (age 0.33 <= 1.6, no onset
    entered) + 12 (spleen) + 11 (Hb 7.4) = 60. Flips: Hb 8.4 (> 8.3; 1/7.4 = 13.51 %), spleen no,
    or an age at onset of 1.61 years entered. Raising the current age alone cannot flip it: the
    onset could still have been <= 1.6, so the item becomes undecided (range 23-60), not 0."""
    case = case_by_id("infant_phlh")
    p = PatientInput.model_validate({"context": case.context.model_dump(), "labs": case.panels[0].labs})
    assert smallest_flip(p, "mh_score") == []  # 123: no single loss brings it below 60
    for key, value in (("neutrophils", 2.0), ("fibrinogen", 200), ("platelets", 100)):
        p = replace_input(p, key, value)
    assert assess(p).criteria["mh_score"].score == 60
    assert summary(smallest_flip(p, "mh_score")) == [
        ("hemoglobin", 7.4, 8.4, "up", pytest.approx(1.0), 13.51, "not_met"),
        ("splenomegaly", True, False, None, None, None, "not_met"),
        ("age_at_onset_years", None, 1.61, "up", None, None, "not_met"),
    ]
    older = replace_input(p, "age_years", 1.61)
    assert assess(older).criteria["mh_score"].status == "indeterminate"


# ------------------------------------------------------------------------------ properties on cases


def _case_patients():
    for case in load_cases():
        panel = case.panels[-1]
        context = {**case.context.model_dump(), **(panel.context or {})}
        yield case.id, PatientInput.model_validate({"context": context, "labs": panel.labs})


CASE_PATIENTS = list(_case_patients())


@pytest.mark.parametrize(("case_id", "p"), CASE_PATIENTS, ids=[c for c, _ in CASE_PATIENTS])
def test_every_flip_is_verified_and_minimal(case_id, p):
    base = assess(p)
    for iid in base.criteria:
        for flip in smallest_flip(p, iid):
            assert flip.input in instrument_inputs(iid)
            assert flip.from_status == base.criteria[iid].status
            unit = flip.unit if flip.kind == "lab" else None
            changed = assess(replace_input(p, flip.input, flip.to_value, unit))
            assert changed.criteria[iid].status == flip.new_status, (iid, flip.input)
            if flip.kind == "flag" or flip.from_value is None:
                continue
            # One grid step back towards the entered value does not flip.
            step = _step(flip.input, flip.unit, Decimal(repr(flip.from_value)))
            back = Decimal(repr(flip.to_value)) + (-step if flip.direction == "up" else step)
            if back == Decimal(repr(flip.from_value)):
                continue
            before = assess(replace_input(p, flip.input, float(back), unit)).criteria[iid].status
            assert before != flip.new_status, (iid, flip.input, float(back))


def test_unknown_instrument():
    with pytest.raises(KeyError, match="unknown instrument"):
        smallest_flip(patient({}), "hscore2")


def test_replace_input_rejects_unknown_keys():
    with pytest.raises(KeyError):
        replace_input(patient({}), "bone_marrow", True)


def test_resolution_table_uses_accepted_units():
    from mas_screen.criteria.loading import criteria

    analytes = criteria().analytes.analytes
    for key, units in RESOLUTION.items():
        assert key in analytes
        accepted = {u.unit for u in analytes[key].units}
        assert set(units) <= accepted, key


# -------------------------------------------------------------------------------------- distances


def test_distances_worked_example_2c():
    p = patient({"ferritin": 685, "platelets": 181, "ast": 48, "triglycerides": 156, "fibrinogen": 360}, **SJIA)
    rows = {(d.instrument, d.item_id, d.threshold): d for d in distances(p)}
    ferritin = rows[("mas2016", "ferritin", 684)]
    assert (ferritin.distance, ferritin.relative_percent, ferritin.satisfied, ferritin.item_result) == (
        1.0,
        0.15,
        True,
        "met",
    )
    plt = rows[("mas2016", "platelets", 181)]
    assert (plt.distance, plt.satisfied, plt.threshold_text) == (0.0, True, "≤ 181 ×10⁹/L")
    ast = rows[("mas2016", "ast", 48)]
    assert (ast.distance, ast.satisfied, ast.item_result) == (0.0, False, "not_met")
    # HScore bands are in mmol/L: 156 mg/dL = 1.7613 mmol/L, above the 1.5 edge (44 points).
    tg = rows[("hscore", "triglycerides", 1.5)]
    assert tg.kind == "band_edge" and tg.unit == "mmol/L" and tg.points == 44 and tg.satisfied
    assert tg.value == pytest.approx(156 / 88.57)
    # HScore platelets are a component of the cytopenias item.
    assert rows[("hscore", "cytopenias.platelets", 110)].distance == 71.0


def test_distances_include_scores_against_cut_offs():
    case = case_by_id("near_miss_ms_score")
    p = PatientInput.model_validate({"context": case.context.model_dump(), "labs": case.panels[0].labs})
    scores = {d.instrument: d for d in distances(p) if d.kind == "score"}
    ms = scores["ms_score"]
    assert (ms.value, ms.threshold, ms.distance, ms.satisfied, ms.threshold_text) == (-2.1, -2.1, 0.0, True, "≥ -2.1")
    assert scores["ferritin_esr"].value == pytest.approx(33.33)
    assert "hscore" not in scores  # HScore is a range here (marrow unknown): no score to place


def test_distances_use_the_published_unit_and_only_entered_values():
    p = patient({"fibrinogen": {"value": 1.4, "unit": "g/L"}}, underlying_disease="sle")
    rows = distances(p)
    assert {d.input for d in rows} == {"fibrinogen"}
    mas = next(d for d in rows if d.instrument == "mas2016")
    assert (mas.value, mas.unit, mas.distance) == (140.0, "mg/dL", -220.0)
    parodi = next(d for d in rows if d.instrument == "parodi2009")
    assert (parodi.value, parodi.unit, parodi.distance, parodi.satisfied) == (1.4, "g/L", pytest.approx(-0.1), True)


def test_distances_hlh2004_infant_haemoglobin_threshold():
    """Under 28 days HLH-2004 uses Hb < 10 g/dL; otherwise < 9."""
    newborn = distances(patient({"hemoglobin": 9.5}, age_years=0.05))
    toddler = distances(patient({"hemoglobin": 9.5}, age_years=2))
    pick = lambda rows: next(d for d in rows if d.instrument == "hlh2004")  # noqa: E731
    assert (pick(newborn).threshold, pick(newborn).satisfied) == (10.0, True)
    assert (pick(toddler).threshold, pick(toddler).satisfied) == (9.0, False)
