"""Three-valued logic over intervals, written once for one patient and for a cohort.

Every numeric input is an interval in the unit an item was published in: an entered value is a
point, a censored result (">40000") is half-open, a value not entered spans its plausible range.
A condition is MET when it holds for every value in the interval, NOT_MET when it holds for none,
MISSING otherwise: the contract's three-valued logic, its censored values and its "decided unless
the missing inputs could change it" rule, from one mechanism. `ops` is `ops.SCALAR` or an
`ops.ArrayOps`; nothing here knows which.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from mas_screen.kernel.ops import MET, MISSING, NOT_MET, SCALAR

SYMBOL = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}  # the one comparator-symbol map (every face)
NEGATION = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}  # what holds when a comparison does not


def bound_prefix(op: str | None) -> str:
    """How a censored value is written before its number ("> 40000", "≤ 5"); "" for an exact one."""
    return "" if op is None else f"{SYMBOL[op]} "


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


class BandTable(NamedTuple):
    """Points by bands, worked out once per item over the "atoms" of the number line its thresholds
    t1 < … < tk cut: (-inf, t1), [t1], (t1, t2), …, [tk], (tk, inf). Every value of an atom lies in
    the same bands, and the values of an interval fill a run of atoms, so the least and greatest
    points an interval allows are one look-up by (first atom, last atom): the same answer as asking
    each band with `band_possible`, in a few searches instead of a pass per band and condition."""

    thresholds: tuple[float, ...]
    least: tuple[tuple[float, ...], ...]  # [first atom][last atom] → least points possible
    most: tuple[tuple[float, ...], ...]  # … greatest; both (fewest, most of all bands) if none fits
    fewest: float
    top: float


def band_table(bands: tuple[tuple[float, tuple], ...]) -> BandTable:
    """The table of (points, conditions) bands; `band_possible` on each atom decides which hold."""
    ts = tuple(sorted({float(t) for _, conditions in bands for _, t in conditions}))
    atoms = [Interval(-math.inf, ts[0], True, True)] if ts else [Interval(-math.inf, math.inf, True, True)]
    for i, t in enumerate(ts):
        atoms.append(Interval(t, t))
        atoms.append(Interval(t, ts[i + 1] if i + 1 < len(ts) else math.inf, True, True))
    fits = [[p for p, conditions in bands if band_possible(SCALAR, atom, conditions)] for atom in atoms]
    fewest, top = min(p for p, _ in bands), max(p for p, _ in bands)
    least, most = [], []
    for i in range(len(atoms)):
        low_row, high_row = [], []
        for j in range(len(atoms)):
            found = [p for run in fits[i : j + 1] for p in run]
            low_row.append(min(found) if found else fewest)
            high_row.append(max(found) if found else top)
        least.append(tuple(low_row))
        most.append(tuple(high_row))
    return BandTable(ts, tuple(least), tuple(most), fewest, top)


def band_points(ops, iv: Interval, table: BandTable):
    """(least, greatest) points the bands allow for a value in the interval; an empty interval
    (a bound past the other after float rounding) or NaN allows every band."""
    ts, lo, hi = table.thresholds, iv.lo, iv.hi
    below_lo, upto_lo = ops.count_below(ts, lo), ops.count_upto(ts, lo)
    below_hi, upto_hi = ops.count_below(ts, hi), ops.count_upto(ts, hi)
    # atom 2c is the open run after c thresholds, 2c + 1 the threshold point itself
    first = ops.where(iv.lo_open, 2 * upto_lo, below_lo + upto_lo)
    last = ops.where(iv.hi_open, 2 * below_hi, below_hi + upto_hi)
    empty = ops.not_((lo < hi) | ((lo == hi) & ops.not_(iv.lo_open | iv.hi_open)))
    least = ops.where(empty, table.fewest, ops.lookup(table.least, first, last))
    most = ops.where(empty, table.top, ops.lookup(table.most, first, last))
    return least, most


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
    "BandTable",
    "Interval",
    "and3",
    "at_least",
    "at_least_counts",
    "band_points",
    "band_possible",
    "band_table",
    "compare",
    "count_met",
    "holds",
    "or3",
    "point",
    "points_result",
]
