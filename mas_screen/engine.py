"""assess(): every instrument on one panel, plus the summary a clinician reads first.

The summary follows contract.md: `mas_signal` from the MAS/HLH instruments (ferritin:ESR supports
but never decides), `phlh_signal` from the MH score, and `next_tests`: only the inputs whose value
could still change an undecided status, found by trying each one at the ends of its plausible
range (every item is monotone in each of its inputs, so the ends are enough).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from mas_screen.criteria_data import ItemSpec, criteria
from mas_screen.facts import Facts, febrile_with_low_temperature, normalise
from mas_screen.models import (
    NUMERIC_CONTEXT_FIELDS,
    Assessment,
    CriterionResult,
    InputWarning,
    PatientInput,
    ReferenceOut,
    Summary,
    build,
    field_label,
)
from mas_screen.references import full_citation, link, short_citation
from mas_screen.rules import INSTRUMENTS
from mas_screen.rules.base import build_result, by_role, evaluate_items
from mas_screen.rules.items import Outcome, evaluate_item, extreme_outcomes, extremes_knowable, item_keys
from mas_screen.score_display import shown_score
from mas_screen.units import format_number

MAS_INSTRUMENTS = ("mas2016", "ms_score", "hscore", "hlh2004", "parodi2009", "ohi")
POPULATION_INSTRUMENTS = {
    "sjia": ("mas2016", "ms_score"),
    "suspected_sjia": ("mas2016", "ms_score"),
    "aosd": ("mas2016", "ms_score"),
    "sle": ("parodi2009",),
    "other": ("hscore", "hlh2004"),
    "unknown": ("hscore", "hlh2004"),
}
SLOW_TESTS = ("hlh_molecular_diagnosis",)
SCREENING_CAVEAT = (
    "Screening aid, not a diagnosis: published criteria support, and never replace, clinical judgement. "
    "MAS can evolve over hours; repeat the screen as results change."
)


def assess(patient: PatientInput) -> Assessment:
    facts, warnings = normalise(patient)
    results: dict[str, CriterionResult] = {}
    outcomes: dict[str, dict[str, Outcome]] = {}
    for iid, instrument in INSTRUMENTS.items():
        spec = instrument.spec
        items = evaluate_items(spec, facts)
        outcomes[iid] = items
        results[iid] = build_result(spec, facts, items, instrument.combine(spec, items, facts))
    summary, summary_refs = summarise(results, outcomes, facts)
    keys: dict[str, None] = {}
    for r in results.values():
        for k in r.references:
            keys.setdefault(k)
    for k in summary_refs:
        keys.setdefault(k)
    references = {k: build(ReferenceOut, _reference_fields(k).copy()) for k in keys}
    return build(
        Assessment,
        schema_version="1",
        criteria=results,
        summary=summary,
        input_warnings=warnings,
        references=references,
    )


@cache
def _reference_fields(key: str) -> dict[str, str | None]:
    """A reference as the output shows it (formatted once; each assessment gets its own copy)."""
    return {"citation": full_citation(key), "doi": criteria().references[key].doi, "url": link(key)}


# -------------------------------------------------------------------------------------- next tests


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


# ----------------------------------------------------------------------------------------- summary


def _score_text(r: CriterionResult) -> str:
    if r.score is not None:
        return str(shown_score(r))
    if r.score_range is not None:
        return f"{format_number(r.score_range[0])}–{format_number(r.score_range[1])}"
    return "not computable yet"


def _evidence(r: CriterionResult, facts: Facts) -> tuple[str | None, str | None]:
    """(supporting, against) sentence for one instrument, or None."""
    status = r.status
    if status == "indeterminate":
        return None, None
    iid = r.id
    if iid == "mas2016":
        of = len(by_role(INSTRUMENTS[iid].spec, "companion"))
        if status == "met":
            return (
                f"2016 MAS classification criteria met (ferritin plus {r.count_met} of {of} companion criteria)",
                None,
            )
        return None, f"2016 MAS classification criteria not met ({r.count_met} of {of} companion criteria met)"
    if iid == "ms_score":
        text = (
            f"MS score {_score_text(r)} ({r.cutoff_label})"
            if r.score is not None
            else f"MS score {r.cutoff_label} whatever the missing values"
        )
        if status == "met":
            return f"{text}: favours MAS over active sJIA", None
        text = (
            f"MS score {_score_text(r)} (< {format_number(r.cutoff)})"
            if r.score is not None
            else f"MS score < {format_number(r.cutoff)} whatever the missing values"
        )
        return None, f"{text}: favours active sJIA without MAS"
    if iid == "ferritin_esr":
        ratio = f"Ferritin:ESR ratio {_score_text(r)}" if r.score is not None else "Ferritin:ESR ratio (from a bound)"
        if status == "met":
            return f"{ratio} {r.cutoff_label}: favours MAS over an sJIA flare", None
        return None, f"{ratio} < {format_number(r.cutoff)}: favours an sJIA flare over MAS"
    if iid == "hscore":
        prob = f"; probability {r.probability.label}" if r.probability else ""
        if status == "met":
            return (
                f"HScore {_score_text(r)} ({r.cutoff_label}{prob}): suggestive of reactive haemophagocytic syndrome",
                None,
            )
        return None, f"HScore {_score_text(r)} (< {format_number(r.cutoff)}{prob})"
    if iid == "hlh2004":
        if status == "met":
            return f"HLH-2004 criteria fulfilled ({r.count_met} of {len(r.items)} criteria met)", None
        return (
            None,
            f"HLH-2004 criteria not fulfilled ({r.count_met} of {len(r.items)} met, {r.count_assessable} assessable)",
        )
    if iid == "parodi2009":
        if status == "met":
            return "Preliminary jSLE-MAS guidelines (Parodi 2009) met", None
        return None, "Preliminary jSLE-MAS guidelines (Parodi 2009) not met"
    if iid == "ohi":
        if status == "met":
            rule = " and ".join(f"{i.label[:1].lower() + i.label[1:]} {i.threshold}" for i in r.items)
            return f"OHI index positive ({rule})", None
        return None, "OHI index negative"
    return None, None


def summarise(
    results: dict[str, CriterionResult], outcomes: dict[str, dict[str, Outcome]], facts: Facts
) -> tuple[Summary, list[str]]:
    disease = facts.disease
    own = POPULATION_INSTRUMENTS.get(disease, POPULATION_INSTRUMENTS["unknown"])
    met = [iid for iid in MAS_INSTRUMENTS if results[iid].status == "met"]
    if met:
        mas_signal = "suggestive"
    elif all(results[iid].status == "not_met" for iid in own):
        mas_signal = "not_suggestive"
    else:
        mas_signal = "insufficient_data"
    mh = results["mh_score"].status
    phlh_signal = {"met": "favours_phlh", "not_met": "favours_mas"}.get(mh, "insufficient_data")

    supporting: list[str] = []
    against: list[str] = []
    order = list(own) + [i for i in results if i not in own]
    for iid in order:
        if iid == "mh_score":
            continue
        sup, ag = _evidence(results[iid], facts)
        # Instruments outside the population only count against MAS for their own population.
        if sup:
            supporting.append(sup)
        if ag and (iid in own or iid == "ferritin_esr"):
            against.append(ag)

    next_tests: dict[str, None] = {}
    for iid in order:
        r = results[iid]
        if r.status == "indeterminate":
            r.next_tests = decisive_keys(iid, r, outcomes[iid], facts)
            for key in r.next_tests:
                next_tests.setdefault(key)
    if phlh_signal == "favours_phlh" and facts.flags.get("hlh_molecular_diagnosis") is None:
        next_tests.setdefault("hlh_molecular_diagnosis")

    caveats = [SCREENING_CAVEAT]
    refs: list[str] = []
    if facts.biologic in ("il1", "il6"):
        caveats.append(
            "On IL-1/IL-6 blockade, fever, ferritin and CRP can be blunted while MAS evolves; a 'not met' result is weak "
            f"evidence against MAS ({short_citation('schulert2018')}; {short_citation('shimizu2020')})."
        )
        refs += ["schulert2018", "shimizu2020"]
    if febrile_with_low_temperature(facts):
        caveats.append(
            "'Febrile' is answered yes while the highest temperature entered is below 38.0 °C: fever items use the "
            "'febrile' answer and temperature-banded items use the temperature. A quotidian fever may skip a day, or be "
            "suppressed by antipyretics, glucocorticoids or IL-6 blockade."
        )
    if results["hlh2004"].status == "met" and disease in ("sjia", "suspected_sjia", "aosd"):
        caveats.append(
            "In systemic JIA and Still's disease HLH-2004 tends to be met late; the 2016 criteria and MS score were "
            f"built for this population ({short_citation('ravelli2016')})."
        )
        refs.append("ravelli2016")

    names = {iid: results[iid].short_name for iid in results}
    if mas_signal == "suggestive":
        # The population's own instruments first, then by population fit.
        fit = {"validated": 0, "unknown": 1, "outside": 2}
        met.sort(key=lambda i: (i not in own, fit[results[i].population]))
        headline = "Features suggestive of MAS: " + ", ".join(names[i] for i in met) + " met"
        if all(results[i].population == "outside" for i in met):
            # The contract counts any met instrument; the reader must see that none fits this patient.
            headline += " (only by instruments built for other populations: weigh with care)"
            caveats.append(
                "Only instruments derived in other populations are met ("
                + ", ".join(names[i] for i in met)
                + "); in this patient they may be met by the underlying disease itself. The instruments built for "
                "this population are: " + (", ".join(names[i] for i in own) or "none") + "."
            )
    elif mas_signal == "not_suggestive":
        headline = "Features not suggestive of MAS on " + " and ".join(names[i] for i in own) + " (screening result)"
    else:
        wanted = ", ".join(field_label(k).split(" (")[0].lower() for k in list(next_tests)[:5])
        headline = "Insufficient data to screen for MAS" + (f": enter {wanted}" if wanted else "")
    summary = build(
        Summary,
        mas_signal=mas_signal,
        phlh_signal=phlh_signal,
        headline=headline,
        supporting=supporting,
        against=against,
        next_tests=list(next_tests),
        caveats=caveats,
    )
    return summary, refs


def assess_json(data: dict) -> dict:
    """Convenience for tools: input JSON → Assessment JSON."""
    return assess(PatientInput.model_validate(data)).model_dump(mode="json")


__all__ = ["InputWarning", "assess", "assess_json"]
