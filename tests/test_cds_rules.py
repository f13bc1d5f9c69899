"""criteria/cds_hooks.yaml: validated, cited, shown on the About page; the card pieces in process."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import CriteriaDataError
from mas_screen.faces.cds_hooks.cards import SUMMARY_LIMIT, deciding_tests, fit, name, own_met, own_signal
from mas_screen.faces.cds_hooks.mapping import map_prefetch, parse_instant
from mas_screen.faces.cds_hooks.rules import card_rule_lines, cds_data


def test_rules_load_and_cite_known_references():
    data = cds_data()
    assert [r.id for r in data.card_rules] == [
        "critical_2016_or_hlh2004",
        "warning_own_met",
        "info_ferritin_undecided",
        "info_order_at_risk",
    ]
    for rule in data.card_rules:
        assert rule.references and all(k in criteria().references for k in rule.references)
    for disease in data.conditions.diseases.values():
        for codes in disease.lists:
            assert codes.checked_against and codes.confirmation
    assert data.order_triggers.procedures[0].codes == ["49401003"]


def test_no_threshold_is_written_in_the_card_rules():
    """Numbers live with their instrument: the rules point at items, never repeat a cut-off."""
    raw = yaml.safe_load((ROOT / "criteria" / "cds_hooks.yaml").read_text(encoding="utf-8"))
    assert "684" not in yaml.safe_dump(raw["card_rules"])
    assert cds_data().card_rules[2].when.item_met == "mas2016.ferritin"


@pytest.fixture
def copied(tmp_path, monkeypatch):
    copy = tmp_path / "criteria"
    shutil.copytree(ROOT / "criteria", copy)
    monkeypatch.setenv("MAS_SCREEN_CRITERIA_DIR", str(copy))
    criteria.cache_clear()
    cds_data.cache_clear()
    yield copy / "cds_hooks.yaml"
    monkeypatch.delenv("MAS_SCREEN_CRITERIA_DIR")
    criteria.cache_clear()
    cds_data.cache_clear()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("references: [ravelli2016, shakoory2023]", "references: [ravelli2061]", "unknown citation key 'ravelli2061'"),
        ("item_met: mas2016.ferritin", "item_met: mas2016.ferritn", "unknown instrument item"),
        ("indicator: warning", "indicator: alarm", "card_rules.1.indicator"),
        ("own_met_any: [mas2016, hlh2004]", "own_met_any: [mas2017]", "unknown instrument 'mas2017'"),
    ],
)
def test_a_broken_rules_file_fails_loudly(copied: Path, old, new, message):
    text = copied.read_text(encoding="utf-8")
    assert old in text
    copied.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CriteriaDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cds_data()


def test_rule_lines_name_every_rule_with_its_citations():
    lines = card_rule_lines()
    assert len(lines) == len(cds_data().card_rules) + 1
    assert lines[0].startswith("**critical** when 2016 MAS criteria or HLH-2004 is met")
    assert "ferritin is > 684 ng/mL (an item of the 2016 MAS criteria)" in lines[2]
    assert "(Ravelli 2016, Arthritis Rheumatol; Ravelli 2016, RMD Open)" in lines[3]
    assert lines[-1].startswith("**no card** otherwise")


def test_about_page_lists_the_card_rules():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    app.switch_page(str(ROOT / "mas_screen" / "ui" / "pages" / "about.py")).run()
    assert not app.exception
    text = "\n".join(m.value for m in app.markdown)
    assert "### In the EHR (CDS Hooks)" in text
    for line in card_rule_lines():
        assert line in text


# ----------------------------------------------------------------------------- card pieces


def test_summary_fit_shortens_lists_to_stay_under_140():
    template = "{orders} ordered ({disease_label}): for a MAS screen also order {tests}"
    tests = [name(k) for k in criteria().analytes.analytes]
    text = fit(template, {"orders": ["Ferritin"], "tests": tests}, {"disease_label": "adult-onset Still's disease"})
    assert len(text) <= SUMMARY_LIMIT and text.endswith("more")
    assert text.startswith(
        "Ferritin ordered (adult-onset Still's disease): for a MAS screen also order ferritin, platelet"
    )


def test_names_read_as_words():
    assert [name(k) for k in ("platelets", "ast", "ldh", "fibrinogen", "hemophagocytosis_marrow")] == [
        "platelet count",
        "AST",
        "LDH",
        "fibrinogen",
        "haemophagocytosis on bone-marrow aspirate",
    ]


def test_own_instruments_and_signal_follow_the_population():
    sle = assess(
        PatientInput.model_validate(
            {"context": {"underlying_disease": "sle"}, "labs": {"ferritin": 9000, "platelets": 60, "ast": 150,
             "triglycerides": {"value": 4.5, "unit": "mmol/L"}, "fibrinogen": {"value": 1.0, "unit": "g/L"}}}
        )
    )  # fmt: skip
    assert sle.criteria["ms_score"].status == "met"
    assert own_met(sle, "sle") == []
    assert own_signal(sle, "sle") == "insufficient_data"
    tests = deciding_tests(sle, "sle")
    assert tests and set(tests) <= set(sle.criteria["parodi2009"].missing) | set(sle.criteria["parodi2009"].next_tests)


def test_deciding_tests_put_routine_bloods_first_and_leave_out_what_is_ordered():
    a = assess(PatientInput.model_validate({"context": {"underlying_disease": "sjia"}, "labs": {"ferritin": 2500}}))
    from mas_screen.faces.cds_hooks.population import by_tier

    tests = deciding_tests(a, "sjia")
    labs = [k for k in tests if k in criteria().analytes.analytes]
    assert labs == by_tier(labs) and {"platelets", "ast", "triglycerides", "fibrinogen", "ldh"} <= set(labs)
    assert tests.index("platelets") < tests.index("temperature")  # routine bloods before bedside findings
    assert "platelets" not in deciding_tests(a, "sjia", {"platelets"})


def test_instants_are_aware_utc():
    assert parse_instant("2026-12-06T08:00:00+02:00") == (datetime(2026, 12, 6, 6, tzinfo=UTC), False)
    assert parse_instant("2026-12-06T08:00:00Z")[0].tzinfo is UTC
    assert parse_instant("2026-12-06") == (datetime(2026, 12, 6, tzinfo=UTC), True)
    assert parse_instant("2026-12") is None or parse_instant("2026-12")[1] is False
    assert parse_instant("yesterday") is None


def test_mapping_in_process_uses_the_window_from_now():
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)

    def obs(hours, value):
        when = (now - timedelta(hours=hours)).isoformat()
        return {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org",
                "code": "2276-4"}]}, "effectiveDateTime": when, "valueQuantity": {"value": value, "unit": "ng/mL",
                "system": "http://unitsofmeasure.org", "code": "ng/mL"}}  # fmt: skip

    prefetch = {
        "labs": {
            "resourceType": "Bundle",
            "entry": [{"resource": obs(h, v)} for h, v in [(1, 3000), (80, 9000), (500, 1)]],
        }
    }
    mapped = map_prefetch(prefetch, "p1", window_hours=72, now=now)
    assert mapped.patient.labs["ferritin"].value == "3000"
    assert mapped.outside_window == {"ferritin": 2}
    wide = map_prefetch(prefetch, "p1", window_hours=96, now=now)
    assert [r.value for r in wide.older["ferritin"]] == ["9000"]


# ------------------------------------------------------------------------------------ the docs


def _json_blocks(text: str) -> list[str]:
    return [b.strip() for b in text.split("```json")[1:]]


def test_docs_list_the_card_rules_as_the_data_says():
    doc = (ROOT / "docs" / "cds-hooks.md").read_text(encoding="utf-8")
    for line in card_rule_lines():
        assert line in doc


def test_docs_worked_example_is_what_the_service_answers():
    import json

    from mas_screen.faces.cds_hooks.service import answer, parse_call

    doc = (ROOT / "docs" / "cds-hooks.md").read_text(encoding="utf-8")
    section = doc.split("## 7. Worked example")[1]
    request_text, response_text = (b.split("```")[0] for b in _json_blocks(section)[:2])
    request, response = json.loads(request_text), json.loads(response_text)
    out = answer(
        parse_call(request, "mas-screen", 10),
        window_hours=72,
        bedside_url="https://mas-screen.example.org/",
        now=datetime(2026, 12, 6, 9, tzinfo=UTC),
    )
    (card,) = out.cards
    (shown,) = response["cards"]
    for field in ("summary", "indicator", "source", "links", "overrideReasons"):
        assert card[field] == shown[field], field
    ext, shown_ext = card["extension"]["mas-screen"], shown["extension"]["mas-screen"]
    assert {k: v for k, v in ext.items() if k != "provenance"} == {
        k: v for k, v in shown_ext.items() if k != "provenance"
    }
    rendered = [
        line[2:]
        for line in section.split("The card's `detail`, as the EHR renders it:")[1].splitlines()
        if line.startswith("> ")
    ]
    for line in card["detail"].splitlines():
        if line and not line.startswith("_Provenance"):
            assert line in rendered, line
