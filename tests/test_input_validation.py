"""Input handling per contract.md: bad values, units, censored values, fever, `missing`, summary.

Bad values never raise: each gives an `input_warnings` entry and (every code but `conflict`) is
left out of every calculation exactly as if not entered, while the value as typed is echoed back.
"""

from __future__ import annotations

import math
import re

import pytest
from conftest import crit, item, run

from mas_screen import Assessment, PatientInput, assess

CRITERION_IDS = ("mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi")


def find(result: dict, iid: str, path: str) -> dict:
    """An item or a component: 'ferritin' or 'cytopenias.wbc'."""
    top, _, sub = path.partition(".")
    it = item(result, iid, top)
    if not sub:
        return it
    for component in it["components"]:
        if component["id"] == sub:
            return component
    raise KeyError(path)


def users_of(key: str) -> list[str]:
    """The criteria whose items read a lab: those that list it as missing when nothing is entered."""
    empty = run({})
    return [iid for iid in CRITERION_IDS if key in crit(empty, iid)["missing"]]


def without_warnings(result: dict) -> dict:
    return {"criteria": result["criteria"], "summary": result["summary"]}


def warnings_for(result: dict, field: str) -> list[dict]:
    return [w for w in result["input_warnings"] if w["field"] == field]


# ------------------------------------------------------------------------------------ bad lab values

BAD_LABS = [
    # id, key, as typed, code, echo (the typed text the warning's `input` starts with)
    ("word-elevated", "ferritin", "elevated", "not_a_number", "elevated"),
    ("word-abc", "platelets", "abc", "not_a_number", "abc"),
    ("word-with-unit", "ast", {"value": "high", "unit": "U/L"}, "not_a_number", "high U/L"),
    ("json-true", "ferritin", True, "not_a_number", "true"),
    ("json-list", "ferritin", [1], "not_a_number", "[1]"),
    ("json-object-value", "ferritin", {"value": {"n": 1}}, "not_a_number", "{"),
    ("comma-decimal", "fibrinogen", {"value": "3,2", "unit": "g/L"}, "not_a_number", "3,2 g/L"),
    ("nan", "ferritin", math.nan, "not_a_number", "nan"),
    ("infinity", "ldh", math.inf, "not_a_number", "inf"),
    ("bound-without-number", "ferritin", ">", "not_a_number", ">"),
    ("two-points", "platelets", "1.2.3", "not_a_number", "1.2.3"),
    ("negative-platelets", "platelets", -5, "negative", "-5"),
    ("negative-ferritin", "ferritin", -100, "negative", "-100"),
    ("negative-ukat", "ast", {"value": -1, "unit": "µkat/L"}, "negative", "-1 µkat/L"),
    ("negative-wbc-string", "wbc", "-2.5", "negative", "-2.5"),
    ("zero-ferritin", "ferritin", 0, "implausible", "0"),
    ("zero-fibrinogen", "fibrinogen", 0, "implausible", "0"),
    ("zero-hemoglobin", "hemoglobin", 0, "implausible", "0"),
    ("zero-ldh", "ldh", 0, "implausible", "0"),
    ("zero-ast", "ast", 0, "implausible", "0"),
    ("zero-alt", "alt", 0, "implausible", "0"),
    ("zero-triglycerides", "triglycerides", 0, "implausible", "0"),
    ("zero-scd25", "scd25", 0, "implausible", "0"),
    ("hb-300-g/dL", "hemoglobin", {"value": 300, "unit": "g/dL"}, "implausible", "300 g/dL"),
    ("ferritin-2e6", "ferritin", 2_000_000, "implausible", "2000000"),
    ("platelets-1e7-per-uL", "platelets", {"value": 10_000_000, "unit": "/µL"}, "implausible", "10000000 /µL"),
    ("esr-250", "esr", 250, "implausible", "250"),
    ("temperature-50C", "temperature", {"value": 50, "unit": "degC"}, "implausible", "50 degC"),
    ("temperature-negative", "temperature", -5, "implausible", "-5"),
    ("fibrinogen-3.2-mg/dL", "fibrinogen", {"value": 3.2, "unit": "mg/dL"}, "unit_suspect", "3.2 mg/dL"),
    ("fibrinogen-2.5-mg/dL", "fibrinogen", {"value": 2.5, "unit": "mg/dL"}, "unit_suspect", "2.5 mg/dL"),
    ("fibrinogen-bare-3.6", "fibrinogen", 3.6, "unit_suspect", "3.6"),
    ("fibrinogen-360-g/L", "fibrinogen", {"value": 360, "unit": "g/L"}, "unit_suspect", "360 g/L"),
    ("platelets-150000-10^9/L", "platelets", {"value": 150000, "unit": "10^9/L"}, "unit_suspect", "150000 10^9/L"),
    ("hb-90-g/dL", "hemoglobin", {"value": 90, "unit": "g/dL"}, "unit_suspect", "90 g/dL"),
    ("hb-40-g/dL", "hemoglobin", {"value": 40, "unit": "g/dL"}, "unit_suspect", "40 g/dL"),
    ("temperature-102-degC", "temperature", {"value": 102, "unit": "degC"}, "unit_suspect", "102 degC"),
    ("temperature-bare-102.2", "temperature", 102.2, "unit_suspect", "102.2"),
    ("tg-2-mg/dL", "triglycerides", {"value": 2, "unit": "mg/dL"}, "unit_suspect", "2 mg/dL"),
    ("ferritin-furlongs", "ferritin", {"value": 2500, "unit": "furlongs"}, "unknown_unit", "2500 furlongs"),
    ("platelets-mg/dL", "platelets", {"value": 150, "unit": "mg/dL"}, "unknown_unit", "150 mg/dL"),
    ("scd25-pg/mL", "scd25", {"value": 3000, "unit": "pg/mL"}, "not_convertible", "3000 pg/mL"),
    ("scd25-ng/L", "scd25", {"value": 3000, "unit": "ng/L"}, "not_convertible", "3000 ng/L"),
    ("d-dimer-no-FEU", "d_dimer", {"value": 3, "unit": "mg/L"}, "not_convertible", "3 mg/L"),
]


