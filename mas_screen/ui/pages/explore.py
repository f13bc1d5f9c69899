"""What-if explorer: start from a teaching case or the bedside panel, move one value at a time and
watch which criteria flip; each value's distance to its thresholds; the smallest single change
that flips each instrument (computed and verified by the core, `explore.smallest_flip`).

Everything stays in this browser session's state; the bedside form is read, never changed.
"""

from __future__ import annotations

import json
from decimal import Decimal

import streamlit as st
from pydantic import ValidationError

from mas_screen import assess
from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.domain.explore import Flip
from mas_screen.domain.models import (
    BIOLOGIC_LABELS,
    BOOLEAN_FIELDS,
    DISEASE_LABELS,
    NUMERIC_CONTEXT_FIELDS,
    Assessment,
    PatientInput,
    field_label,
)
from mas_screen.domain.units import format_number, pretty_unit
from mas_screen.faces.explore import distances, smallest_flip
from mas_screen.faces.teaching.grading import own_instruments
from mas_screen.render.figures.explore import DistanceRow, distance_figure, distance_fits, distance_rows, rows_figure
from mas_screen.render.figures.kit import used_analytes
from mas_screen.ui import cards
from mas_screen.ui.case_library import find, library
from mas_screen.ui.explore_state import (
    BASE,
    LABS,
    ORIGIN,
    _decimals,
    _value_text,
    apply_flip,
    changes_from_start,
    cnum_key,
    flag_key,
    load_start,
    num_key,
    on_number,
    on_slider,
    reset_to_start,
    slider_key,
    working_patient,
)
from mas_screen.ui.page_script import measured_width
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.stage import CHART_PX, enter_stage, on_stage, stage_chart, stage_frame
from mas_screen.ui.state import (
    LAB_ORDER,
    TRI_STATE,
    current_patient,
    patient_data,
    shown_index,
)
from mas_screen.ui.state import init_state as init_bedside_state
from mas_screen.ui.teaching_views import case_panels, case_patient, panel_name, panel_when
from mas_screen.ui.widgets import WARNING_TITLES

STAGE_STEP = "xp_stage_step"
STAGE_CHART_MAX_PX = 500

CHART_WIDTH_PX = 1150
DISTANCE_KEY = "xp_distance"
FLIPS_SHOWN = 3
DEFAULT_CASE = "near_miss_platelets_fibrinogen"  # every value on a threshold: one step flips the 2016 criteria
SOURCES = {"case": "A teaching case", "bedside": "The bedside panel (Assess page)"}
# Wide screens: the status table stays in view while the lab controls scroll past it. Narrow screens
# (tablet, projector at low resolution): controls and results stack, as on the Assess page.
LAYOUT_CSS = """
<style>
@media (max-width: 640px) {  /* a phone: the table fits the screen, its words wrap (no sideways scroll) */
  .st-key-xp_results table { width: 100%; font-size: 0.8rem; }
  .st-key-xp_results th, .st-key-xp_results td { padding: 0.25rem 0.3rem; }
}
@media (min-width: 1100px) {
  [data-testid="stLayoutWrapper"]:has(> .st-key-xp_results) {
    position: sticky; top: 3.75rem; z-index: 2; align-self: flex-start; background: var(--background-color, #fff);
  }
}
@media (max-width: 1099px) {
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-xp_controls) { flex-direction: column; }
  [data-testid="stColumn"]:has(.st-key-xp_controls), [data-testid="stColumn"]:has(.st-key-xp_results) {
    width: 100% !important; flex: 1 1 auto !important;
  }
}
</style>
"""

# State (this browser session only).
# ------------------------------------------------------------------------------------- controls


