"""Exact arithmetic at cut-offs, in one place: the MS score's half-up rounding at 4 dp before it meets
its cut-off, the ferritin:ESR ratio compared at full precision and shown at 2 dp, and the exact
unit conversions both rest on.

One patient is computed in decimal arithmetic straight from what was typed (`Decimal`). A cohort is
computed in exact scaled integers (int64) wherever they hold the numbers, which is nearly always;
the few rows whose numbers do not fit, or whose unit has no exact decimal factor, are computed in
decimal like one patient. Both give the same floats bit for bit: every float here is the correctly
rounded value of an exact decimal. `EXACT[ops.array]` picks the implementation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import cache
from typing import Literal

import numpy as np

from mas_screen.criteria.loading import per_load
from mas_screen.kernel.inputs.facts import unit_spec
from mas_screen.kernel.logic import Interval, compare, holds
from mas_screen.kernel.ops import MET, NOT_MET, select
from mas_screen.kernel.ops import SCALAR as PATIENT_OPS

NEAR = 1e-9  # relative distance under which float64 does not decide; the decimal code does
MAX_DIGITS = 15  # significant digits a float holds exactly
SCALE = 14  # scaled-integer sums of linear terms: units of 10^-14
# Powers of ten by table lookup: np.power over an array costs ~12x a take (issue 14). Each entry is
# exactly what np.power(10.0, k) and 10 ** k give (tests/test_batch_no_pandas.py checks the tables).
POW10 = 10.0 ** np.arange(309)
POW10_INT = 10 ** np.arange(19, dtype=np.int64)


def dec(value) -> Decimal:
    """A number from the criteria (YAML float or int) as the exact decimal it was written as."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


_DEFAULT = Context(prec=28)  # decimal's default context, passed explicitly: no context switch per call


def round_half_up(value: float | Decimal, places: int) -> float:
    """Half away from zero at `places` decimals (the contract's rounding), never binary round()."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value))
    if not d.is_finite():
        return float(d)
    prec = max(28, d.adjusted() + places + 3)  # enough digits for any magnitude (a ratio over a tiny ESR)
    ctx = _DEFAULT if prec == 28 else Context(prec=prec)
    return float(d.quantize(_quantum(places), rounding=ROUND_HALF_UP, context=ctx))


@cache  # a few places (the MS score's 4, the ratio's 2): never stale
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_half_up_array(x: np.ndarray, places: int) -> np.ndarray:
    """`round_half_up(float, places)` by columns: the float's shortest decimal (repr), rounded half away
    from zero. A float is at or above a midpoint (2i+1)/(2·10^places) exactly when it is at or above
    that midpoint's correctly rounded float, so each test is one exact division."""
    scale = 10.0**places
    a = np.abs(x)
    with np.errstate(invalid="ignore", over="ignore"):
        k = np.floor(a * scale)  # within one of the true count
        j = np.maximum(k - 1.0, 0.0)
        # The midpoints passed among i = k-1, k, k+1 (a midpoint passed means every lower one is):
        # each adds one to the count below them.
        for shift in (-1.0, 0.0, 1.0):
            i = k + shift
            j += (i >= 0) & (a >= (2.0 * i + 1.0) / (2.0 * scale))
        value = np.copysign(j / scale, x)
    return select(np.isfinite(x), value, x)


def near(x, bound: float):
    """Within NEAR (relative) of `bound`: where float64 cannot be trusted to decide."""
    return np.abs(x - bound) <= NEAR * abs(bound)


# ----------------------------------------------------------------------------------- conversions


@dataclass(frozen=True, slots=True)
class Conversion:
    """How a value typed in one unit becomes a value in an item's unit."""

    kind: Literal["identity", "exact", "inexact"]
    p: int = 1  # exact: value × p × 10^-k
    k: int = 0
    factor: float = 1.0  # inexact: (value + offset_in) × factor − offset_out
    offset_in: float = 0.0
    offset_out: float = 0.0


def digits(d: Decimal) -> int:
    return len(d.normalize().as_tuple().digits)


@per_load
def conversion(analyte: str, source: str, target: str) -> Conversion:
    s, t = unit_spec(analyte, source), unit_spec(analyte, target)
    fs, ft = s.factor_decimal, t.factor_decimal
    if s.unit == t.unit or (fs == ft and s.offset == 0 and t.offset == 0):
        return Conversion("identity")
    if s.offset == 0 and t.offset == 0:
        with localcontext() as ctx:
            ctx.prec = 60
            ratio = (fs / ft).normalize()
            if ratio * ft == fs and digits(ratio) <= 6:
                _sign, ds, exponent = ratio.as_tuple()
                p = int("".join(map(str, ds)))
                if exponent >= 0:
                    return Conversion("exact", p * 10**exponent, 0)
                return Conversion("exact", p, -exponent)
    with localcontext() as ctx:
        ctx.prec = 60
        factor = float(fs / ft)
    return Conversion("inexact", factor=factor, offset_in=float(s.offset), offset_out=float(t.offset))


