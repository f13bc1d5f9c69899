"""Optimized HLH Inflammatory index (Zoref-Lorenz 2022): both items must be met."""

from __future__ import annotations

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import and3
from mas_screen.rules.base import STATUS, Combined, Instrument
from mas_screen.rules.items import Outcome


def status(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
    return STATUS[and3([o.result for o in outcomes.values()])]


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    return Combined(status(spec, outcomes, facts), at_cutoff=any(o.at_cutoff for o in outcomes.values()))


INSTRUMENT = Instrument("ohi", combine, status=status)
