"""The teaching-case schema (docs/case-schema.md, version 2; version 1 files still load); loading is in
`loading`, the cross-checks against the criteria data in `cross_checks`.

A case is a story, a clinical context and dated lab panels. What the core computes (statuses,
scores) is never typed in a case; what the author *judges* is: per panel the clinical reading with
its rationale and the ranked next steps, each with citations. Every problem is reported with the
file, the field (dotted path) and the line it was written on, all of them at once, so an educator
can fix a case in one pass.

Version: a case that uses any version-2 field (a `source` mapping, `themes`, `difficulty`, or a
panel's `answer`, `next_steps`, `short_label` or `adapted`) is read as version 2, and then every
version-2 requirement applies (themes, difficulty, an answer and 3-6 ranked next steps per panel).
A case with none of them is version 1: it loads, and practice grades what it can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StringConstraints,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from mas_screen.criteria.loading import ROOT, criteria
from mas_screen.criteria.references import full_citation
from mas_screen.domain.models import ClinicalContext, PopulationFit, Status
from mas_screen.domain.units import format_number
from mas_screen.faces.teaching.yaml_lines import LineMap
from mas_screen.kernel.inputs.times import format_time, parse_time

CASES_DIR = ROOT / "cases"
CONSTRUCTED = "constructed for teaching"
MAX_CASE_BYTES = 200_000  # a long case is ~10 kB; anything near this is not a case
MAX_PANELS = 30

InstrumentId = Literal["mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi"]
# The case-level reading of version 1 (also what `derive_interpretation` and `interpretation` claims use).
Interpretation = Literal["mas", "flare", "phlh", "other_hlh", "unsure"]
# The authored reading of a panel (version 2).
Reading = Literal["mas", "flare", "primary_hlh", "other_hlh", "not_hlh", "not_enough_data"]
READING_OF_INTERPRETATION: dict[str, str] = {"phlh": "primary_hlh", "unsure": "not_enough_data"}
Driver = Literal["rheumatic_disease", "infection", "malignancy", "inborn_error", "drug", "unknown"]
SummaryField = Literal["mas_signal", "phlh_signal", "next_tests", "supporting", "against", "caveats", "headline"]
Grade = Literal["best", "acceptable", "unhelpful"]
Theme = Literal[
    "sjia-mas",
    "sjia-flare",
    "aosd-mas",
    "aosd-flare",
    "jsle-mas",
    "kawasaki",
    "biologic-blunted",
    "primary-hlh",
    "infection-hlh",
    "malignancy-hlh",
    "sepsis-mimic",
    "mis-c",
    "drug-reaction",
    "other-mimic",
    "dynamics",
    "near-miss",
    "units",
]
THEME_LABELS: dict[str, str] = {
    "sjia-mas": "MAS in systemic JIA",
    "sjia-flare": "sJIA flare, not MAS",
    "aosd-mas": "MAS in adult-onset Still's disease",
    "aosd-flare": "AOSD flare, not MAS",
    "jsle-mas": "MAS in lupus",
    "kawasaki": "Kawasaki disease",
    "biologic-blunted": "MAS under IL-1/IL-6 blockade",
    "primary-hlh": "Primary HLH",
    "infection-hlh": "Infection-associated HLH (incl. EBV)",
    "malignancy-hlh": "Malignancy-associated HLH",
    "sepsis-mimic": "Sepsis mimic",
    "mis-c": "MIS-C",
    "drug-reaction": "Drug reaction (DRESS)",
    "other-mimic": "Other mimic",
    "dynamics": "Serial labs (dynamics)",
    "near-miss": "Threshold teaching (near misses)",
    "units": "Unit traps",
}
READING_LABELS: dict[str, str] = {
    "mas": "MAS complicating a rheumatic or inflammatory disease",
    "flare": "The underlying disease (a flare, or quiet), not MAS",
    "primary_hlh": "Primary (familial) HLH",
    "other_hlh": "Secondary HLH from another driver (infection, malignancy, drug, unknown)",
    "not_hlh": "Not HLH: another condition explains the picture (sepsis, a drug reaction, an infection alone)",
    "not_enough_data": "Not enough data to decide yet",
}
GRADE_LABELS = {"best": "best", "acceptable": "acceptable", "unhelpful": "unhelpful"}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3000)]
CaseId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
StepId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
DOI = re.compile(r"^10\.\d{4,9}/\S+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _squash(value: str) -> str:
    return " ".join(value.split())


# ------------------------------------------------------------------------------------------ claims


class AdditionalCutoffClaim(_Strict):
    cutoff: float
    status: Status


# Which checks each kind of claim may use (the subject is the one field set among the keys).
CLAIM_FIELDS: dict[str, tuple[str, ...]] = {
    "criterion": (
        "status",
        "score",
        "score_between",
        "score_range",
        "probability_label",
        "count_met",
        "count_assessable",
        "population",
        "additional_cutoff",
        "caveat_contains",
        "missing_contains",
    ),
    "item": ("result", "value", "points"),
    "summary": ("equals", "contains", "not_contains"),
    "first_met": ("time",),
    "interpretation": (),
    "change": ("direction", "percent_from_first_between"),
}
SUBJECTS = tuple(CLAIM_FIELDS)


class Claim(_Strict):
    """A machine-checkable statement about the computed results (see claims.py)."""

    at: str = "last"
    # subjects (exactly one)
    criterion: InstrumentId | None = None
    item: list[str] | None = None
    summary: SummaryField | None = None
    first_met: InstrumentId | None = None
    interpretation: Interpretation | None = None
    change: str | None = None
    # criterion predicates
    status: Status | None = None
    score: float | None = None
    score_between: tuple[float, float] | None = None
    score_range: tuple[float, float] | None = None
    probability_label: str | None = None
    count_met: int | None = None
    count_assessable: int | None = None
    population: PopulationFit | None = None
    additional_cutoff: AdditionalCutoffClaim | None = None
    caveat_contains: str | None = None
    missing_contains: str | None = None
    # item predicates
    result: Literal["met", "not_met", "missing"] | None = None
    value: float | None = None
    points: float | None = None
    # summary predicates
    equals: str | None = None
    contains: str | None = None
    not_contains: str | None = None
    # first_met predicate (null: never met)
    time: str | None = None
    # change predicates
    direction: Literal["up", "down", "same"] | None = None
    percent_from_first_between: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_subject_with_predicates(self) -> Claim:
        subjects = [n for n in SUBJECTS if getattr(self, n) is not None]
        if len(subjects) != 1:
            raise ValueError(f"a claim needs exactly one subject of {', '.join(SUBJECTS)}")
        subject = subjects[0]
        allowed = CLAIM_FIELDS[subject]
        every = {name for names in CLAIM_FIELDS.values() for name in names}
        given = {n for n in every if n in self.model_fields_set}
        stray = given - set(allowed)
        if stray:
            raise ValueError(f"a {subject} claim cannot use {', '.join(sorted(stray))}")
        if subject == "first_met":
            if "time" not in self.model_fields_set:
                raise ValueError("a first_met claim needs time (null for 'never met')")
        elif subject != "interpretation" and not given:
            raise ValueError(f"a {subject} claim needs at least one of {', '.join(allowed)}")
        if self.summary in ("mas_signal", "phlh_signal") and ("contains" in given or "not_contains" in given):
            raise ValueError(f"summary {self.summary} takes equals, not contains")
        if subject == "item" and not 2 <= len(self.item) <= 3:
            raise ValueError("item is [instrument, item id] or [instrument, item id, component id]")
        return self

    @property
    def subject(self) -> str:
        for n in SUBJECTS:
            if getattr(self, n) is not None:
                return n
        raise AssertionError("validated")  # pragma: no cover

    def describe(self) -> str:
        """The claim in words, for feedback and failure messages."""
        when = {"last": "at the last panel", "first": "at the first panel", "all": "at every panel"}.get(
            self.at, "at some panel" if self.at == "any" else f"at {self.at}"
        )
        subject = self.subject
        if subject == "first_met":
            name = short_name(self.first_met)
            return f"{name} first met at {self.time}" if self.time else f"{name} never met"
        if subject == "interpretation":
            return f"expected interpretation '{self.interpretation}' {when}"
        parts: list[str] = []
        if subject == "criterion":
            head = short_name(self.criterion)
            for name in (n for n in CLAIM_FIELDS["criterion"] if n != "additional_cutoff"):
                if name in self.model_fields_set:
                    parts.append(f"{name.replace('_', ' ')} {_show(getattr(self, name))}")
            if self.additional_cutoff is not None:
                parts.append(
                    f"at cut-off {format_number(self.additional_cutoff.cutoff)}: {self.additional_cutoff.status}"
                )
        elif subject == "item":
            head = f"{short_name(self.item[0])} item {'/'.join(self.item[1:])}"
            parts = [f"{n} {_show(getattr(self, n))}" for n in CLAIM_FIELDS["item"] if n in self.model_fields_set]
        elif subject == "summary":
            head = f"summary {self.summary}"
            parts = [
                f"{n.replace('_', ' ')} {_show(getattr(self, n))}"
                for n in CLAIM_FIELDS["summary"]
                if n in self.model_fields_set
            ]
        else:
            head = f"change in {self.change}"
            if self.direction:
                parts.append(f"direction {self.direction}")
            if self.percent_from_first_between:
                parts.append(f"percent from first in {_show(self.percent_from_first_between)}")
        return f"{head}: {', '.join(parts)} {when}"


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def short_name(iid: str) -> str:
    return criteria().instruments[iid].short_name


class TeachingPoint(_Strict):
    text: LongText
    citation: str
    claims: list[Claim] = Field(default_factory=list, max_length=40)


class NearMiss(_Strict):
    """A value (or score) the case places exactly on a published threshold; checked by the tests."""

    criterion: InstrumentId
    item: list[str] | None = None  # [item id] or [item id, component id]; None: the score itself
    at: str = "last"
    note: str | None = None


# ---------------------------------------------------------------------------------- version 2 parts


class PanelAnswer(_Strict):
    """The author's clinical reading at a panel, with why and the sources (shown in feedback)."""

    reading: Reading
    rationale: LongText
    references: list[str] = Field(default_factory=list, max_length=12)