def _decimal_places(value: float) -> int:
    exponent = dec(value).normalize().as_tuple().exponent
    return max(0, -exponent)


def decimal_float(numerator: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """The float nearest numerator × 10^-exponent, for integers below 2^53 and |exponent| <= 22:
    both factors are exact doubles, so one division (or multiplication) rounds correctly."""
    return select(
        exponent >= 0, numerator / POW10[np.clip(exponent, 0, 22)], numerator * POW10[np.clip(-exponent, 0, 22)]
    )


def _scaled(m: np.ndarray, exponent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """m × 10^exponent (exponent ≥ 0) as int64, and whether it fits."""
    exponent = np.clip(exponent, 0, 18)
    fits = np.abs(m.astype(np.float64)) * POW10[exponent] < 2.0**62
    return select(fits, m, 0) * POW10_INT[exponent], fits


def exact_in(lab, idx: np.ndarray, analyte: str, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact values of a cohort's lab (rows idx) in `target` as m × 10^-e (int64), where the typed unit
    converts exactly and the number fits."""
    from mas_screen.criteria.loading import criteria

    units = criteria().analytes.analytes[analyte].units
    m = np.zeros(len(idx), np.int64)
    e = np.zeros(len(idx), np.int64)
    ok = np.zeros(len(idx), bool)
    for position, source in enumerate(units):
        rows = lab.unit[idx] == position
        conv = conversion(analyte, source.unit, target)
        if not rows.any() or conv.kind == "inexact":
            continue
        p, k = (1, 0) if conv.kind == "identity" else (conv.p, conv.k)
        mant = lab.mant[idx]
        fits = rows & lab.rep[idx] & (np.abs(mant) * float(p) < 10.0**MAX_DIGITS)
        m = select(fits, mant * p, m)
        e = select(fits, lab.dec[idx] + k, e)
        ok |= fits
    return m, e, ok


# ------------------------------------------------------------------------------ one patient


class PatientExact:
    """Decimal arithmetic for one patient."""

    @staticmethod
    def flag_term(ops, value, item):
        """A linear item on a yes/no answer: its exact contribution (None while not known)."""
        return None if value < 0 else item.coef if value else Decimal(0)

    @staticmethod
    def lab_term(v, item, known):
        """A linear item on a lab: coef × the exact value, and its float (None while not exact)."""
        if not known:
            return None, None
        exact = item.coef * v.decimal(item.spec.analyte, item.spec.unit)
        return exact, float(exact)

    @staticmethod
    def weighted_sum(parts, lo, hi, places: int):
        """(exact sum or None, score or None, [bound lo, bound hi] or None) of linear outcomes: the exact
        sum rounded half-up at `places` when every term is known, else its bounds at 2 dp."""
        if all(p.exact is not None for p in parts):
            exact = sum((p.exact for p in parts), Decimal(0))
            return exact, round_half_up(exact, places), None
        return None, None, [round_half_up(lo, 2), round_half_up(hi, 2)]

    @staticmethod
    def weighted_status(exact, lo, hi, comparator: str, cutoff: float, places: int):
        """A weighted sum's status: the exact sum rounded half-up at `places` when every term is known;
        else from its bounds, each rounded first when it lies within a rounding step of the cut-off."""
        if exact is not None:
            rounded = dec(round_half_up(exact, places))
            return MET if holds(rounded, comparator, dec(cutoff)) else NOT_MET
        step = _step(places)
        if abs(lo - cutoff) < step:
            lo = round_half_up(lo, places)
        if abs(hi - cutoff) < step:
            hi = round_half_up(hi, places)
        return compare(PATIENT_OPS, Interval(lo, hi), comparator, cutoff)

    @staticmethod
    def ratio(v, item, both):
        """The exact ratio of two exact labs, whether it meets the threshold, and whether it is on it."""
        if not both:
            return None, NOT_MET, False
        spec = item.spec
        exact = v.decimal(spec.numerator, spec.numerator_unit) / v.decimal(spec.denominator, spec.denominator_unit)
        t = dec(spec.threshold)
        return exact, (MET if holds(exact, spec.comparator, t) else NOT_MET), exact == t

    @staticmethod
    def ratio_score(exact, places: int):
        """The ratio as shown, half-up at `places`; None beyond the float range (an ESR a hair above 0)."""
        if exact is None:
            return None
        score = round_half_up(exact, places)
        return score if math.isfinite(score) else None


@cache
def _step(places: int) -> float:
    """One unit in the last rounded place (0.01 for 2 places)."""
    return float(Decimal(1).scaleb(-places))


__all__ = [
    "MAX_DIGITS",
    "NEAR",
    "SCALE",
    "Conversion",
    "PatientExact",
    "conversion",
    "dec",
    "digits",
    "exact_in",
    "near",
    "round_half_up",
    "round_half_up_array",
]
