"""Result cards: the headline, the MAS-vs-flare and MAS-vs-pHLH panels, one card per instrument.

Wording screens, never diagnoses: "features suggestive of", "criteria met", "consider". Status is
given in words and symbols as well as colour, so it survives colour-blindness and black-and-white.
"""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.references import full_citation, link, short_citation
from mas_screen.domain.models import Assessment, CriterionResult, ItemResult, field_label
from mas_screen.domain.units import format_number
from mas_screen.explain.phrases import RESULT_WORDS, STATUS_MARK, STATUS_WORDS, entered, extra_cutoff, result_phrase
from mas_screen.explain.score_display import minus
from mas_screen.explain.summary import (
    headline_caveats,
    more_tests_lines,
    more_tests_title,
    phlh_alert,
    qualified_name,
    reading_order,
)

_BADGE_COLOUR = {"met": "red", "not_met": "green", "indeterminate": "gray"}
STATUS_BADGE = {s: f":{_BADGE_COLOUR[s]}-background[**{STATUS_WORDS[s]}**]" for s in STATUS_WORDS}
POPULATION_TEXT = {
    "validated": "Patient is within the population the instrument was derived in.",
    "outside": "**Patient is outside the derivation population** — indicative only (see caveats).",
    "unknown": "Population fit unknown (enter age / underlying disease).",
}


def _num(value: float | int | None) -> str:
    return "—" if value is None else format_number(Decimal(repr(value)))


def _bold(text: str) -> str:
    return f"**{text}**"


def score_text(r: CriterionResult) -> str:
    """The result phrase with its number in bold (explain.phrases: the same words on every face); for a
    score still open, its cut-off only (a phone's page has a height budget: tests/e2e)."""
    return result_phrase(r, strong=_bold) or (minus(f"(cut-off {r.cutoff_label})") if r.cutoff_label else "")


def headline(a: Assessment) -> None:
    s = a.summary
    if s.mas_signal == "suggestive":
        st.error(f"### {s.headline}", icon=":material/warning:")
    elif s.mas_signal == "not_suggestive":
        st.success(f"### {s.headline}", icon=":material/check_circle:")
    else:
        st.warning(f"### {s.headline}", icon=":material/help:")
    for text in headline_caveats(a):  # e.g. IL-6 blockade: never a reassuring headline without it
        st.markdown(f":orange[**⚠ {text}**]")
    if s.other_population_line:
        # Secondary and grey, never in the headline's colour: indicative only (contract).
        st.caption(s.other_population_line)
    if phlh_alert(a):
        st.markdown(f":violet[**{s.phlh_text}**]")
    elif s.phlh_signal == "insufficient_data":
        st.markdown(f":gray[{s.phlh_text}]")
    else:
        st.markdown(s.phlh_text)
    st.caption("Screening aid, not a diagnosis. Results support, and never replace, clinical judgement.")


SIGNAL_ICON = {"suggestive": "⚠", "not_suggestive": "✓", "insufficient_data": "?"}
SIGNAL_COLOUR = {"suggestive": "red", "not_suggestive": "green", "insufficient_data": "orange"}


def ordered(a: Assessment, own: tuple[str, ...]) -> list[CriterionResult]:
    """The patient's own instruments first, then the rest (explain.summary.reading_order: every face)."""
    return reading_order(a, own)


def status_strip(a: Assessment, own: tuple[str, ...] = ()) -> None:
    """Pinned at the top of the screen on tablets and phones: the headline in one line with its
    icon; below it the own instruments' statuses in words, which open (tap, or Enter) onto the grey
    other-populations line, the MAS-vs-primary-HLH line and the next steps."""
    s = a.summary
    marks = " · ".join(
        f"{qualified_name(r.id)} {STATUS_MARK[r.status]} {r.status.replace('_', ' ')}"
        for r in ordered(a, own)[: len(own) or 3]
    )
    if s.other_population_met:  # named in the grey line once opened
        marks += f" · +{len(s.other_population_met)} met, built for other populations (indicative)"
    st.markdown(f":{SIGNAL_COLOUR[s.mas_signal]}[**{SIGNAL_ICON[s.mas_signal]} {s.headline}**]")
    for text in headline_caveats(a):
        st.markdown(f":orange[**⚠ {text}**]")
    if phlh_alert(a):  # as urgent as the headline: never folded away
        st.markdown(f":violet[**{s.phlh_text}**]")
    with st.expander(marks, expanded=False, key="strip_more"):
        if s.other_population_line:
            st.caption(s.other_population_line)  # grey, never the headline's colour
        if not phlh_alert(a):
            st.caption(s.phlh_text)
        if s.next_steps:
            st.caption(f"**Next steps.** {s.next_steps}")


