"""FHIR R4 import: a Bundle of Observations (and an optional Patient) → PatientInput or a series.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from mas_screen.criteria_data import criteria
from mas_screen.models import PatientInput
from mas_screen.parsing import JsonError, read_json
from mas_screen.units import unit_index, unit_key

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
USABLE_STATUS = ("final", "amended", "corrected", "preliminary")
COMPARATORS = (">", ">=", "<", "<=")
DAYS_PER_YEAR = Decimal("365.25")


class FhirError(ValueError):
    """The input is not a FHIR Bundle (or Observation) that can be read at all."""


@dataclass(frozen=True, slots=True)
class FhirProblem:
    """Something in the bundle that was not used, or used with a caveat.

    Codes: invalid_resource, ignored_resource, status, unknown_code, no_value, not_a_quantity,
    no_unit, unknown_unit, not_convertible, comparator, no_date, duplicate, duplicate_conflict,
    undated, no_birthdate, partial_birthdate, several_patients.
    """

    code: str
    message: str
    resource: str | None = None  # "Observation/ferritin-1", or "entry 3" without an id
    field: str | None = None  # the lab key, when known
    severity: str = "warning"  # "info": nothing was left out


@dataclass(slots=True)
class FhirImport:
    patient: PatientInput | None  # one panel (the latest when there are several dates)
    series: Any = None  # trends.SeriesInput when observations have several dates, else None
    problems: list[FhirProblem] = field(default_factory=list)
    patient_id: str | None = None
    times: list[str] = field(default_factory=list)  # the panels' times, oldest first

    @property
    def used(self) -> int:
        """How many lab values were read into the panel(s)."""
        if self.series is not None:
            return sum(len(p.labs) for p in self.series.panels)
        return len(self.patient.labs) if self.patient is not None else 0


@cache
def loinc_map() -> dict[str, str]:
    """LOINC code → lab key (criteria/analytes.yaml)."""
    out: dict[str, str] = {}
    for key, spec in criteria().analytes.analytes.items():
        for code in spec.loinc:
            out[code] = key
    return out


@dataclass(slots=True)
class _Value:
    key: str
    value: str  # as typed, possibly censored (">40000")
    unit: str  # an accepted unit name of the lab
    when: str | None  # ISO time as written (date or datetime)
    day: str | None
    ref: str
    order: int


def _ref(resource: dict, index: int) -> str:
    rid = resource.get("id")
    kind = resource.get("resourceType", "resource")
    return f"{kind}/{rid}" if rid else f"entry {index} ({kind})"


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "resource"
        return f"{where}: {first.get('msg', '')}".strip()
    return str(exc).split("\n")[0]


def _load(data: str | bytes | dict) -> dict:
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FhirError("the FHIR file is not UTF-8 text") from exc
    if isinstance(data, str):
        try:
            data = read_json(data)
        except JsonError as exc:
            raise FhirError(f"the FHIR input is {exc}") from exc
    if not isinstance(data, dict):
        raise FhirError("the FHIR input must be a JSON object (a Bundle)")
    kind = data.get("resourceType")
    if kind == "Observation":
        return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": data}]}
    if kind != "Bundle":
        raise FhirError(f"expected a FHIR Bundle (resourceType 'Bundle'), got {kind!r}")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError("Bundle.entry must be a list")
    return data


def _time_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _observation_time(obs) -> tuple[str | None, bool]:
    """(ISO time as written, whether it is a full date or datetime)."""
    for candidate in (
        obs.effectiveDateTime,
        obs.effectiveInstant,
        obs.effectivePeriod.start if obs.effectivePeriod is not None else None,
        obs.issued,
    ):
        if candidate is None:
            continue
        if isinstance(candidate, datetime | date):
            return candidate.isoformat(), True
        text = str(candidate)
        return text, len(text) >= 10
    return None, False


def _unit(key: str, quantity) -> tuple[str | None, str | None, str | None]:
    """(accepted unit name, problem code, what was given) for a valueQuantity."""
    given = quantity.code if quantity.code and (quantity.system in (None, UCUM)) else None
    given = given or quantity.unit
    if not given:
        return None, "no_unit", None
    index = unit_index(key)
    found = index.accepted.get(unit_key(given))
    if found is None and quantity.unit and quantity.unit != given:
        found = index.accepted.get(unit_key(quantity.unit))
    if found is not None:
        return found.unit, None, given
    if unit_key(given) in index.refused:
        return None, "not_convertible", given
    return None, "unknown_unit", given


def _number_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _read_observation(obs, ref: str, order: int, problems: list[FhirProblem]) -> _Value | None:
    codes = [c.code for c in (obs.code.coding or []) if c.system == LOINC and c.code]
    keys = {loinc_map()[c] for c in codes if c in loinc_map()}
    shown = ", ".join(f"{c.system or '?'}|{c.code}" for c in (obs.code.coding or [])) or (obs.code.text or "none")
    if not keys:
        problems.append(
            FhirProblem("unknown_code", f"{ref}: code {shown} is not a LOINC code MAS Screen reads; not used.", ref)
        )
        return None
    if len(keys) > 1:
        problems.append(
            FhirProblem(
                "unknown_code", f"{ref}: codes {shown} name several labs ({', '.join(sorted(keys))}); not used.", ref
            )
        )
        return None
    (key,) = keys
    label = criteria().analytes.analytes[key].label
    if obs.status not in USABLE_STATUS:
        problems.append(FhirProblem("status", f"{ref}: {label} has status {obs.status!r}; not used.", ref, key))
        return None
    quantity = obs.valueQuantity
    if quantity is None:
        if obs.dataAbsentReason is not None:
            reason = obs.dataAbsentReason.text or ", ".join(c.code or "" for c in obs.dataAbsentReason.coding or [])
            problems.append(FhirProblem("no_value", f"{ref}: {label} has no value ({reason}); not used.", ref, key))
            return None
        other = next(
            (
                name
                for name in ("valueString", "valueCodeableConcept", "valueBoolean", "valueInteger", "valueRange")
                if getattr(obs, name, None) is not None
            ),
            None,
        )
        if other is not None:
            problems.append(
                FhirProblem(
                    "not_a_quantity",
                    f"{ref}: {label} is given as {other}, not valueQuantity (value and unit); not used.",
                    ref,
                    key,
                )
            )
        else:
            problems.append(FhirProblem("no_value", f"{ref}: {label} has no valueQuantity; not used.", ref, key))
        return None
    if quantity.value is None:
        problems.append(FhirProblem("no_value", f"{ref}: {label}: valueQuantity has no value; not used.", ref, key))
        return None
    unit, problem, given = _unit(key, quantity)
    if problem is not None:
        accepted = ", ".join(u.unit for u in criteria().analytes.analytes[key].units)
        text = {
            "no_unit": f"{ref}: {label} {quantity.value} has no unit (valueQuantity.code or .unit); not used.",
            "unknown_unit": f"{ref}: {label}: unit {given!r} is not one MAS Screen converts ({accepted}); not used.",
            "not_convertible": f"{ref}: {label}: unit {given!r} has no fixed conversion to {accepted}; not used.",
        }[problem]
        problems.append(FhirProblem(problem, text, ref, key))
        return None
    prefix = ""
    if quantity.comparator is not None:
        if quantity.comparator not in COMPARATORS:
            problems.append(
                FhirProblem(
                    "comparator",
                    f"{ref}: {label}: comparator {quantity.comparator!r} cannot be read as a bound; not used.",
                    ref,
                    key,
                )
            )
            return None
        prefix = quantity.comparator
    when, full = _observation_time(obs)
    day = when[:10] if when and full else None
    if when is not None and not full:
        problems.append(
            FhirProblem(
                "no_date", f"{ref}: {label}: time {when!r} is not a full date; treated as undated.", ref, key, "info"
            )
        )
        when = None
    return _Value(key, prefix + _number_text(quantity.value), unit, when, day, ref, order)


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

    from mas_screen.trends import Panel, SeriesInput

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
        ref = _ref(resource, index)
        model = {"Observation": Observation, "Patient": Patient}.get(kind)
        if model is None:
            ignored[str(kind)] = ignored.get(str(kind), 0) + 1
            continue
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
        value = _read_observation(parsed, ref, index, problems)
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

    panels: list[tuple[str | None, dict[str, dict]]] = []
    for day in sorted(groups, key=lambda d: d or ""):
        labs = _panel_labs(groups[day], problems)
        times = [v.when for v in groups[day] if v.when]
        panels.append((max(times) if times else day, labs))

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


def _panel_labs(values: list[_Value], problems: list[FhirProblem]) -> dict[str, dict]:
    """One date's values → labs; an analyte twice: the later one, or neither when they clash."""
    by_key: dict[str, list[_Value]] = {}
    for v in values:
        by_key.setdefault(v.key, []).append(v)
    labs: dict[str, dict] = {}
    for key, found in by_key.items():
        label = criteria().analytes.analytes[key].label
        if len(found) == 1:
            labs[key] = {"value": found[0].value, "unit": found[0].unit}
            continue
        found.sort(key=lambda v: (v.when or "", v.order))
        last = found[-1]
        same_time = [v for v in found if v.when == last.when]
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


__all__ = ["FhirError", "FhirImport", "FhirProblem", "bundle_to_inputs", "loinc_map"]
