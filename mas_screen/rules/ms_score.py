"""MS score: MAS vs active sJIA (Minoia 2019).

A weighted sum, rounded half-up to `score_round_places` before it meets the cut-off (criteria-spec
Worked example 5: the unrounded float sum is order-dependent at -2.1). With inputs missing or
censored the score is not given, but the status is still decided when every plausible value of
them lands on the same side of the cut-off. The AOSD cut-off is reported beside it.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import Interval, compare, compare_decimal, round_half_up
from mas_screen.models import AdditionalCutoff
from mas_screen.rules.base import STATUS, Combined, Instrument
from mas_screen.rules.items import Outcome


@cache
def _step(places: int) -> float:
    """One unit in the last rounded place (0.01 for 2 places)."""
    return float(Decimal(1).scaleb(-places))


def _status(lo: float, hi: float, exact: Decimal | None, comparator: str, cutoff: float, places: int) -> str:
    if exact is not None:
        rounded = Decimal(repr(round_half_up(exact, places)))
        return "met" if compare_decimal(rounded, comparator, Decimal(repr(cutoff))) else "not_met"
    # Bounds of a score with missing inputs: round only a bound that lies near the cut-off.
    near = _step(places)
    if abs(lo - cutoff) < near:
        lo = round_half_up(lo, places)
    if abs(hi - cutoff) < near:
        hi = round_half_up(hi, places)
    return STATUS[compare(Interval(lo, hi), comparator, cutoff)]


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    places = spec.score_round_places
    parts = list(outcomes.values())
    exact = None
    if all(o.exact is not None for o in parts):
        exact = sum((o.exact for o in parts), Decimal(0))
    lo = sum(o.lo for o in parts)
    hi = sum(o.hi for o in parts)
    cut = spec.cutoff
    status = _status(lo, hi, exact, cut.comparator, cut.value, places)
    additional = [
        AdditionalCutoff(
            label=extra.label or "",
            comparator=extra.comparator,
            cutoff=extra.value,
            status=_status(lo, hi, exact, extra.comparator, extra.value, places),
            reference=extra.source,
            note=extra.note,
        )
        for extra in spec.additional_cutoffs
        if extra.applies_to_diseases is None or facts.disease in extra.applies_to_diseases
    ]
    if exact is not None:
        return Combined(status, score=round_half_up(exact, places), additional=additional)
    return Combined(status, score_bounds=[round_half_up(lo, 2), round_half_up(hi, 2)], additional=additional)


def bounds_status(spec: InstrumentSpec, lo: float, hi: float) -> str:
    return _status(lo, hi, None, spec.cutoff.comparator, spec.cutoff.value, spec.score_round_places)


INSTRUMENT = Instrument("ms_score", combine, bounds_status=bounds_status)
