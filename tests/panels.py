"""Shared test patients: the contract's example input and a full 14-lab panel."""

from __future__ import annotations

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