def panels(a: Assessment, every: bool = True) -> list:
    """The comparison panels to show (policy.yaml `panels`): all of them, or (`every` False, the
    bedside page) those shown always and those holding one of the patient's own instruments."""
    own = set(a.summary.own_instruments)
    return [p for p in criteria().policy.panels if every or p.always or own & set(p.instruments)]


def own_instruments(a: Assessment, own: tuple[str, ...]) -> None:
    """One line per own instrument that the comparison panels below do not already show."""
    shown = {iid for p in panels(a, every=False) for iid in p.instruments}
    rest = [r for r in ordered(a, own)[: len(own)] if r.id not in shown]
    if rest:
        st.markdown("**Instruments that decide this screen**")
    for r in rest:
        detail = score_text(r)
        st.markdown(f"{badge(r, a)} **{qualified_name(r.id)}**" + (f" · {detail}" if detail else ""))


def status_grid(a: Assessment) -> None:
    rows = ["| Instrument | Status | Result |", "|---|---|---|"]
    for r in a.criteria.values():
        mark = " †" if r.population == "outside" else ""
        rows.append(f"| {qualified_name(r.id)}{mark} | {badge(r, a)} | {score_text(r) or '—'} |")
    st.markdown("\n".join(rows))
    if any(r.population == "outside" for r in a.criteria.values()):
        st.caption("† Patient outside the population the instrument was derived in: indicative only.")


INDICATIVE_BADGE = ":gray-background[**● met · indicative only**]"


def badge(r: CriterionResult, a: Assessment) -> str:
    """The status badge; red 'met' only for the patient's own instruments. An instrument built for
    another population that is met is grey and says so (contract: never the headline's colour)."""
    return INDICATIVE_BADGE if r.id in a.summary.other_population_met else STATUS_BADGE[r.status]


def _panel_line(r: CriterionResult, a: Assessment) -> str:
    detail = score_text(r)
    return f"{badge(r, a)} **{qualified_name(r.id)}**" + (f" · {detail}" if detail else "")


def comparison_panels(a: Assessment, every: bool = True) -> None:
    """Side by side, the comparison panels of policy.yaml (MAS vs an sJIA/Still's flare, MAS vs
    primary HLH): each instrument's line, its additional cut-offs, and the panel's caption. With
    `every` False (the bedside page) a panel appears only where it applies (see `panels`)."""
    chosen = panels(a, every)
    places = st.columns(len(chosen), gap="small") if len(chosen) > 1 else [st.container() for _ in chosen]
    for place, panel in zip(places, chosen, strict=True):
        with place, st.container(border=True, key=f"panel_{panel.id}"):
            st.markdown(f"**{panel.title}**")
            for iid in panel.instruments:
                r = a.criteria[iid]
                st.markdown(_panel_line(r, a))
                for cut in r.additional_cutoffs:
                    st.markdown(f"↳ {r.short_name} {extra_cutoff(cut)}: {STATUS_BADGE[cut.status]}")
            st.caption(panel.caption)


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


COLUMNS = ("Item", "Result", "Entered", "Rule", "Points")


def _entered(item: ItemResult) -> str:
    """What was entered, with the value in the rule's unit when it differs (explain.phrases.entered)."""
    return entered(item) or ":gray[not entered]"


def _item_row(item: ItemResult, indent: str = "") -> list[list[str]]:
    points = "" if item.points is None else _num(item.points)
    counted = "" if item.counted or "not counted" in item.label else " (supportive, not counted)"
    label = f"{indent}{item.label}{counted}"
    rows = [[label, RESULT_WORDS[item.result], _entered(item), item.threshold or "", points]]
    for sub in item.components or []:
        rows += _item_row(sub, indent + "↳ ")
    return rows


