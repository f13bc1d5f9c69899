"""How a score is shown to a reader (cards, PDF, text report, summary sentences, feedback).

The JSON keeps the computed value (the MS score at 4 dp). Readers see the MS score at 2 dp, as the
contract asks, except where 2 dp would put the shown number on the other side of the cut-off from
the status (−2.1049 is below −2.1 yet reads "−2.10"): then all 4 decimals are shown. Negative
numbers carry a true minus sign.
"""

from __future__ import annotations

from decimal import Decimal

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import CriterionResult
from mas_screen.domain.units import format_number
from mas_screen.kernel.exact import round_half_up
from mas_screen.kernel.logic import holds


def minus(text: str) -> str:
    """A true minus sign for a leading or free-standing '-' (−2.1, cut-off ≥ −2.1)."""
    text = text.replace(" -", " −").replace("(-", "(−")
    return "−" + text[1:] if text.startswith("-") else text


def shown_number(r: CriterionResult, value: float) -> str:
    spec = criteria().instruments.get(r.id)
    places = spec.display_places if spec is not None else None  # the MS score: 2 (contract)
    if places is not None:
        short = round_half_up(value, places)
        if r.cutoff is None or _side(short, r) == _side(value, r):
            return minus(f"{Decimal(repr(short)):.{places}f}")
    return minus(format_number(Decimal(repr(value))))


def shown_score(r: CriterionResult) -> str | None:
    """The score as a reader sees it, or None when there is no single score."""
    return None if r.score is None else shown_number(r, r.score)


def _side(value: float, r: CriterionResult) -> bool:
    cut = criteria().instruments[r.id].cutoff
    assert cut is not None
    return holds(Decimal(repr(value)), cut.comparator, Decimal(repr(cut.value)))
