"""Worked examples 1-13 of criteria-spec.md, each as a whole patient through `assess()`.

Every expected number below is computed by hand from the published thresholds (criteria-spec.md),
never read from criteria/*.yaml, so a typo in the data files makes these tests fail.
Units follow the spec's conventions: platelets/WBC/neutrophils x10^9/L, ferritin ng/mL, AST/LDH U/L,
Hb g/dL, temperature degC; triglycerides and fibrinogen as stated per example.
"""

from __future__ import annotations

import pytest
from conftest import crit, item, run


def component(result: dict, iid: str, item_id: str, sub_id: str) -> dict:
    for sub in item(result, iid, item_id)["components"]:
        if sub["id"] == sub_id:
            return sub
    raise KeyError(sub_id)


def mmol(value: float) -> dict:
    return {"value": value, "unit": "mmol/L"}


def g_per_l(value: float) -> dict:
    return {"value": value, "unit": "g/L"}


SJIA_CHILD = {"febrile": True, "underlying_disease": "sjia", "age_years": 8}


# ----------------------------------------------------------------------------------- Example 1


def test_example_1_mas2016_clear_positive():
    # Ferritin 2500 > 684 (entry met); platelets 150 <= 181 yes; AST 60 > 48 yes;
    # TG 140 mg/dL > 156 no; fibrinogen 300 <= 360 yes -> 3 of 4 companions -> classified as MAS.
    r = run(
        {"ferritin": 2500, "platelets": 150, "ast": 60, "triglycerides": 140, "fibrinogen": 300},
        **SJIA_CHILD,
    )
    c = crit(r, "mas2016")
    assert c["status"] == "met"
    assert (c["count_met"], c["count_assessable"]) == (3, 4)
    assert [it["result"] for it in c["items"]] == ["met", "met", "met", "met", "not_met", "met"]
    assert c["missing"] == []
    assert c["population"] == "validated"
    assert r["summary"]["mas_signal"] == "suggestive"


# ----------------------------------------------------------------------------------- Example 2

EXAMPLE_2 = [
    # (a) ferritin 684 is not > 684: not classified although all 4 companions are met (4/4).
    pytest.param(
        {"ferritin": 684, "platelets": 100, "ast": 100, "triglycerides": 200, "fibrinogen": 200},
        "not_met",
        4,
        {"ferritin": "not_met", "platelets": "met", "ast": "met", "triglycerides": "met", "fibrinogen": "met"},
        id="2a-ferritin-684-fails-entry",
    ),
    # (b) platelets 181 <= 181 yes; AST 48 not > 48; TG 156 not > 156; fibrinogen 361 > 360 -> 1/4.
    pytest.param(
        {"ferritin": 685, "platelets": 181, "ast": 48, "triglycerides": 156, "fibrinogen": 361},
        "not_met",
        1,
        {"ferritin": "met", "platelets": "met", "ast": "not_met", "triglycerides": "not_met", "fibrinogen": "not_met"},
        id="2b-one-of-four",
    ),
    # (c) as (b) with fibrinogen 360 <= 360 -> platelets + fibrinogen = 2/4 -> classified.
    pytest.param(
        {"ferritin": 685, "platelets": 181, "ast": 48, "triglycerides": 156, "fibrinogen": 360},
        "met",
        2,
        {"ferritin": "met", "platelets": "met", "ast": "not_met", "triglycerides": "not_met", "fibrinogen": "met"},
        id="2c-fibrinogen-360-meets",
    ),
]


@pytest.mark.parametrize(("labs", "status", "count_met", "items"), EXAMPLE_2)
def test_example_2_mas2016_boundaries(labs, status, count_met, items):
    r = run(labs, **SJIA_CHILD)
    c = crit(r, "mas2016")
    assert c["status"] == status
    assert (c["count_met"], c["count_assessable"]) == (count_met, 4)
    for item_id, expected in items.items():
        assert item(r, "mas2016", item_id)["result"] == expected, item_id


