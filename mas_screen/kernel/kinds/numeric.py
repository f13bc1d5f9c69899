"""Kinds that compare one number with published thresholds: a lab, a temperature, a size, an age."""

from __future__ import annotations

from mas_screen.domain.units import format_number, format_threshold, pretty_unit
from mas_screen.kernel.kinds.base import SYMBOL, Edge, Item
from mas_screen.kernel.logic import COMPARERS, Interval, band_points, band_table, compare, point, points_result
from mas_screen.kernel.ops import MISSING, NOT_MET
from mas_screen.kernel.outcome import ArrayOut, Out, decided
from mas_screen.kernel.values import FEVER_SOURCES, lab_missing, value_interval


def _with_unit(text: str, unit: str | None) -> str:
    shown = pretty_unit(unit)
    return f"{text} {shown}" if shown else text


class Threshold(Item):
    """A lab <comparator> threshold (in the published unit); HLH-2004's haemoglobin has a second
    threshold below an age in days (`infant_rule`), which decides while the age is unknown only
    when both thresholds agree."""

    kind = "threshold"
    shows = "lab"

    def own_keys(self) -> tuple[str, ...]:
        keys = (self.spec.analyte,)
        if self.spec.analyte == "temperature":
            keys += FEVER_SOURCES
        if self.spec.infant_rule is not None:
            keys += ("age_years",)
        return keys

    def __init__(self, spec):
        super().__init__(spec)
        self.compare = COMPARERS[spec.comparator]
        self.p = 1.0 if spec.points is None else float(spec.points)

    def evaluate(self, v):
        ops, spec = v.ops, self.spec
        iv = value_interval(v, spec.analyte, spec.unit)
        result = self.compare(ops, iv, spec.threshold)
        rule = spec.infant_rule
        age_listed = None
        if rule is not None:
            infant = compare(ops, iv, spec.comparator, rule.threshold)
            age = v.number_interval("age_years")
            days = Interval(age.lo * rule.days_per_year, age.hi * rule.days_per_year)
            is_infant = compare(ops, days, "<", rule.age_below_days)
            unsure = is_infant == MISSING
            result = ops.where(
                is_infant == 2, infant, ops.where(unsure, ops.where(infant == result, result, MISSING), result)
            )
            age_listed = unsure & (result == MISSING) & (infant != MISSING)
        out = decided(ops, result, self.p)
        if v.explain:
            out.missing = lab_missing(v, spec.analyte, result)
            if age_listed is not None:
                out.missing.append(("age_years", age_listed))
            out.at_cutoff = (iv.lo == iv.hi) & ops.not_(iv.lo_open | iv.hi_open) & (iv.lo == spec.threshold)
        return out

    def edges(self) -> list[Edge]:
        spec = self.spec
        rule = spec.infant_rule
        if rule is None:
            return [Edge(spec.analyte, spec.comparator, spec.threshold, spec.unit, spec.points)]
        infant = (rule.age_below_days, rule.days_per_year)
        return [
            Edge(spec.analyte, spec.comparator, spec.threshold, spec.unit, spec.points, when="not_infant",
                 infant_days=infant[0], days_per_year=infant[1]),
            Edge(spec.analyte, spec.comparator, rule.threshold, spec.unit, spec.points, when="infant",
                 infant_days=infant[0], days_per_year=infant[1]),
            Edge("age_years", "<", rule.age_below_days / rule.days_per_year, "years", when="infant_age",
                 infant_days=infant[0], days_per_year=infant[1]),
        ]  # fmt: skip

    def rule_text(self) -> str:
        spec = self.spec
        sym = SYMBOL[spec.comparator]
        text = _with_unit(f"{sym} {format_threshold(spec.threshold)}", spec.unit)
        rule = spec.infant_rule
        if rule is not None:
            text += (
                f" (age < {format_number(rule.age_below_days)} days: {sym} "
                f"{format_threshold(rule.threshold)} {pretty_unit(spec.unit)})"
            )
        return text


class Fever(Item):
    """A yes/no fever item: the clinician's `febrile` answer, else the temperature against the threshold."""

    kind = "fever"
    shows = "fever"

    def own_keys(self) -> tuple[str, ...]:
        return FEVER_SOURCES

    def evaluate(self, v):
        ops, spec = v.ops, self.spec
        febrile = v.flag("febrile")
        temp = compare(ops, v.lab_interval("temperature", spec.unit), spec.comparator, spec.threshold)
        temp = ops.where(v.entered("temperature"), temp, MISSING)
        result = ops.where(febrile >= 0, ops.three(febrile == 1, febrile == 0), temp)
        out = decided(ops, result, spec.points)
        if v.explain:
            undecided = result == MISSING
            out.missing = [(key, undecided) for key in FEVER_SOURCES]
        return out

    def edges(self) -> list[Edge]:
        spec = self.spec
        return [Edge("temperature", spec.comparator, spec.threshold, spec.unit, spec.points, when="febrile_unknown")]

    def rule_text(self) -> str:
        spec = self.spec
        return _with_unit(f"{SYMBOL[spec.comparator]} {format_threshold(spec.threshold)}", spec.unit)


