"""A cohort as the kernel reads it: `CohortValues` (one numpy array per input, one element per row) and
`CohortExact`, the exact arithmetic at cut-offs in scaled integers with a decimal fallback per row.

The columns come from the cohort's cell reader (`faces.cohort`): per lab a `LabValues` (state, censoring,
unit, the float in every unit an item reads, and the exact decimal mantissa where needed), per context
field an array. Everything else (item kinds, combination rules) is the same code as for one patient.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import numpy as np

from mas_screen.criteria.loading import criteria
from mas_screen.domain.fields import NUMERIC_CONTEXT_FIELDS
from mas_screen.domain.units import as_float, convert
from mas_screen.kernel.exact import (
    NEAR,
    POW10,
    POW10_INT,
    SCALE,
    PatientExact,
    _scaled,
    conversion,
    dec,
    decimal_float,
    exact_in,
    near,
    round_half_up,
    round_half_up_array,
)
from mas_screen.kernel.inputs.facts import context_plausible, plausible_interval, unit_spec
from mas_screen.kernel.logic import Interval, compare, holds
from mas_screen.kernel.ops import MET, NOT_MET, ArrayOps, select


class CohortValues:
    """Every row's validated inputs as arrays (see kernel.values for the interface)."""

    def __init__(self, n: int, labs: dict, flags: dict, numbers: dict, disease: np.ndarray, explain: bool = False):
        self.n = n
        self.ops = ArrayOps(n)
        self.exact_ops = CohortExact
        self.explain = explain
        self.labs = labs
        self.flags = flags
        self.numbers = numbers
        self.disease = disease  # int8 codes into models' Disease order
        self._intervals: dict[tuple[str, str], Interval] = {}

    def lab(self, key: str):
        return self.labs.get(key)

    def entered(self, key: str):
        lab = self.labs.get(key)
        return self.ops.false if lab is None else lab.state == 1

    def exact(self, key: str):
        lab = self.labs.get(key)
        return self.ops.false if lab is None else (lab.state == 1) & (lab.op == 0)

    def lab_interval(self, key: str, unit: str) -> Interval:
        found = self._intervals.get((key, unit))
        if found is None:
            found = self._intervals[(key, unit)] = self._lab_interval(key, unit)
        return found

    def _lab_interval(self, key: str, unit: str) -> Interval:
        p = plausible_interval(key, unit)
        lab = self.labs.get(key)
        false = self.ops.false
        if lab is None:
            return Interval(np.full(self.n, p.lo), np.full(self.n, p.hi), false, false)
        y = lab.values[unit]
        op = select(lab.state == 1, lab.op, -1)
        lo = select((op == 0) | (op == 1) | (op == 2), y, p.lo)
        hi = select((op == 0) | (op == 3) | (op == 4), y, p.hi)
        return Interval(lo, hi, op == 1, op == 3)

    def flag(self, name: str):
        return self.flags[name]

    def number(self, name: str):
        return self.numbers[name]

    def known(self, name: str):
        return ~np.isnan(self.numbers[name])

    def number_interval(self, name: str) -> Interval:
        p = context_plausible(name)
        v = self.numbers[name]
        known = ~np.isnan(v)
        return Interval(select(known, v, p.lo), select(known, v, p.hi), self.ops.false, self.ops.false)

    def replaced(self, key: str, value) -> CohortValues:
        """Every row with one input set to a candidate value (a bool, or a number in the default unit)."""
        out = copy.copy(self)
        out._intervals = {}
        out.explain = False
        n = self.n
        if key in criteria().analytes.analytes:
            out.labs = {**self.labs, key: ConstantLab(key, value, n)}
        elif key in NUMERIC_CONTEXT_FIELDS:
            out.numbers = {**self.numbers, key: np.full(n, float(value))}
        else:
            out.flags = {**self.flags, key: np.full(n, 1 if value else 0, np.int8)}
        return out


