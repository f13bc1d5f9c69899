"""Combination rules: how an instrument's item outcomes make its status and score, each defined once.

A rule is named by the `rule: {type: ...}` of an instrument's YAML: `count` (every item of some roles
met and at least n of others: 2016 criteria, HLH-2004 with its molecular override, Parodi 2009,
OHI), `points` (a sum of points with a range while items are undecided: HScore, MH score),
`weighted_sum` (linear terms summed exactly and rounded before the cut-off: MS score) and `ratio`
(one ratio item: ferritin:ESR). Each works for one patient and for a cohort (see `ops`).

For next tests a rule also keeps a small `tally` of its items (counts per group, or the sum's bounds)
from which its status follows, so the status with one item's outcome swapped is found without
combining every item again. A tally is a tuple: for one patient, a status found once per tally.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mas_screen.domain.units import format_number, format_threshold
from mas_screen.kernel.kinds.base import SYMBOL, Item
from mas_screen.kernel.logic import Interval, and3, at_least_counts, compare
from mas_screen.kernel.ops import MET, MISSING

if TYPE_CHECKING:
    from mas_screen.criteria.schema import CountRule, InstrumentSpec


@dataclass(slots=True)
class Verdict:
    """An instrument's result from the kernel (scalars for one patient, arrays for a cohort)."""

    status: object
    outs: list  # item outcomes, in item order
    score: object = None  # one patient: the number or None; a cohort: floats with NaN for none
    score_range: object = None  # points: [lo, hi] while undecided (cohort: lo, hi arrays, NaN when complete)
    score_bounds: object = None  # weighted sum: [lo, hi] at 2 dp while inputs are missing
    count_met: object = None
    count_assessable: object = None
    probability: object = None  # (low, high, label) from a published table (HScore)
    additional: list = field(default_factory=list)  # (Cutoff, status) beside the main cut-off
    at_cutoff: object = False
    extra_missing: list = field(default_factory=list)  # (key, condition) beyond the items' own
    tally: object = None  # the rule's tally of `outs` (next tests start from it); every rule's combine sets it


def _number(value):
    return int(value) if float(value).is_integer() else value


class Rule:
    """The shape every combination rule shares."""

    type: str
    reads: frozenset[str] = frozenset()  # inputs `status_of` reads beside the tally (an override)
    tally_recurs = True  # tallies repeat between patients (counts, whole points): worth remembering

    def __init__(self, spec: InstrumentSpec, items: tuple[Item, ...]):
        self.spec = spec
        self.items = items

    def combine(self, v, outs: list) -> Verdict:  # pragma: no cover - each rule implements it
        raise NotImplementedError

    def tally(self, ops, outs: list):  # pragma: no cover
        raise NotImplementedError

    def swapped(self, ops, tally, index: int, old, new):  # pragma: no cover
        """The tally with item `index`'s outcome `old` replaced by `new`."""
        raise NotImplementedError

    def settled(self, ops, tally) -> dict[int, object]:
        """Items whose part of the rule is already decided (none, unless a count rule says so)."""
        return {}

    def status_of(self, ops, tally, v):  # pragma: no cover
        raise NotImplementedError

    def rule_text(self) -> str:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def at_cutoff(ops, outs: list):
        """Whether an entered value lies exactly on an item's threshold (a caveat's `when`)."""
        found = ops.false
        for o in outs:
            found = found | o.at_cutoff
        return found