class NextStep(_Strict):
    """One option of 'what next?', graded by the author: best (full credit), acceptable (partial),
    unhelpful (none, with the reason)."""

    id: StepId
    text: ShortText
    grade: Grade
    rationale: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)]
    references: list[str] = Field(default_factory=list, max_length=12)


class PublishedValue(_Strict):
    """One value taken from a published report, as the paper prints it."""

    panel: int | None  # None: a context value (age, ...)
    key: str
    value: bool | int | float | str
    unit: str | None = None
    where: Text


class PublishedSource(_Strict):
    kind: Literal["published"]
    citation: LongText
    doi: str
    reference: str | None = None
    taken: LongText
    adapted: LongText | None = None
    published_values: list[PublishedValue] = Field(min_length=1, max_length=400)

    @field_validator("doi")
    @classmethod
    def _bare_doi(cls, value: str) -> str:
        value = value.strip()
        if value.lower().startswith(("http://", "https://", "doi:")):
            raise ValueError("give the bare DOI (10.xxxx/...), without 'https://doi.org/' or 'doi:'")
        if not DOI.match(value):
            raise ValueError(f"{value!r} is not a DOI (10.xxxx/...)")
        return value


class ConstructedSource(_Strict):
    kind: Literal["constructed"]
    purpose: LongText


