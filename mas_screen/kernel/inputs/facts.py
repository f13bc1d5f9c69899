"""What the rules may know about a patient: validated values as intervals, plus input warnings.

`normalise()` turns a PatientInput into `Facts`. A value that was not entered, or was left out as a
bad value, is absent from Facts; asked for its interval, Facts answers with the plausible range,
so a rule is decided only when no plausible value could change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mas_screen.criteria.loading import criteria, per_load
from mas_screen.domain.fields import BOOLEAN_FIELDS, NUMERIC_CONTEXT_FIELDS
from mas_screen.domain.units import (
    NotANumber,
    ParsedNumber,
    as_float,
    check_value,
    convert,
    format_number,
    format_typed,
    from_canonical,
    is_plausible,
    parse_number,
    pretty_unit,
    unit_index,
    unit_key,
)
from mas_screen.kernel.inputs.parsing import MAX_UNIT_CHARS, shorten
from mas_screen.kernel.logic import Interval, bound_prefix

if TYPE_CHECKING:
    from mas_screen.criteria.schema import UnitSpec
    from mas_screen.domain.models import InputWarning, PatientInput


def _warning(**fields: Any) -> InputWarning:
    """An input warning (a pydantic model, imported here: the cohort's array code imports this module
    but calls `normalise` only for the rare cell it cannot decide, and never imports pydantic else)."""
    from mas_screen.domain.models import InputWarning

    return InputWarning(**fields)


@dataclass(slots=True)
class LabFact:
    """One accepted lab value: exact, or censored (a bound), in the unit it was typed in."""

    analyte: str
    parsed: ParsedNumber
    unit: UnitSpec
    echo: dict[str, Any]  # {"value": as typed, "unit": as typed or the default unit}
    _cache: dict[str, Interval] = field(default_factory=dict)
    _shown: dict[str, str] = field(default_factory=dict)
    _card: dict[str, dict[str, Any]] = field(default_factory=dict)
    _values: dict[str, Decimal] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return self.parsed.op is None

    def value_in(self, unit: UnitSpec) -> Decimal:
        """The value in `unit`, converted once (the rules, the cards and the exact sums all ask)."""
        value = self._values.get(unit.unit)
        if value is None:
            value = self._values[unit.unit] = convert(self.parsed.value, self.unit, unit)
        return value

    def interval(self, unit: UnitSpec) -> Interval:
        cached = self._cache.get(unit.unit)
        if cached is not None:
            return cached
        value = as_float(self.value_in(unit))
        op = self.parsed.op
        if op is None:
            iv = Interval(value, value)
        else:
            # normalise() accepts a bound only when some plausible value satisfies it.
            plausible = plausible_interval(self.analyte, unit.unit)
            lo, hi = plausible.lo, plausible.hi
            iv = {
                ">": Interval(value, hi, lo_open=True),
                ">=": Interval(value, hi),
                "<": Interval(lo, value, hi_open=True),
                "<=": Interval(lo, value),
            }[op]
        self._cache[unit.unit] = iv
        return iv

    def card_fields(self, unit: UnitSpec) -> dict[str, Any]:
        """The item-card fields this value fills for an item published in `unit` (several items
        read the same lab in the same unit): as typed, in that unit, and the exact value there."""
        fields = self._card.get(unit.unit)
        if fields is None:
            fields = {"input": self.echo, "display": self.display(), "value_text": self.display(unit)}
            if self.exact:
                fields["value"] = self.interval(unit).lo
            self._card[unit.unit] = fields
        return fields

    def display(self, unit: UnitSpec | None = None) -> str:
        """As typed (no unit given), or in `unit` to 4 significant digits (display only)."""
        key = "" if unit is None else unit.unit
        text = self._shown.get(key)
        if text is None:
            value = self.parsed.value if unit is None else _trim(self.value_in(unit))
            unit = unit or self.unit
            shown = format_number(value)
            prefix = bound_prefix(self.parsed.op)
            text = self._shown[key] = f"{prefix}{shown} {pretty_unit(unit.unit)}"
        return text


def _trim(value: Decimal) -> Decimal:
    """Display precision after a conversion: 4 significant digits (274.6 mg/dL, 2.992 mmol/L),
    never fewer than the integer part. Comparisons always use the full value."""
    if value == 0:
        return value
    return round(value, max(0, 3 - value.adjusted()))


@per_load
def unit_spec(analyte: str, unit: str) -> UnitSpec:
    return criteria().analytes.analytes[analyte].unit(unit)


@per_load
def plausible_interval(analyte: str, unit: str) -> Interval:
    spec = criteria().analytes.analytes[analyte]
    target = spec.unit(unit)
    lo = as_float(from_canonical(Decimal(repr(spec.plausible.min)), target))
    hi = as_float(from_canonical(Decimal(repr(spec.plausible.max)), target))
    return Interval(lo, hi)


@per_load
def context_plausible(name: str) -> Interval:
    p = criteria().analytes.context_numbers[name].plausible
    return Interval(float(p.min), float(p.max))


def fever_cut(unit: str) -> float:
    """The project's fever convention (38.0 °C) in a temperature unit."""
    conv = criteria().analytes.fever_convention
    source, target = unit_spec("temperature", conv.unit), unit_spec("temperature", unit)
    return as_float(convert(Decimal(repr(conv.threshold)), source, target))