@pytest.mark.parametrize(("key", "typed", "code", "echo"), [r[1:] for r in BAD_LABS], ids=[r[0] for r in BAD_LABS])
def test_bad_lab_value_warns_and_is_left_out(key, typed, code, echo):
    result = run({key: typed})
    warnings = warnings_for(result, key)
    assert [w["code"] for w in warnings] == [code]
    assert len(result["input_warnings"]) == 1
    warning = warnings[0]
    assert warning["message"]
    assert warning["input"].lower().startswith(echo.lower())
    # exactly as if not entered
    assert without_warnings(result) == without_warnings(run({}))
    for iid in users_of(key):
        assert key in crit(result, iid)["missing"], iid


@pytest.mark.parametrize(("key", "typed", "code", "echo"), [r[1:] for r in BAD_LABS], ids=[r[0] for r in BAD_LABS])
def test_bad_lab_value_among_good_ones_is_left_out(key, typed, code, echo):
    context = {"febrile": True, "underlying_disease": "sjia", "splenomegaly": True, "age_years": 6}
    good = {"ferritin": 2500, "platelets": 150, "ast": 60, "triglycerides": 100, "fibrinogen": 300, "esr": 20}
    others = {k: v for k, v in good.items() if k != key}
    result = run(others | {key: typed}, **context)
    assert [w["code"] for w in result["input_warnings"]] == [code]
    assert without_warnings(result) == without_warnings(run(others, **context))


# Where the bad value was needed the status becomes indeterminate; where the others decide, it stays.
FEBRILE_SJIA = {"febrile": True, "underlying_disease": "sjia"}
TWO_COMPANIONS = {"ferritin": 2500, "platelets": 150, "ast": 40, "triglycerides": 100, "fibrinogen": 300}
NEEDED_OR_NOT = [
    ("ferritin-word-needed", "ferritin", "elevated", "not_a_number", "indeterminate"),
    ("ferritin-negative-needed", "ferritin", -5, "negative", "indeterminate"),
    ("ferritin-zero-needed", "ferritin", 0, "implausible", "indeterminate"),
    ("ferritin-unit-needed", "ferritin", {"value": 2500, "unit": "furlongs"}, "unknown_unit", "indeterminate"),
    ("fibrinogen-suspect-needed", "fibrinogen", {"value": 3.2, "unit": "mg/dL"}, "unit_suspect", "indeterminate"),
    ("platelets-suspect-needed", "platelets", {"value": 150000, "unit": "10^9/L"}, "unit_suspect", "indeterminate"),
    ("ast-word-not-needed", "ast", "high", "not_a_number", "met"),
    ("tg-suspect-not-needed", "triglycerides", {"value": 2, "unit": "mg/dL"}, "unit_suspect", "met"),
    ("temperature-suspect-not-needed", "temperature", {"value": 102, "unit": "degC"}, "unit_suspect", "met"),
]


@pytest.mark.parametrize(
    ("key", "typed", "code", "status"), [r[1:] for r in NEEDED_OR_NOT], ids=[r[0] for r in NEEDED_OR_NOT]
)
def test_bad_value_makes_2016_indeterminate_only_when_needed(key, typed, code, status):
    assert crit(run(TWO_COMPANIONS, **FEBRILE_SJIA), "mas2016")["status"] == "met"
    result = run(TWO_COMPANIONS | {key: typed}, **FEBRILE_SJIA)
    assert [w["code"] for w in result["input_warnings"]] == [code]
    assert crit(result, "mas2016")["status"] == status
    if key != "temperature":  # the fever item is decided by `febrile`, so temperature is not listed there
        assert key in crit(result, "mas2016")["missing"]
    else:
        assert "temperature" in crit(result, "hscore")["missing"]


def test_bad_values_decided_by_others_stay_decided():
    # not febrile: the 2016 criteria are not met whatever the unreadable ferritin was
    result = run({"ferritin": "elevated", "platelets": -5}, febrile=False, underlying_disease="sjia")
    assert crit(result, "mas2016")["status"] == "not_met"
    assert {"ferritin", "platelets"} <= set(crit(result, "mas2016")["missing"])
    # OHI: ferritin 800 (not > 1000) decides it negative whatever the sCD25 in pg/mL was
    result = run({"ferritin": 800, "scd25": {"value": 9000, "unit": "pg/mL"}})
    assert crit(result, "ohi")["status"] == "not_met"
    assert crit(result, "ohi")["missing"] == ["scd25"]
    # with ferritin above 1000 the sCD25 is needed
    result = run({"ferritin": 5000, "scd25": {"value": 9000, "unit": "pg/mL"}})
    assert crit(result, "ohi")["status"] == "indeterminate"


# ------------------------------------------------------------------------------- bad context numbers

BAD_CONTEXT = [
    ("age-word", "age_years", "six", "not_a_number"),
    ("age-negative", "age_years", -1, "negative"),
    ("age-200", "age_years", 200, "implausible"),
    ("age-censored", "age_years", ">5", "not_a_number"),
    ("onset-negative", "age_at_onset_years", -0.5, "negative"),
    ("onset-comma", "age_at_onset_years", "1,5", "not_a_number"),
    ("liver-negative", "hepatomegaly_cm", -2, "negative"),
    ("spleen-word", "splenomegaly_cm", "big", "not_a_number"),
]


@pytest.mark.parametrize(("field", "typed", "code"), [r[1:] for r in BAD_CONTEXT], ids=[r[0] for r in BAD_CONTEXT])
def test_bad_context_number_warns_and_is_left_out(field, typed, code):
    result = run({}, **{field: typed})
    assert [(w["field"], w["code"]) for w in result["input_warnings"]] == [(field, code)]
    assert result["input_warnings"][0]["input"].lower().startswith(str(typed).lower())
    assert without_warnings(result) == without_warnings(run({}))


# ------------------------------------------------------------------------------------------ conflict


def test_conflict_not_febrile_with_fever_keeps_both():
    result = run({"temperature": 38.5}, febrile=False)
    assert [(w["field"], w["code"]) for w in result["input_warnings"]] == [("febrile", "conflict")]
    assert result["input_warnings"][0]["message"]
    # `febrile` decides the fever items ...
    assert item(result, "mas2016", "fever")["result"] == "not_met"
    assert item(result, "hlh2004", "fever")["result"] == "not_met"
    # ... and the temperature decides the temperature bands
    assert item(result, "hscore", "temperature")["points"] == 33
    assert item(result, "parodi2009", "fever")["result"] == "met"
    assert "temperature" not in crit(result, "hscore")["missing"]