def _source_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "text"
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)  # data, or a model
    return kind if kind in ("published", "constructed") else None


Source = Annotated[
    Annotated[str, Tag("text")]
    | Annotated[PublishedSource, Tag("published")]
    | Annotated[ConstructedSource, Tag("constructed")],
    Discriminator(
        _source_kind,
        custom_error_type="source_kind",
        custom_error_message=(
            "source is a mapping with kind: published (citation, doi, taken, published_values) or "
            "kind: constructed (purpose); version 1 also reads the text 'constructed for teaching'"
        ),
    ),
]


class CasePanel(_Strict):
    time: str
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)] | None = None
    short_label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)] | None = None
    story: LongText | None = None  # what has happened since the previous panel (the case story tells the start)
    labs: dict[str, Any] = Field(default_factory=dict, max_length=60)
    context: dict[str, Any] | None = None  # context fields that differ at this panel (this panel only)
    adapted: dict[str, ShortText] | None = None  # values filled in or changed from the published report
    answer: PanelAnswer | None = None
    next_steps: list[NextStep] | None = Field(default=None, max_length=12)

    @property
    def uses_version_2(self) -> bool:
        return any(getattr(self, n) is not None for n in ("short_label", "adapted", "answer", "next_steps"))


class Case(_Strict):
    _lines: LineMap = PrivateAttr(default_factory=LineMap)  # where each value was written (when loaded)
    id: CaseId
    title: LongText
    story: LongText
    source: Source
    themes: list[Theme] = Field(default_factory=list, max_length=17)
    difficulty: Literal[1, 2, 3] | None = None
    tags: list[str] = Field(default_factory=list, max_length=40)
    driver: Driver | None = None
    expected_interpretation: Interpretation | Reading | None = None
    context: ClinicalContext
    panels: list[CasePanel] = Field(min_length=1, max_length=MAX_PANELS)
    learning_objectives: list[LongText] = Field(min_length=1, max_length=20)
    teaching_points: list[TeachingPoint] = Field(min_length=1, max_length=20)
    claims: list[Claim] = Field(default_factory=list, max_length=100)  # findings not tied to one teaching point
    near_miss: list[NearMiss] = Field(default_factory=list, max_length=20)
    expected_warnings: list[str] = Field(default_factory=list, max_length=40)  # warning codes the case expects

    @field_validator("story", "title")
    @classmethod
    def _squash_text(cls, value: str) -> str:
        return _squash(value)

    @property
    def version(self) -> int:
        v2 = (
            not isinstance(self.source, str)
            or bool(self.themes)
            or self.difficulty is not None
            or any(p.uses_version_2 for p in self.panels)
        )
        return 2 if v2 else 1

    @property
    def published(self) -> bool:
        return isinstance(self.source, PublishedSource)

    @property
    def constructed(self) -> bool:
        return isinstance(self.source, ConstructedSource) or self.source == CONSTRUCTED

    @property
    def source_kind(self) -> Literal["published", "constructed"]:
        return (
            "published" if self.published or (isinstance(self.source, str) and not self.constructed) else "constructed"
        )

    @property
    def source_text(self) -> str:
        """One line for the reader: 'Adapted from <citation>' or 'Constructed for teaching: <purpose>'."""
        src = self.source
        if isinstance(src, PublishedSource):
            return f"Adapted from {src.citation} doi:{src.doi}"
        if isinstance(src, ConstructedSource):
            return f"Constructed for teaching: {src.purpose}"
        return "Constructed for teaching" if src == CONSTRUCTED else f"Adapted from {full_citation(src)}"

    @property
    def source_doi(self) -> str | None:
        return self.source.doi if isinstance(self.source, PublishedSource) else None

    @property
    def times(self) -> list[str]:
        """Panel times, normalised as the trend result reports them, in time order."""
        return sorted((normal_time(p.time) for p in self.panels), key=lambda t: parse_time(t).value)

    def panels_in_order(self) -> list[tuple[str, CasePanel]]:
        """The panels in time order, each with its normalised time."""
        return sorted(((normal_time(p.time), p) for p in self.panels), key=lambda tp: parse_time(tp[0]).value)

    def panel_at(self, time: str) -> CasePanel:
        normal = normal_time(time)
        for t, p in self.panels_in_order():
            if t == normal:
                return p
        raise KeyError(f"no panel at {time!r} in case {self.id}")

    def all_claims(self) -> list[tuple[str, Claim]]:
        """Every claim with where it is written ('teaching_points.2.claims.0', 'claims.1')."""
        out = [
            (f"teaching_points.{i}.claims.{j}", c)
            for i, tp in enumerate(self.teaching_points)
            for j, c in enumerate(tp.claims)
        ]
        out += [(f"claims.{j}", c) for j, c in enumerate(self.claims)]
        return out

    @property
    def final_reading(self) -> str | None:
        """The case-level reading: the last panel's authored reading, else the version-1 field."""
        last = self.panels_in_order()[-1][1]
        if last.answer is not None:
            return last.answer.reading
        if self.expected_interpretation is None:
            return None
        return READING_OF_INTERPRETATION.get(self.expected_interpretation, self.expected_interpretation)


