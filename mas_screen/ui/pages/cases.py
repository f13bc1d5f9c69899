"""Teaching cases: practice that grades judgement, and the educator's screens (inline, or full
screen on the projector stage with ?stage=1).

A thin face over `mas_screen.faces.teaching`: the grading, the browser's filters, the progress
summary and the screen plan are all in the core. Answers and progress live in this browser
session's state only; the trainee may download the progress file and load it next time.
"""

from __future__ import annotations

import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.domain.units import format_number
from mas_screen.faces.teaching.claims import compute
from mas_screen.faces.teaching.grading import (
    MAS_INSTRUMENTS,
    SKILL_LABELS,
    SKILLS,
    MasInstrument,
    PracticeAnswer,
    grade,
    shuffled_next_steps,
)
from mas_screen.faces.teaching.library import (
    DIFFICULTY_LABELS,
    POPULATION_LABELS,
    SOURCE_LABELS,
    CaseFilter,
    filter_cases,
    neutral_name,
    random_case,
    themes_in,
)
from mas_screen.faces.teaching.progress import (
    MAX_PROGRESS_BYTES,
    Progress,
    ProgressError,
    dumps,
    loads,
    record,
    summarise,
)
from mas_screen.faces.teaching.schema import READING_LABELS, THEME_LABELS, Case
from mas_screen.faces.teaching.stage import next_label
from mas_screen.ui.case_library import find, library
from mas_screen.ui.case_stage import render_screen, screens_of
from mas_screen.ui.stage import enter_stage, on_stage, stage_frame
from mas_screen.ui.teaching_views import (
    arithmetic_view,
    case_panels,
    context_changes,
    full_result,
    labs_table,
    next_step_view,
    panel_name,
    panel_when,
    population_view,
    reading_view,
    score_banner,
    show_context,
    source_line,
    teaching_points_view,
    text,
)

MODES = {"practice": ":material/school: Practice", "educator": ":material/co_present: Educator (projector)"}
EDUCATOR_DEFAULT = "sjia_mas_early"  # three panels: shows the course and the trend charts
ANY = "__any__"

# State keys (this browser session only).
PROGRESS = "practice_progress"  # progress.Progress: answered panels and where each case is
FEEDBACK = "practice_feedback"  # "case@time" -> grading.Feedback
ERROR = "practice_error"
NOTICE = "practice_notice"
EDU_STEP = "educator_progress"  # case id -> screen index
READING_KEY = "practice_reading"
APPLIES_KEY = "practice_applies::{}"
STEP_KEY = "practice_step"
MET_KEY = "practice_met::{}"


# ------------------------------------------------------------------------------------------ state


def init_state() -> None:
    state = st.session_state
    if not isinstance(state.get(PROGRESS), Progress):
        state[PROGRESS] = Progress()
    state.setdefault(FEEDBACK, {})
    state.setdefault(ERROR, None)
    state.setdefault(NOTICE, None)
    state.setdefault(EDU_STEP, {})


def progress() -> Progress:
    return st.session_state[PROGRESS]


def _clear_answers() -> None:
    state = st.session_state
    keys = [READING_KEY, STEP_KEY] + [APPLIES_KEY.format(i) for i in MAS_INSTRUMENTS]
    keys += [MET_KEY.format(i) for i in MAS_INSTRUMENTS]
    for key in keys:
        state.pop(key, None)
    state[ERROR] = None


def commit(case_id: str, time: str, has_steps: bool) -> None:
    """Grade the committed answers (reading, population and next step must be answered)."""
    state = st.session_state
    applies = {i for i in MAS_INSTRUMENTS if state.get(APPLIES_KEY.format(i))}
    missing = []
    if state.get(READING_KEY) is None:
        missing.append("your reading")
    if not applies:
        missing.append("which instruments apply")
    if has_steps and state.get(STEP_KEY) is None:
        missing.append("the next step")
    if missing:
        state[ERROR] = (
            "Commit to every answer first — still open: " + ", ".join(missing) + ". "
            "If the data do not decide, 'not enough data to decide yet' is a reading."
        )
        return
    met: set[MasInstrument] = {i for i in MAS_INSTRUMENTS if state.get(MET_KEY.format(i))}  # type: ignore[misc]
    answer = PracticeAnswer(reading=state[READING_KEY], applies=applies, next_step=state.get(STEP_KEY), met=met)
    case = find(case_id)
    feedback = grade(case, answer, at_time=time)
    state[FEEDBACK][f"{case_id}@{time}"] = feedback
    progress().add(record(case, feedback))
    state[ERROR] = None


