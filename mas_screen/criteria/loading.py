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
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

ROOT = Path(__file__).resolve().parents[2]
CRITERIA_DIR = ROOT / "criteria"
REFERENCES_DIR = ROOT / "references"
CRITERIA_DIR_ENV = "MAS_SCREEN_CRITERIA_DIR"

# contract.md "Output": these criterion ids are always present (more may be added as YAML files).
CONTRACT_IDS = ("mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi")
# criteria/*.yaml files that are not instruments; every other YAML file there is one instrument.
DATA_FILES = frozenset({"analytes.yaml", "policy.yaml", "cds_hooks.yaml"})

# Every value of `context.underlying_disease` (contract), in the contract's order.
DISEASES = ("sjia", "suspected_sjia", "aosd", "sle", "other", "unknown")

# The yes/no context answers (contract "Input"), in the contract's order.
BOOLEAN_FIELDS = (
    "febrile",
    "hepatomegaly",
    "splenomegaly",
    "cns_involvement",
    "hemorrhagic_manifestations",
    "active_arthritis",
    "hemophagocytosis_marrow",
    "hemophagocytosis_other_site",
    "known_immunosuppression",
    "nk_activity_low",
    "hlh_molecular_diagnosis",
    "hematologic_malignancy",
)

Comparator = Literal[">", ">=", "<", "<="]
Confirmation = Literal["CONFIRMED-2", "CONFIRMED-1", "UNCONFIRMED", "DECISION", "ADAPTATION"]
# Strict: a threshold typed as "684" or `yes` must fail to load, never become 684 or 1.
Number = StrictInt | StrictFloat


