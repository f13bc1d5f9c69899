"""A short, readable terminal report of an Assessment (`assess --format text`)."""

from __future__ import annotations

import textwrap

from mas_screen.criteria.provenance import one_line as provenance_line
from mas_screen.domain.models import Assessment, CriterionResult, field_label
from mas_screen.domain.units import format_number
from mas_screen.explain.score_display import minus, shown_score
from mas_screen.explain.summary import more_tests_lines, more_tests_title, qualified_name

STATUS_WORD = {"met": "MET", "not_met": "not met", "indeterminate": "indeterminate"}
RESULT_MARK = {"met": "✓", "not_met": "✗", "missing": "?"}


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def _score(r: CriterionResult) -> str:
    if r.score is not None:
        text = f"score {shown_score(r)}"
    elif r.score_range is not None:
        text = f"score range {format_number(r.score_range[0])}–{format_number(r.score_range[1])}"
    elif r.count_met is not None:
        text = f"{r.count_met} met of {r.count_assessable} assessable"
    else:
        return ""
    if r.cutoff_label:
        text += f" (cut-off {r.cutoff_label})"
    if r.probability is not None:
        text += f", probability {r.probability.label}"
    return minus(text)


def render_text(a: Assessment) -> str:
    s = a.summary
    lines = ["MAS Screen — screening aid, not a diagnosis", "", s.headline]
    if s.other_population_line:
        lines.append(f"({s.other_population_line})")
    lines += [s.phlh_text, ""]
    if s.supporting:
        lines.append("Supporting MAS:")
        lines += [_wrap(f"+ {minus(t)}") for t in s.supporting]
    if s.against:
        lines.append("Against MAS:")
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
    for r in a.criteria.values():
        head = f"{qualified_name(r.id)}: {STATUS_WORD[r.status]}"
        extra = _score(r)
        lines.append(head + (f" — {extra}" if extra else ""))
        lines.append(_wrap(r.verdict))
        for item in r.items:
            shown = item.display or "not entered"
            pts = f" [{format_number(item.points)} pts]" if item.points not in (None, 0) else ""
            lines.append(f"    {RESULT_MARK[item.result]} {item.label}: {shown} ({item.threshold}){pts}")
        for extra_cut in r.additional_cutoffs:
            lines.append(
                f"    {extra_cut.label}: {extra_cut.comparator} {extra_cut.cutoff} → {STATUS_WORD[extra_cut.status]}"
            )
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
            lines.append(_wrap(f"• {c}"))
    lines += ["", "References:"]
    lines += [_wrap(f"[{k}] {ref.citation}") for k, ref in a.references.items()]
    if a.provenance is not None:
        lines += ["", "Provenance:", _wrap(provenance_line(a.provenance))]
    return "\n".join(lines) + "\n"
