"""Load and validate `criteria/*.yaml` and `references/*.yaml` into typed specs, once.

A malformed file fails loudly at import with `CriteriaDataError` naming the file and the field, so
a typo in a threshold can never reach a patient silently.

The criteria are read from this checkout's `criteria/`, or from the directory named by the
environment variable MAS_SCREEN_CRITERIA_DIR (references stay in `references/`): to check an
edited copy with the app or the command line before it replaces the original, and to test that a
broken copy stops the app at start with a clear message.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
)

from mas_screen.criteria.schema import (
    BOOLEAN_FIELDS,
    CONTRACT_IDS,
    DATA_FILES,
    AnalytesFile,
    CriteriaDataError,
    InstrumentSpec,
    ItemSpec,
)
from mas_screen.criteria.schema_policy import EducationFile, PolicyFile, Reference
from mas_screen.criteria.snapshot import load_snapshot, save_snapshot

ROOT = Path(__file__).resolve().parents[2]
CRITERIA_DIR = ROOT / "criteria"
REFERENCES_DIR = ROOT / "references"
CRITERIA_DIR_ENV = "MAS_SCREEN_CRITERIA_DIR"
# ---------------------------------------------------------------------------------------- loading


def safe_load(stream) -> object:
    """yaml.safe_load, with libyaml's parser where available: the same documents, about ten times
    faster. PyYAML is imported here, at the first parse, not with this module: a process that loads
    the criteria snapshot parses nothing (~0.015 s of every batch run's start-up)."""
    import yaml

    return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _read_yaml(path: Path, parsed: dict[Path, object] | None = None) -> object:
    """A data file parsed (and kept in `parsed`, by path, for the provenance hash)."""
    import yaml

    try:
        with path.open(encoding="utf-8") as fh:
            data = safe_load(fh)
            if parsed is not None:
                parsed[path] = data
            return data
    except FileNotFoundError as exc:
        raise CriteriaDataError(f"{path.name}: file not found at {path}") from exc
    except yaml.YAMLError as exc:
        raise CriteriaDataError(f"{path.name}: not valid YAML: {exc}") from exc


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


def instrument_files(criteria_dir: Path) -> list[Path]:
    """Every instrument file: each criteria/*.yaml but the data files (analytes, policy, ...)."""
    if not criteria_dir.is_dir():
        raise CriteriaDataError(f"{criteria_dir.name}: criteria folder not found at {criteria_dir}")
    return sorted(p for p in criteria_dir.glob("*.yaml") if p.name not in DATA_FILES)


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


# The last load and the files it parsed (identity-checked, like the provenance fingerprint): the
# fingerprint hashes the files as parsed, and need not parse them a second time (~0.04 s per process).
_PARSED: list = [None, {}]


def parsed_files(data: CriteriaData) -> dict[Path, object]:
    """The data files the load that made `data` parsed, by path (empty if another load came since).
    Read-only: the same objects the load validated."""
    return _PARSED[1] if _PARSED[0] is data else {}


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


def criteria_dir() -> Path:
    """`criteria/` of this checkout, or the directory in MAS_SCREEN_CRITERIA_DIR when it is set."""
    override = os.environ.get(CRITERIA_DIR_ENV, "").strip()
    return Path(override) if override else CRITERIA_DIR


@cache
def criteria() -> CriteriaData:
    """The project's criteria, loaded once per process: from the snapshot setup saved when it was made
    from exactly these files and this code (criteria/snapshot.py), else read and validated."""
    directory = criteria_dir()
    saved = load_snapshot(directory, REFERENCES_DIR)
    if saved is None:
        return load_criteria(directory)
    data, parsed = saved
    _PARSED[:] = [data, parsed]
    return data


def save_criteria_snapshot(criteria_dir: Path = CRITERIA_DIR, references_dir: Path = REFERENCES_DIR) -> Path:
    """Validate the criteria and save them for later starts (criteria/snapshot.py; scripts/setup.sh)."""
    data = load_criteria(criteria_dir, references_dir)
    parsed = dict(parsed_files(data))
    # Every data file the provenance fingerprint covers (cds_hooks.yaml too, which the load does not
    # read): a process that loads the snapshot then parses no YAML at all, nor imports PyYAML.
    for path in [*sorted(criteria_dir.glob("*.yaml")), *sorted(references_dir.glob("*.yaml"))]:
        if path not in parsed:
            _read_yaml(path, parsed)
    return save_snapshot(criteria_dir, references_dir, data, parsed)


def instrument_ids() -> tuple[str, ...]:
    """The ids of every instrument in the loaded criteria, in their order."""
    return tuple(criteria().instruments)
