"""The typed schema of criteria/*.yaml: analytes (units, factors, plausible ranges), instrument items and
their bands, caveats, and each combination rule (count, points, weighted sum, ratio). Strict: an unknown
key is an error."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from mas_screen.criteria.errors import CriteriaDataError  # noqa: F401  (re-exported: loaders raise it)
from mas_screen.criteria.spec_methods import (  # noqa: F401  (re-exported: the schema's names)
    BOOLEAN_FIELDS,
    CONTRACT_IDS,
    DATA_FILES,
    DISEASES,
    AnalyteSpecMethods,
    BandMethods,
    InstrumentSpecMethods,
    ItemSpecMethods,
    UnitSpecMethods,
    parse_factor,
)

Comparator = Literal[">", ">=", "<", "<="]
Confirmation = Literal["CONFIRMED-2", "CONFIRMED-1", "UNCONFIRMED", "DECISION", "ADAPTATION"]
# Strict: a threshold typed as "684" or `yes` must fail to load, never become 684 or 1.
Number = StrictInt | StrictFloat


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # see validation.CriteriaData


# --------------------------------------------------------------------------------------- analytes


class PlausibleRange(_Strict):
    min: Number
    max: Number


class UnitSpec(_Strict, UnitSpecMethods):
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


class RefusedUnit(_Strict):
    unit: str
    aliases: list[str]
    reason: str


class AnalyteSpec(_Strict, AnalyteSpecMethods):
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


# ------------------------------------------------------------------------------------ instruments


class Band(_Strict, BandMethods):
    points: Number
    gt: Number | None = None
    ge: Number | None = None
    lt: Number | None = None
    le: Number | None = None


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


class ItemSpec(_Strict, ItemSpecMethods):
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
    ("; probability 54–70%" or nothing), {items_rule} ("sCD25 > 3900 U/mL and ferritin > 1000 ng/mL"),
    {bound} (a status decided before the score is known: the side it lies on, "≥ 1.06", as every face
    phrases it, explain.phrases.bound), {whatever} ("whatever the missing or bounded values").
    The `_without_score` forms are used while the score itself is not known (decided from bounds).
    `not_met_gate` (a count rule with `all_of` roles) is used when one of those items is not met, so
    the sentence names the gate that failed ({failed}: "ferritin (mandatory) not met (600 ng/mL; rule
    > 684 ng/mL)") instead of a count of companion criteria that did not decide it."""

    met: str | None = None
    not_met: str | None = None
    met_without_score: str | None = None
    not_met_without_score: str | None = None
    not_met_gate: str | None = None


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


class InstrumentSpec(_Strict, InstrumentSpecMethods):
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
