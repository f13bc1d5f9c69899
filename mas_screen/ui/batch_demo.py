"""A synthetic demo cohort for the Batch page, so an educator can show cohort screening without data.

Every row is made up: drawn from a seeded random generator (the same table every time), with ids
"SYNTH-001"…, never from a patient. The mix is chosen to show every face of the page: panels
resembling MAS, panels resembling an active flare, incomplete panels (indeterminate results),
several diseases and units, and a few cells a real export would hold ("pending", a cell with its
own unit, a value in the wrong unit) so row warnings appear.
"""

from __future__ import annotations

import math
import random
from functools import cache

import pandas as pd

DEMO_SEED = 20260301
DEMO_ROWS = 120
SYNTHETIC_LABEL = "SYNTHETIC demo cohort — made-up rows, not patients"

COLUMNS = (
    "id", "time", "age_years", "underlying_disease", "febrile", "cns_involvement", "hemorrhagic_manifestations",
    "active_arthritis", "hepatomegaly", "splenomegaly", "known_immunosuppression", "hemophagocytosis_marrow",
    "biologic_therapy",
    "ferritin_ng_per_mL", "platelets_10^9_per_L", "wbc_10^9_per_L", "neutrophils_10^9_per_L", "hemoglobin_g_per_dL",
    "ast_U_per_L", "alt_U_per_L", "ldh_U_per_L", "triglycerides_mg_per_dL", "fibrinogen_mg_per_dL", "esr_mm_per_h",
    "crp_mg_per_L", "temperature_degC",
)  # fmt: skip

# Synthetic ranges per picture (low, high); log-uniform for labs spanning decades. Display data only.
MAS_LIKE = {
    "ferritin_ng_per_mL": (1500, 60000, True), "platelets_10^9_per_L": (25, 190, False),
    "wbc_10^9_per_L": (1.5, 9, False), "neutrophils_10^9_per_L": (0.6, 6, False), "hemoglobin_g_per_dL": (6.5, 11, False),
    "ast_U_per_L": (60, 900, True), "alt_U_per_L": (40, 700, True), "ldh_U_per_L": (500, 4000, True),
    "triglycerides_mg_per_dL": (140, 600, False), "fibrinogen_mg_per_dL": (70, 330, False), "esr_mm_per_h": (2, 40, False),
    "crp_mg_per_L": (20, 250, False), "temperature_degC": (38.4, 40.8, False),
}  # fmt: skip
FLARE_LIKE = {
    "ferritin_ng_per_mL": (120, 2500, True), "platelets_10^9_per_L": (220, 650, False),
    "wbc_10^9_per_L": (9, 28, False), "neutrophils_10^9_per_L": (6, 22, False), "hemoglobin_g_per_dL": (8.5, 13, False),
    "ast_U_per_L": (12, 55, True), "alt_U_per_L": (10, 50, True), "ldh_U_per_L": (150, 450, True),
    "triglycerides_mg_per_dL": (50, 170, False), "fibrinogen_mg_per_dL": (330, 750, False), "esr_mm_per_h": (35, 120, False),
    "crp_mg_per_L": (30, 280, False), "temperature_degC": (37.4, 39.9, False),
}  # fmt: skip
DISEASES = ("sjia", "sjia", "sjia", "suspected_sjia", "aosd", "aosd", "sle", "other", "unknown", "")
YES_NO = ("yes", "no", "no", "")


def _draw(rng: random.Random, low: float, high: float, log: bool) -> float:
    if log:
        return 10 ** rng.uniform(math.log10(low), math.log10(high))
    return rng.uniform(low, high)


def _text(column: str, value: float) -> str:
    if column in ("temperature_degC", "hemoglobin_g_per_dL", "wbc_10^9_per_L", "neutrophils_10^9_per_L"):
        return f"{value:.1f}"
    return str(round(value))


def _row(rng: random.Random, number: int) -> dict[str, str]:
    disease = rng.choice(DISEASES)
    picture = MAS_LIKE if rng.random() < 0.35 else FLARE_LIKE
    adult = disease in ("aosd", "other", "sle") or (disease in ("unknown", "") and rng.random() < 0.5)
    age = rng.uniform(18, 75) if adult else rng.uniform(1.5, 16)
    row = {
        "id": f"SYNTH-{number:03d}",
        "time": f"2026-{rng.randint(1, 2):02d}-{rng.randint(1, 28):02d} {rng.choice(('08:00', '14:30', '22:15'))}",
        "age_years": f"{age:.1f}",
        "underlying_disease": disease,
        "febrile": "yes" if rng.random() < 0.85 else rng.choice(("no", "")),
        "biologic_therapy": rng.choice(("none", "none", "il1", "il6", "")),
    }
    for field in ("cns_involvement", "hemorrhagic_manifestations", "active_arthritis"):
        row[field] = rng.choice(YES_NO)
    for field in ("hepatomegaly", "splenomegaly", "known_immunosuppression"):  # usually recorded
        row[field] = (
            "" if rng.random() < 0.08 else "yes" if rng.random() < (0.5 if picture is MAS_LIKE else 0.2) else "no"
        )
    # A marrow aspirate is done in few patients: mostly blank (not done), which leaves HScore open.
    marrow = rng.random()
    row["hemophagocytosis_marrow"] = "" if marrow < 0.4 else "yes" if picture is MAS_LIKE and marrow < 0.85 else "no"
    completeness = rng.choice((0.55, 0.8, 1.0, 1.0, 1.0))
    for column, (low, high, log) in picture.items():
        row[column] = _text(column, _draw(rng, low, high, log)) if rng.random() < completeness else ""
    return row


@cache
def _demo_records() -> tuple[tuple[str, ...], ...]:
    rng = random.Random(DEMO_SEED)
    rows = [_row(rng, i + 1) for i in range(DEMO_ROWS)]
    # What real exports hold: a pending result, a cell with its own unit, a fibrinogen in g/L typed
    # into the mg/dL column, a yes/no answer that is neither.
    rows[3]["ferritin_ng_per_mL"] = "pending"
    rows[7]["fibrinogen_mg_per_dL"] = "1.6 g/L"
    rows[11]["fibrinogen_mg_per_dL"] = "2.1"
    rows[15]["febrile"] = "maybe"
    return tuple(tuple(r.get(c, "") for c in COLUMNS) for r in rows)


def demo_cohort() -> pd.DataFrame:
    """The synthetic demo cohort as a table of text cells (a fresh copy each call)."""
    return pd.DataFrame(list(_demo_records()), columns=list(COLUMNS), dtype="str")


def demo_csv() -> bytes:
    """The demo cohort as a CSV file (what an uploaded export would look like)."""
    return demo_cohort().to_csv(index=False).encode("utf-8")


__all__ = ["DEMO_ROWS", "SYNTHETIC_LABEL", "demo_cohort", "demo_csv"]
