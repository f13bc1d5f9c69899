"""One way to say an instrument's result, for every face.

A status or item result in words and a mark (the mark survives black-and-white print and
colour-blindness), and the result as a short phrase: the score, its range while items are missing,
the side of the cut-off it lies on whatever the missing or bounded values, or the count met. Cards,
the text report, the PDF, the CDS Hooks detail, trend hovers, score gauges and teaching feedback
all phrase a result here; a face adds only its own emphasis (bold, capitals, colour).
"""

from __future__ import annotations

from collections.abc import Callable

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import CriterionResult, ItemResult
from mas_screen.domain.units import format_number, pretty_unit
from mas_screen.explain.score_display import minus, shown_score
from mas_screen.kernel.logic import NEGATION, SYMBOL

STATUS_MARK = {"met": "●", "not_met": "○", "indeterminate": "◐"}
STATUS_TEXT = {"met": "met", "not_met": "not met", "indeterminate": "indeterminate"}
STATUS_WORDS = {s: f"{STATUS_MARK[s]} {STATUS_TEXT[s]}" for s in STATUS_MARK}  # "● met"
RESULT_MARK = {"met": "●", "not_met": "○", "missing": "?"}
RESULT_TEXT = {"met": "met", "not_met": "not met", "missing": "missing"}
RESULT_WORDS = {s: f"{RESULT_MARK[s]} {RESULT_TEXT[s]}" for s in RESULT_MARK}  # "? missing"

WHATEVER = "whatever the missing or bounded values"  # a status decided before the score is known
NOT_YET = "not computable yet"


def _plain(text: str) -> str:
    return text


def noun(r: CriterionResult) -> str:
    """What the instrument computes: a ratio (its rule says so), else a score."""
    spec = criteria().instruments.get(r.id)
    return "ratio" if spec is not None and spec.rule.type == "ratio" else "score"


def score_value(r: CriterionResult) -> str | None:
    """The score as shown ("−1.39"), or its range while items are missing ("12–97"), or None."""
    if r.score is not None:
        return shown_score(r)
    if r.score_range is not None:
        return minus(f"{format_number(r.score_range[0])}–{format_number(r.score_range[1])}")
    return None


def bound(r: CriterionResult) -> str | None:
    """For a status decided while the score is not known: the side it lies on ("≥ −1.39", or the
    cut-off's own side, "< 21.5"), else None."""
    if r.score is not None or r.score_range is not None or r.status == "indeterminate" or r.cutoff is None:
        return None
    spec = criteria().instruments.get(r.id)
    comparator = spec.cutoff.comparator if spec is not None and spec.cutoff is not None else ">="
    if r.score_bounds is not None:  # the score's own bounds (inclusive) say more than the cut-off
        lo, hi = r.score_bounds
        high = (r.status == "met") == comparator.startswith(">")
        return minus(f"≥ {format_number(lo)}" if high else f"≤ {format_number(hi)}")
    side = comparator if r.status == "met" else NEGATION[comparator]
    return minus(f"{SYMBOL[side]} {format_number(r.cutoff)}")


def entered(item: ItemResult) -> str | None:
    """What was entered for an item, and the same value in the rule's unit when the number changes
    with it ("2.5 mmol/L = 221.4 mg/dL", so it reads against "> 156 mg/dL"); "150 ×10³/µL" and
    "150 ×10⁹/L" are one number, shown once. None when nothing was entered."""
    if not item.display:
        return None
    value = item.value_text
    if not value and item.value is not None:
        value = f"{format_number(item.value)} {pretty_unit(item.unit)}".strip()
    if value and value.split(" ")[0] != item.display.split(" ")[0]:
        return f"{item.display} = {value}"
    return item.display


def typeset(text: str) -> str:
    """Reading typography for texts written in ASCII in the data (caveats, labels): a true minus
    (−2.1), and ≥ ≤ for >= <=. Printed and terminal faces use it; the JSON keeps the data's text."""
    return minus(text.replace(">=", "≥").replace("<=", "≤"))


def extra_cutoff(cut) -> str:
    """An additional cut-off of a result ("AOSD (Yao 2021) cut-off ≥ −1.74"), as every face writes it."""
    return minus(f"{cut.label} cut-off {SYMBOL[cut.comparator]} {format_number(cut.cutoff)}")


def result_phrase(
    r: CriterionResult, strong: Callable[[str], str] = _plain, cutoff: bool = True, open_: bool = False
) -> str:
    """The result in a short phrase: "score −1.39 (cut-off ≥ −2.1)", "score range 12–97",
    "score ≥ −1.39 whatever the missing or bounded values", "3 met of 4 assessable"; "" when there is
    nothing to say beyond the status ("score not computable yet" with `open_`, for a score or ratio).
    `strong` marks the number (bold on a card); `cutoff` adds the cut-off when the phrase does not
    already state the side."""
    name = noun(r)
    side = None
    if r.score is not None:
        text = f"{name} {strong(shown_score(r) or '')}"
    elif r.score_range is not None:
        text = f"{name} range {strong(score_value(r) or '')}"
    elif (side := bound(r)) is not None:
        text = f"{name} {strong(side)} {WHATEVER}"
    elif r.count_met is not None:
        text = f"{strong(str(r.count_met))} met of {r.count_assessable} assessable"
    elif open_ and r.cutoff is not None:
        text = f"{name} {NOT_YET}"
    else:
        return ""
    if cutoff and side is None and r.cutoff_label:
        text += f" (cut-off {r.cutoff_label})"
    if r.probability is not None:
        text += f"; probability {strong(r.probability.label)}"
    return minus(text)


__all__ = [
    "NOT_YET",
    "RESULT_MARK",
    "RESULT_TEXT",
    "RESULT_WORDS",
    "STATUS_MARK",
    "STATUS_TEXT",
    "STATUS_WORDS",
    "WHATEVER",
    "bound",
    "entered",
    "extra_cutoff",
    "noun",
    "result_phrase",
    "score_value",
    "typeset",
]