def start_controls() -> PatientInput | None:
    """Where to start: a case at one time point, or the bedside panel. Loads it when it changes."""
    state = st.session_state
    c1, c2, c3, c4 = st.columns([1.8, 4, 2.4, 1.5], vertical_alignment="bottom")
    with c1:
        source = st.radio(
            "Start from", list(SOURCES), format_func=SOURCES.get, key="xp_source", persist_state="session"
        )
    if source == "case":
        cases = library()
        ids = [c.id for c in cases]
        if state.get("xp_case") not in ids:
            state["xp_case"] = DEFAULT_CASE if DEFAULT_CASE in ids else ids[0]
        with c2:
            st.selectbox("Case", ids, key="xp_case", persist_state="session", format_func=lambda i: find(i).title)
        case = find(state["xp_case"])
        times = [t for t, _p in case_panels(case)]
        if state.get("xp_time") not in times:
            state["xp_time"] = times[-1]
        with c3:
            st.selectbox(
                "Time point",
                times,
                key="xp_time",
                persist_state="session",
                format_func=lambda t: f"{panel_name(case, times.index(t))} · {panel_when(case, times.index(t))}",
            )
        origin = f"case:{case.id}@{state['xp_time']}"
        patient = case_patient(case, state["xp_time"]) if state.get(ORIGIN) != origin else None
    else:
        init_bedside_state()
        data = patient_data()
        origin = "bedside:" + json.dumps(data, sort_keys=True)
        with c2:
            st.caption(
                "The values on the Assess page, as typed. Changes here never alter the bedside form; "
                "edit the form on the Assess page to change the starting point."
            )
        if not data["labs"] and not data["context"]:
            st.info("The bedside form is empty: enter a panel on the Assess page, or start from a teaching case.")
            return None
        patient = None
        if state.get(ORIGIN) != origin:
            try:
                patient = current_patient()
            except ValidationError:
                st.error("The bedside form has entries that cannot be read; please check them on the Assess page.")
                return None
    if patient is None and any(num_key(lab) not in state for lab in state.get(LABS, {})):
        patient = state[BASE]  # controls were forgotten (an older session): back to the start, never zeros
    if patient is not None:
        load_start(patient, origin)
    with c4:
        st.button(
            "Reset",
            key="xp_reset",
            icon=":material/restart_alt:",
            on_click=reset_to_start,
            help="Every value and answer back to the starting point.",
            width="stretch",
        )
    return state[BASE]


def lab_control(lab: str) -> None:
    """One lab: its name, unit and starting value on a line, then a slider and a number box."""
    info = st.session_state[LABS][lab]
    unit = pretty_unit(info["unit"])
    name = criteria().analytes.analytes[lab].label
    fmt = f"%.{_decimals(info['step'])}f"
    start = _value_text(info["start"], info["unit"])
    note = f"start {start}"
    if info["censored"]:
        note = f"start {plain_markdown(info['typed'])} {unit} (a bound: used as typed until you move it)"
    elif info["start"] is None and info["typed"]:
        note = f"typed “{plain_markdown(info['typed'])}”: not a usable number, left out"
    st.markdown(f"**{name}** ({unit}) :gray[· {note}]")
    c1, c2 = st.columns([3, 1.2], vertical_alignment="center")
    with c2:
        st.number_input(
            f"{name} ({unit})",
            min_value=0.0,
            step=info["step"],
            format=fmt,
            key=num_key(lab),
            persist_state="session",
            on_change=on_number,
            args=(lab,),
            placeholder="not done",
            label_visibility="collapsed",
        )
    with c1:
        if st.session_state.get(num_key(lab)) is not None and slider_key(lab) in st.session_state:
            st.slider(
                f"{name} ({unit}) slider",
                min_value=float(info["lo"]),
                max_value=float(info["hi"]),
                step=info["step"],
                format=fmt,
                key=slider_key(lab),
                persist_state="session",
                on_change=on_slider,
                args=(lab,),
                label_visibility="collapsed",
            )
        else:
            st.caption("Not done: type a value to add it.")


def lab_controls(patient: PatientInput) -> None:
    state = st.session_state
    used = set(used_analytes())
    ordered = [lab for _group, group in LAB_ORDER for lab in group if lab in used]
    entered = [
        lab
        for lab in ordered
        if state[LABS][lab]["typed"] is not None or state.get(num_key(lab)) is not None  # typed, even if unusable
    ]
    st.markdown("#### Labs")
    st.caption("Drag a slider or type a value (in the unit it was entered in). Clearing a box makes it 'not done'.")
    for lab in entered:
        lab_control(lab)
    missing = [lab for lab in ordered if lab not in entered]
    if missing:
        with st.expander(f"Labs not entered ({len(missing)}): type a value to see its effect"):
            for lab in missing:
                lab_control(lab)


