"""Evaluation of one criterion item of any kind (criteria_data.ItemKind) over `Facts`.

Logic only: every threshold, point and coefficient is read from the item's spec. An `Outcome`
carries the three-valued result, the range of points (or contribution) the item can still give,
and the input keys to list as missing, following the contract: a single-source input is listed
whenever it was not entered; alternative sources (febrile/temperature, age at onset/current age,
the two haemophagocytosis sites) are listed only while the item is undecided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from mas_screen.criteria_data import FEVER_SOURCES, ItemSpec, item_input_keys
from mas_screen.facts import Facts, unit_spec
from mas_screen.intervals import MET, MISSING, NOT_MET, Interval, at_least, band_possible, compare, compare_decimal, or3
from mas_screen.units import format_number, format_threshold, pretty_unit

T = TypeVar("T")


def per_item(compute: Callable[[ItemSpec], T]) -> Callable[[ItemSpec], T]:
    """Cache a value worked out from an item's spec alone, by the item's identity.

    The cache holds each item it has seen, so an id it is keyed by can never be reused by another
    item (criteria reloaded in a test); other caches keyed by an item's id rely on this too.
    """
    store: dict[int, tuple[ItemSpec, T]] = {}

    def cached(item: ItemSpec) -> T:
        hit = store.get(id(item))
        if hit is None:
            hit = store[id(item)] = (item, compute(item))
        return hit[1]

    cached.__doc__ = compute.__doc__
    return cached


@dataclass(slots=True)
class Outcome:
    result: str
    lo: float  # least points / contribution the item can still give (met = 1 when unscored)
    hi: float
    missing: tuple[str, ...] = ()
    exact: Decimal | None = None  # exact contribution (linear) or ratio, when computable
    components: list[Outcome] | None = None
    at_cutoff: bool = False


def _decided(result: str, points: float | None) -> Outcome:
    p = 1.0 if points is None else float(points)
    if result == MET:
        return Outcome(MET, p, p)
    if result == NOT_MET:
        return Outcome(NOT_MET, 0.0, 0.0)
    return Outcome(MISSING, 0.0, p)


def _lab_missing(facts: Facts, analyte: str, result: str) -> tuple[str, ...]:
    """A lab is listed when not entered, or when censored without deciding its item."""
    fact = facts.labs.get(analyte)
    if fact is None or (not fact.exact and result == MISSING):
        return (analyte,)
    return ()


def _value_interval(item: ItemSpec, facts: Facts) -> tuple[Interval, tuple[str, ...]]:
    """The item's value interval in its published unit, and the missing keys if undecided."""
    if item.analyte == "temperature":
        return facts.temperature_interval(item.unit)
    return facts.lab_interval(item.analyte, item.unit), (item.analyte,)


def _listed(item: ItemSpec, facts: Facts, result: str, sources: tuple[str, ...]) -> tuple[str, ...]:
    if item.analyte == "temperature" and "temperature" not in facts.labs:
        return sources if result == MISSING else ()
    return _lab_missing(facts, item.analyte, result)


def _threshold(item: ItemSpec, facts: Facts) -> Outcome:
    iv, sources = _value_interval(item, facts)
    result = compare(iv, item.comparator, item.threshold)
    extra: tuple[str, ...] = ()
    rule = item.infant_rule
    if rule is not None:
        infant = compare(iv, item.comparator, rule.threshold)
        age = facts.number_interval("age_years")
        age_days = Interval(age.lo * rule.days_per_year, age.hi * rule.days_per_year)
        is_infant = compare(age_days, "<", rule.age_below_days)
        if is_infant == MET:
            result = infant
        elif is_infant == MISSING:
            result = infant if infant == result else MISSING
            if result == MISSING and infant != MISSING:
                extra = ("age_years",)
    out = _decided(result, item.points)
    out.missing = _listed(item, facts, result, sources) + extra
    out.at_cutoff = iv.is_point and iv.lo == item.threshold
    return out


def _flag(item: ItemSpec, facts: Facts) -> Outcome:
    value = facts.flags.get(item.field)
    out = _decided(MISSING if value is None else MET if value else NOT_MET, item.points)
    out.missing = (item.field,) if value is None else ()
    return out


