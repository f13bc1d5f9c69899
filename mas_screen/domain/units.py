"""Unit conversion and plausibility of typed values, driven by criteria/analytes.yaml (reading the
typed text itself is mas_screen.kernel.inputs.parsing).

Values are converted in decimal arithmetic straight from what was typed to the unit an item was
published in, so 3.6 g/L is exactly 360 mg/dL and a value never drifts across a threshold by
binary rounding. Thresholds are never converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from mas_screen.criteria.loading import criteria, on_reload, per_load
from mas_screen.kernel.inputs.parsing import NotANumber, ParsedNumber, echo_with_unit, format_number, read_number  # noqa: F401

if TYPE_CHECKING:
    from mas_screen.criteria.schema import AnalyteSpec, RefusedUnit, UnitSpec

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def unit_key(text: str) -> str:
    """Canonical spelling for alias matching: lower case, no spaces, µ/μ → u, 10*9 / x10^9 → 10^9.

    The spellings the criteria list (what the form offers and most files carry) are looked up; any
    other text is worked out each time, never remembered: what one user typed is not kept."""
    known = _known_unit_keys().get(text)
    return known if known is not None else _canonical_unit(text)


@per_load
def _known_unit_keys() -> dict[str, str]:
    """Each unit spelling analytes.yaml lists (accepted and refused), as written there → its key."""
    return {
        alias: _canonical_unit(alias)
        for spec in criteria().analytes.analytes.values()
        for spellings in _spellings(spec)
        for alias, _unit in spellings
    }


def _spellings(spec: AnalyteSpec) -> tuple[list[tuple[str, UnitSpec]], list[tuple[str, RefusedUnit]]]:
    """Every spelling analytes.yaml lists for an analyte's units: (accepted, refused), each with its unit."""
    accepted = [(alias, u) for u in spec.units for alias in (u.unit, u.ucum, *u.aliases)]
    refused = [(alias, r) for r in spec.refused_units for alias in (r.unit, *r.aliases)]
    return accepted, refused


def _canonical_unit(text: str) -> str:
    s = text.strip().translate(_SUPERSCRIPTS).lower()
    s = s.replace("µ", "u").replace("μ", "u").replace(" ", "")
    s = re.sub(r"^(x|×)", "", s)
    s = re.sub(r"^10\*(\d)", r"10^\1", s)
    s = re.sub(r"^10(\d)/", r"10^\1/", s)  # "109/L" from a lost superscript
    return s


@dataclass(frozen=True, slots=True)
class UnitIndex:
    accepted: dict[str, UnitSpec]
    refused: dict[str, RefusedUnit]


@per_load
def unit_index(analyte: str) -> UnitIndex:
    spellings, refused_spellings = _spellings(criteria().analytes.analytes[analyte])
    accepted = {_canonical_unit(alias): u for alias, u in spellings}
    refused = {_canonical_unit(alias): r for alias, r in refused_spellings}
    for key in accepted:
        refused.pop(key, None)
    return UnitIndex(accepted, refused)


def to_canonical(value: Decimal, unit: UnitSpec) -> Decimal:
    return (value + Decimal(repr(unit.offset))) * unit.factor_decimal


def from_canonical(value: Decimal, unit: UnitSpec) -> Decimal:
    return value / unit.factor_decimal - Decimal(repr(unit.offset))


def convert(value: Decimal, source: UnitSpec, target: UnitSpec) -> Decimal:
    """Exact where the factors allow; identity when the units agree."""
    if source.unit == target.unit:
        return value
    return from_canonical(to_canonical(value, source), target)


def as_float(value: Decimal) -> float:
    """Decimal → float, trimming division noise beyond 15 significant digits."""
    return float(round(value, 15 - value.adjusted() - 1)) if value else 0.0


# ------------------------------------------------------------------------------------- parsing
# Reading and showing numbers lives in mas_screen.kernel.inputs.parsing (contract "Number spelling"); these names
# stay importable from here.


def parse_number(raw: object, *, decimal_comma: bool = False) -> ParsedNumber:
    """Numbers, numeric strings, thousands separators and censored strings (">40000", "< 50")."""
    return read_number(raw, decimal_comma=decimal_comma)


