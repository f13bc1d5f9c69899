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

"Later" compares instants: times with a UTC offset are compared in UTC (09:00-05:00 is after
10:00+00:00). A time without an offset (FHIR requires one; a date alone is read as its midnight)
is compared with another such time as written (one system, one clock), and with an offset time
only where every offset a clock can have (−12:00 to +14:00) gives the same order. When that
leaves the latest result of an analyte unknown, neither result is used (`time_order_unknown`):
a stale value is never presented as the latest; the warning names both and asks for the offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import PatientInput
from mas_screen.domain.units import unit_index, unit_key
from mas_screen.kernel.inputs.parsing import (
    MAX_EXPONENT,
    MAX_NUMBER_CHARS,
    JsonError,
    echo,
    format_number,
    read_json,
    shorten,
)

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
    time_order_unknown, no_timezone, undated, no_birthdate, partial_birthdate, several_patients.
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
    instant: datetime | None = None  # naive: UTC when `aware`, else the clock time as written
    aware: bool = False


# Every UTC offset a clock can have (UTC−12:00 … UTC+14:00): a time without an offset is at most
# this far from the same clock reading in UTC.
EARLIEST_OFFSET, LATEST_OFFSET = timedelta(hours=-12), timedelta(hours=14)


def _instant(when: str | None) -> tuple[datetime | None, bool]:
    """(the instant, whether it had an offset): aware times in UTC, a date alone at its midnight."""
    if not when:
        return None, False
    try:
        value = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return None, False
    if value.tzinfo is None:
        return value, False
    return value.astimezone(UTC).replace(tzinfo=None), True


def _ref(resource: dict, index: int) -> str:
    rid = resource.get("id")
    kind = shorten(str(resource.get("resourceType", "resource")))
    return f"{kind}/{shorten(str(rid))}" if rid else f"entry {index} ({kind})"


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
        raise FhirError(f"expected a FHIR Bundle (resourceType 'Bundle'), got {echo(kind)!r}")
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


_TIME_FIELDS = ("effectiveDateTime", "effectiveInstant", "effectivePeriod.start", "issued")
_NO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")


def _set_aside_local_times(resource: dict) -> tuple[dict, dict[str, str]]:
    """FHIR requires an offset on a time; fhir.resources refuses the whole Observation without one.
    The time is set aside (and read here as a clock time with an unknown offset) so that the
    result is not lost: (the resource without those times, field → time as written)."""
    found: dict[str, str] = {}
    copy = resource
    for name in _TIME_FIELDS:
        holder, _, leaf = name.rpartition(".")
        parent = copy.get(holder) if holder else copy
        text = parent.get(leaf or name) if isinstance(parent, dict) else None
        if isinstance(text, str) and _NO_OFFSET.match(text.strip()):
            if copy is resource:
                copy = dict(resource)
            if holder:
                copy[holder] = {k: v for k, v in copy[holder].items() if k != leaf}
            else:
                copy.pop(name)
            found[name] = text.strip()
    return copy, found


def _observation_time(obs, local_times: dict[str, str] | None = None) -> tuple[str | None, bool]:
    """(ISO time as written, whether it is a full date or datetime)."""
    local_times = local_times or {}
    for name, candidate in zip(
        _TIME_FIELDS,
        (
            obs.effectiveDateTime,
            obs.effectiveInstant,
            obs.effectivePeriod.start if obs.effectivePeriod is not None else None,
            obs.issued,
        ),
        strict=True,
    ):
        if candidate is None:
            candidate = local_times.get(name)
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
    """valueQuantity.value as the text the core reads; bounded: a value beyond what the core reads
    (an exponent past ±30, more than 32 digits) is written with its exponent and refused there."""
    if not value.is_finite() or abs(value.adjusted()) > MAX_EXPONENT or len(value.as_tuple().digits) > MAX_NUMBER_CHARS:
        return format_number(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _read_observation(
    obs, ref: str, order: int, problems: list[FhirProblem], local_times: dict[str, str] | None = None
) -> _Value | None:
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
            "no_unit": f"{ref}: {label} {format_number(quantity.value)} has no unit (valueQuantity.code or .unit); "
            "not used.",
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
    when, full = _observation_time(obs, local_times)
    day = when[:10] if when and full else None
    if when is not None and not full:
        problems.append(
            FhirProblem(
                "no_date", f"{ref}: {label}: time {when!r} is not a full date; treated as undated.", ref, key, "info"
            )
        )
        when = None
    instant, aware = _instant(when)
    return _Value(key, prefix + _number_text(quantity.value), unit, when, day, ref, order, instant, aware)


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


__all__ = ["FhirError", "FhirImport", "FhirProblem", "bundle_to_inputs", "loinc_map"]
