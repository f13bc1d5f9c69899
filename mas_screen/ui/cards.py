"""Result cards: the headline, the MAS-vs-flare and MAS-vs-pHLH panels, one card per instrument.

Wording screens, never diagnoses: "features suggestive of", "criteria met", "consider". Status is
given in words and symbols as well as colour, so it survives colour-blindness and black-and-white.
"""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from mas_screen.criteria_data import criteria
from mas_screen.explain.summary import more_tests_lines, more_tests_title, qualified_name
from mas_screen.models import Assessment, CriterionResult, ItemResult, field_label
from mas_screen.references import full_citation, link, short_citation
from mas_screen.score_display import minus, shown_score
from mas_screen.units import format_number, pretty_unit

STATUS_BADGE = {
    "met": ":red-background[**● met**]",
    "not_met": ":green-background[**○ not met**]",
    "indeterminate": ":gray-background[**◐ indeterminate**]",
}
RESULT_MARK = {"met": "● met", "not_met": "○ not met", "missing": "? missing"}
POPULATION_TEXT = {
    "validated": "Patient is within the population the instrument was derived in.",
    "outside": "**Patient is outside the derivation population** — indicative only (see caveats).",
    "unknown": "Population fit unknown (enter age / underlying disease).",
}
FLARE_IDS = ("mas2016", "ms_score", "ferritin_esr")
PHLH_IDS = ("mh_score", "hlh2004")


def _num(value: float | int | None) -> str:
    return "—" if value is None else format_number(Decimal(repr(value)))


def score_text(r: CriterionResult) -> str:
    if r.score is not None:
        text = f"score **{shown_score(r)}**"
    elif r.score_range is not None:
        text = f"score range **{_num(r.score_range[0])}–{_num(r.score_range[1])}**"
    elif r.score_bounds is not None and r.status != "indeterminate":
        lo, hi = r.score_bounds
        text = f"score **{'≥ ' + _num(lo) if r.status == 'met' else '≤ ' + _num(hi)}** whatever the missing values"
    elif r.count_met is not None:
        text = f"**{r.count_met}** met of {r.count_assessable} assessable"
    else:
        text = ""
    if r.cutoff_label:
        text += f" (cut-off {r.cutoff_label})"
    if r.probability is not None:
        text += f" · probability **{r.probability.label}**"
    return minus(text)


def headline(a: Assessment) -> None:
    s = a.summary
    if s.mas_signal == "suggestive":
        st.error(f"### {s.headline}", icon=":material/warning:")
    elif s.mas_signal == "not_suggestive":
        st.success(f"### {s.headline}", icon=":material/check_circle:")
    else:
        st.warning(f"### {s.headline}", icon=":material/help:")
    if s.other_population_line:
        # Secondary and grey, never in the headline's colour: indicative only (contract).
        st.caption(s.other_population_line)
    phlh = {
        "favours_phlh": f":violet[**{s.phlh_text}**]",
        "favours_mas": s.phlh_text,
        "insufficient_data": f":gray[{s.phlh_text}]",
    }[s.phlh_signal]
    st.markdown(phlh)
    st.caption("Screening aid, not a diagnosis. Results support, and never replace, clinical judgement.")


STRIP_MARK = {"met": "●", "not_met": "○", "indeterminate": "◐"}


def status_strip(a: Assessment) -> None:
    """One line: the headline and every instrument's status (for narrow screens, kept in view)."""
    colour = {"suggestive": "red", "not_suggestive": "green", "insufficient_data": "orange"}[a.summary.mas_signal]
    marks = " · ".join(f"{r.short_name} {STRIP_MARK[r.status]}" for r in a.criteria.values())
    st.markdown(f":{colour}[**{a.summary.headline}**]  \n:gray[{marks}  (● met ○ not met ◐ indeterminate)]")


def status_grid(a: Assessment) -> None:
    rows = ["| Instrument | Status | Result |", "|---|---|---|"]
    for r in a.criteria.values():
        mark = " †" if r.population == "outside" else ""
        rows.append(f"| {qualified_name(r.id)}{mark} | {STATUS_BADGE[r.status]} | {score_text(r) or '—'} |")
    st.markdown("\n".join(rows))
    if any(r.population == "outside" for r in a.criteria.values()):
        st.caption("† Patient outside the population the instrument was derived in: indicative only.")


def _panel_line(r: CriterionResult) -> str:
    return f"**{qualified_name(r.id)}** {STATUS_BADGE[r.status]} — {r.verdict}"


