"""FHIR R4 import: a Bundle of Observations (and an optional Patient) → PatientInput or a series
(one resource at a time in `fhir_read`).

Models are fhir.resources' R4B package (wire-compatible with R4 for Observation, Patient and
Bundle; the package's top level is R5). Each entry is validated on its own, so one malformed
resource is reported and the rest are still read.

Mapping, all from criteria/analytes.yaml: an Observation's LOINC code (system http://loinc.org)
names the lab (`loinc:` lists); its valueQuantity's UCUM `code` (or, without one, its `unit` text)
must be one of the lab's accepted units or their UCUM spellings. Nothing is guessed: an unknown
code, a missing or refused unit, a missing value, or a non-numeric value is reported in
`problems` and left out. A censored result (`valueQuantity.comparator` `>`, `>=`, `<`, `<=`) is
passed on as a censored value (">40000"), as the contract reads it.

Observations are grouped by calendar date (as written in effective[x], else `issued`): one date
gives `patient`; several give `series` (one panel per date, timed at that date's latest
observation) and `patient` is the latest panel. Within one date, an analyte reported twice at
different times keeps the later value; twice at the same time with different values, neither is
used (as the CSV reader does with two filled cells). The Patient's birthDate gives `age_years` at
the (latest) panel's date. Everything else (the clinical context) is left not known.

"Later" compares instants: times with a UTC offset are compared in UTC (09:00-05:00 is after
10:00+00:00). A time without an offset (FHIR requires one; a date alone is read as its midnight)
is compared with another such time as written (one system, one clock), and with an offset time
only where every offset a clock can have (−12:00 to +14:00) gives the same order. When that
leaves the latest result of an analyte unknown, neither result is used (`time_order_unknown`):
a stale value is never presented as the latest; the warning names both and asks for the offset.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import PatientInput
from mas_screen.faces.fhir_read import (
    DAYS_PER_YEAR,
    EARLIEST_OFFSET,
    LATEST_OFFSET,
    FhirError,
    FhirImport,
    FhirProblem,
    _first_error,
    _load,
    _read_observation,
    _ref,
    _set_aside_local_times,
    _Value,
)
from mas_screen.kernel.inputs.parsing import (
    echo,
    shorten,
)


def _age(birth, at: str | None, problems: list[FhirProblem], ref: str) -> float | None:
    if birth is None:
        problems.append(FhirProblem("no_birthdate", f"{ref}: no birthDate; age not known.", ref, "age_years", "info"))
        return None
    if not isinstance(birth, date):
        problems.append(
            FhirProblem(
                "partial_birthdate",
                f"{ref}: birthDate {birth!s} is not a full date; age not computed.",
                ref,
                "age_years",
            )
        )
        return None
    when = date.fromisoformat(at[:10]) if at else date.today()
    days = (when - birth).days
    if days < 0:
        problems.append(
            FhirProblem(
                "partial_birthdate", f"{ref}: birthDate {birth} is after {when}; age not computed.", ref, "age_years"
            )
        )
        return None
    return float(round(Decimal(days) / DAYS_PER_YEAR, 4))


def bundle_to_inputs(data: str | bytes | dict) -> FhirImport:
    """A FHIR R4 Bundle (JSON text, bytes or dict) → FhirImport(patient, series, problems).

    Raises FhirError when the input is not JSON or not a Bundle (or a single Observation).
    """
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient
    from pydantic import ValidationError

    from mas_screen.domain.series import Panel, SeriesInput

    bundle = _load(data)
    problems: list[FhirProblem] = []
    values: list[_Value] = []
    patients: list[tuple[Any, str]] = []
    subjects: set[str] = set()
    aliases: set[str] = set()  # references that name the bundle's Patient
    ignored: dict[str, int] = {}
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            problems.append(FhirProblem("invalid_resource", f"entry {index}: no resource; not used.", f"entry {index}"))
            continue
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            problems.append(
                FhirProblem(
                    "invalid_resource",
                    f"entry {index}: resourceType {echo(kind)!r} is not a name; not used.",
                    f"entry {index}",
                )
            )
            continue
        ref = _ref(resource, index)
        model = {"Observation": Observation, "Patient": Patient}.get(kind)
        if model is None:
            ignored[shorten(kind)] = ignored.get(shorten(kind), 0) + 1
            continue
        local_times: dict[str, str] = {}
        if kind == "Observation":
            resource, local_times = _set_aside_local_times(resource)
        try:
            parsed = model.model_validate(resource)
        except ValidationError as exc:
            problems.append(
                FhirProblem("invalid_resource", f"{ref}: not a valid {kind} ({_first_error(exc)}); not used.", ref)
            )
            continue
        if kind == "Patient":
            patients.append((parsed, ref))
            aliases.update({f"Patient/{parsed.id}"} if parsed.id else set())
            aliases.update({entry["fullUrl"]} if isinstance(entry.get("fullUrl"), str) else set())
            continue
        if parsed.subject is not None and parsed.subject.reference:
            subjects.add(parsed.subject.reference)
        value = _read_observation(parsed, ref, index, problems, local_times)
        if value is not None:
            values.append(value)
    for kind, count in sorted(ignored.items()):
        problems.append(
            FhirProblem(
                "ignored_resource",
                f"{count} {kind} resource(s) ignored (only Observation and Patient are read).",
                None,
                None,
                "info",
            )
        )
    others = subjects - aliases
    if len(patients) > 1 or len(others) + (1 if patients else 0) > 1:
        shown = ", ".join(sorted(others | {ref for _, ref in patients}))
        raise FhirError(f"the bundle holds more than one patient ({shown}); import one patient at a time")

    dated = [v for v in values if v.day is not None]
    undated = [v for v in values if v.day is None]
    groups: dict[str | None, list[_Value]] = {}
    if dated:
        for v in dated:
            groups.setdefault(v.day, []).append(v)
        for v in undated:
            problems.append(
                FhirProblem(
                    "undated",
                    f"{v.ref}: {criteria().analytes.analytes[v.key].label} has no date while others do; not used.",
                    v.ref,
                    v.key,
                )
            )
    elif undated:
        groups[None] = undated

    local = [v for v in dated if not v.aware and v.when and "T" in v.when]
    if local:
        how = (
            "each is ordered against a time with an offset only where every offset from −12:00 to +14:00 "
            "gives the same order"
            if any(v.aware for v in dated)
            else "they are compared with each other as written (one clock)"
        )
        problems.append(
            FhirProblem(
                "no_timezone",
                f"{len(local)} observation time(s) have no UTC offset (FHIR requires one, e.g. +01:00); {how}.",
                local[0].ref,
                None,
                "info",
            )
        )
    panels: list[tuple[str | None, dict[str, dict]]] = []
    for day in sorted(groups, key=lambda d: d or ""):
        labs = _panel_labs(groups[day], problems)
        timed = [v for v in groups[day] if v.instant is not None]
        latest = _latest(timed) if timed else None
        when = (latest or _latest_aware_first(timed))[-1].when if timed else None
        panels.append((when or day, labs))

    patient_id = patients[0][0].id if patients else None
    latest = panels[-1][0] if panels else None
    context: dict[str, Any] = {}
    if patients:
        parsed, ref = patients[0]
        age = _age(parsed.birthDate, latest, problems, ref)
        if age is not None:
            context["age_years"] = age
    if not panels:
        panels = [(None, {})]
    patient = PatientInput.model_validate({"id": patient_id, "context": context, "labs": panels[-1][1]})
    series = None
    if len(panels) > 1:
        series = SeriesInput.model_validate(
            {
                "id": patient_id,
                "context": context,
                "panels": [Panel.model_validate({"time": t, "labs": labs}) for t, labs in panels],
            }
        )
    return FhirImport(
        patient=patient,
        series=series,
        problems=problems,
        patient_id=patient_id,
        times=[t for t, _ in panels if t is not None],
    )


def _latest(values: list[_Value]) -> list[_Value] | None:
    """The values at the latest instant (input order), or None when the order cannot be known: an
    offset time and a time without one closer than every offset a clock can have. Linear."""
    aware = [v for v in values if v.aware and v.instant is not None]
    local = [v for v in values if not v.aware and v.instant is not None]
    best_aware = max((v.instant for v in aware), default=None)
    best_local = max((v.instant for v in local), default=None)
    at_aware = [v for v in aware if v.instant == best_aware]
    at_local = [v for v in local if v.instant == best_local]
    if best_local is None:
        return at_aware
    if best_aware is None:
        return at_local
    # a clock reading t without an offset is, in UTC, between t − 14 h and t + 12 h
    if best_aware > best_local - EARLIEST_OFFSET:
        return at_aware
    if best_aware < best_local - LATEST_OFFSET:
        return at_local
    return None


def _latest_aware_first(values: list[_Value]) -> list[_Value]:
    """For a panel's label time only, when the order is unknown: the latest time with an offset."""
    aware = [v for v in values if v.aware]
    return [max(aware or values, key=lambda v: (v.instant, v.order))]