def context_controls() -> None:
    st.markdown("#### Clinical context")
    c1, c2 = st.columns(2)
    with c1:
        st.selectbox(
            "Underlying disease",
            list(DISEASE_LABELS),
            format_func=DISEASE_LABELS.get,
            key="xp_disease",
            persist_state="session",
        )
    with c2:
        st.selectbox(
            "Biologic therapy",
            list(BIOLOGIC_LABELS),
            format_func=BIOLOGIC_LABELS.get,
            key="xp_biologic",
            persist_state="session",
        )
    cols = st.columns(2)
    for i, field in enumerate(NUMERIC_CONTEXT_FIELDS):
        with cols[i % 2]:
            st.number_input(
                field_label(field),
                min_value=0.0,
                step=0.1,
                key=cnum_key(field),
                persist_state="session",
                placeholder="not known",
            )
    cols = st.columns(2)
    for i, field in enumerate(BOOLEAN_FIELDS):
        with cols[i % 2]:
            st.radio(
                field_label(field),
                TRI_STATE,
                index=shown_index(flag_key(field), TRI_STATE, "Unknown"),  # never "Yes" by default
                key=flag_key(field),
                persist_state="session",
                horizontal=True,
            )


# -------------------------------------------------------------------------------------- results


def status_table(start: Assessment, now: Assessment, *, heading: bool = True) -> None:
    if heading:
        st.markdown("#### Each instrument: at the start and now")
    rows = ["| Instrument | At the start | Now | Result now |", "|---|---|---|---|"]
    flipped = 0
    for iid in instrument_ids():
        a, b = start.criteria[iid], now.criteria[iid]
        changed = a.status != b.status
        flipped += changed
        name = f":orange-background[**⇄ {b.short_name}**]" if changed else b.short_name
        rows.append(
            f"| {name} | {cards.STATUS_BADGE[a.status]} | {cards.STATUS_BADGE[b.status]} | {cards.score_text(b) or '—'} |"
        )
    st.markdown("\n".join(rows))
    headline = now.summary.headline
    if now.summary.mas_signal != start.summary.mas_signal:
        st.markdown(f"**Screen now:** {headline}  \n:gray[At the start: {start.summary.headline}]")
    else:
        st.markdown(f"**Screen:** {headline}")
    changed = "no instrument has" if not flipped else f"{flipped} instrument{'s have' if flipped > 1 else ' has'}"
    st.caption(
        f"⇄ changed status: {changed} so far. ● met ○ not met ◐ indeterminate (missing inputs could change it). "
        "Screening aid, not a diagnosis."
    )


def input_warnings(now: Assessment) -> None:
    for w in now.input_warnings:
        st.markdown(f":orange[**⚠ {field_label(w.field)} — {WARNING_TITLES[w.code]}**: {plain_markdown(w.message)}]")


def _flip_text(f: Flip) -> str:
    """'Platelet count 205 → **181 ×10⁹/L or less** (−24, 12 %) → ● met' (the flip holds beyond its value)."""
    beyond = {"up": " or more", "down": " or less"}.get(f.direction or "", "")
    if f.kind == "flag":
        change = f"{f.label}: {f.from_text} → **{f.to_text}**"
    elif f.from_value is None:
        change = f"{f.label}: not entered → **{f.to_text}{beyond}**"
    else:
        sign = "+" if f.direction == "up" else "−"
        by = f"{sign}{format_number(Decimal(repr(f.distance)))}" if f.distance is not None else ""
        if f.relative_percent is not None:
            by += (
                f", {sign}{f.relative_percent:.0f} %"
                if f.relative_percent >= 1
                else f", {sign}{f.relative_percent:g} %"
            )
        change = f"{f.label}: {f.from_text} → **{f.to_text}{beyond}** ({by})"
    return f"{change} ⇒ {cards.STATUS_BADGE[f.new_status]}"


