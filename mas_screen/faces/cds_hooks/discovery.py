"""Discovery (`GET /cds-services`, CDS Hooks 2.0): the two services and their prefetch templates.

Prefetch (CDS Hooks "Prefetch Template"; only token searches, `_sort` and `_count` are used, as
the spec's query restrictions recommend):
- `patient`: Patient/{{context.patientId}} (age from birthDate)
- `conditions`: Condition?patient={{context.patientId}} (underlying disease by code)
- one key per analyte of criteria/analytes.yaml, named by the analyte (`ferritin`, `platelets`,
  ...): its LOINC codes, newest first, `_count` results. Prefetch tokens cannot express "the
  last 72 hours", so the window is applied by the service (`window_hours`).
"""

from __future__ import annotations

from typing import Any

from mas_screen.criteria.loading import criteria

LOINC = "http://loinc.org"
SERVICES: dict[str, dict[str, str]] = {
    "mas-screen": {
        "hook": "patient-view",
        "title": "MAS Screen: macrophage activation syndrome screen",
        "description": (
            "When a chart is opened, applies the published MAS/HLH criteria (2016 EULAR/ACR/PRINTO, MS score, "
            "HScore, HLH-2004, Parodi 2009, and others) to the patient's laboratory results of the last hours "
            "and the underlying disease from the problem list. A card appears only when features are suggestive "
            "of MAS on the patient's own instruments, or when ferritin is high and the tests that would decide "
            "are missing. A screening aid, not a diagnosis."
        ),
    },
    "mas-screen-order-sign": {
        "hook": "order-sign",
        "title": "MAS Screen: tests that would decide a MAS screen",
        "description": (
            "When ferritin, triglycerides, fibrinogen or a bone-marrow aspirate is ordered, screens for MAS with "
            "the results already available and, for a patient at risk, names the other tests that would decide "
            "the screen. A screening aid, not a diagnosis."
        ),
    },
}
PATIENT_TOKEN = "{{context.patientId}}"


def prefetch_templates(observation_count: int) -> dict[str, str]:
    """The prefetch key → FHIR query template of every service."""
    out = {
        "patient": f"Patient/{PATIENT_TOKEN}",
        "conditions": f"Condition?patient={PATIENT_TOKEN}",
    }
    for key, spec in criteria().analytes.analytes.items():
        codes = ",".join(f"{LOINC}|{code}" for code in spec.loinc)
        out[key] = f"Observation?patient={PATIENT_TOKEN}&code={codes}&_sort=-date&_count={observation_count}"
    return out


def lab_keys() -> list[str]:
    return list(criteria().analytes.analytes)


def discovery(observation_count: int) -> dict[str, Any]:
    templates = prefetch_templates(observation_count)
    return {"services": [{**spec, "id": sid, "prefetch": dict(templates)} for sid, spec in SERVICES.items()]}


__all__ = ["SERVICES", "discovery", "lab_keys", "prefetch_templates"]
