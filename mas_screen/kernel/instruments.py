"""Instruments assembled from criteria/*.yaml: compiled items plus their combination rule.

`instruments()` compiles every instrument file once per loaded criteria (a new YAML file that uses
existing item kinds and combination rules is a new instrument here, in `assess()` and in the cohort,
with no code touched). `Instrument.evaluate` runs on one patient or a cohort; `missing` and
`decisive` give, for one patient or for every row, the inputs not entered and the ones that,
entered alone, could decide an open instrument (next tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from mas_screen.criteria.errors import CriteriaDataError
from mas_screen.criteria.loading import criteria
from mas_screen.kernel.combine import Rule, Verdict, compile_rule
from mas_screen.kernel.kinds import Item, compile_item
from mas_screen.kernel.ops import MISSING
from mas_screen.kernel.remember import remember
from mas_screen.kernel.values import PatientValues, candidates

if TYPE_CHECKING:
    from mas_screen.criteria.schema import InstrumentSpec
    from mas_screen.criteria.validation import CriteriaData


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """How to try one missing input of one instrument (next tests), fixed by the spec alone."""

    affected: tuple[int, ...]  # the items that read the key
    knowable: bool  # one item reads it, and its outcome at the key's ends follows from its outcome now
    others: tuple[frozenset[str], ...] = ()  # per affected item, the other inputs it reads


_RULE_ONLY = KeyPlan((), False)  # an input only the rule reads (an override)


class Instrument:
    """One published instrument, compiled: its spec, items and combination rule."""

    def __init__(self, spec: InstrumentSpec):
        self.spec = spec
        self.id = spec.id
        self.items: tuple[Item, ...] = tuple(compile_item(item) for item in spec.items)
        self.rule: Rule = compile_rule(spec, self.items)
        keys: dict[str, None] = {}
        for item in self.items:
            keys.update(dict.fromkeys(sorted(item.keys)))
        self.keys: tuple[str, ...] = tuple(keys)  # every input it reads, item by item
        # (index, item) of the items that count (supportive ones never change the status)
        self.counting = tuple((i, item) for i, item in enumerate(self.items) if item.role != "supportive")
        self.integer_points = self.rule.type == "points" and all(
            float(x).is_integer() for x in _point_numbers(spec.items)
        )  # the score and its range are whole numbers
        self.plans: dict[str, KeyPlan] = {}
        for key in self.keys:
            affected = tuple(i for i, item in enumerate(self.items) if key in item.keys)
            knowable = len(affected) == 1 and self.items[affected[0]].knowable(key)
            others = tuple(self.items[i].keys - {key} for i in affected)
            self.plans[key] = KeyPlan(affected, knowable, others)
        self._blank: tuple | None = None
        self._blank_tried: dict = {}  # (item, key, value) → outcome on an empty form with only that input
        self._decided: dict = {}  # (key, tally, the rule's own inputs) → decides, items as on an empty form (bounded)

    def evaluate(self, v) -> Verdict:
        items = self.items
        if v.ops.array or not v.explain:  # a cohort, or a next-test trial (its items read the input tried)
            return self.rule.combine(v, [item.evaluate(v) for item in items])
        blank, entered = self.blank_outcomes(), v.entered_keys()
        outs = [
            out if item.keys.isdisjoint(entered) else item.evaluate(v) for item, out in zip(items, blank, strict=True)
        ]
        return self.rule.combine(v, outs)

    def blank_outcomes(self) -> tuple:
        """Each item's outcome for one patient with none of the item's inputs entered. An item reads
        nothing but its inputs, so this is the same for every such patient: evaluated once per
        compiled instrument, on an empty form (outcomes are never changed once made)."""
        if self._blank is None:
            empty = PatientValues.empty()
            self._blank = tuple(item.evaluate(empty) for item in self.items)
        return self._blank

    def _blank_trial(self, i: int, key: str, value):
        """Item i's outcome in a next-test trial of `key` at `value` when it reads no other input
        entered: its outcome on an empty form with only that input (once per compiled instrument)."""
        return remember(
            self._blank_tried,
            (i, key, value),
            lambda: self.items[i].evaluate(PatientValues.empty().replaced(key, value)),
        )

    def _blank_ends(self, ops, i: int, key: str):
        """The extremes of item i's outcome on an empty form as `key` moves (once per compiled instrument)."""
        return remember(
            self._blank_tried, (i, key), lambda: tuple(self.items[i].extremes(ops, self.blank_outcomes()[i], key))
        )

    def rule_text(self) -> str:
        return self.rule.rule_text()

    # -------------------------------------------------------------------------------- one patient

    @staticmethod
    def missing(verdict: Verdict) -> list[str]:
        """Input keys the items list as missing (first mention first), then the rule's own."""
        seen: dict[str, None] = {}
        for out in verdict.outs:
            for key, listed in out.missing:
                if listed:
                    seen[key] = None
        return list(seen) + [key for key, listed in verdict.extra_missing if listed]

    def decides(self, v, outs: list, tally, key: str, statuses: dict | None = None):
        """Whether entering `key` alone could decide the instrument (a bool, or one per row).

        Every item is monotone in each input, so trying the input at the two ends of its plausible
        range is enough. An item that reads only that input gives its least and greatest outcome from
        the outcome already computed; items reading several inputs are evaluated again at the two
        ends. The rule decides from its tally with those outcomes swapped in. `statuses` (one patient):
        tally → status already found for this patient (inputs of one group often swap alike).
        """
        ops, rule = v.ops, self.rule
        # One patient (not a trial): an item reading no other input entered moves as on an empty form.
        entered = None if ops.array or not v.explain else v.entered_keys()
        if entered is None or not rule.tally_recurs:
            return self._decides(v, outs, tally, key, statuses, self.plans.get(key) or _RULE_ONLY, entered)
        return self._remembered(v, outs, tally, key, statuses, entered, tuple(v.flag(name) for name in rule.reads))

    def _remembered(self, v, outs: list, tally, key: str, statuses: dict, entered, reads: tuple):
        """`decides` for one patient (`reads`: the patient's answers to the rule's own inputs).

        When every item the input moves is as on an empty form, the answer follows from the tally
        and the rule's own inputs alone, the same for every patient with them: remembered per
        compiled instrument (most patients repeat a few tallies)."""
        plan = self.plans.get(key) or _RULE_ONLY
        blank = self.blank_outcomes()
        for i in plan.affected:
            if outs[i] is not blank[i]:
                return self._decides(v, outs, tally, key, statuses, plan, entered)
        return remember(
            self._decided, (key, tally, *reads), lambda: self._decides(v, outs, tally, key, statuses, plan, entered)
        )

    def _decides(self, v, outs: list, tally, key: str, statuses: dict | None, plan: KeyPlan, entered):
        ops, rule = v.ops, self.rule
        decided = ops.false
        if plan.knowable:
            (i,) = plan.affected
            if entered is not None and outs[i] is self.blank_outcomes()[i]:
                extremes = self._blank_ends(ops, i, key)
            else:
                extremes = self.items[i].extremes(ops, outs[i], key)
            for end in extremes:
                changed = rule.swapped(ops, tally, i, outs[i], end)
                decided = decided | (self._status(ops, changed, v, statuses) != MISSING)
                if decided is True:  # one patient: the first end decides it, the other need not be tried
                    break
            return decided
        reads = key in rule.reads  # the status itself reads this input: the trial's differs
        if reads:
            statuses = None
        for candidate in candidates(key):
            trial = v.replaced(key, candidate) if reads or entered is None else None
            changed = tally
            for i, others in zip(plan.affected, plan.others, strict=True):
                if entered is not None and others.isdisjoint(entered):
                    new = self._blank_trial(i, key, candidate)
                else:
                    if trial is None:
                        trial = v.replaced(key, candidate)
                    new = self.items[i].evaluate(trial)
                changed = rule.swapped(ops, changed, i, outs[i], new)
            decided = decided | (self._status(ops, changed, v if trial is None else trial, statuses) != MISSING)
            if decided is True:
                break
        return decided

    def _status(self, ops, tally, v, statuses: dict | None):
        """The rule's status at `tally`; for one patient found once per tally (`statuses`)."""
        if statuses is None:
            return self.rule.status_of(ops, tally, v)
        status = statuses.get(tally)
        if status is None:
            status = statuses[tally] = self.rule.status_of(ops, tally, v)
        return status

    def relevant(self, v, verdict: Verdict, missing: dict, skip: frozenset[str] = frozenset()) -> dict:
        """key → where the input can still change this open instrument (a bool, or one per row).

        Every rule is an AND of parts (gates, counted parts, or one sum), so an undecided item matters
        unless its counted part is already decided; supportive items never count. Unlike `decides`,
        inputs that decide only together are included: what a clinician orders, not only what
        completes a score. `missing`: key → where it is among the instrument's missing inputs.
        """
        ops = v.ops
        not_, false = ops.not_, ops.false
        open_ = verdict.status == MISSING
        settled = self.rule.settled(ops, verdict.tally)
        found: dict = {}
        outs = verdict.outs
        for i, item in self.counting:
            out = outs[i]
            take = open_ & not_(settled.get(i, false)) & ((out.result == MISSING) | (out.lo != out.hi))
            if take is False:  # one patient, an item that cannot change it: its inputs keep their place only
                for key, _rows in out.missing:
                    if key in missing and key not in skip:
                        found.setdefault(key, False)
                for key in item.keys:
                    if key in missing and key not in skip:
                        found.setdefault(key, False)
                continue
            listed = false
            for key, rows in out.missing:
                listed = listed | rows
                if key in missing and key not in skip:
                    found[key] = found.get(key, false) | (take & rows & missing[key])
            for key in item.keys:  # an undecided item that lists nothing: any of its inputs
                if key in missing and key not in skip:
                    found[key] = found.get(key, false) | (take & not_(listed) & missing[key])
        return found

    def decisive(self, v, verdict: Verdict, missing: list[str], skip: frozenset[str] = frozenset()) -> list[str]:
        """One patient's missing inputs that alone could decide this (open) instrument, in the order
        of `missing`; all of them when they decide it only together (next tests)."""
        tally = verdict.tally
        statuses: dict = {}
        outs = verdict.outs
        if v.ops.array or not v.explain or not self.rule.tally_recurs:
            found = [key for key in missing if key not in skip and self.decides(v, outs, tally, key, statuses)]
        else:  # what `decides` works out per key, once for all of them
            entered, reads = v.entered_keys(), tuple(v.flag(name) for name in self.rule.reads)
            found = [
                key
                for key in missing
                if key not in skip and self._remembered(v, outs, tally, key, statuses, entered, reads)
            ]
        return found or [k for k in missing if k not in skip]


