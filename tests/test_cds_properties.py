"""Property: what the card says equals assess() on the same input.

Hypothesis draws a patient (an underlying disease coded as a Condition, labs in any accepted UCUM
unit, some repeated at earlier times), sends it to a real serve-cds process as FHIR, and checks
that the card's instrument statuses and signal are those of assess() on the same labs (latest
values, as entered) and disease, and that a card appears exactly when the card rules say so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cds_support import ICD10CM, SNOMED, call_body, condition, observation, start_serve_cds, stop
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria
from mas_screen.faces.cds_hooks.cards import CardContext, matching_rule, own_signal
from mas_screen.faces.cds_hooks.mapping import Mapped

SERVICE = "/cds-services/mas-screen"
DISEASE_CODES = {
    "sjia": (ICD10CM, "M08.20"),
    "aosd": (ICD10CM, "M06.1"),
    "sle": (SNOMED, "55464009"),
    "unknown": None,
}
# Values per lab in the default unit, spread over and around the thresholds.
RANGES = {
    "ferritin": (50, 20000),
    "platelets": (20, 450),
    "wbc": (0.5, 20),
    "neutrophils": (0.2, 15),
    "hemoglobin": (5, 16),
    "ast": (10, 600),
    "alt": (10, 600),
    "ldh": (100, 3000),
    "triglycerides": (50, 600),
    "fibrinogen": (80, 600),
    "esr": (1, 120),
    "crp": (1, 250),
    "temperature": (36, 41),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_serve_cds(tmp_path_factory.mktemp("cds-prop"), args=("--insecure-dev",))
    yield srv
    stop(srv)


@st.composite
def patients(draw):
    disease = draw(st.sampled_from(list(DISEASE_CODES)))
    keys = draw(st.lists(st.sampled_from(sorted(RANGES)), unique=True, max_size=len(RANGES)))
    analytes = criteria().analytes.analytes
    labs: dict[str, dict] = {}
    observations = []
    for key in keys:
        spec = analytes[key]
        low, high = RANGES[key]
        value = draw(
            st.decimals(
                min_value=Decimal(str(low)),
                max_value=Decimal(str(high)),
                places=1,
                allow_nan=False,
                allow_infinity=False,
            )
        )
        unit = draw(st.sampled_from(spec.units))
        # the value in that unit, exactly (canonical = (value + offset) * factor)
        shown = value / unit.factor_decimal - Decimal(repr(unit.offset))
        shown = round(shown, 3)
        labs[key] = {"value": str(shown), "unit": unit.unit}
        code = spec.loinc[0] if not (key == "triglycerides" and unit.unit == "mmol/L") else "14927-8"
        observations.append(observation(code, float(shown), unit.ucum, hours_ago=1))
        if key != "temperature" and draw(st.booleans()):  # an older result of the same lab
            observations.append(observation(code, float(shown) * 2, unit.ucum, hours_ago=draw(st.floats(2, 70))))
    return disease, labs, observations


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(patients())
def test_card_statuses_equal_assess(server, drawn):
    disease, labs, observations = drawn
    code = DISEASE_CODES[disease]
    conditions = [condition(*code)] if code else []
    body = call_body(observations, conditions=conditions, patient_res={"resourceType": "Patient", "id": "p1"})
    status, data, _ = server.request("POST", SERVICE, body)
    assert status == 200, data
    expected = assess(PatientInput.model_validate({"context": {"underlying_disease": disease}, "labs": labs}))
    ctx = CardContext(
        hook="patient-view",
        assessment=expected,
        mapped=Mapped(PatientInput(), disease=disease, now=datetime.now(UTC)),
    )
    rule = matching_rule(ctx)
    event(rule.id if rule else "no card")
    cards = data["cards"]
    if rule is None:
        assert cards == []
        return
    (card,) = cards
    ext = card["extension"]["mas-screen"]
    assert ext["rule"] == rule.id and card["indicator"] == rule.indicator
    assert ext["statuses"] == {iid: r.status for iid, r in expected.criteria.items()}
    assert ext["mas_signal"] == own_signal(expected, disease)
    rows = [line for line in card["detail"].splitlines() if line.startswith("| ")]
    for r in expected.criteria.values():  # the detail's table says the same
        word = {"met": "**met**", "not_met": "not met", "indeterminate": "indeterminate"}[r.status]
        (row,) = [x for x in rows if x.startswith(f"| {r.short_name} |") or x.startswith(f"| {r.short_name} (this")]
        assert f" | {word} | " in row