@pytest.mark.parametrize(
    ("temperature", "conflict"),
    [(38.0, True), (37.9, False), ({"value": 100.4, "unit": "degF"}, True), ({"value": 100.2, "unit": "degF"}, False)],
    ids=["38.0C", "37.9C", "100.4F", "100.2F"],
)
def test_conflict_threshold_is_38(temperature, conflict):
    result = run({"temperature": temperature}, febrile=False)
    assert ("conflict" in [w["code"] for w in result["input_warnings"]]) is conflict


def test_conflict_onset_after_current_age_keeps_both():
    result = run({}, age_years=5, age_at_onset_years=7)
    assert [(w["field"], w["code"]) for w in result["input_warnings"]] == [("age_at_onset_years", "conflict")]
    onset = item(result, "mh_score", "age_at_onset")
    assert onset["value"] == 7
    assert onset["result"] == "not_met"
    # the current age is still used (population fit: a 5-year-old is outside the adult HScore population)
    assert crit(result, "hscore")["population"] == "outside"
    assert crit(result, "hlh2004")["population"] == "validated"


# --------------------------------------------------------------------------------- units and numbers


def test_bare_number_reads_in_default_unit():
    result = run({"platelets": 150, "ferritin": 2500, "fibrinogen": 300, "temperature": 39})
    assert result["input_warnings"] == []
    assert find(result, "mas2016", "platelets")["value"] == 150
    assert find(result, "mas2016", "platelets")["input"]["value"] == 150
    assert find(result, "hscore", "fibrinogen")["value"] == 3.0  # 300 mg/dL in the HScore's g/L
    assert find(result, "hscore", "temperature")["value"] == 39.0


UNIT_SPELLINGS = [
    # id, key, value, unit, criterion, item path, expected value in the criterion's published unit
    ("10*9/L", "platelets", 150, "10*9/L", "mas2016", "platelets", 150),
    ("10^9/l", "platelets", 150, "10^9/l", "mas2016", "platelets", 150),
    ("x10^9/L", "platelets", 150, "x10^9/L", "mas2016", "platelets", 150),
    ("×10⁹/L", "platelets", 150, "×10⁹/L", "mas2016", "platelets", 150),
    ("10*3/uL", "platelets", 150, "10*3/uL", "mas2016", "platelets", 150),
    ("10^3/µL", "platelets", 150, "10^3/µL", "mas2016", "platelets", 150),
    ("K/µL", "platelets", 150, "K/µL", "mas2016", "platelets", 150),
    ("k/ul", "platelets", 150, "k/ul", "mas2016", "platelets", 150),
    ("/mm3", "platelets", 150000, "/mm3", "mas2016", "platelets", 150),
    ("/µL", "platelets", 150000, "/µL", "mas2016", "platelets", 150),
    ("/uL", "platelets", 150000, "/uL", "mas2016", "platelets", 150),
    ("wbc-/mm3", "wbc", 3500, "/mm3", "parodi2009", "cytopenias.wbc", 3.5),
    ("neutrophils-/µL", "neutrophils", 800, "/µL", "hlh2004", "cytopenias.neutrophils", 0.8),
    ("ng/mL", "ferritin", 2500, "ng/mL", "mas2016", "ferritin", 2500),
    ("NG/ML", "ferritin", 2500, "NG/ML", "mas2016", "ferritin", 2500),
    ("ug/L", "ferritin", 2500, "ug/L", "mas2016", "ferritin", 2500),
    ("µg/L", "ferritin", 2500, "µg/L", "mas2016", "ferritin", 2500),
    ("μg/L-greek-mu", "ferritin", 2500, "μg/L", "mas2016", "ferritin", 2500),
    ("UG/L", "ferritin", 2500, "UG/L", "mas2016", "ferritin", 2500),
    ("Cel", "temperature", 39, "Cel", "hscore", "temperature", 39),
    ("°C", "temperature", 39, "°C", "hscore", "temperature", 39),
    ("degc", "temperature", 39, "degc", "hscore", "temperature", 39),
    ("[degF]", "temperature", 102.2, "[degF]", "hscore", "temperature", 39),
    ("degF", "temperature", 102.2, "degF", "hscore", "temperature", 39),
    ("°F", "temperature", 102.2, "°F", "hscore", "temperature", 39),
    ("µkat/L-ast", "ast", 1, "µkat/L", "mas2016", "ast", 60),
    ("ukat/L-ast", "ast", 0.8, "ukat/L", "mas2016", "ast", 48),
    ("µkat/L-ldh", "ldh", 10, "µkat/L", "parodi2009", "ldh", 600),
    ("U/L-ldh", "ldh", 600, "u/l", "parodi2009", "ldh", 600),
    ("g/L-fibrinogen", "fibrinogen", 3.6, "g/L", "mas2016", "fibrinogen", 360),
    ("G/L-fibrinogen", "fibrinogen", 3.6, "G/L", "mas2016", "fibrinogen", 360),
    ("mg/dL-fibrinogen-to-g/L", "fibrinogen", 250, "mg/dl", "hscore", "fibrinogen", 2.5),
    ("g/L-hemoglobin", "hemoglobin", 83, "g/L", "mh_score", "hemoglobin", 8.3),
    ("mmol/L-triglycerides", "triglycerides", 2, "mmol/L", "mas2016", "triglycerides", 177.14),
    ("mg/dL-triglycerides", "triglycerides", 177.14, "mg/dL", "hscore", "triglycerides", 2),
    ("U/mL-scd25", "scd25", 2400, "U/mL", "hlh2004", "scd25", 2400),
]


@pytest.mark.parametrize(
    ("key", "value", "unit", "iid", "path", "expected"),
    [r[1:] for r in UNIT_SPELLINGS],
    ids=[r[0] for r in UNIT_SPELLINGS],
)
def test_unit_spellings_case_insensitive_and_ucum(key, value, unit, iid, path, expected):
    result = run({key: {"value": value, "unit": unit}})
    assert result["input_warnings"] == []
    it = find(result, iid, path)
    assert it["value"] == pytest.approx(expected, rel=1e-12)
    assert it["input"] == {"value": value, "unit": unit}  # echoed as typed