def _any_flag(item: ItemSpec, facts: Facts) -> Outcome:
    values = [facts.flags.get(f) for f in item.fields]
    result = or3([MISSING if v is None else MET if v else NOT_MET for v in values])
    out = _decided(result, item.points)
    if result == MISSING:
        out.missing = tuple(f for f, v in zip(item.fields, values, strict=True) if v is None)
    return out


def _fever(item: ItemSpec, facts: Facts) -> Outcome:
    febrile = facts.flags.get("febrile")
    if febrile is not None:
        return _decided(MET if febrile else NOT_MET, item.points)
    if "temperature" in facts.labs:
        result = compare(facts.lab_interval("temperature", item.unit), item.comparator, item.threshold)
    else:
        result = MISSING
    out = _decided(result, item.points)
    out.missing = FEVER_SOURCES if result == MISSING else ()
    return out


@per_item
def _band_conditions(item: ItemSpec) -> tuple[tuple[float, list[tuple[str, float]]], ...]:
    """(points, conditions) of each band, read from the spec once (Band.conditions builds a list)."""
    return tuple((b.points, b.conditions) for b in item.bands)


def _bands(item: ItemSpec, facts: Facts) -> Outcome:
    iv, sources = _value_interval(item, facts)
    possible = [points for points, conditions in _band_conditions(item) if band_possible(iv, conditions)]
    lo, hi = float(min(possible)), float(max(possible))
    result = MISSING if lo != hi else MET if lo > 0 else NOT_MET
    return Outcome(result, lo, hi, _listed(item, facts, result, sources))


def _organomegaly(item: ItemSpec, facts: Facts) -> Outcome:
    names = ("hepatomegaly", "splenomegaly")
    values = [facts.flags.get(n) for n in names]
    known = sum(1 for v in values if v)
    unknown = sum(1 for v in values if v is None)
    by_count = [item.organ_points["none"], item.organ_points["one"], item.organ_points["both"]]
    possible = by_count[known : known + unknown + 1]
    lo, hi = float(min(possible)), float(max(possible))
    result = MISSING if lo != hi else MET if lo > 0 else NOT_MET
    return Outcome(result, lo, hi, tuple(n for n, v in zip(names, values, strict=True) if v is None))


def _organ_size(item: ItemSpec, facts: Facts) -> Outcome:
    size = facts.numbers.get(item.size_field)
    flag = facts.flags.get(item.field)
    if size is not None:
        result, missing = compare(Interval.point(size), item.comparator, item.threshold), ()
    elif flag is False:
        result, missing = NOT_MET, ()
    elif flag is True:
        result, missing = MISSING, (item.size_field,)
    else:
        result, missing = MISSING, (item.field, item.size_field)
    out = _decided(result, item.points)
    out.missing = missing
    return out


def _lineages(item: ItemSpec, facts: Facts) -> Outcome:
    return _aggregate(item, [evaluate_item(sub, facts) for sub in item.items])


def _aggregate(item: ItemSpec, parts: list[Outcome]) -> Outcome:
    """A composite item (lineages, any_of) from its sub-items' outcomes."""
    if item.kind == "any_of":
        out = _decided(or3([p.result for p in parts]), item.points)
        out.missing = tuple(k for p in parts for k in p.missing)
        out.components = parts
        return out
    results = [p.result for p in parts]
    missing = tuple(k for p in parts for k in p.missing)
    if item.required is not None:
        out = _decided(at_least(results, item.required), item.points)
    else:
        met, undecided = results.count(MET), results.count(MISSING)
        possible = [item.points_by_count[c] for c in range(met, met + undecided + 1)]
        lo, hi = float(min(possible)), float(max(possible))
        out = Outcome(MISSING if lo != hi else MET if lo > 0 else NOT_MET, lo, hi)
    out.missing, out.components = missing, parts
    return out


def _any_of(item: ItemSpec, facts: Facts) -> Outcome:
    return _aggregate(item, [evaluate_item(sub, facts) for sub in item.items])


