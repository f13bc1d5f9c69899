"""Which missing inputs could, entered alone, decide an undecided instrument (`next_tests`).

Found by trying each missing input at the two ends of its plausible range: every item is monotone
in each of its inputs, so the ends are enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from mas_screen.criteria_data import ItemSpec, criteria
from mas_screen.facts import Facts
from mas_screen.intervals import MISSING, at_least
from mas_screen.models import NUMERIC_CONTEXT_FIELDS, CriterionResult
from mas_screen.rules import INSTRUMENTS
from mas_screen.rules.base import by_role
from mas_screen.rules.items import Outcome, evaluate_item, extreme_outcomes, extremes_knowable, item_keys
from mas_screen.summary import SLOW_TESTS


def _candidates(key: str) -> tuple:
    analytes = criteria().analytes
    if key in analytes.analytes:
        p = analytes.analytes[key].plausible
        return (float(p.min), float(p.max))
    if key in NUMERIC_CONTEXT_FIELDS:
        p = analytes.context_numbers[key].plausible
        return (float(p.min), float(p.max))
    return (True, False)


@dataclass(frozen=True, slots=True)
class _KeyPlan:
    """How to try one missing input of one instrument, worked out once per (instrument, key)."""

    affected: tuple[ItemSpec, ...]  # the instrument's items that read the key
    # The one affected item's extremes are knowable without re-evaluation (items.extreme_outcomes).
    extremes: bool
    candidates: tuple  # the ends of the key's plausible range, for re-evaluation


_PLANS: dict[tuple[str, str], _KeyPlan] = {}


def _key_plan(iid: str, key: str) -> _KeyPlan:
    found = _PLANS.get((iid, key))
    if found is None:
        affected = tuple(i for i in INSTRUMENTS[iid].spec.items if key in item_keys(i))
        extremes = len(affected) == 1 and extremes_knowable(affected[0], key)
        found = _PLANS[(iid, key)] = _KeyPlan(affected, extremes, _candidates(key))
    return found


def decisive_keys(iid: str, result: CriterionResult, outcomes: dict[str, Outcome], facts: Facts) -> list[str]:
    """Missing inputs of an indeterminate instrument that alone could decide it.

    Every item is monotone in each input, so trying each input at the two ends of its plausible
    range finds every decisive input. For an item that reads only that input the ends are its
    least and greatest outcome; for additive scores only the score's bounds need recomputing.
    """
    instrument = INSTRUMENTS[iid]
    spec = instrument.spec
    status_of, bounds_status = instrument.status_of, instrument.bounds_status
    if bounds_status is not None:
        total_lo = sum(o.lo for o in outcomes.values())
        total_hi = sum(o.hi for o in outcomes.values())
    found: list[str] = []
    for key in result.missing:
        if key in SLOW_TESTS:
            continue
        plan = _key_plan(iid, key)
        extremes = extreme_outcomes(plan.affected[0], outcomes[plan.affected[0].id], key) if plan.extremes else None
        if extremes is not None and bounds_status is not None:
            now = outcomes[plan.affected[0].id]
            decided = any(
                bounds_status(spec, total_lo - now.lo + end.lo, total_hi - now.hi + end.hi) != "indeterminate"
                for end in extremes
            )
        elif extremes is not None:
            decided = any(
                status_of(spec, {**outcomes, plan.affected[0].id: end}, facts) != "indeterminate" for end in extremes
            )
        else:
            decided = False
            for candidate in plan.candidates:
                trial = facts.replaced(key, candidate)
                changed = dict(outcomes)
                for item in plan.affected:
                    changed[item.id] = evaluate_item(item, trial)
                if status_of(spec, changed, trial) != "indeterminate":
                    decided = True
                    break
        if decided:
            found.append(key)
    if not found:  # only jointly decisive: every missing input is needed
        found = [k for k in result.missing if k not in SLOW_TESTS]
    return found


# Count rules: the item roles that form one counted part, and the rule key giving how many it needs.
COUNTED_PARTS = (
    ("companion", "companions_required"),
    ("clinical", "clinical_required"),
    ("laboratory", "laboratory_required"),
)


def relevant_keys(iid: str, result: CriterionResult, outcomes: dict[str, Outcome]) -> list[str]:
    """Missing inputs of an indeterminate instrument that can still change its status.

    Every rule is an AND of parts (entry and mandatory items, counted parts, or one sum), so once
    the instrument is undecided, an undecided item matters unless its counted part is already
    decided (the 2016 companions when two are met): with the other parts possible, entering it can
    tip the result. Supportive items are never counted. Unlike `decisive_keys`, inputs that decide
    only together are included: what a clinician orders, not what completes a score.
    """
    if result.status != "indeterminate":
        return []
    spec = INSTRUMENTS[iid].spec
    settled: set[str] = set()
    for role, rule_key in COUNTED_PARTS:
        ids = by_role(spec, role)
        required = spec.rule.get(rule_key)
        if ids and required is not None and at_least([outcomes[i].result for i in ids], int(required)) != MISSING:
            settled.update(ids)
    found: dict[str, None] = {}
    for item in spec.items:
        outcome = outcomes[item.id]
        if item.role == "supportive" or item.id in settled:
            continue
        if outcome.result == MISSING or outcome.lo != outcome.hi:
            for key in outcome.missing or item_keys(item):
                if key in result.missing and key not in SLOW_TESTS:
                    found.setdefault(key)
    return list(found)