@pytest.mark.parametrize(
    ("tg_mmol", "tg_mg_dl", "tg_result", "status", "count_met"),
    [
        # 1.76 x 88.57 = 155.8832 mg/dL: not > 156. With platelets 181 (yes), AST 48 (no),
        # fibrinogen 361 (no) the patient has 1/4 -> not classified.
        pytest.param(1.76, 155.8832, "not_met", "not_met", 1, id="2d-1.76-mmol-is-155.88-mg"),
        # 1.762 x 88.57 = 156.06034 mg/dL: > 156 -> 2/4 -> classified as MAS.
        pytest.param(1.762, 156.06034, "met", "met", 2, id="2d-1.762-mmol-is-156.06-mg"),
    ],
)
def test_example_2d_triglycerides_in_mmol(tg_mmol, tg_mg_dl, tg_result, status, count_met):
    labs = {"ferritin": 685, "platelets": 181, "ast": 48, "triglycerides": mmol(tg_mmol), "fibrinogen": 361}
    r = run(labs, **SJIA_CHILD)
    tg = item(r, "mas2016", "triglycerides")
    assert tg["unit"] == "mg/dL"  # compared in the criterion's published unit
    assert tg["value"] == pytest.approx(tg_mg_dl, abs=1e-9)
    assert tg["result"] == tg_result
    c = crit(r, "mas2016")
    assert c["status"] == status
    assert c["count_met"] == count_met


# ----------------------------------------------------------------------------------- Example 3-5


def ms_patient(cns, haem, arthritis, platelets, ldh, fibrinogen, ferritin, **context):
    return run(
        {"platelets": platelets, "ldh": ldh, "fibrinogen": fibrinogen, "ferritin": ferritin},
        cns_involvement=cns,
        hemorrhagic_manifestations=haem,
        active_arthritis=arthritis,
        **context,
    )


def test_example_3_ms_score_likely_mas():
    # 0x2.44 + 0x1.54 + 1x(-1.30) + 150x(-0.003) + 800x0.001 + 250x(-0.004) + 5000x0.0001
    # = 0 + 0 - 1.30 - 0.45 + 0.80 - 1.00 + 0.50 = -1.45 >= -2.1 -> consider MAS.
    r = ms_patient(False, False, True, 150, 800, 250, 5000, **SJIA_CHILD)
    c = crit(r, "ms_score")
    assert c["score"] == -1.45
    assert c["status"] == "met"
    assert c["score_range"] is None
    contributions = {it["id"]: it["points"] for it in c["items"]}
    assert contributions == {
        "cns_involvement": 0,
        "hemorrhagic_manifestations": 0,
        "active_arthritis": -1.3,
        "platelets": -0.45,
        "ldh": 0.8,
        "fibrinogen": -1.0,
        "ferritin": 0.5,
    }


@pytest.mark.parametrize(
    "fibrinogen",
    [pytest.param(600, id="fibrinogen-600-mg-dL"), pytest.param(g_per_l(6.0), id="fibrinogen-6.0-g-L")],
)
def test_example_4_ms_score_typical_flare(fibrinogen):
    # Arthritis: -1.30; platelets 450 x -0.003 = -1.35; LDH 400 x 0.001 = +0.40;
    # fibrinogen 600 mg/dL (= 6.0 g/L x 100) x -0.004 = -2.40; ferritin 1500 x 0.0001 = +0.15
    # -> -4.50 < -2.1 -> MAS not favoured.
    r = ms_patient(False, False, True, 450, 400, fibrinogen, 1500, **SJIA_CHILD)
    c = crit(r, "ms_score")
    assert c["score"] == -4.5
    assert c["status"] == "not_met"
    assert item(r, "ms_score", "fibrinogen")["points"] == -2.4


def test_example_5_ms_score_exact_cutoff():
    # -0.90 (platelets 300) + 0.40 (LDH 400) - 1.80 (fibrinogen 450) + 0.20 (ferritin 2000) = -2.10
    # exactly; naive float summation gives -2.0999999999999996; rounded to 4 dp -> -2.1 >= -2.1 -> met.
    r = ms_patient(False, False, False, 300, 400, 450, 2000, **SJIA_CHILD)
    c = crit(r, "ms_score")
    assert c["score"] == -2.1
    assert c["status"] == "met"


def test_example_5_ms_score_exact_cutoff_in_aosd_shows_both_cutoffs():
    # Same -2.10: meets the derivation cut-off >= -2.1 (status) but not the AOSD one (>= -1.74),
    # which is reported beside it (Decisions: "MS score in AOSD").
    r = ms_patient(False, False, False, 300, 400, 450, 2000, febrile=True, underlying_disease="aosd", age_years=30)
    c = crit(r, "ms_score")
    assert c["score"] == -2.1
    assert c["status"] == "met"
    assert [(a["cutoff"], a["status"]) for a in c["additional_cutoffs"]] == [(-1.74, "not_met")]


