"""Views shared by the teaching pages (Cases: practice and educator; Explore).

A case unfolds panel by panel: the context in force and the labs so far, then what the core
computes. Feedback comes from `cases.grade()`; nothing here judges an answer. Citations are
rendered with the references helpers (author-year, full citation, DOI link).
"""

from __future__ import annotations

import streamlit as st

from mas_screen.cases import (
    HSCORE_BANDS,
    INTERPRETATION_LABELS,
    Case,
    CasePanel,
    Feedback,
    ItemFeedback,
    TeachingPointOut,
    case_series,
    compute,
)
from mas_screen.criteria_data import criteria
from mas_screen.models import (
    BIOLOGIC_LABELS,
    BOOLEAN_FIELDS,
    DISEASE_LABELS,
    Assessment,
    ClinicalContext,
    Measurement,
    PatientInput,
    field_label,
)
from mas_screen.references import full_citation, link, short_citation
from mas_screen.trend_figures import stamp, wall_time
from mas_screen.trends import SeriesInput, TrendResult, assess_series, format_time, parse_time
from mas_screen.ui import cards
from mas_screen.ui.state import LAB_ORDER
from mas_screen.units import format_number, pretty_unit

HSCORE_BAND_LABELS = {
    "<169": "below 169",
    "169-199": "169–199",
    "200-249": "200–249",
    ">=250": "250 or more",
    "cannot_tell": "cannot tell yet",
}
MARK = {True: ":green[**✓ right**]", False: ":red[**✗ wrong**]", None: ":gray[— not graded]"}
TAB_MARK = {True: "✓", False: "✗"}
NO_TEST = "__none__"
NO_TEST_LABEL = "No further test needed: every instrument is already decided"


# ------------------------------------------------------------------------------------ case data


def normal_time(text: str) -> str:
    return format_time(parse_time(text).value)


def case_panels(case: Case) -> list[tuple[str, CasePanel]]:
    """The case's panels in time order, each with its normalised time (as the core reports it)."""
    return sorted(((normal_time(p.time), p) for p in case.panels), key=lambda tp: parse_time(tp[0]).value)


def panel_name(case: Case, index: int) -> str:
    """'Day 3' (the case's own label), else 'Panel 2'; a single unlabelled panel is 'Presentation'."""
    _time, panel = case_panels(case)[index]
    if panel.label:
        return panel.label
    return "Presentation" if len(case.panels) == 1 else f"Panel {index + 1}"


def panel_when(case: Case, index: int) -> str:
    return stamp(wall_time(case_panels(case)[index][0]))


def case_patient(case: Case, time: str) -> PatientInput:
    """One panel of a case as a bedside patient: the context in force then, that panel's labs."""
    panel = dict(case_panels(case))[normal_time(time)]
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
        text = f"{field_label(field)}: {'yes' if value else 'no'}"
        size = getattr(context, f"{field}_cm", None)
        if value and size is not None:
            text += f" ({_number_text(size)} cm below the costal margin)"
        known.append(text)
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
    return _number_text(m.value), pretty_unit(unit)


def lab_order(case: Case, upto: int) -> list[str]:
    """The labs of the panels up to `upto`, in lab-report order (blood count, chemistry, ...)."""
    present = {k for _t, p in case_panels(case)[: upto + 1] for k in p.labs}
    order = [a for _g, group in LAB_ORDER for a in group if a in present]
    return order + sorted(present - set(order))


def labs_table(case: Case, upto: int, *, highlight_last: bool = True, analytes: list[str] | None = None) -> str:
    """Markdown: one row per lab, one column per panel up to `upto` (the current one in bold)."""
    panels = case_panels(case)[: upto + 1]
    order = lab_order(case, upto) if analytes is None else analytes
    heads = [f"{panel_name(case, i)} · {panel_when(case, i)}" for i in range(len(panels))]
    if highlight_last:
        heads[-1] = f"**{heads[-1]}**"
    lines = ["| Lab | " + " | ".join(heads) + " | Unit |", "|---|" + "---:|" * len(heads) + "---|"]
    for analyte in order:
        cells = [_lab_cell(analyte, p.labs[analyte]) if analyte in p.labs else None for _t, p in panels]
        units = [c[1] for c in cells if c is not None]
        row_unit = units[-1] if units else ""
        shown = []
        for c in cells:
            if c is None:
                shown.append(":gray[not done]")
            else:
                shown.append(c[0] if c[1] == row_unit else f"{c[0]} {c[1]}")
        if highlight_last and cells[-1] is not None:
            shown[-1] = f"**{shown[-1]}**"
        label = criteria().analytes.analytes[analyte].label
        lines.append(f"| {label} | " + " | ".join(shown) + f" | {row_unit} |")
    return "\n".join(lines)


def context_changes(case: Case, index: int) -> list[str]:
    """Context answers that this panel changes (e.g. 'Hepatomegaly: yes'), in words."""
    _time, panel = case_panels(case)[index]
    out = []
    for field, value in (panel.context or {}).items():
        out.append(f"{field_label(field)}: {_number_text(value) if value is not None else 'not known'}")
    return out


# ---------------------------------------------------------------------------------- feedback


