"""MH score: primary HLH vs MAS in sJIA (Minoia 2017). Points summed; a range while items are undecided."""

from __future__ import annotations

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.rules.base import Combined, Instrument, point_score, point_status, points_status
from mas_screen.rules.items import Outcome


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    return point_score(spec, outcomes)


INSTRUMENT = Instrument("mh_score", combine, bounds_status=points_status, status=point_status)