NUMBER_FORMS = [
    # id, typed ferritin, exact value (None when censored), 2016 ferritin (> 684), HScore ferritin points
    ("thousands", "2,500", 2500, "met", 35),
    ("thousands-decimal", "1,234.5", 1234.5, "met", 0),
    ("numeric-string", "685", 685, "met", 0),
    ("spaces", "  6000 ", 6000, "met", 35),
    ("exponent", "7e3", 7000, "met", 50),
    ("gt-thousands-space", "> 20,000", None, "met", 50),
    ("gt", ">40000", None, "met", 50),
    ("gt-spaces", "  >  6000 ", None, "met", 50),
    ("gt-at-cutoff", ">684", None, "met", None),
    ("ge-at-cutoff", ">=684", None, "missing", None),
    ("ge-unicode", "≥685", None, "met", None),
    ("ge-unicode-space", "≥ 2,000", None, "met", None),
    ("ge-6000", ">= 6000", None, "met", None),
    ("lt", "<684", None, "not_met", 0),
    ("le", "<=684", None, "not_met", 0),
    ("le-unicode", "≤ 684", None, "not_met", 0),
    ("le-above-cutoff", "<= 685", None, "missing", 0),
    ("lt-2000", "< 2000", None, "missing", 0),
    ("le-2000", "<=2000", None, "missing", None),
]


@pytest.mark.parametrize(
    ("typed", "exact", "result_2016", "hscore_points"), [r[1:] for r in NUMBER_FORMS], ids=[r[0] for r in NUMBER_FORMS]
)
def test_number_forms_and_censored_values(typed, exact, result_2016, hscore_points):
    result = run({"ferritin": typed})
    # "2,500" and "> 20,000" read as thousands; with a decimal comma they would be 2.5 and > 20, plausible
    # ferritin too: contract "Number spelling" adds ambiguous_number (value used).
    ambiguous = re.fullmatch(r"\D*[1-9]\d{0,2},\d{3}", typed.strip()) is not None
    assert [w["code"] for w in result["input_warnings"]] == (["ambiguous_number"] if ambiguous else [])
    ferritin = item(result, "mas2016", "ferritin")
    assert ferritin["result"] == result_2016
    assert ferritin["value"] == exact
    assert ferritin["input"]["value"] == typed
    assert item(result, "hscore", "ferritin")["points"] == hscore_points
    listed = "ferritin" in crit(result, "mas2016")["missing"]
    assert listed is (result_2016 == "missing")


def test_censored_platelets_in_other_unit_with_thousands():
    result = run({"platelets": {"value": "< 50,000", "unit": "/µL"}})
    assert [w["code"] for w in result["input_warnings"]] == ["ambiguous_number"]  # "< 50 /µL" is plausible too
    assert item(result, "mas2016", "platelets")["result"] == "met"
    assert item(result, "mh_score", "platelets")["points"] == 11
    assert "platelets" not in crit(result, "mh_score")["missing"]


def test_blank_value_is_not_entered():
    """An empty string is read as 'not entered' (like null): left out, listed in `missing`, nothing raises."""
    result = run({"ferritin": "", "platelets": {"value": "  ", "unit": "/µL"}})
    assert without_warnings(result) == without_warnings(run({}))
    assert "ferritin" in crit(result, "mas2016")["missing"]


# ------------------------------------------------------------------------------------------------ fever

FEVER_ITEMS = [
    # id, febrile, temperature, 2016 fever, HLH-2004 fever
    ("febrile-yes", True, None, "met", "met"),
    ("febrile-yes-low-temp", True, 37.2, "met", "met"),
    ("febrile-no", False, None, "not_met", "not_met"),
    ("febrile-no-hot", False, 38.6, "not_met", "not_met"),
    ("temp-37.9", None, 37.9, "not_met", "not_met"),
    ("temp-38.0", None, 38.0, "met", "not_met"),
    ("temp-38.4", None, 38.4, "met", "not_met"),
    ("temp-38.5", None, 38.5, "met", "met"),
    ("temp-101.3F", None, {"value": 101.3, "unit": "degF"}, "met", "met"),  # 38.5 °C exactly
    ("temp-100.4F", None, {"value": 100.4, "unit": "degF"}, "met", "not_met"),  # 38.0 °C exactly
    ("temp-censored-ge-38.5", None, ">=38.5", "met", "met"),
    ("temp-censored-gt-38.2", None, ">38.2", "met", "missing"),
    ("temp-censored-lt-38", None, "<38", "not_met", "not_met"),
    ("temp-censored-lt-38.5", None, "<38.5", "missing", "not_met"),
    ("nothing", None, None, "missing", "missing"),
]


@pytest.mark.parametrize(
    ("febrile", "temperature", "fever_2016", "fever_hlh"), [r[1:] for r in FEVER_ITEMS], ids=[r[0] for r in FEVER_ITEMS]
)
def test_fever_items_2016_and_hlh2004(febrile, temperature, fever_2016, fever_hlh):
    labs = {} if temperature is None else {"temperature": temperature}
    ctx = {} if febrile is None else {"febrile": febrile}
    result = run(labs, **ctx)
    assert item(result, "mas2016", "fever")["result"] == fever_2016
    assert item(result, "hlh2004", "fever")["result"] == fever_hlh
    for iid, res in (("mas2016", fever_2016), ("hlh2004", fever_hlh)):
        missing = crit(result, iid)["missing"]
        if res == "missing":
            assert {"febrile", "temperature"} & set(missing), iid
        else:  # a decided two-source item lists neither source
            assert "febrile" not in missing and "temperature" not in missing, iid


HSCORE_TEMPERATURE = [
    # id, febrile, temperature, item result, points
    ("not-febrile-no-temp", False, None, "not_met", 0),
    ("febrile-no-temp", True, None, "missing", None),
    ("unknown-no-temp", None, None, "missing", None),
    ("38.3", None, 38.3, "not_met", 0),
    ("38.4", None, 38.4, "met", 33),
    ("39.4", None, 39.4, "met", 33),
    ("39.5", None, 39.5, "met", 49),
    ("febrile-yes-37.2", True, 37.2, "not_met", 0),
    ("103F", None, {"value": 103, "unit": "degF"}, "met", 49),  # 39.44 °C
    ("censored-gt-39.4", None, ">39.4", "met", 49),
    ("censored-lt-38.4", None, "<38.4", "not_met", 0),
    ("censored-ge-38.4", None, ">=38.4", "missing", None),  # 33 or 49: points undecided
    ("censored-lt-39", None, "<39", "missing", None),
]


