"""Views shared by the teaching pages (Cases: practice and educator; Explore; Write a case).

A case unfolds panel by panel: the context in force and the labs so far, then the trainee's
answers and the feedback of `grading.grade()`; nothing here judges an answer. Text written by a
case's author is shown literally (no links or images made from it: a case added in a session is
someone else's text). Citations come from references.yaml with their DOI links.
"""

from __future__ import annotations

import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.references import full_citation, link, short_citation
from mas_screen.domain.models import (
    BIOLOGIC_LABELS,
    BOOLEAN_FIELDS,
    DISEASE_LABELS,
    Assessment,
    ClinicalContext,
    Measurement,
    PatientInput,
    field_label,
)
from mas_screen.domain.series import SeriesInput, TrendResult
from mas_screen.domain.units import format_number, pretty_unit
from mas_screen.explain.phrases import RESULT_WORDS
from mas_screen.faces.teaching.claims import case_series, compute
from mas_screen.faces.teaching.grading import (
    SKILL_LABELS,
    Citation,
    Feedback,
    ItemFeedback,
    TeachingPointOut,
)
from mas_screen.faces.teaching.schema import GRADE_LABELS, READING_LABELS, Case, CasePanel, normal_time
from mas_screen.faces.trends import assess_series
from mas_screen.kernel.inputs.times import parse_time
from mas_screen.render.figures.trends_kit import stamp, wall_time
from mas_screen.ui import cards
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.state import LAB_ORDER

MARK = {True: ":green[**✓ right**]", False: ":red[**✗ wrong**]", None: ":gray[— not graded]"}
TAB_MARK = {True: "✓", False: "✗"}
GRADE_BADGE = {
    "best": ":green-background[**best**]",
    "acceptable": ":orange-background[**acceptable**]",
    "unhelpful": ":red-background[**unhelpful**]",
}


def text(value: str) -> str:
    """A case author's words as literal markdown (no links, images or emphasis made from them)."""
    return plain_markdown(" ".join(value.split()))


# ------------------------------------------------------------------------------------ case data


def case_panels(case: Case) -> list[tuple[str, CasePanel]]:
    """The case's panels in time order, each with its normalised time (as the core reports it)."""
    return case.panels_in_order()


def panel_name(case: Case, index: int, *, short: bool = False) -> str:
    """'Day 3' (the case's own label; its short label on a projector), else 'Panel 2'; a single
    unlabelled panel is 'Presentation'."""
    _time, panel = case_panels(case)[index]
    if short and panel.short_label:
        return panel.short_label
    if panel.label:
        return panel.label
    if panel.short_label:
        return panel.short_label
    return "Presentation" if len(case.panels) == 1 else f"Panel {index + 1}"


def panel_when(case: Case, index: int) -> str:
    return stamp(wall_time(case_panels(case)[index][0]))


def case_patient(case: Case, time: str) -> PatientInput:
    """One panel of a case as a bedside patient: the context in force then, that panel's labs."""
    panel = case.panel_at(time)
    context = compute(case).context_at(case, time)
    return PatientInput.model_validate({"context": context.model_dump(exclude_none=True), "labs": panel.labs})


def series_until(case: Case, time: str) -> TrendResult:
    """The case's course up to and including `time` (no later panel is revealed)."""
    series = case_series(case)
    cut = parse_time(normal_time(time)).value
    kept = [p for p in series.panels if parse_time(p.time).value <= cut]
    return assess_series(SeriesInput(id=series.id, context=series.context, panels=kept))


# ------------------------------------------------------------------------------------ citations


def citation_link(key: str) -> str:
    """'[Ravelli 2016](https://doi.org/…)', or the author-year alone when no link is known."""
    url = link(key)
    return f"[{short_citation(key)}]({url})" if url else short_citation(key)


def citation_line(key: str) -> str:
    """The full (Vancouver) citation with its DOI link."""
    url = link(key)
    return full_citation(key) + (f" [↗]({url})" if url else "")


def cite(c: Citation) -> str:
    return f"[{c.short}]({c.url})" if c.url else c.short


def cites(items: list[Citation]) -> str:
    return " · ".join(cite(c) for c in items)


def source_line(case: Case) -> str:
    """Where the case comes from, with the DOI as a link for a published report."""
    doi = case.source_doi
    if doi:
        return f"{text(case.source_text.rsplit(' doi:', 1)[0])} [doi:{doi}](https://doi.org/{doi})"
    return text(case.source_text)


# ------------------------------------------------------------------------------- case unfolding


def _number_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def context_lines(context: ClinicalContext) -> tuple[list[str], list[str]]:
    """What is known about the patient (as 'label: answer') and what is not known."""
    known: list[str] = []
    unknown: list[str] = []
    if context.age_years is not None:
        known.append(f"Age: {_number_text(context.age_years)} years")
    if context.age_at_onset_years is not None:
        known.append(f"{field_label('age_at_onset_years')}: {_number_text(context.age_at_onset_years)}")
    known.append(f"Underlying disease: {DISEASE_LABELS[context.disease]}")
    known.append(f"Biologic therapy: {BIOLOGIC_LABELS[context.biologic]}")
    for field in BOOLEAN_FIELDS:
        value = getattr(context, field)
        if value is None:
            unknown.append(field_label(field))
            continue
        line = f"{field_label(field)}: {'yes' if value else 'no'}"
        size = getattr(context, f"{field}_cm", None)
        if value and size is not None:
            line += f" ({_number_text(size)} cm below the costal margin)"
        known.append(line)
    return known, unknown