class ConstantLab:
    """A lab entered with the same exact value on every row, in its default unit (next tests' trials)."""

    def __init__(self, key: str, value, n: int):
        spec = criteria().analytes.analytes[key]
        typed = Decimal(repr(value))
        default = spec.unit(spec.default_unit)
        self.state = np.ones(n, np.int8)
        self.op = np.zeros(n, np.int8)
        self.unit = np.full(n, [u.unit for u in spec.units].index(spec.default_unit), np.int8)
        self.values = {u.unit: np.full(n, as_float(convert(typed, default, u))) for u in spec.units}
        sign, ds, exponent = typed.as_tuple()
        whole = int("".join(map(str, ds)) or "0") * (-1 if sign else 1)
        if exponent > 0:
            whole, exponent = whole * 10**exponent, 0
        self.mant = np.full(n, whole, np.int64)
        self.dec = np.full(n, -exponent, np.int64)
        self.rep = np.full(n, len(ds) <= 15 and abs(whole) < 10**15, bool)
        self._decimal = (typed, spec.default_unit)

    def decimal(self, row: int) -> tuple[Decimal, str]:
        return self._decimal


# -------------------------------------------------------------------------------- exact arithmetic


class _Terms:
    """Exact linear terms over rows: scaled integers (units of 10^-SCALE) where they fit."""

    __slots__ = ("decimal", "known", "ok", "scaled")

    def __init__(self, scaled, ok, known, decimal=None):
        self.scaled, self.ok, self.known = scaled, ok, known
        self.decimal = decimal or {}  # row → exact Decimal, where the integers cannot hold it


class _Sum:
    """An exact weighted sum over rows: complete rows rounded (integers at 10^-places), the rest bounds."""

    __slots__ = ("complete", "decimal", "rounded")

    def __init__(self, rounded, complete, decimal):
        self.rounded, self.complete, self.decimal = rounded, complete, decimal


def _coef_parts(coef: Decimal) -> tuple[int, int]:
    exponent = coef.normalize().as_tuple().exponent
    places = max(0, -exponent)
    return int(coef.scaleb(places)), places