@pytest.mark.parametrize(
    ("febrile", "temperature", "result_", "points"),
    [r[1:] for r in HSCORE_TEMPERATURE],
    ids=[r[0] for r in HSCORE_TEMPERATURE],
)
def test_hscore_temperature_band(febrile, temperature, result_, points):
    labs = {} if temperature is None else {"temperature": temperature}
    ctx = {} if febrile is None else {"febrile": febrile}
    result = run(labs, **ctx)
    band = item(result, "hscore", "temperature")
    assert band["result"] == result_
    assert band["points"] == points
    missing = crit(result, "hscore")["missing"]
    if points is None and temperature is None:
        assert "temperature" in missing
    if points is not None:
        assert "temperature" not in missing and "febrile" not in missing


def test_hscore_temperature_decided_by_not_febrile_gives_complete_score():
    labs = {"hemoglobin": 12, "wbc": 8, "platelets": 250, "ferritin": 300, "triglycerides": 100, "fibrinogen": 400}
    ctx = {"known_immunosuppression": False, "hepatomegaly": False, "splenomegaly": False}
    complete = run(labs | {"ast": 20}, febrile=False, hemophagocytosis_marrow=False, **ctx)
    hscore = crit(complete, "hscore")
    assert (hscore["score"], hscore["score_range"], hscore["status"]) == (0, None, "not_met")
    assert hscore["probability"]["label"] == "<1%"
    febrile = crit(run(labs | {"ast": 20}, febrile=True, hemophagocytosis_marrow=False, **ctx), "hscore")
    assert febrile["score"] is None
    assert febrile["score_range"] == [0, 49]
    assert febrile["probability"] is None


PARODI_FEVER = [
    ("not-febrile-no-temp", False, None, "not_met"),
    ("febrile-no-temp", True, None, "missing"),
    ("unknown-no-temp", None, None, "missing"),
    ("38.0", None, 38.0, "not_met"),
    ("38.1", None, 38.1, "met"),
    ("febrile-yes-37.2", True, 37.2, "not_met"),
    ("censored-gt-38", None, ">38", "met"),
    ("censored-le-38", None, "<=38", "not_met"),
]


@pytest.mark.parametrize(
    ("febrile", "temperature", "expected"), [r[1:] for r in PARODI_FEVER], ids=[r[0] for r in PARODI_FEVER]
)
def test_parodi_fever(febrile, temperature, expected):
    labs = {} if temperature is None else {"temperature": temperature}
    ctx = {} if febrile is None else {"febrile": febrile}
    result = run(labs, **ctx)
    assert item(result, "parodi2009", "fever")["result"] == expected
    missing = crit(result, "parodi2009")["missing"]
    if expected == "missing":
        assert "temperature" in missing
    else:
        assert "temperature" not in missing and "febrile" not in missing


def test_febrile_with_low_temperature_is_a_caveat_not_a_conflict():
    result = run({"temperature": 37.2}, febrile=True)
    assert result["input_warnings"] == []
    assert any("37" in c or "38.0" in c for c in result["summary"]["caveats"][1:])
    assert len(result["summary"]["caveats"]) == len(run({"temperature": 38.2}, febrile=True)["summary"]["caveats"]) + 1


# ------------------------------------------------------------------------------------------ `missing`


def test_single_source_inputs_listed_even_when_status_decided():
    result = run({"ferritin": 2500, "platelets": 150, "ast": 60}, febrile=True, underlying_disease="sjia")
    mas = crit(result, "mas2016")
    assert mas["status"] == "met"
    assert mas["missing"] == ["triglycerides", "fibrinogen"]


@pytest.mark.parametrize(
    ("ctx", "labs"),
    [({"febrile": True}, {}), ({"febrile": False}, {}), ({}, {"temperature": 38.6}), ({}, {"temperature": 37})],
    ids=["febrile-yes", "febrile-no", "temp-hot", "temp-normal"],
)
def test_two_source_fever_item_lists_neither_once_decided(ctx, labs):
    result = run(labs, **ctx)
    for iid in ("mas2016", "hlh2004"):
        missing = crit(result, iid)["missing"]
        assert "febrile" not in missing and "temperature" not in missing, iid


def test_two_source_fever_item_lists_both_while_undecided():
    result = run({})
    for iid in ("mas2016", "hlh2004"):
        assert {"febrile", "temperature"} <= set(crit(result, iid)["missing"])


@pytest.mark.parametrize(
    ("ctx", "listed"),
    [
        ({"age_years": 1.2}, set()),
        ({"age_at_onset_years": 5, "age_years": 6}, set()),
        ({"age_at_onset_years": 1.0}, set()),
        ({"age_years": 5}, {"age_at_onset_years"}),
        ({}, {"age_at_onset_years", "age_years"}),
    ],
    ids=["infant", "both", "onset-only", "age-5", "neither"],
)
def test_two_source_age_item_missing(ctx, listed):
    missing = set(crit(run({}, **ctx), "mh_score")["missing"])
    assert missing & {"age_at_onset_years", "age_years"} == listed


def test_population_fields_never_listed():
    for ctx in ({}, {"underlying_disease": "sle", "biologic_therapy": "il6"}):
        result = run({}, **ctx)
        for iid in CRITERION_IDS:
            missing = crit(result, iid)["missing"]
            assert "underlying_disease" not in missing and "biologic_therapy" not in missing, iid


def test_unknown_molecular_diagnosis_listed_for_hlh2004_with_caveat():
    """contract: `null` is "not known" ... (a caveat says ...), and `missing` lists it."""
    result = run({"ferritin": 2500})
    hlh = crit(result, "hlh2004")
    assert "hlh_molecular_diagnosis" in hlh["missing"]
    assert any("molecular" in c.lower() for c in hlh["caveats"])