def test_example_5_ms_score_extra_high_case():
    # 2.44 + 1.54 - 0.24 (platelets 80) + 1.50 (LDH 1500) - 0.60 (fibrinogen 150) + 2.00 (ferritin 20000) = 6.64
    r = ms_patient(True, True, False, 80, 1500, 150, 20000, **SJIA_CHILD)
    c = crit(r, "ms_score")
    assert c["score"] == 6.64
    assert c["status"] == "met"


# ----------------------------------------------------------------------------------- Example 6-8

EXAMPLE_6_LABS = {
    "temperature": 39.0,
    "hemoglobin": 8.5,
    "wbc": 3.0,
    "platelets": 90,
    "ferritin": 8000,
    "triglycerides": mmol(2.5),
    "fibrinogen": g_per_l(2.0),
    "ast": 120,
}
EXAMPLE_6_CONTEXT = {
    "age_years": 35,
    "underlying_disease": "sle",
    "known_immunosuppression": True,
    "hepatomegaly": True,
    "splenomegaly": True,
}
EXAMPLE_6_POINTS = {
    "immunosuppression": 18,  # long-term prednisone
    "temperature": 33,  # 39.0 in 38.4-39.4
    "organomegaly": 38,  # hepatomegaly and splenomegaly
    "cytopenias": 34,  # Hb 8.5 <= 9.2, WBC 3.0 <= 5, platelets 90 <= 110: 3 lineages
    "ferritin": 50,  # 8000 > 6000
    "triglycerides": 44,  # 2.5 mmol/L in 1.5-4.0
    "fibrinogen": 30,  # 2.0 g/L <= 2.5
    "ast": 19,  # 120 >= 30
}


def test_example_6_hscore_high_probability_marrow_negative():
    # 18 + 33 + 38 + 34 + 50 + 44 + 30 + 19 + 0 = 266 >= 169 -> met; >= 250 -> ">99%".
    r = run(EXAMPLE_6_LABS, **EXAMPLE_6_CONTEXT, hemophagocytosis_marrow=False)
    c = crit(r, "hscore")
    assert c["score"] == 266
    assert c["score_range"] is None
    assert c["status"] == "met"
    assert c["probability"] == {"low_percent": 99, "high_percent": 100, "label": ">99%"}
    points = {it["id"]: it["points"] for it in c["items"]}
    assert points == {**EXAMPLE_6_POINTS, "hemophagocytosis_marrow": 0}
    assert c["population"] == "validated"  # adult


def test_example_6_hscore_marrow_not_done_gives_a_range():
    # Marrow "not done" is unknown, never a silent 0: range [266, 266 + 35 = 301]; the minimum is
    # already >= 169 so the status is met; the contract gives a probability for complete scores only.
    r = run(EXAMPLE_6_LABS, **EXAMPLE_6_CONTEXT)
    c = crit(r, "hscore")
    assert c["score"] is None
    assert c["score_range"] == [266, 301]
    assert c["status"] == "met"
    assert c["probability"] is None
    assert c["missing"] == ["hemophagocytosis_marrow"]
    assert item(r, "hscore", "hemophagocytosis_marrow")["result"] == "missing"


EXAMPLE_7_LABS = {
    "temperature": 38.4,  # 38.4 -> 33 (inclusive lower edge)
    "hemoglobin": 8.0,  # <= 9.2 yes
    "wbc": 4.0,  # <= 5.0 yes
    "platelets": 200,  # <= 110 no -> 2 lineages -> 24
    "ferritin": 2000,  # 2000 -> 35 (inclusive lower edge)
    "triglycerides": mmol(1.4),  # < 1.5 -> 0
    "fibrinogen": g_per_l(2.5),  # <= 2.5 -> 30
    "ast": 29,  # < 30 -> 0
}
EXAMPLE_7_CONTEXT = {"age_years": 40, "known_immunosuppression": False, "hepatomegaly": False, "splenomegaly": False}