def _panel_labs(values: list[_Value], problems: list[FhirProblem]) -> dict[str, dict]:
    """One date's values → labs; an analyte twice: the later one, or neither when they clash or
    when which is later cannot be known (time zones)."""
    by_key: dict[str, list[_Value]] = {}
    for v in values:
        by_key.setdefault(v.key, []).append(v)
    labs: dict[str, dict] = {}
    for key, found in by_key.items():
        label = criteria().analytes.analytes[key].label
        if len(found) == 1:
            labs[key] = {"value": found[0].value, "unit": found[0].unit}
            continue
        if all(v.instant is not None for v in found):
            same_time = _latest(found)
        else:  # a time that cannot be read as an instant: as written
            found.sort(key=lambda v: (v.when or "", v.order))
            same_time = [v for v in found if v.when == found[-1].when]
        if same_time is None:
            local = [v for v in found if not v.aware]
            offset = [v for v in found if v.aware]
            newest_local = max(local, key=lambda v: v.instant)
            newest_offset = max(offset, key=lambda v: v.instant)
            problems.append(
                FhirProblem(
                    "time_order_unknown",
                    f"{label}: which result is the latest cannot be known — {newest_local.ref} at "
                    f"{newest_local.when} has no UTC offset, and {newest_offset.ref} at {newest_offset.when} is "
                    "within the range of offsets a clock can have; neither is used. Add the offset (e.g. +01:00).",
                    newest_offset.ref,
                    key,
                )
            )
            continue
        last = same_time[-1]
        distinct = {(v.value, v.unit) for v in same_time}
        refs = ", ".join(v.ref for v in found)
        if len(distinct) > 1:
            problems.append(
                FhirProblem(
                    "duplicate_conflict",
                    f"{label}: {len(same_time)} different results at the same time ({refs}); neither is used.",
                    last.ref,
                    key,
                )
            )
            continue
        labs[key] = {"value": last.value, "unit": last.unit}
        problems.append(
            FhirProblem(
                "duplicate",
                f"{label}: {len(found)} results on one date ({refs}); the latest ({last.ref}) is used.",
                last.ref,
                key,
                "info",
            )
        )
    return labs
