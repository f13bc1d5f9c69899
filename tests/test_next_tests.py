"""next_tests: only the inputs that, entered alone, could decide an open instrument (hand-worked)."""

from __future__ import annotations

from conftest import crit, run


def test_2016_waits_on_fever_only():
    # Ferritin 2500 > 684; platelets 150 <= 181 and AST 60 > 48: two companions already met, so the
    # missing TG and fibrinogen cannot change anything; only the fever answer (or a temperature) can.
    r = run({"ferritin": 2500, "platelets": 150, "ast": 60})
    c = crit(r, "mas2016")
    assert c["status"] == "indeterminate"
    assert c["next_tests"] == ["febrile", "temperature"]
    assert {"triglycerides", "fibrinogen"} <= set(c["missing"])
    # In sJIA (own: 2016 criteria and MS score) the summary asks for fever and the MS score's inputs;
    # triglycerides can no longer change either own instrument, so they come only with the others.
    s = run({"ferritin": 2500, "platelets": 150, "ast": 60}, underlying_disease="sjia")["summary"]
    assert s["next_tests_first"] == [
        "fibrinogen", "ldh", "febrile", "temperature", "cns_involvement", "hemorrhagic_manifestations", "active_arthritis",
    ]  # fmt: skip
    assert "triglycerides" in s["next_tests_other"] and s["next_tests"].index("triglycerides") >= 7


def test_decided_instrument_has_no_next_tests():
    c = crit(run({"ferritin": 600}, febrile=True), "mas2016")  # ferritin <= 684 decides not met
    assert c["status"] == "not_met" and c["next_tests"] == []


def test_hscore_marrow_alone_decides():
    # Adult, every item entered but the marrow: 0 (no immunosuppression) + 33 (39.0 °C) + 23 (spleen)
    # + 24 (Hb 8, WBC 3) + 35 (ferritin 3000) + 0 (TG 1.0) + 0 (fibrinogen 4.0) + 19 (AST 50) = 134;
    # marrow yes would add 35 -> 169 >= 169 (met); no keeps 134 (not met): the marrow decides.
    labs = {
        "temperature": 39.0, "hemoglobin": 8, "wbc": 3, "platelets": 250, "ferritin": 3000,
        "triglycerides": {"value": 1.0, "unit": "mmol/L"}, "fibrinogen": {"value": 4.0, "unit": "g/L"}, "ast": 50,
    }  # fmt: skip
    c = crit(run(labs, age_years=40, known_immunosuppression=False, hepatomegaly=False, splenomegaly=True), "hscore")
    assert c["score_range"] == [134, 169] and c["status"] == "indeterminate"
    assert c["next_tests"] == ["hemophagocytosis_marrow"]


def test_hscore_marrow_not_decisive_when_short_by_more_than_35():
    # Same patient without the spleen: 111 points, at most 146 with the marrow: already < 169.
    labs = {
        "temperature": 39.0, "hemoglobin": 8, "wbc": 3, "platelets": 250, "ferritin": 3000,
        "triglycerides": {"value": 1.0, "unit": "mmol/L"}, "fibrinogen": {"value": 4.0, "unit": "g/L"}, "ast": 50,
    }  # fmt: skip
    c = crit(run(labs, age_years=40, known_immunosuppression=False, hepatomegaly=False, splenomegaly=False), "hscore")
    assert c["status"] == "not_met" and c["score_range"] == [111, 146]
    assert c["next_tests"] == []


def test_hlh2004_jointly_decisive_lists_every_missing_input_but_the_molecular_diagnosis():
    # Fever and ferritin met (2 of 8); six criteria open: no single one reaches 5 or rules it out.
    c = crit(run({"ferritin": 1000}, febrile=True), "hlh2004")
    assert c["status"] == "indeterminate"
    assert "hlh_molecular_diagnosis" in c["missing"]
    assert "hlh_molecular_diagnosis" not in c["next_tests"]
    assert set(c["next_tests"]) == set(c["missing"]) - {"hlh_molecular_diagnosis"}


def test_ms_score_ldh_decides_when_everything_else_is_known():
    # No CNS, no haemorrhage, arthritis, platelets 300, fibrinogen 450 mg/dL, ferritin 2000:
    # -1.30 - 0.90 - 1.80 + 0.20 = -3.80 without LDH; LDH >= 1700 U/L would reach -2.1: LDH decides.
    c = crit(
        run(
            {"platelets": 300, "fibrinogen": 450, "ferritin": 2000},
            cns_involvement=False,
            hemorrhagic_manifestations=False,
            active_arthritis=True,
        ),
        "ms_score",
    )
    assert c["status"] == "indeterminate" and c["next_tests"] == ["ldh"]
