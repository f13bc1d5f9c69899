"""Short, readable terminal reports: an Assessment (`assess --format text`) and a series of panels
(`trend --format text`)."""

from __future__ import annotations

import textwrap
from decimal import Decimal

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.provenance import one_line as provenance_line
from mas_screen.domain.models import Assessment, field_label
from mas_screen.domain.series import TrendResult
from mas_screen.domain.units import format_number, pretty_unit
from mas_screen.explain.phrases import RESULT_MARK, STATUS_TEXT, entered, extra_cutoff, result_phrase, typeset
from mas_screen.explain.score_display import minus
from mas_screen.explain.summary import (
    headline_caveats,
    more_tests_lines,
    more_tests_title,
    qualified_name,
    reading_order,
    syndrome_label,
)

# The one table of words and marks (explain.phrases); a terminal has no bold, so met is in capitals.
STATUS_WORD = {**STATUS_TEXT, "met": STATUS_TEXT["met"].upper()}


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def render_text(a: Assessment) -> str:
    s = a.summary
    lines = ["MAS Screen — screening aid, not a diagnosis", "", s.headline]
    lines += [_wrap(f"! {t}", "") for t in headline_caveats(a)]  # e.g. IL-6 blockade, under the headline
    if s.other_population_line:
        lines.append(f"({s.other_population_line})")
    lines += [s.phlh_text, ""]
    if s.supporting:
        lines.append(f"Supporting {syndrome_label(a)}:")
        lines += [_wrap(f"+ {minus(t)}") for t in s.supporting]
    if s.against:
        lines.append(f"Against {syndrome_label(a)}:")
        lines += [_wrap(f"- {minus(t)}") for t in s.against]
    if s.indicative:
        lines.append("Instruments built for other populations:")
        lines += [_wrap(f"~ {minus(t)}") for t in s.indicative]
    if s.next_steps:
        lines.append(textwrap.fill(f"Next steps: {s.next_steps}", width=100, subsequent_indent="  "))
    more = more_tests_lines(a)
    if more:
        lines.append(more_tests_title() + ":")
        lines += [_wrap(f"· {t}") for t in more]
    if a.input_warnings:
        lines += ["", "Input warnings (values left out):"]
        lines += [_wrap(f"! {w.field} [{w.code}] {w.message}") for w in a.input_warnings]
    lines.append("")
    for r in reading_order(a):  # the patient's own instruments first
        indicative = " (indicative only: built for another population)" if r.id in s.other_population_met else ""
        head = f"{qualified_name(r.id)}: {STATUS_WORD[r.status]}{indicative}"
        extra = result_phrase(r)
        lines.append(head + (f" — {extra}" if extra else ""))
        lines.append(_wrap(typeset(r.verdict)))
        for item in r.items:
            shown = entered(item) or "not entered"
            pts = f" [{format_number(item.points)} pts]" if item.points not in (None, 0) else ""
            lines.append(typeset(f"    {RESULT_MARK[item.result]} {item.label}: {shown} ({item.threshold}){pts}"))
        for extra_cut in r.additional_cutoffs:
            lines.append(f"    {extra_cutoff(extra_cut)} → {STATUS_WORD[extra_cut.status]}")
        if r.next_tests:
            lines.append(_wrap("would decide it: " + ", ".join(map(field_label, r.next_tests)), "    "))
        if r.missing:
            lines.append(_wrap("missing: " + ", ".join(map(field_label, r.missing)), "    "))
        if r.population != "validated":
            lines.append(f"    population: {r.population}")
        lines.append("")
    lines.append("Caveats:")
    caveats = list(s.caveats) + [c for r in a.criteria.values() for c in r.caveats]
    seen: set[str] = set()
    for c in caveats:
        if c not in seen:
            seen.add(c)
            lines.append(_wrap(f"• {typeset(c)}"))
    lines += ["", "References:"]
    lines += [_wrap(f"[{k}] {ref.citation}") for k, ref in a.references.items()]
    if a.provenance is not None:
        lines += ["", "Provenance:", _wrap(provenance_line(a.provenance))]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- serial panels

