"""Shared test patients: the contract's example input, a full 14-lab panel, HScore patients by points."""

from __future__ import annotations

from conftest import run


def q(value, unit) -> dict:
    return {"value": value, "unit": unit}


# contract.md "Input": the example exactly as published.
CONTRACT_EXAMPLE = {
    "context": {
        "age_years": 6.5,
        "age_at_onset_years": 5.0,
        "underlying_disease": "sjia",
        "febrile": True,
        "hepatomegaly": True,
        "hepatomegaly_cm": 3,
        "splenomegaly": False,
        "splenomegaly_cm": None,
        "cns_involvement": False,
        "hemorrhagic_manifestations": False,
        "active_arthritis": True,
        "hemophagocytosis_marrow": None,
        "hemophagocytosis_other_site": None,
        "known_immunosuppression": False,
        "nk_activity_low": None,
        "hlh_molecular_diagnosis": None,
        "biologic_therapy": "none",
    },
    "labs": {
        "ferritin": {"value": 2500, "unit": "ng/mL"},
        "platelets": 150,
        "triglycerides": {"value": 1.9, "unit": "mmol/L"},
        "temperature": {"value": 102.2, "unit": "degF"},
    },
}

# Every lab entered, a censored ferritin, SI and US units mixed (figures, report, benchmarks).
FULL_PANEL = {
    "id": "demo",
    "context": {"age_years": 7, "underlying_disease": "sjia", "febrile": True, "hepatomegaly": True},
    "labs": {
        "ferritin": {"value": ">40000", "unit": "ng/mL"},
        "platelets": {"value": 110, "unit": "10^9/L"},
        "wbc": {"value": 3.2, "unit": "10^9/L"},
        "neutrophils": {"value": 1.2, "unit": "10^9/L"},
        "hemoglobin": {"value": 92, "unit": "g/L"},
        "ast": {"value": 160, "unit": "U/L"},
        "alt": 90,
        "ldh": {"value": 1400, "unit": "U/L"},
        "triglycerides": {"value": 3.1, "unit": "mmol/L"},
        "fibrinogen": {"value": 1.4, "unit": "g/L"},
        "esr": {"value": 12, "unit": "mm/h"},
        "crp": {"value": 45, "unit": "mg/L"},
        "scd25": {"value": 5200, "unit": "U/mL"},
        "temperature": {"value": 39.6, "unit": "degC"},
    },
}


# Inputs that give each HScore item a chosen number of points (hand-picked, not read from the YAML).
HSCORE_INPUTS = {
    "immuno": {0: {"known_immunosuppression": False}, 18: {"known_immunosuppression": True}},
    "temp": {0: {"temperature": 37.0}, 33: {"temperature": 39.0}, 49: {"temperature": 40.0}},
    "organ": {
        0: {"hepatomegaly": False, "splenomegaly": False},
        23: {"hepatomegaly": False, "splenomegaly": True},
        38: {"hepatomegaly": True, "splenomegaly": True},
    },
    "cyto": {
        0: {"hemoglobin": 12, "wbc": 8, "platelets": 250},
        24: {"hemoglobin": 8, "wbc": 3, "platelets": 250},
        34: {"hemoglobin": 8, "wbc": 3, "platelets": 50},
    },
    "ferritin": {0: {"ferritin": 500}, 35: {"ferritin": 3000}, 50: {"ferritin": 10000}},
    "tg": {
        0: {"triglycerides": q(1.0, "mmol/L")},
        44: {"triglycerides": q(2.0, "mmol/L")},
        64: {"triglycerides": q(5.0, "mmol/L")},
    },
    "fib": {0: {"fibrinogen": q(4.0, "g/L")}, 30: {"fibrinogen": q(2.0, "g/L")}},
    "ast": {0: {"ast": 20}, 19: {"ast": 50}},
    "marrow": {0: {"hemophagocytosis_marrow": False}, 35: {"hemophagocytosis_marrow": True}},
}
LAB_KEYS = {"temperature", "hemoglobin", "wbc", "platelets", "ferritin", "triglycerides", "fibrinogen", "ast"}


def hscore_patient(**points) -> dict:
    """A complete HScore patient; items not named score 0."""
    labs: dict = {}
    context: dict = {"age_years": 40}
    for name, choices in HSCORE_INPUTS.items():
        for key, value in choices[points.get(name, 0)].items():
            (labs if key in LAB_KEYS else context)[key] = value
    return run(labs, **context)
