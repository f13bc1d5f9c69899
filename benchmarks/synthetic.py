"""Synthetic patients for benchmarks: a realistic mix of complete and partial panels, SI and US
units, censored values and the occasional bad value. Deterministic for a given seed."""

from __future__ import annotations

import random

UNIT_CHOICES = {
    "ferritin": [("ng/mL", 1), ("µg/L", 1)],
    "platelets": [("10^9/L", 1), ("/µL", 1000)],
    "wbc": [("10^9/L", 1), ("10^3/µL", 1)],
    "neutrophils": [("10^9/L", 1)],
    "hemoglobin": [("g/dL", 1), ("g/L", 10)],
    "ast": [("U/L", 1)],
    "alt": [("U/L", 1)],
    "ldh": [("U/L", 1)],
    "triglycerides": [("mg/dL", 1), ("mmol/L", 1 / 88.57)],
    "fibrinogen": [("mg/dL", 1), ("g/L", 0.01)],
    "esr": [("mm/h", 1)],
    "crp": [("mg/L", 1)],
    "scd25": [("U/mL", 1)],
    "temperature": [("degC", 1)],
}
RANGES = {
    "ferritin": (50, 60000),
    "platelets": (20, 600),
    "wbc": (1, 30),
    "neutrophils": (0.2, 20),
    "hemoglobin": (6, 14),
    "ast": (15, 900),
    "alt": (10, 800),
    "ldh": (150, 4000),
    "triglycerides": (60, 600),
    "fibrinogen": (80, 700),
    "esr": (1, 120),
    "crp": (1, 300),
    "scd25": (300, 20000),
    "temperature": (36.5, 40.5),
}
BOOLS = [
    "febrile",
    "hepatomegaly",
    "splenomegaly",
    "cns_involvement",
    "hemorrhagic_manifestations",
    "active_arthritis",
    "hemophagocytosis_marrow",
    "known_immunosuppression",
]


def patient(rng: random.Random) -> dict:
    labs: dict = {}
    completeness = rng.choice([0.3, 0.6, 0.9, 1.0])
    for key, (lo, hi) in RANGES.items():
        if rng.random() > completeness:
            continue
        value = round(rng.uniform(lo, hi), 1)
        unit, factor = rng.choice(UNIT_CHOICES[key])
        shown = round(value * factor, 3)
        roll = rng.random()
        if roll < 0.02 and key == "ferritin":
            labs[key] = {"value": f">{int(shown)}", "unit": unit}
        elif roll < 0.01:
            labs[key] = {"value": "pending", "unit": unit}
        else:
            labs[key] = {"value": shown, "unit": unit}
    context = {b: rng.choice([True, False, None]) for b in BOOLS if rng.random() < completeness}
    context["age_years"] = round(rng.uniform(0.5, 70), 1)
    context["underlying_disease"] = rng.choice(["sjia", "suspected_sjia", "aosd", "sle", "other", "unknown"])
    context["biologic_therapy"] = rng.choice(["none", "il1", "il6", "unknown"])
    return {"context": context, "labs": labs}


def patient_mostly_unknown(rng: random.Random) -> dict:
    """A patient seen early: few labs back, most context answers still unknown (so many missing
    values and many next-test trials)."""
    labs: dict = {}
    completeness = rng.choice([0.2, 0.35, 0.5])
    for key, (lo, hi) in RANGES.items():
        if rng.random() > completeness:
            continue
        unit, factor = rng.choice(UNIT_CHOICES[key])
        labs[key] = {"value": round(round(rng.uniform(lo, hi), 1) * factor, 3), "unit": unit}
    context = {b: (rng.choice([True, False]) if rng.random() < 0.2 else None) for b in BOOLS}
    context["age_years"] = round(rng.uniform(0.5, 70), 1)
    context["underlying_disease"] = rng.choice(["sjia", "suspected_sjia", "aosd", "unknown", "unknown"])
    context["biologic_therapy"] = rng.choice(["none", "unknown", "unknown"])
    return {"context": context, "labs": labs}


MIXES = {"realistic": patient, "unknown": patient_mostly_unknown}


def patients(n: int, seed: int = 2026, mix: str = "realistic") -> list[dict]:
    rng = random.Random(seed)
    make = MIXES[mix]
    return [make(rng) for _ in range(n)]
