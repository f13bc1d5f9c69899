"""What every instrument shares: running its items, population fit, caveats and the result card.

An instrument module supplies only `combine()`: how its items' outcomes make a status (and score).
Keeping the combination separate from item evaluation lets the engine ask "would entering this
one value decide the instrument?" by re-running just the affected items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mas_screen.criteria_data import InstrumentSpec, ItemSpec, criteria
from mas_screen.facts import Facts, unit_spec
from mas_screen.intervals import MET, MISSING, NOT_MET, Interval, compare, round_half_up
from mas_screen.models import AdditionalCutoff, CriterionResult, ItemResult, Probability
from mas_screen.references import short_citation
from mas_screen.rules.items import Outcome, evaluate_item, threshold_text
from mas_screen.units import format_number, format_threshold, pretty_unit

STATUS = {MET: "met", NOT_MET: "not_met", MISSING: "indeterminate"}
SYMBOL = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


@dataclass(slots=True)
class Combined:
    status: str  # met / not_met / indeterminate
    score: int | float | None = None
    score_range: list[int | float] | None = None
    count_met: int | None = None
    count_assessable: int | None = None
    probability: Probability | None = None
    additional: list[AdditionalCutoff] = field(default_factory=list)
    at_cutoff: bool = False


Combine = Callable[[InstrumentSpec, dict[str, Outcome], Facts], Combined]


def evaluate_items(spec: InstrumentSpec, facts: Facts) -> dict[str, Outcome]:
    return {item.id: evaluate_item(item, facts) for item in spec.items}


def count_rule(outcomes: list[Outcome]) -> tuple[int, int]:
    """(met, assessable) over a list of outcomes."""
    met = sum(1 for o in outcomes if o.result == MET)
    assessable = sum(1 for o in outcomes if o.result != MISSING)
    return met, assessable


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def point_score(spec: InstrumentSpec, outcomes: dict[str, Outcome]) -> Combined:
    """Sum of points with a range while items are undecided; status from the cut-off (HScore, MH)."""
    lo = sum(o.lo for o in outcomes.values())
    hi = sum(o.hi for o in outcomes.values())
    cut = spec.cutoff
    status = STATUS[compare(Interval(lo, hi), cut.comparator, cut.value)]
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


def caveats_for(spec: InstrumentSpec, facts: Facts, population: str, combined: Combined) -> tuple[list[str], list[str]]:
    """Caveat texts that apply, and the citation keys they add."""
    applies = {
        "always": True,
        "outside_population": population == "outside",
        "biologic_il1": facts.biologic == "il1",
        "biologic_il6": facts.biologic == "il6",
        "biologic_il1_or_il6": facts.biologic in ("il1", "il6"),
        "not_febrile": facts.flags.get("febrile") is False,
        "at_cutoff": combined.at_cutoff,
        "molecular_unknown": facts.flags.get("hlh_molecular_diagnosis") is None,
        "aosd": facts.disease == "aosd",
    }
    texts: list[str] = []
    refs: list[str] = []
    for cav in spec.caveats:
        if applies.get(cav.when, False):
            texts.append(f"{cav.text} ({'; '.join(short_citation(k) for k in cav.references)})")
            refs.extend(k for k in cav.references if k not in refs)
    return texts, refs


# ------------------------------------------------------------------------------------ item cards


def _echo_value(value: bool | None) -> dict | None:
    return None if value is None else {"value": value}


def describe_item(item: ItemSpec, outcome: Outcome, facts: Facts) -> ItemResult:
    value = unit = display = None
    echo = None
    points: int | float | None = None
    if item.kind in ("threshold", "bands", "linear") and item.analyte is not None:
        unit = item.unit
        fact = facts.labs.get(item.analyte)
        if fact is not None:
            target = unit_spec(item.analyte, item.unit)
            echo = fact.echo
            display = fact.display(target)
            if fact.exact:
                value = float(fact.value_in(target))
        elif item.analyte == "temperature" and facts.flags.get("febrile") is not None:
            display = "febrile (no temperature entered)" if facts.flags["febrile"] else "not febrile"
    elif item.kind in ("flag", "linear"):
        flag = facts.flags.get(item.field)
        echo = _echo_value(flag)
        display = None if flag is None else "present" if flag else "absent"
    elif item.kind == "fever":
        febrile = facts.flags.get("febrile")
        temp = facts.labs.get("temperature")
        if febrile is not None:
            echo, display = {"value": febrile}, "febrile" if febrile else "not febrile"
        elif temp is not None:
            target = unit_spec("temperature", item.unit)
            echo, display, unit = temp.echo, temp.display(target), item.unit
            value = float(temp.value_in(target)) if temp.exact else None
    elif item.kind in ("organ_size", "age_at_onset"):
        size = facts.numbers.get(item.size_field or item.field)
        unit = item.unit
        if size is not None:
            value, display = size, f"{format_number(size)} {pretty_unit(item.unit)}"
        elif item.kind == "organ_size" and facts.flags.get(item.field) is not None:
            display = "present, size not given" if facts.flags[item.field] else "absent"
        elif item.kind == "age_at_onset" and "age_years" in facts.numbers:
            display = f"current age {format_number(facts.numbers['age_years'])} years"
    elif item.kind == "ratio" and outcome.exact is not None:
        value = round_half_up(outcome.exact, 2)
        display = format_number(value)
    elif item.kind == "organomegaly":
        shown = [
            f"{n}: {'yes' if facts.flags[n] else 'no'}"
            for n in ("hepatomegaly", "splenomegaly")
            if facts.flags.get(n) is not None
        ]
        display = "; ".join(shown) or None
    elif item.kind == "any_flag":
        shown = [
            f"{f.replace('hemophagocytosis_', '').replace('_', ' ')}: {'yes' if facts.flags[f] else 'no'}"
            for f in item.fields
            if facts.flags.get(f) is not None
        ]
        display = "; ".join(shown) or None

    if item.kind == "linear":
        if outcome.exact is not None:
            points = round_half_up(outcome.exact, 4)
    elif item.points is not None or item.kind in ("bands", "organomegaly") or item.points_by_count:
        points = _number(outcome.lo) if outcome.lo == outcome.hi else None

    components = None
    if outcome.components is not None:
        components = [describe_item(sub, o, facts) for sub, o in zip(item.items, outcome.components, strict=True)]
    return ItemResult.model_construct(
        id=item.id,
        label=item.label,
        input=echo,
        value=value,
        unit=unit,
        threshold=threshold_text(item),
        result=outcome.result,
        points=points,
        display=display,
        role=item.role,
        counted=item.role != "supportive",
        components=components,
        source=item.source,
        confirmation=item.confirmation,
        note=item.note,
    )


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
    return CriterionResult.model_construct(
        id=spec.id,
        name=spec.name,
        short_name=spec.short_name,
        version=spec.version,
        status=combined.status,
        verdict=verdict,
        score=combined.score,
        score_range=combined.score_range,
        cutoff=spec.cutoff.value if spec.cutoff else None,
        cutoff_label=cutoff_label(spec),
        count_met=combined.count_met,
        count_assessable=combined.count_assessable,
        probability=combined.probability,
        items=[describe_item(item, outcomes[item.id], facts) for item in spec.items],
        missing=missing_keys(outcomes),
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

    @property
    def spec(self) -> InstrumentSpec:
        return criteria().instruments[self.id]

    def evaluate(self, facts: Facts) -> CriterionResult:
        spec = self.spec
        outcomes = evaluate_items(spec, facts)
        return build_result(spec, facts, outcomes, self.combine(spec, outcomes, facts))
