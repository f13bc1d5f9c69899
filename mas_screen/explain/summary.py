"""The summary a clinician reads first: the patient's own instruments decide it.

contract.md "The patient's own instruments" (revised 2026-12-06): only the instruments built for
the patient's population (criteria/policy.yaml) move `mas_signal`; instruments met outside it are
listed in `other_population_met`, shown as indicative only and never as evidence for MAS in this
patient. `next_tests` puts the inputs that would decide an own instrument first, then the rest,
each group by tier (routine blood tests, bedside findings, specialist tests, history). Every table
and every sentence pattern is read from policy.yaml; this module only applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.references import short_citation
from mas_screen.criteria.schema_policy import PolicyFile
from mas_screen.domain.models import Assessment, CriterionResult, Summary, field_label
from mas_screen.domain.units import format_number
from mas_screen.explain.phrases import NOT_YET, WHATEVER, bound, score_value
from mas_screen.explain.wording import STATUS_CODES
from mas_screen.kernel import signals
from mas_screen.kernel.inputs.facts import Facts, febrile_with_low_temperature
from mas_screen.kernel.instruments import per_criteria
from mas_screen.kernel.ops import SCALAR
from mas_screen.kernel.remember import remember
from mas_screen.kernel.signals import MAS_SIGNALS, mas_instruments, own_instruments


def policy() -> PolicyFile:
    return criteria().policy


def slow_tests() -> frozenset[str]:
    """Inputs whose result takes weeks: never offered as deciding a screen today (policy.yaml)."""
    return frozenset(policy().slow_tests)


def screening_caveat() -> str:
    """The first caveat of every screen: a screening aid, not a diagnosis (policy.yaml)."""
    return policy().screen_caveats[0].text


def screen_caveats(facts: Facts, statuses: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The caveats of the whole screen that apply (policy.yaml `screen_caveats`) and what they cite."""
    which = []
    for cav in policy().screen_caveats:
        if cav.when == "biologic_il1_or_il6":
            applies = facts.biologic in ("il1", "il6")
        elif cav.when == "febrile_low":
            applies = febrile_with_low_temperature(facts)
        elif cav.when == "met_in_population":
            applies = statuses.get(cav.instrument) == "met" and facts.disease in (cav.diseases or ())
        else:
            applies = True
        which.append(applies)
    texts, refs = remember(_screen_caveat_texts(), tuple(which), lambda: _caveat_texts(which))
    return list(texts), list(refs)


