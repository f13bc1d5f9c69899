"""What every instrument shares: running its items, population fit, caveats and the result card.

An instrument module supplies only `combine()`: how its items' outcomes make a status (and score).
Keeping the combination separate from item evaluation lets the engine ask "would entering this
one value decide the instrument?" by re-running just the affected items.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from mas_screen.criteria_data import InstrumentSpec, ItemSpec, UnitSpec, criteria
from mas_screen.facts import Facts, unit_spec
from mas_screen.intervals import MET, MISSING, NOT_MET, Interval, compare, round_half_up
from mas_screen.models import BOOLEAN_FIELDS, AdditionalCutoff, CriterionResult, ItemResult, Probability, build
from mas_screen.references import short_citation
from mas_screen.rules.items import Outcome, evaluate_item, item_keys, per_item, threshold_text
from mas_screen.units import format_number, format_threshold, pretty_unit

STATUS = {MET: "met", NOT_MET: "not_met", MISSING: "indeterminate"}
SYMBOL = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


@dataclass(slots=True)
class Combined:
    status: str  # met / not_met / indeterminate
    score: int | float | None = None
    score_range: list[int | float] | None = None
    score_bounds: list[float] | None = None
    count_met: int | None = None
    count_assessable: int | None = None
    probability: Probability | None = None
    additional: list[AdditionalCutoff] = field(default_factory=list)
    at_cutoff: bool = False
    extra_missing: tuple[str, ...] = ()  # inputs outside the items (the HLH molecular diagnosis)


Combine = Callable[[InstrumentSpec, dict[str, Outcome], Facts], Combined]


def evaluate_items(spec: InstrumentSpec, facts: Facts) -> dict[str, Outcome]:
    return {item.id: evaluate_item(item, facts) for item in spec.items}


_ROLES: dict[tuple[str, str], tuple[str, ...]] = {}


def by_role(spec: InstrumentSpec, role: str) -> tuple[str, ...]:
    """Ids of the instrument's items with a given role, in order (cached)."""
    found = _ROLES.get((spec.id, role))
    if found is None:
        found = _ROLES[(spec.id, role)] = tuple(i.id for i in spec.items if i.role == role)
    return found


def count_rule(outcomes: list[Outcome]) -> tuple[int, int]:
    """(met, assessable) over a list of outcomes."""
    met = sum(1 for o in outcomes if o.result == MET)
    assessable = sum(1 for o in outcomes if o.result != MISSING)
    return met, assessable


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def points_status(spec: InstrumentSpec, lo: float, hi: float) -> str:
    """Status of a point score known to lie in [lo, hi]."""
    cut = spec.cutoff
    return STATUS[compare(Interval(lo, hi), cut.comparator, cut.value)]


def point_status(spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
    """The status `point_score` gives, without its score (asked many times for next tests)."""
    return points_status(spec, sum(o.lo for o in outcomes.values()), sum(o.hi for o in outcomes.values()))


def point_score(spec: InstrumentSpec, outcomes: dict[str, Outcome]) -> Combined:
    """Sum of points with a range while items are undecided; status from the cut-off (HScore, MH)."""
    lo = sum(o.lo for o in outcomes.values())
    hi = sum(o.hi for o in outcomes.values())
    status = points_status(spec, lo, hi)
    if lo == hi:
        return Combined(status, score=_number(lo))
    return Combined(status, score_range=[_number(lo), _number(hi)])


# ------------------------------------------------------------------------------ population/caveats


def population_fit(spec: InstrumentSpec, facts: Facts) -> str:
    pop = spec.population
    verdicts: list[str] = []
    if pop.diseases is not None:
        if facts.disease in pop.diseases:
            verdicts.append("validated")
        else:
            verdicts.append("unknown" if facts.disease == "unknown" else "outside")
    if pop.age_min_years is not None or pop.age_max_years is not None:
        age = facts.numbers.get("age_years")
        if age is None:
            verdicts.append("unknown")
        elif (pop.age_min_years is not None and age < pop.age_min_years) or (
            pop.age_max_years is not None and age >= pop.age_max_years
        ):
            verdicts.append("outside")
        else:
            verdicts.append("validated")
    if pop.requires_field is not None:
        value = facts.flags.get(pop.requires_field)
        verdicts.append("unknown" if value is None else "validated" if value else "outside")
    if "outside" in verdicts:
        return "outside"
    if "unknown" in verdicts:
        return "unknown"
    return "validated"


_CAVEATS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}