def flips_section(patient: PatientInput, now: Assessment) -> None:
    st.markdown("#### Smallest single change that flips each instrument")
    st.caption(
        "From the values now in the explorer. Each change was checked by running the criteria on the changed patient; "
        "'Apply' sets the explorer to it. Numbers are searched at the lab's reporting resolution, in the unit entered."
    )
    units = {lab: info["unit"] for lab, info in st.session_state[LABS].items()}
    cols = st.columns(2, gap="medium")
    for n, iid in enumerate(instrument_ids()):
        r = now.criteria[iid]
        flips = smallest_flip(patient, iid, units=units)
        with cols[n % 2], st.container(border=True, key=f"xp_flips_{iid}"):
            st.markdown(f"**{r.short_name}** — now {cards.STATUS_BADGE[r.status]}")
            if not flips:
                st.caption("No single change of one input flips it (it would take two or more).")
                continue
            for k, f in enumerate(flips[:FLIPS_SHOWN]):
                c1, c2 = st.columns([5, 1], vertical_alignment="center")
                with c1:
                    st.markdown(_flip_text(f))
                with c2:
                    st.button("Apply", key=f"xp_apply::{iid}::{k}", on_click=apply_flip, args=(f,), type="tertiary")
            if len(flips) > FLIPS_SHOWN:
                more = len(flips) - FLIPS_SHOWN
                with st.expander(f"{more} more single change{'s' if more > 1 else ''}"):
                    st.markdown("\n".join(f"- {_flip_text(f)}" for f in flips[FLIPS_SHOWN:]))


def distance_chart(start_patient: PatientInput, patient: PatientInput, start: Assessment, now: Assessment) -> None:
    measured = measured_width(DISTANCE_KEY, key="explore_page_script")
    with st.container(key=DISTANCE_KEY):
        distance_section(start_patient, patient, start, now, measured)


def distance_section(
    start_patient: PatientInput, patient: PatientInput, start: Assessment, now: Assessment, measured: int | None
) -> None:
    st.markdown("#### How far each value is from each threshold")
    chosen = st.multiselect(
        "Instruments in the chart",
        list(instrument_ids()),
        default=list(instrument_ids()),
        format_func=lambda i: criteria().instruments[i].short_name,
        key="xp_chart_instruments",
        persist_state="session",
    )
    # Drawn for the width the page measures; where the rules' words would not fit beside the bars
    # (a phone, a tablet), the same rows as a list.
    width = min(CHART_WIDTH_PX, measured) if measured else CHART_WIDTH_PX
    rows = distance_rows(distances(patient, now), baseline=distances(start_patient, start), instruments=chosen)
    if not distance_fits(rows, width):
        distance_list(rows)
        return
    fig = rows_figure(rows, width=width)
    st.plotly_chart(fig, key="xp_distance_chart", width="content", theme=None, config={"displaylogo": False})


def distance_list(rows: list[DistanceRow]) -> None:
    """The distance chart's rows as words, grouped by instrument: what holds and by how much."""
    lines: list[str] = []
    current = None
    for r in rows:
        if r.instrument != current:
            current = r.instrument
            lines.append(f"\n**{plain_markdown(r.instrument_name)}**\n")
        side = ":orange[**■ holds**]" if r.satisfied else ":blue[**▨ does not hold**]"
        flipped = " · ⇄ flipped since the start" if r.flipped else ""
        lines.append(f"- {side} {plain_markdown(r.label.removeprefix('⇄ '))} — {plain_markdown(r.value_text)}{flipped}")
    st.markdown("\n".join(lines))
    st.caption("Each value against each threshold, in the criterion's published unit (the chart on a wider screen).")


# ----------------------------------------------------------------------------------------- page


def render() -> None:
    if on_stage():
        stage_view()
        return
    st.markdown("## What-if explorer")
    st.caption(
        "Move one value at a time and watch which criteria flip. For teaching and for understanding a result: "
        "a changed value here is hypothetical, never a patient's result. Nothing is stored outside this session."
    )
    start_patient = start_controls()
    if start_patient is None:
        return
    try:
        patient = working_patient()
        now = assess(patient)
    except (ValidationError, ValueError):
        st.error("These values could not be assessed; please check them. Nothing you set was lost.")
        return
    start = assess(start_patient)
    st.button(
        "Project full screen",
        key="xp_project",
        icon=":material/fit_screen:",
        on_click=enter_stage,
        help="The explorer's current state as full-screen slides for a projector: arrow keys or a clicker's "
        "Page Up/Down move, Esc leaves.",
    )
    st.markdown(LAYOUT_CSS, unsafe_allow_html=True)
    left, right = st.columns([4, 6], gap="large")
    with left, st.container(key="xp_controls"):
        lab_controls(patient)
        with st.expander("Clinical context (toggle answers)", expanded=False):
            context_controls()
    with right, st.container(key="xp_results"):
        status_table(start, now)
        changed = changes_from_start()
        if changed:
            st.markdown("**Changed from the start:** " + "; ".join(changed))
        else:
            st.caption("Nothing changed yet: move a value or apply a change below.")
        input_warnings(now)
    distance_chart(start_patient, patient, start, now)
    flips_section(patient, now)