def _caveat_texts(which: list[bool]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The texts and citations of the screen caveats that apply (`which`, in policy order)."""
    texts: list[str] = []
    refs: list[str] = []
    for cav, applies in zip(policy().screen_caveats, which, strict=True):
        if applies:
            texts.append(_caveat_text(cav))
            refs += cav.references if cav.cited else []
    return tuple(texts), tuple(refs)


def _caveat_text(cav) -> str:
    """A screen caveat as printed: its text with its citations."""
    return cav.text.format(cite="; ".join(short_citation(k) for k in cav.references))


def headline_caveats(a: Assessment) -> list[str]:
    """The screen caveats every face prints right under the headline (policy.yaml `under_headline`:
    IL-1/IL-6 blockade, which can make a 'not suggestive' screen falsely reassuring), among those
    that apply to this result."""
    shown = set(a.summary.caveats)
    texts = (_caveat_text(cav) for cav in policy().screen_caveats if cav.under_headline)
    return [t for t in texts if t in shown]


def reading_order(a: Assessment, own: tuple[str, ...] | None = None) -> list[CriterionResult]:
    """The results as every face lists them: the patient's own instruments first (in the population
    table's order), then the rest in the criteria's order."""
    own = tuple(a.summary.own_instruments) if own is None else own
    first = [a.criteria[i] for i in own if i in a.criteria]
    return first + [r for i, r in a.criteria.items() if i not in own]


def syndrome_label(a: Assessment) -> str:
    """The screened syndrome's short name for section titles, by population (policy.yaml `headline`):
    "MAS" for a rheumatic disease, "HLH/MAS" otherwise or when the disease is not known."""
    inp = a.provenance.input if a.provenance is not None else None
    return _headline_group((inp.context.underlying_disease if inp is not None else None) or "unknown").label


@per_criteria
def _screen_caveat_texts() -> dict:
    """Which screen caveats apply (a tuple of flags) → their texts and citations."""
    return {}


def phlh_alert(a: Assessment) -> bool:
    """Whether the MAS-vs-primary-HLH line is shown as an alert (bold, never folded away): it favours
    primary HLH and the patient is not outside the population its instrument was derived in (the MH
    score: children; for an adult it stays an indicative, secondary line)."""
    r = a.criteria.get(signals.phlh_instrument())
    return a.summary.phlh_signal == "favours_phlh" and r is not None and r.population != "outside"


# ------------------------------------------------------------------------------- the rule itself


def supporting_instruments(disease: str) -> tuple[str, ...]:
    """Instruments that support or weigh against MAS for this population but never decide it."""
    pops = policy().populations
    return tuple((pops.get(disease) or pops["unknown"]).supporting)


def _codes(statuses: Mapping[str, str]) -> dict[str, int]:
    return {iid: STATUS_CODES[status] for iid, status in statuses.items()}


def mas_signal(statuses: Mapping[str, str], own: Iterable[str]) -> str:
    """suggestive when an own instrument is met; not_suggestive when all are decided not met."""
    return MAS_SIGNALS[signals.signal_of(SCALAR, _codes(statuses), tuple(own))]


def other_population_met(statuses: Mapping[str, str], own: Iterable[str]) -> list[str]:
    """MAS/HLH instruments met that are not the patient's own, in the contract's order."""
    bits = signals.others_met_of(SCALAR, _codes(statuses), tuple(own))
    return [iid for bit, iid in enumerate(mas_instruments()) if bits >> bit & 1]


@per_criteria
def _signals_seen() -> dict:
    """(own instruments, every status) → (mas_signal, other_population_met): few combinations recur."""
    return {}


def _signals(statuses: dict[str, str], own: tuple[str, ...]) -> tuple[str, list[str]]:
    found = remember(
        _signals_seen(),
        (own, *statuses.items()),
        lambda: (mas_signal(statuses, own), tuple(other_population_met(statuses, own))),
    )
    return found[0], list(found[1])


def syndrome(disease: str) -> str:
    """ "MAS" with a rheumatic underlying disease, "a haemophagocytic syndrome (HLH/MAS)" otherwise."""
    return _headline_group(disease).syndrome


def _headline_group(disease: str):
    """The headline words' group of a disease (policy.yaml `headline`): rheumatic, or other."""
    words = policy().headline
    return words.rheumatic if disease in words.rheumatic.diseases else words.other


@per_criteria
def tier_ranks() -> dict[str, tuple[int, int]]:
    """key → (tier, place in the tier) from policy.yaml `next_test_tiers`."""
    return {key: (t, i) for t, tier in enumerate(policy().next_test_tiers) for i, key in enumerate(tier.keys)}


def by_tier(keys: Iterable[str]) -> list[str]:
    """Distinct keys by tier, then by their place in the tier (policy.yaml `next_test_tiers`)."""
    rank = tier_ranks()
    return sorted(dict.fromkeys(keys), key=lambda k: rank.get(k, (len(rank), 0)))


@per_criteria
def _tier_ids() -> dict[str, str]:
    """key → the id of its tier (from tier_ranks: the schema allows a key in one tier only)."""
    tiers = policy().next_test_tiers
    return {key: tiers[t].id for key, (t, _place) in tier_ranks().items()}


def tier_id(key: str) -> str:
    return _tier_ids()[key]


# ---------------------------------------------------------------------------------------- words


@per_criteria
def _sentence_labels() -> dict[str, str]:
    """input key → its sentence label (next-test sentences name ~10 inputs per patient seen early:
    about 3% of assess() on the unknown mix of bench_assess)."""
    return {}


def sentence_label(key: str) -> str:
    """An input's name inside a sentence: its label without the parenthesis, lower-case unless an
    acronym ("ferritin", "platelet count", "AST", "D-dimer", "soluble CD25")."""
    return remember(_sentence_labels(), key, lambda: _sentence_label(key))


def _sentence_label(key: str) -> str:
    special = policy().sentence_labels.get(key)
    if special:
        return special
    label = field_label(key).split(" (")[0].strip()
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def sentence_labels(keys: Iterable[str]) -> list[str]:
    """Sentence labels of the keys, in order, naming once the inputs that answer one question
    (policy.yaml `sentence_merges`: the fever answer and the highest temperature)."""
    keys = list(dict.fromkeys(keys))
    merged: dict[str, str] = {}
    dropped: set[str] = set()
    for merge in policy().sentence_merges:
        present = [k for k in keys if k in merge.keys]
        if len(present) > 1:
            merged[present[0]] = merge.label
            dropped.update(present[1:])
    return [merged.get(k) or sentence_label(k) for k in keys if k not in dropped]


def join_words(words: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def qualified_name(iid: str) -> str:
    """The instrument's short name, with the 'values not confirmed' qualifier where policy lists it."""
    name = criteria().instruments[iid].short_name
    unconfirmed = policy().unconfirmed_values
    return f"{name} {unconfirmed.qualifier}" if iid in unconfirmed.instruments else name


def _names(results: Mapping[str, CriterionResult], ids: Iterable[str]) -> str:
    return join_words(results[i].short_name for i in ids)


def _population_words(iid: str) -> str:
    text = criteria().instruments[iid].population.description.split(" (")[0].rstrip(".")
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


@per_criteria
def _phrased() -> dict:
    """A list of input keys → its tests phrase (a list recurs across patients)."""
    return {}


def _tests_by_tier(keys: list[str]) -> str:
    """'enter ferritin and AST; record fever' — grouped by tier, each with its verb."""
    return remember(_phrased(), tuple(keys), lambda: _phrase_tests(keys))


def _phrase_tests(keys: list[str]) -> str:
    parts = []
    for tier in policy().next_test_tiers:
        chosen = sentence_labels(k for k in keys if k in tier.keys)
        if chosen:
            parts.append(f"{tier.verb} {join_words(chosen)}")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------- evidence


def _score_text(r: CriterionResult) -> str:
    return score_value(r) or NOT_YET


@per_criteria
def _evidence_words() -> dict[str, tuple[dict[tuple[str, bool], str | None], int, str | None]]:
    """instrument id → (its evidence template by (status, score missing), how many items it counts,
    the template for a failed gate)."""
    table = {}
    for iid, spec in criteria().instruments.items():
        words = spec.evidence
        templates = {}
        for status in ("met", "not_met"):
            template = getattr(words, status)
            templates[(status, False)] = template
            templates[(status, True)] = getattr(words, f"{status}_without_score") or template
        counted = [i for i in spec.items if spec.rule.type == "count" and i.role in (spec.rule.counted or [])]
        table[iid] = (templates, len(counted), words.not_met_gate)
    return table


def _failed_gates(r: CriterionResult) -> tuple[str, ...]:
    """The gate items (a count rule's `all_of` roles: entry, mandatory) that are not met, phrased with
    the value in the rule's unit (the summary reads alike whatever unit was typed)."""
    spec = criteria().instruments.get(r.id)
    roles = spec.rule.all_of if spec is not None and spec.rule.type == "count" else ()
    return tuple(
        f"{i.label[:1].lower() + i.label[1:]} not met ({i.value_text or i.display or 'not entered'}; rule {i.threshold})"
        for i in r.items
        if i.role in roles and i.result == "not_met"
    )


def evidence(r: CriterionResult) -> tuple[str | None, str | None]:
    """(supporting, against) sentence for one decided instrument, from its YAML `evidence`, or None.
    Phrased anew for each result, never remembered: the sentences hold the patient's own values."""
    return _evidence(r, _failed_gates(r) if r.status == "not_met" else ())


def _evidence(r: CriterionResult, failed: tuple[str, ...]) -> tuple[str | None, str | None]:
    status = r.status
    if status == "indeterminate":
        return None, None
    templates, counted, gate = _evidence_words()[r.id]
    template = gate if failed and gate else templates[(status, r.score is None)]
    if template is None:
        return None, None
    items_rule = ""  # only a template that names it spells every item's rule out
    if "items_rule" in template:
        items_rule = " and ".join(f"{i.label[:1].lower() + i.label[1:]} {i.threshold}" for i in r.items)
    text = template.format(
        score=_score_text(r),
        cutoff_label=r.cutoff_label,
        cutoff=format_number(r.cutoff) if r.cutoff is not None else "",
        count_met=r.count_met,
        counted=counted,
        items=len(r.items),
        count_assessable=r.count_assessable,
        probability=f"; probability {r.probability.label}" if r.probability else "",
        items_rule=items_rule,
        bound=bound(r) or "",
        whatever=WHATEVER,
        failed=" and ".join(failed),
    )
    return (text, None) if status == "met" else (None, text)


def phlh_text(r: CriterionResult, signal: str) -> str:
    """The MAS-vs-primary-HLH sentence from the MH score, with its qualifier while unconfirmed."""
    words = policy().phlh
    mh = qualified_name(r.id)
    if signal == "insufficient_data":
        return words.insufficient_data.format(mh=mh)
    result = _score_text(r) if r.score is not None or r.score_range is not None else ""
    result = f"{result} ({r.cutoff_label})" if result and r.cutoff_label else result
    text = getattr(words, signal).format(mh=mh, result=result).replace("  ", " ").replace(" :", ":")
    if r.population == "outside":
        text += f" {words.outside}"
    return text


# -------------------------------------------------------------------------------------- summary


def summarise(
    results: dict[str, CriterionResult], facts: Facts, relevant: Mapping[str, list[str]]
) -> tuple[Summary, list[str]]:
    """The Summary and the reference keys its sentences cite.

    Each indeterminate instrument's `next_tests` holds the inputs that alone could decide it;
    `relevant[iid]` every input that can still change it (the summary's `next_tests`: what a
    clinician would order, not only what completes a score).
    """
    pol = policy()
    disease = facts.disease
    own = own_instruments(disease)
    support = supporting_instruments(disease)
    statuses = {iid: r.status for iid, r in results.items()}
    signal, others_met = _signals(statuses, own)
    phlh_id = signals.phlh_instrument()
    phlh_signal = {"met": "favours_phlh", "not_met": "favours_mas"}.get(statuses[phlh_id], "insufficient_data")

    supporting: list[str] = []
    against: list[str] = []
    indicative: list[str] = []
    for iid in (*own, *support):
        sup, ag = evidence(results[iid])
        supporting += [sup] if sup else []
        against += [ag] if ag else []
    for iid in results:
        if iid in own or iid in support or iid == phlh_id or statuses[iid] != "met":
            continue
        sup, _ = evidence(results[iid])
        if sup:
            indicative.append(pol.other_population.sentence.format(population=_population_words(iid), evidence=sup))

    # Next tests: own instruments' decisive inputs first, then the others', each by tier.
    own_keys: list[str] = []
    other_keys: list[str] = []
    for iid, r in results.items():
        if r.status == "indeterminate":
            (own_keys if iid in own else other_keys).extend(relevant[iid])
    if phlh_signal == "favours_phlh" and facts.flags.get("hlh_molecular_diagnosis") is None:
        other_keys.append("hlh_molecular_diagnosis")
    own_sorted = by_tier(own_keys)
    other_sorted = [k for k in by_tier(other_keys) if k not in own_sorted]
    collapsed = set(pol.collapsed_tiers)
    tiers = _tier_ids()
    first = [k for k in own_sorted if tiers[k] not in collapsed]
    specialist = [k for k in own_sorted if tiers[k] in collapsed]

    own_names = _names(results, own)
    open_names = _names(results, [i for i in own if statuses[i] == "indeterminate"])
    refs: list[str] = []
    steps = pol.next_steps
    if not facts.labs and disease == "unknown":
        kind, next_steps = "empty_form", steps.empty_form.text
        refs += steps.empty_form.references
    elif all(statuses[i] != "indeterminate" for i in own):
        kind, next_steps = "own_decided", steps.own_decided.text.format(own=own_names)
        refs += steps.own_decided.references
    elif first:
        kind, next_steps = "decide_own", steps.decide_own.format(own=open_names, tests=_tests_by_tier(first))
    else:
        waiting = specialist or by_tier(k for i in own if statuses[i] == "indeterminate" for k in results[i].missing)
        kind = "specialist_only"
        next_steps = steps.specialist_only.format(own=open_names, tests=join_words(sentence_labels(waiting)))
        next_steps = next_steps[0].upper() + next_steps[1:]

    caveats, caveat_refs = screen_caveats(facts, statuses)
    refs += caveat_refs
    other_names = ", ".join(results[i].short_name for i in others_met)
    line = None
    if others_met:
        line = pol.other_population.line.format(names=other_names)
        caveats.append(pol.other_population.caveat.format(names=other_names, own=own_names))

    words = pol.headline
    syn = syndrome(disease)
    if signal == "suggestive":
        met = [i for i in own if statuses[i] == "met"]
        headline = words.suggestive.format(syndrome=syn, met=", ".join(results[i].short_name for i in met))
    elif signal == "not_suggestive":
        headline = words.not_suggestive.format(syndrome=syn, own=own_names)
    else:
        # The first tier that has any (routine blood tests, as a rule), at most `enter_shown` of them.
        tier = tiers[first[0]] if first else None
        wanted = sentence_labels([k for k in first if tiers[k] == tier])[: words.enter_shown]
        headline = (
            words.insufficient_enter.format(syndrome=syn, tests=", ".join(wanted))
            if wanted
            else words.insufficient.format(syndrome=syn)
        )
    summary = Summary(
        mas_signal=signal,
        phlh_signal=phlh_signal,
        other_population_met=others_met,
        headline=headline,
        supporting=supporting,
        against=against,
        next_tests=own_sorted + other_sorted,
        caveats=caveats,
        own_instruments=list(own),
        other_population_line=line,
        indicative=indicative,
        phlh_text=phlh_text(results[phlh_id], phlh_signal),
        next_steps=next_steps,
        next_steps_kind=kind,
        next_tests_first=first,
        next_tests_specialist=specialist,
        next_tests_other=other_sorted,
    )
    return summary, refs


# ----------------------------------------------------------------------------- for every face


def more_tests_title() -> str:
    return policy().next_steps.more_title


def more_tests_lines(a: Assessment) -> list[str]:
    """The collapsed list: own instruments' specialist tests, then the inputs that would decide
    instruments built for other populations (or supporting ones), each with what it would decide."""
    s = a.summary
    words = policy().next_steps
    lines: list[str] = []
    if s.next_tests_specialist:
        tests = ", ".join(field_label(k) for k in s.next_tests_specialist)
        lines.append(words.more_specialist.format(own=_names(a.criteria, s.own_instruments), tests=tests))
    if s.next_tests_other:
        decides: dict[str, list[str]] = {k: [] for k in s.next_tests_other}
        for r in a.criteria.values():
            if r.status == "indeterminate" and r.id not in s.own_instruments:
                for k in r.missing:
                    if k in decides:
                        decides[k].append(r.short_name)
        tests = "; ".join(
            field_label(k) + (f" ({', '.join(decides[k])})" if decides[k] else "") for k in s.next_tests_other
        )
        lines.append(words.more_other.format(tests=tests))
    return lines
