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
from mas_screen.status_memo import memo_by_results


def status(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
    clinical = [outcomes[i].result for i in by_role(spec, "clinical")]
    laboratory = [outcomes[i].result for i in by_role(spec, "laboratory")]
    return STATUS[
        and3(
            [
                at_least(clinical, spec.rule.at_least["clinical"]),
                at_least(laboratory, spec.rule.at_least["laboratory"]),
            ]
        )
    ]


def combine(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> Combined:
    counted = [outcomes[i] for i in by_role(spec, "clinical") + by_role(spec, "laboratory")]
    met, assessable = count_rule(counted)
    return Combined(status(spec, outcomes, facts), count_met=met, count_assessable=assessable)


INSTRUMENT = Instrument("parodi2009", combine, status=memo_by_results(status))
