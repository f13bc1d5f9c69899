"""HScore for reactive haemophagocytic syndrome (Fardet 2014).

Points summed, with a [min, max] range while items are undecided (never a silent 0). Probability
is read from the published table only, and only for a complete score: exactly on a tabulated
score its value, between two tabulated scores the bracket of the two, and the contract's edge
labels below the first and above the last point.
"""

from __future__ import annotations

import itertools

from mas_screen.criteria_data import InstrumentSpec, ProbabilityTable
from mas_screen.facts import Facts
from mas_screen.models import Probability
from mas_screen.rules.base import Combined, Instrument, point_score, point_status, points_status
from mas_screen.rules.items import Outcome
from mas_screen.units import format_number


def probability(score: float, table: ProbabilityTable) -> Probability:
    def edge(e) -> Probability:
        return Probability(low_percent=e.low_percent, high_percent=e.high_percent, label=e.label)

    if score <= table.at_or_below:
        return edge(table.at_or_below_edge)
    if score >= table.at_or_above:
        return edge(table.at_or_above_edge)
    points = table.points
    if score < points[0][0]:
        return edge(table.below_first_point)
    if score > points[-1][0]:
        return edge(table.above_last_point)
    for (s_lo, p_lo), (s_hi, p_hi) in itertools.pairwise(points):
        if score == s_lo:
            return Probability(low_percent=p_lo, high_percent=p_lo, label=f"{format_number(p_lo)}%")
        if s_lo < score < s_hi:
            return Probability(
                low_percent=p_lo, high_percent=p_hi, label=f"{format_number(p_lo)}–{format_number(p_hi)}%"
            )
    _s_last, p_last = points[-1]
    return Probability(low_percent=p_last, high_percent=p_last, label=f"{format_number(p_last)}%")


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    combined = point_score(spec, outcomes)
    if combined.score is not None:
        combined.probability = probability(combined.score, spec.probability)
    return combined


INSTRUMENT = Instrument("hscore", combine, bounds_status=points_status, status=point_status)
