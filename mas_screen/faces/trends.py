"""Serial panels: one Assessment per time point, the change in each lab, and when each instrument
was first met (contract.md "Series").

The expert consensus on dynamics (Ravelli 2016, RMD Open) names the change in platelets, ferritin
and AST (then WBC, neutrophils, fibrinogen, ESR) as what matters most, but sets no percent-change
cut-off: this module reports changes and directions only. Any alert level is the user's own and is
labelled as such wherever it is shown.

Decisions (recorded here and in the result's caveats where they concern the reader):

- Times are ISO 8601 dates or date-times ("2026-03-01", "2026-03-01T08:00", "2026-03-01 08:00",
  with or without a UTC offset). A date alone is midnight. A row whose time is missing or cannot be
  read is left out of the series with a warning on that row (never dropped silently).
- Times with a UTC offset and times without one are not compared silently: a time without an offset
  in a series that has offsets is read in the offset of the first row that has one, with a warning.
- Two rows at the same time are both kept, in the order entered, with a warning on the later one.
- Rows entered out of time order are sorted (stable), with an informational note on each.
- A panel's own context overrides the series context field by field: the fields the panel sets
  (null included, meaning "not known") replace the series' values; the others are kept.
- Changes are in the analyte's default unit, computed in decimal arithmetic from the values as
  typed; values and absolute changes are shown to 4 significant digits (never fewer than the
  integer part), percentages to 2 dp, both rounded half away from zero. A change to or from a
  censored result (">40000") has no number; its direction is given when the bounds decide it.
  Temperature is an interval scale (a percent of °C is not a percent of °F), so it gets no percent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Literal

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.references import full_citation, link, short_citation
from mas_screen.criteria.schema import UnitSpec
from mas_screen.domain.models import ClinicalContext, PatientInput, ReferenceOut
from mas_screen.domain.series import (
    TREND_ANALYTES,
    AlertHit,
    Change,
    Panel,
    SeriesInput,
    SeriesWarning,
    TrendPoint,
    TrendResult,
    UserAlert,
)
from mas_screen.domain.units import convert, format_number, pretty_unit, unit_index, unit_key
from mas_screen.faces.bedside import assess
from mas_screen.kernel.exact import round_half_up
from mas_screen.kernel.inputs.facts import LabFact, normalise
from mas_screen.kernel.inputs.parsing import shorten
from mas_screen.kernel.inputs.times import ParsedTime, TimeError, _offset_text, format_time, parse_time
from mas_screen.kernel.logic import Interval

DYNAMICS_REFERENCE = "ravelli2016_dynamics"


def _sig(value: Decimal) -> float:
    """4 significant digits, never fewer than the integer part, half away from zero."""
    if value == 0:
        return 0.0
    return round_half_up(value, max(0, 3 - value.adjusted()))


def _percent(change: Decimal, base: Decimal) -> float | None:
    if base == 0:
        return None
    return round_half_up(change / base * 100, 2)


def _elapsed_days(later: datetime, earlier: datetime) -> Decimal:
    delta = later - earlier
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / Decimal(1_000_000)
    return seconds / Decimal(86400)


def _direction(cur: Interval, prev: Interval) -> Literal["up", "down", "same"] | None:
    if cur.is_point and prev.is_point:
        return "up" if cur.lo > prev.lo else "down" if cur.lo < prev.lo else "same"
    if cur.lo > prev.hi or (cur.lo == prev.hi and (cur.lo_open or prev.hi_open)):
        return "up"
    if cur.hi < prev.lo or (cur.hi == prev.lo and (cur.hi_open or prev.lo_open)):
        return "down"
    return None


def interval_scale(analyte: str) -> bool:
    """True when a unit has an offset (temperature): percent changes would depend on the unit."""
    return any(u.offset for u in criteria().analytes.analytes[analyte].units)


def change_analytes_order() -> list[str]:
    """TREND_ANALYTES first (the consensus' order), then every other lab in analytes.yaml order."""
    keys = list(criteria().analytes.analytes)
    return [*TREND_ANALYTES, *(k for k in keys if k not in TREND_ANALYTES)]


# ------------------------------------------------------------------------------------------ series


@dataclass(slots=True)
class _Row:
    index: int
    panel: Panel
    parsed: ParsedTime
    when: datetime  # aware when the series has offsets
    time: str


def _merge_context(base: ClinicalContext, override: ClinicalContext | None) -> ClinicalContext:
    if override is None:
        return base
    fields = override.model_fields_set
    if not fields:
        return base
    merged = base.model_dump()
    merged.update({name: getattr(override, name) for name in fields})
    return ClinicalContext.model_validate(merged)


def _dated_rows(series: SeriesInput, warnings: list[SeriesWarning]) -> list[_Row]:
    parsed: list[tuple[int, Panel, ParsedTime]] = []
    for i, panel in enumerate(series.panels):
        typed = panel.time
        if typed is None or not typed.strip():
            warnings.append(
                SeriesWarning(
                    row=i,
                    time=typed,
                    code="no_time",
                    field="time",
                    message="No time: this row is left out of the series (its values are kept as typed; add a "
                    "date, e.g. 2026-03-01 08:00, to include it).",
                    input=typed,
                )
            )
            continue
        try:
            pt = parse_time(typed)
        except TimeError as exc:
            warnings.append(
                SeriesWarning(
                    row=i,
                    time=typed,
                    code="bad_time",
                    field="time",
                    message=f"Time {shorten(typed)!r} cannot be read: {exc}. The row is left out of the series; its "
                    "values are kept as typed.",
                    input=shorten(typed),
                )
            )
            continue
        parsed.append((i, panel, pt))

    first_aware = next(((i, pt) for i, _, pt in parsed if pt.value.tzinfo is not None), None)
    rows: list[_Row] = []
    for i, panel, pt in parsed:
        when = pt.value
        if first_aware is not None and when.tzinfo is None:
            j, ref = first_aware
            tz = ref.value.tzinfo
            when = when.replace(tzinfo=tz)
            warnings.append(
                SeriesWarning(
                    row=i,
                    time=panel.time,
                    code="mixed_timezone",
                    field="time",
                    message=f"Time {panel.time!r} has no UTC offset while row {j + 1} has one; read as "
                    f"{_offset_text(ref.value.utcoffset())} like row {j + 1}. Add the offset to be sure of the order.",
                    input=panel.time,
                )
            )
        rows.append(_Row(i, panel, pt, when, format_time(when)))

    latest: _Row | None = None
    for r in rows:  # input order
        if latest is not None and r.when < latest.when:
            warnings.append(
                SeriesWarning(
                    row=r.index,
                    time=r.panel.time,
                    code="out_of_order",
                    field="time",
                    severity="info",
                    message=f"{r.time} is earlier than row {latest.index + 1} ({latest.time}), entered before it; "
                    "the series is sorted by time.",
                    input=r.panel.time,
                )
            )
        if latest is None or r.when > latest.when:
            latest = r
    rows.sort(key=lambda r: (r.when, r.index))  # stable: equal times keep the order entered
    for prev, r in pairwise(rows):
        if r.when == prev.when:
            warnings.append(
                SeriesWarning(
                    row=r.index,
                    time=r.panel.time,
                    code="duplicate_time",
                    field="time",
                    message=f"Same time as row {prev.index + 1} ({r.time}); both are kept, "
                    "in the order entered, and no rate per day is given between them. Check the time.",
                    input=r.panel.time,
                )
            )
    return rows


def _change_rows(analyte: str, entries: list[tuple[_Row, LabFact]], warnings: list[SeriesWarning]) -> list[Change]:
    spec = criteria().analytes.analytes[analyte]
    canonical: UnitSpec = spec.unit(spec.default_unit)
    no_percent = interval_scale(analyte)
    out: list[Change] = []
    first_value: Decimal | None = None
    first_unit: UnitSpec | None = None
    first_row: int | None = None
    prev: tuple[_Row, LabFact, Decimal | None] | None = None
    for n, (row, fact) in enumerate(entries):
        value = convert(fact.parsed.value, fact.unit, canonical)
        exact = fact.exact
        if n == 0:
            first_value, first_unit, first_row = (value if exact else None), fact.unit, row.index
        elif first_unit is not None and fact.unit.unit != first_unit.unit:
            warnings.append(
                SeriesWarning(
                    row=row.index,
                    time=row.panel.time,
                    code="mixed_units",
                    field=analyte,
                    severity="info",
                    message=f"{spec.label} is in {pretty_unit(fact.unit.unit)} here but in "
                    f"{pretty_unit(first_unit.unit)} in row {(first_row or 0) + 1}; changes are computed in "
                    f"{pretty_unit(canonical.unit)}.",
                    input=fact.display(),
                )
            )
        change = Change(
            time=row.time,
            value=_sig(value) if exact else None,
            value_text=fact.display(canonical),
            unit=canonical.unit,
            row=row.index,
            input=fact.display(),
            op=fact.parsed.op,
            bound=None if exact else _sig(value),
        )
        if exact and first_value is not None and n > 0:
            diff = value - first_value
            change.change_from_first = _sig(diff)
            change.change_from_first_percent = None if no_percent else _percent(diff, first_value)
        if prev is not None:
            prow, pfact, pvalue = prev
            days = _elapsed_days(row.when, prow.when)
            change.days_from_previous = round_half_up(days, 4)
            if exact and pvalue is not None:
                diff = value - pvalue
                change.change_from_previous = _sig(diff)
                change.change_from_previous_percent = None if no_percent else _percent(diff, pvalue)
                change.per_day_from_previous = _sig(diff / days) if days != 0 else None
                change.direction = "up" if diff > 0 else "down" if diff < 0 else "same"
            else:
                change.direction = _direction(fact.interval(canonical), pfact.interval(canonical))
        out.append(change)
        prev = (row, fact, value if exact else None)
    return out


def _alert_hits(alerts: list[UserAlert], changes: dict[str, list[Change]]) -> list[AlertHit]:
    hits: list[AlertHit] = []
    analytes = criteria().analytes.analytes
    for alert in alerts:
        spec = analytes.get(alert.analyte)
        if spec is None:
            raise ValueError(f"alert for unknown analyte {alert.analyte!r}")
        canonical = spec.unit(spec.default_unit)
        if alert.unit is not None:
            target = unit_index(alert.analyte).accepted.get(unit_key(alert.unit))
            if target is None:
                raise ValueError(f"alert unit {alert.unit!r} is not an accepted unit for {spec.label}")
        else:
            target = canonical
        level = Decimal(repr(alert.level))
        for ch in changes.get(alert.analyte, []):
            observed: float | None = None
            if alert.kind.startswith("percent"):
                pct = (
                    ch.change_from_previous_percent
                    if alert.kind == "percent_from_previous"
                    else ch.change_from_first_percent
                )
                if pct is None or level == 0:
                    continue
                fired = (level < 0 and Decimal(repr(pct)) <= level) or (level > 0 and Decimal(repr(pct)) >= level)
                observed = pct
                basis = "the previous value" if alert.kind == "percent_from_previous" else "the first value"
                what = f"{'fell' if pct < 0 else 'rose'} {format_number(abs(pct))}% from {basis}"
                level_text = f"{'+' if level > 0 else '−'}{format_number(abs(level))}%"
            else:
                if ch.value is None:
                    continue  # a censored value: the bound alone does not say on which side it lies
                value = convert(Decimal(repr(ch.value)), canonical, target)
                fired = value < level if alert.kind == "value_below" else value > level
                observed = _sig(value)
                what = f"is {format_number(Decimal(repr(observed)))} {pretty_unit(target.unit)}"
                level_text = f"{'below' if alert.kind == 'value_below' else 'above'} {format_number(level)} {pretty_unit(target.unit)}"
            if fired:
                hits.append(
                    AlertHit(
                        analyte=alert.analyte,
                        time=ch.time,
                        row=ch.row,
                        kind=alert.kind,
                        level=alert.level,
                        observed=observed,
                        label=f"Your alert level ({level_text}; user-set, not a published cut-off): {spec.label} {what}.",
                    )
                )
    hits.sort(key=lambda h: (h.time, h.row if h.row is not None else -1))
    return hits


def dynamics_caveat() -> str:
    return (
        f"No published percent-change cut-off exists ({short_citation(DYNAMICS_REFERENCE)} RMD Open): changes are "
        "shown, not judged. The expert consensus named the change in platelet count, ferritin and AST as what "
        "matters most (then white cells, neutrophils, fibrinogen and ESR); any alert level is set by the user and "
        "labelled as the user's."
    )


def assess_series(
    series: SeriesInput,
    *,
    alerts: list[UserAlert] | None = None,
    problems: list[SeriesWarning] | None = None,
) -> TrendResult:
    """One Assessment per dated panel, the change in each lab, and when each instrument was first met.

    `alerts`: the user's own alert levels (reported in `alerts`, labelled as the user's).
    `problems`: row problems found while reading the input (e.g. by mas_screen.kernel.inputs.columns), merged
    into `warnings` so that every row's messages are in one list.
    """
    warnings: list[SeriesWarning] = list(problems or [])
    rows = _dated_rows(series, warnings)

    points: list[TrendPoint] = []
    lab_entries: dict[str, list[tuple[_Row, LabFact]]] = {}
    entered: set[str] = set()
    for r in rows:
        patient = PatientInput(
            id=series.id,
            context=_merge_context(series.context, r.panel.context),
            labs=r.panel.labs,
            decimal_comma=series.decimal_comma,
        )
        assessment = assess(patient)
        points.append(
            TrendPoint(
                time=r.time,
                row=r.index,
                assessment=assessment,
                time_input=r.panel.time,
                date_only=r.parsed.date_only,
            )
        )
        for key, m in r.panel.labs.items():
            if m.value is not None and not (isinstance(m.value, str) and not m.value.strip()):
                entered.add(key)
        facts, _ = normalise(PatientInput(labs=r.panel.labs, decimal_comma=series.decimal_comma))  # the values used
        for key, fact in facts.labs.items():
            lab_entries.setdefault(key, []).append((r, fact))

    changes = {
        key: _change_rows(key, lab_entries.get(key, []), warnings) for key in change_analytes_order() if key in entered
    }

    ids = list(criteria().instruments)
    first_met: dict[str, str | None] = dict.fromkeys(ids)
    first_ind: dict[str, str | None] = dict.fromkeys(ids)
    first_after: dict[str, str | None] = dict.fromkeys(ids)
    previous: dict[str, str] = {}
    for p in points:
        for iid, cr in p.assessment.criteria.items():
            status = cr.status
            if status == "met" and first_met.get(iid) is None:
                first_met[iid] = p.time
            if status == "indeterminate" and first_ind.get(iid) is None:
                first_ind[iid] = p.time
            if status == "met" and previous.get(iid) == "indeterminate" and first_after.get(iid) is None:
                first_after[iid] = p.time
            previous[iid] = status

    ferritin_esr = [
        {
            "time": p.time,
            "ratio": p.assessment.criteria["ferritin_esr"].score,
            "status": p.assessment.criteria["ferritin_esr"].status,
            "row": p.row,
        }
        for p in points
    ]

    caveats = [dynamics_caveat()]
    if any(ch.op is not None for chs in changes.values() for ch in chs):
        caveats.append(
            "A result reported beyond an assay's range (e.g. '> 40000') has no change figure; its direction is "
            "given when the bounds decide it."
        )
    if any(interval_scale(k) for k in changes):
        caveats.append(
            "Temperature changes are given in °C without a percentage (a percent of °C is not a percent of °F)."
        )
    if any(p.date_only for p in points):
        caveats.append("A date without a time is read as midnight; rates per day use that.")

    warnings.sort(key=lambda w: w.row)  # stable: each row's messages in the order found
    refs = {
        DYNAMICS_REFERENCE: ReferenceOut(
            citation=full_citation(DYNAMICS_REFERENCE),
            doi=criteria().references[DYNAMICS_REFERENCE].doi,
            url=link(DYNAMICS_REFERENCE),
        )
    }
    return TrendResult(
        points=points,
        changes=changes,
        first_met=first_met,
        first_met_after_indeterminate=first_after,
        first_indeterminate=first_ind,
        ferritin_esr=ferritin_esr,
        warnings=warnings,
        caveats=caveats,
        alerts=_alert_hits(alerts or [], changes),
        references=refs,
    )


# ------------------------------------------------------------------------------------------- text