def normal_time(text: str) -> str:
    return format_time(parse_time(text).value)


# ------------------------------------------------------------------------------------------ problems


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a case: where (file, field, line) and what, in words."""

    file: str
    field: str  # dotted path ('panels.0.labs.ferritin'); '' for the whole file
    line: int | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field}")
        return ": ".join([*where, self.message])


class CaseDataError(RuntimeError):
    """A case cannot be used; `problems` lists every problem found (file, field, line, message)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "case data error"
        more = f" ({len(problems)} problems in all)" if len(problems) > 1 else ""
        super().__init__(first + more)

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)


PathT = tuple[str | int, ...]


def _dotted(path: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in path)


_PYDANTIC_WORDS = {
    "extra_forbidden": "unknown field (not in the case schema; see docs/case-schema.md)",
    "missing": "required field is missing",
}


def _data_path(loc: tuple, data: Any) -> PathT:
    """A pydantic error location as a path into the data: union tags and validator names, which are
    not keys of the data, are left out (the last element may be a missing key and is kept)."""
    out: list[str | int] = []
    node = data
    for k, part in enumerate(loc):
        last = k == len(loc) - 1
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            out.append(part)
            node = node[part]
        elif last:
            out.append(part)
        # else: a tag of a union ('published', 'function-after[...]'): not part of the data
    return tuple(out)


def _message(err: dict) -> str:
    kind = err.get("type", "")
    if kind in _PYDANTIC_WORDS:
        return _PYDANTIC_WORDS[kind]
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def validation_problems(
    exc: ValidationError, data: Any, lines: LineMap, file: str, prefix: PathT = ()
) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors():
        path = (*prefix, *_data_path(tuple(err["loc"]), data))
        out.append(Problem(file, _dotted(path) or "(top level)", lines.line(path), _message(err)))
    return out
