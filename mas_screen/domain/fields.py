"""The contract's input and output vocabulary without pydantic: context fields, their labels, the
allowed words. domain/models.py builds the models from these; the cohort's array code reads them
directly, so a batch run never imports pydantic (~0.1 s of every run's start-up, issue 14)."""

from __future__ import annotations

from typing import Literal

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.spec_methods import BOOLEAN_FIELDS as BOOLEAN_FIELDS  # the contract's yes/no answers

Disease = Literal["sjia", "suspected_sjia", "aosd", "sle", "other", "unknown"]
Biologic = Literal["none", "il1", "il6", "other", "unknown"]
Status = Literal["met", "not_met", "indeterminate"]
ItemResultValue = Literal["met", "not_met", "missing"]
PopulationFit = Literal["validated", "outside", "unknown"]
WarningCode = Literal[
    "not_a_number",
    "negative",
    "implausible",
    "unit_suspect",
    "unknown_unit",
    "not_convertible",
    "conflict",
    "ambiguous_number",
]
# Codes whose value stays in use (every other code leaves the value out, as if not entered).
VALUE_KEPT_CODES = frozenset({"conflict", "ambiguous_number"})

NUMERIC_CONTEXT_FIELDS = ("age_years", "age_at_onset_years", "hepatomegaly_cm", "splenomegaly_cm")

CONTEXT_LABELS = {
    "age_years": "Age (years)",
    "age_at_onset_years": "Age at onset of this illness (years)",
    "underlying_disease": "Underlying disease",
    "febrile": "Febrile in this illness",
    "hepatomegaly": "Hepatomegaly",
    "hepatomegaly_cm": "Liver edge below costal margin (cm)",
    "splenomegaly": "Splenomegaly",
    "splenomegaly_cm": "Spleen edge below costal margin (cm)",
    "cns_involvement": "CNS involvement / dysfunction",
    "hemorrhagic_manifestations": "Haemorrhagic manifestations",
    "active_arthritis": "Active arthritis",
    "hemophagocytosis_marrow": "Haemophagocytosis on bone-marrow aspirate",
    "hemophagocytosis_other_site": "Haemophagocytosis in spleen, lymph node or liver",
    "known_immunosuppression": "Known immunosuppression (HIV or long-term immunosuppressive therapy)",
    "nk_activity_low": "Low or absent NK-cell activity",
    "hlh_molecular_diagnosis": "Molecular diagnosis consistent with HLH",
    "hematologic_malignancy": "Haematological malignancy",
    "biologic_therapy": "Biologic therapy",
}
DISEASE_LABELS = {
    "sjia": "Systemic JIA",
    "suspected_sjia": "Suspected systemic JIA",
    "aosd": "Adult-onset Still's disease",
    "sle": "Systemic lupus erythematosus",
    "other": "Other",
    "unknown": "Unknown",
}
BIOLOGIC_LABELS = {
    "none": "None",
    "il1": "IL-1 blockade (anakinra, canakinumab)",
    "il6": "IL-6 blockade (tocilizumab)",
    "other": "Other biologic",
    "unknown": "Unknown",
}


def field_label(key: str) -> str:
    """Human label for any input key (lab or context field)."""
    if key in CONTEXT_LABELS:
        return CONTEXT_LABELS[key]
    analytes = criteria().analytes.analytes
    return analytes[key].label if key in analytes else key


# Every context field in the contract's order (models.ClinicalContext declares them in this order;
# a test holds the two together).
CONTEXT_FIELDS = tuple(CONTEXT_LABELS)
