"""HLH-2004 diagnostic criteria (Henter 2007).

Met with a molecular diagnosis consistent with HLH, or with at least `criteria_required` of the
eight criteria. An unknown molecular diagnosis does not make the status indeterminate: the eight
criteria decide, and a caveat says a molecular diagnosis would fulfil it regardless (contract).
"""

from __future__ import annotations

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import at_least
from mas_screen.rules.base import STATUS, Combined, Instrument, count_rule
from mas_screen.rules.items import Outcome


def status(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
    if facts.flags.get(str(spec.rule.override)) is True:
        return "met"
    return STATUS[at_least([o.result for o in outcomes.values()], spec.rule.at_least["criterion"])]


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    met, assessable = count_rule(list(outcomes.values()))
    field = str(spec.rule.override)
    extra = (field,) if facts.flags.get(field) is None else ()
    return Combined(status(spec, outcomes, facts), count_met=met, count_assessable=assessable, extra_missing=extra)


INSTRUMENT = Instrument("hlh2004", combine, status=status)