class Count(Rule):
    """Every item of the `all_of` roles met, and at least n of each `at_least` role; a 'yes' to the
    override field meets it on its own. Counts over the `counted` roles."""

    type = "count"

    def __init__(self, spec, items):
        super().__init__(spec, items)
        rule: CountRule = spec.rule
        roles = [i.role for i in items]
        gated = [i for i, role in enumerate(roles) if role in rule.all_of]
        self.groups: list[tuple[tuple[int, ...], int]] = [(tuple(gated), len(gated))] if gated else []
        self.counted_groups = range(len(self.groups), len(self.groups) + len(rule.at_least))  # at-least parts
        for role, required in rule.at_least.items():
            self.groups.append((tuple(i for i, r in enumerate(roles) if r == role), required))
        self.holding = {
            i: tuple(g for g, (indices, _) in enumerate(self.groups) if i in indices) for i in range(len(items))
        }
        self.counted = None if rule.counted is None else tuple(i for i, r in enumerate(roles) if r in rule.counted)
        self.override = rule.override
        self.reads = frozenset() if rule.override is None else frozenset({rule.override})

    def tally(self, ops, outs):
        out = []
        for indices, _required in self.groups:
            results = [outs[i].result for i in indices]
            out.append((ops.count_equal(results, MET), ops.count_equal(results, MISSING)))
        return tuple(out)

    def swapped(self, ops, tally, index, old, new):
        out = list(tally)
        for g in self.holding[index]:  # the groups holding the item
            met, undecided = out[g]
            out[g] = (
                met - (old.result == MET) + (new.result == MET),
                undecided - (old.result == MISSING) + (new.result == MISSING),
            )
        return tuple(out)

    def settled(self, ops, tally) -> dict[int, object]:
        """Items of an at-least part that is already decided (two companions met): entering them
        cannot change the instrument, whatever they are."""
        out: dict[int, object] = {}
        for g in self.counted_groups:
            indices, required = self.groups[g]
            met, undecided = tally[g]
            decided = at_least_counts(ops, met, undecided, required) != MISSING
            for i in indices:
                out[i] = decided
        return out

    def status_of(self, ops, tally, v):
        parts = [
            at_least_counts(ops, met, undecided, required)
            for (_indices, required), (met, undecided) in zip(self.groups, tally, strict=True)
        ]
        status = and3(ops, parts)
        if self.override is not None:
            status = ops.where(v.flag(self.override) == 1, MET, status)
        return status

    def combine(self, v, outs):
        ops = v.ops
        tally = self.tally(ops, outs)
        verdict = Verdict(self.status_of(ops, tally, v), outs, tally=tally)
        if self.counted is not None:
            results = [outs[i].result for i in self.counted]
            verdict.count_met = ops.count_equal(results, MET)
            verdict.count_assessable = len(results) - ops.count_equal(results, MISSING)
        if v.explain:
            verdict.at_cutoff = self.at_cutoff(ops, outs)
            if self.override is not None:
                verdict.extra_missing = [(self.override, v.flag(self.override) < 0)]
        return verdict

    def rule_text(self) -> str:
        """The decision rule in a few words: 'fever + ferritin > 684 + ≥ 2 of 4 others', '≥ 5 of 8',
        '≥ 1 clinical + ≥ 2 laboratory', 'all items met'."""
        rule: CountRule = self.spec.rule
        items = self.items
        gates = [i for i in items if i.role in rule.all_of]
        if gates and len(gates) == len(items):
            text = "all items met"
        else:
            parts = []
            for item in gates:
                if item.kind == "fever":
                    parts.append("fever")
                elif item.spec.analyte is not None:
                    sym = SYMBOL[item.spec.comparator]
                    parts.append(f"{item.spec.analyte} {sym} {format_number(item.spec.threshold)}")
            sizes = {role: sum(1 for i in items if i.role == role) for role in rule.at_least}
            if parts:
                parts += [f"≥ {n} of {sizes[role]} others" for role, n in rule.at_least.items()]
            elif len(rule.at_least) == 1:
                ((role, n),) = rule.at_least.items()
                parts.append(f"≥ {n} of {sizes[role]}")
            else:
                parts += [f"≥ {n} {role}" for role, n in rule.at_least.items()]
            text = " + ".join(parts)
        if rule.override_label:
            text += f" (or {rule.override_label})"
        return text


class Points(Rule):
    """Points summed; a [lowest, highest] range while items are undecided; status from the cut-off."""

    type = "points"

    def tally(self, ops, outs):
        return (sum(o.lo for o in outs), sum(o.hi for o in outs))

    def swapped(self, ops, tally, index, old, new):
        lo, hi = tally
        return (lo - old.lo + new.lo, hi - old.hi + new.hi)

    def status_of(self, ops, tally, v):
        cut = self.spec.cutoff
        return compare(ops, Interval(*tally), cut.comparator, cut.value)

    def combine(self, v, outs):
        ops = v.ops
        lo, hi = self.tally(ops, outs)
        verdict = Verdict(self.status_of(ops, (lo, hi), v), outs, tally=(lo, hi))
        if ops.array:
            complete = lo == hi
            verdict.score = ops.where(complete, lo, float("nan"))
            verdict.score_range = (ops.where(complete, float("nan"), lo), ops.where(complete, float("nan"), hi))
            return verdict
        if lo == hi:
            verdict.score = _number(lo)
            if self.spec.probability is not None:
                verdict.probability = probability(verdict.score, self.spec.probability)
        else:
            verdict.score_range = [_number(lo), _number(hi)]
        verdict.at_cutoff = self.at_cutoff(ops, outs)
        return verdict

    def rule_text(self) -> str:
        cut = self.spec.cutoff
        return f"{SYMBOL[cut.comparator]} {format_threshold(cut.value)}"


