"""HLH-2004 diagnostic criteria (Henter 2007).

Met with a molecular diagnosis consistent with HLH, or with at least `criteria_required` of the
eight criteria. An unknown molecular diagnosis does not make the status indeterminate: the eight
criteria decide, and a caveat says a molecular diagnosis would fulfil it regardless (contract).
"""

from __future__ import annotations

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import MET, at_least
from mas_screen.rules.base import STATUS, Combined, Instrument, count_rule
from mas_screen.rules.items import Outcome


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    parts = list(outcomes.values())
    met, assessable = count_rule(parts)
    result = at_least([o.result for o in parts], int(spec.rule["criteria_required"]))
    field = str(spec.rule["molecular_field"])
    molecular = facts.flags.get(field)
    if molecular is True:
        result = MET
    extra = (field,) if molecular is None else ()
    return Combined(STATUS[result], count_met=met, count_assessable=assessable, extra_missing=extra)


INSTRUMENT = Instrument("hlh2004", combine)
