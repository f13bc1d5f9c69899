"""assess(): every instrument on one panel, plus the summary a clinician reads first."""

from __future__ import annotations

from mas_screen.criteria.loading import criteria, per_load
from mas_screen.criteria.provenance import SCHEMA_VERSION, fingerprint, tool_version, utc_now
from mas_screen.criteria.references import full_citation, link
from mas_screen.domain.models import Assessment, CriterionResult, PatientInput, Provenance, ReferenceOut
from mas_screen.explain.results import criterion_result
from mas_screen.explain.summary import slow_tests, summarise
from mas_screen.kernel.inputs.facts import normalise
from mas_screen.kernel.instruments import instruments
from mas_screen.kernel.ops import MISSING
from mas_screen.kernel.values import PatientValues


def assess(patient: PatientInput) -> Assessment:
    facts, warnings = normalise(patient)
    v = PatientValues(facts)
    results: dict[str, CriterionResult] = {}
    relevant: dict[str, list[str]] = {}
    slow = slow_tests()
    for iid, instrument in instruments().items():
        verdict = instrument.evaluate(v)
        missing = instrument.missing(verdict)
        decisive: list[str] = []
        if verdict.status == MISSING:
            decisive = instrument.decisive(v, verdict, missing, slow)
            found = instrument.relevant(v, verdict, dict.fromkeys(missing, True), slow)
            relevant[iid] = [key for key, listed in found.items() if listed]
        results[iid] = criterion_result(instrument, verdict, facts, missing, decisive)
    summary, summary_refs = summarise(results, facts, relevant)
    keys: dict[str, None] = {}
    for r in results.values():
        keys.update(dict.fromkeys(r.references))
    keys.update(dict.fromkeys(summary_refs))
    return Assessment(
        schema_version="1",
        criteria=results,
        summary=summary,
        input_warnings=warnings,
        references={k: _reference(k) for k in keys},
        provenance=_provenance(patient),
    )


def _provenance(patient: PatientInput) -> Provenance:
    """The stamp of this result: the fingerprint is computed once per criteria load; the input is
    kept as given (serialised only when the result is)."""
    fp = fingerprint()
    return Provenance(
        tool_version=tool_version(),
        schema_version=SCHEMA_VERSION,
        criteria_sha256=fp.criteria_sha256,
        instruments=dict(fp.instruments),
        generated_at=utc_now(),
        data_sha256=dict(fp.data_sha256),
        input=patient,
    )


@per_load
def _reference(key: str) -> ReferenceOut:
    """A reference as the output shows it, made once per process (frozen, shared)."""
    return ReferenceOut(citation=full_citation(key), doi=criteria().references[key].doi, url=link(key))


def assess_json(data: dict) -> dict:
    """Convenience for tools: input JSON → Assessment JSON."""
    return assess(PatientInput.model_validate(data)).model_dump(mode="json")


__all__ = ["assess", "assess_json"]
