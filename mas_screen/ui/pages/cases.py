"""Teaching cases: practice (commit to answers, then cited feedback) and educator (projector) modes.

A thin face over `mas_screen.cases`: every expected answer is computed by the core and graded by
`cases.grade()`. Answers, progress and the tally live in this browser session's state only;
nothing is stored on the server.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from mas_screen.cases import (
    HSCORE_BANDS,
    INTERPRETATION_LABELS,
    Answer,
    Case,
    case_by_id,
    compute,
    grade,
    hscore_band_descriptions,
    input_choices,
    load_cases,
    teaching_points_out,
)
from mas_screen.criteria_data import criteria, instrument_ids
from mas_screen.models import DISEASE_LABELS
from mas_screen.ui import cards
from mas_screen.ui.teaching_views import (
    HSCORE_BAND_LABELS,
    NO_TEST,
    NO_TEST_LABEL,
    case_panels,
    context_changes,
    full_result,
    hscore_view,
    instruments_view,
    interpretation_view,
    lab_order,
    labs_table,
    next_test_view,
    panel_name,
    panel_when,
    score_banner,
    series_until,
    show_context,
    teaching_points_view,
)

MODES = {"practice": ":material/school: Practice", "educator": ":material/co_present: Educator (projector)"}
CHART_WIDTH_PX = 1150
if TYPE_CHECKING:
    import plotly.graph_objects as go

EDUCATOR_DEFAULT = "sjia_mas_early"  # three panels: shows the course and the trend charts

# State keys (this browser session only).
PROGRESS = "practice_progress"  # case id -> index of the panel being answered
FEEDBACK = "practice_feedback"  # "case@time" -> cases.Feedback
TALLY = "practice_tally"  # {"panels", "correct", "total"}
ERROR = "practice_error"
EDU_STEP = "educator_progress"  # case id -> screen index
MET_KEY = "practice_met::{}"
HSCORE_KEY = "practice_hscore"
INTERP_KEY = "practice_interp"
NEXT_KEY = "practice_next"

# Projector view: large type, scoped to the stage container so the rest of the app is unchanged.
PROJECTOR_CSS = """
<style>
.st-key-educator_stage p, .st-key-educator_stage li { font-size: 1.6rem !important; line-height: 1.45 !important; }
.st-key-educator_stage td, .st-key-educator_stage th { font-size: 1.4rem !important; line-height: 1.3 !important; }
.st-key-educator_stage h2 { font-size: 2.7rem !important; line-height: 1.2 !important; padding-bottom: 0.6rem; }
.st-key-educator_stage h3 { font-size: 2.1rem !important; }
.st-key-educator_stage table { width: 100%; }
.st-key-educator_stage td, .st-key-educator_stage th { padding: 0.3rem 0.8rem !important; }
.st-key-educator_stage [data-testid="stCaptionContainer"] p { font-size: 1.15rem !important; }
.st-key-educator_stage { max-width: 1400px; }
</style>
"""


# ------------------------------------------------------------------------------------------ state


def init_state() -> None:
    state = st.session_state
    state.setdefault(PROGRESS, {})
    state.setdefault(FEEDBACK, {})
    state.setdefault(TALLY, {"panels": 0, "correct": 0, "total": 0})
    state.setdefault(ERROR, None)
    state.setdefault(EDU_STEP, {})


def _age_words(age: object) -> str:
    try:
        years = float(age)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "age not known"
    if years < 2:
        months = round(years * 12)
        return f"{months} month{'s' if months != 1 else ''} old"
    return f"{years:g} years old"


def neutral_name(case: Case, number: int) -> str:
    """'Case 3 · 7 years old · Systemic JIA': the title would give the answer away before practice."""
    disease = case.context.disease
    words = {"other": "another underlying disease", "unknown": "underlying disease not known"}.get(
        disease, DISEASE_LABELS[disease]
    )
    return f"Case {number} · {_age_words(case.context.age_years)} · {words}"


def _clear_answers() -> None:
    state = st.session_state
    for key in [MET_KEY.format(i) for i in instrument_ids()] + [HSCORE_KEY, INTERP_KEY, NEXT_KEY]:
        state.pop(key, None)
    state[ERROR] = None


def pick_random() -> None:
    """Another case at random, preferring one not yet finished in this session."""
    state = st.session_state
    ids = [c.id for c in load_cases()]
    current = state.get("practice_case")
    done = {k.split("@")[0] for k in state[FEEDBACK]}
    fresh = [i for i in ids if i != current and i not in done]
    state["practice_case"] = random.choice(fresh or [i for i in ids if i != current] or ids)
    _clear_answers()


def commit(case_id: str, time: str) -> None:
    """Grade the committed answers (all three single-choice questions must be answered)."""
    state = st.session_state
    missing = [
        name
        for key, name in ((HSCORE_KEY, "the HScore band"), (INTERP_KEY, "the picture"), (NEXT_KEY, "the next test"))
        if state.get(key) is None
    ]
    if missing:
        state[ERROR] = (
            "Commit to every answer first — still open: " + ", ".join(missing) + ". "
            "If the data do not decide, 'cannot tell yet' is an answer."
        )
        return
    answer = Answer(
        met_instruments={iid for iid in instrument_ids() if state.get(MET_KEY.format(iid))},
        hscore_band=state[HSCORE_KEY],
        interpretation=state[INTERP_KEY],
        next_test=None if state[NEXT_KEY] == NO_TEST else state[NEXT_KEY],
    )
    feedback = grade(case_by_id(case_id), answer, at_time=time)
    state[FEEDBACK][f"{case_id}@{time}"] = feedback
    tally = state[TALLY]
    tally["panels"] += 1
    tally["correct"] += feedback.correct
    tally["total"] += feedback.total
    state[ERROR] = None


def advance(case_id: str) -> None:
    st.session_state[PROGRESS][case_id] = st.session_state[PROGRESS].get(case_id, 0) + 1
    _clear_answers()


def restart(case_id: str) -> None:
    state = st.session_state
    state[PROGRESS][case_id] = 0
    for key in [k for k in state[FEEDBACK] if k.split("@")[0] == case_id]:
        del state[FEEDBACK][key]
    _clear_answers()


def reset_tally() -> None:
    st.session_state[TALLY] = {"panels": 0, "correct": 0, "total": 0}


# --------------------------------------------------------------------------------------- practice


def tally_row() -> None:
    t = st.session_state[TALLY]
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    c1.metric("Panels answered", t["panels"])
    c2.metric("Answers right", f"{t['correct']} of {t['total']}")
    c3.metric("Score", f"{round(100 * t['correct'] / t['total'])} %" if t["total"] else "—")
    with c4:
        st.button(
            "Reset tally",
            key="practice_reset_tally",
            icon=":material/restart_alt:",
            on_click=reset_tally,
            type="tertiary",
        )
        st.caption("This browser session only; nothing is stored on the server.")


def answer_form(case: Case, time: str) -> None:
    if st.session_state.get(ERROR):
        st.error(st.session_state[ERROR], icon=":material/front_hand:")
    descriptions = hscore_band_descriptions()
    with st.form("practice_form", border=True):
        st.markdown("#### Your answers — commit before you see any result")
        st.markdown(
            "**1. Which instruments are met at this time point?** Tick those whose criteria are met; leave "
            "unticked those not met *or not yet decidable* (missing inputs could still change them)."
        )
        cols = st.columns(4)
        for i, iid in enumerate(instrument_ids()):
            with cols[i % 4]:
                st.checkbox(criteria().instruments[iid].short_name, key=MET_KEY.format(iid))
        c1, c2 = st.columns(2, gap="large")
        with c1:
            bands = [*HSCORE_BANDS, "cannot_tell"]
            st.radio(
                "**2. HScore band**",
                bands,
                index=None,
                format_func=HSCORE_BAND_LABELS.get,
                captions=[descriptions[b].split(": ", 1)[-1] for b in bands],
                key=HSCORE_KEY,
            )
        with c2:
            st.radio(
                "**3. What is the picture at this time point?**",
                list(INTERPRETATION_LABELS),
                index=None,
                format_func=INTERPRETATION_LABELS.get,
                key=INTERP_KEY,
            )
        choices = input_choices()
        st.selectbox(
            "**4. Which single test or finding would you seek next?**",
            [NO_TEST, *choices],
            index=None,
            placeholder="Choose a test, or 'no further test needed'",
            format_func=lambda k: NO_TEST_LABEL if k == NO_TEST else choices[k],
            key=NEXT_KEY,
        )
        st.form_submit_button(
            "Commit answers", type="primary", key="practice_commit", on_click=commit, args=(case.id, time)
        )


def navigation(case: Case, step: int, last: bool, where: str) -> None:
    if not last:
        st.button(
            f"Next panel: {panel_name(case, step + 1)} ▶",
            key=f"practice_next_panel_{where}",
            type="primary",
            on_click=advance,
            args=(case.id,),
        )
        return
    c1, c2 = st.columns([1, 3])
    with c1:
        st.button(
            "Another case",
            key=f"practice_another_{where}",
            type="primary",
            icon=":material/casino:",
            on_click=pick_random,
        )
    with c2:
        st.button(
            "Restart this case",
            key=f"practice_restart_{where}",
            icon=":material/restart_alt:",
            on_click=restart,
            args=(case.id,),
        )


def feedback_section(case: Case, time: str, step: int, last: bool) -> None:
    fb = st.session_state[FEEDBACK][f"{case.id}@{time}"]
    st.markdown("### Feedback")
    score_banner(fb)
    if last:
        st.markdown(f"**This case:** {case.title} _({case.source_text})_")
    navigation(case, step, last, "top")
    instruments_view(fb, compute(case).at(time))
    c1, c2 = st.columns(2, gap="large")
    with c1:
        hscore_view(fb, compute(case).at(time))
        next_test_view(fb)
    with c2:
        interpretation_view(fb)
    st.markdown("#### Teaching points")
    if last:
        teaching_points_view(fb.teaching_points, fb.learning_objectives)
    else:
        st.info(
            "The teaching points are shown after the last panel: they discuss the whole course.",
            icon=":material/skip_next:",
        )
    if st.toggle("Show the full computed result (the bedside cards)", key="practice_full_result"):
        with st.container(border=True, key="practice_full"):
            full_result(compute(case).at(time))
    navigation(case, step, last, "bottom")


def practice(slot: DeltaGenerator) -> None:
    cases = load_cases()
    ids = [c.id for c in cases]
    numbers = {c.id: i for i, c in enumerate(cases, start=1)}
    state = st.session_state
    if state.get("practice_case") not in ids:
        state["practice_case"] = ids[0]
    with slot:
        c1, c2 = st.columns([4, 1.2], vertical_alignment="bottom")
    with c1:
        st.selectbox(
            "Case",
            ids,
            key="practice_case",
            persist_state="session",
            format_func=lambda i: neutral_name(case_by_id(i), numbers[i]),
            on_change=_clear_answers,
            help="Titles are hidden until you finish a case: they would give the answer away.",
        )
    with c2:
        st.button("Random case", key="practice_random", icon=":material/casino:", on_click=pick_random, width="stretch")
    st.caption(
        "Cases constructed for teaching (or adapted from a cited report); every expected finding is computed by the "
        "published criteria, never typed by hand. Commit to your answers at each panel, then see what the criteria "
        "compute, item by item, with their sources."
    )
    tally_row()
    case = case_by_id(state["practice_case"])
    panels = case_panels(case)
    step = min(state[PROGRESS].get(case.id, 0), len(panels) - 1)
    time = panels[step][0]
    last = step == len(panels) - 1

    st.markdown(f"### {neutral_name(case, numbers[case.id])}")
    st.markdown(case.story)
    for i in range(1, step + 1):  # the course so far, never what comes later
        if panels[i][1].story:
            st.markdown(f"**{panel_name(case, i)}.** {panels[i][1].story}")
    st.markdown(f"#### Panel {step + 1} of {len(panels)}: {panel_name(case, step)} — {panel_when(case, step)}")
    changes = context_changes(case, step)
    if changes:
        st.info("New at this panel: " + "; ".join(changes), icon=":material/fiber_new:")
    with st.expander("The patient at this time point (context)", expanded=step == 0):
        show_context(compute(case).context_at(case, time))
    st.markdown(labs_table(case, step))
    st.caption("Blank means not done (never normal). Values as the laboratory reported them, in the unit shown.")
    if f"{case.id}@{time}" in state[FEEDBACK]:
        feedback_section(case, time, step, last)
    else:
        answer_form(case, time)


# --------------------------------------------------------------------------------------- educator


def educator_screens(case: Case) -> list[tuple[str, int]]:
    """One idea per screen: the story, then for each panel its labs, what the criteria say and
    (from the second panel) the course so far; the teaching points last."""
    screens: list[tuple[str, int]] = [("story", 0)]
    for i in range(len(case.panels)):
        screens += [("labs", i), ("criteria", i)]
        if i > 0:
            screens += [("timeline", i), ("trend", i)]
    screens.append(("teaching", len(case.panels) - 1))
    return screens


def _reveal_label(case: Case, screen: tuple[str, int], previous: tuple[str, int]) -> str:
    kind, i = screen
    if kind == "labs":
        return "Reveal the labs ▶" if i == previous[1] else f"Next panel: {panel_name(case, i)} ▶"
    return {
        "criteria": "Reveal the criteria ▶",
        "timeline": "Each instrument over time ▶",
        "trend": "The labs over time ▶",
        "teaching": "Reveal the teaching points ▶",
    }.get(kind, "Next ▶")


def _move(case_id: str, delta: int, count: int) -> None:
    progress = st.session_state[EDU_STEP]
    progress[case_id] = max(0, min(count - 1, progress.get(case_id, 0) + delta))


def _restart_educator(case_id: str) -> None:
    st.session_state[EDU_STEP][case_id] = 0


def educator_chart(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, width="content", theme=None, config={"displaylogo": False})


def educator_stage(case: Case, screen: tuple[str, int]) -> None:
    kind, i = screen
    panels = case_panels(case)
    time = panels[i][0]
    if kind == "story":
        st.markdown(f"## {case.title}")
        st.markdown(case.story)
        st.caption(case.source_text)
        return
    heading = f"{panel_name(case, i)} · {panel_when(case, i)}"
    if kind == "labs":
        st.markdown(f"## {heading}: the labs")
        if panels[i][1].story:
            st.markdown(f"### {panels[i][1].story}")
        changes = context_changes(case, i)
        if changes:
            st.markdown("**New at this panel:** " + "; ".join(changes))
        order = lab_order(case, i)
        half = -(-len(order) // 2)
        left, right = st.columns(2, gap="large")
        with left:
            st.markdown(labs_table(case, i, analytes=order[:half]))
        with right:
            st.markdown(labs_table(case, i, analytes=order[half:]))
        st.caption("Blank means not done (never normal).")
    elif kind == "criteria":
        st.markdown(f"## {heading}: what the criteria say")
        assessment = compute(case).at(time)
        cards.headline(assessment)
        cards.status_grid(assessment)
    elif kind == "timeline":
        from mas_screen.trend_figures import status_timeline

        st.markdown(f"## Each instrument over time, up to {panel_name(case, i)}")
        educator_chart(status_timeline(series_until(case, time), width=CHART_WIDTH_PX), "educator_timeline")
    elif kind == "trend":
        from mas_screen.trend_figures import KEY_ANALYTES, trend_small_multiples

        st.markdown(f"## The labs over time, up to {panel_name(case, i)}")
        every = st.toggle("Every lab (not only the three whose change matters most)", key="educator_all_labs")
        result = series_until(case, time)
        fig = trend_small_multiples(result, analytes=None if every else KEY_ANALYTES, width=CHART_WIDTH_PX)
        educator_chart(fig, "educator_trend")
    else:
        st.markdown("## Teaching points")
        teaching_points_view(teaching_points_out(case), list(case.learning_objectives))


def educator(slot: DeltaGenerator) -> None:
    cases = load_cases()
    ids = [c.id for c in cases]
    state = st.session_state
    if state.get("educator_case") not in ids:
        state["educator_case"] = EDUCATOR_DEFAULT if EDUCATOR_DEFAULT in ids else ids[0]
    with slot:
        st.selectbox(
            "Case", ids, key="educator_case", format_func=lambda i: case_by_id(i).title, persist_state="session"
        )
    case = case_by_id(state["educator_case"])
    screens = educator_screens(case)
    step = min(state[EDU_STEP].get(case.id, 0), len(screens) - 1)
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left, st.container(horizontal=True, vertical_alignment="center", key="educator_controls"):
        st.button(
            "Back",
            key="educator_back",
            icon=":material/arrow_back:",
            on_click=_move,
            args=(case.id, -1, len(screens)),
            disabled=step == 0,
        )
        if step < len(screens) - 1:
            st.button(
                _reveal_label(case, screens[step + 1], screens[step]),
                key="educator_reveal",
                type="primary",
                on_click=_move,
                args=(case.id, 1, len(screens)),
            )
        else:
            st.button("End of the case", key="educator_end", disabled=True, type="primary")
        st.button(
            "Start over",
            key="educator_restart",
            icon=":material/restart_alt:",
            on_click=_restart_educator,
            args=(case.id,),
        )
    with right:
        st.progress((step + 1) / len(screens), text=f"Screen {step + 1} of {len(screens)}")
    st.markdown(PROJECTOR_CSS, unsafe_allow_html=True)
    with st.container(key="educator_stage"):
        educator_stage(case, screens[step])


# ----------------------------------------------------------------------------------------- page


def render() -> None:
    init_state()
    st.markdown("## Teaching cases")
    left, right = st.columns([1.4, 4], vertical_alignment="bottom")
    with left:
        mode = st.segmented_control(
            "Mode",
            list(MODES),
            format_func=MODES.get,
            key="cases_mode",
            default="practice",
            required=True,
            persist_state="session",
        )
    # The case picker sits beside the mode switch: on a projector every line above the stage counts.
    if mode == "educator":
        educator(right)
    else:
        practice(right)


render()