def advance(case_id: str) -> None:
    p = progress()
    p.positions[case_id] = p.positions.get(case_id, 0) + 1
    _clear_answers()


def restart(case_id: str) -> None:
    state = st.session_state
    progress().positions[case_id] = 0
    for key in [k for k in state[FEEDBACK] if k.split("@")[0] == case_id]:
        del state[FEEDBACK][key]
    _clear_answers()


def reset_progress() -> None:
    st.session_state[PROGRESS] = Progress()
    st.session_state[FEEDBACK] = {}
    _clear_answers()


def load_progress_file() -> None:
    """Merge a downloaded progress file into this session (validated; nothing is stored)."""
    state = st.session_state
    upload = state.get("practice_progress_file")
    if upload is None:
        return
    try:
        loaded = loads(upload.getvalue())
    except ProgressError as exc:
        state[NOTICE] = ("error", f"Nothing was loaded: {exc}.")
        return
    state[PROGRESS] = progress().merged(loaded)
    n = len(loaded.records)
    state[NOTICE] = ("success", f"Loaded {n} answered panel{'s' if n != 1 else ''} from the file.")


# ---------------------------------------------------------------------------------------- browser


def _filter() -> CaseFilter:
    state = st.session_state
    return CaseFilter(
        populations=set(state.get("cases_f_population") or []),
        themes=set(state.get("cases_f_theme") or []),
        difficulties=set(state.get("cases_f_difficulty") or []),
        source=state.get("cases_f_source") or "any",
    )


def pick_random(select_key: str) -> None:
    """A case at random from the chosen theme (within the filters), preferring one not yet done."""
    state = st.session_state
    theme = state.get("cases_random_theme")
    pool = filter_cases(library(), _filter())
    done = {r.case_id for r in progress().records}
    case = random_case(pool, None if theme in (None, ANY) else theme, avoid=done | {state.get(select_key)})
    if case is None:
        state[NOTICE] = ("info", "No case in this theme matches the filters.")
        return
    state[select_key] = case.id
    _clear_answers()


def browser(mode: str) -> Case | None:
    """Filters, the case picker and 'random case from a theme'; returns the chosen case."""
    state = st.session_state
    lib = library()
    with st.expander("Find a case: population, theme, difficulty, source", icon=":material/filter_list:"):
        c1, c2, c3, c4 = st.columns([1.4, 2, 1.2, 1.4])
        c1.multiselect(
            "Population",
            list(POPULATION_LABELS),
            format_func=POPULATION_LABELS.get,
            key="cases_f_population",
            persist_state="session",
            placeholder="Any",
        )
        counts = themes_in(lib)
        c2.multiselect(
            "Theme",
            list(counts),
            format_func=lambda t: f"{THEME_LABELS[t]} ({counts[t]})",
            key="cases_f_theme",
            persist_state="session",
            placeholder="Any",
        )
        c3.multiselect(
            "Difficulty",
            list(DIFFICULTY_LABELS),
            format_func=DIFFICULTY_LABELS.get,
            key="cases_f_difficulty",
            persist_state="session",
            placeholder="Any",
        )
        c4.radio(
            "Source", list(SOURCE_LABELS), format_func=SOURCE_LABELS.get, key="cases_f_source", persist_state="session"
        )
    shown = filter_cases(lib, _filter())
    numbers = {c.id: n for n, c in enumerate(lib, start=1)}
    select_key = "educator_case" if mode == "educator" else "practice_case"
    if not shown:
        st.info("No case matches these filters.", icon=":material/filter_list_off:")
        return None
    ids = [c.id for c in shown]
    if state.get(select_key) not in ids:
        default = EDUCATOR_DEFAULT if mode == "educator" and EDUCATOR_DEFAULT in ids else ids[0]
        state[select_key] = default
    c1, c2, c3 = st.columns([4, 2, 1.3], vertical_alignment="bottom")
    with c1:
        if mode == "educator":
            label, fmt = "Case", lambda i: find(i).title
        else:
            label, fmt = "Case", lambda i: neutral_name(find(i), numbers[i])
        st.selectbox(
            label,
            ids,
            key=select_key,
            persist_state="session",  # the stage draws no picker: the chosen case must outlive it
            format_func=fmt,
            on_change=_clear_answers,
            help="Titles are hidden in practice until you finish a case: they would give the answer away.",
        )
    with c2:
        themes = [ANY, *themes_in(shown)]
        if state.get("cases_random_theme") not in themes:  # the filters left that theme out
            state["cases_random_theme"] = ANY
        st.selectbox(
            "Random case from",
            themes,
            key="cases_random_theme",
            persist_state="session",
            format_func=lambda t: "any theme" if t == ANY else THEME_LABELS[t],
        )
    with c3:
        st.button(
            "Random case",
            key="practice_random",
            icon=":material/casino:",
            on_click=pick_random,
            args=(select_key,),
            width="stretch",
        )
    st.caption(f"{len(shown)} of {len(lib)} cases match the filters.")
    return find(state[select_key])


