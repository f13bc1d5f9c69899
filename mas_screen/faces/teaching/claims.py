"""What the core computes for a case, and the checks that hold a case to it.

Nothing a case expects is typed by hand and trusted: every finding is computed by the core
(`trends.assess_series` over the panels, i.e. `engine.assess` per panel). What a case *says*
about its findings is written as machine-checkable **claims** on its teaching points, and
`check_claims` compares each with the computed results (the tests run it for every case, so a
criteria change that contradicts a teaching point fails the suite).

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

`check_case` runs every check `python -m mas_screen cases check` reports: claims, near misses,
unexpected input warnings and, for a published case, that each value taken from the paper is in
the case as the paper prints it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import ItemSpec
from mas_screen.domain.models import Assessment, ClinicalContext, CriterionResult, ItemResult, Measurement
from mas_screen.domain.series import SeriesInput, TrendResult
from mas_screen.faces.teaching.cross_checks import resolve_item_spec
from mas_screen.faces.teaching.loading import lines_of
from mas_screen.faces.teaching.schema import Case, Claim, Interpretation, Problem, PublishedSource, normal_time
from mas_screen.faces.trends import assess_series
from mas_screen.kernel.signals import phlh_instrument

RHEUMATIC_DISEASES = ("sjia", "suspected_sjia", "aosd", "sle")

INTERPRETATION_RULE = (
    "Interpretation claims are checked against a rule on the computed summary at that time point: (1) the MH score "
    "favours primary HLH (summary.phlh_signal = favours_phlh) and the patient is not outside the MH score's "
    "population → 'phlh'; (2) otherwise, MAS signal 'suggestive' → 'mas' when the patient has a rheumatic or "
    "inflammatory disease (underlying disease sJIA, suspected sJIA, AOSD or SLE, or a case whose driver is a "
    "rheumatic disease), else 'other_hlh'; (3) MAS signal 'not_suggestive' with a rheumatic background → 'flare'; "
    "(4) MAS signal 'insufficient_data' → 'unsure'. This is what the screen computes, never the answer key of "
    "practice: the clinical reading is the case author's."
)


# ---------------------------------------------------------------------------------------- computing


def case_series(case: Case) -> SeriesInput:
    """The case as the core's series input (context + dated panels). A panel's context applies to
    that panel only (docs/case-schema.md: authors repeat a finding in later panels while it persists),
    as the core's series reads a panel's context."""
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
        normal = normal_time(time)
        for p in self.trend.points:
            if p.time == normal:
                return p.assessment
        raise KeyError(f"no panel at {time!r} in case {self.case_id}")

    def context_at(self, case: Case, time: str | None = None) -> ClinicalContext:
        """The clinical context in force at a panel: the case context with that panel's own fields."""
        normal = self.times[-1] if time in (None, "last") else self.times[0] if time == "first" else normal_time(time)
        data = case.context.model_dump()
        for t, p in case.panels_in_order():
            if t == normal and p.context:
                data.update(p.context)
        return ClinicalContext.model_validate(data)


_RESULTS: OrderedDict[str, CaseResult] = OrderedDict()
_MAX_MEMO = 512  # cases computed this process (library + cases added in browser sessions)


def compute(case: Case) -> CaseResult:
    """Run the core over the case's panels, once per case content (bounded, least recently used out).

    Keyed by the case's content (a SHA-256 of its JSON, ~0.25 ms; the computation ~9 ms), so an edited
    copy of a case is never served another's result."""
    key = hashlib.sha256(case.model_dump_json().encode()).hexdigest()
    hit = _RESULTS.get(key)
    if hit is not None:
        _RESULTS.move_to_end(key)
        return hit
    trend = assess_series(case_series(case))
    result = CaseResult(
        case_id=case.id, trend=trend, last=trend.points[-1].assessment, times=[p.time for p in trend.points]
    )
    _RESULTS[key] = result
    if len(_RESULTS) > _MAX_MEMO:
        _RESULTS.popitem(last=False)
    return result


def warning_codes(result: CaseResult) -> list[str]:
    """Input warnings of every panel and series warnings (severity 'warning'), as codes."""
    codes = [w.code for p in result.trend.points for w in p.assessment.input_warnings]
    codes += [w.code for w in result.trend.warnings if w.severity == "warning"]
    return codes


def derive_interpretation(
    case: Case, assessment: Assessment, context: ClinicalContext | None = None
) -> Interpretation | None:
    """What the computed summary says at one time point, by INTERPRETATION_RULE (None: no option fits)."""
    summary = assessment.summary
    if summary.phlh_signal == "favours_phlh" and assessment.criteria[phlh_instrument()].population != "outside":
        return "phlh"
    disease = (context or case.context).underlying_disease
    rheumatic = disease in RHEUMATIC_DISEASES or case.driver == "rheumatic_disease"
    if summary.mas_signal == "suggestive":
        return "mas" if rheumatic else "other_hlh"
    if summary.mas_signal == "not_suggestive":
        return "flare" if rheumatic else None
    return "unsure"


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
    normal = normal_time(at)
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
        expected = normal_time(claim.time) if claim.time else None
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
            spec_item = resolve_item_spec(near.criterion, near.item)
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