def probability(score: float, table) -> tuple:
    """(low %, high %, label) from the published table only: exactly on a tabulated score its value,
    between two the bracket of the two, and the table's edge labels beyond it."""
    if score <= table.at_or_below:
        e = table.at_or_below_edge
        return (e.low_percent, e.high_percent, e.label)
    if score >= table.at_or_above:
        e = table.at_or_above_edge
        return (e.low_percent, e.high_percent, e.label)
    points = table.points
    if score < points[0][0]:
        e = table.below_first_point
        return (e.low_percent, e.high_percent, e.label)
    if score > points[-1][0]:
        e = table.above_last_point
        return (e.low_percent, e.high_percent, e.label)
    for (s_lo, p_lo), (s_hi, p_hi) in itertools.pairwise(points):
        if score == s_lo:
            return (p_lo, p_lo, f"{format_number(p_lo)}%")
        if s_lo < score < s_hi:
            return (p_lo, p_hi, f"{format_number(p_lo)}–{format_number(p_hi)}%")
    p_last = points[-1][1]
    return (p_last, p_last, f"{format_number(p_last)}%")


class WeightedSum(Points):
    """Linear terms summed exactly, rounded half-up at `score_round_places` before the cut-off; with
    inputs missing, decided when every plausible value lands on one side (the sum's bounds)."""

    type = "weighted_sum"
    tally_recurs = False  # the sum's bounds follow each patient's exact values

    def status_of(self, ops, tally, v):
        cut, places = self.spec.cutoff, self.spec.score_round_places
        return v.exact_ops.weighted_status(None, *tally, cut.comparator, cut.value, places)

    def combine(self, v, outs):
        ops, spec = v.ops, self.spec
        exact_ops, places = v.exact_ops, spec.score_round_places
        lo, hi = self.tally(ops, outs)
        exact, score, bounds = exact_ops.weighted_sum(outs, lo, hi, places)
        cut = spec.cutoff
        status = exact_ops.weighted_status(exact, lo, hi, cut.comparator, cut.value, places)
        verdict = Verdict(status, outs, tally=(lo, hi))
        verdict.score, verdict.score_bounds = score, bounds
        if not ops.array:  # the cohort has no column for them
            verdict.additional = [
                (extra, exact_ops.weighted_status(exact, lo, hi, extra.comparator, extra.value, places))
                for extra in spec.additional_cutoffs
                if extra.applies_to_diseases is None or v.disease in extra.applies_to_diseases
            ]
        return verdict


class Ratio(Rule):
    """One ratio item decides; the ratio is shown half-up at `score_round_places`."""

    type = "ratio"

    def __init__(self, spec, items):
        super().__init__(spec, items)
        items[0].places = spec.score_round_places

    def tally(self, ops, outs):
        return outs[0].result

    def swapped(self, ops, tally, index, old, new):
        return new.result

    def status_of(self, ops, tally, v):
        return tally

    def combine(self, v, outs):
        (ratio,) = outs
        score = v.exact_ops.ratio_score(ratio.exact, self.spec.score_round_places)
        verdict = Verdict(ratio.result, outs, score=score, tally=ratio.result)
        verdict.at_cutoff = ratio.at_cutoff
        return verdict

    def rule_text(self) -> str:
        cut = self.spec.cutoff
        return f"{SYMBOL[cut.comparator]} {format_threshold(cut.value)}"


# By the rule's `type` (its YAML discriminator), which the validated rule and its plain copy both carry.
RULES: dict[str, type[Rule]] = {"count": Count, "points": Points, "weighted_sum": WeightedSum, "ratio": Ratio}


def compile_rule(spec: InstrumentSpec, items: tuple[Item, ...]) -> Rule:
    return RULES[spec.rule.type](spec, items)


__all__ = ["RULES", "Count", "Points", "Ratio", "Rule", "Verdict", "WeightedSum", "compile_rule", "probability"]
