"""assess(): every instrument on one panel, plus the summary a clinician reads first.

The summary (mas_screen/summary.py) follows contract.md: the patient's own instruments decide
`mas_signal`; `next_tests` holds only the inputs whose value could still change an undecided status
(mas_screen/decisive.py).
"""

from __future__ import annotations

from functools import cache

from mas_screen.criteria_data import criteria
from mas_screen.decisive import decisive_keys, relevant_keys
from mas_screen.facts import normalise
from mas_screen.models import Assessment, CriterionResult, InputWarning, PatientInput, Provenance, ReferenceOut, build
from mas_screen.provenance import SCHEMA_VERSION, fingerprint, tool_version, utc_now
from mas_screen.references import full_citation, link
from mas_screen.rules import INSTRUMENTS
from mas_screen.rules.base import build_result, evaluate_items
from mas_screen.rules.items import Outcome
from mas_screen.summary import SCREENING_CAVEAT, summarise


def assess(patient: PatientInput) -> Assessment:
    facts, warnings = normalise(patient)
    results: dict[str, CriterionResult] = {}
    outcomes: dict[str, dict[str, Outcome]] = {}
    for iid, instrument in INSTRUMENTS.items():
        spec = instrument.spec
        items = evaluate_items(spec, facts)
        outcomes[iid] = items
        results[iid] = build_result(spec, facts, items, instrument.combine(spec, items, facts))
    summary, summary_refs = summarise(
        results,
        facts,
        lambda iid: decisive_keys(iid, results[iid], outcomes[iid], facts),
        lambda iid: relevant_keys(iid, results[iid], outcomes[iid]),
    )
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
        provenance=_provenance(patient),
    )


def _provenance(patient: PatientInput) -> Provenance:
    """The stamp of this result: the fingerprint is computed once per criteria load; the input is
    kept by reference (serialised only when the result is)."""
    fp = fingerprint()
    return build(
        Provenance,
        tool_version=tool_version(),
        schema_version=SCHEMA_VERSION,
        criteria_sha256=fp.criteria_sha256,
        instruments=dict(fp.instruments),
        generated_at=utc_now(),
        data_sha256=dict(fp.data_sha256),
        input=patient,
    )


@cache
def _reference_fields(key: str) -> dict[str, str | None]:
    """A reference as the output shows it (formatted once; each assessment gets its own copy)."""
    return {"citation": full_citation(key), "doi": criteria().references[key].doi, "url": link(key)}


def assess_json(data: dict) -> dict:
    """Convenience for tools: input JSON → Assessment JSON."""
    return assess(PatientInput.model_validate(data)).model_dump(mode="json")


__all__ = ["SCREENING_CAVEAT", "InputWarning", "assess", "assess_json"]