class CriteriaDataError(RuntimeError):
    """A criteria or reference file is missing or malformed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------- analytes


class PlausibleRange(_Strict):
    min: Number
    max: Number


class UnitSpec(_Strict):
    unit: str
    ucum: str
    factor: Number | str = 1
    offset: Number = 0
    aliases: list[str] = Field(default_factory=list)

    @field_validator("factor")
    @classmethod
    def _factor_parses(cls, v: Number | str) -> Number | str:
        parse_factor(v)
        return v

    @property
    def factor_decimal(self) -> Decimal:
        return parse_factor(self.factor)


class RefusedUnit(_Strict):
    unit: str
    aliases: list[str]
    reason: str


class AnalyteSpec(_Strict):
    label: str
    default_unit: str
    loinc: list[str]
    plausible: PlausibleRange
    units: list[UnitSpec]
    refused_units: list[RefusedUnit] = Field(default_factory=list)
    negative_is_plausibility: bool = False

    @model_validator(mode="after")
    def _default_unit_listed(self) -> AnalyteSpec:
        if self.default_unit not in {u.unit for u in self.units}:
            raise ValueError(f"default_unit {self.default_unit!r} is not among units")
        return self

    def unit(self, name: str) -> UnitSpec:
        for u in self.units:
            if u.unit == name:
                return u
        raise KeyError(name)


class ContextNumberSpec(_Strict):
    label: str
    unit: str
    plausible: PlausibleRange


class FeverConvention(_Strict):
    threshold: Number
    unit: str
    source: str
    confirmation: Confirmation


class AnalytesFile(_Strict):
    fever_convention: FeverConvention
    analytes: dict[str, AnalyteSpec]
    context_numbers: dict[str, ContextNumberSpec]
    unit_systems: dict[Literal["us", "si"], dict[str, str]]

    @model_validator(mode="after")
    def _unit_systems_valid(self) -> AnalytesFile:
        for system, choice in self.unit_systems.items():
            for key, unit in choice.items():
                if key not in self.analytes:
                    raise ValueError(f"unit_systems.{system}: unknown analyte {key!r}")
                if unit not in {u.unit for u in self.analytes[key].units}:
                    raise ValueError(f"unit_systems.{system}.{key}: {unit!r} is not an accepted unit")
        return self


@cache
def parse_factor(value: Number | str) -> Decimal:
    """A conversion factor as an exact Decimal; "a/b" strings are divided at high precision."""
    if isinstance(value, str):
        try:
            if "/" in value:
                num, den = value.split("/", 1)
                return Decimal(num.strip()) / Decimal(den.strip())
            return Decimal(value.strip())
        except (InvalidOperation, ZeroDivisionError) as exc:
            raise ValueError(f"factor {value!r} is not a number or a ratio a/b") from exc
    if isinstance(value, Fraction):  # pragma: no cover - YAML gives no Fractions
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(repr(value))


# ------------------------------------------------------------------------------------ instruments


class Band(_Strict):
    points: Number
    gt: Number | None = None
    ge: Number | None = None
    lt: Number | None = None
    le: Number | None = None

    @property
    def conditions(self) -> list[tuple[str, int | float]]:
        pairs = ((">", self.gt), (">=", self.ge), ("<", self.lt), ("<=", self.le))
        return [(c, t) for c, t in pairs if t is not None]


class InfantRule(_Strict):
    """HLH-2004: a different haemoglobin threshold below a given age."""

    age_below_days: Number
    threshold: Number
    days_per_year: Number
    source: str
    confirmation: Confirmation


ItemKind = Literal[
    "threshold",  # analyte <comparator> threshold (unit)
    "flag",  # a yes/no context field
    "any_flag",  # met if any of `fields` is true (HLH-2004 haemophagocytosis)
    "fever",  # `febrile` answer, else temperature <comparator> threshold
    "bands",  # points by value band (HScore)
    "organomegaly",  # HScore: none / one of hepatomegaly, splenomegaly / both
    "organ_size",  # Parodi: organ enlarged >= n cm below the costal margin
    "lineages",  # count of cytopenic lineages (sub-items), with `required` or `points_by_count`
    "any_of",  # met if any sub-item is met (HLH-2004 triglycerides and/or fibrinogen)
    "linear",  # MS score: coefficient x value (or x 1/0 for a flag)
    "ratio",  # ferritin:ESR
    "age_at_onset",  # MH score: age at onset, falling back to current age when it decides
]

Role = Literal["entry", "mandatory", "companion", "clinical", "laboratory", "supportive", "criterion", "component"]


class ItemSpec(_Strict):
    id: str
    label: str
    kind: ItemKind
    role: Role = "criterion"
    analyte: str | None = None
    field: str | None = None
    fields: list[str] | None = None
    size_field: str | None = None
    fallback_field: str | None = None
    comparator: Comparator | None = None
    threshold: Number | None = None
    unit: str | None = None
    points: Number | None = None
    points_by_count: dict[int, Number] | None = None
    organ_points: dict[Literal["none", "one", "both"], Number] | None = None
    coefficient: Number | None = None
    bands: list[Band] | None = None
    items: list[ItemSpec] | None = None
    required: int | None = None
    numerator: str | None = None
    numerator_unit: str | None = None
    denominator: str | None = None
    denominator_unit: str | None = None
    infant_rule: InfantRule | None = None
    source: str
    confirmation: Confirmation
    note: str | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> ItemSpec:
        need: dict[str, tuple[str, ...]] = {
            "threshold": ("analyte", "comparator", "threshold", "unit"),
            "flag": ("field",),
            "any_flag": ("fields",),
            "fever": ("comparator", "threshold", "unit"),
            "bands": ("analyte", "unit", "bands"),
            "organomegaly": ("organ_points",),
            "organ_size": ("field", "size_field", "comparator", "threshold", "unit"),
            "lineages": ("items",),
            "any_of": ("items",),
            "linear": ("coefficient",),
            "ratio": ("numerator", "numerator_unit", "denominator", "denominator_unit"),
            "age_at_onset": ("field", "fallback_field", "comparator", "threshold", "unit"),
        }[self.kind]
        absent = [name for name in need if getattr(self, name) is None]
        if absent:
            raise ValueError(f"item {self.id!r} of kind {self.kind!r} needs {', '.join(absent)}")
        if self.kind == "linear" and (self.analyte is None) == (self.field is None):
            raise ValueError(f"linear item {self.id!r} needs exactly one of analyte, field")
        if self.kind == "linear" and self.analyte is not None and self.unit is None:
            raise ValueError(f"linear item {self.id!r} needs a unit")
        if self.kind == "lineages" and (self.required is None) == (self.points_by_count is None):
            raise ValueError(f"lineages item {self.id!r} needs exactly one of required, points_by_count")
        return self

    def sub_items(self) -> list[ItemSpec]:
        return list(self.items or [])


class Cutoff(_Strict):
    comparator: Comparator
    value: Number
    source: str
    confirmation: Confirmation
    label: str | None = None
    applies_to_diseases: list[str] | None = None
    note: str | None = None


class ProbabilityEdge(_Strict):
    low_percent: Number
    high_percent: Number
    label: str


class ProbabilityTable(_Strict):
    """HScore: the published score → probability table and the contract's edge labels."""

    points: list[tuple[int, Number]]
    at_or_below: int
    at_or_below_edge: ProbabilityEdge
    below_first_point: ProbabilityEdge
    above_last_point: ProbabilityEdge
    at_or_above: int
    at_or_above_edge: ProbabilityEdge
    source: str
    confirmation: Confirmation


