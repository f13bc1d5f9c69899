"""Reading FHIR resources one at a time: the import's result and problem types, the LOINC map, loading
a Bundle (bounded), observation times (offsets kept, local times set aside) and one Observation to a
lab value in an accepted unit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from mas_screen.criteria.loading import criteria, per_load
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


@per_load
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
