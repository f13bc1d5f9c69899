"""2016 EULAR/ACR/PRINTO classification criteria for MAS in sJIA (Ravelli 2016).

Fever (entry) AND ferritin (mandatory) AND at least `companions_required` companion items.
Counts are over the companion items only (contract).
"""

from __future__ import annotations

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import and3, at_least
from mas_screen.rules.base import STATUS, Combined, Instrument, by_role, count_rule
from mas_screen.rules.items import Outcome
from mas_screen.status_memo import memo_by_results


def status(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
    companions = [outcomes[i].result for i in by_role(spec, "companion")]
    return STATUS[
        and3(
            [outcomes[i].result for i in by_role(spec, "entry") + by_role(spec, "mandatory")]
            + [at_least(companions, spec.rule.at_least["companion"])]
        )
    ]


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    met, assessable = count_rule([outcomes[i] for i in by_role(spec, "companion")])
    return Combined(status(spec, outcomes, facts), count_met=met, count_assessable=assessable)


INSTRUMENT = Instrument("mas2016", combine, status=memo_by_results(status))