# -------------------------------------------------------------------------------- published values


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip().replace(",", "")) if value is not None else None
    except InvalidOperation:
        return None


def _same_as_published(written: object, written_unit: str | None, published: object, pub_unit: str | None, key: str):
    """Whether the value in the case equals the published one, after converting the published value
    to the unit written in the case and rounding it as the case writes its value ('3.2 mmol/L' in
    the paper, '283 mg/dL' in the case: 283.4 rounds to 283). Returns (same, what the case holds)."""
    from mas_screen.domain.units import convert, format_number, unit_index, unit_key

    if isinstance(published, bool) or isinstance(written, bool):
        return written == published, str(written)
    w, p = _decimal(written), _decimal(published)
    if w is None or p is None:
        return str(written).strip() == str(published).strip(), str(written)
    if key in criteria().analytes.analytes and pub_unit is not None:
        accepted = unit_index(key).accepted
        source = accepted.get(unit_key(pub_unit))
        target = accepted.get(unit_key(written_unit)) if written_unit else None
        if target is None:
            target = criteria().analytes.analytes[key].unit(criteria().analytes.analytes[key].default_unit)
        if source is None:
            return False, f"{written} (the published unit {pub_unit!r} is not known)"
        p = convert(p, source, target)
        shown = f"{format_number(w)} {target.unit}"
    else:
        shown = format_number(w)
    if p == w:
        return True, shown
    exponent = w.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return p.quantize(Decimal(1).scaleb(-places)) == w.quantize(Decimal(1).scaleb(-places)), shown


def published_value_problems(case: Case) -> list[tuple[tuple, str]]:
    """Values taken from a published report that the case does not hold as published, as (path,
    message). A value listed under the panel's `adapted` map is exempt (filled in or changed, and why)."""
    src = case.source
    if not isinstance(src, PublishedSource):
        return []
    out: list[tuple[tuple, str]] = []
    result = None
    for k, pv in enumerate(src.published_values):
        where = ("source", "published_values", k)
        if pv.panel is not None and not 0 <= pv.panel < len(case.panels):
            continue  # reported by the schema
        panel = case.panels[pv.panel] if pv.panel is not None else None
        if panel is not None and panel.adapted and pv.key in panel.adapted:
            continue
        if pv.key in criteria().analytes.analytes:
            if panel is None or pv.key not in panel.labs:
                out.append(
                    (where, f"{pv.key} is not in panel {pv.panel} (mark it under that panel's adapted if left out)")
                )
                continue
            raw = panel.labs[pv.key]
            m = Measurement.model_validate(raw) if isinstance(raw, dict) else Measurement(value=raw)
            same, shown = _same_as_published(m.value, m.unit, pv.value, pv.unit, pv.key)
        else:
            if panel is None:
                value = getattr(case.context, pv.key, None)
            else:
                result = result or compute(case)
                time = normal_time(panel.time)
                value = getattr(result.context_at(case, time), pv.key, None)
            if value is None:
                out.append((where, f"{pv.key} is not given in the case's context"))
                continue
            same, shown = _same_as_published(value, None, pv.value, pv.unit, pv.key)
        if not same:
            unit = f" {pv.unit}" if pv.unit else ""
            out.append((where, f"the paper prints {pv.key} = {pv.value}{unit} ({pv.where}); the case holds {shown}"))
    return out


# -------------------------------------------------------------------------------------- full check


def check_case(case: Case, file: str | None = None) -> list[Problem]:
    """Everything `cases check` verifies beyond the schema, as problems with field and line:
    claims hold, near misses sit on their thresholds, no unexpected input warning, published values
    present as published."""
    file = file or f"{case.id}.yaml"
    lines = lines_of(case)
    out: list[Problem] = []

    def add(path: tuple | str, message: str) -> None:
        if isinstance(path, str):
            path = tuple(int(p) if p.isdigit() else p for p in path.split(".")) if path else ()
        out.append(Problem(file, ".".join(str(p) for p in path), lines.line(path), message))

    try:
        result = compute(case)
    except Exception as exc:
        add((), f"the core cannot compute this case: {exc}")
        return out
    for f in check_claims(case, result):
        add(f.where, f"claim does not hold: {f.claim} (computed: {f.actual}{f' at {f.time}' if f.time else ''})")
    for text in near_miss_check(case, result):
        add("near_miss", text)
    codes = warning_codes(result)
    unexpected = sorted(set(codes) - set(case.expected_warnings))
    missing = sorted(set(case.expected_warnings) - set(codes))
    if unexpected:
        add("panels", f"input warnings not listed under expected_warnings: {', '.join(unexpected)}")
    if missing:
        add("expected_warnings", f"expected warnings that the core does not raise: {', '.join(missing)}")
    for path, text in published_value_problems(case):
        add(path, text)
    return out