# -------------------------------------------------------------------------------------- summary


def _percent(earned: float, possible: float) -> str:
    return f"{round(100 * earned / possible)} %" if possible else "—"


def session_summary() -> None:
    p = progress()
    summary = summarise(p.records)
    head = f"Your session: {summary.panels} panel{'s' if summary.panels != 1 else ''} answered"
    if summary.total.possible:
        head += f" · {_percent(summary.total.earned, summary.total.possible)}"
    with st.expander(head, icon=":material/insights:", expanded=False):
        if summary.panels:
            rows = ["| Skill | Points | Share |", "|---|---:|---:|"]
            for skill in SKILLS:
                s = summary.by_skill[skill]
                rows.append(
                    f"| {SKILL_LABELS[skill]} | {format_number(s.earned)} of {format_number(s.possible)} | "
                    f"{_percent(s.earned, s.possible)} |"
                )
            st.markdown("\n".join(rows))
            if summary.weakest_skill:
                st.markdown(f"To work on: **{SKILL_LABELS[summary.weakest_skill]}**.")
            rows = ["| Theme | " + " | ".join(SKILL_LABELS[k].split(" (")[0] for k in SKILLS) + " |"]
            rows.append("|---|" + "---:|" * len(SKILLS))
            for theme, skills in summary.by_theme.items():
                cells = [_percent(skills[k].earned, skills[k].possible) for k in SKILLS]
                rows.append(f"| {THEME_LABELS.get(theme, theme)} | " + " | ".join(cells) + " |")
            st.markdown("**By theme**\n\n" + "\n".join(rows))
        else:
            st.markdown("Nothing answered yet in this session.")
        c1, c2, c3 = st.columns([1.2, 2, 1], vertical_alignment="bottom")
        with c1:
            st.download_button(
                "Download my progress",
                data=dumps(p),
                file_name="mas-screen-practice-progress.json",
                mime="application/json",
                key="practice_progress_download",
                icon=":material/download:",
                on_click="ignore",
            )
        with c2:
            st.file_uploader(
                "Load progress from a file",
                type=["json"],
                key="practice_progress_file",
                on_change=load_progress_file,
                max_upload_size=1,
                help=f"A file downloaded here before (at most {MAX_PROGRESS_BYTES // 1000} kB). It is checked, "
                "merged into this session and never stored on the server.",
            )
        with c3:
            st.button(
                "Reset",
                key="practice_reset_progress",
                icon=":material/restart_alt:",
                on_click=reset_progress,
                type="tertiary",
            )
        st.caption(
            "Progress is kept in this browser session only (case ids and scores, no case text); "
            "download it to continue another time."
        )


# --------------------------------------------------------------------------------------- practice


