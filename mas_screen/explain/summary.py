"""The summary a clinician reads first, built from the instruments' results.

`mas_signal` from the MAS/HLH instruments (ferritin:ESR supports but never decides), `phlh_signal`
from the MH score, the supporting and against sentences, the headline, the screen-wide caveats and
`next_tests` (the union of each open instrument's decisive inputs, the population's own first).
"""

from __future__ import annotations

from mas_screen.facts import Facts, febrile_with_low_temperature
from mas_screen.kernel.kinds.base import Item
from mas_screen.kernel.signals import MAS_INSTRUMENTS, POPULATION_INSTRUMENTS, own_instruments
from mas_screen.models import CriterionResult, Summary, field_label
from mas_screen.references import short_citation
from mas_screen.score_display import shown_score
from mas_screen.units import format_number

SLOW_TESTS = frozenset({"hlh_molecular_diagnosis"})
SCREENING_CAVEAT = (
    "Screening aid, not a diagnosis: published criteria support, and never replace, clinical judgement. "
    "MAS can evolve over hours; repeat the screen as results change."
)


def _score_text(r: CriterionResult) -> str:
    if r.score is not None:
        return str(shown_score(r))
    if r.score_range is not None:
        return f"{format_number(r.score_range[0])}–{format_number(r.score_range[1])}"
    return "not computable yet"


def _companions(items: tuple[Item, ...]) -> int:
    return sum(1 for i in items if i.role == "companion")


def evidence(r: CriterionResult, items: tuple[Item, ...]) -> tuple[str | None, str | None]:
    """(supporting, against) sentence for one instrument, or None."""
    status = r.status
    if status == "indeterminate":
        return None, None
    iid = r.id
    if iid == "mas2016":
        of = _companions(items)
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
    results: dict[str, CriterionResult], items: dict[str, tuple[Item, ...]], facts: Facts
) -> tuple[Summary, list[str]]:
    disease = facts.disease
    own = own_instruments(disease)
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
        sup, ag = evidence(results[iid], items[iid])
        # Instruments outside the population only count against MAS for their own population.
        if sup:
            supporting.append(sup)
        if ag and (iid in own or iid == "ferritin_esr"):
            against.append(ag)

    next_tests: dict[str, None] = {}
    for iid in order:
        for key in results[iid].next_tests:
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
    summary = Summary.model_validate(
        {
            "mas_signal": mas_signal,
            "phlh_signal": phlh_signal,
            "headline": headline,
            "supporting": supporting,
            "against": against,
            "next_tests": list(next_tests),
            "caveats": caveats,
        }
    )
    return summary, refs


__all__ = [
    "MAS_INSTRUMENTS",
    "POPULATION_INSTRUMENTS",
    "SCREENING_CAVEAT",
    "SLOW_TESTS",
    "own_instruments",
    "summarise",
]
