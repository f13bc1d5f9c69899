"""What evaluating one item gives: its three-valued result, the points it can still give, what is missing.

`lo`/`hi` are the least and greatest points (or contribution) the item can still give; an unscored
item counts 1 when met. `missing` lists (input key, condition) pairs in the contract's order: the
key is listed where the condition holds (a scalar bool for one patient, a boolean array for a
cohort). The cohort computes `lo`/`hi` only when a combination rule asks for them.
"""

from __future__ import annotations

from mas_screen.kernel.ops import MET, MISSING, NOT_MET, select


class Out:
    """One item's outcome (one patient: scalars)."""

    __slots__ = ("at_cutoff", "exact", "hi", "lo", "missing", "parts", "result")

    def __init__(self, result, lo, hi, missing=(), exact=None, parts=None, at_cutoff=False):
        self.result = result
        self.lo = lo
        self.hi = hi
        self.missing = missing
        self.exact = exact  # exact contribution (linear) or ratio (Decimal), when computable
        self.parts = parts  # sub-item outcomes of a composite item
        self.at_cutoff = at_cutoff  # an entered value exactly at the item's threshold


class ArrayOut:
    """One item's outcome over a cohort (arrays); the points of an item scored by its result are
    computed only when a combination rule asks for them."""

    __slots__ = ("_hi", "_lo", "_points", "at_cutoff", "exact", "missing", "parts", "result")

    def __init__(self, result, lo=None, hi=None, missing=(), exact=None, parts=None, at_cutoff=False, points=1.0):
        self.result = result
        self._lo, self._hi, self._points = lo, hi, points
        self.missing, self.exact, self.parts, self.at_cutoff = missing, exact, parts, at_cutoff

    @property
    def lo(self):  # met → its points, otherwise 0
        if self._lo is None:
            self._lo = select(self.result == MET, self._points, 0.0)
        return self._lo

    @property
    def hi(self):  # not met → 0, otherwise the points it may still give
        if self._hi is None:
            self._hi = select(self.result == NOT_MET, 0.0, self._points)
        return self._hi


def decided(ops, result, points) -> Out | ArrayOut:
    """An item that gives `points` (1 when unscored) when met and 0 when not met."""
    p = 1.0 if points is None else points if type(points) is float else float(points)
    if ops.array:
        return ArrayOut(result, points=p)
    if result == MET:
        return Out(MET, p, p)
    if result == NOT_MET:
        return Out(NOT_MET, 0.0, 0.0)
    return Out(MISSING, 0.0, p)


def ends(ops, out):
    """The item decided at its least and at its greatest outcome (for 'would this input decide it?')."""
    lo, hi = out.lo, out.hi
    make = ArrayOut if ops.array else Out
    return (
        make(ops.three(lo > 0, lo <= 0), lo, lo),
        make(ops.three(hi > 0, hi <= 0), hi, hi),
    )


__all__ = ["ArrayOut", "Out", "decided", "ends"]
