"""What-if exploration: the smallest single change that flips an instrument, and the distance of
every entered value from every published threshold. Pure functions over the core (no Streamlit).

`smallest_flip(patient, instrument_id)` tries each single input the instrument reads:

- a lab or numeric context field: the candidate values are the grid points next to every place the
  instrument's status can change for that input, in the unit the value was entered in (default unit
  when it was not entered). Those places are the item thresholds and band edges from criteria/*.yaml
  (converted to the entered unit), the value at which a linear score reaches its cut-off with every
  other input held (MS score: solved exactly, then verified, so the 4-dp rounding is honoured), and
  the value at which the ferritin:ESR ratio reaches its cut-off. Around each place the candidates are
  the grid points just below, at and just above it, so strict and inclusive comparators are both
  crossed. The grid step is the finer of the analyte's reporting resolution (`RESOLUTION`, display
  granularity, not a clinical number) and the precision the value was typed with.
- a yes/no context field: the other answers (yes, no; both when unanswered).
- an organ size (cm) is not tried when that organ is answered 'not enlarged' (it would contradict
  the answer).

Every candidate is checked by calling `assess()` on the modified patient; only verified flips are
returned. A flip is a change to the opposite decided status (met ↔ not_met) or, from indeterminate,
to either decided status. Because every item is monotone in each input, a flip found at a value also
holds beyond it in the same direction (`direction`).

Order: changes to entered numbers first, by distance as a percentage of the entered value; then
toggles of answered yes/no fields; then entering an input that is missing (no distance exists).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import InstrumentSpec, ItemSpec, UnitSpec
from mas_screen.domain.explore import Distance, Flip, ItemChange
from mas_screen.domain.models import (
    BOOLEAN_FIELDS,
    NUMERIC_CONTEXT_FIELDS,
    Assessment,
    ItemResult,
    Measurement,
    PatientInput,
    Status,
    field_label,
)
from mas_screen.domain.units import check_value, convert, format_number, format_threshold, pretty_unit
from mas_screen.explain.wording import SYMBOL
from mas_screen.faces.bedside import assess
from mas_screen.kernel.inputs.facts import Facts, normalise, unit_spec
from mas_screen.kernel.instruments import Instrument, instruments
from mas_screen.kernel.values import PatientValues

# Reporting resolution per (lab, unit): the smallest step a laboratory report (or bedside
# measurement) usually resolves. Search granularity for what-if values only; no clinical meaning.
RESOLUTION: dict[str, dict[str, str]] = {
    "ferritin": {"ng/mL": "1", "µg/L": "1"},
    "platelets": {"10^9/L": "1", "10^3/µL": "1", "/µL": "1000", "/mm3": "1000"},
    "wbc": {"10^9/L": "0.1", "10^3/µL": "0.1", "/µL": "100", "/mm3": "100"},
    "neutrophils": {"10^9/L": "0.01", "10^3/µL": "0.01", "/µL": "10", "/mm3": "10"},
    "hemoglobin": {"g/dL": "0.1", "g/L": "1", "mmol/L": "0.01"},
    "ast": {"U/L": "1", "µkat/L": "0.01"},
    "alt": {"U/L": "1", "µkat/L": "0.01"},
    "ldh": {"U/L": "1", "µkat/L": "0.01"},
    "triglycerides": {"mg/dL": "1", "mmol/L": "0.01"},
    "fibrinogen": {"mg/dL": "1", "g/L": "0.01", "µmol/L": "0.1"},
    "esr": {"mm/h": "1"},
    "crp": {"mg/L": "0.1", "mg/dL": "0.01"},
    "d_dimer": {"mg/L FEU": "0.01", "µg/mL FEU": "0.01", "ng/mL FEU": "10"},
    "scd25": {"U/mL": "1"},
    "temperature": {"degC": "0.1", "degF": "0.1"},
}
NUMBER_RESOLUTION = {
    "age_years": "0.01",
    "age_at_onset_years": "0.01",
    "hepatomegaly_cm": "0.5",
    "splenomegaly_cm": "0.5",
}
NUMBER_UNITS = {"age_years": "years", "age_at_onset_years": "years", "hepatomegaly_cm": "cm", "splenomegaly_cm": "cm"}
ORGAN_SIZE_FLAGS = {"hepatomegaly_cm": "hepatomegaly", "splenomegaly_cm": "splenomegaly"}


# --------------------------------------------------------------------------------------- helpers


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def _plain(value: Decimal) -> int | float:
    """A grid value as a number the input models read exactly (repr round-trips)."""
    value = value.normalize()
    if value == value.to_integral_value():
        return int(value)
    return float(format(value, "f"))


def _percent(part: Decimal, whole: Decimal) -> float | None:
    if whole == 0:
        return None
    return float((abs(part) / abs(whole) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _results(a: Assessment, iid: str) -> dict[str, ItemResult]:
    out: dict[str, ItemResult] = {}

    def walk(items: list[ItemResult], prefix: str) -> None:
        for it in items:
            path = f"{prefix}{it.id}"
            out[path] = it
            walk(it.components or [], f"{path}.")

    walk(a.criteria[iid].items, "")
    return out


def _decimals(value: Decimal) -> int:
    exp = value.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _step(key: str, unit: str | None, typed: Decimal | None) -> Decimal:
    if key in NUMBER_RESOLUTION:
        base = Decimal(NUMBER_RESOLUTION[key])
    else:
        base = Decimal(RESOLUTION.get(key, {}).get(unit or "", "0.01"))
    if typed is not None:
        typed_step = Decimal(1).scaleb(-_decimals(typed))
        if typed_step < base:
            return typed_step
    return base


def _grid_around(point: Decimal, step: Decimal) -> list[Decimal]:
    low = (point / step).to_integral_value(rounding=ROUND_FLOOR) * step
    high = (point / step).to_integral_value(rounding=ROUND_CEILING) * step
    return [low - step, low, high, high + step]


# ----------------------------------------------------------------------------------- breakpoints


def _linear_breakpoints(instrument: Instrument, key: str, facts: Facts) -> list[tuple[Decimal, str]]:
    """Values of `key` (in the item's unit) at which a linear score reaches its cut-off, others held."""
    spec = instrument.spec
    if spec.cutoff is None:
        return []
    target = next((i for i in instrument.items if i.contributes and i.spec.analyte == key), None)
    if target is None:
        return []
    outs = instrument.evaluate(PatientValues(facts)).outs
    others = [o for item, o in zip(instrument.items, outs, strict=True) if item is not target]
    coef = _dec(target.spec.coefficient)
    cut = _dec(spec.cutoff.value)
    if all(o.exact is not None for o in others):
        sums = [sum((o.exact for o in others), Decimal(0))]
    else:
        sums = [_dec(sum(o.lo for o in others)), _dec(sum(o.hi for o in others))]
    return [((cut - s) / coef, target.unit) for s in sums]


def _ratio_breakpoints(item: ItemSpec, key: str, facts: Facts) -> list[tuple[Decimal, str]]:
    other = item.denominator if key == item.numerator else item.numerator
    fact = facts.labs.get(other)
    if fact is None or not fact.exact:
        return []
    t = _dec(item.threshold)
    if key == item.numerator:
        den = fact.value_in(unit_spec(other, item.denominator_unit))
        return [(t * den, item.numerator_unit)] if den > 0 else []
    num = fact.value_in(unit_spec(other, item.numerator_unit))
    return [(num / t, item.denominator_unit)]


def _items(items):
    for item in items:
        yield item
        yield from _items(item.parts)


def _walk_items(items, prefix: str = ""):
    for item in items:
        path = f"{prefix}{item.id}"
        yield path, item
        yield from _walk_items(item.parts, f"{path}.")


def _breakpoints(instrument: Instrument, key: str, facts: Facts) -> list[tuple[Decimal, str]]:
    """Every value of `key` at which the instrument's status can change, each in its own unit: the
    items' edges (thresholds, band edges, the infant age), ratio and weighted-sum breakpoints."""
    found: list[tuple[Decimal, str]] = []
    for item in _items(instrument.items):
        for edge in item.edges():
            if edge.key != key:
                continue
            if edge.when == "infant_age":
                found.append((_dec(edge.infant_days) / _dec(edge.days_per_year), "years"))
            else:
                found.append((_dec(edge.threshold), edge.unit))
        spec = item.spec
        if item.kind == "ratio" and key in (spec.numerator, spec.denominator):
            found += _ratio_breakpoints(spec, key, facts)
    found += _linear_breakpoints(instrument, key, facts)
    return found


# ------------------------------------------------------------------------------------------ flips


def _status(patient: PatientInput, iid: str) -> tuple[Status, Assessment]:
    a = assess(patient)
    return a.criteria[iid].status, a


def replace_input(patient: PatientInput, key: str, value: Any, unit: str | None = None) -> PatientInput:
    """A copy of the patient with one input changed (a lab value in `unit`, or a context field)."""
    if key in criteria().analytes.analytes:
        labs = dict(patient.labs)
        labs[key] = Measurement(value=value, unit=unit)
        return patient.model_copy(update={"labs": labs})
    if key not in type(patient.context).model_fields:
        raise KeyError(f"unknown input {key!r}")
    return _with_context(patient, key, value)


def _with_lab(patient: PatientInput, key: str, value: Decimal, unit: str) -> PatientInput:
    labs = dict(patient.labs)
    labs[key] = Measurement(value=_plain(value), unit=unit)
    return patient.model_copy(update={"labs": labs})


def _with_context(patient: PatientInput, key: str, value: Any) -> PatientInput:
    context = patient.context.model_copy(update={key: value})
    return patient.model_copy(update={"context": context})


def _is_flip(base: Status, new: Status) -> bool:
    if base == "indeterminate":
        return new != "indeterminate"
    return new != base and new != "indeterminate"


def _changes(base: Assessment, new: Assessment, iid: str) -> list[ItemChange]:
    before, after = _results(base, iid), _results(new, iid)
    out = []
    for path, old in before.items():
        now = after.get(path)
        if now is None:  # pragma: no cover - same instrument, same items
            continue
        if old.result != now.result or old.points != now.points:
            out.append(
                ItemChange(
                    id=path,
                    label=old.label,
                    threshold=old.threshold,
                    from_result=old.result,
                    to_result=now.result,
                    from_points=old.points,
                    to_points=now.points,
                )
            )
    return out


def _value_text(value: Decimal | None, unit: str | None) -> str:
    if value is None:
        return "not entered"
    return f"{format_number(value)} {pretty_unit(unit)}".strip()


def _numeric_flips(
    patient: PatientInput, iid: str, key: str, facts: Facts, base: Status, base_a: Assessment, units: dict[str, str]
) -> list[Flip]:
    is_lab = key in criteria().analytes.analytes
    current: Decimal | None = None
    from_text = "not entered"
    if is_lab:
        fact = facts.labs.get(key)
        analyte = criteria().analytes.analytes[key]
        if fact is not None:
            unit = fact.unit.unit
            from_text = fact.display()
            if fact.exact:
                current = fact.parsed.value
        else:
            measurement = patient.labs.get(key)
            typed_unit = measurement.unit if measurement is not None else None
            unit = units.get(key) or analyte.default_unit
            if typed_unit:  # entered in a unit we accept? keep it; otherwise the default
                try:
                    analyte.unit(typed_unit)
                    unit = typed_unit
                except KeyError:
                    pass
            if measurement is not None and measurement.value not in (None, ""):
                from_text = f"{measurement.value} {measurement.unit or ''}".strip() + " (left out: see input warnings)"
        target_unit: UnitSpec | None = unit_spec(key, unit)
    else:
        unit = NUMBER_UNITS[key]
        target_unit = None
        if key in facts.numbers:
            current = _dec(facts.numbers[key])
            from_text = f"{format_number(current)} {unit}"
    step = _step(key, unit, current)

    candidates: set[Decimal] = set()
    for point, point_unit in _breakpoints(instruments()[iid], key, facts):
        if target_unit is not None:
            point = convert(point, unit_spec(key, point_unit), target_unit)
        candidates.update(_grid_around(point, step))
    if current is not None:
        candidates.discard(current)
    valid: list[Decimal] = []
    for c in sorted(candidates):
        if c < 0:
            continue
        if target_unit is not None:
            if check_value(key, c, target_unit) is not None:
                continue
        else:
            plaus = criteria().analytes.context_numbers[key].plausible
            if not plaus.min <= c <= plaus.max:
                continue
        valid.append(c)
    if not valid:
        return []

    evaluated: list[tuple[Decimal, Status, Assessment]] = []
    for c in valid:
        trial = _with_lab(patient, key, c, unit) if is_lab else _with_context(patient, key, _plain(c))
        status, a = _status(trial, iid)
        evaluated.append((c, status, a))

    targets = [s for s in ("met", "not_met") if _is_flip(base, s)]
    flips: list[Flip] = []
    for target in targets:
        hits = [(c, a) for c, s, a in evaluated if s == target]
        if not hits:
            continue
        if current is not None:
            c, a = min(hits, key=lambda h: abs(h[0] - current))
            direction = "up" if c > current else "down"
            distance = abs(c - current)
            relative = _percent(distance, current)
            dist_f: float | None = float(distance)
        else:
            up = evaluated[-1][1] == target
            c, a = hits[0] if up else hits[-1]
            direction = "up" if up else "down"
            dist_f, relative = None, None
        flips.append(
            Flip(
                input=key,
                label=field_label(key),
                kind="lab" if is_lab else "number",
                from_value=float(current) if current is not None else None,
                from_text=from_text,
                to_value=float(c),
                to_text=_value_text(c, unit),
                unit=unit,
                direction=direction,
                distance=dist_f,
                relative_percent=relative,
                from_status=base,
                new_status=target,
                items_changed=_changes(base_a, a, iid),
            )
        )
    return flips


def _flag_flips(patient: PatientInput, iid: str, key: str, base: Status, base_a: Assessment) -> list[Flip]:
    current = getattr(patient.context, key)
    flips: list[Flip] = []
    for value in (True, False):
        if value == current:
            continue
        status, a = _status(_with_context(patient, key, value), iid)
        if _is_flip(base, status):
            flips.append(
                Flip(
                    input=key,
                    label=field_label(key),
                    kind="flag",
                    from_value=current,
                    from_text="not answered" if current is None else ("yes" if current else "no"),
                    to_value=value,
                    to_text="yes" if value else "no",
                    unit=None,
                    from_status=base,
                    new_status=status,
                    items_changed=_changes(base_a, a, iid),
                )
            )
    return flips


def instrument_inputs(instrument_id: str) -> list[str]:
    """Every input key (labs, yes/no and numeric context fields) the instrument's items read."""
    return list(instruments()[instrument_id].keys)


def smallest_flip(patient: PatientInput, instrument_id: str, *, units: dict[str, str] | None = None) -> list[Flip]:
    """For each single input the instrument reads, the smallest change that flips its status.

    `units`: the unit to search a lab in when it was not entered (default: the lab's default unit).
    Returns verified flips only (each checked with assess()), in the order given in the module doc.
    """
    if instrument_id not in instruments():
        raise KeyError(f"unknown instrument {instrument_id!r}; known: {', '.join(instruments())}")
    facts, _warnings = normalise(patient)
    base, base_a = _status(patient, instrument_id)
    flips: list[Flip] = []
    for key in instrument_inputs(instrument_id):
        if key in BOOLEAN_FIELDS:
            flips += _flag_flips(patient, instrument_id, key, base, base_a)
        elif key in ORGAN_SIZE_FLAGS and getattr(patient.context, ORGAN_SIZE_FLAGS[key]) is False:
            continue  # a size for an organ answered 'not enlarged' would contradict the answer
        elif key in criteria().analytes.analytes or key in NUMERIC_CONTEXT_FIELDS:
            flips += _numeric_flips(patient, instrument_id, key, facts, base, base_a, units or {})

    def order(f: Flip) -> tuple:
        if f.from_value is None:
            group = 2
        elif f.kind == "flag":
            group = 1
        else:
            group = 0
        rel = f.relative_percent if f.relative_percent is not None else float("inf")
        dist = f.distance if f.distance is not None else float("inf")
        return (group, rel, dist, f.input, f.new_status)

    return sorted(flips, key=order)


# -------------------------------------------------------------------------------------- distances


def _distance(
    spec: InstrumentSpec,
    kind: str,
    path: str | None,
    label: str,
    key: str | None,
    value: float,
    unit: str | None,
    comparator: str,
    threshold: float,
    result: str | None,
    points: float | None = None,
    text: str | None = None,
) -> Distance:
    diff = _dec(value) - _dec(threshold)
    return Distance(
        instrument=spec.id,
        instrument_name=spec.short_name,
        kind=kind,
        item_id=path,
        label=label,
        input=key,
        value=value,
        unit=unit,
        comparator=comparator,
        threshold=threshold,
        threshold_text=text or f"{SYMBOL[comparator]} {format_threshold(threshold)} {pretty_unit(unit)}".strip(),
        distance=float(diff),
        relative_percent=None
        if threshold == 0
        else float((diff / abs(_dec(threshold)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        satisfied=compare_value(value, comparator, threshold),
        item_result=result,
        points=points,
    )


def compare_value(value: float, comparator: str, threshold: float) -> bool:
    return {">": value > threshold, ">=": value >= threshold, "<": value < threshold, "<=": value <= threshold}[
        comparator
    ]


def distances(patient: PatientInput, assessment: Assessment | None = None) -> list[Distance]:
    """Every entered value against every numeric threshold of every instrument, plus each computed
    score against its cut-off. Values are in the threshold's published unit (pure data for a chart)."""
    assessment = assessment or assess(patient)
    facts, _ = normalise(patient)
    age = facts.numbers.get("age_years")
    out: list[Distance] = []
    labs = criteria().analytes.analytes
    for iid, instrument in instruments().items():
        spec = instrument.spec
        results = _results(assessment, iid)
        for path, item in _walk_items(instrument.items):
            res = results.get(path)
            if res is None:  # pragma: no cover - every spec item has a card
                continue
            for edge in item.edges():
                if edge.when in ("infant_age", "fallback") or not edge.applies(age):
                    continue
                value = res.value if edge.key in labs else facts.numbers.get(edge.key)
                if value is None:
                    continue
                kind = "band_edge" if edge.band else "threshold"
                out.append(
                    _distance(
                        spec,
                        kind,
                        path,
                        item.label,
                        edge.key,
                        value,
                        edge.unit,
                        edge.comparator,
                        edge.threshold,
                        res.result,
                        edge.points,
                    )
                )
        r = assessment.criteria[iid]
        if spec.cutoff is not None and r.score is not None:
            cut = spec.cutoff
            out.append(
                _distance(
                    spec,
                    "score",
                    None,
                    spec.short_name,
                    None,
                    r.score,
                    None,
                    cut.comparator,
                    cut.value,
                    r.status,
                    text=r.cutoff_label,
                )
            )
    return out


__all__ = [
    "RESOLUTION",
    "distances",
    "instrument_inputs",
    "replace_input",
    "smallest_flip",
]