class Caveat(_Strict):
    id: str
    text: str
    references: list[str]
    note: str | None = None  # for maintainers (how the text was checked); no face prints it
    when: Literal[
        "always",
        "outside_population",
        "biologic_il1",
        "biologic_il6",
        "biologic_il1_or_il6",
        "not_febrile",
        "at_cutoff",
        "molecular_unknown",
        "aosd",
        "fasting_unknown",
    ] = "always"


class Population(_Strict):
    description: str
    diseases: list[str] | None = None
    age_min_years: Number | None = None
    age_max_years: Number | None = None  # exclusive
    requires_field: str | None = None
    source: str


class Verdicts(_Strict):
    met: str
    not_met: str
    indeterminate: str


class Evidence(_Strict):
    """The summary's supporting / against sentence for a decided instrument. Placeholders:
    {score} (the score, or its range), {cutoff_label} ("≥ 169"), {cutoff} (169), {count_met},
    {counted} (items counted), {items} (all items), {count_assessable}, {probability}
    ("; probability 54–70%" or nothing), {items_rule} ("sCD25 > 3900 U/mL and ferritin > 1000 ng/mL").
    The `_without_score` forms are used while the score itself is not known (decided from bounds)."""

    met: str | None = None
    not_met: str | None = None
    met_without_score: str | None = None
    not_met_without_score: str | None = None


# ---------------------------------------------------------------------------- combination rules


class CountRule(_Strict):
    """Items combine by counting: every item of the `all_of` roles met, and at least n items of each
    `at_least` role (2016 criteria, HLH-2004, Parodi 2009, OHI). `counted` names the roles whose
    items give count_met / count_assessable (none: no counts); a 'yes' to the `override` field meets
    the instrument on its own (HLH-2004: a molecular diagnosis)."""

    type: Literal["count"]
    all_of: list[Role] = Field(default_factory=list)
    at_least: dict[Role, int] = Field(default_factory=dict)
    counted: list[Role] | None = None
    override: str | None = None
    override_label: str | None = None  # the override in a rule's few words: "molecular diagnosis"


class PointsRule(_Strict):
    """Points summed, a [lowest, highest] range while items are undecided, status from the cut-off."""

    type: Literal["points"]


class WeightedSumRule(_Strict):
    """A weighted sum of linear items, rounded half-up to `score_round_places` before it meets the
    cut-off; with inputs missing, decided from the sum's bounds (MS score)."""

    type: Literal["weighted_sum"]


class RatioRule(_Strict):
    """One ratio item decides; the ratio is shown rounded to `score_round_places` (ferritin:ESR)."""

    type: Literal["ratio"]


Rule = Annotated[CountRule | PointsRule | WeightedSumRule | RatioRule, Field(discriminator="type")]


