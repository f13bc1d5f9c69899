"""What the kernel reads about a patient (or about every row of a cohort): `Values`.

Two implementations give the same answers in two shapes: `PatientValues` (one patient, from the
validated inputs of `facts.normalise`) and the cohort's columns (`kernel.cohort.CohortValues`).
Item kinds read only this interface:

    ops                      ops.SCALAR or an ops.ArrayOps
    lab_interval(key, unit)  the lab as an Interval in `unit`: a point when entered, half-open when
                             censored, its plausible range when not entered or left out
    entered(key)             the lab is in use (entered and not left out as a bad value)
    exact(key)               in use and not censored
    flag(name)               a yes/no answer: 1 yes, 0 no, -1 not known
    number(name), known(name), number_interval(name)   numeric context fields (NaN when not known)
    replaced(key, value)     the same with one input set to a value (next tests)
    explain                  whether items also say what explanation needs (missing inputs, a value
                             exactly at a threshold): always for one patient, on request for a cohort

The fever conventions (what `febrile` says about a temperature band) are kernel logic, here once.
"""

from __future__ import annotations

import math
from decimal import Decimal

from mas_screen.criteria.loading import criteria
from mas_screen.domain.fields import NUMERIC_CONTEXT_FIELDS
from mas_screen.kernel.exact import PatientExact
from mas_screen.kernel.inputs.facts import (
    Facts,
    context_plausible,
    fever_cut,
    normalise,
    plausible_interval,
    unit_spec,
)
from mas_screen.kernel.logic import Interval
from mas_screen.kernel.ops import MISSING, SCALAR

FEVER_SOURCES = ("febrile", "temperature")
_FLAG = {None: -1, True: 1, False: 0}


class PatientValues:
    """One patient's validated inputs, as the kernel reads them."""

    __slots__ = ("_flags", "_trials", "disease", "facts", "labs", "numbers")
    ops = SCALAR
    exact_ops = PatientExact
    explain = True

    def __init__(self, facts: Facts):
        self.facts = facts
        self.labs = facts.labs
        self.numbers = facts.numbers
        self._flags = {k: _FLAG[v] for k, v in facts.flags.items()}
        self.disease = facts.disease
        self._trials: dict | None = {}  # (key, value) → the patient with that input replaced

    @classmethod
    def empty(cls) -> PatientValues:
        """A patient with nothing entered (an empty form)."""
        from mas_screen.domain.models import PatientInput

        return cls(normalise(PatientInput())[0])

    def entered_keys(self) -> frozenset[str]:
        """Every input with a value (labs, yes/no answers, numbers): an item reading none of them
        reads what an empty form gives."""
        return self.facts.entered()

    def lab_interval(self, key: str, unit: str) -> Interval:
        return self.facts.lab_interval(key, unit)

    def entered(self, key: str) -> bool:
        return key in self.labs

    def exact(self, key: str) -> bool:
        fact = self.labs.get(key)
        return fact is not None and fact.parsed.op is None

    def decimal(self, key: str, unit: str) -> Decimal:
        """The exact value in `unit` (exact arithmetic at cut-offs; only for exact values)."""
        return self.labs[key].value_in(unit_spec(key, unit))

    def flag(self, name: str) -> int:
        return self._flags.get(name, -1)

    def number(self, name: str) -> float:
        value = self.numbers.get(name)
        return math.nan if value is None else value

    def known(self, name: str) -> bool:
        return name in self.numbers

    def number_interval(self, name: str) -> Interval:
        value = self.numbers.get(name)
        return context_plausible(name) if value is None else Interval(value, value)

    def replaced(self, key: str, value) -> PatientValues:
        """A copy with one input set to a candidate value (a bool, or a number in the default unit).
        Like the cohort's, the copy skips what only explanation needs (next tests read results).
        Made once per patient: instruments reading the same input try the same copies."""
        trials = self._trials
        out = None if trials is None else trials.get((key, value))
        if out is None:
            out = object.__new__(TrialValues)
            out.facts = facts = self.facts.replaced(key, value)
            out.labs, out.numbers, out.disease = facts.labs, facts.numbers, self.disease
            out._flags = self._flags
            out._trials = None
            if facts.flags is not self.facts.flags:
                out._flags = {**self._flags, key: _FLAG[value]}
            if trials is not None:
                trials[(key, value)] = out
        return out


class TrialValues(PatientValues):
    """A patient with one input replaced (next tests): items give their results, no explanation."""

    __slots__ = ()
    explain = False


def temperature_interval(v, unit: str) -> Interval:
    """Temperature for banded and threshold items: the entered value, else what `febrile` implies
    (contract "Fever": not febrile means below the 38.0 °C convention, febrile at or above it)."""
    ops = v.ops
    entered = v.entered("temperature")
    if not ops.array and entered:
        return v.lab_interval("temperature", unit)
    full = plausible_interval("temperature", unit)
    febrile = v.flag("febrile")
    cut = fever_cut(unit)
    if not ops.array:
        if febrile < 0:
            return full
        if febrile:
            return Interval(cut, full.hi)
        return Interval(full.lo, cut, False, True)
    lab = v.lab_interval("temperature", unit)
    lo = ops.where(febrile == 1, cut, full.lo)
    hi = ops.where(febrile == 0, cut, full.hi)
    return Interval(
        ops.where(entered, lab.lo, lo),
        ops.where(entered, lab.hi, hi),
        ops.where(entered, lab.lo_open, False),
        ops.where(entered, lab.hi_open, febrile == 0),
    )


def value_interval(v, analyte: str, unit: str) -> Interval:
    """A lab read by an item: temperature with the febrile conventions, any other lab as entered."""
    if analyte == "temperature":
        return temperature_interval(v, unit)
    return v.lab_interval(analyte, unit)


def lab_missing(v, analyte: str, result) -> list:
    """A lab is listed when not entered, or when censored without deciding its item. A temperature
    not entered is listed with `febrile` as the sources that could still decide the item."""
    ops = v.ops
    undecided = result == MISSING
    entered = v.entered(analyte)
    censored_open = ops.not_(v.exact(analyte)) & undecided
    if analyte != "temperature":
        return [(analyte, ops.not_(entered) | censored_open)]
    febrile = v.flag("febrile")
    absent = ops.not_(entered) & undecided
    return [
        ("temperature", (entered & censored_open) | (absent & (febrile != 0))),
        ("febrile", absent & (febrile != 1)),
    ]


def candidates(key: str) -> tuple:
    """The values next tests try for an input: the two ends of its plausible range, or yes and no."""
    analytes = criteria().analytes
    if key in analytes.analytes:
        p = analytes.analytes[key].plausible
        return (float(p.min), float(p.max))
    if key in NUMERIC_CONTEXT_FIELDS:
        p = analytes.context_numbers[key].plausible
        return (float(p.min), float(p.max))
    return (True, False)


__all__ = [
    "FEVER_SOURCES",
    "PatientValues",
    "TrialValues",
    "candidates",
    "lab_missing",
    "temperature_interval",
    "value_interval",
]