def _point_numbers(items):
    for item in items:
        yield from [item.points] if item.points is not None else []
        yield from (item.points_by_count or {}).values()
        yield from (item.organ_points or {}).values()
        yield from (b.points for b in item.bands or [])
        yield from _point_numbers(item.sub_items())


_COMPILED: tuple[CriteriaData, dict[str, Instrument]] | None = None


def instruments() -> dict[str, Instrument]:
    """Every instrument of the loaded criteria, compiled once (again after the criteria reload)."""
    global _COMPILED
    data = criteria()
    if _COMPILED is None or _COMPILED[0] is not data:
        _COMPILED = (data, compile_all(data))
    return _COMPILED[1]


def compile_all(data: CriteriaData) -> dict[str, Instrument]:
    """Compile every instrument of loaded criteria and check what only compiled items can tell:
    every input an instrument reads sits in a next-test tier (policy.yaml). CriteriaDataError else."""
    compiled = {iid: Instrument(spec) for iid, spec in data.instruments.items()}
    tiered = {k for tier in data.policy.next_test_tiers for k in tier.keys}
    for iid, instrument in compiled.items():
        untiered = sorted(set(instrument.keys) - tiered)
        if untiered:
            raise CriteriaDataError(
                f"policy.yaml: field next_test_tiers: {iid} reads {', '.join(untiered)}, which no tier lists"
            )
    return compiled


T = TypeVar("T")


def per_criteria(compute: Callable[[], T]) -> Callable[[], T]:
    """Remember a table derived from the instruments alone until the criteria are loaded again
    (tables for figures, what-if and columns: worked out once, never stale)."""
    slot: list = [None, None]

    def remembered() -> T:
        compiled = instruments()
        if slot[0] is not compiled:
            slot[0], slot[1] = compiled, compute()
        return slot[1]

    remembered.__doc__ = compute.__doc__
    remembered.__name__ = compute.__name__
    return remembered


__all__ = ["Instrument", "KeyPlan", "compile_all", "instruments", "per_criteria"]
