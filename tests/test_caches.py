"""What the process remembers between patients (docs/architecture.md "Caches"): tables made from the
criteria, forgotten when they are reloaded, and never a patient's own values or text."""

from __future__ import annotations

from decimal import localcontext

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria
from mas_screen.criteria.spec_methods import parse_factor
from mas_screen.domain import units
from mas_screen.explain import summary
from mas_screen.kernel.inputs import facts


def _ratio_patient(ferritin: str) -> PatientInput:
    return PatientInput.model_validate(
        {
            "context": {"underlying_disease": "sjia", "febrile": True, "age_years": 9},
            "labs": {"ferritin": {"value": ferritin, "unit": "ng/mL"}, "esr": 7},
        }
    )


def test_evidence_sentences_are_phrased_for_each_result_never_remembered(monkeypatch):
    """They hold the patient's own numbers ("Ferritin:ESR ratio 14109.35 ≥ 21.5"): a table shared by
    every user of the server must not keep them."""
    calls = []
    phrase = summary._evidence
    monkeypatch.setattr(summary, "_evidence", lambda r, failed: calls.append(r.score) or phrase(r, failed))
    first = assess(_ratio_patient("98765.4321"))
    again = assess(_ratio_patient("98765.4321"))
    assert first.summary.supporting == again.summary.supporting
    assert any("14109.35" in s for s in first.summary.supporting)
    assert calls.count(14109.35) == 2  # phrased both times, from the result in hand


def test_a_unit_typed_by_a_user_is_not_kept():
    """Spellings listed in analytes.yaml are looked up; any other text is worked out each time."""
    assert not hasattr(units.unit_key, "cache_info")
    typed = "per " + "".join(chr(ord("k") + i) for i in range(5))
    assert units.unit_key(typed) == "perklmno"
    assert typed not in units._known_unit_keys()
    assert units.unit_key("mg/dL") == units._canonical_unit("mg/dL") == "mg/dl"
    assert units.unit_key(" x10^9/L ") == units._canonical_unit(" x10^9/L ") == "10^9/l"


def test_a_conversion_factor_is_one_number_in_any_decimal_context():
    """An "a/b" factor was divided in whatever context first asked for it (the exact code raises its
    precision), then remembered: its digits depended on the order of calls."""
    divide = parse_factor.__wrapped__  # the division itself, not what the cache kept
    plain = divide("1/11.3")
    for prec in (60, 6):
        with localcontext() as ctx:
            ctx.prec = prec
            assert divide("1/11.3") == plain
            assert parse_factor("1/11.3") == plain
    assert len(plain.as_tuple().digits) == 28


def test_a_reload_forgets_every_table_made_from_the_criteria():
    before = criteria()
    spec = facts.unit_spec("ferritin", "ng/mL")
    assert spec is before.analytes.analytes["ferritin"].unit("ng/mL")
    criteria.cache_clear()
    try:
        after = criteria()
        assert after is not before
        assert facts.unit_spec("ferritin", "ng/mL") is after.analytes.analytes["ferritin"].unit("ng/mL")
        assert units.unit_index("ferritin").accepted["ng/ml"] is after.analytes.analytes["ferritin"].unit("ng/mL")
    finally:
        criteria.cache_clear()