@per_item
def _coefficient(item: ItemSpec) -> Decimal:
    """The item's coefficient as written in its YAML, as a Decimal (parsed once)."""
    return Decimal(repr(item.coefficient))


def _linear(item: ItemSpec, facts: Facts) -> Outcome:
    coef = _coefficient(item)
    if item.field is not None:
        value = facts.flags.get(item.field)
        if value is None:
            lo, hi = sorted((0.0, float(coef)))
            return Outcome(MISSING, lo, hi, (item.field,))
        exact = coef if value else Decimal(0)
        return Outcome(MET if value else NOT_MET, float(exact), float(exact), (), exact)
    fact = facts.labs.get(item.analyte)
    iv = facts.lab_interval(item.analyte, item.unit)
    ends = sorted((float(coef) * iv.lo, float(coef) * iv.hi))
    if fact is None or not fact.exact:
        return Outcome(MISSING, ends[0], ends[1], (item.analyte,))
    exact = coef * fact.value_in(unit_spec(item.analyte, item.unit))
    return Outcome(MET, float(exact), float(exact), (), exact)


def _ratio(item: ItemSpec, facts: Facts) -> Outcome:
    num = facts.lab_interval(item.numerator, item.numerator_unit)
    den = facts.lab_interval(item.denominator, item.denominator_unit)
    num_fact, den_fact = facts.labs.get(item.numerator), facts.labs.get(item.denominator)
    if den.lo <= 0:  # the divisor may be 0: ratio not computable (contract: ESR 0)
        result = MISSING
        missing = _lab_missing(facts, item.numerator, MISSING) + (
            () if den_fact is not None and den_fact.exact else (item.denominator,)
        )
        return Outcome(result, 0.0, 1.0, missing)
    ratio = Interval(num.lo / den.hi, num.hi / den.lo, num.lo_open or den.hi_open, num.hi_open or den.lo_open)
    exact = None
    if num_fact is not None and den_fact is not None and num_fact.exact and den_fact.exact:
        exact = num_fact.value_in(unit_spec(item.numerator, item.numerator_unit)) / den_fact.value_in(
            unit_spec(item.denominator, item.denominator_unit)
        )
        result = MET if compare_decimal(exact, item.comparator, Decimal(repr(item.threshold))) else NOT_MET
    else:
        result = compare(ratio, item.comparator, item.threshold)
    out = _decided(result, None)
    out.exact = exact
    out.at_cutoff = exact is not None and exact == Decimal(repr(item.threshold))
    out.missing = _lab_missing(facts, item.numerator, result) + _lab_missing(facts, item.denominator, result)
    return out


def _age_at_onset(item: ItemSpec, facts: Facts) -> Outcome:
    onset = facts.numbers.get(item.field)
    if onset is not None:
        iv = Interval.point(onset)
    else:
        # Onset cannot be later than the current age (contract: age <= 1.6 y decides it met).
        age = facts.number_interval(item.fallback_field)
        iv = Interval(0.0, age.hi)
    result = compare(iv, item.comparator, item.threshold)
    out = _decided(result, item.points)
    if result == MISSING:
        out.missing = tuple(k for k in (item.field, item.fallback_field) if k not in facts.numbers)
    return out


_EVALUATORS = {
    "threshold": _threshold,
    "flag": _flag,
    "any_flag": _any_flag,
    "fever": _fever,
    "bands": _bands,
    "organomegaly": _organomegaly,
    "organ_size": _organ_size,
    "lineages": _lineages,
    "any_of": _any_of,
    "linear": _linear,
    "ratio": _ratio,
    "age_at_onset": _age_at_onset,
}


def evaluate_item(item: ItemSpec, facts: Facts) -> Outcome:
    return _EVALUATORS[item.kind](item, facts)


@per_item
def item_keys(item: ItemSpec) -> frozenset[str]:
    """Every input key the item reads (for re-evaluating it when one key changes)."""
    return item_input_keys(item)