def test_example_7_hscore_boundaries_and_bracket():
    # 0 + 33 + 0 + 24 + 35 + 0 + 30 + 0 + 0 = 122 < 169; between tabulated 120 (5%) and 130 (9%) -> "5–9%".
    r = run(EXAMPLE_7_LABS, **EXAMPLE_7_CONTEXT, hemophagocytosis_marrow=False)
    c = crit(r, "hscore")
    assert c["score"] == 122
    assert c["status"] == "not_met"
    assert c["probability"] == {"low_percent": 5, "high_percent": 9, "label": "5–9%"}
    points = {it["id"]: it["points"] for it in c["items"]}
    assert points == {
        "immunosuppression": 0,
        "temperature": 33,
        "organomegaly": 0,
        "cytopenias": 24,
        "ferritin": 35,
        "triglycerides": 0,
        "fibrinogen": 30,
        "ast": 0,
        "hemophagocytosis_marrow": 0,
    }


def test_example_7_hscore_without_marrow_still_below_cutoff():
    # No marrow: range [122, 122 + 35 = 157]; max 157 < 169 -> not_met; no probability (incomplete).
    c = crit(run(EXAMPLE_7_LABS, **EXAMPLE_7_CONTEXT), "hscore")
    assert c["score_range"] == [122, 157]
    assert c["status"] == "not_met"
    assert c["probability"] is None


def test_example_8_hscore_triglycerides_in_mg_dl():
    # Temp 37.5 -> 0; splenomegaly only -> 23; Hb 8.0 + WBC 4.0 -> 2 lineages -> 24; ferritin 2500 -> 35;
    # TG 140 mg/dL / 88.57 = 1.5807 mmol/L >= 1.5 -> 44; fibrinogen 3.0 g/L -> 0; AST 45 -> 19; marrow yes -> 35.
    # 0 + 0 + 23 + 24 + 35 + 44 + 0 + 19 + 35 = 180 >= 169; exactly the tabulated 180 -> "70%".
    r = run(
        {
            "temperature": 37.5,
            "hemoglobin": 8.0,
            "wbc": 4.0,
            "platelets": 200,
            "ferritin": 2500,
            "triglycerides": 140,
            "fibrinogen": g_per_l(3.0),
            "ast": 45,
        },
        age_years=40,
        known_immunosuppression=False,
        hepatomegaly=False,
        splenomegaly=True,
        hemophagocytosis_marrow=True,
    )
    c = crit(r, "hscore")
    assert c["score"] == 180
    assert c["status"] == "met"
    assert c["probability"] == {"low_percent": 70, "high_percent": 70, "label": "70%"}
    tg = item(r, "hscore", "triglycerides")
    assert tg["unit"] == "mmol/L"
    assert tg["value"] == pytest.approx(140 / 88.57, rel=1e-12)  # 1.58067...
    assert tg["points"] == 44


# ----------------------------------------------------------------------------------- Example 9


def mh_patient(onset, neutrophils, fibrinogen, splenomegaly, platelets, hemoglobin, **context):
    return run(
        {"neutrophils": neutrophils, "fibrinogen": fibrinogen, "platelets": platelets, "hemoglobin": hemoglobin},
        age_at_onset_years=onset,
        splenomegaly=splenomegaly,
        **context,
    )


def test_example_9a_mh_score_infant_favours_phlh():
    # Onset 0.5 <= 1.6 -> 37; neutrophils 0.8 <= 1.4 -> 37; fibrinogen 100 <= 131 -> 15; splenomegaly 12;
    # platelets 50 <= 78 -> 11; Hb 7.5 <= 8.3 -> 11: 37+37+15+12+11+11 = 123 >= 60 -> favours primary HLH.
    r = mh_patient(0.5, 0.8, 100, True, 50, 7.5, age_years=0.5)
    c = crit(r, "mh_score")
    assert c["score"] == 123
    assert c["status"] == "met"
    assert [it["points"] for it in c["items"]] == [37, 37, 15, 12, 11, 11]
    assert r["summary"]["phlh_signal"] == "favours_phlh"


def test_example_9b_mh_score_sjia_child_favours_mas():
    # Age 6 -> 0; neutrophils 3.0 -> 0; fibrinogen 120 -> 15; splenomegaly 12; platelets 70 -> 11;
    # Hb 9.0 -> 0: 15 + 12 + 11 = 38 < 60 -> favours MAS.
    r = mh_patient(6, 3.0, 120, True, 70, 9.0, age_years=6, underlying_disease="sjia")
    c = crit(r, "mh_score")
    assert c["score"] == 38
    assert c["status"] == "not_met"
    assert [it["points"] for it in c["items"]] == [0, 0, 15, 12, 11, 0]
    assert r["summary"]["phlh_signal"] == "favours_mas"