def _item_rows(item: ItemFeedback, indent: str = "") -> list[str]:
    entered = item.entered or ":gray[not entered]"
    value = item.value_text or ""
    points = "" if item.points is None else format_number(item.points)
    source = citation_link(item.citation_key) if item.citation_key else ""
    rows = [
        f"| {indent}{item.label} | {entered} | {value} | {item.rule or ''} | "
        f"{cards.RESULT_MARK[item.result]} | {points} | {source} |"
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


def _short(iid: str) -> str:
    return criteria().instruments[iid].short_name


def score_banner(fb: Feedback) -> None:
    text = f"**{fb.correct} of {fb.total} right** at {stamp(wall_time(fb.time))}."
    hint = " Each ✗ below shows the computed answer, the rule and its source."
    if fb.correct == fb.total:
        st.success(text + " Every answer agrees with what the criteria compute.", icon=":material/check_circle:")
    elif fb.correct >= fb.total / 2:
        st.warning(text + hint, icon=":material/edit_note:")
    else:
        st.error(text + hint, icon=":material/edit_note:")


def instruments_view(fb: Feedback, assessment: Assessment) -> None:
    """Right and wrong per instrument, then one tab per instrument: why, and each item with its
    rule, value in the published unit and source."""
    st.markdown("#### Which instruments are met")
    rows = ["| Instrument | You said | Computed | |", "|---|---|---|---|"]
    for f in fb.instruments:
        said = "met" if f.answered_met else "not met"
        rows.append(f"| {_short(f.id)} | {said} | {cards.STATUS_BADGE[f.expected_status]} | {MARK[f.correct]} |")
    st.markdown("\n".join(rows))
    st.caption(
        "Tick an instrument only when its criteria are met. 'Indeterminate' (missing inputs could still change it) "
        "counts as not met yet. Item by item, each instrument in its tab:"
    )
    tabs = st.tabs([f"{TAB_MARK[f.correct]} {_short(f.id)}" for f in fb.instruments])
    for tab, f in zip(tabs, fb.instruments, strict=True):
        with tab:
            r = assessment.criteria[f.id]
            score = cards.score_text(r)
            st.markdown(
                f"{cards.STATUS_BADGE[f.expected_status]} {score}  \n{MARK[f.correct]} — {f.explanation}"
                if score
                else f"{cards.STATUS_BADGE[f.expected_status]}  \n{MARK[f.correct]} — {f.explanation}"
            )
            st.markdown(items_table(f.items))
            if f.missing:
                st.markdown("**Not entered:** " + ", ".join(field_label(k) for k in f.missing))
            if f.caveats:
                st.markdown("**Caveats**\n" + "\n".join(f"- {c}" for c in f.caveats))
            st.markdown("**Sources**\n" + "\n".join(f"- {citation_line(k)}" for k in f.citation_keys))


def hscore_view(fb: Feedback, assessment: Assessment) -> None:
    h = fb.hscore
    st.markdown("#### HScore band")
    said = HSCORE_BAND_LABELS.get(h.answered, "not answered") if h.answered else "not answered"
    st.markdown(
        f"You said **{said}**; computed **{HSCORE_BAND_LABELS[h.expected]}**. {MARK[h.correct]}  \n"
        f"HScore: {cards.score_text(assessment.criteria['hscore'])}"
    )
    st.caption(" · ".join(h.bands[b] for b in (*HSCORE_BANDS, "cannot_tell")) + f" — {citation_link('fardet2014')}")


def interpretation_view(fb: Feedback) -> None:
    i = fb.interpretation
    st.markdown("#### MAS vs flare vs primary HLH")
    said = INTERPRETATION_LABELS[i.answered] if i.answered else "not answered"
    expected = INTERPRETATION_LABELS[i.expected] if i.expected else "none of the options fits"
    st.markdown(f"You said **{said}**.  \nComputed: **{expected}**. {MARK[i.correct]}")
    st.markdown(_plain_codes(i.explanation))
    with st.expander("How the expected answer is derived from the computed screen"):
        st.markdown(i.rule)


SIGNAL_WORDS = {
    "'not_suggestive'": "not suggestive",
    "'suggestive'": "suggestive",
    "'insufficient_data'": "insufficient data",
    "'favours_phlh'": "favours primary HLH",
    "'favours_mas'": "favours MAS",
}


def _plain_codes(text: str) -> str:
    """The grader names signals by their codes ('favours_mas'); a reader wants the words."""
    for code, words in SIGNAL_WORDS.items():
        text = text.replace(code, words)
    return text


def next_test_view(fb: Feedback) -> None:
    n = fb.next_test
    st.markdown("#### Which test next")
    said = n.answered_label or NO_TEST_LABEL
    st.markdown(f"You said **{said}**. {MARK[n.correct]}  \n{n.explanation}")
    if n.expected_labels:
        st.caption("Each of these could decide an open instrument on its own: " + ", ".join(n.expected_labels) + ".")


def teaching_points_view(points: list[TeachingPointOut], objectives: list[str] | None = None) -> None:
    for k, tp in enumerate(points, start=1):
        st.markdown(f"**{k}.** {tp.text} — {citation_link(tp.citation_key)}")
    keys = list(dict.fromkeys(tp.citation_key for tp in points))
    st.caption("Sources: " + " · ".join(citation_line(k) for k in keys))
    if objectives:
        st.markdown("**Learning objectives**\n" + "\n".join(f"- {o}" for o in objectives))


def full_result(assessment: Assessment) -> None:
    """The bedside cards for this time point, exactly as the Assess page shows them."""
    cards.headline(assessment)
    cards.status_grid(assessment)
    cards.comparison_panels(assessment)
    cards.next_tests(assessment)
    for r in assessment.criteria.values():
        cards.criterion_card(r, assessment, expanded=False)
    cards.caveats_and_sources(assessment)