class Bands(Item):
    """Points by the band a lab falls in (HScore); a range of points while the value could lie in several."""

    kind = "bands"
    scored_kind = True
    shows = "lab"

    def __init__(self, spec):
        super().__init__(spec)
        self.bands = tuple((float(b.points), tuple(b.conditions)) for b in spec.bands)
        self.table = band_table(self.bands)

    def own_keys(self) -> tuple[str, ...]:
        return (self.spec.analyte, *FEVER_SOURCES) if self.spec.analyte == "temperature" else (self.spec.analyte,)

    def evaluate(self, v):
        ops, spec = v.ops, self.spec
        lo, hi = band_points(ops, value_interval(v, spec.analyte, spec.unit), self.table)
        result = points_result(ops, lo, hi)
        out = ArrayOut(result, lo, hi) if ops.array else Out(result, lo, hi)
        if v.explain:
            out.missing = lab_missing(v, spec.analyte, result)
        return out

    def edges(self) -> list[Edge]:
        """One edge per band boundary, labelled with the side that scores more points."""
        spec = self.spec
        best: dict[float, tuple[str, float]] = {}
        for band in spec.bands:
            for comparator, threshold in band.conditions:
                found = best.get(threshold)
                if found is None or band.points > found[1]:
                    best[threshold] = (comparator, band.points)
        return [Edge(spec.analyte, c, t, spec.unit, p, band=True) for t, (c, p) in sorted(best.items())]

    def rule_text(self) -> str:
        parts = []
        for band in self.spec.bands:
            conds = " and ".join(f"{SYMBOL[c]} {format_threshold(t)}" for c, t in band.conditions)
            parts.append(f"{conds}: {format_number(band.points)}")
        return f"{'; '.join(parts)} ({pretty_unit(self.spec.unit)})"


class OrganSize(Item):
    """An organ enlarged at least n cm below the costal margin (Parodi): the size decides; without it,
    'not enlarged' decides not met and 'enlarged' leaves the size missing."""

    kind = "organ_size"
    shows = "size"

    def own_keys(self) -> tuple[str, ...]:
        return (self.spec.field, self.spec.size_field)

    def evaluate(self, v):
        ops, spec = v.ops, self.spec
        size = v.number(spec.size_field)
        known = v.known(spec.size_field)
        flag = v.flag(spec.field)
        sized = compare(ops, point(size), spec.comparator, spec.threshold)
        result = ops.where(known, sized, ops.where(flag == 0, NOT_MET, MISSING))
        out = decided(ops, result, spec.points)
        if v.explain:
            unsized = ops.not_(known)
            out.missing = [(spec.field, unsized & (flag < 0)), (spec.size_field, unsized & (flag != 0))]
        return out

    def edges(self) -> list[Edge]:
        spec = self.spec
        return [Edge(spec.size_field, spec.comparator, spec.threshold, spec.unit, spec.points)]

    def rule_text(self) -> str:
        spec = self.spec
        return _with_unit(f"{SYMBOL[spec.comparator]} {format_threshold(spec.threshold)}", spec.unit)


class AgeAtOnset(Item):
    """Age at onset (MH score); without it the current age bounds it (onset cannot be later)."""

    kind = "age_at_onset"
    shows = "onset"

    def own_keys(self) -> tuple[str, ...]:
        return (self.spec.field, self.spec.fallback_field)

    def evaluate(self, v):
        ops, spec = v.ops, self.spec
        known = v.known(spec.field)
        onset = v.number(spec.field)
        age = v.number_interval(spec.fallback_field)
        iv = Interval(ops.where(known, onset, 0.0), ops.where(known, onset, age.hi))
        result = compare(ops, iv, spec.comparator, spec.threshold)
        out = decided(ops, result, spec.points)
        if v.explain:
            undecided = result == MISSING
            out.missing = [
                (spec.field, undecided & ops.not_(known)),
                (spec.fallback_field, undecided & ops.not_(v.known(spec.fallback_field))),
            ]
        return out

    def edges(self) -> list[Edge]:
        spec = self.spec
        return [
            Edge(spec.field, spec.comparator, spec.threshold, spec.unit, spec.points),
            Edge(spec.fallback_field, spec.comparator, spec.threshold, spec.unit, spec.points, when="fallback"),
        ]

    def rule_text(self) -> str:
        spec = self.spec
        return _with_unit(f"{SYMBOL[spec.comparator]} {format_threshold(spec.threshold)}", spec.unit)


__all__ = ["AgeAtOnset", "Bands", "Fever", "OrganSize", "Threshold"]