_PRETTY_UNITS = {"degC": "°C", "degF": "°F", "10^9/L": "×10⁹/L", "10^3/µL": "×10³/µL"}


def pretty_unit(unit: str | None) -> str:
    """A unit as a clinician reads it: degC → °C, 10^9/L → ×10⁹/L."""
    return _PRETTY_UNITS.get(unit, unit) if unit else ""


def format_threshold(value: float | int) -> str:
    """A published number as written in its YAML (38.0 stays 38.0, 684 stays 684)."""
    return repr(value) if isinstance(value, float) else str(value)


def format_typed(raw: object, unit: str | None) -> str:
    """What the user typed, for messages: '3.2 mg/dL', '>40000 ng/mL', 'elevated', 'true' (bounded)."""
    return echo_with_unit(raw, unit)


# --------------------------------------------------------------------------------- plausibility


def plausible_canonical(spec: AnalyteSpec) -> tuple[Decimal, Decimal]:
    return Decimal(repr(spec.plausible.min)), Decimal(repr(spec.plausible.max))


_BOUNDS: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}  # (analyte, unit) from the criteria
on_reload(_BOUNDS.clear)


def plausible_in(unit: UnitSpec, spec: AnalyteSpec) -> tuple[Decimal, Decimal]:
    """The plausible range expressed in `unit` (converted once)."""
    bounds = _BOUNDS.get((spec.label, unit.unit))
    if bounds is None:
        lo, hi = plausible_canonical(spec)
        bounds = _BOUNDS[(spec.label, unit.unit)] = (from_canonical(lo, unit), from_canonical(hi, unit))
    return bounds


def is_plausible(value: Decimal, unit: UnitSpec, spec: AnalyteSpec, op: str | None = None) -> bool:
    """Plausible in the value's own unit; a censored bound must admit some plausible value.

    Rules compare in their published unit at 15 significant digits (`as_float`), so a bound must
    still admit a plausible value there: AST "< 0.0166666666666667 µkat/L" is "< 1 U/L" once
    rounded, an empty range, and is refused like "< 1 U/L" itself.
    """
    lo, hi = plausible_in(unit, spec)
    if op is None:
        return lo <= value <= hi
    if not _bound_admits(value, lo, hi, op):
        return False
    return all(
        _bound_admits(as_float(convert(value, unit, u)), *map(as_float, plausible_in(u, spec)), op) for u in spec.units
    )


def _bound_admits(value: Decimal | float, lo: Decimal | float, hi: Decimal | float, op: str) -> bool:
    if op in (">", ">="):
        return lo <= value < hi if op == ">" else lo <= value <= hi
    return lo < value <= hi if op == "<" else lo <= value <= hi


@dataclass(frozen=True, slots=True)
class ValueProblem:
    code: str
    message: str


def check_value(analyte: str, value: Decimal, unit: UnitSpec, op: str | None = None) -> ValueProblem | None:
    """Negative, implausible or unit_suspect, or None when the value is plausible in its unit.

    For a censored result (`op` set) the bound must leave some plausible value: "> 2000 mg/dL"
    fibrinogen or "< 0" platelets describe no living patient.
    """
    spec = criteria().analytes.analytes[analyte]
    if is_plausible(value, unit, spec, op):
        return None
    shown = f"{op or ''}{format_number(value)} {unit.unit}"
    if value < 0 and not spec.negative_is_plausibility:
        return ValueProblem("negative", f"{spec.label} cannot be negative ({shown}).")
    lo, hi = spec.plausible.min, spec.plausible.max
    range_text = f"{format_number(Decimal(repr(lo)))}–{format_number(Decimal(repr(hi)))} {spec.default_unit}"
    fits = [u for u in spec.units if u.unit != unit.unit and is_plausible(value, u, spec, op)]
    if fits:
        alternatives = " or ".join(f"{op or ''}{format_number(value)} {u.unit}" for u in fits)
        return ValueProblem(
            "unit_suspect",
            f"{spec.label} {shown} is outside the plausible range ({range_text}); did you mean {alternatives}? "
            "Left out until the unit is confirmed.",
        )
    return ValueProblem(
        "implausible",
        f"{spec.label} {shown} is outside what a living patient can have ({range_text}); left out.",
    )
