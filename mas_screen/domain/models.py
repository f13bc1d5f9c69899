"""Typed input and output models of the public contract (shared/contract.md, schema_version "1").

Input models accept what a clinician or an outside tool sends and never judge lab values: a bad
value is kept as typed and turned into an `input_warnings` entry by `units.normalise`, not a
ValidationError. Only an unreadable shape (unknown analyte key, unknown context field, wrong type
of a yes/no answer) raises, because then nothing sensible can be computed.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from mas_screen.criteria.loading import criteria
from mas_screen.domain.fields import (  # noqa: F401  (re-exported: part of the models' vocabulary)
    BIOLOGIC_LABELS,
    BOOLEAN_FIELDS,
    CONTEXT_LABELS,
    DISEASE_LABELS,
    NUMERIC_CONTEXT_FIELDS,
    VALUE_KEPT_CODES,
    Biologic,
    Disease,
    ItemResultValue,
    PopulationFit,
    Status,
    WarningCode,
    field_label,
)
from mas_screen.kernel.inputs.parsing import JsonNumberText, NotYesNo, read_yes_no

SCHEMA_VERSION = "1"


# A raw number as typed: number, numeric or censored string (">40000"), or anything else that
# normalise() will flag as not_a_number.
RawValue = Any


class DomainModel(BaseModel):
    """Validators are built at first use, not at import: a process imports these models long before
    it validates one (and a cohort run validates one only for a cell its arrays cannot decide). The
    first assessment in a process builds them instead."""

    model_config = ConfigDict(defer_build=True)


class Measurement(DomainModel):
    """A lab value with its unit, as typed."""

    model_config = ConfigDict(extra="forbid")
    value: RawValue = None
    unit: str | None = None


class ClinicalContext(DomainModel):
    """Clinical context; every field optional and `None` means not known (never 'no')."""

    model_config = ConfigDict(extra="forbid")
    age_years: RawValue = None
    age_at_onset_years: RawValue = None
    underlying_disease: Disease | None = None
    febrile: bool | None = None
    hepatomegaly: bool | None = None
    hepatomegaly_cm: RawValue = None
    splenomegaly: bool | None = None
    splenomegaly_cm: RawValue = None
    cns_involvement: bool | None = None
    hemorrhagic_manifestations: bool | None = None
    active_arthritis: bool | None = None
    hemophagocytosis_marrow: bool | None = None
    hemophagocytosis_other_site: bool | None = None
    known_immunosuppression: bool | None = None
    nk_activity_low: bool | None = None
    hlh_molecular_diagnosis: bool | None = None
    hematologic_malignancy: bool | None = None
    biologic_therapy: Biologic | None = None

    @field_validator(*BOOLEAN_FIELDS, mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        """One strict reading of a yes/no answer everywhere (parsing.read_yes_no): true/false/null or
        the yes/no words; numbers (1, 1.0) and other words ("off") are refused, never guessed."""
        try:
            return read_yes_no(value)
        except NotYesNo as exc:
            raise ValueError(str(exc)) from None

    @property
    def disease(self) -> Disease:
        return self.underlying_disease or "unknown"

    @property
    def biologic(self) -> Biologic:
        return self.biologic_therapy or "unknown"


def null_context(value: Any) -> Any:
    """A `"context": null` is an empty context: every field not known (contract: absent or null
    means not known)."""
    return {} if value is None else value


class PatientInput(DomainModel):
    """One patient at one point in time."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    context: ClinicalContext = Field(default_factory=ClinicalContext)
    labs: dict[str, Measurement] = Field(default_factory=dict)
    # Extension: numbers typed as text use "," as the decimal mark and "." between thousands
    # (contract "Number spelling": the roles swap, nothing else changes).
    decimal_comma: bool = Field(default=False, strict=True)

    _null_context = field_validator("context", mode="before")(null_context)

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_text(cls, value: Any) -> Any:
        if isinstance(value, JsonNumberText):
            raise ValueError("id must be text, not a number")
        return value

    @field_validator("labs", mode="before")
    @classmethod
    def _labs_known_and_wrapped(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("labs must be an object mapping lab keys to values")
        known = criteria().analytes.analytes
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"unknown analyte key(s): {', '.join(map(str, unknown))}; known: {', '.join(known)}")
        return {k: v if isinstance(v, dict | Measurement) else {"value": v} for k, v in value.items()}


# ------------------------------------------------------------------------------------------ output


def build(cls: type[BaseModel], values: dict[str, Any] | None = None, /, **kwargs: Any) -> Any:
    """Construct an output model from values the engine computed itself, without re-validation
    (pydantic's model_construct). Every field must be given (checked in tests by a validate round trip)."""
    return cls.model_construct(**(kwargs if values is None else values))