@dataclass(slots=True)
class Facts:
    labs: dict[str, LabFact]
    flags: dict[str, bool | None]
    numbers: dict[str, float]  # accepted numeric context fields (ages, organ sizes)
    disease: str = "unknown"
    biologic: str = "unknown"
    _entered: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def entered(self) -> frozenset[str]:
        """Every input key with a value (labs, yes/no answers, numbers), computed once."""
        if self._entered is None:
            flags = (k for k, v in self.flags.items() if v is not None)
            self._entered = frozenset((*self.labs, *flags, *self.numbers))
        return self._entered

    def lab_interval(self, analyte: str, unit: str) -> Interval:
        fact = self.labs.get(analyte)
        if fact is None:
            return plausible_interval(analyte, unit)
        known = fact._cache.get(unit)  # most items read a lab in a unit another item already asked for
        return known if known is not None else fact.interval(unit_spec(analyte, unit))

    def number_interval(self, name: str) -> Interval:
        value = self.numbers.get(name)
        return context_plausible(name) if value is None else Interval.point(value)

    def replaced(self, key: str, value: Any) -> Facts:
        """A copy with one input set to a candidate value (a bool, or a float in the default unit)."""
        labs, flags, numbers = self.labs, self.flags, self.numbers
        if key in criteria().analytes.analytes:
            labs = dict(labs)
            labs[key] = _candidate_lab(key, repr(value))
        elif key in NUMERIC_CONTEXT_FIELDS:
            numbers = dict(numbers)
            numbers[key] = value
        else:
            flags = dict(flags)
            flags[key] = value
        return Facts(labs, flags, numbers, self.disease, self.biologic)


@per_load
def _candidate_lab(key: str, text: str) -> LabFact:
    """A lab entered as `text` in its default unit: a plausible end tried by next tests, the same for
    every patient, so made once and shared (it keeps its converted intervals). Keyed by the text,
    not the float, so that 0.0 and -0.0 stay distinct; only the ends from analytes.yaml reach it."""
    spec = criteria().analytes.analytes[key]
    return LabFact(key, ParsedNumber(Decimal(text)), spec.unit(spec.default_unit), {})


# ------------------------------------------------------------------------------------- normalise


