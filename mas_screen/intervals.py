"""Interval arithmetic for lab values.

Every numeric input becomes an interval: an entered value is a point, a censored result (">40000")
is half-open, and a value that was not entered spans its plausible range. An item is *met* when
its condition holds for every value in the interval, *not met* when it holds for none, and
*missing* otherwise. This one mechanism gives the contract's three-valued logic, its censored
values and its "decided unless the missing inputs could change it" rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

MET, NOT_MET, MISSING = "met", "not_met", "missing"


@dataclass(frozen=True, slots=True)
class Interval:
    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False

    @classmethod
    def point(cls, value: float) -> Interval:
        return cls(value, value)

    @property
    def is_point(self) -> bool:
        return self.lo == self.hi and not (self.lo_open or self.hi_open)

    def map(self, func) -> Interval:
        """Image under an increasing function (unit conversions are all increasing)."""
        return Interval(func(self.lo), func(self.hi), self.lo_open, self.hi_open)

    def intersect(self, other: Interval) -> Interval | None:
        if self.lo > other.lo or (self.lo == other.lo and self.lo_open):
            lo, lo_open = self.lo, self.lo_open
        else:
            lo, lo_open = other.lo, other.lo_open
        if self.hi < other.hi or (self.hi == other.hi and self.hi_open):
            hi, hi_open = self.hi, self.hi_open
        else:
            hi, hi_open = other.hi, other.hi_open
        if lo > hi or (lo == hi and (lo_open or hi_open)):
            return None
        return Interval(lo, hi, lo_open, hi_open)


def compare(iv: Interval, comparator: str, threshold: float) -> str:
    """Three-valued `value <comparator> threshold` over every value in the interval."""
    lo, hi = iv.lo, iv.hi
    if comparator == ">":
        if lo > threshold or (lo == threshold and iv.lo_open):
            return MET
        if hi <= threshold:
            return NOT_MET
    elif comparator == ">=":
        if lo >= threshold:
            return MET
        if hi < threshold or (hi == threshold and iv.hi_open):
            return NOT_MET
    elif comparator == "<":
        if hi < threshold or (hi == threshold and iv.hi_open):
            return MET
        if lo >= threshold:
            return NOT_MET
    elif comparator == "<=":
        if hi <= threshold:
            return MET
        if lo > threshold or (lo == threshold and iv.lo_open):
            return NOT_MET
    else:  # pragma: no cover - specs are validated at load time
        raise ValueError(f"unknown comparator {comparator!r}")
    return MISSING


def compare_decimal(value: Decimal, comparator: str, threshold: Decimal) -> bool:
    """Exact comparison for computed scores (MS score after rounding, ferritin:ESR ratio)."""
    return {
        ">": value > threshold,
        ">=": value >= threshold,
        "<": value < threshold,
        "<=": value <= threshold,
    }[comparator]


def band_possible(iv: Interval, conditions: list[tuple[str, float]]) -> bool:
    """Whether some value in the interval satisfies all (comparator, threshold) conditions."""
    lo, lo_open, hi, hi_open = iv.lo, iv.lo_open, iv.hi, iv.hi_open
    for comparator, threshold in conditions:
        if comparator in (">", ">="):
            strict = comparator == ">"
            if threshold > lo or (threshold == lo and strict and not lo_open):
                lo, lo_open = threshold, strict
        else:
            strict = comparator == "<"
            if threshold < hi or (threshold == hi and strict and not hi_open):
                hi, hi_open = threshold, strict
    return lo < hi or (lo == hi and not (lo_open or hi_open))


def round_half_up(value: float | Decimal, places: int) -> float:
    """Half away from zero at `places` decimals (the contract's rounding), never binary round()."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value))
    if not d.is_finite():
        return float(d)
    with localcontext() as ctx:  # enough digits for any magnitude (e.g. a ratio over a tiny ESR)
        ctx.prec = max(28, d.adjusted() + places + 3)
        return float(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def and3(results: list[str]) -> str:
    """Kleene AND over met/not_met/missing."""
    if NOT_MET in results:
        return NOT_MET
    if MISSING in results:
        return MISSING
    return MET


def or3(results: list[str]) -> str:
    """Kleene OR over met/not_met/missing."""
    if MET in results:
        return MET
    if MISSING in results:
        return MISSING
    return NOT_MET


def at_least(results: list[str], required: int) -> str:
    """At least `required` of the results met, three-valued."""
    met = results.count(MET)
    undecided = results.count(MISSING)
    if met >= required:
        return MET
    if met + undecided < required:
        return NOT_MET
    return MISSING