def test_molecular_diagnosis_true_fulfils_hlh2004_regardless():
    nothing_met = {"hemoglobin": 13, "platelets": 300, "neutrophils": 5, "ferritin": 100, "triglycerides": 80}
    ctx = {"febrile": False, "splenomegaly": False, "hemophagocytosis_marrow": False}
    ctx |= {"hemophagocytosis_other_site": False, "nk_activity_low": False}
    assert crit(run(nothing_met, **ctx, hlh_molecular_diagnosis=False), "hlh2004")["status"] == "not_met"
    result = run(nothing_met, **ctx, hlh_molecular_diagnosis=True)
    hlh = crit(result, "hlh2004")
    assert hlh["status"] == "met"
    assert "hlh_molecular_diagnosis" not in hlh["missing"]
    assert not any("molecular diagnosis consistent" in c for c in hlh["caveats"])
    assert crit(run({}, hlh_molecular_diagnosis=True), "hlh2004")["status"] == "met"


def test_unknown_molecular_diagnosis_does_not_make_hlh2004_indeterminate():
    nothing_met = {"hemoglobin": 13, "platelets": 300, "neutrophils": 5, "ferritin": 100, "triglycerides": 80}
    ctx = {"febrile": False, "splenomegaly": False, "hemophagocytosis_marrow": False}
    assert crit(run(nothing_met, **ctx), "hlh2004")["status"] == "not_met"


# ----------------------------------------------------------------------------- MH score age at onset

MH_AGE = [
    ("absent-age-1.2", {"age_years": 1.2}, "met", 37),
    ("absent-age-1.6", {"age_years": 1.6}, "met", 37),
    ("absent-age-5", {"age_years": 5}, "missing", None),
    ("absent-age-unknown", {}, "missing", None),
    ("onset-1.6", {"age_at_onset_years": 1.6, "age_years": 8}, "met", 37),
    ("onset-1.7", {"age_at_onset_years": 1.7, "age_years": 8}, "not_met", 0),
]


@pytest.mark.parametrize(("ctx", "expected", "points"), [r[1:] for r in MH_AGE], ids=[r[0] for r in MH_AGE])
def test_mh_age_at_onset(ctx, expected, points):
    onset = item(run({}, **ctx), "mh_score", "age_at_onset")
    assert onset["result"] == expected
    assert onset["points"] == points


# ------------------------------------------------------------------------ HLH-2004 haemophagocytosis

HEMOPHAGOCYTOSIS = [
    ("marrow-yes", True, None, "met"),
    ("other-yes", None, True, "met"),
    ("marrow-yes-other-no", True, False, "met"),
    ("both-no", False, False, "not_met"),
    ("marrow-no-other-unknown", False, None, "missing"),
    ("marrow-unknown-other-no", None, False, "missing"),
    ("both-unknown", None, None, "missing"),
]


@pytest.mark.parametrize(
    ("marrow", "other", "expected"), [r[1:] for r in HEMOPHAGOCYTOSIS], ids=[r[0] for r in HEMOPHAGOCYTOSIS]
)
def test_hlh2004_hemophagocytosis(marrow, other, expected):
    ctx = {
        k: v for k, v in (("hemophagocytosis_marrow", marrow), ("hemophagocytosis_other_site", other)) if v is not None
    }
    result = run({}, **ctx)
    assert item(result, "hlh2004", "hemophagocytosis")["result"] == expected
    missing = set(crit(result, "hlh2004")["missing"]) & {"hemophagocytosis_marrow", "hemophagocytosis_other_site"}
    if expected == "missing":
        assert missing == {
            k for k, v in (("hemophagocytosis_marrow", marrow), ("hemophagocytosis_other_site", other)) if v is None
        }
    else:
        assert missing == set()


# ------------------------------------------------------------------------------------------ summary

# The MS score decided not met (-4.50, criteria-spec example 4) and the 2016 criteria not met (afebrile).
SJIA_NOT_MAS = (
    {"platelets": 450, "ldh": 400, "fibrinogen": 600, "ferritin": 1500},
    {"febrile": False, "cns_involvement": False, "hemorrhagic_manifestations": False, "active_arthritis": True},
)
# Parodi decided not met: no clinical criterion (afebrile, no organomegaly, bleeding or CNS signs).
SLE_NOT_MAS = (
    {"ferritin": 900, "platelets": 120, "wbc": 3.0},
    {
        "febrile": False,
        "hepatomegaly": False,
        "splenomegaly": False,
        "hemorrhagic_manifestations": False,
        "cns_involvement": False,
    },
)
# HScore 0 and HLH-2004 at most 1 of 8: both decided not met.
OTHER_NOT_MAS = (
    {
        "hemoglobin": 12,
        "wbc": 8,
        "platelets": 250,
        "neutrophils": 5,
        "ferritin": 300,
        "triglycerides": 100,
        "fibrinogen": 400,
        "ast": 20,
    },
    {
        "febrile": False,
        "known_immunosuppression": False,
        "hepatomegaly": False,
        "splenomegaly": False,
        "hemophagocytosis_marrow": False,
        "hemophagocytosis_other_site": False,
        "nk_activity_low": False,
    },
)

SIGNALS = [
    ("sjia-not-suggestive", SJIA_NOT_MAS, "sjia", "not_suggestive"),
    ("suspected-sjia-not-suggestive", SJIA_NOT_MAS, "suspected_sjia", "not_suggestive"),
    ("aosd-not-suggestive", SJIA_NOT_MAS, "aosd", "not_suggestive"),
    ("sjia-case-as-sle", SJIA_NOT_MAS, "sle", "insufficient_data"),
    ("sjia-case-as-unknown", SJIA_NOT_MAS, "unknown", "insufficient_data"),
    ("sle-not-suggestive", SLE_NOT_MAS, "sle", "not_suggestive"),
    ("sle-case-as-sjia", SLE_NOT_MAS, "sjia", "insufficient_data"),
    ("sle-case-as-unknown", SLE_NOT_MAS, None, "insufficient_data"),
    ("other-not-suggestive", OTHER_NOT_MAS, "other", "not_suggestive"),
    ("unknown-not-suggestive", OTHER_NOT_MAS, "unknown", "not_suggestive"),
    ("absent-disease-not-suggestive", OTHER_NOT_MAS, None, "not_suggestive"),
]


@pytest.mark.parametrize(("case", "disease", "signal"), [r[1:] for r in SIGNALS], ids=[r[0] for r in SIGNALS])
def test_mas_signal_by_population(case, disease, signal):
    labs, ctx = case
    if disease is not None:
        ctx = ctx | {"underlying_disease": disease}
    result = run(labs, **ctx)
    assert result["summary"]["mas_signal"] == signal
    assert not any(crit(result, i)["status"] == "met" for i in ("mas2016", "ms_score", "hscore", "hlh2004"))


