"""One way to phrase a result (explain.phrases) on every face, and the policy behind the panels.

Expected phrases are written out by hand from the inputs (the score, its bounds, the cut-off's
comparator), never read from the code under test.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.domain.series import SeriesInput
from mas_screen.explain.phrases import RESULT_WORDS, STATUS_WORDS, result_phrase
from mas_screen.render.pdf.words import result_text
from mas_screen.render.text import render_text

SJIA = {"underlying_disease": "sjia", "febrile": True, "age_years": 7}


def _assess(labs: dict, context: dict | None = None):
    return assess(PatientInput.model_validate({"context": context or SJIA, "labs": labs}))


def test_the_status_and_result_words_are_one_table():
    assert STATUS_WORDS == {"met": "● met", "not_met": "○ not met", "indeterminate": "◐ indeterminate"}
    assert RESULT_WORDS == {"met": "● met", "not_met": "○ not met", "missing": "? missing"}


def test_a_count_a_range_and_a_score_read_alike_on_every_face():
    a = _assess({"ferritin": 2500, "platelets": 150, "fibrinogen": 300})
    mas = a.criteria["mas2016"]
    assert result_phrase(mas) == "2 met of 2 assessable"
    assert result_phrase(mas, strong=lambda t: f"**{t}**") == "**2** met of 2 assessable"
    hscore = a.criteria["hscore"]
    lo, hi = hscore.score_range
    assert result_phrase(hscore) == f"score range {lo}–{hi} (cut-off ≥ 169)"
    text = render_text(a)
    assert "2016 MAS criteria: MET — 2 met of 2 assessable" in text
    assert f"HScore: indeterminate — score range {lo}–{hi} (cut-off ≥ 169)" in text
    assert result_text(hscore) == f"score range {lo}–{hi}"  # the PDF: the rule has its own column


def test_a_score_decided_by_its_bounds_says_which_side_whatever_the_missing_values():
    # MS score with ferritin > 40000 (a bound), platelets 150, fibrinogen 300, CNS/haemorrhage/arthritis
    # and LDH missing: the least possible score is above -2.1, so it is met.
    a = _assess({"ferritin": ">40000", "platelets": 150, "fibrinogen": 300, "esr": 10})
    ms = a.criteria["ms_score"]
    assert ms.status == "met" and ms.score is None and ms.score_bounds is not None
    lo = ms.score_bounds[0]
    assert lo >= -2.1
    shown = f"{lo:g}".replace("-", "−")
    assert result_phrase(ms) == f"score ≥ {shown} whatever the missing or bounded values"
    assert f"MS score: MET — score ≥ {shown} whatever the missing or bounded values" in render_text(a)
    # the summary's sentence says it in the same words (criteria/ms_score.yaml evidence)
    assert f"MS score ≥ {shown} whatever the missing or bounded values: favours MAS over active sJIA" in (
        a.summary.supporting
    )
    # Ferritin:ESR from a bound: > 40000 / 10 is above 21.5 whatever the ferritin's true value.
    ratio = a.criteria["ferritin_esr"]
    assert ratio.status == "met" and ratio.score is None
    assert result_phrase(ratio) == "ratio ≥ 21.5 whatever the missing or bounded values"


def test_a_ratio_decided_below_its_cut_off_names_the_other_side():
    a = _assess({"ferritin": "<100", "esr": 10})  # < 100 / 10 = < 10, below 21.5
    ratio = a.criteria["ferritin_esr"]
    assert ratio.status == "not_met"
    assert result_phrase(ratio) == "ratio < 21.5 whatever the missing or bounded values"


def test_an_open_score_is_not_computable_yet_where_a_face_says_so():
    a = _assess({})
    ratio = a.criteria["ferritin_esr"]
    assert result_phrase(ratio) == ""
    assert result_phrase(ratio, open_=True) == "ratio not computable yet (cut-off ≥ 21.5)"
    from mas_screen.ui.cards import score_text

    assert score_text(ratio) == "(cut-off ≥ 21.5)"  # a card or panel: the cut-off only (phone height)
    assert result_text(ratio) == "ratio not computable yet"  # the PDF: the rule has its own column


def test_the_probability_follows_the_score():
    labs = {
        "ferritin": 6500, "triglycerides": 4.5, "fibrinogen": 2.0, "ast": 60, "hemoglobin": 8.5,
        "platelets": 80, "wbc": 3.0, "temperature": 39.6,
    }  # fmt: skip
    context = {
        "underlying_disease": "other", "known_immunosuppression": True, "hepatomegaly": True,
        "splenomegaly": True, "hemophagocytosis_marrow": True,
    }  # fmt: skip
    a = assess(
        PatientInput.model_validate(
            {"context": context, "labs": {k: {"value": v, "unit": u} for k, (v, u) in _units(labs).items()}}
        )
    )
    h = a.criteria["hscore"]
    assert h.score is not None and h.probability is not None
    assert result_phrase(h) == f"score {h.score:g} (cut-off ≥ 169); probability {h.probability.label}"


def _units(labs: dict) -> dict:
    units = {"ferritin": "ng/mL", "triglycerides": "mmol/L", "fibrinogen": "g/L", "ast": "U/L",
             "hemoglobin": "g/dL", "platelets": "10*9/L", "wbc": "10*9/L", "temperature": "Cel"}  # fmt: skip
    return {k: (v, units[k]) for k, v in labs.items()}


def test_panels_and_the_phlh_instrument_come_from_policy():
    policy = criteria().policy
    assert [(p.id, p.instruments, p.always) for p in policy.panels] == [
        ("flare", ["mas2016", "ms_score", "ferritin_esr"], False),
        ("phlh", ["mh_score", "hlh2004"], True),
    ]
    assert policy.phlh.instrument == "mh_score"
    assert policy.score_gauges == ["hscore", "mh_score", "ms_score"]
    assert policy.cohort_scores == ["hscore", "ms_score"]
    assert set(instrument_ids()) >= {iid for p in policy.panels for iid in p.instruments}


def test_a_null_context_is_an_unknown_context():
    """Contract: every field is optional; absent or null means not known."""
    a = assess(PatientInput.model_validate({"context": None, "labs": {"ferritin": 800}}))
    b = assess(PatientInput.model_validate({"labs": {"ferritin": 800}}))
    assert {k: r.status for k, r in a.criteria.items()} == {k: r.status for k, r in b.criteria.items()}
    series = SeriesInput.model_validate({"context": None, "panels": [{"time": "2024-01-01", "labs": {}}]})
    assert series.context.underlying_disease is None


def test_a_temperature_below_38_is_not_febrile_for_the_caveats_too():
    """No febrile answer and 37.0 °C: the 2016 entry item is not met (fever convention), and the
    caveat saying an afebrile patient cannot meet the criteria appears, as with febrile: false."""
    temp = {"temperature": {"value": 37.0, "unit": "Cel"}, "ferritin": 800}
    by_temp = _assess(temp, {"underlying_disease": "sjia"}).criteria["mas2016"]
    by_answer = _assess({"ferritin": 800}, {"underlying_disease": "sjia", "febrile": False}).criteria["mas2016"]
    assert by_temp.items[0].result == "not_met"
    afebrile = [c for c in by_answer.caveats if c.startswith("Fever is the entry condition")]
    assert afebrile and afebrile[0] in by_temp.caveats
    febrile = _assess({**temp, "temperature": {"value": 38.0, "unit": "Cel"}}, {"underlying_disease": "sjia"})
    assert not [c for c in febrile.criteria["mas2016"].caveats if c.startswith("Fever is the entry condition")]


def test_help_and_usage_errors_are_printed_once():
    run = [sys.executable, "-m", "mas_screen"]
    out = subprocess.run([*run, "trend", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.count("usage:") == 1
    err = subprocess.run([*run, "batch", "in.csv"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert err.returncode == 2 and err.stderr.count("usage:") == 1 and err.stderr.count("error:") == 1
    assert json.dumps(err.stdout) == '""'


def test_a_failed_gate_is_named_not_a_count_of_companion_criteria():
    """Afebrile, or ferritin <= 684: the 2016 criteria fail at their gate, whatever the companion
    criteria; the summary says which gate, with the value and the rule."""
    afebrile = _assess(
        {"ferritin": 2500, "platelets": 100, "ast": 90, "fibrinogen": 200},
        {"underlying_disease": "aosd", "febrile": False},
    )
    assert afebrile.criteria["mas2016"].status == "not_met"
    assert (
        "2016 MAS classification criteria not met: fever (entry condition) not met (not febrile; rule ≥ 38.0 °C)"
        in afebrile.summary.against
    )
    low_ferritin = _assess({"ferritin": 600, "platelets": 100, "ast": 90})
    assert (
        "2016 MAS classification criteria not met: ferritin (mandatory) not met (600 ng/mL; rule > 684 ng/mL)"
        in low_ferritin.summary.against
    )
    companions = _assess({"ferritin": 2500, "platelets": 300, "ast": 20, "triglycerides": 100, "fibrinogen": 400})
    assert "2016 MAS classification criteria not met (0 of 4 companion criteria met)" in companions.summary.against


def test_il6_blockade_is_said_under_the_headline_on_every_face(tmp_path):
    from mas_screen.explain.summary import headline_caveats
    from mas_screen.render.pdf.report import pdf_summary

    data = {
        "context": {"underlying_disease": "sjia", "febrile": False, "biologic_therapy": "il6", "age_years": 9},
        "labs": {"ferritin": 600, "platelets": 250, "ast": 30, "fibrinogen": {"value": 400, "unit": "mg/dL"}},
    }
    patient = PatientInput.model_validate(data)
    a = assess(patient)
    (caveat,) = headline_caveats(a)
    assert caveat.startswith("On IL-1/IL-6 blockade, fever, ferritin and CRP can be blunted")
    lines = render_text(a).splitlines()
    assert lines[3].startswith("! On IL-1/IL-6 blockade")  # right under the headline (line 3)
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(pdf_summary(patient, a))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    page1 = " ".join(text.split("\f")[0].split())
    assert "On IL-1/IL-6 blockade, fever, ferritin and CRP can be blunted" in page1
    assert page1.index("On IL-1/IL-6 blockade") < page1.index("Supporting MAS")
    none = _assess({"ferritin": 600})
    assert headline_caveats(none) == []


def test_the_phlh_line_is_an_alert_only_inside_the_mh_scores_population():
    from mas_screen.explain.summary import phlh_alert

    labs = {"ferritin": 20000, "platelets": 30, "neutrophils": 0.3, "hemoglobin": 7.0, "fibrinogen": 100}
    child = _assess(labs, {"underlying_disease": "unknown", "age_years": 0.4, "splenomegaly": True})
    adult = _assess(labs, {"underlying_disease": "other", "age_years": 58, "splenomegaly": True})
    assert child.summary.phlh_signal == adult.summary.phlh_signal == "favours_phlh"
    assert adult.criteria["mh_score"].population == "outside"
    assert phlh_alert(child) and not phlh_alert(adult)
    assert "indicative only" in adult.summary.phlh_text


def test_text_report_and_pdf_list_the_patients_own_instruments_first():
    from mas_screen.explain.summary import reading_order

    a = _assess({"ferritin": 2500, "platelets": 90}, {"underlying_disease": "sle", "febrile": True})
    assert reading_order(a)[0].id == "parodi2009"
    heads = [line for line in render_text(a).splitlines() if ": " in line and line.split(":")[0] in NAMES]
    assert heads[0].startswith("Parodi 2009 (jSLE)")


NAMES = {"2016 MAS criteria", "Parodi 2009 (jSLE)", "HScore", "HLH-2004", "OHI", "MS score", "Ferritin:ESR"}


def test_text_and_cards_write_comparators_and_minus_signs_for_reading():
    a = _assess({"ferritin": 3000, "platelets": 120, "ast": 90, "ldh": 900, "fibrinogen": 200},
                {"underlying_disease": "aosd", "febrile": True})  # fmt: skip
    text = render_text(a)
    assert "AOSD (Yao 2021) cut-off ≥ −1.74 → " in text
    assert ">=" not in text and " -1" not in text


def test_entered_values_read_against_the_rule_in_its_unit():
    a = _assess({"ferritin": 2500, "triglycerides": {"value": 1.6, "unit": "mmol/L"}})
    text = render_text(a)
    assert "Triglycerides: 1.6 mmol/L = 141.7 mg/dL (> 156 mg/dL)" in text  # 1.6 x 88.57 = 141.7


def test_an_esr_of_zero_lists_no_censored_ferritin_as_deciding():
    """ESR 0: the ratio is not computable (contract) whatever the ferritin, so a censored ferritin is
    neither missing nor a next test; the card shows both values as entered."""
    r = _assess({"ferritin": ">40000", "esr": 0}).criteria["ferritin_esr"]
    assert r.status == "indeterminate" and r.missing == [] and r.next_tests == []
    assert r.items[0].display == "> 40000 ng/mL ÷ 0 mm/h"


def test_section_titles_name_the_syndrome_screened():
    from mas_screen.explain.summary import syndrome_label

    assert syndrome_label(_assess({"ferritin": 800})) == "MAS"
    assert syndrome_label(_assess({"ferritin": 800}, {"underlying_disease": "other"})) == "HLH/MAS"
    assert syndrome_label(assess(PatientInput.model_validate({"labs": {}}))) == "HLH/MAS"