@pytest.mark.parametrize(
    ("fibrinogen", "fibrinogen_points", "total"),
    [
        # Age 1.6 -> 37, neutrophils 1.5 -> 0, fibrinogen 140 -> 0, splenomegaly 12, platelets 78 -> 11,
        # Hb 8.3 -> 11: 37 + 0 + 0 + 12 + 11 + 11 = 71 >= 60.
        pytest.param(140, 0, 71, id="9c-fibrinogen-140-mg-dL"),
        # Fibrinogen 1.31 g/L = 131 mg/dL <= 131 -> 15: 71 + 15 = 86.
        pytest.param(g_per_l(1.31), 15, 86, id="9c-fibrinogen-1.31-g-L"),
    ],
)
def test_example_9c_mh_score_boundaries(fibrinogen, fibrinogen_points, total):
    r = mh_patient(1.6, 1.5, fibrinogen, True, 78, 8.3, age_years=3)
    c = crit(r, "mh_score")
    assert c["score"] == total
    assert c["status"] == "met"
    assert [it["points"] for it in c["items"]] == [37, 0, fibrinogen_points, 12, 11, 11]
    assert item(r, "mh_score", "fibrinogen")["value"] == pytest.approx(131 if fibrinogen_points else 140)


# ----------------------------------------------------------------------------------- Example 10


def test_example_10a_hlh2004_five_of_eight():
    # Fever yes; splenomegaly yes; Hb 8.5 < 9 yes, platelets 120 no, neutrophils 0.8 < 1.0 yes -> 2/3 -> met;
    # TG 3.2 mmol/L >= 3.0 -> met; ferritin 1200 >= 500 -> met. Haemophagocytosis, NK, sCD25 not available.
    # 5 met of 5 assessable (3 not assessed) -> 5 >= 5 -> fulfilled.
    r = run(
        {"hemoglobin": 8.5, "platelets": 120, "neutrophils": 0.8, "triglycerides": mmol(3.2), "ferritin": 1200},
        febrile=True,
        splenomegaly=True,
        age_years=4,
    )
    c = crit(r, "hlh2004")
    assert c["status"] == "met"
    assert (c["count_met"], c["count_assessable"]) == (5, 5)
    results = {it["id"]: it["result"] for it in c["items"]}
    assert results == {
        "fever": "met",
        "splenomegaly": "met",
        "cytopenias": "met",
        "triglycerides_fibrinogen": "met",
        "hemophagocytosis": "missing",
        "nk_activity": "missing",
        "ferritin": "met",
        "scd25": "missing",
    }
    cyto = {sub["id"]: sub["result"] for sub in item(r, "hlh2004", "cytopenias")["components"]}
    assert cyto == {"hemoglobin": "met", "platelets": "not_met", "neutrophils": "met"}
    for key in ("hemophagocytosis_marrow", "hemophagocytosis_other_site", "nk_activity_low", "scd25"):
        assert key in c["missing"]
    assert any("molecular diagnosis" in cav for cav in c["caveats"])


def test_example_10a_hlh2004_unknown_molecular_diagnosis_is_listed_missing():
    # contract.md: hlh_molecular_diagnosis null -> judged on the eight criteria, "and `missing` lists it".
    r = run(
        {"hemoglobin": 8.5, "platelets": 120, "neutrophils": 0.8, "triglycerides": mmol(3.2), "ferritin": 1200},
        febrile=True,
        splenomegaly=True,
        age_years=4,
    )
    assert "hlh_molecular_diagnosis" in crit(r, "hlh2004")["missing"]


# Example 10b patient: four other criteria decided so the cytopenia lineage decides the status.
# Fever, splenomegaly, TG 3.2 mmol/L, ferritin 1200 -> 4 met; haemophagocytosis no (both sites),
# NK activity normal, sCD25 1000 < 2400 -> 3 not met.
EXAMPLE_10B_LABS = {
    "hemoglobin": 9.5,
    "platelets": 80,
    "neutrophils": 1.2,
    "triglycerides": mmol(3.2),
    "ferritin": 1200,
}
EXAMPLE_10B_CONTEXT = {
    "febrile": True,
    "splenomegaly": True,
    "hemophagocytosis_marrow": False,
    "hemophagocytosis_other_site": False,
    "nk_activity_low": False,
}
EXAMPLE_10B_LABS_SCD25 = {**EXAMPLE_10B_LABS, "scd25": 1000}