def test_any_mas_instrument_met_is_suggestive_whatever_the_population():
    # HScore 266 (criteria-spec example 6) in a patient labelled sJIA whose own instruments are not decided
    labs = {
        "temperature": 39.0,
        "hemoglobin": 8.5,
        "wbc": 3.0,
        "platelets": 90,
        "ferritin": 8000,
        "triglycerides": {"value": 2.5, "unit": "mmol/L"},
        "fibrinogen": {"value": 2.0, "unit": "g/L"},
        "ast": 120,
    }
    ctx = {"known_immunosuppression": True, "hepatomegaly": True, "splenomegaly": True}
    for disease in ("sjia", "sle", "other"):
        result = run(labs, underlying_disease=disease, **ctx)
        assert crit(result, "hscore")["status"] == "met"
        assert result["summary"]["mas_signal"] == "suggestive"


def test_ferritin_esr_alone_never_decides_the_signal():
    labs, ctx = SJIA_NOT_MAS
    result = run(labs | {"esr": 10}, **ctx, underlying_disease="sjia")  # ratio 150: met
    assert crit(result, "ferritin_esr")["status"] == "met"
    assert result["summary"]["mas_signal"] == "not_suggestive"
    assert any("Ferritin:ESR" in s for s in result["summary"]["supporting"])
    alone = run({"ferritin": 5000, "esr": 20}, underlying_disease="sjia")
    assert crit(alone, "ferritin_esr")["status"] == "met"
    assert [i for i in CRITERION_IDS if crit(alone, i)["status"] == "met"] == ["ferritin_esr"]
    assert alone["summary"]["mas_signal"] == "insufficient_data"


PHLH = [
    (
        "infant-123",
        {"neutrophils": 0.8, "fibrinogen": 100, "platelets": 50, "hemoglobin": 7.5},
        {"age_at_onset_years": 0.5, "age_years": 0.6, "splenomegaly": True},
        "favours_phlh",
    ),
    (
        "sjia-38",
        {"neutrophils": 3.0, "fibrinogen": 120, "platelets": 70, "hemoglobin": 9.0},
        {"age_at_onset_years": 6, "age_years": 6, "splenomegaly": True},
        "favours_mas",
    ),
    ("nothing", {}, {}, "insufficient_data"),
]


@pytest.mark.parametrize(("labs", "ctx", "signal"), [r[1:] for r in PHLH], ids=[r[0] for r in PHLH])
def test_phlh_signal_from_mh_score(labs, ctx, signal):
    result = run(labs, **ctx)
    assert result["summary"]["phlh_signal"] == signal
    status = crit(result, "mh_score")["status"]
    assert {"met": "favours_phlh", "not_met": "favours_mas", "indeterminate": "insufficient_data"}[status] == signal


def test_next_tests_only_lists_inputs_that_could_decide():
    # Everything decided except the 2016 criteria, whose only open item is fever: AST is not entered
    # but the 2016 criteria already have three companions, and every other instrument is decided.
    ctx = {
        "underlying_disease": "sjia",
        "age_years": 6,
        "age_at_onset_years": 6,
        "hepatomegaly": True,
        "hepatomegaly_cm": 4,
        "splenomegaly": True,
        "cns_involvement": False,
        "hemorrhagic_manifestations": False,
        "active_arthritis": False,
        "known_immunosuppression": False,
        "hemophagocytosis_marrow": True,
        "nk_activity_low": True,
        "hlh_molecular_diagnosis": False,
    }
    labs = {
        "ferritin": 8000,
        "platelets": 90,
        "triglycerides": 200,
        "fibrinogen": 200,
        "hemoglobin": 8,
        "wbc": 3,
        "neutrophils": 2,
        "ldh": 900,
        "esr": 20,
        "scd25": 5000,
    }
    result = run(labs, **ctx)
    mas = crit(result, "mas2016")
    assert mas["status"] == "indeterminate"
    assert "ast" in mas["missing"]
    assert [i for i in CRITERION_IDS if crit(result, i)["status"] == "indeterminate"] == ["mas2016"]
    assert set(result["summary"]["next_tests"]) == {"febrile", "temperature"}


def test_next_tests_lists_the_deciding_lab_not_a_decided_one():
    # 2016: febrile, ferritin met, one companion met (platelets); AST/TG/fibrinogen could each decide
    result = run({"ferritin": 2500, "platelets": 150}, febrile=True, underlying_disease="sjia")
    next_tests = result["summary"]["next_tests"]
    assert {"ast", "triglycerides", "fibrinogen"} <= set(next_tests)
    assert "ferritin" not in next_tests and "platelets" not in next_tests and "febrile" not in next_tests


PLAUSIBLE_ENDS = [
    # id, key, typed, accepted
    ("45C", "temperature", {"value": 45, "unit": "degC"}, True),
    ("20C", "temperature", {"value": 20, "unit": "degC"}, True),
    ("113F-is-45C", "temperature", {"value": 113, "unit": "degF"}, True),
    ("68F-is-20C", "temperature", {"value": 68, "unit": "degF"}, True),
    ("113.2F", "temperature", {"value": 113.2, "unit": "degF"}, False),
    ("platelets-5e6-per-uL", "platelets", {"value": 5_000_000, "unit": "/µL"}, True),
    ("platelets-5000", "platelets", 5000, True),
    ("platelets-5001", "platelets", 5001, False),
    ("hb-250-g/L", "hemoglobin", {"value": 250, "unit": "g/L"}, True),
    ("hb-10-g/L", "hemoglobin", {"value": 10, "unit": "g/L"}, True),
    ("fibrinogen-0.1-g/L", "fibrinogen", {"value": 0.1, "unit": "g/L"}, True),
    ("fibrinogen-20-g/L", "fibrinogen", {"value": 20, "unit": "g/L"}, True),
    ("ferritin-0.5", "ferritin", 0.5, True),
    ("ferritin-0.4", "ferritin", 0.4, False),
    ("zero-platelets", "platelets", 0, True),
    ("zero-wbc", "wbc", 0, True),
    ("zero-neutrophils", "neutrophils", 0, True),
    ("zero-esr", "esr", 0, True),
    ("zero-crp", "crp", 0, True),
    ("zero-d-dimer", "d_dimer", 0, True),
]


