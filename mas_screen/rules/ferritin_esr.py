"""Ferritin:ESR ratio (Eloseily 2019): ratio rounded to 2 dp for display, compared at full precision."""

from __future__ import annotations

import math

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import round_half_up
from mas_screen.rules.base import STATUS, Combined, Instrument
from mas_screen.rules.items import Outcome


def status(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
    (ratio,) = outcomes.values()
    return STATUS[ratio.result]


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    (ratio,) = outcomes.values()
    score = round_half_up(ratio.exact, spec.score_round_places) if ratio.exact is not None else None
    if score is not None and not math.isfinite(score):
        score = None  # beyond the float range (an ESR a hair above 0): decided (met), but no number to show
    return Combined(status(spec, outcomes, facts), score=score, at_cutoff=ratio.at_cutoff)


INSTRUMENT = Instrument("ferritin_esr", combine, status=status)