class InstrumentSpec(_Strict):
    id: str
    name: str
    short_name: str
    version: str
    purpose: str
    references: list[str]
    population: Population
    verdicts: Verdicts
    evidence: Evidence = Field(default_factory=Evidence)
    items: list[ItemSpec]
    rule: Rule
    # Where the instrument stands among the others (outputs, cards, columns); ties by id.
    order: Number = 1000
    # Short tag for labels beside a threshold line ("2016 > 684"); the short name when absent.
    tag: str | None = None
    cutoff: Cutoff | None = None
    additional_cutoffs: list[Cutoff] = Field(default_factory=list)
    score_round_places: int | None = None
    # Decimals a reader sees (the JSON keeps score_round_places): MS score 2 (contract).
    display_places: int | None = None
    probability: ProbabilityTable | None = None
    performance: str | None = None
    caveats: list[Caveat] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rule_fits(self) -> InstrumentSpec:
        rule = self.rule
        roles = {i.role for i in self.items}
        if isinstance(rule, CountRule):
            named = [*rule.all_of, *rule.at_least, *(rule.counted or [])]
            absent = sorted({r for r in named if r not in roles})
            if absent:
                raise ValueError(f"rule names role(s) no item has: {', '.join(absent)}")
            if not rule.all_of and not rule.at_least:
                raise ValueError("a count rule needs all_of or at_least")
        elif isinstance(rule, PointsRule | WeightedSumRule) and self.cutoff is None:
            raise ValueError(f"a {rule.type} rule needs a cutoff")
        if isinstance(rule, WeightedSumRule):
            if self.score_round_places is None:
                raise ValueError("a weighted_sum rule needs score_round_places")
            if any(i.kind != "linear" for i in self.items):
                raise ValueError("a weighted_sum rule sums linear items only")
        if isinstance(rule, RatioRule) and (len(self.items) != 1 or self.items[0].kind != "ratio"):
            raise ValueError("a ratio rule needs exactly one item, of kind ratio")
        return self

    def item(self, item_id: str) -> ItemSpec:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)


# ------------------------------------------------------------------------------------- references


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    authors: str
    title: str
    journal: str | None = None
    publisher: str | None = None
    year: int
    volume: str | int | None = None
    issue: str | int | None = None
    pages: str | int | None = None
    doi: str | None = None
    url: str | None = None
    confirmation: Confirmation
    note: str | None = None


class EducationPoint(_Strict):
    text: str
    citation: str


class EducationLink(_Strict):
    label: str
    url: str
    citation: str


class EducationTopic(_Strict):
    id: str
    title: str
    applies_to: list[str]
    points: list[EducationPoint]
    links: list[EducationLink] = Field(default_factory=list)


class EducationFile(_Strict):
    topics: list[EducationTopic]


# ----------------------------------------------------------------------------------------- policy


class PopulationPolicy(_Strict):
    """The instruments built for one population: they alone decide the summary's signal."""

    instruments: list[str] = Field(min_length=1)
    supporting: list[str]
    references: list[str] = Field(min_length=1)
    confirmation: Confirmation
    note: str | None = None


class HeadlineGroup(_Strict):
    diseases: list[str] = Field(min_length=1)
    syndrome: str


class HeadlineWords(_Strict):
    rheumatic: HeadlineGroup
    other: HeadlineGroup
    suggestive: str
    not_suggestive: str
    insufficient: str
    insufficient_enter: str
    enter_shown: int = Field(ge=1)


class OtherPopulationWords(_Strict):
    line: str
    sentence: str
    caveat: str


class TestTier(_Strict):
    id: Literal["routine", "bedside", "specialist", "history"]
    label: str
    verb: str
    keys: list[str] = Field(min_length=1)
    note: str | None = None


class CitedText(_Strict):
    text: str
    references: list[str]
    confirmation: Confirmation | None = None
    note: str | None = None


class NextStepsWords(_Strict):
    empty_form: CitedText
    decide_own: str
    specialist_only: str
    own_decided: CitedText
    more_title: str
    more_specialist: str
    more_other: str


class SentenceMerge(_Strict):
    keys: list[str] = Field(min_length=2)
    label: str


class UnconfirmedValues(_Strict):
    qualifier: str
    instruments: list[str]
    note: str | None = None


class PhlhWords(_Strict):
    favours_phlh: str
    favours_mas: str
    insufficient_data: str
    outside: str


class ScreenCaveat(_Strict):
    """A caveat of the whole screen (policy.yaml `screen_caveats`)."""

    id: str
    when: Literal["always", "biologic_il1_or_il6", "febrile_low", "met_in_population"]
    text: str
    references: list[str]
    cited: bool = True  # the references are cited in the text ({cite}) and listed with the result
    instrument: str | None = None  # met_in_population: this instrument met ...
    diseases: list[str] | None = None  # ... with one of these underlying diseases
    note: str | None = None