def show_context(context: ClinicalContext, *, columns: int = 2) -> None:
    known, unknown = context_lines(context)
    cols = st.columns(columns)
    per = -(-len(known) // columns)
    for i, col in enumerate(cols):
        with col:
            st.markdown("\n".join(f"- {line}" for line in known[i * per : (i + 1) * per]))
    if unknown:
        st.caption("Not known / not done: " + "; ".join(unknown) + ".")


def _as_measurement(raw: object) -> Measurement:
    if isinstance(raw, dict):
        return Measurement.model_validate(raw)
    return Measurement(value=raw)


def _lab_cell(analyte: str, raw: object) -> tuple[str, str]:
    """(value as written, its unit: the lab's default unit when the case gives a bare number)."""
    m = _as_measurement(raw)
    unit = m.unit or criteria().analytes.analytes[analyte].default_unit
    return plain_markdown(_number_text(m.value)), pretty_unit(unit)


def lab_order(case: Case, upto: int) -> list[str]:
    """The labs of the panels up to `upto`, in lab-report order (blood count, chemistry, ...)."""
    present = {k for _t, p in case_panels(case)[: upto + 1] for k in p.labs}
    order = [a for _g, group in LAB_ORDER for a in group if a in present]
    return order + sorted(present - set(order))


def labs_table(
    case: Case,
    upto: int,
    *,
    highlight_last: bool = True,
    analytes: list[str] | None = None,
    short: bool = False,
    columns: int | None = None,
) -> str:
    """Markdown: one row per lab, one column per panel up to `upto` (the current one in bold).
    `short`: column headers are the panels' short labels ('Day 1'), for a projector; `columns`: at
    most this many panels, the latest."""
    panels = case_panels(case)[: upto + 1]
    first = 0 if columns is None else max(0, len(panels) - columns)
    shown_panels = list(range(first, len(panels)))
    order = lab_order(case, upto) if analytes is None else analytes
    if short:
        heads = [text(panel_name(case, i, short=True)) for i in shown_panels]
    else:
        heads = [f"{text(panel_name(case, i))} · {panel_when(case, i)}" for i in shown_panels]
    if highlight_last:
        heads[-1] = f"**{heads[-1]}**"
    lines = ["| Lab | " + " | ".join(heads) + " | Unit |", "|---|" + "---:|" * len(heads) + "---|"]
    for analyte in order:
        cells = [
            _lab_cell(analyte, panels[i][1].labs[analyte]) if analyte in panels[i][1].labs else None
            for i in shown_panels
        ]
        units = [c[1] for c in cells if c is not None]
        row_unit = units[-1] if units else ""
        out = []
        for c in cells:
            if c is None:
                out.append(":gray[not done]" if not short else ":gray[—]")
            else:
                out.append(c[0] if c[1] == row_unit else f"{c[0]} {c[1]}")
        if highlight_last and cells[-1] is not None:
            out[-1] = f"**{out[-1]}**"
        label = criteria().analytes.analytes[analyte].label
        lines.append(f"| {label} | " + " | ".join(out) + f" | {row_unit} |")
    return "\n".join(lines)


def context_changes(case: Case, index: int) -> list[str]:
    """Context answers that this panel changes (e.g. 'Hepatomegaly: yes'), in words."""
    _time, panel = case_panels(case)[index]
    return [
        f"{field_label(field)}: {_number_text(value) if value is not None else 'not known'}"
        for field, value in (panel.context or {}).items()
    ]


# ---------------------------------------------------------------------------------- feedback


def score_banner(fb: Feedback) -> None:
    earned, possible = format_number(fb.earned), format_number(fb.possible)
    parts = [
        f"{SKILL_LABELS[k].split(' (')[0]} {format_number(s.earned)}/{format_number(s.possible)}"
        for k, s in fb.skills.items()
        if s.possible
    ]
    line = f"**{earned} of {possible} points** at {stamp(wall_time(fb.time))} — " + " · ".join(parts)
    if fb.earned == fb.possible:
        st.success(line, icon=":material/check_circle:")
    elif fb.possible and fb.earned >= fb.possible / 2:
        st.warning(line, icon=":material/edit_note:")
    else:
        st.error(line, icon=":material/edit_note:")


def reading_view(fb: Feedback) -> None:
    r = fb.reading
    st.markdown("#### 1 · Your reading")
    said = READING_LABELS[r.answered] if r.answered else "not answered"
    author = READING_LABELS[r.expected] if r.expected else "no authored reading for this panel"
    st.markdown(f"You said **{said}**. The case author: **{author}**. {MARK[r.correct]}")
    if r.rationale:
        st.markdown(f"> {text(r.rationale)}")
    if r.references:
        st.markdown("Sources: " + cites(r.references))
    st.caption(
        "What the screen computes at this panel (shown beside the author's reading, never used as the answer): "
        + plain_markdown(r.screen_headline)
    )


def population_view(fb: Feedback) -> None:
    p = fb.population
    st.markdown("#### 2 · Which instruments apply to this patient")
    st.markdown(f"{MARK[p.correct]} {plain_markdown(p.explanation)}")
    rows = ["| Instrument | For this patient | You chose | Why |", "|---|---|---|---|"]
    for row in p.instruments:
        applies = "**yes**" if row.applies else "no"
        chosen = "—" if row.chosen is None else ("yes" if row.chosen else "no")
        rows.append(f"| {row.name} | {applies} | {chosen} | {plain_markdown(row.why)} |")
    st.markdown("\n".join(rows))


def next_step_view(fb: Feedback) -> None:
    n = fb.next_step
    st.markdown("#### 3 · The most useful next step")
    if not n.options:
        st.markdown(f":gray[{plain_markdown(n.explanation)}]")
        return
    said = text(n.answered_text) if n.answered_text else "not answered"
    badge = GRADE_BADGE[n.grade] if n.grade else ""
    st.markdown(f"You chose **{said}** {badge}  \n{text(n.explanation)}")
    st.markdown("**The author's ranking**")
    for o in n.options:
        refs = f" — {cites(o.references)}" if o.references else ""
        st.markdown(f"- {GRADE_BADGE[o.grade]} **{text(o.text)}**: {text(o.rationale)}{refs}")


def _item_rows(item: ItemFeedback, indent: str = "") -> list[str]:
    entered = item.entered or ":gray[not entered]"
    value = item.value_text or ""
    points = "" if item.points is None else format_number(item.points)
    source = cite(item.citation) if item.citation else ""
    rows = [
        f"| {indent}{item.label} | {entered} | {value} | {item.rule or ''} | "
        f"{RESULT_WORDS[item.result]} | {points} | {source} |"
    ]
    for sub in item.components:
        rows += _item_rows(sub, indent + "↳ ")
    return rows


def items_table(items: list[ItemFeedback]) -> str:
    lines = [
        "| Item | Entered | In published unit | Rule | Result | Points | Source |",
        "|---|---|---|---|---|---|---|",
    ]
    for item in items:
        lines += _item_rows(item)
    return "\n".join(lines)


def arithmetic_view(fb: Feedback, assessment: Assessment) -> None:
    a = fb.arithmetic
    st.markdown("#### 4 · Which of the patient's own instruments are met")
    rows = ["| Instrument | You said | Computed | |", "|---|---|---|---|"]
    for f in a.instruments:
        said = "met" if f.answered_met else "not met"
        rows.append(
            f"| {assessment.criteria[f.id].short_name} | {said} | {cards.STATUS_BADGE[f.expected_status]} | {MARK[f.correct]} |"
        )
    st.markdown("\n".join(rows))
    st.caption("Indeterminate (missing inputs could still change it) counts as not met yet. Item by item:")
    tabs = st.tabs([f"{TAB_MARK[f.correct]} {assessment.criteria[f.id].short_name}" for f in a.instruments])
    for tab, f in zip(tabs, a.instruments, strict=True):
        with tab:
            r = assessment.criteria[f.id]
            score = cards.score_text(r)
            st.markdown(f"{cards.STATUS_BADGE[f.expected_status]} {score}  \n{MARK[f.correct]} — {f.explanation}")
            st.markdown(items_table(f.items))
            if f.caveats:
                st.markdown("**Caveats**\n" + "\n".join(f"- {c}" for c in f.caveats))
            st.markdown("**Sources**\n" + "\n".join(f"- {citation_line(c.key)}" for c in f.citations))
    st.markdown("**Not for this patient (or supporting only), and why** (computed, never graded)")
    rows = ["| Instrument | Computed | Why not this patient's |", "|---|---|---|"]
    for o in a.others:
        ticked = " · you ticked it" if o.answered_met else ""
        rows.append(f"| {o.name} | {cards.STATUS_BADGE[o.status]}{ticked} | {plain_markdown(o.why)} |")
    st.markdown("\n".join(rows))


def teaching_points_view(points: list[TeachingPointOut], objectives: list[str] | None = None) -> None:
    for k, tp in enumerate(points, start=1):
        st.markdown(f"**{k}.** {text(tp.text)} — {cite(tp.citation)}")
    keys = list(dict.fromkeys(tp.citation.key for tp in points))
    st.caption("Sources: " + " · ".join(citation_line(k) for k in keys))
    if objectives:
        st.markdown("**Learning objectives**\n" + "\n".join(f"- {text(o)}" for o in objectives))


def full_result(assessment: Assessment) -> None:
    """The bedside cards for this time point, exactly as the Assess page shows them."""
    cards.headline(assessment)
    cards.status_grid(assessment)
    cards.comparison_panels(assessment)
    cards.next_tests(assessment)
    for r in assessment.criteria.values():
        cards.criterion_card(r, assessment, expanded=False)
    cards.caveats_and_sources(assessment)


GRADE_WORDS = GRADE_LABELS
