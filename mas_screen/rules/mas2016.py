"""2016 EULAR/ACR/PRINTO classification criteria for MAS in sJIA (Ravelli 2016).

Fever (entry) AND ferritin (mandatory) AND at least `companions_required` companion items.
Counts are over the companion items only (contract).
"""

from __future__ import annotations

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import and3, at_least
from mas_screen.rules.base import STATUS, Combined, Instrument, count_rule
from mas_screen.rules.items import Outcome


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    by_role = {
        role: [outcomes[i.id] for i in spec.items if i.role == role] for role in ("entry", "mandatory", "companion")
    }
    companions = [o.result for o in by_role["companion"]]
    result = and3(
        [o.result for o in by_role["entry"]]
        + [o.result for o in by_role["mandatory"]]
        + [at_least(companions, int(spec.rule["companions_required"]))]
    )
    met, assessable = count_rule(by_role["companion"])
    return Combined(STATUS[result], count_met=met, count_assessable=assessable)


INSTRUMENT = Instrument("mas2016", combine)