class InputWarning(DomainModel):
    field: str
    code: WarningCode
    message: str
    input: str


class Probability(DomainModel):
    low_percent: int | float
    high_percent: int | float
    label: str


class ItemResult(DomainModel):
    """One item of a criterion card. Frozen: identical cards are shared between assessments."""

    model_config = ConfigDict(frozen=True)
    id: str
    label: str
    input: dict[str, Any] | None = None
    value: float | None = None
    unit: str | None = None
    threshold: str | None = None
    result: ItemResultValue
    points: int | float | None = None
    display: str | None = None  # what was entered, as typed (value and unit), or the answer given
    value_text: str | None = None  # the value in the published unit as text (censored bounds too)
    role: str | None = None
    counted: bool = True
    components: list[ItemResult] | None = None
    source: str | None = None
    confirmation: str | None = None
    note: str | None = None


class AdditionalCutoff(DomainModel):
    label: str
    comparator: str
    cutoff: int | float
    status: Status
    reference: str
    note: str | None = None


class CriterionResult(DomainModel):
    id: str
    name: str
    short_name: str
    version: str
    status: Status
    verdict: str
    score: int | float | None = None
    score_range: list[int | float] | None = None
    # Extension (MS score only): [lowest, highest] the continuous score can take given the missing
    # or censored inputs (plausible ranges), rounded to 2 dp; null when the score is exact.
    score_bounds: list[float] | None = None
    cutoff: int | float | None = None
    cutoff_label: str | None = None
    count_met: int | None = None
    count_assessable: int | None = None
    probability: Probability | None = None
    items: list[ItemResult]
    missing: list[str]
    # Extension: the inputs that, entered alone, could decide this instrument (empty once decided).
    next_tests: list[str] = Field(default_factory=list)
    population: PopulationFit
    population_description: str
    caveats: list[str]
    references: list[str]
    additional_cutoffs: list[AdditionalCutoff] = Field(default_factory=list)


NextStepsKind = Literal["empty_form", "decide_own", "specialist_only", "own_decided"]


class Summary(DomainModel):
    mas_signal: Literal["suggestive", "not_suggestive", "insufficient_data"]
    phlh_signal: Literal["favours_phlh", "favours_mas", "insufficient_data"]
    # Contract (2026-12-06): MAS/HLH instruments met that are not the patient's own, in order.
    other_population_met: list[str] = Field(default_factory=list)
    headline: str
    supporting: list[str]
    against: list[str]
    next_tests: list[str]
    caveats: list[str] = Field(default_factory=list)
    # Extensions (docs/contract-extensions.md): what every face shows under the headline.
    own_instruments: list[str] = Field(default_factory=list)
    other_population_line: str | None = None  # the grey "also met by ... indicative only" line
    indicative: list[str] = Field(default_factory=list)  # other populations' results, as indicative
    phlh_text: str = ""
    next_steps: str = ""
    next_steps_kind: NextStepsKind = "decide_own"
    next_tests_first: list[str] = Field(default_factory=list)  # own instruments, not collapsed tiers
    next_tests_specialist: list[str] = Field(default_factory=list)  # own instruments, collapsed tiers
    next_tests_other: list[str] = Field(default_factory=list)  # only other or supporting instruments


class ReferenceOut(DomainModel):
    """A cited reference. Frozen: one object per reference is shared between assessments."""

    model_config = ConfigDict(frozen=True)
    citation: str
    doi: str | None = None
    url: str | None = None


NON_FINITE_TAG = "$float"


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity: such numbers (only non-standard JSON or a library caller can
    send them) are recorded as {"$float": "nan" | "inf" | "-inf"}; `verify` reads them back as floats."""
    if isinstance(value, float) and not math.isfinite(value):
        return {NON_FINITE_TAG: repr(value)}
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class Provenance(DomainModel):
    """Extension (docs/contract-extensions.md, "Provenance"): what produced this result.

    `input` is the input as given (fields not known left out), so that `python -m mas_screen
    verify` can recompute the result under the installed criteria.
    """

    tool_version: str
    schema_version: str
    criteria_sha256: str
    instruments: dict[str, str]
    generated_at: str
    data_sha256: dict[str, str] = Field(default_factory=dict)
    input: PatientInput | None = None

    @field_serializer("input")
    def _input_json(self, value: PatientInput | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return _finite(value.model_dump(exclude_none=True))


class Assessment(DomainModel):
    schema_version: str = SCHEMA_VERSION
    criteria: dict[str, CriterionResult]
    summary: Summary
    input_warnings: list[InputWarning]
    references: dict[str, ReferenceOut]
    provenance: Provenance | None = None
