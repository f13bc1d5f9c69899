"""Prefetch (FHIR R4) → the PatientInput to assess, with what was used, what was older and what was not.

- Each prefetch value may be a resource (a read, e.g. Patient/123), a Bundle (a search: searchset,
  or any Bundle an EHR chooses to send) or null (the EHR has no such data). All resources of all
  keys are pooled and deduplicated by type and id.
- Observations are read one at a time with the core FHIR import (`mas_screen.faces.fhir.bundle_to_inputs`):
  LOINC code → lab, UCUM unit → accepted unit, unknown codes and units reported, never guessed.
  An Observation whose subject is another patient is not used.
- Times are instants compared as aware UTC datetimes (`effective[x]`, else `issued`, as the core
  reads them). A date without a time is read as 00:00 UTC that day (and said so). Only results in
  the look-back window (default 72 h before the request) are used; per analyte the latest is used
  and the older ones in the window are listed; two different results at the same latest instant
  are both left out (as the core FHIR import does).
- Age from Patient.birthDate (core import); underlying disease from Condition codes by the code
  lists of criteria/cds_hooks.yaml. Nothing else of the context is known to the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import PatientInput
from mas_screen.domain.units import NotANumber, convert, parse_number
from mas_screen.faces.cds_hooks.rules import cds_data
from mas_screen.faces.fhir import bundle_to_inputs
from mas_screen.faces.fhir_read import LOINC, FhirError, loinc_map

FUTURE_TOLERANCE = timedelta(minutes=5)  # clock drift between the EHR and this service
HIGHEST_OF_DAY = "temperature"  # contract: "`temperature` is the highest in the last 24 h"
TEMPERATURE_HOURS = 24


@dataclass(frozen=True, slots=True)
class LabResult:
    key: str
    value: str  # as the core import passes it on (censored values as ">40000")
    unit: str  # an accepted unit name of the lab
    at: datetime  # aware, UTC
    date_only: bool
    ref: str


@dataclass
class Mapped:
    patient: PatientInput
    used: dict[str, LabResult] = field(default_factory=dict)
    older: dict[str, list[LabResult]] = field(default_factory=dict)  # in the window, not the latest
    outside_window: dict[str, int] = field(default_factory=dict)  # analyte → count too old (or future)
    problems: list[str] = field(default_factory=list)  # for the card detail (may name values)
    highest_of: dict[str, int] = field(default_factory=dict)  # temperature: the 24-h high of N readings
    disease: str = "unknown"
    disease_codes: list[str] = field(default_factory=list)  # "ICD-10-CM M08.20" that decided it
    other_diseases: list[str] = field(default_factory=list)  # coded too, lower in priority
    observations_seen: int = 0
    window_hours: float = 72.0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


class PrefetchError(ValueError):
    """The prefetch cannot be read at all (400): a value that is not a FHIR resource or null."""


SYSTEM_NAMES = {
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://snomed.info/sct": "SNOMED CT",
}


def resources(prefetch: dict[str, Any], problems: list[str] | None = None) -> list[dict]:
    """Every resource in the prefetch values (Bundles unpacked), deduplicated by type and id;
    Bundle entries without a resource are named in `problems`."""
    out: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for key, value in prefetch.items():
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            raise PrefetchError(f"prefetch {key!r} is not a FHIR resource or Bundle")
        if value["resourceType"] == "Bundle":
            entries = value.get("entry") or []
            if not isinstance(entries, list):
                raise PrefetchError(f"prefetch {key!r}: Bundle.entry is not a list")
            found = [e.get("resource") if isinstance(e, dict) else None for e in entries]
        else:
            found = [value]
        for i, resource in enumerate(found):
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                if problems is not None:
                    problems.append(f"prefetch {key!r}: entry {i} is not a FHIR resource; not used.")
                continue
            rid = resource.get("id")
            if isinstance(rid, str):
                ident = (resource["resourceType"], rid)
                if ident in seen:
                    continue
                seen.add(ident)
            out.append(resource)
    return out


def parse_instant(text: str) -> tuple[datetime, bool] | None:
    """An ISO date or dateTime → (aware UTC datetime, date_only); None when it cannot be read."""
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text)
            return day.replace(tzinfo=UTC), True
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:  # FHIR requires a zone with a time; read as UTC rather than drop it
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC), False


def _subject_ok(resource: dict, patient_id: str) -> bool:
    subject = resource.get("subject")
    if not isinstance(subject, dict) or not isinstance(subject.get("reference"), str):
        return True  # no subject given: the EHR's search was by patient
    ref = subject["reference"]
    return ref == f"Patient/{patient_id}" or ref.endswith(f"/Patient/{patient_id}")


def _ref(resource: dict) -> str:
    rid = resource.get("id")
    return f"{resource.get('resourceType')}/{rid}" if isinstance(rid, str) else str(resource.get("resourceType"))


def _clearly_old(resource: dict, oldest: datetime) -> str | None:
    """The analyte key of an Observation of ours whose time, as written, is long before the window
    (a day's margin), else None. Such results are only counted, never parsed further: an EHR may
    send weeks of results per analyte."""
    when = resource.get("effectiveDateTime") or resource.get("issued")
    if not isinstance(when, str):
        return None
    parsed = parse_instant(when)
    if parsed is None or parsed[0] >= oldest:
        return None
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    keys = {
        loinc_map().get(c.get("code"))
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict) and c.get("system") == LOINC
    } - {None}
    return keys.pop() if len(keys) == 1 else None


def _read_observation(resource: dict, mapped: Mapped) -> LabResult | None:
    try:
        imported = bundle_to_inputs(resource)
    except FhirError as exc:
        mapped.problems.append(f"{_ref(resource)}: {exc}")
        return None
    mapped.problems += [p.message for p in imported.problems if p.severity != "info" or p.code == "no_date"]
    labs = imported.patient.labs if imported.patient is not None else {}
    if not labs:
        return None
    ((key, measurement),) = labs.items()
    if not imported.times:
        mapped.problems.append(f"{_ref(resource)}: {criteria().analytes.analytes[key].label} has no date; not used.")
        return None
    parsed = parse_instant(imported.times[-1])
    if parsed is None:
        mapped.problems.append(f"{_ref(resource)}: time {imported.times[-1]!r} cannot be read; not used.")
        return None
    at, date_only = parsed
    return LabResult(key, str(measurement.value), str(measurement.unit), at, date_only, _ref(resource))


def _age(patients: list[dict], patient_id: str, mapped: Mapped) -> float | None:
    chosen = [p for p in patients if p.get("id") in (None, patient_id)]
    if not chosen:
        if patients:
            mapped.problems.append("The Patient sent is not the patient in context; age not known.")
        return None
    try:
        imported = bundle_to_inputs(
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": chosen[0]}]}
        )
    except FhirError as exc:
        mapped.problems.append(f"Patient: {exc}")
        return None
    mapped.problems += [p.message for p in imported.problems if p.severity != "info"]
    return imported.patient.context.age_years if imported.patient is not None else None


def _normal(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _disease_of(coding: dict) -> str | None:
    system, code = coding.get("system"), coding.get("code")
    if not isinstance(system, str) or not isinstance(code, str):
        return None
    norm = _normal(code)
    for disease, spec in cds_data().conditions.diseases.items():
        for codes in spec.lists:
            if codes.system != system:
                continue
            if norm in {_normal(c) for c in codes.codes} or any(norm.startswith(_normal(p)) for p in codes.prefixes):
                return disease
    return None


def _conditions(conditions: list[dict], patient_id: str, mapped: Mapped) -> None:
    rules = cds_data().conditions
    found: dict[str, list[str]] = {}
    provisional: dict[str, bool] = {}
    for condition in conditions:
        if not _subject_ok(condition, patient_id):
            mapped.problems.append(f"{_ref(condition)} is about another patient; not used.")
            continue
        status = condition.get("verificationStatus") or {}
        statuses = {c.get("code") for c in (status.get("coding") or []) if isinstance(c, dict)}
        if statuses & set(rules.ignored_verification):
            continue
        codings = (condition.get("code") or {}).get("coding") or []
        for coding in codings if isinstance(codings, list) else []:
            if not isinstance(coding, dict):
                continue
            disease = _disease_of(coding)
            if disease is None:
                continue
            found.setdefault(disease, []).append(
                f"{SYSTEM_NAMES.get(coding['system'], coding['system'])} {coding['code']}"
            )
            confirmed = not (statuses & set(rules.provisional_verification))
            provisional[disease] = provisional.get(disease, True) and not confirmed
    for disease in rules.priority:
        if disease in found:
            mapped.disease = "suspected_sjia" if disease == "sjia" and provisional.get(disease) else disease
            mapped.disease_codes = list(dict.fromkeys(found[disease]))
            mapped.other_diseases = [d for d in rules.priority if d in found and d != disease]
            return


def _choose(results: list[LabResult], mapped: Mapped) -> None:
    low = mapped.now - timedelta(hours=mapped.window_hours)
    high = mapped.now + FUTURE_TOLERANCE
    by_key: dict[str, list[LabResult]] = {}
    for r in results:
        if low <= r.at <= high or (r.date_only and low.date() <= r.at.date() <= high.date()):
            by_key.setdefault(r.key, []).append(r)
        else:
            mapped.outside_window[r.key] = mapped.outside_window.get(r.key, 0) + 1
    for key, found in by_key.items():
        found.sort(key=lambda r: r.at)
        if key == HIGHEST_OF_DAY:
            _highest(found, mapped)
            continue
        latest = found[-1]
        same = [r for r in found if r.at == latest.at]
        if len({(r.value, r.unit) for r in same}) > 1:
            label = criteria().analytes.analytes[key].label
            refs = ", ".join(r.ref for r in same)
            mapped.problems.append(f"{label}: different results at the same time ({refs}); neither is used.")
        else:
            mapped.used[key] = latest
        mapped.older[key] = [r for r in reversed(found) if r.at < latest.at]  # newest first


def _canonical(r: LabResult) -> Decimal | None:
    """A result's value in its analyte's default unit (a censored value by its bound)."""
    try:
        parsed = parse_number(r.value)
    except NotANumber:
        return None
    spec = criteria().analytes.analytes[r.key]
    return convert(parsed.value, spec.unit(r.unit), spec.unit(spec.default_unit))


def _highest(found: list[LabResult], mapped: Mapped) -> None:
    """Temperature is the highest in the last 24 h (contract "Fever"), not the latest."""
    since = mapped.now - timedelta(hours=min(TEMPERATURE_HOURS, mapped.window_hours))
    recent = [r for r in found if r.at >= since or (r.date_only and r.at.date() >= since.date())]
    earlier = [r for r in reversed(found) if r not in recent]
    valued = [(v, r) for r in recent if (v := _canonical(r)) is not None]
    if valued:
        top = max(v for v, _ in valued)
        best = [r for v, r in valued if v == top]
        chosen = best[-1]  # the latest of equal highs
        mapped.used[chosen.key] = chosen
        mapped.older[chosen.key] = [r for r in reversed(found) if r is not chosen and r in recent] + earlier
        mapped.highest_of[chosen.key] = len(recent)
    else:
        mapped.older[found[0].key] = earlier


def map_prefetch(
    prefetch: dict[str, Any], patient_id: str, *, window_hours: float, now: datetime | None = None
) -> Mapped:
    """The PatientInput for this patient from the pooled prefetch resources."""
    mapped = Mapped(PatientInput(), window_hours=window_hours, now=now or datetime.now(UTC))
    pool = resources(prefetch, mapped.problems)
    patients = [r for r in pool if r["resourceType"] == "Patient"]
    conditions = [r for r in pool if r["resourceType"] == "Condition"]
    observations = [r for r in pool if r["resourceType"] == "Observation"]
    results: list[LabResult] = []
    oldest = mapped.now - timedelta(hours=window_hours) - timedelta(days=1)
    for obs in observations:
        if not _subject_ok(obs, patient_id):
            mapped.problems.append(f"{_ref(obs)} is about another patient; not used.")
            continue
        mapped.observations_seen += 1
        stale = _clearly_old(obs, oldest)
        if stale is not None:  # not worth validating: it could not be used whatever it holds
            mapped.outside_window[stale] = mapped.outside_window.get(stale, 0) + 1
            continue
        found = _read_observation(obs, mapped)
        if found is not None:
            results.append(found)
    _choose(results, mapped)
    _conditions(conditions, patient_id, mapped)
    context: dict[str, Any] = {"underlying_disease": mapped.disease}
    age = _age(patients, patient_id, mapped)
    if age is not None:
        context["age_years"] = age
    labs = {k: {"value": r.value, "unit": r.unit} for k, r in mapped.used.items()}
    mapped.patient = PatientInput.model_validate({"context": context, "labs": labs})
    return mapped


__all__ = ["LabResult", "Mapped", "PrefetchError", "map_prefetch", "parse_instant", "resources"]