@pytest.mark.parametrize(
    ("age", "hb_result", "cytopenias", "status", "count_met", "count_assessable"),
    [
        # 3 weeks = 21 days < 28: Hb 9.5 < 10 yes; platelets 80 < 100 yes; neutrophils 1.2 no -> 2/3 met.
        # 4 + cytopenias = 5 of 8 -> fulfilled.
        pytest.param(21 / 365.25, "met", "met", "met", 5, 8, id="10b-age-3-weeks"),
        # 2 years: Hb 9.5 is not < 9 -> only platelets -> 1/3 -> not met; 4 of 8, all assessable -> not met.
        pytest.param(2, "not_met", "not_met", "not_met", 4, 8, id="10b-age-2-years"),
        # Age unknown: Hb 9.5 is < 10 but not < 9 -> undecided; 1 met + 1 undecided of 3 -> the lineage
        # item is undecided; 4 met + 1 undecided -> indeterminate.
        pytest.param(None, "missing", "missing", "indeterminate", 4, 7, id="10b-age-unknown"),
    ],
)
def test_example_10b_hlh2004_infant_haemoglobin(age, hb_result, cytopenias, status, count_met, count_assessable):
    context = dict(EXAMPLE_10B_CONTEXT)
    if age is not None:
        context["age_years"] = age
    r = run(EXAMPLE_10B_LABS_SCD25, **context)
    assert component(r, "hlh2004", "cytopenias", "hemoglobin")["result"] == hb_result
    assert component(r, "hlh2004", "cytopenias", "platelets")["result"] == "met"
    assert component(r, "hlh2004", "cytopenias", "neutrophils")["result"] == "not_met"
    assert item(r, "hlh2004", "cytopenias")["result"] == cytopenias
    c = crit(r, "hlh2004")
    assert c["status"] == status
    assert (c["count_met"], c["count_assessable"]) == (count_met, count_assessable)
    assert ("age_years" in c["missing"]) is (age is None)


def test_example_10b_age_unknown_hb_9_5_lists_age_as_missing():
    # Only Hb 9.5 and no age: the Hb lineage is undecided and age_years is what would decide it.
    r = run({"hemoglobin": 9.5})
    assert component(r, "hlh2004", "cytopenias", "hemoglobin")["result"] == "missing"
    assert "age_years" in crit(r, "hlh2004")["missing"]
    assert "hemoglobin" not in crit(r, "hlh2004")["missing"]  # entered; the age is what is missing


@pytest.mark.parametrize(
    ("labs", "path", "expected"),
    [
        pytest.param({"ferritin": 500}, ("ferritin",), "met", id="10c-ferritin-500-met"),
        pytest.param(
            {"fibrinogen": g_per_l(1.5)},
            ("triglycerides_fibrinogen", "fibrinogen"),
            "met",
            id="10c-fibrinogen-1.5-g-L-met",
        ),
        pytest.param({"platelets": 100}, ("cytopenias", "platelets"), "not_met", id="10c-platelets-100-not-met"),
        pytest.param({"scd25": 2400}, ("scd25",), "met", id="10c-scd25-2400-met"),
    ],
)
def test_example_10c_hlh2004_boundaries(labs, path, expected):
    r = run(labs, age_years=5)
    found = item(r, "hlh2004", path[0]) if len(path) == 1 else component(r, "hlh2004", *path)
    assert found["result"] == expected


# ----------------------------------------------------------------------------------- Example 11


@pytest.mark.parametrize(
    ("ferritin", "esr", "ratio", "status"),
    [
        pytest.param(5000, 20, 250, "met", id="11a-250-favours-MAS"),  # 5000 / 20 = 250 >= 21.5
        pytest.param(1500, 100, 15, "not_met", id="11b-15-favours-flare"),  # 1500 / 100 = 15 < 21.5
        pytest.param(2150, 100, 21.5, "met", id="11c-21.5-at-cutoff"),  # 2150 / 100 = 21.5 (>= by decision)
    ],
)
def test_example_11_ferritin_esr(ferritin, esr, ratio, status):
    r = run({"ferritin": ferritin, "esr": esr}, underlying_disease="sjia", febrile=True, age_years=7)
    c = crit(r, "ferritin_esr")
    assert c["score"] == ratio
    assert c["status"] == status
    at_cutoff = any("exactly at 21.5" in cav for cav in c["caveats"])
    assert at_cutoff is (ratio == 21.5)
    # Ferritin:ESR supports but never decides the MAS signal alone.
    assert r["summary"]["mas_signal"] == "insufficient_data"