def items_table(r: CriterionResult) -> None:
    """Item and result first (what a phone shows before the table scrolls sideways), then what was
    entered and the rule; the points column only for a points-based instrument."""
    rows = [row for item in r.items for row in _item_row(item)]
    keep = [i for i, _ in enumerate(COLUMNS) if i < 4 or any(row[i] for row in rows)]
    lines = ["| " + " | ".join(COLUMNS[i] for i in keep) + " |", "|" + "---|" * len(keep)]
    lines += ["| " + " | ".join(row[i] for i in keep) + " |" for row in rows]
    st.markdown("\n".join(lines))


def education_for(iid: str) -> list:
    return [t for t in criteria().education.topics if iid in t.applies_to]


def criterion_card(r: CriterionResult, a: Assessment, expanded: bool, tag: str = "") -> None:
    """One instrument: verdict, item table (scrolls sideways inside the card on a phone), what
    would decide it; its population, caveats and sources on a second tab. With a `tag` (one per
    page arrangement) the card tracks whether it is open and draws its content only then."""
    detail = score_text(r).replace("**", "")
    status = r.status.replace("_", " ") + (", indicative only" if r.id in a.summary.other_population_met else "")
    title = f"{STATUS_MARK[r.status]} {qualified_name(r.id)} — {status}" + (f" · {detail}" if detail else "")
    if tag:  # the bedside page: a closed card is drawn empty (a lighter page reruns faster)
        box = st.expander(title, expanded=expanded, key=f"card_{r.id}_{tag}", on_change="rerun")
        if box.open is False:
            return
    else:
        box = st.expander(title, expanded=expanded)
    with box:
        st.markdown(f"{badge(r, a)} **{r.verdict}**")
        st.caption(f"{r.name} ({r.version})")
        items, notes = st.tabs(["Items", "Population, caveats, sources"])
        with items:
            for cut in r.additional_cutoffs:
                st.markdown(f"Also: {extra_cutoff(cut)} → {STATUS_BADGE[cut.status]}")
            items_table(r)
            if r.next_tests:
                st.markdown("**Would decide it:** " + ", ".join(field_label(k) for k in r.next_tests))
            if r.missing:
                st.markdown(
                    "**Not entered, or not decisive (a bound):** " + ", ".join(field_label(k) for k in r.missing)
                )
        with notes:
            st.markdown(POPULATION_TEXT[r.population] + f" _Derivation: {r.population_description}_")
            if r.caveats:
                st.markdown("**Caveats**\n" + "\n".join(f"- {c}" for c in r.caveats))
            refs = []
            for key in r.references:
                url = link(key)
                refs.append(f"- {full_citation(key)}" + (f" [link]({url})" if url else ""))
            st.markdown("**Sources**\n" + "\n".join(refs))


def learn_more(ids: list[str]) -> None:
    """Cited teaching points for the instruments shown, each topic once (a topic that applies to
    three instruments used to be printed in all three cards)."""
    topics = [t for t in criteria().education.topics if any(i in t.applies_to for i in ids)]
    if not topics:
        return
    with st.expander("Learn more: recognising MAS, and what the criteria cannot tell", key="learn_more"):
        for topic in topics:
            points = "\n".join(f"- {p.text} ({short_citation(p.citation)})" for p in topic.points[:4])
            st.markdown(f"**{topic.title}**\n{points}")
            for lk in topic.links:
                st.markdown(f"[{lk.label}]({lk.url})")


def caveats_and_sources(a: Assessment, expanded: bool = True, tag: str = "") -> None:
    with st.expander(f"Caveats for this result ({len(a.summary.caveats)})", expanded=expanded, key=f"caveats_{tag}"):
        st.markdown("\n".join(f"- {c}" for c in a.summary.caveats))
    with st.expander("All references", expanded=False, key="all_references"):
        for ref in a.references.values():
            st.markdown(f"- {ref.citation}" + (f" [link]({ref.url})" if ref.url else ""))
