"""Validating the criteria: every data file against the schema (pydantic), then cross-checked
(citations, analytes, units, policy). criteria/loading.py loads this on first use; a process that
reads the snapshot saved by setup never needs it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from mas_screen.criteria.data_files import (
    _PARSED,
    CRITERIA_DIR,
    REFERENCES_DIR,
    _read_yaml,
    instrument_files,
)
from mas_screen.criteria.schema import (
    BOOLEAN_FIELDS,
    CONTRACT_IDS,
    AnalytesFile,
    CriteriaDataError,
    InstrumentSpec,
    ItemSpec,
)
from mas_screen.criteria.schema_policy import EducationFile, PolicyFile, Reference


def _validate(model: type[BaseModel], path: Path, data: object, prefix: str = ""):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ([prefix] if prefix else []) + list(first["loc"])) or "(top level)"
        raise CriteriaDataError(
            f"{path.name}: field {where}: {first['msg']} ({exc.error_count()} problem(s) in all)"
        ) from exc


class CriteriaData(BaseModel):
    """Everything the rules read, validated and cross-checked."""

    # defer_build (here and on every schema model): validators are built when something validates,
    # not at import; a process that loads the snapshot never needs them.
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)
    analytes: AnalytesFile
    instruments: dict[str, InstrumentSpec]
    references: dict[str, Reference]
    education: EducationFile
    policy: PolicyFile


def load_criteria(criteria_dir: Path = CRITERIA_DIR, references_dir: Path = REFERENCES_DIR) -> CriteriaData:
    """Read and cross-check every data file; raises CriteriaDataError naming file and field."""
    parsed: dict[Path, object] = {}
    analytes_path = criteria_dir / "analytes.yaml"
    analytes = _validate(AnalytesFile, analytes_path, _read_yaml(analytes_path, parsed))
    refs_path = references_dir / "references.yaml"
    raw_refs = _read_yaml(refs_path, parsed)
    if not isinstance(raw_refs, dict):
        raise CriteriaDataError(f"{refs_path.name}: expected a mapping of citation keys")
    references = {key: _validate(Reference, refs_path, value, prefix=str(key)) for key, value in raw_refs.items()}
    edu_path = references_dir / "education.yaml"
    education = _validate(EducationFile, edu_path, _read_yaml(edu_path, parsed))

    found: list[InstrumentSpec] = []
    paths = instrument_files(criteria_dir)
    for iid in CONTRACT_IDS:
        if criteria_dir / f"{iid}.yaml" not in paths:
            raise CriteriaDataError(
                f"{iid}.yaml: file not found at {criteria_dir / f'{iid}.yaml'} (a contract instrument)"
            )
    for path in paths:
        spec = _validate(InstrumentSpec, path, _read_yaml(path, parsed))
        if spec.id != path.stem:
            raise CriteriaDataError(f"{path.name}: field id: {spec.id!r} does not match the file name")
        _cross_check(spec, path, analytes, references)
        found.append(spec)
    instruments = {spec.id: spec for spec in sorted(found, key=lambda s: (s.order, s.id))}

    for topic in education.topics:
        for cited in [p.citation for p in topic.points] + [link.citation for link in topic.links]:
            if cited not in references:
                raise CriteriaDataError(f"{edu_path.name}: topic {topic.id}: unknown citation key {cited!r}")

    # Read by name, never as an instrument (DATA_FILES above).
    policy_path = criteria_dir / "policy.yaml"
    policy = _validate(PolicyFile, policy_path, _read_yaml(policy_path, parsed))
    _cross_check_policy(policy, policy_path, analytes, instruments, references)
    data = CriteriaData(
        analytes=analytes, instruments=instruments, references=references, education=education, policy=policy
    )
    _PARSED[:] = [data, parsed]
    return data


def _cross_check_policy(
    policy: PolicyFile,
    path: Path,
    analytes: AnalytesFile,
    instruments: dict[str, InstrumentSpec],
    references: dict[str, Reference],
) -> None:
    def fail(where: str, msg: str) -> None:
        raise CriteriaDataError(f"{path.name}: field {where}: {msg}")

    def check_refs(where: str, keys: list[str]) -> None:
        for i, key in enumerate(keys):
            if key not in references:
                fail(f"{where}.{i}", f"unknown citation key {key!r}")

    for disease, pop in policy.populations.items():
        for name, ids in (("instruments", pop.instruments), ("supporting", pop.supporting)):
            for i, iid in enumerate(ids):
                if iid not in instruments:
                    fail(f"populations.{disease}.{name}.{i}", f"unknown instrument {iid!r}")
        if set(pop.instruments) & set(pop.supporting):
            fail(f"populations.{disease}.supporting", "an own instrument cannot also be a supporting one")
        if not set(pop.instruments) <= set(policy.mas_instruments):
            fail(f"populations.{disease}.instruments", "own instruments must be MAS/HLH instruments (mas_instruments)")
        check_refs(f"populations.{disease}.references", pop.references)
    listed = [("phlh.instrument", policy.phlh.instrument)]
    listed += [
        (f"panels.{p}.instruments.{i}", iid)
        for p, panel in enumerate(policy.panels)
        for i, iid in enumerate(panel.instruments)
    ]
    listed += [
        (f"{name}.{i}", iid)
        for name in ("score_gauges", "cohort_scores")
        for i, iid in enumerate(getattr(policy, name))
    ]
    for where, iid in listed:
        if iid not in instruments:
            fail(where, f"unknown instrument {iid!r}")
    for name in ("score_gauges", "cohort_scores"):
        for i, iid in enumerate(getattr(policy, name)):
            if instruments[iid].rule.type not in ("points", "weighted_sum") or instruments[iid].cutoff is None:
                fail(f"{name}.{i}", f"{iid} is not a score with a cut-off")
    for i, iid in enumerate(policy.mas_instruments):
        if iid not in instruments:
            fail(f"mas_instruments.{i}", f"unknown instrument {iid!r}")
    if len(set(policy.mas_instruments)) != len(policy.mas_instruments):
        fail("mas_instruments", "an instrument is listed twice")
    known = set(analytes.analytes) | set(analytes.context_numbers) | set(BOOLEAN_FIELDS)
    for t, tier in enumerate(policy.next_test_tiers):
        for i, key in enumerate(tier.keys):
            if key not in known:
                fail(f"next_test_tiers.{t}.keys.{i}", f"unknown input key {key!r}")
    # That every input an instrument reads sits in a tier is checked where items are compiled
    # (kernel.instruments: the item kinds know which inputs they read).
    for key in policy.sentence_labels:
        if key not in known:
            fail(f"sentence_labels.{key}", f"unknown input key {key!r}")
    for m, merge in enumerate(policy.sentence_merges):
        for i, key in enumerate(merge.keys):
            if key not in known:
                fail(f"sentence_merges.{m}.keys.{i}", f"unknown input key {key!r}")
        if len({policy.tier_of(k).id for k in merge.keys}) != 1:
            fail(f"sentence_merges.{m}.keys", "merged keys must sit in one tier")
    for i, iid in enumerate(policy.unconfirmed_values.instruments):
        spec = instruments.get(iid)
        if spec is None:
            fail(f"unconfirmed_values.instruments.{i}", f"unknown instrument {iid!r}")
        tags = [c.confirmation for c in (spec.cutoff, *spec.additional_cutoffs) if c is not None]
        tags += [item.confirmation for item in _walk_items(spec.items)]
        if "UNCONFIRMED" not in tags:
            fail(f"unconfirmed_values.instruments.{i}", f"{iid} has no UNCONFIRMED item or cut-off any more")
    for c, cav in enumerate(policy.screen_caveats):
        check_refs(f"screen_caveats.{c}.references", cav.references)
        if cav.when == "met_in_population" and (cav.instrument not in instruments or not cav.diseases):
            fail(f"screen_caveats.{c}", "met_in_population needs a known instrument and diseases")
    for i, key in enumerate(policy.slow_tests):
        if key not in known:
            fail(f"slow_tests.{i}", f"unknown input key {key!r}")
    check_refs("next_steps.empty_form.references", policy.next_steps.empty_form.references)
    check_refs("next_steps.own_decided.references", policy.next_steps.own_decided.references)


def _walk_items(items: list[ItemSpec]) -> list[ItemSpec]:
    out: list[ItemSpec] = []
    for item in items:
        out += [item, *_walk_items(item.sub_items())]
    return out


def _cross_check(spec: InstrumentSpec, path: Path, analytes: AnalytesFile, references: dict[str, Reference]) -> None:
    def fail(where: str, msg: str) -> None:
        raise CriteriaDataError(f"{path.name}: field {where}: {msg}")

    def check_ref(where: str, key: str) -> None:
        if key not in references:
            fail(where, f"unknown citation key {key!r}")

    for i, key in enumerate(spec.references):
        check_ref(f"references.{i}", key)
    check_ref("population.source", spec.population.source)
    for i, cav in enumerate(spec.caveats):
        for key in cav.references:
            check_ref(f"caveats.{i}.references", key)
    for name, cut in [("cutoff", spec.cutoff)] + [
        (f"additional_cutoffs.{i}", c) for i, c in enumerate(spec.additional_cutoffs)
    ]:
        if cut is not None:
            check_ref(f"{name}.source", cut.source)
    if spec.probability is not None:
        check_ref("probability.source", spec.probability.source)

    def walk(items: list[ItemSpec], prefix: str) -> None:
        for i, item in enumerate(items):
            where = f"{prefix}.{i}({item.id})"
            check_ref(f"{where}.source", item.source)
            for analyte, unit in [
                (item.analyte, item.unit),
                (item.numerator, item.numerator_unit),
                (item.denominator, item.denominator_unit),
            ]:
                if analyte is None:
                    continue
                if analyte not in analytes.analytes:
                    fail(f"{where}.analyte", f"unknown analyte {analyte!r}")
                if unit not in {u.unit for u in analytes.analytes[analyte].units}:
                    fail(f"{where}.unit", f"unit {unit!r} is not an accepted unit of {analyte}")
            if item.infant_rule is not None:
                check_ref(f"{where}.infant_rule.source", item.infant_rule.source)
            walk(item.sub_items(), f"{where}.items")

    walk(spec.items, "items")