def test_example_11a_ratio_appears_as_supporting_evidence():
    r = run({"ferritin": 5000, "esr": 20}, underlying_disease="sjia", febrile=True, age_years=7)
    assert any("Ferritin:ESR" in s for s in r["summary"]["supporting"])


def test_example_11d_esr_zero_ratio_not_computable():
    # ESR 0 -> ratio undefined -> score null, indeterminate.
    r = run({"ferritin": 5000, "esr": 0}, underlying_disease="sjia", febrile=True, age_years=7)
    c = crit(r, "ferritin_esr")
    assert c["score"] is None
    assert c["status"] == "indeterminate"
    assert item(r, "ferritin_esr", "ratio")["result"] == "missing"
    assert r["input_warnings"] == []  # 0 is a valid ESR, not a bad value


# ----------------------------------------------------------------------------------- Example 12

EXAMPLE_12_LABS = {
    "wbc": 3.5,  # <= 4.0 yes
    "platelets": 140,  # <= 150 yes -> cytopenia >= 2 lineages met
    "ferritin": 800,  # > 500 yes
    "ast": 35,  # > 40 no
    "ldh": 400,  # > 567 no
    "fibrinogen": g_per_l(2.5),  # <= 1.5 no
    "triglycerides": 150,  # > 178 mg/dL no
}
EXAMPLE_12_CONTEXT = {
    "underlying_disease": "sle",
    "age_years": 14,
    "splenomegaly": False,
    "hemorrhagic_manifestations": False,
    "cns_involvement": False,
}


def test_example_12a_parodi_meets():
    # Temperature 38.5 > 38 -> 1 clinical; cytopenia + ferritin -> 2 laboratory -> meets.
    # 3 met of 11 counted items (5 clinical + 6 laboratory), all assessable.
    r = run({**EXAMPLE_12_LABS, "temperature": 38.5}, **EXAMPLE_12_CONTEXT, hepatomegaly=False)
    c = crit(r, "parodi2009")
    assert c["status"] == "met"
    assert (c["count_met"], c["count_assessable"]) == (3, 11)
    met = {it["id"] for it in c["items"] if it["result"] == "met"}
    assert met == {"fever", "cytopenias", "ferritin"}
    assert c["population"] == "validated"


def test_example_12b_parodi_does_not_meet():
    # Temperature 38.0 is not > 38; liver 2 cm is not >= 3 cm; no other clinical sign -> 0 clinical -> not met.
    r = run({**EXAMPLE_12_LABS, "temperature": 38.0}, **EXAMPLE_12_CONTEXT, hepatomegaly=True, hepatomegaly_cm=2)
    c = crit(r, "parodi2009")
    assert c["status"] == "not_met"
    assert (c["count_met"], c["count_assessable"]) == (2, 11)
    assert item(r, "parodi2009", "fever")["result"] == "not_met"
    assert item(r, "parodi2009", "hepatomegaly")["result"] == "not_met"


# ----------------------------------------------------------------------------------- Example 13


def test_example_13a_ohi_positive():
    # sCD25 5000 > 3900 and ferritin 2000 > 1000 -> positive; no cut-off caveat.
    c = crit(run({"scd25": 5000, "ferritin": 2000}, age_years=55, hematologic_malignancy=True), "ohi")
    assert c["status"] == "met"
    assert not any("Figure 3" in cav for cav in c["caveats"])


@pytest.mark.parametrize(
    ("scd25", "ferritin"),
    [
        pytest.param(3900, 1000, id="13b-both-at-cutoff"),
        pytest.param(3900, 2000, id="13b-scd25-at-cutoff"),
        pytest.param(5000, 1000, id="13b-ferritin-at-cutoff"),
    ],
)
def test_example_13b_ohi_exact_cutoff_not_met_with_ambiguity_caveat(scd25, ferritin):
    # The abstract's strict ">" counts (Decisions): a value exactly at 3900 / 1000 does not meet;
    # the paper's Figure 3 legend writes ">=", so the ambiguity is flagged.
    c = crit(run({"scd25": scd25, "ferritin": ferritin}, age_years=55, hematologic_malignancy=True), "ohi")
    assert c["status"] == "not_met"
    assert any("exactly at 3900" in cav and "Figure 3" in cav for cav in c["caveats"])