class PolicyFile(_Strict):
    """criteria/policy.yaml: population -> own instruments, next-test tiers, summary wording."""

    populations: dict[str, PopulationPolicy]
    mas_instruments: list[str]
    headline: HeadlineWords
    other_population: OtherPopulationWords
    next_test_tiers: list[TestTier]
    collapsed_tiers: list[str]
    sentence_labels: dict[str, str]
    sentence_merges: list[SentenceMerge]
    next_steps: NextStepsWords
    phlh: PhlhWords
    unconfirmed_values: UnconfirmedValues
    confirmation_words: dict[Confirmation, str]
    screen_caveats: list[ScreenCaveat]
    slow_tests: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyFile:
        if set(self.populations) != set(DISEASES):
            raise ValueError(f"populations must name exactly the diseases {', '.join(DISEASES)}")
        grouped = self.headline.rheumatic.diseases + self.headline.other.diseases
        if sorted(grouped) != sorted(DISEASES):
            raise ValueError("headline: rheumatic and other diseases must together name every disease once")
        ids = [t.id for t in self.next_test_tiers]
        if len(set(ids)) != len(ids):
            raise ValueError("next_test_tiers: a tier id is listed twice")
        keys = [k for t in self.next_test_tiers for k in t.keys]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"next_test_tiers: {', '.join(twice)} in more than one tier")
        unknown_tiers = set(self.collapsed_tiers) - set(ids)
        if unknown_tiers:
            raise ValueError(f"collapsed_tiers: unknown tier(s) {', '.join(sorted(unknown_tiers))}")
        missing_words = set(Confirmation.__args__) - set(self.confirmation_words)  # type: ignore[attr-defined]
        if missing_words:
            raise ValueError(f"confirmation_words: no words for {', '.join(sorted(missing_words))}")
        return self

    def tier_of(self, key: str) -> TestTier:
        for tier in self.next_test_tiers:
            if key in tier.keys:
                return tier
        raise KeyError(key)


# ---------------------------------------------------------------------------------------- loading


# libyaml's parser when PyYAML was built with it: the same documents, about ten times faster (every
# process reads every criteria file at start).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream) -> object:
    """yaml.safe_load, with libyaml's parser where available."""
    return yaml.load(stream, Loader=SAFE_LOADER)


def _read_yaml(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as fh:
            return safe_load(fh)
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

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
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
    analytes_path = criteria_dir / "analytes.yaml"
    analytes = _validate(AnalytesFile, analytes_path, _read_yaml(analytes_path))
    refs_path = references_dir / "references.yaml"
    raw_refs = _read_yaml(refs_path)
    if not isinstance(raw_refs, dict):
        raise CriteriaDataError(f"{refs_path.name}: expected a mapping of citation keys")
    references = {key: _validate(Reference, refs_path, value, prefix=str(key)) for key, value in raw_refs.items()}
    edu_path = references_dir / "education.yaml"
    education = _validate(EducationFile, edu_path, _read_yaml(edu_path))

    found: list[InstrumentSpec] = []
    paths = instrument_files(criteria_dir)
    for iid in CONTRACT_IDS:
        if criteria_dir / f"{iid}.yaml" not in paths:
            raise CriteriaDataError(
                f"{iid}.yaml: file not found at {criteria_dir / f'{iid}.yaml'} (a contract instrument)"
            )
    for path in paths:
        spec = _validate(InstrumentSpec, path, _read_yaml(path))
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
    policy = _validate(PolicyFile, policy_path, _read_yaml(policy_path))
    _cross_check_policy(policy, policy_path, analytes, instruments, references)
    return CriteriaData(
        analytes=analytes, instruments=instruments, references=references, education=education, policy=policy
    )


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
    """The project's criteria, loaded once per process."""
    return load_criteria(criteria_dir())


def instrument_ids() -> tuple[str, ...]:
    """The ids of every instrument in the loaded criteria, in their order."""
    return tuple(criteria().instruments)
