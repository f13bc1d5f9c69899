"""The summary a clinician reads first: the patient's own instruments decide it (contract revised
2026-12-06, criteria/policy.yaml). One test per rule, hand-worked where numbers are involved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, crit, run
from panels import FULL_PANEL

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria, load_criteria
from mas_screen.criteria.schema import CONTRACT_IDS, DISEASES, CriteriaDataError
from mas_screen.domain.models import Disease
from mas_screen.explain.summary import (
    by_tier,
    join_words,
    mas_signal,
    other_population_met,
    own_instruments,
    qualified_name,
    sentence_label,
    sentence_labels,
)
from mas_screen.kernel.instruments import compile_all
from mas_screen.render.text import render_text

OWN = {  # contract.md "The patient's own instruments", restated
    "sjia": ["mas2016", "ms_score"],
    "suspected_sjia": ["mas2016", "ms_score"],
    "aosd": ["mas2016", "ms_score"],
    "sle": ["parodi2009"],
    "other": ["hscore", "hlh2004"],
    "unknown": ["hscore", "hlh2004"],
}
ROUTINE = ["ferritin", "platelets", "ast", "triglycerides", "fibrinogen", "neutrophils", "hemoglobin", "wbc"]
ROUTINE += ["ldh", "alt", "esr", "crp", "d_dimer"]
FLARE_CONTEXT = {
    "underlying_disease": "sjia", "febrile": True, "age_years": 8, "hepatomegaly": False, "splenomegaly": False,
    "cns_involvement": False, "hemorrhagic_manifestations": False, "active_arthritis": True,
}  # fmt: skip
FLARE_LABS = {
    "temperature": 39.2, "ferritin": 1800, "platelets": 480, "ast": 35, "ldh": 650, "triglycerides": 190,
    "fibrinogen": 620, "esr": 95, "wbc": 21, "hemoglobin": 10.5,
}  # fmt: skip
INFANT_CONTEXT = {
    "underlying_disease": "other", "age_years": 0.3, "febrile": True, "splenomegaly": True, "hepatomegaly": True,
    "hemophagocytosis_marrow": True,
}  # fmt: skip
INFANT_LABS = {
    "ferritin": 3000, "platelets": 40, "neutrophils": 0.4, "hemoglobin": 7.5, "triglycerides": 400, "fibrinogen": 90,
    "temperature": 39.5, "ast": 150,
}  # fmt: skip
STATUSES = ("met", "not_met", "indeterminate")


def summary(labs: dict | None = None, **context) -> dict:
    return run(labs, **context)["summary"]


# ------------------------------------------------------------------------ own instruments and signal


def test_the_population_table_is_data_and_names_every_disease():
    assert set(DISEASES) == set(Disease.__args__)  # type: ignore[attr-defined]
    pops = criteria().policy.populations
    assert {d: p.instruments for d, p in pops.items()} == OWN
    assert all(p.references for p in pops.values())  # every entry cited


@pytest.mark.parametrize("disease", DISEASES)
def test_own_instruments_per_disease(disease):
    assert list(own_instruments(disease)) == OWN[disease]
    assert summary({}, underlying_disease=disease)["own_instruments"] == OWN[disease]


def test_absent_disease_is_unknown():
    assert summary({})["own_instruments"] == OWN["unknown"]


@pytest.mark.parametrize("own", [("mas2016", "ms_score"), ("parodi2009",), ("hscore", "hlh2004")])
@pytest.mark.parametrize("first", STATUSES)
@pytest.mark.parametrize("second", STATUSES)
@pytest.mark.parametrize("outside", STATUSES)
def test_mas_signal_reads_only_own_instruments(own, first, second, outside):
    statuses = dict.fromkeys(CONTRACT_IDS, outside)
    statuses[own[0]] = first
    statuses[own[-1]] = second if len(own) > 1 else first
    got = mas_signal(statuses, own)
    mine = [statuses[i] for i in own]
    if "met" in mine:
        assert got == "suggestive"
    elif all(s == "not_met" for s in mine):
        assert got == "not_suggestive"
    else:
        assert got == "insufficient_data"


def test_other_population_met_lists_met_instruments_in_contract_order():
    statuses = dict.fromkeys(CONTRACT_IDS, "met")
    assert other_population_met(statuses, OWN["sjia"]) == ["hscore", "hlh2004", "parodi2009", "ohi"]
    assert other_population_met(statuses, OWN["sle"]) == ["mas2016", "ms_score", "hscore", "hlh2004", "ohi"]
    assert other_population_met(statuses, OWN["other"]) == ["mas2016", "ms_score", "parodi2009", "ohi"]
    # never the MH score or ferritin:ESR, even when met
    only = {**dict.fromkeys(CONTRACT_IDS, "not_met"), "mh_score": "met", "ferritin_esr": "met"}
    assert other_population_met(only, OWN["sle"]) == []


def test_other_population_met_on_a_real_panel():
    # The full demo panel (sJIA, 7 years): HScore, Parodi and OHI are met besides the own instruments.
    a = assess(PatientInput.model_validate(FULL_PANEL))
    met = [i for i, r in a.criteria.items() if r.status == "met"]
    assert {"mas2016", "ms_score", "hscore", "parodi2009", "ohi"} <= set(met)
    assert a.summary.other_population_met == [i for i in ("hscore", "hlh2004", "parodi2009", "ohi") if i in met]
    assert a.summary.mas_signal == "suggestive"
    assert a.summary.headline == "Features suggestive of MAS: 2016 MAS criteria, MS score met"


def test_flare_with_parodi_met_stays_not_suggestive():
    """The walkthrough's textbook sJIA flare: typing its temperature met Parodi 2009 (jSLE) and
    turned the headline red. Own instruments: MS score −4.39 (−1.3 arthritis − 1.44 platelets
    + 0.65 LDH − 2.48 fibrinogen + 0.18 ferritin), 2016 criteria 1 of 4 companions."""
    result = run(FLARE_LABS, **FLARE_CONTEXT)
    s = result["summary"]
    assert crit(result, "parodi2009")["status"] == "met"
    assert crit(result, "ms_score")["score"] == pytest.approx(-4.39)
    assert s["mas_signal"] == "not_suggestive"
    assert s["other_population_met"] == ["parodi2009"]
    assert s["headline"] == "Features not suggestive of MAS on 2016 MAS criteria and MS score (screening result)"
    assert s["other_population_line"] == (
        "Also met by instruments built for other populations — indicative only: Parodi 2009 (jSLE)"
    )
    assert s["supporting"] == []  # Parodi is not evidence for MAS in this patient
    assert s["indicative"] == [
        "Indicative only (built for juvenile SLE): Preliminary jSLE-MAS guidelines (Parodi 2009) met"
    ]
    assert len(s["against"]) == 3  # 2016 criteria, MS score, ferritin:ESR (supporting in sJIA)
    # Without the temperature Parodi is not met: more data no longer changes the signal.
    before = run({k: v for k, v in FLARE_LABS.items() if k != "temperature"}, **FLARE_CONTEXT)["summary"]
    assert before["mas_signal"] == "not_suggestive" and before["other_population_met"] == []


def test_infant_primary_hlh_is_worded_as_a_haemophagocytic_syndrome():
    s = summary(INFANT_LABS, **INFANT_CONTEXT)
    assert s["mas_signal"] == "suggestive"
    assert s["headline"] == "Features suggestive of a haemophagocytic syndrome (HLH/MAS): HScore, HLH-2004 met"
    assert "MAS:" not in s["headline"]
    assert s["other_population_met"] == ["mas2016", "ms_score", "parodi2009"]
    # MH score: 37 age + 37 neutrophils + 15 fibrinogen + 12 spleen + 11 platelets + 11 Hb = 123
    assert s["phlh_signal"] == "favours_phlh"
    assert s["phlh_text"].startswith("MH score (values not confirmed against the primary paper) 123 (≥ 60)")


def test_adult_infection_hlh_case_is_worded_as_a_haemophagocytic_syndrome():
    case = yaml.safe_load((ROOT / "cases" / "adult_infection_shlh.yaml").read_text(encoding="utf-8"))
    labs = case["panels"][-1]["labs"]
    s = summary(labs, **case["context"])
    assert case["context"].get("underlying_disease", "unknown") in ("other", "unknown")
    assert s["headline"].startswith("Features suggestive of a haemophagocytic syndrome (HLH/MAS)")
    assert "MAS criteria" not in s["headline"]


# ---------------------------------------------------------------------------------------- headline


@pytest.mark.parametrize(
    ("disease", "syndrome"),
    [
        ("sjia", "MAS"),
        ("suspected_sjia", "MAS"),
        ("aosd", "MAS"),
        ("sle", "MAS"),
        ("other", "a haemophagocytic syndrome (HLH/MAS)"),
        ("unknown", "a haemophagocytic syndrome (HLH/MAS)"),
    ],
)
def test_headline_wording_per_disease(disease, syndrome):
    empty = summary({}, underlying_disease=disease)["headline"]
    assert empty.startswith(f"Insufficient data to screen for {syndrome}: enter ")
    strong = summary(INFANT_LABS, **{**INFANT_CONTEXT, "underlying_disease": disease, "age_years": 10})
    if strong["mas_signal"] == "suggestive":
        assert strong["headline"].startswith(f"Features suggestive of {syndrome}: ")
    quiet = {"ferritin": 100, "platelets": 300, "ast": 20, "triglycerides": 80, "fibrinogen": 400, "ldh": 200,
             "neutrophils": 5, "hemoglobin": 13, "wbc": 8, "temperature": 37.0, "esr": 10}  # fmt: skip
    context = {"underlying_disease": disease, "febrile": False, "age_years": 10, "hepatomegaly": False,
               "splenomegaly": False, "cns_involvement": False, "hemorrhagic_manifestations": False,
               "active_arthritis": False, "known_immunosuppression": False, "hemophagocytosis_marrow": False}  # fmt: skip
    calm = summary(quiet, **context)
    assert calm["mas_signal"] == "not_suggestive", calm["headline"]
    assert calm["headline"].startswith(f"Features not suggestive of {syndrome} on ")


def test_headline_never_alarms_when_only_other_populations_instruments_are_met():
    # SLE patient meeting the 2016 sJIA criteria and the HScore but not Parodi 2009.
    labs = {"ferritin": 2500, "platelets": 150, "ast": 60, "temperature": 37.5}
    s = summary(labs, febrile=True, underlying_disease="sle", age_years=10)
    assert s["other_population_met"] and s["mas_signal"] != "suggestive"
    assert not s["headline"].lower().startswith("features suggestive")


def test_headline_uses_labels_with_their_capitals_never_keys():
    s = summary({"ferritin": 2500}, underlying_disease="sjia")
    assert (
        s["headline"]
        == "Insufficient data to screen for MAS: enter platelet count, AST, triglycerides, fibrinogen, LDH"
    )
    for key in ("ast", "ldh", "d_dimer", "hemophagocytosis_marrow", "known_immunosuppression"):
        assert re.search(rf"\b{key}\b", s["headline"] + s["next_steps"]) is None
    assert sentence_label("ast") == "AST" and sentence_label("d_dimer") == "D-dimer"
    assert sentence_label("scd25") == "soluble CD25" and sentence_label("platelets") == "platelet count"
    assert sentence_label("febrile") == "fever"
    assert sentence_labels(["febrile", "temperature", "ldh"]) == [
        "fever (the answer, or the highest temperature)",
        "LDH",
    ]
    assert join_words(["a"]) == "a" and join_words(["a", "b", "c"]) == "a, b and c"


# -------------------------------------------------------------------------------------- next tests


def test_next_tests_tiers_are_data_and_cover_every_input():
    tiers = criteria().policy.next_test_tiers
    assert [t.id for t in tiers] == ["routine", "bedside", "specialist", "history"]
    assert tiers[0].keys == ROUTINE
    assert by_tier(["known_immunosuppression", "scd25", "febrile", "esr", "ferritin"]) == [
        "ferritin", "esr", "febrile", "scd25", "known_immunosuppression",
    ]  # fmt: skip


def test_empty_form_asks_for_the_disease_then_routine_labs():
    s = summary({})
    assert s["next_steps_kind"] == "empty_form"
    assert s["next_steps"].startswith("Start here: choose the underlying disease")
    assert "then enter ferritin, platelets, AST, triglycerides and fibrinogen" in s["next_steps"]
    assert s["next_tests"][:5] == ["ferritin", "platelets", "ast", "triglycerides", "fibrinogen"]
    assert s["headline"].endswith("enter ferritin, platelet count, AST, triglycerides, fibrinogen")
    assert "known_immunosuppression" not in s["next_tests"][:8]
    tiers = [criteria().policy.tier_of(k).id for k in s["next_tests_first"]]
    assert tiers == sorted(tiers, key=["routine", "bedside", "specialist", "history"].index)
    # a disease chosen: no "choose the disease" any more
    assert summary({}, underlying_disease="sjia")["next_steps_kind"] == "decide_own"


def test_next_tests_put_own_instruments_first_then_by_tier():
    # sJIA, ferritin only: the own instruments need platelets, AST, TG, fibrinogen, LDH and the
    # bedside items; blood count and ESR decide only others (MH score, HLH-2004, ferritin:ESR).
    s = summary({"ferritin": 2500}, underlying_disease="sjia")
    assert s["next_tests_first"] == [
        "platelets", "ast", "triglycerides", "fibrinogen", "ldh",
        "febrile", "temperature", "cns_involvement", "hemorrhagic_manifestations", "active_arthritis",
    ]  # fmt: skip
    assert s["next_tests_specialist"] == []
    assert s["next_tests"] == s["next_tests_first"] + s["next_tests_specialist"] + s["next_tests_other"]
    assert s["next_tests_other"][:3] == ["neutrophils", "hemoglobin", "wbc"]
    assert s["next_steps"] == (
        "To decide 2016 MAS criteria and MS score: enter platelet count, AST, triglycerides, fibrinogen and LDH; "
        "record fever (the answer, or the highest temperature), CNS involvement / dysfunction, haemorrhagic "
        "manifestations and active arthritis."
    )


def test_specialist_tests_are_collapsed_with_other_populations_items():
    # Adult, disease unknown, everything routine and bedside entered: HScore decided (not met),
    # HLH-2004 open on specialist tests only.
    labs = {"ferritin": 900, "platelets": 90, "neutrophils": 0.8, "hemoglobin": 11, "wbc": 2.0, "ast": 25,
            "triglycerides": 100, "fibrinogen": 300, "temperature": 39.0}  # fmt: skip
    s = summary(labs, age_years=40, febrile=True, hepatomegaly=False, splenomegaly=True, known_immunosuppression=False)
    assert s["next_tests_first"] == []
    assert set(s["next_tests_specialist"]) <= {
        "scd25", "nk_activity_low", "hemophagocytosis_marrow", "hemophagocytosis_other_site",
    }  # fmt: skip
    assert s["next_tests_specialist"]
    assert s["next_steps_kind"] == "specialist_only"
    assert s["next_steps"].startswith("HLH-2004 can now be decided only by specialist tests: ")


def test_own_instruments_decided_advise_repeating_the_routine_panel():
    result = run(FLARE_LABS, **FLARE_CONTEXT)
    s = result["summary"]
    assert s["next_steps_kind"] == "own_decided"
    assert s["next_tests_first"] == [] and s["next_tests_specialist"] == []
    assert s["next_steps"].startswith(
        "The instruments built for this population are decided (2016 MAS criteria and MS score)."
    )
    assert "Repeat ferritin, platelets, AST and fibrinogen (and D-dimer, LDH) as the illness evolves" in s["next_steps"]
    assert {"ravelli2016_dynamics", "shakoory2023"} <= set(result["references"])
    assert result["references"]["shakoory2023"]["doi"] == "10.1136/ard-2023-224123"
    assert result["references"]["ravelli2016_dynamics"]["doi"] == "10.1136/rmdopen-2015-000161"


def test_instrument_next_tests_stay_the_single_decisive_inputs():
    s = run({"ferritin": 2500, "platelets": 150, "ast": 60}, underlying_disease="sjia")
    assert crit(s, "mas2016")["next_tests"] == ["febrile", "temperature"]  # fever alone decides it
    assert "triglycerides" not in s["summary"]["next_tests_first"]  # cannot change either own instrument


# ------------------------------------------------------------------------- MH score and wording


def test_mh_score_is_qualified_everywhere_while_unconfirmed():
    assert criteria().policy.unconfirmed_values.instruments == ["mh_score"]
    assert qualified_name("mh_score") == "MH score (values not confirmed against the primary paper)"
    assert qualified_name("hscore") == "HScore" and qualified_name("ferritin_esr") == "Ferritin:ESR"
    for signal, labs in (("insufficient_data", {}), ("favours_phlh", INFANT_LABS)):
        a = assess(PatientInput.model_validate({"context": INFANT_CONTEXT, "labs": labs}))
        assert a.summary.phlh_signal == signal
        assert "MH score (values not confirmed against the primary paper)" in a.summary.phlh_text
        assert "MH score (values not confirmed against the primary paper)" in render_text(a)
    calm = assess(PatientInput.model_validate({"context": FLARE_CONTEXT, "labs": {**FLARE_LABS, "neutrophils": 9}}))
    assert calm.summary.phlh_signal == "favours_mas"
    # 0 points entered, 37 more possible (age at onset not given, current age 8): below 60 either way
    assert calm.summary.phlh_text == (
        "MH score (values not confirmed against the primary paper) 0–37 (≥ 60): favours MAS over primary HLH"
    )


def test_caveats_carry_no_development_notes():
    texts = [c.text for spec in criteria().instruments.values() for c in spec.caveats]
    texts += [spec.performance or "" for spec in criteria().instruments.values()]
    for text in texts:
        assert not re.search(r"not verified|could not be checked|docs/|CONFIRMED-\d|UNCONFIRMED|\bverify\b", text), text


# ------------------------------------------------------------------------- policy.yaml validation


def _edit_policy(crit_dir: Path, change) -> None:
    path = crit_dir / "policy.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_policy_is_loaded_by_name_never_as_an_instrument(data_dirs):
    data = load_criteria(*data_dirs)
    assert tuple(data.instruments) == CONTRACT_IDS and "policy" not in data.instruments
    assert data.policy.populations["sle"].instruments == ["parodi2009"]


def _tier(name):
    def find(d):
        return next(t for t in d["next_test_tiers"] if t["id"] == name)

    return find


BROKEN_POLICY = [
    pytest.param(lambda d: d["populations"]["sle"].update(instruments=["parodi2099"]), "unknown instrument", id="instrument"),
    pytest.param(lambda d: d["populations"].pop("aosd"), "populations must name exactly", id="missing-disease"),
    pytest.param(lambda d: d["populations"]["sjia"].update(references=["ravelli2061"]), "unknown citation key", id="cite"),
    pytest.param(lambda d: d["populations"]["sjia"].update(instruments=["mas2016", "mh_score"]), "MAS/HLH instruments", id="mh-own"),
    pytest.param(lambda d: _tier("bedside")(d)["keys"].append("ferritin"), "in more than one tier", id="two-tiers"),
    pytest.param(lambda d: _tier("history")(d)["keys"].remove("known_immunosuppression"), "which no tier lists", id="untiered"),
    pytest.param(lambda d: _tier("routine")(d)["keys"].append("ferritn"), "unknown input key", id="typo-key"),
    pytest.param(lambda d: d["unconfirmed_values"].update(instruments=["mas2016"]), "no UNCONFIRMED item", id="confirmed"),
    pytest.param(lambda d: d["headline"].pop("suggestive"), "headline.suggestive", id="missing-words"),
    pytest.param(lambda d: d["populations"]["sjia"].update(extra=1), "populations.sjia.extra", id="extra-field"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BROKEN_POLICY)
def test_a_broken_policy_fails_loudly_naming_the_file(data_dirs, change, message):
    _edit_policy(data_dirs[0], change)
    with pytest.raises(CriteriaDataError, match=r"policy\.yaml") as err:
        compile_all(load_criteria(*data_dirs))  # loading, then what only compiled items can tell
    assert message in str(err.value)


def test_missing_policy_file_fails_loudly(data_dirs):
    (data_dirs[0] / "policy.yaml").unlink()
    with pytest.raises(CriteriaDataError, match=r"policy\.yaml: file not found"):
        load_criteria(*data_dirs)