_STATUS_SHORT = {"met": "MET", "not_met": "not met", "indeterminate": "?"}
_SIGNAL_SHORT = {"suggestive": "suggestive", "not_suggestive": "not suggestive", "insufficient_data": "insufficient"}


def _num(value: float | None, percent: bool = False) -> str:
    if value is None:
        return ""
    text = format_number(Decimal(repr(value)))
    sign = "+" if value > 0 else ""
    return f"{sign}{text}{'%' if percent else ''}".replace("-", "−")


def render_trend_text(result: TrendResult) -> str:
    """A short readable table for a terminal: statuses per time, changes, first met, warnings."""
    lines = ["MAS Screen — serial panels (screening aid, not a diagnosis)", ""]
    ids = list(result.first_met)
    names = {}
    if result.points:
        names = {iid: cr.short_name for iid, cr in result.points[0].assessment.criteria.items()}
    heads = [iid for iid in ids]
    widths = [max(len(h), 7) for h in heads]
    tw = max([len("time"), *(len(p.time) for p in result.points)])
    lines.append("  ".join(["time".ljust(tw), *(h.ljust(w) for h, w in zip(heads, widths, strict=True)), "MAS signal"]))
    for p in result.points:
        cells = [
            _STATUS_SHORT[p.assessment.criteria[iid].status].ljust(w) for iid, w in zip(heads, widths, strict=True)
        ]
        s = p.assessment.summary
        signal = _SIGNAL_SHORT[s.mas_signal]
        if s.other_population_met:  # never part of the signal: named as indicative only
            signal += " (+ indicative only: " + ", ".join(names.get(i, i) for i in s.other_population_met) + ")"
        lines.append("  ".join([p.time.ljust(tw), *cells, signal]))
    if not result.points:
        lines.append("(no time point could be read)")
    lines.append("MET = criteria met; ? = indeterminate (values missing)")
    lines.append("")
    met = [f"{names.get(i, i)}: {t}" for i, t in result.first_met.items() if t]
    lines.append("First met: " + ("; ".join(met) if met else "none of the instruments"))
    for key, changes in result.changes.items():
        if not changes:
            continue
        spec = criteria().analytes.analytes[key]
        lines.append("")
        lines.append(f"{spec.label} ({pretty_unit(changes[0].unit)}): value, change from previous, from first, per day")
        for ch in changes:
            value = ch.value_text.rsplit(" ", 1)[0] if ch.value is None else format_number(Decimal(repr(ch.value)))
            prev = _num(ch.change_from_previous)
            if ch.change_from_previous_percent is not None:
                prev += f" ({_num(ch.change_from_previous_percent, True)})"
            if not prev and ch.direction:
                prev = ch.direction
            first = _num(ch.change_from_first)
            if ch.change_from_first_percent is not None:
                first += f" ({_num(ch.change_from_first_percent, True)})"
            per_day = f"{_num(ch.per_day_from_previous)}/day" if ch.per_day_from_previous is not None else ""
            lines.append(f"  {ch.time.ljust(tw)}  {value:>10}  {prev:<20}  {first:<22}  {per_day}".rstrip())
    if result.alerts:
        lines.append("")
        lines.append("Your alert levels (user-set, not published cut-offs):")
        lines.extend(f"  {a.time}  {a.label}" for a in result.alerts)
    if result.warnings:
        lines.append("")
        lines.append("Rows:")
        for w in result.warnings:
            mark = "note" if w.severity == "info" else "warning"
            where = f"row {w.row + 1}" + (f" (line {w.line})" if w.line is not None else "")
            lines.append(f"  {mark}, {where}: {w.message}")
    warned = [(p, w) for p in result.points for w in p.assessment.input_warnings]
    if warned:
        lines.append("")
        lines.append("Values left out or to check:")
        lines.extend(f"  {p.time}  {w.field}: {w.message}" for p, w in warned)
    lines.append("")
    lines.extend(f"Note: {c}" for c in result.caveats)
    stamped = next((p.assessment.provenance for p in result.points if p.assessment.provenance is not None), None)
    if stamped is not None:
        lines.append(f"Provenance: {provenance_line(stamped)}")
    return "\n".join(lines) + "\n"
