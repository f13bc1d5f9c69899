"""Teaching cases (cases/*.yaml): loading, computing, claim checking and practice-mode grading.

A case is a short constructed story with a clinical context and one or more dated lab panels.
Nothing a case expects is typed by hand and trusted: every finding is computed by the core
(`trends.assess_series` over the panels, i.e. `engine.assess` per panel). What a case *says*
about its findings is written as machine-checkable **claims** attached to its teaching points,
and `check_claims` compares each claim with the computed results (tests/test_cases.py runs it
for every case, so a criteria change that contradicts a teaching point fails the suite).

Claims (one subject, one or more predicates; `at` picks the panel: `last` (default), `first`,
`all`, `any`, or a panel time as written in the case):

    {criterion: mas2016, status: met}
    {criterion: hscore, score_between: [169, 200]}          {criterion: hscore, probability_label: "70%"}
    {criterion: ms_score, additional_cutoff: {cutoff: -1.74, status: met}}
    {criterion: mas2016, caveat_contains: "tocilizumab"}     {criterion: mas2016, population: outside}
    {item: [mas2016, platelets], result: met, value: 181}    {item: [hscore, cytopenias, wbc], result: met}
    {summary: mas_signal, equals: suggestive}                {summary: next_tests, contains: fibrinogen}
    {first_met: mas2016, time: "2026-02-05T08:00"}           {first_met: hlh2004, time: null}  (never met)
    {interpretation: mas}                                    (the rule in `derive_interpretation`)
    {change: platelets, direction: down, percent_from_first_between: [-60, -40]}

Practice mode: the trainee commits to an `Answer` (which instruments are met, the HScore band,
MAS vs flare vs primary HLH vs other HLH, the next test) and `grade()` returns `Feedback`: per
instrument the computed status, the trainee's answer and whether it agrees, each item with its
rule (the item's threshold text) and citation; the expected interpretation derived from the
computed summary by a stated rule; the next-test verdict against the computed `next_tests`; and
the case's teaching points with their citations. Scoring across a session is UI state.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mas_screen.criteria_data import ROOT, ItemSpec, criteria, instrument_ids
from mas_screen.explain.results import probability
from mas_screen.models import (
    BOOLEAN_FIELDS,
    CONTEXT_LABELS,
    NUMERIC_CONTEXT_FIELDS,
    Assessment,
    ClinicalContext,
    CriterionResult,
    ItemResult,
    PopulationFit,
    Status,
    field_label,
)
from mas_screen.references import full_citation
from mas_screen.score_display import shown_score
from mas_screen.trends import Panel, SeriesInput, TimeError, TrendResult, assess_series, format_time, parse_time
from mas_screen.units import format_number

CASES_DIR = ROOT / "cases"
CONSTRUCTED = "constructed for teaching"
RHEUMATIC_DISEASES = ("sjia", "suspected_sjia", "aosd", "sle")

InstrumentId = Literal["mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi"]
Interpretation = Literal["mas", "flare", "phlh", "other_hlh", "unsure"]
Driver = Literal["rheumatic_disease", "infection", "malignancy", "inborn_error", "unknown"]
SummaryField = Literal["mas_signal", "phlh_signal", "next_tests", "supporting", "against", "caveats", "headline"]

INTERPRETATION_LABELS: dict[str, str] = {
    "mas": "MAS (secondary HLH) complicating a rheumatic or inflammatory disease",
    "flare": "Flare of the underlying disease without a MAS signal",
    "phlh": "Primary (familial) HLH favoured",
    "other_hlh": "Secondary HLH driven by something other than a rheumatic disease (infection, malignancy, unknown)",
    "unsure": "Cannot tell yet: the data entered do not decide the screen",
}

INTERPRETATION_RULE = (
    "Expected interpretation, from the computed summary at that time point: (1) the MH score favours primary HLH "
    "(summary.phlh_signal = favours_phlh) and the patient is not outside the MH score's population → 'phlh'; "
    "(2) otherwise, MAS signal 'suggestive' → 'mas' when the patient has a rheumatic or inflammatory disease "
    "(underlying disease sJIA, suspected sJIA, AOSD or SLE, or a case whose driver is a rheumatic disease), "
    "else 'other_hlh'; (3) MAS signal 'not_suggestive' with a rheumatic background → 'flare'; "
    "(4) MAS signal 'insufficient_data' → 'unsure' (the data do not decide yet)."
)


# HScore bands for practice mode, read from criteria/hscore.yaml: the published cut-off (169), the
# additional cut-off recorded there (Bilston 2022, 200) and the first score the published table gives
# as > 99% (`probability.at_or_above`, 250). Scores are whole points.
def _hscore_bands() -> dict[str, tuple[int, int | None]]:
    spec = criteria().instruments["hscore"]
    assert spec.cutoff is not None and spec.probability is not None
    edges = [int(spec.cutoff.value), *(int(c.value) for c in spec.additional_cutoffs)]
    edges.append(int(spec.probability.at_or_above))
    bands = {f"<{edges[0]}": (0, edges[0] - 1)}
    for low, high in pairwise(edges):
        bands[f"{low}-{high - 1}"] = (low, high - 1)
    bands[f">={edges[-1]}"] = (edges[-1], None)
    return bands


HSCORE_BANDS: dict[str, tuple[int, int | None]] = _hscore_bands()
HScoreBand = Literal["<169", "169-199", "200-249", ">=250", "cannot_tell"]
if set(get_args(HScoreBand)) != {*HSCORE_BANDS, "cannot_tell"}:  # the answer type must follow the data
    raise RuntimeError(f"criteria/hscore.yaml gives HScore bands {list(HSCORE_BANDS)}; update HScoreBand in cases.py")


class CaseDataError(RuntimeError):
    """A case file is missing, malformed or contradicts the criteria data (names file and field)."""


# ------------------------------------------------------------------------------------------ schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class Claim(_Strict):
    """A machine-checkable statement about the computed results (see the module docstring)."""

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
        subjects = [
            n
            for n in ("criterion", "item", "summary", "first_met", "interpretation", "change")
            if getattr(self, n) is not None
        ]
        if len(subjects) != 1:
            raise ValueError(
                "a claim needs exactly one subject of criterion, item, summary, first_met, interpretation, change"
            )
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
        for n in ("criterion", "item", "summary", "first_met", "interpretation", "change"):
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
            name = _short_name(self.first_met)
            return f"{name} first met at {self.time}" if self.time else f"{name} never met"
        if subject == "interpretation":
            return f"expected interpretation '{self.interpretation}' {when}"
        parts: list[str] = []
        if subject == "criterion":
            head = _short_name(self.criterion)
            for name in (n for n in CLAIM_FIELDS["criterion"] if n != "additional_cutoff"):
                if name in self.model_fields_set:
                    parts.append(f"{name.replace('_', ' ')} {_show(getattr(self, name))}")
            if self.additional_cutoff is not None:
                parts.append(
                    f"at cut-off {format_number(self.additional_cutoff.cutoff)}: {self.additional_cutoff.status}"
                )
        elif subject == "item":
            head = f"{_short_name(self.item[0])} item {'/'.join(self.item[1:])}"
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


def _short_name(iid: str) -> str:
    return criteria().instruments[iid].short_name


class TeachingPoint(_Strict):
    text: str
    citation: str
    claims: list[Claim] = Field(default_factory=list)


class CasePanel(_Strict):
    time: str
    label: str | None = None
    story: str | None = None  # what has happened by this time point (the case story tells the start only)
    labs: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] | None = None  # fields that change at this panel (override the case context)


class NearMiss(_Strict):
    """A value (or score) the case places exactly on a published threshold; checked by the tests."""

    criterion: InstrumentId
    item: list[str] | None = None  # [item id] or [item id, component id]; None: the score itself
    at: str = "last"
    note: str | None = None


class Case(_Strict):
    id: str
    title: str
    story: str
    source: str
    tags: list[str] = Field(default_factory=list)
    driver: Driver | None = None
    expected_interpretation: Interpretation | None = None
    context: ClinicalContext
    panels: list[CasePanel] = Field(min_length=1)
    learning_objectives: list[str] = Field(min_length=1)
    teaching_points: list[TeachingPoint] = Field(min_length=1)
    claims: list[Claim] = Field(default_factory=list)  # findings not tied to one teaching point
    near_miss: list[NearMiss] = Field(default_factory=list)
    expected_warnings: list[str] = Field(default_factory=list)  # input/series warning codes the case expects

    @field_validator("story", "title")
    @classmethod
    def _squash(cls, value: str) -> str:
        return " ".join(value.split())

    @property
    def constructed(self) -> bool:
        return self.source == CONSTRUCTED

    @property
    def source_text(self) -> str:
        return "Constructed for teaching" if self.constructed else f"Adapted from {full_citation(self.source)}"

    @property
    def times(self) -> list[str]:
        """Panel times, normalised as the trend result reports them, in time order."""
        return sorted((_normal_time(p.time) for p in self.panels), key=lambda t: parse_time(t).value)

    def all_claims(self) -> list[tuple[str, Claim]]:
        """Every claim with where it is written ('teaching_points.2.claims.0', 'claims.1')."""
        out = [
            (f"teaching_points.{i}.claims.{j}", c)
            for i, tp in enumerate(self.teaching_points)
            for j, c in enumerate(tp.claims)
        ]
        out += [(f"claims.{j}", c) for j, c in enumerate(self.claims)]
        return out


def _normal_time(text: str) -> str:
    return format_time(parse_time(text).value)


# ------------------------------------------------------------------------------------------ loading


def _fail(path: Path, where: str, msg: str) -> None:
    raise CaseDataError(f"{path.name}: field {where}: {msg}")


def load_case_file(path: Path) -> Case:
    """Read and validate one case file; raises CaseDataError naming the file and the field."""
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise CaseDataError(f"{path.name}: file not found at {path}") from exc
    except yaml.YAMLError as exc:
        raise CaseDataError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise CaseDataError(
            f"{path.name}: field {where}: {first['msg']} ({exc.error_count()} problem(s) in all)"
        ) from exc
    _cross_check(case, path)
    return case


def _cross_check(case: Case, path: Path) -> None:
    refs = criteria().references
    if case.id != path.stem:
        _fail(path, "id", f"{case.id!r} does not match the file name {path.stem!r}")
    if case.source != CONSTRUCTED and case.source not in refs:
        _fail(path, "source", f"{case.source!r} is neither {CONSTRUCTED!r} nor a citation key in references.yaml")
    for i, tp in enumerate(case.teaching_points):
        if tp.citation not in refs:
            _fail(path, f"teaching_points.{i}.citation", f"unknown citation key {tp.citation!r}")
    # Panels: times readable and distinct, labs and context readable by the core's own models.
    seen: set[str] = set()
    for i, panel in enumerate(case.panels):
        try:
            normal = _normal_time(panel.time)
        except TimeError as exc:
            _fail(path, f"panels.{i}.time", str(exc))
        if normal in seen:
            _fail(path, f"panels.{i}.time", f"two panels at {normal}")
        seen.add(normal)
        try:
            Panel.model_validate({"time": panel.time, "labs": panel.labs, "context": panel.context})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            _fail(path, f"panels.{i}.{where}", first["msg"])
    times = set(case.times)
    for where, claim in case.all_claims():
        _check_claim_refs(claim, where, path, times)
    for i, near in enumerate(case.near_miss):
        _check_at(near.at, f"near_miss.{i}.at", path, times)
        if near.item is not None:
            _resolve_item_spec(near.criterion, near.item, path, f"near_miss.{i}.item")
        elif criteria().instruments[near.criterion].cutoff is None:
            _fail(path, f"near_miss.{i}", f"{near.criterion} has no score cut-off; name an item")


def _check_at(at: str, where: str, path: Path, times: set[str]) -> None:
    if at in ("last", "first", "all", "any"):
        return
    try:
        normal = _normal_time(at)
    except TimeError as exc:
        _fail(path, where, f"{at!r}: {exc}")
    if normal not in times:
        _fail(path, where, f"{at!r} is not the time of a panel of this case")


def _resolve_item_spec(iid: str, path_ids: list[str], path: Path | None = None, where: str = "") -> ItemSpec:
    spec = criteria().instruments[iid]
    items = spec.items
    found: ItemSpec | None = None
    for part in path_ids:
        found = next((it for it in items if it.id == part), None)
        if found is None:
            msg = f"{iid} has no item {'/'.join(path_ids)!r}"
            if path is None:
                raise KeyError(msg)
            _fail(path, where, msg)
        items = found.sub_items()
    return found


def _check_claim_refs(claim: Claim, where: str, path: Path, times: set[str]) -> None:
    _check_at(claim.at, f"{where}.at", path, times)
    if claim.item is not None:
        if claim.item[0] not in instrument_ids():
            _fail(path, f"{where}.item", f"unknown instrument {claim.item[0]!r}")
        _resolve_item_spec(claim.item[0], claim.item[1:], path, f"{where}.item")
    if claim.first_met is not None and claim.time is not None:
        _check_at(claim.time, f"{where}.time", path, times)
    if claim.change is not None and claim.change not in criteria().analytes.analytes:
        _fail(path, f"{where}.change", f"unknown lab key {claim.change!r}")
    if claim.summary == "next_tests":
        for key in (claim.contains, claim.not_contains):
            if key is not None and not _known_input(key):
                _fail(path, f"{where}.contains", f"{key!r} is not an input key")


def _known_input(key: str) -> bool:
    return key in criteria().analytes.analytes or key in CONTEXT_LABELS


@cache
def _load_all(directory: Path) -> tuple[Case, ...]:
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise CaseDataError(f"no case files in {directory}")
    cases = tuple(load_case_file(p) for p in paths)
    ids = [c.id for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:  # pragma: no cover - ids match unique file names
        raise CaseDataError(f"duplicate case ids: {', '.join(sorted(dupes))}")
    return cases


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    """Every case in cases/*.yaml, validated (cached per directory; fails loudly naming file + field)."""
    return list(_load_all(directory))


def case_by_id(case_id: str, directory: Path = CASES_DIR) -> Case:
    for case in _load_all(directory):
        if case.id == case_id:
            return case
    raise KeyError(case_id)


# ---------------------------------------------------------------------------------------- computing


def case_series(case: Case) -> SeriesInput:
    """The case as the core's series input (context + dated panels)."""
    return SeriesInput.model_validate(
        {
            "id": case.id,
            "context": case.context.model_dump(exclude_none=True),
            "panels": [
                {"time": p.time, "labs": p.labs} | ({"context": p.context} if p.context is not None else {})
                for p in case.panels
            ],
        }
    )


class CaseResult(BaseModel):
    """What the core computes for a case: the series result and the last panel's assessment."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    case_id: str
    trend: TrendResult
    last: Assessment
    times: list[str]

    def at(self, time: str | None = None) -> Assessment:
        """The assessment at a panel time (as written or normalised); the last panel by default."""
        if time is None or time == "last":
            return self.last
        if time == "first":
            return self.trend.points[0].assessment
        normal = _normal_time(time)
        for p in self.trend.points:
            if p.time == normal:
                return p.assessment
        raise KeyError(f"no panel at {time!r} in case {self.case_id}")

    def context_at(self, case: Case, time: str | None = None) -> ClinicalContext:
        """The clinical context in force at a panel (case context with that panel's overrides)."""
        normal = self.times[-1] if time in (None, "last") else self.times[0] if time == "first" else _normal_time(time)
        data = case.context.model_dump()
        for p in case.panels:
            if _normal_time(p.time) == normal and p.context:
                data.update(p.context)
        return ClinicalContext.model_validate(data)


_RESULTS: dict[int, tuple[Case, CaseResult]] = {}


def compute(case: Case) -> CaseResult:
    """Run the core over the case's panels (memoised per case object)."""
    hit = _RESULTS.get(id(case))
    if hit is not None and hit[0] is case:
        return hit[1]
    trend = assess_series(case_series(case))
    result = CaseResult(
        case_id=case.id, trend=trend, last=trend.points[-1].assessment, times=[p.time for p in trend.points]
    )
    _RESULTS[id(case)] = (case, result)
    return result


def warning_codes(result: CaseResult) -> list[str]:
    """Input warnings of every panel and series warnings (severity 'warning'), as codes."""
    codes = [w.code for p in result.trend.points for w in p.assessment.input_warnings]
    codes += [w.code for w in result.trend.warnings if w.severity == "warning"]
    return codes


# ----------------------------------------------------------------------------------- interpretation


def derive_interpretation(
    case: Case, assessment: Assessment, context: ClinicalContext | None = None
) -> Interpretation | None:
    """The expected interpretation at one time point by INTERPRETATION_RULE (None: no option fits)."""
    summary = assessment.summary
    if summary.phlh_signal == "favours_phlh" and assessment.criteria["mh_score"].population != "outside":
        return "phlh"
    disease = (context or case.context).underlying_disease
    rheumatic = disease in RHEUMATIC_DISEASES or case.driver == "rheumatic_disease"
    if summary.mas_signal == "suggestive":
        return "mas" if rheumatic else "other_hlh"
    if summary.mas_signal == "not_suggestive":
        return "flare" if rheumatic else None
    return "unsure"


def hscore_band(result: CriterionResult) -> HScoreBand:
    """The band of a computed HScore; 'cannot_tell' while the score range crosses a band edge."""
    if result.score is not None:
        lo = hi = int(result.score)
    elif result.score_range is not None:
        lo, hi = int(result.score_range[0]), int(result.score_range[1])
    else:  # pragma: no cover - a point score always has a score or a range
        return "cannot_tell"
    for band, (low, high) in HSCORE_BANDS.items():
        if low <= lo and (high is None or hi <= high):
            return band  # type: ignore[return-value]
    return "cannot_tell"


def hscore_band_descriptions() -> dict[str, str]:
    """Each band with the published probabilities at its ends (read from the table, never typed here)."""
    table = criteria().instruments["hscore"].probability
    out: dict[str, str] = {}
    for band, (low, high) in HSCORE_BANDS.items():
        if high is None:
            out[band] = f"HScore ≥ {low}: probability {probability(low, table).label}"
        else:
            lo_p, hi_p = probability(low, table).label, probability(high, table).label
            out[band] = f"HScore {low}–{high}: probability {lo_p} to {hi_p}"
    out["cannot_tell"] = "Cannot tell yet: missing items leave the possible score range across a band edge"
    return out


# ------------------------------------------------------------------------------------------- claims


class ClaimFailure(BaseModel):
    case_id: str
    where: str  # 'teaching_points.1.claims.0'
    claim: str  # the claim in words
    time: str | None
    actual: str


def _points(result: CaseResult, at: str) -> list[tuple[str, Assessment]]:
    pts = [(p.time, p.assessment) for p in result.trend.points]
    if at == "last":
        return pts[-1:]
    if at == "first":
        return pts[:1]
    if at in ("all", "any"):
        return pts
    normal = _normal_time(at)
    return [(t, a) for t, a in pts if t == normal]


def find_item(result: CriterionResult, path_ids: list[str]) -> ItemResult:
    items = result.items
    found: ItemResult | None = None
    for part in path_ids:
        found = next((it for it in items or [] if it.id == part), None)
        if found is None:
            raise KeyError(f"{result.id} has no item {'/'.join(path_ids)!r}")
        items = found.components
    return found


def _eq(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and Decimal(repr(float(a))) == Decimal(repr(float(b)))


def _criterion_ok(claim: Claim, r: CriterionResult) -> tuple[bool, str]:
    problems: list[str] = []
    given = claim.model_fields_set
    if "status" in given and r.status != claim.status:
        problems.append(f"status {r.status}")
    if "score" in given and not _eq(r.score, claim.score):
        problems.append(f"score {r.score}")
    if "score_between" in given:
        lo, hi = claim.score_between
        if r.score is None or not lo <= r.score <= hi:
            problems.append(f"score {r.score} (range {r.score_range})")
    if "score_range" in given and (
        r.score_range is None or [float(x) for x in r.score_range] != list(claim.score_range)
    ):
        problems.append(f"score range {r.score_range}")
    if "probability_label" in given:
        label = r.probability.label if r.probability else None
        if label != claim.probability_label:
            problems.append(f"probability {label}")
    if "count_met" in given and r.count_met != claim.count_met:
        problems.append(f"count met {r.count_met}")
    if "count_assessable" in given and r.count_assessable != claim.count_assessable:
        problems.append(f"count assessable {r.count_assessable}")
    if "population" in given and r.population != claim.population:
        problems.append(f"population {r.population}")
    if claim.additional_cutoff is not None:
        extra = next((a for a in r.additional_cutoffs if _eq(a.cutoff, claim.additional_cutoff.cutoff)), None)
        if extra is None or extra.status != claim.additional_cutoff.status:
            problems.append(f"additional cut-off {extra.status if extra else 'not reported'}")
    if "caveat_contains" in given and not any(claim.caveat_contains in c for c in r.caveats):
        problems.append("no caveat contains the text")
    if "missing_contains" in given and claim.missing_contains not in r.missing:
        problems.append(f"missing {r.missing}")
    return not problems, "; ".join(problems)


def _item_ok(claim: Claim, a: Assessment) -> tuple[bool, str]:
    it = find_item(a.criteria[claim.item[0]], claim.item[1:])
    problems: list[str] = []
    given = claim.model_fields_set
    if "result" in given and it.result != claim.result:
        problems.append(f"result {it.result}")
    if "value" in given and not _eq(it.value, claim.value):
        problems.append(f"value {it.value}")
    if "points" in given and not _eq(it.points, claim.points):
        problems.append(f"points {it.points}")
    return not problems, "; ".join(problems)


def _summary_ok(claim: Claim, a: Assessment) -> tuple[bool, str]:
    value = getattr(a.summary, claim.summary)
    given = claim.model_fields_set
    problems: list[str] = []
    if "equals" in given and value != claim.equals:
        problems.append(f"{claim.summary} is {value!r}")
    if isinstance(value, list):
        exact = claim.summary == "next_tests"

        def has(text: str) -> bool:
            return text in value if exact else any(text in v for v in value)

        if "contains" in given and not has(claim.contains):
            problems.append(f"{claim.summary} is {value!r}")
        if "not_contains" in given and has(claim.not_contains):
            problems.append(f"{claim.summary} is {value!r}")
    else:
        if "contains" in given and claim.contains not in value:
            problems.append(f"{claim.summary} is {value!r}")
        if "not_contains" in given and claim.not_contains in value:
            problems.append(f"{claim.summary} is {value!r}")
    return not problems, "; ".join(problems)


def _change_ok(claim: Claim, result: CaseResult, time: str) -> tuple[bool, str]:
    rows = [c for c in result.trend.changes.get(claim.change, []) if c.time == time]
    if not rows:
        return False, f"no {claim.change} value at {time}"
    row = rows[-1]
    problems: list[str] = []
    if claim.direction is not None and row.direction != claim.direction:
        problems.append(f"direction {row.direction}")
    if claim.percent_from_first_between is not None:
        lo, hi = claim.percent_from_first_between
        pct = row.change_from_first_percent
        if pct is None or not lo <= pct <= hi:
            problems.append(f"change from first {pct}%")
    return not problems, "; ".join(problems)


def evaluate_claim(case: Case, claim: Claim, result: CaseResult) -> list[tuple[str | None, str]]:
    """Failures of one claim as (time, what was computed); empty when the claim holds."""
    subject = claim.subject
    if subject == "first_met":
        actual = result.trend.first_met.get(claim.first_met)
        expected = _normal_time(claim.time) if claim.time else None
        return [] if actual == expected else [(None, f"first met {actual}")]
    outcomes: list[tuple[str, bool, str]] = []
    for time, a in _points(result, claim.at):
        if subject == "criterion":
            ok, why = _criterion_ok(claim, a.criteria[claim.criterion])
        elif subject == "item":
            ok, why = _item_ok(claim, a)
        elif subject == "summary":
            ok, why = _summary_ok(claim, a)
        elif subject == "interpretation":
            got = derive_interpretation(case, a, result.context_at(case, time))
            ok, why = got == claim.interpretation, f"interpretation {got}"
        else:
            ok, why = _change_ok(claim, result, time)
        outcomes.append((time, ok, why))
    if claim.at == "any":
        return [] if any(ok for _, ok, _ in outcomes) else [(t, w) for t, _, w in outcomes]
    return [(t, w) for t, ok, w in outcomes if not ok]


def check_claims(case: Case, result: CaseResult | None = None) -> list[ClaimFailure]:
    """Every claim of the case that the computed results contradict (empty: all hold)."""
    result = result or compute(case)
    failures: list[ClaimFailure] = []
    for where, claim in case.all_claims():
        for time, actual in evaluate_claim(case, claim, result):
            failures.append(
                ClaimFailure(case_id=case.id, where=where, claim=claim.describe(), time=time, actual=actual)
            )
    return failures


def near_miss_check(case: Case, result: CaseResult | None = None) -> list[str]:
    """Problems with the case's near-miss declarations: each value must sit exactly on its threshold."""
    result = result or compute(case)
    problems: list[str] = []
    for near in case.near_miss:
        for time, a in _points(result, near.at):
            r = a.criteria[near.criterion]
            if near.item is None:
                if not _eq(r.score, r.cutoff):
                    problems.append(f"{near.criterion} score {r.score} is not the cut-off {r.cutoff} at {time}")
                continue
            spec_item = _resolve_item_spec(near.criterion, near.item)
            it = find_item(r, near.item)
            thresholds = _item_thresholds(spec_item)
            if not any(_eq(it.value, t) for t in thresholds):
                problems.append(
                    f"{near.criterion}/{'/'.join(near.item)} value {it.value} is not on a threshold "
                    f"{thresholds} at {time}"
                )
    return problems


def _item_thresholds(item: ItemSpec) -> list[float]:
    if item.kind == "bands":
        return sorted({t for b in item.bands for _, t in b.conditions})
    out = [item.threshold] if item.threshold is not None else []
    if item.infant_rule is not None:
        out.append(item.infant_rule.threshold)
    return out


# ------------------------------------------------------------------------------------------ grading


class Answer(BaseModel):
    """A trainee's committed answer for one time point of a case."""

    model_config = ConfigDict(extra="forbid")
    met_instruments: set[InstrumentId] = Field(default_factory=set)
    hscore_band: HScoreBand | None = None  # None: not answered
    interpretation: Interpretation | None = None  # None: not answered
    next_test: str | None = None  # an input key (lab key or context field); None: "no further test needed"

    @field_validator("next_test")
    @classmethod
    def _known_key(cls, value: str | None) -> str | None:
        if value is not None and not _known_input(value):
            raise ValueError(f"{value!r} is not an input key (a lab key or a context field)")
        return value


class ItemFeedback(BaseModel):
    id: str
    label: str
    entered: str | None  # what was entered, as typed
    value_text: str | None  # in the criterion's published unit
    rule: str | None  # the item's threshold text, e.g. '> 684 ng/mL'
    result: str  # met / not_met / missing
    points: float | None
    citation_key: str | None
    citation: str | None
    components: list[ItemFeedback] = Field(default_factory=list)


class InstrumentFeedback(BaseModel):
    id: str
    name: str
    expected_status: Status
    answered_met: bool
    correct: bool
    explanation: str
    score_text: str | None
    population: PopulationFit
    missing: list[str]
    items: list[ItemFeedback]
    citation_keys: list[str]
    citations: list[str]
    caveats: list[str]


class HScoreFeedback(BaseModel):
    expected: HScoreBand
    answered: HScoreBand | None
    correct: bool
    score_text: str
    probability: str | None
    bands: dict[str, str]
    citation: str


class InterpretationFeedback(BaseModel):
    expected: Interpretation | None
    answered: Interpretation | None
    correct: bool | None  # None: not graded (no option fits the computed signals)
    mas_signal: str
    phlh_signal: str
    headline: str
    rule: str
    explanation: str


class NextTestFeedback(BaseModel):
    expected: list[str]  # computed summary.next_tests
    expected_labels: list[str]
    answered: str | None
    answered_label: str | None
    correct: bool
    explanation: str


class TeachingPointOut(BaseModel):
    text: str
    citation_key: str
    citation: str
    claims: list[str]  # the computed findings the point relies on, in words


class Feedback(BaseModel):
    case_id: str
    time: str
    instruments: list[InstrumentFeedback]
    hscore: HScoreFeedback
    interpretation: InterpretationFeedback
    next_test: NextTestFeedback
    teaching_points: list[TeachingPointOut]
    learning_objectives: list[str]
    correct: int
    total: int


def _item_feedback(item: ItemResult) -> ItemFeedback:
    return ItemFeedback(
        id=item.id,
        label=item.label,
        entered=item.display,
        value_text=item.value_text,
        rule=item.threshold,
        result=item.result,
        points=item.points,
        citation_key=item.source,
        citation=full_citation(item.source) if item.source else None,
        components=[_item_feedback(c) for c in item.components or []],
    )


def _score_text(r: CriterionResult) -> str | None:
    if r.score is not None:
        text = str(shown_score(r))
    elif r.score_range is not None:
        text = f"{format_number(r.score_range[0])}–{format_number(r.score_range[1])} (range: items missing)"
    elif r.count_met is not None:
        return f"{r.count_met} criteria met ({r.count_assessable} assessable)"
    else:
        return None
    if r.cutoff_label:
        text += f" (cut-off {r.cutoff_label})"
    return text


def _instrument_feedback(r: CriterionResult, answered_met: bool) -> InstrumentFeedback:
    expected_met = r.status == "met"
    correct = expected_met == answered_met
    if r.status == "met":
        why = "Met." if correct else "Not ticked, but the criteria are met."
    elif r.status == "not_met":
        why = "Not met." if correct else "Ticked, but the criteria are not met."
    else:
        why = "Indeterminate: the missing inputs could still change it, so it is not met yet" + (
            f" (missing: {', '.join(field_label(k) for k in r.missing)})." if r.missing else "."
        )
        if not correct:
            why = "Ticked, but it cannot be met yet. " + why
    if r.population == "outside":
        why += " The patient is outside the population it was derived in (see caveats)."
    return InstrumentFeedback(
        id=r.id,
        name=r.name,
        expected_status=r.status,
        answered_met=answered_met,
        correct=correct,
        explanation=why,
        score_text=_score_text(r),
        population=r.population,
        missing=list(r.missing),
        items=[_item_feedback(it) for it in r.items],
        citation_keys=list(r.references),
        citations=[full_citation(k) for k in r.references],
        caveats=list(r.caveats),
    )


def _hscore_feedback(r: CriterionResult, answered: HScoreBand | None) -> HScoreFeedback:
    expected = hscore_band(r)
    bands = hscore_band_descriptions()
    score = _score_text(r) or "not computable"
    return HScoreFeedback(
        expected=expected,
        answered=answered,
        correct=answered == expected,
        score_text=score,
        probability=r.probability.label if r.probability else None,
        bands=bands,
        citation=full_citation("fardet2014"),
    )


def _interpretation_feedback(
    case: Case, a: Assessment, context: ClinicalContext, answered: Interpretation | None
) -> InterpretationFeedback:
    expected = derive_interpretation(case, a, context)
    s = a.summary
    if expected is None:
        correct, text = None, "No MAS/HLH signal and no rheumatic background: none of the options fits; not graded."
    else:
        correct = answered == expected
        rheumatic = context.underlying_disease in RHEUMATIC_DISEASES or case.driver == "rheumatic_disease"
        text = (
            f"Expected: {INTERPRETATION_LABELS[expected]}. Computed: MAS signal '{s.mas_signal}', "
            f"MH score signal '{s.phlh_signal}', rheumatic or inflammatory background: {'yes' if rheumatic else 'no'}."
        )
        if answered == "unsure" and expected != "unsure":
            text += " You answered 'unsure', but the computed screen decides this time point."
        if s.phlh_signal == "favours_phlh" and expected != "phlh":
            text += " The MH score favours primary HLH, but the patient is outside its population."
    return InterpretationFeedback(
        expected=expected,
        answered=answered,
        correct=correct,
        mas_signal=s.mas_signal,
        phlh_signal=s.phlh_signal,
        headline=s.headline,
        rule=INTERPRETATION_RULE,
        explanation=text,
    )


def _next_test_feedback(a: Assessment, answered: str | None) -> NextTestFeedback:
    expected = list(a.summary.next_tests)
    labels = [field_label(k) for k in expected]
    if not expected:
        correct = answered is None
        text = (
            "Every instrument is already decided: no single further input would change a result."
            if correct
            else f"{field_label(answered)} would not change any result: every instrument is already decided."
        )
    elif answered is None:
        correct = False
        text = "Some instruments are still undecided; tests that could decide them: " + ", ".join(labels) + "."
    elif answered in expected:
        correct = True
        deciding = [
            r.short_name for r in a.criteria.values() if r.status == "indeterminate" and answered in r.next_tests
        ]
        text = f"{field_label(answered)} could decide " + ", ".join(deciding) + "." if deciding else "Correct."
    else:
        correct = False
        text = (
            f"{field_label(answered)} would not decide any undecided instrument on its own; tests that could: "
            + ", ".join(labels)
            + "."
        )
    return NextTestFeedback(
        expected=expected,
        expected_labels=labels,
        answered=answered,
        answered_label=field_label(answered) if answered else None,
        correct=correct,
        explanation=text,
    )


def teaching_points_out(case: Case) -> list[TeachingPointOut]:
    return [
        TeachingPointOut(
            text=tp.text,
            citation_key=tp.citation,
            citation=full_citation(tp.citation),
            claims=[c.describe() for c in tp.claims],
        )
        for tp in case.teaching_points
    ]


def resolve_time(case: Case, at_time: str | None) -> str:
    times = case.times
    if at_time in (None, "last"):
        return times[-1]
    if at_time == "first":
        return times[0]
    normal = _normal_time(at_time)
    if normal not in times:
        raise KeyError(f"no panel at {at_time!r} in case {case.id}")
    return normal


def grade(case: Case, answer: Answer, at_time: str | None = None) -> Feedback:
    """Compare a trainee's answer with what the core computes for the case at one panel (last by default)."""
    result = compute(case)
    time = resolve_time(case, at_time)
    a = result.at(time)
    context = result.context_at(case, time)
    instruments = [_instrument_feedback(a.criteria[iid], iid in answer.met_instruments) for iid in instrument_ids()]
    hs = _hscore_feedback(a.criteria["hscore"], answer.hscore_band)
    interp = _interpretation_feedback(case, a, context, answer.interpretation)
    nxt = _next_test_feedback(a, answer.next_test)
    marks = [f.correct for f in instruments] + [hs.correct, nxt.correct]
    if interp.correct is not None:
        marks.append(interp.correct)
    return Feedback(
        case_id=case.id,
        time=time,
        instruments=instruments,
        hscore=hs,
        interpretation=interp,
        next_test=nxt,
        teaching_points=teaching_points_out(case),
        learning_objectives=list(case.learning_objectives),
        correct=sum(marks),
        total=len(marks),
    )


def model_answer(case: Case, at_time: str | None = None) -> Answer:
    """The answer the computed results support (for 'show me' in the UI and for tests)."""
    result = compute(case)
    time = resolve_time(case, at_time)
    a = result.at(time)
    return Answer(
        met_instruments={iid for iid in instrument_ids() if a.criteria[iid].status == "met"},
        hscore_band=hscore_band(a.criteria["hscore"]),
        interpretation=derive_interpretation(case, a, result.context_at(case, time)),
        next_test=a.summary.next_tests[0] if a.summary.next_tests else None,
    )


def input_choices() -> dict[str, str]:
    """Every input key a trainee may name as the next test, with its label (labs, then context)."""
    keys = list(criteria().analytes.analytes) + list(BOOLEAN_FIELDS) + list(NUMERIC_CONTEXT_FIELDS)
    return {k: field_label(k) for k in keys}


__all__ = [
    "CONSTRUCTED",
    "HSCORE_BANDS",
    "INTERPRETATION_LABELS",
    "INTERPRETATION_RULE",
    "Answer",
    "Case",
    "CaseDataError",
    "CaseResult",
    "Claim",
    "ClaimFailure",
    "Feedback",
    "case_by_id",
    "case_series",
    "check_claims",
    "compute",
    "derive_interpretation",
    "grade",
    "hscore_band",
    "hscore_band_descriptions",
    "load_case_file",
    "load_cases",
    "model_answer",
    "near_miss_check",
    "teaching_points_out",
]
