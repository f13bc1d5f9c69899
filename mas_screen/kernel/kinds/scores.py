"""Kinds that contribute a number rather than a yes/no: a linear term (MS score) and a ratio."""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal

from numpy import errstate

from mas_screen.domain.units import format_threshold, pretty_unit
from mas_screen.kernel.kinds.answers import answer
from mas_screen.kernel.kinds.base import SYMBOL, Edge, Item
from mas_screen.kernel.logic import Interval, compare
from mas_screen.kernel.ops import MET, MISSING, NOT_MET
from mas_screen.kernel.outcome import ArrayOut, Out, decided
from mas_screen.kernel.values import lab_missing


class Linear(Item):
    """coefficient × a lab value (in the published unit), or × 1/0 for a yes/no answer. The exact
    contribution (decimal) goes to the weighted sum; `lo`/`hi` bound it while the input is missing."""

    kind = "linear"
    contributes = True

    def __init__(self, spec):
        super().__init__(spec)
        self.coef = Decimal(repr(spec.coefficient))
        self.coef_f = float(self.coef)
        self.shows = "lab" if spec.analyte is not None else "answer"

    def own_keys(self) -> tuple[str, ...]:
        return (self.spec.field,) if self.spec.field is not None else (self.spec.analyte,)

    def evaluate(self, v):
        ops, spec, exact_ops = v.ops, self.spec, v.exact_ops
        coef = self.coef_f
        if spec.field is not None:
            value = v.flag(spec.field)
            known = value >= 0
            term = ops.where(value == 1, coef, 0.0)
            lo = ops.where(known, term, min(0.0, coef))
            hi = ops.where(known, term, max(0.0, coef))
            exact = exact_ops.flag_term(ops, value, self)
            return (ArrayOut if ops.array else Out)(answer(ops, value), lo, hi, [(spec.field, value < 0)], exact)
        known = v.exact(spec.analyte)
        iv = v.lab_interval(spec.analyte, spec.unit)
        a, b = coef * iv.lo, coef * iv.hi
        exact, term = exact_ops.lab_term(v, self, known)
        lo = ops.where(known, term, ops.minimum(a, b))
        hi = ops.where(known, term, ops.maximum(a, b))
        result = ops.where(known, MET, MISSING)
        return (ArrayOut if ops.array else Out)(result, lo, hi, [(spec.analyte, ops.not_(known))], exact)

    def edges(self) -> list[Edge]:
        return []  # where a weighted sum reaches its cut-off depends on the other terms (combine)

    def rule_text(self) -> str:
        spec = self.spec
        unit = pretty_unit(spec.unit)
        return f"× {format_threshold(spec.coefficient)}" + (f" per {unit}" if spec.analyte else " if present")


class Ratio(Item):
    """numerator ÷ denominator against a threshold; not computable while the divisor could be 0."""

    kind = "ratio"
    shows = "ratio"

    def own_keys(self) -> tuple[str, ...]:
        return (self.spec.numerator, self.spec.denominator)

    places: int = 2  # decimals the ratio is shown at (set from the instrument's score_round_places)

    def evaluate(self, v):
        ops, spec = v.ops, self.spec
        num = v.lab_interval(spec.numerator, spec.numerator_unit)
        den = v.lab_interval(spec.denominator, spec.denominator_unit)
        not_computable = den.lo <= 0  # the divisor may be 0: ratio not computable (contract: ESR 0)
        if not ops.array and not_computable:
            result, exact, at_cutoff = MISSING, None, False
        else:
            both = v.exact(spec.numerator) & v.exact(spec.denominator) & ops.not_(not_computable)
            exact, exact_result, at_cutoff = v.exact_ops.ratio(v, self, both)
            # numpy would warn at the rows not computable (masked below); plain floats divide by > 0 here
            quiet = errstate(divide="ignore", invalid="ignore", over="ignore") if ops.array else nullcontext()
            with quiet:
                ratio = Interval(num.lo / den.hi, num.hi / den.lo, num.lo_open | den.hi_open, num.hi_open | den.lo_open)
                result = ops.where(both, exact_result, compare(ops, ratio, spec.comparator, spec.threshold))
            result = ops.where(not_computable, MISSING, result)
        out = decided(ops, result, None)
        out.exact, out.at_cutoff = exact, at_cutoff
        if v.explain:
            # A divisor entered as 0 leaves the ratio not computable whatever the numerator: a censored
            # numerator (> 40000) is then not listed, as no value of it could decide the item.
            num_result = ops.where(den.hi <= 0, NOT_MET, result)
            out.missing = lab_missing(v, spec.numerator, num_result) + lab_missing(v, spec.denominator, result)
        return out

    def edges(self) -> list[Edge]:
        return []  # where the ratio reaches its threshold depends on the other input (explore)

    def rule_text(self) -> str:
        spec = self.spec
        return f"{SYMBOL[spec.comparator]} {format_threshold(spec.threshold)}"


__all__ = ["Linear", "Ratio"]