@pytest.mark.parametrize(
    ("key", "typed", "accepted"), [r[1:] for r in PLAUSIBLE_ENDS], ids=[r[0] for r in PLAUSIBLE_ENDS]
)
def test_plausible_range_ends_in_any_unit(key, typed, accepted):
    """Plausible ranges (analytes.yaml) are inclusive, whatever unit the value is typed in; 0 is valid for counts."""
    result = run({key: typed})
    assert (result["input_warnings"] == []) is accepted
    if not accepted:
        assert [w["code"] for w in result["input_warnings"]] in (["implausible"], ["unit_suspect"])


def test_esr_zero_leaves_ratio_not_computable():
    ratio = crit(run({"ferritin": 5000, "esr": 0}), "ferritin_esr")
    assert ratio["status"] == "indeterminate"
    assert ratio["score"] is None


# ------------------------------------------------------------------- censored bounds and extreme numbers

EDGE_BOUNDS = [
    # id, key, typed: bounds at (or beyond) the plausible range, which no living patient's value can satisfy
    ("fibrinogen-gt-max", "fibrinogen", ">2000"),
    ("fibrinogen-gt-max-g/L", "fibrinogen", {"value": ">20", "unit": "g/L"}),
    ("ferritin-gt-max", "ferritin", ">1000000"),
    ("temperature-gt-max", "temperature", ">45"),
    ("temperature-gt-max-F", "temperature", {"value": ">113", "unit": "degF"}),
    ("ferritin-lt-min", "ferritin", "<0.5"),
    ("ast-gt-max", "ast", ">50000"),
    ("fibrinogen-lt-min", "fibrinogen", "<10"),
    ("platelets-lt-zero", "platelets", "<0"),
    ("esr-lt-zero", "esr", "<0"),
]


@pytest.mark.parametrize(("key", "typed"), [r[1:] for r in EDGE_BOUNDS], ids=[r[0] for r in EDGE_BOUNDS])
def test_censored_bound_at_plausible_edge_never_raises(key, typed):
    """contract: bad values never raise; a bound is either warned about (and left out) or decides its items."""
    result = run({key: typed})
    Assessment.model_validate(result)
    if warnings_for(result, key):
        assert without_warnings(result) == without_warnings(run({}))
    else:
        for iid in users_of(key):
            assert key not in crit(result, iid)["missing"], iid


@pytest.mark.parametrize(
    ("esr", "status"),
    [(1e-20, "met"), ("1e-30", "met"), (1e-30, "met"), (4.6e-305, "indeterminate"), ("1e-400", "indeterminate")],
    ids=["1e-20", "1e-30-string", "1e-30", "4.6e-305", "1e-400-below-float"],
)
def test_tiny_positive_esr_never_raises(esr, status):
    """ESR 0 is plausible, so a tiny positive ESR is too: the ratio is huge (met), never an exception. An
    exponent beyond ±30 is not read (contract "Number spelling"): ESR not_a_number, the ratio indeterminate."""
    result = run({"ferritin": 500, "esr": esr})
    Assessment.model_validate(result)
    if status is not None:
        assert crit(result, "ferritin_esr")["status"] == status


CENSORED_MISSING = [
    # id, labs, criterion, listed: a censored value is listed while it leaves its item undecided
    ("ferritin-ge-684-2016", {"ferritin": ">=684"}, "mas2016", {"ferritin"}),
    ("ferritin-gt-684-2016", {"ferritin": ">684"}, "mas2016", set()),
    ("ferritin-gt-500-ratio-no-esr", {"ferritin": ">500"}, "ferritin_esr", {"ferritin", "esr"}),
    ("ferritin-gt-500-ratio-esr-50", {"ferritin": ">500", "esr": 50}, "ferritin_esr", {"ferritin"}),
    ("ferritin-gt-500-ratio-esr-10", {"ferritin": ">500", "esr": 10}, "ferritin_esr", set()),
    ("scd25-gt-3900-ohi", {"scd25": ">3900", "ferritin": 2000}, "ohi", set()),
    ("scd25-gt-2000-ohi", {"scd25": ">2000", "ferritin": 2000}, "ohi", {"scd25"}),
]


@pytest.mark.parametrize(
    ("labs", "iid", "listed"), [r[1:] for r in CENSORED_MISSING], ids=[r[0] for r in CENSORED_MISSING]
)
def test_censored_value_listed_while_it_leaves_its_item_open(labs, iid, listed):
    """contract `missing`: keys not entered, left out, "or censored without deciding their item"."""
    missing = set(crit(run(labs), iid)["missing"])
    assert missing & {"ferritin", "esr", "scd25"} == listed


@pytest.mark.parametrize(
    ("analyte", "value", "unit"),
    [
        ("ast", "<0.0166666666666667", "µkat/L"),  # "< 1 U/L" at 15 significant digits
        ("ast", "<1.0000000000000001", "U/L"),
        ("fibrinogen", "<0.294000000000001", "µmol/L"),
        ("ast", ">833.333333333333", "µkat/L"),
    ],
)
def test_censored_bound_empty_after_rounding_is_refused(analyte, value, unit):
    """A bound that admits a plausible value only beyond 15 significant digits is left out, never a crash."""
    a = assess(PatientInput.model_validate({"labs": {analyte: {"value": value, "unit": unit}}}))
    assert [w.field for w in a.input_warnings] == [analyte]
    assert a.input_warnings[0].code in {"implausible", "unit_suspect"}


@pytest.mark.parametrize("organ", ["hepatomegaly", "splenomegaly"])
def test_organ_answer_no_with_a_size_is_a_conflict(organ):
    a = assess(PatientInput.model_validate({"context": {organ: False, f"{organ}_cm": 4}}))
    conflicts = [w for w in a.input_warnings if w.code == "conflict"]
    assert [w.field for w in conflicts] == [organ]
    assert "4 cm" in conflicts[0].message


@pytest.mark.parametrize(
    "context",
    [
        {"splenomegaly": False, "splenomegaly_cm": 0},
        {"splenomegaly": True, "splenomegaly_cm": 4},
        {"splenomegaly_cm": 4},
    ],
)
def test_organ_answer_consistent_with_size_is_not_a_conflict(context):
    a = assess(PatientInput.model_validate({"context": context}))
    assert not [w for w in a.input_warnings if w.code == "conflict"]
