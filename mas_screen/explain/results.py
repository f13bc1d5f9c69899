"""One instrument's result as the contract gives it: status and score from the kernel, plus its cards,
population fit, caveats, verdict wording and references from the instrument's YAML."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from mas_screen.criteria.references import short_citation
from mas_screen.criteria.schema import InstrumentSpec
from mas_screen.domain.models import AdditionalCutoff, CriterionResult, Probability
from mas_screen.domain.units import format_threshold
from mas_screen.explain.cards import cards
from mas_screen.explain.wording import STATUS_WORDS, SYMBOL
from mas_screen.kernel.combine import Verdict
from mas_screen.kernel.combine import probability as table_probability
from mas_screen.kernel.inputs.facts import Facts, afebrile
from mas_screen.kernel.instruments import Instrument, per_criteria
from mas_screen.kernel.remember import remember


def population_fit(spec: InstrumentSpec, facts: Facts) -> str:
    """validated / outside / unknown: the patient against the instrument's derivation population."""
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


class Situation(NamedTuple):
    """Everything a caveat's `when` can depend on."""

    outside_population: bool
    biologic: str
    not_febrile: bool
    at_cutoff: bool
    molecular_unknown: bool
    aosd: bool


# When each caveat of an instrument's YAML applies (its `when:`).
CAVEAT_TESTS: dict[str, Callable[[Situation], bool]] = {
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


@per_criteria
def _chosen() -> dict:
    """(instrument, situation) → the caveats chosen for it: a handful of situations recur."""
    return {}


def caveats_for(spec: InstrumentSpec, situation: Situation) -> tuple[list[str], list[str]]:
    """The caveat texts that apply (each with its citations) and the citation keys they add."""

    def make() -> tuple[tuple[str, ...], tuple[str, ...]]:
        texts: list[str] = []
        refs: list[str] = []
        for cav in spec.caveats:
            test = CAVEAT_TESTS.get(cav.when)
            if test is not None and test(situation):
                texts.append(f"{cav.text} ({'; '.join(short_citation(k) for k in cav.references)})")
                refs.extend(k for k in cav.references if k not in refs)
        return tuple(texts), tuple(refs)

    texts, refs = remember(_chosen(), (spec.id, situation), make)
    return list(texts), list(refs)


def probability(score: float, table) -> Probability:
    """The published table's probability for a complete score (HScore), as the output shows it."""
    low, high, label = table_probability(score, table)
    return Probability(low_percent=low, high_percent=high, label=label)


def cutoff_label(spec: InstrumentSpec) -> str | None:
    cut = spec.cutoff
    return None if cut is None else f"{SYMBOL[cut.comparator]} {format_threshold(cut.value)}"


@per_criteria
def _static() -> dict:
    """instrument id → (the result's fields its spec alone decides, verdict text by status word)."""
    return {}


def _static_fields(spec: InstrumentSpec) -> tuple[dict, dict[str, str]]:
    def make() -> tuple[dict, dict[str, str]]:
        fields = {
            "id": spec.id,
            "name": spec.name,
            "short_name": spec.short_name,
            "version": spec.version,
            "cutoff": spec.cutoff.value if spec.cutoff else None,
            "cutoff_label": cutoff_label(spec),
            "population_description": spec.population.description,
        }
        verdicts = {word: getattr(spec.verdicts, word) for word in STATUS_WORDS.values()}
        return {k: v for k, v in fields.items() if v is not None}, verdicts

    return remember(_static(), spec.id, make)


def criterion_result(
    instrument: Instrument, verdict: Verdict, facts: Facts, missing: list[str], next_tests: list[str]
) -> CriterionResult:
    spec = instrument.spec
    population = population_fit(spec, facts)
    situation = Situation(
        population == "outside",
        facts.biologic,
        afebrile(facts),
        bool(verdict.at_cutoff),
        facts.flags.get("hlh_molecular_diagnosis") is None,
        facts.disease == "aosd",
    )
    caveats, caveat_refs = caveats_for(spec, situation)
    static, verdicts = _static_fields(spec)
    fields = static.copy()  # fields left out take the model's default (None, or an empty list)
    refs = list(spec.references)
    if verdict.additional:
        additional = [
            AdditionalCutoff(
                label=cut.label or "",
                comparator=cut.comparator,
                cutoff=cut.value,
                status=STATUS_WORDS[status],
                reference=cut.source,
                note=cut.note,
            )
            for cut, status in verdict.additional
        ]
        fields["additional_cutoffs"] = additional
        caveat_refs = caveat_refs + [c.reference for c in additional]
    for key in caveat_refs:
        if key not in refs:
            refs.append(key)
    status = STATUS_WORDS[verdict.status]
    fields["status"] = status
    fields["verdict"] = verdicts[status]
    for name in ("score", "score_range", "score_bounds", "count_met", "count_assessable"):
        value = getattr(verdict, name)
        if value is not None:
            fields[name] = value
    prob = verdict.probability
    if prob is not None:
        fields["probability"] = Probability(low_percent=prob[0], high_percent=prob[1], label=prob[2])
    fields["items"] = cards(instrument.items, verdict.outs, facts, spec.score_round_places)
    fields["missing"] = missing
    if next_tests:
        fields["next_tests"] = next_tests
    fields["population"] = population
    fields["caveats"] = caveats
    fields["references"] = refs
    return CriterionResult.model_validate(fields)


__all__ = ["CAVEAT_TESTS", "Situation", "caveats_for", "criterion_result", "cutoff_label", "population_fit"]
