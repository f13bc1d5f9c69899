"""Three-valued logic over intervals, written once for one patient and for a cohort.

Every numeric input is an interval in the unit an item was published in: an entered value is a
point, a censored result (">40000") is half-open, a value not entered spans its plausible range.
A condition is MET when it holds for every value in the interval, NOT_MET when it holds for none,
MISSING otherwise: the contract's three-valued logic, its censored values and its "decided unless
the missing inputs could change it" rule, from one mechanism. `ops` is `ops.SCALAR` or an
`ops.ArrayOps`; nothing here knows which.
"""

from __future__ import annotations

from typing import NamedTuple

from mas_screen.kernel.ops import MET, MISSING, NOT_MET


class Interval(NamedTuple):
    """lo..hi with open or closed ends; each field a scalar, or an array (one element per row)."""

    lo: object
    hi: object
    lo_open: object = False
    hi_open: object = False

    @classmethod
    def point(cls, value) -> Interval:
        return cls(value, value)

    @property
    def is_point(self) -> bool:
        return self.lo == self.hi and not (self.lo_open or self.hi_open)


def point(value) -> Interval:
    return Interval(value, value)


def compare(ops, iv: Interval, comparator: str, t: float):
    """`value <comparator> t` over every value in the interval: MET, NOT_MET or MISSING."""
    lo, hi = iv.lo, iv.hi
    if comparator == ">":
        return ops.three((lo > t) | ((lo == t) & iv.lo_open), hi <= t)
    if comparator == ">=":
        return ops.three(lo >= t, (hi < t) | ((hi == t) & iv.hi_open))
    if comparator == "<":
        return ops.three((hi < t) | ((hi == t) & iv.hi_open), lo >= t)
    if comparator == "<=":
        return ops.three(hi <= t, (lo > t) | ((lo == t) & iv.lo_open))
    raise ValueError(f"unknown comparator {comparator!r}")  # pragma: no cover - validated at load


def _gt(ops, iv, t):
    return ops.three((iv.lo > t) | ((iv.lo == t) & iv.lo_open), iv.hi <= t)


def _ge(ops, iv, t):
    return ops.three(iv.lo >= t, (iv.hi < t) | ((iv.hi == t) & iv.hi_open))


def _lt(ops, iv, t):
    return ops.three((iv.hi < t) | ((iv.hi == t) & iv.hi_open), iv.lo >= t)


def _le(ops, iv, t):
    return ops.three(iv.hi <= t, (iv.lo > t) | ((iv.lo == t) & iv.lo_open))


COMPARERS = {">": _gt, ">=": _ge, "<": _lt, "<=": _le}  # compare(), chosen once per item


def holds(value, comparator: str, t):
    """`value <comparator> t` for known values (exact numbers, Decimals, arrays of them)."""
    if comparator == ">":
        return value > t
    if comparator == ">=":
        return value >= t
    if comparator == "<":
        return value < t
    if comparator == "<=":
        return value <= t
    raise ValueError(f"unknown comparator {comparator!r}")  # pragma: no cover - validated at load


def band_possible(ops, iv: Interval, conditions) -> object:
    """Whether some value in the interval satisfies every (comparator, threshold) condition."""
    lo, lo_open, hi, hi_open = iv.lo, iv.lo_open, iv.hi, iv.hi_open
    for comparator, t in conditions:
        if comparator in (">", ">="):
            strict = comparator == ">"
            move = (t > lo) | ((t == lo) & strict & ops.not_(lo_open))
            lo, lo_open = ops.where(move, t, lo), ops.where(move, strict, lo_open)
        else:
            strict = comparator == "<"
            move = (t < hi) | ((t == hi) & strict & ops.not_(hi_open))
            hi, hi_open = ops.where(move, t, hi), ops.where(move, strict, hi_open)
    return (lo < hi) | ((lo == hi) & ops.not_(lo_open | hi_open))


def and3(ops, results: list):
    """Kleene AND: the least result."""
    return ops.all_min(results)


def or3(ops, results: list):
    """Kleene OR: the greatest result."""
    return ops.all_max(results)


def count_met(ops, results: list):
    return ops.count_equal(results, MET)


def at_least_counts(ops, met, undecided, required: int):
    """At least `required` met, from how many are met and how many are still undecided."""
    return ops.three(met >= required, met + undecided < required)


def at_least(ops, results: list, required: int):
    """At least `required` of the results met, three-valued."""
    return at_least_counts(ops, count_met(ops, results), ops.count_equal(results, MISSING), required)


def points_result(ops, lo, hi):
    """An item scored by points: decided once its least and greatest points agree; met when > 0."""
    same = lo == hi
    return ops.three(same & (lo > 0), same & (lo <= 0))


__all__ = [
    "COMPARERS",
    "MET",
    "MISSING",
    "NOT_MET",
    "Interval",
    "and3",
    "at_least",
    "at_least_counts",
    "band_possible",
    "compare",
    "count_met",
    "holds",
    "or3",
    "point",
    "points_result",
]
