"""One screen of a case as the educator presents it: on the projector stage (a 1280 × 720 slide)
or inline on the Cases page. The screens and how long texts are split come from
`faces.teaching.stage`; this module only draws one of them."""

from __future__ import annotations

import streamlit as st

from mas_screen.criteria.loading import instrument_ids
from mas_screen.explain.summary import supporting_instruments
from mas_screen.faces.teaching.claims import compute
from mas_screen.faces.teaching.grading import own_instruments, ranked_next_steps, shuffled_next_steps
from mas_screen.faces.teaching.schema import READING_LABELS, THEME_LABELS, Case
from mas_screen.faces.teaching.stage import LAB_COLUMNS, Screen, case_screens
from mas_screen.render.figures.trends import trend_small_multiples
from mas_screen.render.figures.trends_status import status_timeline
from mas_screen.ui import cards
from mas_screen.ui.stage import CHART_PX, stage_chart
from mas_screen.ui.teaching_views import (
    GRADE_BADGE,
    citation_link,
    context_changes,
    context_lines,
    lab_order,
    labs_table,
    panel_name,
    series_until,
    source_line,
    text,
)

SLIDE_CHART_PX = CHART_PX
TREND_PANEL_PX = 280  # one lab's plot on a slide (the figure is then ~500 px tall)
LETTERS = "ABCDEF"


def screens_of(case: Case) -> list[Screen]:
    panels = case.panels_in_order()
    return case_screens(case, [lab_order(case, i) for i in range(len(panels))])


def _chart(fig, key: str, stage: bool) -> None:
    if stage:
        stage_chart(fig, key)
    else:
        st.plotly_chart(fig, key=key, width="content", theme=None, config={"displaylogo": False})


def _heading(case: Case, screen: Screen, words: str) -> None:
    name = panel_name(case, screen.panel, short=True)
    st.markdown(f"## {text(name)}: {words}")


def render_screen(case: Case, screen: Screen, *, stage: bool) -> None:
    """Draw one screen (one idea) of a case."""
    kind, i = screen.kind, screen.panel
    panels = case.panels_in_order()
    time = panels[i][0]
    part = f" ({screen.part + 1}/{screen.parts})" if screen.parts > 1 else ""
    if kind == "title":
        st.markdown(f"## {text(case.title)}")
        st.markdown(source_line(case))
        themes = ", ".join(THEME_LABELS[t] for t in case.themes)
        if themes:
            st.markdown(f":gray[Themes: {themes} · difficulty {case.difficulty or '—'} of 3]")
    elif kind == "story":
        st.markdown(f"## The story{part}")
        st.markdown(text(screen.items[0]))
    elif kind == "patient":
        st.markdown("## The patient")
        known, unknown = context_lines(compute(case).context_at(case, panels[0][0]))
        half = -(-len(known) // 2)
        left, right = st.columns(2, gap="large")
        left.markdown("\n".join(f"- {line}" for line in known[:half]))
        right.markdown("\n".join(f"- {line}" for line in known[half:]))
        if unknown:
            st.caption("Not known: " + "; ".join(unknown) + ".")
    elif kind == "panel_story":
        _heading(case, screen, f"what happened since{part}")
        st.markdown(text(screen.items[0]))
    elif kind == "labs":
        _heading(case, screen, f"the labs{part}")
        if screen.part == 0 and context_changes(case, i):
            st.markdown("**New at this panel:** " + "; ".join(context_changes(case, i)))
        st.markdown(labs_table(case, i, analytes=list(screen.items), short=True, columns=LAB_COLUMNS))
        st.caption("— not done (never normal). The current panel in bold.")
    elif kind == "reading_question":
        _heading(case, screen, "your reading?")
        st.markdown("\n".join(f"- **{LETTERS[k]}** · {label}" for k, label in enumerate(READING_LABELS.values())))
    elif kind == "step_question":
        _heading(case, screen, "what would you do next?")
        steps = shuffled_next_steps(case, time)
        st.markdown("\n".join(f"- **{LETTERS[k]}** · {text(s.text)}" for k, s in enumerate(steps)))
    elif kind == "criteria":
        _heading(case, screen, "what the criteria say")
        criteria_table(case, time)
    elif kind == "reading_answer":
        answer = panels[i][1].answer
        assert answer is not None
        _heading(case, screen, f"the author's reading{part}")
        st.markdown(f"### {READING_LABELS[answer.reading]}")
        st.markdown(text(screen.items[0]))
        if answer.references and screen.part == screen.parts - 1:
            st.markdown(":gray[" + " · ".join(citation_link(k) for k in answer.references) + "]")
    elif kind == "step_answer":
        _heading(case, screen, f"next steps, ranked{part}")
        steps = {s.id: s for s in ranked_next_steps(case, time)}
        for sid in screen.items:
            s = steps[sid]
            refs = f" :gray[{' · '.join(citation_link(k) for k in s.references)}]" if s.references else ""
            st.markdown(f"{GRADE_BADGE[s.grade]} **{text(s.text)}**  \n{text(s.rationale)}{refs}")
    elif kind == "timeline":
        _heading(case, screen, "each instrument over time")
        width = SLIDE_CHART_PX if stage else 1100
        _chart(status_timeline(series_until(case, time), width=width), "educator_timeline", stage)
    elif kind == "trend":
        lab = screen.items[0]
        name = {"ast": "AST"}.get(lab, lab)
        _heading(case, screen, f"{name} over time")
        width = SLIDE_CHART_PX if stage else 1100
        fig = trend_small_multiples(series_until(case, time), analytes=[lab], width=width, panel_px=TREND_PANEL_PX)
        _chart(fig, "educator_trend", stage)
    elif kind == "teaching":
        index, point = screen.items
        tp = case.teaching_points[index]
        st.markdown(f"## Teaching point {index + 1} of {screen.parts}")
        st.markdown(text(point))
        st.markdown(":gray[" + citation_link(tp.citation) + "]")
    elif kind == "objectives":
        st.markdown("## Learning objectives")
        st.markdown("\n".join(f"- {text(o)}" for o in case.learning_objectives))


def criteria_table(case: Case, time: str) -> None:
    """The screen's headline and every instrument in one table, the patient's own first."""
    a = compute(case).at(time)
    context = compute(case).context_at(case, time)
    own = own_instruments(context.underlying_disease)
    support = supporting_instruments(context.underlying_disease or "unknown")
    colour = {"suggestive": "red", "not_suggestive": "green", "insufficient_data": "orange"}[a.summary.mas_signal]
    st.markdown(f":{colour}[**{a.summary.headline}**]")
    rows = ["| Instrument | For this patient | Status | Result |", "|---|---|---|---|"]
    order = [*own, *support, *(i for i in instrument_ids() if i not in own and i not in support)]
    for iid in order:
        r = a.criteria[iid]
        mine = "**own**" if iid in own else "supporting" if iid in support else ":gray[other population]"
        rows.append(f"| {r.short_name} | {mine} | {cards.STATUS_BADGE[r.status]} | {cards.score_text(r) or '—'} |")
    st.markdown("\n".join(rows))