def ends(outcome: Outcome) -> tuple[Outcome, Outcome]:
    """The item decided at its least and at its greatest outcome."""
    return (
        Outcome(MET if outcome.lo > 0 else NOT_MET, outcome.lo, outcome.lo),
        Outcome(MET if outcome.hi > 0 else NOT_MET, outcome.hi, outcome.hi),
    )


_KNOWABLE: dict[tuple[int, str], tuple[ItemSpec, int | None]] = {}


def _extremes_holder(item: ItemSpec, key: str) -> int | None:
    """-1 when `item` reads only `key`; for a composite, the index of its one sub-item reading
    `key` when that sub-item reads nothing else; None otherwise (cached: depends on the spec only;
    the cache holds the item, so its id is never reused)."""
    found = _KNOWABLE.get((id(item), key))
    if found is None:
        holder = None
        if item.kind != "ratio":
            if item_keys(item) == {key}:
                holder = -1
            elif item.kind in ("lineages", "any_of"):
                holders = [i for i, sub in enumerate(item.items) if key in item_keys(sub)]
                if len(holders) == 1 and item_keys(item.items[holders[0]]) == {key}:
                    holder = holders[0]
        found = _KNOWABLE[(id(item), key)] = (item, holder)
    return found[1]


def extremes_knowable(item: ItemSpec, key: str) -> bool:
    """Whether `extreme_outcomes` can answer for `item` and `key` (given the item's components)."""
    return _extremes_holder(item, key) is not None


def extreme_outcomes(item: ItemSpec, outcome: Outcome, key: str) -> tuple[Outcome, ...] | None:
    """The outcomes `item` takes when `key` is entered at either end of its range, if knowable
    without re-evaluation (the item, or its one sub-item that reads `key`, reads nothing else).

    Items are monotone in each input, so their least and greatest outcomes are reached at the
    ends. Returns None when the item must be re-evaluated with candidate values instead.
    """
    holder = _extremes_holder(item, key)
    if holder is None:
        return None
    if holder == -1:
        return ends(outcome)
    if outcome.components is None:
        return None
    i = holder
    return tuple(
        _aggregate(item, [*outcome.components[:i], end, *outcome.components[i + 1 :]])
        for end in ends(outcome.components[i])
    )


# ------------------------------------------------------------------------------------- display


@per_item
def threshold_text(item: ItemSpec) -> str | None:
    """The item's rule as shown to a clinician: '> 684 ng/mL', '≥ 38.4 and ≤ 39.4: 33', '≥ 2 of 3'."""
    return _threshold_text(item)


def _threshold_text(item: ItemSpec) -> str | None:
    sym = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
    unit = pretty_unit(item.unit)
    if item.kind in ("threshold", "fever", "organ_size", "age_at_onset", "ratio"):
        text = f"{sym[item.comparator]} {format_threshold(item.threshold)}"
        text += f" {unit}" if unit else ""
        if item.infant_rule is not None:
            text += f" (age < {format_number(item.infant_rule.age_below_days)} days: {sym[item.comparator]} {format_threshold(item.infant_rule.threshold)} {unit})"
        return text
    if item.kind == "bands":
        parts = []
        for band in item.bands:
            conds = " and ".join(f"{sym[c]} {format_threshold(t)}" for c, t in band.conditions)
            parts.append(f"{conds}: {format_number(band.points)}")
        return f"{'; '.join(parts)} ({unit})"
    if item.kind == "lineages":
        n = len(item.items)
        if item.required is not None:
            return f"≥ {item.required} of {n}"
        return "; ".join(f"{c}: {format_number(p)}" for c, p in item.points_by_count.items()) + " points by lineages"
    if item.kind == "any_of":
        return " or ".join(threshold_text(s) or s.label for s in item.items)
    if item.kind == "organomegaly":
        op = item.organ_points
        return f"none: {format_number(op['none'])}; one: {format_number(op['one'])}; both: {format_number(op['both'])}"
    if item.kind == "linear":
        return f"× {format_threshold(item.coefficient)}" + (f" per {unit}" if item.analyte else " if present")
    if item.kind in ("flag", "any_flag"):
        return "present"
    return None  # pragma: no cover