class CohortExact:
    """Scaled-integer arithmetic for a cohort, the decimal arithmetic of one patient where it must."""

    @staticmethod
    def flag_term(ops, value, item) -> _Terms:
        coef_int, places = _coef_parts(item.coef)
        known = value >= 0
        scaled = select(value == 1, coef_int * 10 ** (SCALE - places), 0).astype(np.int64)
        return _Terms(scaled, np.ones(ops.n, bool), known)

    @staticmethod
    def lab_term(v, item, known) -> tuple[_Terms, np.ndarray]:
        """coef × each exact value: scaled integers where they fit, the float of the exact decimal."""
        spec, n = item.spec, v.n
        lab = v.lab(spec.analyte)
        scaled = np.zeros(n, np.int64)
        term = np.zeros(n)
        ok = np.zeros(n, bool)
        if lab is None:
            return _Terms(scaled, ok, known), term
        coef_int, places = _coef_parts(item.coef)
        for position, source in enumerate(criteria().analytes.analytes[spec.analyte].units):
            idx = np.flatnonzero(known & (lab.unit == position))
            if not len(idx):
                continue
            conv = conversion(spec.analyte, source.unit, spec.unit)
            scaled[idx], term[idx], ok[idx] = _scaled_terms(lab, idx, conv, coef_int, places)
        decimal = {}
        target = unit_spec(spec.analyte, spec.unit)
        for row in np.flatnonzero(known & ~ok).tolist():  # no exact decimal factor, or too many digits
            value, unit = lab.decimal(row)
            exact = item.coef * convert(value, unit_spec(spec.analyte, unit), target)
            decimal[row] = exact
            term[row] = float(exact)
        return _Terms(scaled, ok, known, decimal), term

    @staticmethod
    def weighted_sum(parts, lo, hi, places: int):
        n = len(lo)
        complete = np.ones(n, bool)
        fits = np.ones(n, bool)
        total = np.zeros(n, np.int64)
        for p in parts:
            t: _Terms = p.exact
            complete &= t.known
            fits &= ~t.known | t.ok
            total += select(t.known & t.ok, t.scaled, 0)
        unit = 10 ** (SCALE - places)
        magnitude = (np.abs(total) + unit // 2) // unit  # half away from zero
        rounded = select(total < 0, -magnitude, magnitude)
        score = select(complete, rounded / 10.0**places, np.nan)
        decimal: dict[int, Decimal] = {}
        for row in np.flatnonzero(complete & ~fits).tolist():  # a term the integers do not hold (rare)
            exact = sum((_row_term(p.exact, row) for p in parts), Decimal(0))
            decimal[row] = exact
            score[row] = round_half_up(exact, places)
        return _Sum(rounded, complete, decimal), score, (_bound(lo, complete), _bound(hi, complete))

    @staticmethod
    def weighted_status(exact: _Sum | None, lo, hi, comparator: str, cutoff: float, places: int):
        step = 10.0**-places
        lo_r, hi_r = _rounded_near(lo, cutoff, step, places), _rounded_near(hi, cutoff, step, places)
        ops = ArrayOps(len(lo))
        status = compare(ops, Interval(lo_r, hi_r, ops.false, ops.false), comparator, cutoff)
        if exact is None:
            return status
        cut = dec(cutoff).scaleb(places)
        if cut != cut.to_integral_value():  # pragma: no cover - cut-offs have at most `places` decimals
            raise ValueError("cut-off has more decimals than the score is rounded to")
        status = select(exact.complete, select(holds(exact.rounded, comparator, int(cut)), MET, NOT_MET), status)
        status = status.astype(np.int8)
        for row, value in exact.decimal.items():
            status[row] = PatientExact.weighted_status(value, None, None, comparator, cutoff, places)
        return status

    @staticmethod
    def ratio(v, item, both):
        """The ratio of two exact labs per row: (score at item.places, result against the threshold,
        at-cut-off flags). Float64 decides where it can; a tie it cannot see (within NEAR of the threshold
        or of a rounding midpoint) is decided in exact integers, or in decimal beyond them."""
        spec, n = item.spec, v.n
        num = v.lab_interval(spec.numerator, spec.numerator_unit)
        den = v.lab_interval(spec.denominator, spec.denominator_unit)
        num_lab, den_lab = v.lab(spec.numerator), v.lab(spec.denominator)
        places = item.places
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            exact_ratio = select(both, num.lo / select(both, den.lo, 1.0), np.nan)
            scaled = exact_ratio * 10.0**places
            fraction = scaled - np.floor(scaled)
        threshold = float(spec.threshold)
        ops = ArrayOps(n)
        result = compare(ops, Interval(exact_ratio, exact_ratio, ops.false, ops.false), spec.comparator, threshold)
        tolerance = NEAR * np.maximum(1.0, np.abs(scaled))
        undecided = both & (near(exact_ratio, threshold) | (np.abs(fraction - 0.5) <= tolerance))
        score = select(both, np.floor(scaled + 0.5) / 10.0**places, np.nan)
        idx = np.flatnonzero(undecided)
        if len(idx):  # ties float64 cannot see: exact integers where they fit
            done = _ratio_integers(spec, places, num_lab, den_lab, idx, result, score)
            idx = idx[~done]
        for row in idx.tolist():  # the rest (more digits than int64 holds): in decimal, like one patient
            fv, fu = num_lab.decimal(row)
            dv, du = den_lab.decimal(row)
            numerator = convert(fv, unit_spec(spec.numerator, fu), unit_spec(spec.numerator, spec.numerator_unit))
            denominator = convert(
                dv, unit_spec(spec.denominator, du), unit_spec(spec.denominator, spec.denominator_unit)
            )
            exact = numerator / denominator
            result[row] = MET if holds(exact, spec.comparator, dec(spec.threshold)) else NOT_MET
            score[row] = round_half_up(exact, places)
        score[~np.isfinite(score)] = np.nan  # a ratio beyond the float range has no number (as one patient)
        return score, result, ops.false

    @staticmethod
    def ratio_score(exact, places: int):
        return exact


def _bound(x: np.ndarray, complete: np.ndarray) -> np.ndarray:
    """A score's least or greatest possible value at 2 decimals where it is not complete (NaN where
    it is): only those rows are rounded."""
    out = np.full(len(x), np.nan)
    open_ = np.flatnonzero(~complete)
    out[open_] = round_half_up_array(np.broadcast_to(np.asarray(x, np.float64), out.shape)[open_], 2)
    return out


def _rounded_near(x: np.ndarray, cutoff: float, step: float, places: int) -> np.ndarray:
    """x rounded half-up at `places` where it lies within one step of the cut-off (the rows whose
    rounding can move it across), as it is elsewhere: only those few rows are rounded."""
    near_cut = np.flatnonzero(np.abs(x - cutoff) < step)
    if not len(near_cut):
        return x
    out = np.array(x, dtype=np.float64)
    out[near_cut] = round_half_up_array(out[near_cut], places)
    return out


def _row_term(t: _Terms, row: int) -> Decimal:
    if row in t.decimal:
        return t.decimal[row]
    return Decimal(int(t.scaled[row])).scaleb(-SCALE)


def _scaled_terms(lab, idx: np.ndarray, conv, coef_int: int, coef_places: int):
    """Exact labs' contributions coef × value (rows idx): as integers at 10^-SCALE, as the float of the
    exact decimal (one correctly rounded division), and whether both are exact."""
    m = len(idx)
    if conv.kind == "inexact":
        return np.zeros(m, np.int64), np.zeros(m), np.zeros(m, bool)
    p, k = (1, 0) if conv.kind == "identity" else (conv.p, conv.k)
    mant, dec_, rep = lab.mant[idx], lab.dec[idx], lab.rep[idx]
    numerator_f = np.abs(mant.astype(np.float64)) * float(p) * abs(coef_int)
    exponent = dec_ + k + coef_places
    ok = rep & (numerator_f < 2.0**53) & (exponent <= SCALE) & (exponent >= -22)
    numerator = select(ok, mant * p * coef_int, 0)
    shift = np.clip(SCALE - exponent, 0, 18)
    ok &= numerator_f * POW10[shift] < 2.0**62 / 16
    scaled = select(ok, numerator, 0) * POW10_INT[shift]
    as_float = decimal_float(numerator, exponent)
    return scaled, as_float, ok


def _ratio_integers(spec, places: int, num_lab, den_lab, idx, result, score) -> np.ndarray:
    """Exact ratio comparison and half-up rounding for rows idx; returns which rows were decided."""
    mf, ef, ok_f = exact_in(num_lab, idx, spec.numerator, spec.numerator_unit)
    me, ee, ok_e = exact_in(den_lab, idx, spec.denominator, spec.denominator_unit)
    ok = ok_f & ok_e & (me > 0)
    shift = ee - ef  # F / E = mf × 10^shift / me
    # comparison with the threshold mt × 10^-et: mf × 10^(shift+et) <=> mt × me
    _sign, digits_, exponent = dec(spec.threshold).normalize().as_tuple()
    mt = int("".join(map(str, digits_)))
    if exponent > 0:
        mt, exponent = mt * 10**exponent, 0
    et = -exponent
    lhs, fit_l = _scaled(mf, shift + et)
    rhs, fit_r = _scaled(me * mt, -(shift + et))
    ok &= fit_l & fit_r & (np.abs(me.astype(np.float64)) * mt < 2.0**62)
    cmp = holds(lhs, spec.comparator, rhs)
    # rounding: j = floor(10^places × F/E + 1/2) = (2·10^places·mf·10^shift + D) // (2·D), D = me × 10^-shift
    top, fit_t = _scaled(2 * 10**places * mf, shift)
    bottom, fit_b = _scaled(me, -shift)
    ok &= fit_t & fit_b & (np.abs(top.astype(np.float64)) + np.abs(bottom.astype(np.float64)) < 2.0**62)
    safe_bottom = select(ok & (bottom > 0), bottom, 1)
    j = (top + safe_bottom) // (2 * safe_bottom)
    rows = idx[ok]
    result[rows] = select(cmp[ok], MET, NOT_MET)
    score[rows] = j[ok] / 10.0**places
    return ok


__all__ = ["CohortExact", "CohortValues"]