def _formatted_caveats(spec: InstrumentSpec) -> list[tuple[str, str, tuple[str, ...]]]:
    found = _CAVEATS.get(spec.id)
    if found is None:
        found = _CAVEATS[spec.id] = [
            (cav.when, f"{cav.text} ({'; '.join(short_citation(k) for k in cav.references)})", tuple(cav.references))
            for cav in spec.caveats
        ]
    return found


class _Situation(NamedTuple):
    """Everything a caveat's `when` can depend on: caveats are chosen from this alone."""

    outside_population: bool
    biologic: str
    not_febrile: bool
    at_cutoff: bool
    molecular_unknown: bool
    aosd: bool


# When each caveat applies.
_CAVEAT_TESTS: dict[str, Callable[[_Situation], bool]] = {
    "always": lambda s: True,
    "outside_population": lambda s: s.outside_population,
    "biologic_il1": lambda s: s.biologic == "il1",
    "biologic_il6": lambda s: s.biologic == "il6",
    "biologic_il1_or_il6": lambda s: s.biologic in ("il1", "il6"),
    "not_febrile": lambda s: s.not_febrile,
    "at_cutoff": lambda s: s.at_cutoff,
    "molecular_unknown": lambda s: s.molecular_unknown,
    "aosd": lambda s: s.aosd,
}
_CHOSEN: dict[tuple[str, _Situation], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def caveats_for(spec: InstrumentSpec, facts: Facts, population: str, combined: Combined) -> tuple[list[str], list[str]]:
    """Caveat texts that apply, and the citation keys they add (chosen once per situation)."""
    situation = _Situation(
        population == "outside",
        facts.biologic,
        facts.flags.get("febrile") is False,
        combined.at_cutoff,
        facts.flags.get("hlh_molecular_diagnosis") is None,
        facts.disease == "aosd",
    )
    chosen = _CHOSEN.get((spec.id, situation))
    if chosen is None:
        texts: list[str] = []
        refs: list[str] = []
        for when, text, keys in _formatted_caveats(spec):
            test = _CAVEAT_TESTS.get(when)
            if test is not None and test(situation):
                texts.append(text)
                refs.extend(k for k in keys if k not in refs)
        chosen = _CHOSEN[(spec.id, situation)] = (tuple(texts), tuple(refs))
    return list(chosen[0]), list(chosen[1])


# ------------------------------------------------------------------------------------ item cards


_SCORED_KINDS = ("bands", "organomegaly")


@dataclass(frozen=True, slots=True)
class _CardPlan:
    """What an item's card needs from the spec alone, worked out once per item."""

    static: dict  # the card's fields that depend on the spec only
    target: UnitSpec | None  # the published unit of the item's lab
    scored: bool  # the card shows points once the item is decided


@per_item
def _card_plan(item: ItemSpec) -> _CardPlan:
    static = {
        "id": item.id,
        "label": item.label,
        "input": None,
        "value": None,
        "unit": item.unit
        if item.kind in ("threshold", "bands", "organ_size", "age_at_onset") or item.analyte
        else None,
        "threshold": threshold_text(item),
        "result": None,
        "points": None,
        "display": None,
        "value_text": None,
        "role": item.role,
        "counted": item.role != "supportive",
        "components": None,
        "source": item.source,
        "confirmation": item.confirmation,
        "note": item.note,
    }
    target = unit_spec(item.analyte, item.unit) if item.analyte is not None else None
    scored = item.points is not None or item.kind in _SCORED_KINDS or bool(item.points_by_count)
    return _CardPlan(static, target, scored)


def _yes_no(facts: Facts, names, strip: str = "") -> str | None:
    shown = [
        f"{n.replace(strip, '').replace('_', ' ')}: {'yes' if facts.flags[n] else 'no'}"
        for n in names
        if facts.flags.get(n) is not None
    ]
    return "; ".join(shown) or None


def _composite_display(kind: str, parts: list[ItemResult]) -> str | None:
    """'2 of 3 low (1 not entered)' for cytopenias; the entered values for an either-or item."""
    entered = [p for p in parts if p.result != "missing" or p.display]
    if not entered:
        return None
    if kind == "lineages":
        met = sum(1 for p in parts if p.result == "met")
        open_ = sum(1 for p in parts if p.result == "missing")
        return f"{met} of {len(parts)} low" + (f" ({open_} not entered)" if open_ else "")
    return "; ".join(f"{p.label} {p.display}" for p in entered if p.display)


_SHARED: dict[tuple, ItemResult] = {}


@per_item
def _flag_keys(item: ItemSpec) -> tuple[str, ...] | None:
    """The item's keys when it reads yes/no answers only (its card then depends on them alone)."""
    keys = item_keys(item)
    return tuple(sorted(keys)) if all(k in BOOLEAN_FIELDS for k in keys) else None


def describe_item(item: ItemSpec, outcome: Outcome, facts: Facts) -> ItemResult:
    """The item's card; shared between assessments when nothing but the outcome could change it.

    With none of its inputs entered the card depends on the outcome alone; for an item that reads
    only yes/no answers, on the outcome and those answers (each has three values). The key holds
    everything the card is made from, so a shared card is always the one `_describe` would make.
    Cards are frozen; the per-item caches hold each item, so an item's id is never reused.
    """
    if outcome.components is not None:
        return _describe(item, outcome, facts)
    if item_keys(item).isdisjoint(facts.entered()):
        key: tuple = (id(item), "blank", outcome.result, outcome.lo, outcome.hi)
    else:
        flag_keys = _flag_keys(item)
        if flag_keys is None:
            return _describe(item, outcome, facts)
        key = (id(item), "answers", outcome.result, outcome.lo, outcome.hi, outcome.exact)
        key += tuple(facts.flags.get(k) for k in flag_keys)
    card = _SHARED.get(key)
    if card is None:
        card = _SHARED[key] = _describe(item, outcome, facts)
    return card


def _describe(item: ItemSpec, outcome: Outcome, facts: Facts) -> ItemResult:
    plan = _card_plan(item)
    card = plan.static.copy()
    card["result"] = outcome.result
    kind = item.kind
    if plan.target is not None:  # threshold, bands, linear on a lab
        fact = facts.labs.get(item.analyte)
        if fact is not None:
            card.update(fact.card_fields(plan.target))
        elif item.analyte == "temperature" and facts.flags.get("febrile") is not None:
            card["display"] = "febrile (no temperature entered)" if facts.flags["febrile"] else "not febrile"
    elif kind in ("flag", "linear"):
        flag = facts.flags.get(item.field)
        if flag is not None:
            card["input"], card["display"] = {"value": flag}, "present" if flag else "absent"
    elif kind == "fever":
        febrile = facts.flags.get("febrile")
        temp = facts.labs.get("temperature")
        if febrile is not None:
            card["input"], card["display"] = {"value": febrile}, "febrile" if febrile else "not febrile"
        elif temp is not None:
            target = unit_spec("temperature", item.unit)
            card["input"], card["display"], card["unit"] = temp.echo, temp.display(), item.unit
            card["value_text"] = temp.display(target)
            card["value"] = temp.interval(target).lo if temp.exact else None
    elif kind in ("organ_size", "age_at_onset"):
        size = facts.numbers.get(item.size_field or item.field)
        if size is not None:
            card["value"], card["display"] = size, f"{format_number(size)} {pretty_unit(item.unit)}"
        elif kind == "organ_size" and facts.flags.get(item.field) is not None:
            card["display"] = "present, size not given" if facts.flags[item.field] else "absent"
        elif kind == "age_at_onset" and "age_years" in facts.numbers:
            card["display"] = f"current age {format_number(facts.numbers['age_years'])} years"
    elif kind == "ratio":
        if outcome.exact is not None:
            value = round_half_up(outcome.exact, 2)
            finite = math.isfinite(value)  # not when the ESR is a hair above 0: the ratio has no float
            card["value"] = value if finite else None
            card["display"] = format_number(value) if finite else "too large to show (ESR near 0)"
    elif kind == "organomegaly":
        card["display"] = _yes_no(facts, ("hepatomegaly", "splenomegaly"))
    elif kind == "any_flag":
        card["display"] = _yes_no(facts, item.fields, "hemophagocytosis_")

    if kind == "linear":
        if outcome.exact is not None:
            card["points"] = round_half_up(outcome.exact, 4)
    elif plan.scored and outcome.lo == outcome.hi:
        card["points"] = _number(outcome.lo)
    if outcome.components is not None:
        parts = [describe_item(sub, o, facts) for sub, o in zip(item.items, outcome.components, strict=True)]
        card["components"] = parts
        card["display"] = _composite_display(kind, parts)
    return build(ItemResult, card)


def missing_keys(outcomes: dict[str, Outcome]) -> list[str]:
    seen: dict[str, None] = {}
    for o in outcomes.values():
        for k in o.missing:
            seen.setdefault(k)
    return list(seen)


def cutoff_label(spec: InstrumentSpec) -> str | None:
    cut = spec.cutoff
    if cut is None:
        return None
    return f"{SYMBOL[cut.comparator]} {format_threshold(cut.value)}"


def build_result(
    spec: InstrumentSpec, facts: Facts, outcomes: dict[str, Outcome], combined: Combined
) -> CriterionResult:
    population = population_fit(spec, facts)
    caveats, caveat_refs = caveats_for(spec, facts, population, combined)
    refs = list(spec.references)
    for key in caveat_refs + [c.reference for c in combined.additional]:
        if key not in refs:
            refs.append(key)
    verdict = getattr(
        spec.verdicts,
        "met" if combined.status == "met" else "not_met" if combined.status == "not_met" else "indeterminate",
    )
    return build(
        CriterionResult,
        id=spec.id,
        name=spec.name,
        short_name=spec.short_name,
        version=spec.version,
        status=combined.status,
        verdict=verdict,
        score=combined.score,
        score_range=combined.score_range,
        score_bounds=combined.score_bounds,
        cutoff=spec.cutoff.value if spec.cutoff else None,
        cutoff_label=cutoff_label(spec),
        count_met=combined.count_met,
        count_assessable=combined.count_assessable,
        probability=combined.probability,
        items=[describe_item(item, outcomes[item.id], facts) for item in spec.items],
        missing=missing_keys(outcomes) + list(combined.extra_missing),
        next_tests=[],
        population=population,
        population_description=spec.population.description,
        caveats=caveats,
        references=refs,
        additional_cutoffs=combined.additional,
    )


@dataclass(frozen=True, slots=True)
class Instrument:
    """One published instrument: its id and how its items combine."""

    id: str
    combine: Combine
    # For additive scores: the status from the score's bounds alone (lets the engine test a
    # missing input in O(1) instead of re-combining every item).
    bounds_status: Callable[[InstrumentSpec, float, float], str] | None = None
    # The status alone, without counts or scores (the engine asks it many times for next tests).
    status: Callable[[InstrumentSpec, dict[str, Outcome], Facts], str] | None = None

    def status_of(self, spec: InstrumentSpec, outcomes: dict[str, Outcome], facts: Facts) -> str:
        if self.status is not None:
            return self.status(spec, outcomes, facts)
        return self.combine(spec, outcomes, facts).status

    @property
    def spec(self) -> InstrumentSpec:
        return criteria().instruments[self.id]

    def evaluate(self, facts: Facts) -> CriterionResult:
        spec = self.spec
        outcomes = evaluate_items(spec, facts)
        return build_result(spec, facts, outcomes, self.combine(spec, outcomes, facts))
