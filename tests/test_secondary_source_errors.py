"""Negative tests for criteria-spec.md "Known errors in secondary sources".

Each test enters a value where a known secondary-source error would change the answer and checks
that MAS Screen gives the primary source's answer. Expected numbers are worked out by hand.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml
from conftest import crit, item, run
from panels import hscore_patient

ROOT = Path(__file__).resolve().parents[1]


def q(value, unit):
    return {"value": value, "unit": unit}


def component(result: dict, iid: str, item_id: str, sub_id: str) -> dict:
    return next(sub for sub in item(result, iid, item_id)["components"] if sub["id"] == sub_id)


# --------------------------------------------------- MSD Manual: "fibrinogen <= 360 mg/dL (<= 10.58 g/L)"


def test_msd_fibrinogen_10_58_g_per_l_does_not_meet_2016_fibrinogen():
    # 10.58 g/L = 1058 mg/dL, far above 360 mg/dL. Read with MSD's label it would "meet".
    r = run({"fibrinogen": q(10.58, "g/L")})
    fib = item(r, "mas2016", "fibrinogen")
    assert fib["value"] == pytest.approx(1058)
    assert fib["result"] == "not_met"


def test_msd_fibrinogen_error_does_not_flip_the_classification():
    # Febrile, ferritin 2000 > 684, platelets 150 <= 181 (1 companion); AST 30, TG 100 no;
    # fibrinogen 10.58 g/L = 1058 mg/dL no -> 1/4 -> not classified (MSD's label would give 2/4 -> MAS).
    r = run(
        {"ferritin": 2000, "platelets": 150, "ast": 30, "triglycerides": 100, "fibrinogen": q(10.58, "g/L")},
        febrile=True,
        underlying_disease="sjia",
    )
    c = crit(r, "mas2016")
    assert (c["count_met"], c["status"]) == (1, "not_met")


def test_msd_10_58_is_a_micromolar_value():
    # The 10.58 belongs to umol/L: 10.58 x 100/2.94 = 359.86 mg/dL <= 360 -> met.
    fib = item(run({"fibrinogen": q(10.58, "µmol/L")}), "mas2016", "fibrinogen")
    assert fib["value"] == pytest.approx(359.8639455782, rel=1e-9)
    assert fib["result"] == "met"


# -------------------------------------------- BMC Infect Dis 2022: HScore TG bands 150/400 mg/dL (wrong)


@pytest.mark.parametrize(
    ("tg_mg_dl", "mmol", "points", "wrong_points"),
    [
        # mg/dL / 88.57 -> mmol/L; bands < 1.5 -> 0, 1.5-4.0 -> 44, > 4.0 -> 64
        pytest.param(140, 1.580671, 44, 0, id="140-mg-dL-is-1.58-mmol"),
        pytest.param(145, 1.637123, 44, 0, id="145-mg-dL-is-1.64-mmol"),
        pytest.param(360, 4.064582, 64, 44, id="360-mg-dL-is-4.06-mmol"),
        pytest.param(399, 4.504911, 64, 44, id="399-mg-dL-is-4.50-mmol"),
    ],
)
def test_hscore_triglycerides_not_scored_with_150_400_mg_dl_bands(tg_mg_dl, mmol, points, wrong_points):
    tg = item(run({"triglycerides": tg_mg_dl}), "hscore", "triglycerides")
    assert tg["value"] == pytest.approx(mmol, abs=1e-6)
    assert tg["points"] == points
    assert tg["points"] != wrong_points


def test_example_8_totals_180_not_136():
    # Example 8: 0 + 0 + 23 + 24 + 35 + 44 + 0 + 19 + 35 = 180 (TG 140 mg/dL -> 44).
    # With the wrong 150 mg/dL band TG would score 0 and the total would be 136 < 169.
    r = run(
        {
            "temperature": 37.5,
            "hemoglobin": 8.0,
            "wbc": 4.0,
            "platelets": 200,
            "ferritin": 2500,
            "triglycerides": 140,
            "fibrinogen": q(3.0, "g/L"),
            "ast": 45,
        },
        known_immunosuppression=False,
        hepatomegaly=False,
        splenomegaly=True,
        hemophagocytosis_marrow=True,
    )
    c = crit(r, "hscore")
    assert c["score"] == 180
    assert c["score"] != 136
    assert c["status"] == "met"


# --------------------------- calculators: "HScore 169 -> 82%/88%", ">=169 = >93%"; code: logistic formulae


def hscore(**points) -> dict:
    return crit(hscore_patient(**points), "hscore")


# (score, chosen points, low %, high %, label) from the published table:
# <=90 <1 | 100 1 | 110 3 | 120 5 | 130 9 | 140 16 | 150 25 | 160 40 | 170 54 | 180 70 | 190 80 | 200 88 |
# 210 93 | 220 96 | 230 98 | 240 99 | >=250 >99; between two points the bracket; contract edge labels.
PROBABILITIES = [
    (90, {"temp": 33, "organ": 23, "cyto": 34}, 0, 1, "<1%"),  # 33+23+34
    (91, {"organ": 23, "cyto": 24, "tg": 44}, 0, 1, "≤1%"),  # 23+24+44
    (95, {"temp": 33, "organ": 38, "cyto": 24}, 0, 1, "≤1%"),  # 33+38+24
    (99, {"tg": 64, "marrow": 35}, 0, 1, "≤1%"),  # 64+35
    (100, {"ferritin": 35, "fib": 30, "marrow": 35}, 1, 1, "1%"),  # 35+30+35
    (105, {"temp": 33, "organ": 38, "cyto": 34}, 1, 3, "1–3%"),  # 33+38+34
    (120, {"temp": 33, "organ": 23, "tg": 64}, 5, 5, "5%"),  # 33+23+64
    (122, {"organ": 23, "tg": 64, "marrow": 35}, 5, 9, "5–9%"),  # 23+64+35
    (140, {"organ": 23, "cyto": 34, "tg": 64, "ast": 19}, 16, 16, "16%"),  # 23+34+64+19
    (150, {"temp": 33, "cyto": 34, "tg": 64, "ast": 19}, 25, 25, "25%"),  # 33+34+64+19
    (160, {"temp": 49, "organ": 23, "cyto": 24, "tg": 64}, 40, 40, "40%"),  # 49+23+24+64
    (165, {"temp": 33, "organ": 38, "tg": 64, "fib": 30}, 40, 54, "40–54%"),  # 33+38+64+30
    (168, {"ferritin": 50, "tg": 64, "ast": 19, "marrow": 35}, 40, 54, "40–54%"),  # 50+64+19+35
    (169, {"temp": 33, "organ": 38, "cyto": 34, "tg": 64}, 40, 54, "40–54%"),  # 33+38+34+64
    (170, {"temp": 33, "organ": 23, "ferritin": 50, "tg": 64}, 54, 54, "54%"),  # 33+23+50+64
    (175, {"temp": 49, "organ": 38, "cyto": 24, "tg": 64}, 54, 70, "54–70%"),  # 49+38+24+64
    (180, {"organ": 23, "cyto": 24, "ferritin": 50, "tg": 64, "ast": 19}, 70, 70, "70%"),  # 23+24+50+64+19
    (190, {"organ": 23, "cyto": 34, "ferritin": 50, "tg": 64, "ast": 19}, 80, 80, "80%"),  # 23+34+50+64+19
    (200, {"temp": 33, "cyto": 34, "ferritin": 50, "tg": 64, "ast": 19}, 88, 88, "88%"),  # 33+34+50+64+19
    (205, {"organ": 38, "cyto": 34, "ferritin": 50, "tg": 64, "ast": 19}, 88, 93, "88–93%"),  # 38+34+50+64+19
    (210, {"temp": 49, "organ": 23, "cyto": 24, "ferritin": 50, "tg": 64}, 93, 93, "93%"),  # 49+23+24+50+64
    (220, {"temp": 33, "organ": 38, "ferritin": 50, "tg": 64, "marrow": 35}, 96, 96, "96%"),  # 33+38+50+64+35
    (230, {"organ": 38, "cyto": 24, "ferritin": 50, "tg": 64, "ast": 19, "marrow": 35}, 98, 98, "98%"),
    (240, {"organ": 38, "cyto": 34, "ferritin": 50, "tg": 64, "ast": 19, "marrow": 35}, 99, 99, "99%"),
    (241, {"organ": 38, "cyto": 24, "ferritin": 50, "tg": 64, "fib": 30, "marrow": 35}, 99, 100, "≥99%"),
    (249, {"temp": 33, "organ": 38, "cyto": 34, "ferritin": 50, "tg": 64, "fib": 30}, 99, 100, "≥99%"),
    (250, {"temp": 33, "organ": 38, "ferritin": 50, "tg": 64, "fib": 30, "marrow": 35}, 99, 100, ">99%"),
    (266, {"temp": 49, "organ": 38, "ferritin": 50, "tg": 64, "fib": 30, "marrow": 35}, 99, 100, ">99%"),
]


@pytest.mark.parametrize(
    ("score", "points", "low", "high", "label"), [pytest.param(*p, id=f"hscore-{p[0]}") for p in PROBABILITIES]
)
def test_hscore_probability_only_from_published_table(score, points, low, high, label):
    assert sum(points.values()) == score  # the hand sum in the comment
    c = hscore(**points)
    assert c["score"] == score
    assert c["probability"] == {"low_percent": low, "high_percent": high, "label": label}


def logistic(score: float, a: float, b: float) -> float:
    return 100 / (1 + math.exp(-(a + b * score)))


@pytest.mark.parametrize(
    ("score", "points", "low", "high", "label"), [pytest.param(*p, id=f"hscore-{p[0]}") for p in PROBABILITIES]
)
def test_hscore_probability_is_not_the_circulating_logistic_formula(score, points, low, high, label):
    # p = 1/(1+e^-(-4.3+0.03 x HScore)) contradicts the table: 16.8% at 90, 68% at 169, 96% at 250.
    c = hscore(**points)
    wrong = logistic(score, -4.3, 0.03)
    prob = c["probability"]
    assert not (prob["low_percent"] <= wrong <= prob["high_percent"])


def test_hscore_169_is_40_to_54_not_82_88_or_over_93():
    # 169 lies between tabulated 160 (40%) and 170 (54%): "40–54%".
    c = hscore(temp=33, organ=38, cyto=34, tg=64)  # 33+38+34+64 = 169
    assert c["score"] == 169
    assert c["status"] == "met"
    prob = c["probability"]
    assert prob == {"low_percent": 40, "high_percent": 54, "label": "40–54%"}
    for wrong in (68, 82, 88, 93):
        assert not (prob["low_percent"] <= wrong <= prob["high_percent"])
    assert ">93" not in prob["label"]


@pytest.mark.parametrize(
    ("score", "points", "interpolated"),
    [
        # linear interpolation would give a single value; the table gives the bracket of the two points
        pytest.param(165, {"temp": 33, "organ": 38, "tg": 64, "fib": 30}, 47, id="165-not-47%"),  # 40 + 0.5 x 14
        pytest.param(175, {"temp": 49, "organ": 38, "cyto": 24, "tg": 64}, 62, id="175-not-62%"),  # 54 + 0.5 x 16
        pytest.param(122, {"organ": 23, "tg": 64, "marrow": 35}, 5.8, id="122-not-5.8%"),  # 5 + 0.2 x 4
    ],
)
def test_hscore_probability_is_not_interpolated(score, points, interpolated):
    prob = hscore(**points)["probability"]
    assert prob["low_percent"] != prob["high_percent"]
    assert prob["low_percent"] != interpolated
    assert prob["high_percent"] != interpolated
    assert f"{interpolated}%" not in prob["label"]


def test_hscore_tabulated_points_are_exact_not_fitted():
    # The unpublished fitted curve 1/(1+e^-(-10.54+0.0628 x HScore)) gives 74.6% at 180; the table says 70.
    prob = hscore(organ=23, cyto=24, ferritin=50, tg=64, ast=19)["probability"]  # 180
    assert prob == {"low_percent": 70, "high_percent": 70, "label": "70%"}
    assert round(logistic(180, -10.54, 0.0628)) != 70


def test_hscore_performance_is_93_86_not_82_88():
    from mas_screen.criteria.loading import criteria

    spec = criteria().instruments["hscore"]
    assert "93%" in spec.performance and "86%" in spec.performance
    assert "82%" not in spec.performance and "88%" not in spec.performance


# ------------------------------------------------------ highlighthlh: "MS score is -2.1" (the >= is dropped)


@pytest.mark.parametrize(
    ("ferritin", "score"),
    [
        pytest.param(2000, -2.1, id="exactly--2.1-met"),  # -0.9 + 0.4 - 1.8 + 0.2
        pytest.param(8500, -1.45, id="above--2.1-met"),  # -0.9 + 0.4 - 1.8 + 0.85
    ],
)
def test_ms_score_cutoff_is_at_least_minus_2_1(ferritin, score):
    c = crit(
        run(
            {"platelets": 300, "ldh": 400, "fibrinogen": 450, "ferritin": ferritin},
            cns_involvement=False,
            hemorrhagic_manifestations=False,
            active_arthritis=False,
        ),
        "ms_score",
    )
    assert c["score"] == score
    assert c["status"] == "met"
    assert c["cutoff"] == -2.1
    assert c["cutoff_label"] == "≥ -2.1"


def test_ms_score_journal_is_ann_rheum_dis():
    r = run({"ferritin": 1000})
    citation = r["references"]["minoia2019"]["citation"]
    assert "Ann Rheum Dis" in citation
    assert "Arthritis Rheumatol" not in citation


# --------------------------------------------- JITC: "ferritin >= 500 mg/L"; "STXBP1" for STXBP2


def test_jitc_ferritin_mg_per_l_is_not_an_accepted_ferritin_unit():
    # mg/L would be 1000x ng/mL; the tool must neither read it as ng/mL nor convert it silently.
    r = run({"ferritin": q(500, "mg/L")})
    assert [(w["field"], w["code"]) for w in r["input_warnings"]] == [("ferritin", "unknown_unit")]
    hlh = item(r, "hlh2004", "ferritin")
    assert hlh["result"] == "missing"
    assert "ferritin" in crit(r, "hlh2004")["missing"]


@pytest.mark.parametrize("unit", ["ng/mL", "µg/L", "ug/L"])
def test_hlh2004_ferritin_500_in_ng_ml_or_ug_l_meets(unit):
    hlh = item(run({"ferritin": q(500, unit)}), "hlh2004", "ferritin")
    assert hlh["unit"] == "ng/mL"
    assert hlh["result"] == "met"


def _texts_shown_to_users() -> list[str]:
    """Every caveat, note and education text (not the references' notes about errors)."""
    texts: list[str] = []
    for path in sorted((ROOT / "criteria").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))

        def walk(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("text", "note", "label", "purpose", "description") and isinstance(value, str):
                        texts.append(value)
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(data)
    edu = yaml.safe_load((ROOT / "references" / "education.yaml").read_text(encoding="utf-8"))
    for topic in edu["topics"]:
        texts.append(topic["title"])
        texts.extend(p["text"] for p in topic["points"])
    return texts


def test_no_user_text_lists_stxbp1_as_an_hlh_gene():
    assert not [t for t in _texts_shown_to_users() if "STXBP1" in t]


def test_no_user_text_says_mas_has_no_approved_treatment():
    # Emapalumab: FDA-approved for primary HLH (2018) and HLH/MAS in Still's disease (June 2025).
    # A sentence may mention the old claim only to call it out of date.
    pattern = re.compile(r"no (fda[- ])?approved (treatment|therapy|drug)", re.IGNORECASE)
    sentences = [s for t in _texts_shown_to_users() for s in re.split(r"(?<=[.;])\s+", t)]
    claims = [s for s in sentences if pattern.search(s) and not re.search(r"out of date|outdated", s, re.IGNORECASE)]
    assert claims == []


def test_education_states_the_2025_emapalumab_approval_for_mas():
    edu = yaml.safe_load((ROOT / "references" / "education.yaml").read_text(encoding="utf-8"))
    points = [p for topic in edu["topics"] for p in topic["points"]]
    assert any(
        p["citation"] == "fda_emapalumab2025" and "2025" in p["text"] and "emapalumab" in p["text"] for p in points
    )
    assert any(p["citation"] == "fda_emapalumab2018" and "2018" in p["text"] for p in points)


# ------------------------------------------------------------- Parodi table: "Hb <= 9 mg/dL" (g/dL)


@pytest.mark.parametrize(
    ("hb", "result"),
    [
        pytest.param(9.0, "met", id="9.0-g-dL"),
        pytest.param(q(90, "g/L"), "met", id="90-g-L"),
        pytest.param(8.0, "met", id="8.0-g-dL"),
        pytest.param(9.1, "not_met", id="9.1-g-dL"),
    ],
)
def test_parodi_haemoglobin_threshold_is_9_g_dl(hb, result):
    hb_item = component(run({"hemoglobin": hb}), "parodi2009", "cytopenias", "hemoglobin")
    assert hb_item["unit"] == "g/dL"
    assert hb_item["threshold"] == "≤ 9.0 g/dL"
    assert hb_item["result"] == result


def test_parodi_haemoglobin_in_mg_dl_is_refused_not_compared():
    r = run({"hemoglobin": q(9, "mg/dL")})
    assert [(w["field"], w["code"]) for w in r["input_warnings"]] == [("hemoglobin", "unknown_unit")]
    assert component(r, "parodi2009", "cytopenias", "hemoglobin")["result"] == "missing"


# ------------------------------------------- The Rheumatologist: 0.99 reported as a second "sensitivity"


def test_mas2016_performance_says_specificity_0_99():
    from mas_screen.criteria.loading import criteria

    perf = criteria().instruments["mas2016"].performance
    assert "sensitivity 0.73" in perf
    assert "specificity 0.99" in perf
    assert "sensitivity 0.99" not in perf


# ---------------------------------------- thebloodproject: "fibrinogen <= 15 mg/dL" (is 1.5 g/L = 150 mg/dL)


@pytest.mark.parametrize(
    ("fibrinogen", "result"),
    [
        # would all be "not met" under <= 15 mg/dL
        pytest.param(100, "met", id="100-mg-dL"),
        pytest.param(150, "met", id="150-mg-dL"),
        pytest.param(q(1.2, "g/L"), "met", id="1.2-g-L"),
        pytest.param(151, "not_met", id="151-mg-dL"),
    ],
)
def test_hlh2004_fibrinogen_threshold_is_150_mg_dl(fibrinogen, result):
    fib = component(run({"fibrinogen": fibrinogen}), "hlh2004", "triglycerides_fibrinogen", "fibrinogen")
    assert fib["result"] == result


# ------------------------------------------------------------------ Cureus: "AST > 30" (original >= 30)


def test_hscore_ast_30_scores_19():
    ast = item(run({"ast": 30}), "hscore", "ast")
    assert ast["result"] == "met"
    assert ast["points"] == 19


# --------------------- HLH-2004 reproductions: ">500", ">265 mg/dL", "<150 mg/dL", ">2400" (original >= / <=)


@pytest.mark.parametrize(
    ("labs", "path"),
    [
        pytest.param({"ferritin": 500}, ("ferritin",), id="ferritin-500-not->500"),
        pytest.param({"scd25": 2400}, ("scd25",), id="scd25-2400-not->2400"),
        pytest.param({"fibrinogen": 150}, ("triglycerides_fibrinogen", "fibrinogen"), id="fibrinogen-150-not-<150"),
        pytest.param(
            {"triglycerides": q(3.0, "mmol/L")}, ("triglycerides_fibrinogen", "triglycerides"), id="tg-3.0-mmol-met"
        ),
        # 265.71 mg/dL = 3.0 mmol/L exactly (x 88.57)
        pytest.param({"triglycerides": 265.71}, ("triglycerides_fibrinogen", "triglycerides"), id="tg-265.71-mg-dL"),
    ],
)
def test_hlh2004_inclusive_cutoffs(labs, path):
    r = run(labs)
    found = item(r, "hlh2004", path[0]) if len(path) == 1 else component(r, "hlh2004", *path)
    assert found["result"] == "met"