def normalise(patient: PatientInput) -> tuple[Facts, list[InputWarning]]:
    """Validate every value; bad ones become warnings and are left out, as if not entered."""
    warnings: list[InputWarning] = []
    labs: dict[str, LabFact] = {}
    analytes = criteria().analytes.analytes
    comma = patient.decimal_comma
    for key, measurement in patient.labs.items():
        raw, typed_unit = measurement.value, measurement.unit
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        spec = analytes[key]
        unit_text = typed_unit if typed_unit not in (None, "") else spec.default_unit
        echo = {"value": raw, "unit": unit_text}
        index = unit_index(key)
        ukey = unit_key(unit_text) if len(unit_text) <= MAX_UNIT_CHARS else ""
        unit = index.accepted.get(ukey)
        if unit is None:
            shown = format_typed(raw, unit_text)  # as typed, for messages only (formatted when needed)
            refused = index.refused.get(ukey)
            if refused is not None:
                warnings.append(_warning(field=key, code="not_convertible", message=refused.reason, input=shown))
            else:
                accepted = ", ".join(u.unit for u in spec.units)
                warnings.append(
                    _warning(
                        field=key,
                        code="unknown_unit",
                        message=f"{spec.label}: unit {shorten(unit_text)!r} is not recognised; use {accepted}.",
                        input=shown,
                    )
                )
            continue
        try:
            parsed = parse_number(raw, decimal_comma=comma)
        except NotANumber as exc:
            shown = format_typed(raw, unit_text)
            warnings.append(
                _warning(field=key, code="not_a_number", message=f"{spec.label}: {shown!r} is {exc}.", input=shown)
            )
            continue
        problem = check_value(key, parsed.value, unit, parsed.op)
        other_plausible = parsed.other is not None and is_plausible(parsed.other, unit, spec, parsed.op)
        if problem is not None:
            shown = format_typed(raw, unit_text)
            message = problem.message
            if other_plausible:
                message += " " + _other_reading(parsed, unit.unit, comma)
            warnings.append(_warning(field=key, code=problem.code, message=message, input=shown))
            continue
        if other_plausible:
            warnings.append(_ambiguous(key, spec.label, raw, parsed, unit.unit, comma, format_typed(raw, unit_text)))
        labs[key] = LabFact(key, parsed, unit, echo)

    ctx = patient.context
    numbers: dict[str, float] = {}
    for name in NUMERIC_CONTEXT_FIELDS:
        raw = getattr(ctx, name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        spec_n = criteria().analytes.context_numbers[name]
        try:
            parsed = parse_number(raw, decimal_comma=comma)
            if parsed.op is not None:
                raise NotANumber("a bound, not a number (enter the value)")
        except NotANumber as exc:
            shown = format_typed(raw, None)
            warnings.append(
                _warning(field=name, code="not_a_number", message=f"{spec_n.label}: {shown!r} is {exc}.", input=shown)
            )
            continue
        value = float(parsed.value)
        plaus = spec_n.plausible
        other = parsed.other
        other_plausible = other is not None and plaus.min <= other <= plaus.max
        if value < 0:
            shown = format_typed(raw, None)  # as typed, for messages only (formatted when one is written)
            warnings.append(
                _warning(field=name, code="negative", message=f"{spec_n.label} cannot be negative.", input=shown)
            )
            continue
        if not plaus.min <= value <= plaus.max:
            shown = format_typed(raw, None)
            message = (
                f"{spec_n.label} {shown} {spec_n.unit} is outside {plaus.min}–{plaus.max} {spec_n.unit}; left out."
            )
            if other_plausible:
                message += " " + _other_reading(parsed, spec_n.unit, comma)
            warnings.append(_warning(field=name, code="implausible", message=message, input=shown))
            continue
        if other_plausible:
            warnings.append(_ambiguous(name, spec_n.label, raw, parsed, spec_n.unit, comma, format_typed(raw, None)))
        numbers[name] = value

    flags = {name: getattr(ctx, name) for name in BOOLEAN_FIELDS}
    facts = Facts(labs, flags, numbers, ctx.disease, ctx.biologic)
    warnings.extend(_conflicts(facts))
    return facts, warnings


def _other_reading(parsed: ParsedNumber, unit: str, decimal_comma: bool) -> str:
    """The other locale's reading of an ambiguous spelling, as a sentence."""
    mark = "a decimal point" if decimal_comma else "a decimal comma"
    op = bound_prefix(parsed.op)
    return f"(With {mark} it would read {op}{format_number(parsed.other)} {pretty_unit(unit)}.)"


def _ambiguous(
    key: str, label: str, raw: object, parsed: ParsedNumber, unit: str, decimal_comma: bool, shown: str
) -> InputWarning:
    """`ambiguous_number` (contract "Number spelling"): both readings plausible; the value is used."""
    op = bound_prefix(parsed.op)
    mark, separator = ("','", "decimal comma") if decimal_comma else ("'.'", "decimal point")
    thousands = "'.'" if decimal_comma else "','"
    return _warning(
        field=key,
        code="ambiguous_number",
        message=(
            f"{label}: {shown!r} is read as {op}{format_number(parsed.value)} {pretty_unit(unit)} ({mark} is the "
            f"{separator}, {thousands} separates thousands); it could also mean {op}{format_number(parsed.other)} "
            f"{pretty_unit(unit)}, which is plausible too. Value used; please check."
        ),
        input=shown,
    )


def _conflicts(facts: Facts) -> list[InputWarning]:
    out: list[InputWarning] = []
    conv = criteria().analytes.fever_convention
    temp = facts.labs.get("temperature")
    if facts.flags.get("febrile") is False and temp is not None:
        iv = temp.interval(unit_spec("temperature", conv.unit))
        if iv.lo >= conv.threshold:
            out.append(
                _warning(
                    field="febrile",
                    code="conflict",
                    message=(
                        f"'Not febrile' conflicts with a highest temperature of {temp.display()} "
                        f"(≥ {conv.threshold} °C). Both are kept: 'febrile' decides fever items, the temperature "
                        "decides temperature bands. Please check."
                    ),
                    input="false",
                )
            )
    onset, age = facts.numbers.get("age_at_onset_years"), facts.numbers.get("age_years")
    if onset is not None and age is not None and onset > age:
        out.append(
            _warning(
                field="age_at_onset_years",
                code="conflict",
                message=f"Age at onset ({format_number(onset)} y) is later than the current age ({format_number(age)} y). Both kept; please check.",
                input=format_number(onset),
            )
        )
    for organ in ORGAN_FIELDS:
        size = facts.numbers.get(f"{organ}_cm")
        if facts.flags.get(organ) is False and size is not None and size > 0:
            out.append(
                _warning(
                    field=organ,
                    code="conflict",
                    message=(
                        f"'No {organ}' conflicts with an edge {format_number(size)} cm below the costal margin. "
                        f"Both are kept: the yes/no answer decides '{organ}' items, the size decides size items. "
                        "Please check."
                    ),
                    input="false",
                )
            )
    return out


ORGAN_FIELDS = ("hepatomegaly", "splenomegaly")


def afebrile(facts: Facts) -> bool:
    """Known not febrile by the project's fever convention (criteria-spec.md Decisions: the `febrile`
    answer, else the highest temperature against 38.0 °C): `febrile: false`, or no answer and a
    temperature below 38.0 °C, for which the fever items are not met and the not-febrile caveats apply."""
    febrile = facts.flags.get("febrile")
    if febrile is not None:
        return febrile is False
    temp = facts.labs.get("temperature")
    if temp is None:
        return False
    conv = criteria().analytes.fever_convention
    iv = temp.interval(unit_spec("temperature", conv.unit))
    return iv.hi < conv.threshold or (iv.hi == conv.threshold and iv.hi_open)


def febrile_with_low_temperature(facts: Facts) -> bool:
    """`febrile: true` with a highest temperature below 38.0 °C: not a conflict, but worth a caveat."""
    conv = criteria().analytes.fever_convention
    temp = facts.labs.get("temperature")
    if facts.flags.get("febrile") is not True or temp is None:
        return False
    iv = temp.interval(unit_spec("temperature", conv.unit))
    return iv.hi < conv.threshold or (iv.hi == conv.threshold and iv.hi_open)
