"""Preliminary diagnostic guidelines for MAS in juvenile SLE (Parodi 2009).

At least `clinical_required` clinical AND `laboratory_required` laboratory criteria. Marrow
haemophagocytosis is supportive: shown, never counted. Counts are over clinical + laboratory items.
"""

from __future__ import annotations

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.intervals import and3, at_least
from mas_screen.rules.base import STATUS, Combined, Instrument, by_role, count_rule
from mas_screen.rules.items import Outcome


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    clinical = [outcomes[i] for i in by_role(spec, "clinical")]
    laboratory = [outcomes[i] for i in by_role(spec, "laboratory")]
    result = and3(
        [
            at_least([o.result for o in clinical], int(spec.rule["clinical_required"])),
            at_least([o.result for o in laboratory], int(spec.rule["laboratory_required"])),
        ]
    )
    met, assessable = count_rule(clinical + laboratory)
    return Combined(STATUS[result], count_met=met, count_assessable=assessable)


INSTRUMENT = Instrument("parodi2009", combine)