def answer_form(case: Case, time: str) -> None:
    state = st.session_state
    if state.get(ERROR):
        st.error(state[ERROR], icon=":material/front_hand:")
    steps = shuffled_next_steps(case, time)
    names = {i: criteria().instruments[i].short_name for i in MAS_INSTRUMENTS}
    with st.form("practice_form", border=True):
        st.markdown("#### Your answers — commit before you see any result")
        st.radio(
            "**1. What is your reading of this panel?**",
            list(READING_LABELS),
            index=None,
            format_func=READING_LABELS.get,
            key=READING_KEY,
        )
        st.markdown(
            "**2. Which instruments apply to this patient?** Tick the instruments built for this patient's "
            "population: the ones that should decide the screen."
        )
        cols = st.columns(6)
        for col, iid in zip(cols, MAS_INSTRUMENTS, strict=True):
            col.checkbox(names[iid], key=APPLIES_KEY.format(iid))
        if steps:
            st.radio(
                "**3. What is the most useful next step?**",
                [s.id for s in steps],
                index=None,
                format_func={s.id: s.text for s in steps}.get,
                key=STEP_KEY,
            )
        st.markdown(
            "**4. Which instruments are met at this panel?** Only the patient's own instruments are graded; "
            "leave unticked what is not met *or not decidable yet*."
        )
        cols = st.columns(6)
        for col, iid in zip(cols, MAS_INSTRUMENTS, strict=True):
            col.checkbox(names[iid], key=MET_KEY.format(iid))
        st.form_submit_button(
            "Commit answers", type="primary", key="practice_commit", on_click=commit, args=(case.id, time, bool(steps))
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
            args=("practice_case",),
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
    assessment = compute(case).at(time)
    st.markdown("### Feedback")
    score_banner(fb)
    if last:
        st.markdown(f"**This case:** {text(case.title)} — {source_line(case)}")
    navigation(case, step, last, "top")
    reading_view(fb)
    population_view(fb)
    next_step_view(fb)
    arithmetic_view(fb, assessment)
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
            full_result(assessment)
    navigation(case, step, last, "bottom")


def practice(case: Case) -> None:
    state = st.session_state
    numbers = {c.id: n for n, c in enumerate(library(), start=1)}
    session_summary()
    panels = case_panels(case)
    step = min(progress().positions.get(case.id, 0), len(panels) - 1)
    time = panels[step][0]
    last = step == len(panels) - 1
    st.markdown(f"### {neutral_name(case, numbers[case.id])}")
    st.markdown(text(case.story))
    for i in range(1, step + 1):  # the course so far, never what comes later
        if panels[i][1].story:
            st.markdown(f"**{text(panel_name(case, i))}.** {text(panels[i][1].story)}")
    st.markdown(f"#### Panel {step + 1} of {len(panels)}: {text(panel_name(case, step))} — {panel_when(case, step)}")
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


def _move(case_id: str, delta: int, count: int) -> None:
    steps = st.session_state[EDU_STEP]
    steps[case_id] = max(0, min(count - 1, steps.get(case_id, 0) + delta))


def _home(case_id: str) -> None:
    st.session_state[EDU_STEP][case_id] = 0


def educator(case: Case) -> None:
    """The educator's screens inline, with the button that puts them on the projector stage."""
    screens = screens_of(case)
    step = min(st.session_state[EDU_STEP].get(case.id, 0), len(screens) - 1)
    with st.container(horizontal=True, vertical_alignment="center", key="educator_controls"):
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
                f"{next_label(screens[step + 1])} ▶",
                key="educator_reveal",
                type="primary",
                on_click=_move,
                args=(case.id, 1, len(screens)),
            )
        else:
            st.button("End of the case", key="educator_end", disabled=True, type="primary")
        st.button("Start over", key="educator_restart", icon=":material/restart_alt:", on_click=_home, args=(case.id,))
        st.button(
            "Project full screen",
            key="educator_project",
            icon=":material/fit_screen:",
            on_click=enter_stage,
            help="A full-screen slide for a projector: arrow keys or a clicker's Page Up/Down move, Esc leaves.",
        )
    st.progress((step + 1) / len(screens), text=f"Screen {step + 1} of {len(screens)}")
    with st.container(border=True, key="educator_stage"):
        render_screen(case, screens[step], stage=False)


def educator_on_stage() -> None:
    """The projector stage: the chosen case's current screen, nothing else."""
    state = st.session_state
    ids = [c.id for c in library()]
    case_id = state.get("educator_case")
    if case_id not in ids:
        case_id = EDUCATOR_DEFAULT if EDUCATOR_DEFAULT in ids else ids[0]
        state["educator_case"] = case_id
    case = find(case_id)
    screens = screens_of(case)
    n = len(screens)
    step = min(state[EDU_STEP].get(case.id, 0), n - 1)
    body = stage_frame(
        text(case.title),
        f"screen {step + 1} of {n}",
        next_label=next_label(screens[step + 1]) if step < n - 1 else None,
        on_next=lambda: _move(case.id, 1, n),
        on_back=lambda: _move(case.id, -1, n),
        on_home=lambda: _home(case.id),
        back_disabled=step == 0,
    )
    with body:
        render_screen(case, screens[step], stage=True)


# ----------------------------------------------------------------------------------------- page


def render() -> None:
    init_state()
    if on_stage():
        educator_on_stage()
        return
    st.markdown("## Teaching cases")
    notice = st.session_state.get(NOTICE)
    if notice:
        getattr(st, notice[0])(notice[1])
        st.session_state[NOTICE] = None
    mode = st.segmented_control(
        "Mode",
        list(MODES),
        format_func=MODES.get,
        key="cases_mode",
        default="practice",
        required=True,
        persist_state="session",
    )
    case = browser(mode)
    if case is None:
        return
    if mode == "educator":
        educator(case)
    else:
        practice(case)


render()