def comparison_panels(a: Assessment) -> None:
    left, right = st.columns(2, gap="medium")
    with left, st.container(border=True):
        st.markdown("#### MAS vs sJIA / Still's flare")
        for iid in FLARE_IDS:
            st.markdown(_panel_line(a.criteria[iid]))
        extra = a.criteria["ms_score"].additional_cutoffs
        for cut in extra:
            st.markdown(f"↳ MS score {cut.label} cut-off {cut.comparator} {cut.cutoff}: {STATUS_BADGE[cut.status]}")
        st.caption(
            "The 2016 criteria and MS score were derived in systemic JIA; ferritin:ESR supports but never decides."
        )
    with right, st.container(border=True):
        st.markdown("#### MAS vs primary HLH")
        for iid in PHLH_IDS:
            st.markdown(_panel_line(a.criteria[iid]))
        st.caption("Genetic testing remains the reference standard for primary HLH.")


def next_tests(a: Assessment) -> None:
    """What to do next: the routine tests that decide the patient's own instruments (or, once they
    are decided, repeat the routine panel); specialist tests and other populations' inputs collapsed."""
    s = a.summary
    if s.next_steps:
        st.markdown(f"**Next steps.** {s.next_steps}")
    lines = more_tests_lines(a)
    if lines:
        with st.expander(more_tests_title(), expanded=False):
            st.markdown("\n".join(f"- {line}" for line in lines))


def _item_row(item: ItemResult, indent: str = "") -> list[str]:
    entered = item.display or ":gray[not entered]"
    value = item.value_text or ("" if item.value is None else f"{_num(item.value)} {pretty_unit(item.unit)}".strip())
    points = "" if item.points is None else _num(item.points)
    counted = "" if item.counted else " (supportive, not counted)"
    label = f"{indent}{item.label}{counted}"
    rows = [f"| {label} | {entered} | {value} | {item.threshold or ''} | {RESULT_MARK[item.result]} | {points} |"]
    for sub in item.components or []:
        rows += _item_row(sub, indent + "↳ ")
    return rows


def items_table(r: CriterionResult) -> None:
    lines = [
        "| Item | Entered | In published unit | Rule | Result | Points |",
        "|---|---|---|---|---|---|",
    ]
    for item in r.items:
        lines += _item_row(item)
    st.markdown("\n".join(lines))


def education_for(iid: str) -> list:
    return [t for t in criteria().education.topics if iid in t.applies_to]


def criterion_card(r: CriterionResult, a: Assessment, expanded: bool) -> None:
    title = f"{qualified_name(r.id)} — {r.status.replace('_', ' ')}" + (
        f" · {score_text(r).replace('**', '')}" if score_text(r) else ""
    )
    with st.expander(title, expanded=expanded):
        st.markdown(f"{STATUS_BADGE[r.status]} **{r.verdict}**")
        st.caption(f"{r.name} ({r.version})")
        for cut in r.additional_cutoffs:
            st.markdown(f"Also: {cut.label} cut-off {cut.comparator} {cut.cutoff} → {STATUS_BADGE[cut.status]}")
        items_table(r)
        if r.next_tests:
            st.markdown("**Would decide it:** " + ", ".join(field_label(k) for k in r.next_tests))
        if r.missing:
            st.markdown("**Not entered, or not decisive (a bound):** " + ", ".join(field_label(k) for k in r.missing))
        st.markdown(POPULATION_TEXT[r.population] + f" _Derivation: {r.population_description}_")
        if r.caveats:
            st.markdown("**Caveats**\n" + "\n".join(f"- {c}" for c in r.caveats))
        refs = []
        for key in r.references:
            url = link(key)
            refs.append(f"- {full_citation(key)}" + (f" [link]({url})" if url else ""))
        st.markdown("**Sources**\n" + "\n".join(refs))
        topics = education_for(r.id)
        if topics:
            st.markdown("**Learn more**")
            for topic in topics[:2]:
                points = "\n".join(f"- {p.text} ({short_citation(p.citation)})" for p in topic.points[:4])
                st.markdown(f"_{topic.title}_\n{points}")
                for lk in topic.links:
                    st.markdown(f"[{lk.label}]({lk.url})")


def caveats_and_sources(a: Assessment) -> None:
    st.markdown("#### Caveats")
    st.markdown("\n".join(f"- {c}" for c in a.summary.caveats))
    with st.expander("All references", expanded=False):
        for ref in a.references.values():
            st.markdown(f"- {ref.citation}" + (f" [link]({ref.url})" if ref.url else ""))
