"""A small bounded memo for instrument statuses that read only their items' results.

Kept outside `rules/` (which holds no numbers but the criteria's): its size is an engineering bound.
"""

from __future__ import annotations

from collections.abc import Callable

from mas_screen.criteria_data import InstrumentSpec
from mas_screen.facts import Facts
from mas_screen.rules.items import Outcome

StatusFn = Callable[[InstrumentSpec, dict[str, Outcome], Facts], str]
MEMO_ENTRIES = 4096


def memo_by_results(status: StatusFn, size: int = MEMO_ENTRIES) -> StatusFn:
    """Memoise a status that reads only its items' results (met / not_met / missing, in item order).

    Next tests ask a count rule's status tens of times per patient, with few distinct patterns.
    The memo holds each spec it has seen, so an id it is keyed by is never reused; it is cleared
    when full, so it stays small however many patterns a long-running process meets.
    """
    memo: dict[tuple, str] = {}
    specs: dict[int, InstrumentSpec] = {}

    def memoised(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
        key = (id(spec), *[o.result for o in outcomes.values()])
        found = memo.get(key)
        if found is None:
            if len(memo) >= size:
                memo.clear()
            specs[id(spec)] = spec
            found = memo[key] = status(spec, outcomes, facts)
        return found

    return memoised