# ------------------------------------------------------------------------------------ the stage


def _stage_start() -> PatientInput:
    """The explorer's starting point on the stage: what the session has, else the default case."""
    state = st.session_state
    if BASE not in state or any(num_key(lab) not in state for lab in state.get(LABS, {})):
        cases = library()
        ids = [c.id for c in cases]
        case = find(
            state.get("xp_case") if state.get("xp_case") in ids else DEFAULT_CASE if DEFAULT_CASE in ids else ids[0]
        )
        time = case_panels(case)[-1][0]
        load_start(case_patient(case, time), f"case:{case.id}@{time}")
    return state[BASE]


def _stage_screens() -> list[tuple[str, str | None]]:
    """One idea per screen: the status table, what changed, the distance to thresholds of each of the
    patient's own instruments, the smallest single change that flips each instrument."""
    own = own_instruments(st.session_state.get("xp_disease"))
    return [("status", None), ("changes", None), *(("distance", iid) for iid in own), ("flips", None)]


def _stage_move(delta: int, count: int) -> None:
    state = st.session_state
    state[STAGE_STEP] = max(0, min(count - 1, state.get(STAGE_STEP, 0) + delta))


def _stage_home() -> None:
    st.session_state[STAGE_STEP] = 0


def stage_view() -> None:
    start_patient = _stage_start()
    try:
        patient = working_patient()
        now = assess(patient)
    except (ValidationError, ValueError):
        st.error("These values could not be assessed; leave the stage (Esc) and check them.")
        return
    start = assess(start_patient)
    screens = _stage_screens()
    n = len(screens)
    step = min(st.session_state.get(STAGE_STEP, 0), n - 1)
    names = {"status": "Each instrument", "changes": "What changed", "flips": "Smallest changes that flip"}

    def label(screen: tuple[str, str | None]) -> str:
        kind, iid = screen
        return f"Distance: {criteria().instruments[iid].short_name}" if kind == "distance" else names[kind]

    body = stage_frame(
        "What-if explorer",
        f"screen {step + 1} of {n}",
        next_label=label(screens[step + 1]) if step < n - 1 else None,
        on_next=lambda: _stage_move(1, n),
        on_back=lambda: _stage_move(-1, n),
        on_home=_stage_home,
        back_disabled=step == 0,
        key="stage",
    )
    kind, iid = screens[step]
    with body:
        if kind == "status":
            st.markdown("## Each instrument: at the start and now")
            status_table(start, now, heading=False)
        elif kind == "changes":
            st.markdown("## Changed from the start")
            changed = changes_from_start()
            st.markdown("\n".join(f"- {c}" for c in changed) if changed else "Nothing changed yet.")
            st.markdown(f"**Screen now:** {now.summary.headline}")
            input_warnings(now)
        elif kind == "distance":
            name = criteria().instruments[iid].short_name
            st.markdown(f"## How far each value is from the {name} thresholds")
            fig = distance_figure(
                distances(patient, now),
                baseline=distances(start_patient, start),
                instruments=[iid],
                width=CHART_PX,
            )
            if fig.layout.height and fig.layout.height > STAGE_CHART_MAX_PX:
                fig.update_layout(height=STAGE_CHART_MAX_PX)
            stage_chart(fig, "xp_stage_chart")
        else:
            st.markdown("## The smallest single change that flips each instrument")
            units = {lab: info["unit"] for lab, info in st.session_state[LABS].items()}
            lines = []
            for i in instrument_ids():
                flips = smallest_flip(patient, i, units=units)
                r = now.criteria[i]
                change = _flip_text(flips[0]) if flips else ":gray[no single change flips it]"
                lines.append(f"- **{r.short_name}** ({cards.STATUS_BADGE[r.status]}): {change}")
            st.markdown("\n".join(lines))


render()
