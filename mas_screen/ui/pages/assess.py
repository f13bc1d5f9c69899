"""Bedside assessment: enter a panel, see every published criterion at once, export a cited summary.

A thin face over `mas_screen.assess`: the form is on the left (on top on a phone), results update
live beside it. Nothing is stored outside this browser session.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime

import streamlit as st
from pydantic import ValidationError

from mas_screen import assess
from mas_screen.domain.models import BIOLOGIC_LABELS, DISEASE_LABELS, VALUE_KEPT_CODES, Assessment, PatientInput
from mas_screen.explain.summary import supporting_instruments
from mas_screen.render.pdf.report import PatientDetails
from mas_screen.ui import cards
from mas_screen.ui.fhir_import import import_panel
from mas_screen.ui.page_script import css_key, page_script
from mas_screen.ui.print_details import browser_now, details_inputs
from mas_screen.ui.series_state import add_bedside_panel, init_series_state
from mas_screen.ui.state import (
    LAB_ORDER,
    clear_form,
    ctx_key,
    current_patient,
    decimal_comma_toggle,
    examples,
    init_state,
    load_example,
    on_unit_system_change,
    shown_index,
)
from mas_screen.ui.widgets import choice_field, lab_row, number_field, show_warnings, tri_state

DEFAULT_CHART_PX = 1000  # until the page script has reported the width (and in AppTest)
NARROW_PX = 760  # below this content width: phone and small-tablet arrangement
NUMBER_FIELDS = ("ctx::age_years", "ctx::age_at_onset_years", "ctx::hepatomegaly_cm", "ctx::splenomegaly_cm")
FIRST_FIELD = "ctx::underlying_disease"
ORGAN_EDGE = {"hepatomegaly": "Liver edge", "splenomegaly": "Spleen edge"}  # below the costal margin

# Desktop: the answer (headline, own instruments, MAS-vs-flare panel, next steps, export) sticks in
# view while the form scrolls. Below 1100 px the columns stack and a one-line strip with the
# headline is pinned under the app header. Tables scroll sideways inside their card. Touch
# targets at least 44 px. Scoped to this page's keyed containers.
PAGE_CSS = """
<style>
.st-key-assess_strip { display: none; }
[data-testid="stMainBlockContainer"] { padding-bottom: 3rem; }  /* not 10rem of blank under the last button */
.st-key-bedside_page_script { display: none; }
@media (min-width: 1101px) {
  [data-testid="stMainBlockContainer"] { padding-top: 4.5rem; }  /* the answer higher on a laptop screen */
  [data-testid="stColumn"]:has(.st-key-assess_answer) { align-self: stretch; }
  [data-testid="stColumn"]:has(.st-key-assess_answer) > [data-testid="stVerticalBlock"] { height: 100%; }
  [data-testid="stLayoutWrapper"]:has(> .st-key-assess_answer) {
    position: sticky; top: 4rem; z-index: 5; max-height: calc(100vh - 4.5rem); overflow-y: auto;
  }
}
@media (max-width: 1100px) {
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-assess_form) { flex-direction: column; }
  [data-testid="stColumn"]:has(.st-key-assess_form), [data-testid="stColumn"]:has(.st-key-assess_answer) {
    width: 100% !important; flex: 1 1 auto !important;
  }
  [data-testid="stLayoutWrapper"]:has(> .st-key-assess_strip) {
    position: fixed; top: 3.75rem; left: 0; right: 0; z-index: 999; margin: 0;
  }
  .st-key-assess_strip {
    display: flex; flex-direction: column; gap: 0; background: #fff; border-bottom: 1px solid rgba(49, 51, 63, 0.25);
    padding: 0.35rem 1rem; box-shadow: 0 2px 4px rgba(0, 0, 0, 0.06);
  }
  .st-key-assess_strip > * { flex-shrink: 0; }
  .st-key-assess_strip p { line-height: 1.3; font-size: 0.92rem; }
  .st-key-assess_strip [data-testid="stExpander"] details { border: none; border-radius: 0; background: transparent; }
  .st-key-assess_strip [data-testid="stExpander"] summary { padding: 0.2rem 0; min-height: 44px; }
  .st-key-assess_strip [data-testid="stExpander"] summary p { font-size: 0.82rem; }
  .st-key-assess_strip [data-testid="stExpanderDetails"] { padding: 0 0 0.5rem 1.75rem; max-height: 55vh; overflow-y: auto; }
  .st-key-assess_strip [data-testid="stExpanderDetails"] p { font-size: 0.85rem; }
  [data-testid="stMainBlockContainer"] { padding-top: calc(4.5rem + var(--mas-strip-height, 3.5rem)); }
  /* A field or button scrolled to (Tab, Shift+Tab, a link) stops below the pinned strip, never under it;
     the last button clears a phone's home bar. */
  [data-testid="stMain"] { scroll-padding-top: calc(4.25rem + var(--mas-strip-height, 3.5rem)); scroll-padding-bottom: 1rem; }
  [data-testid="stMainBlockContainer"] { padding-bottom: calc(3rem + env(safe-area-inset-bottom, 0px)); }
  /* Touch targets at least 44 px on tablets and phones: buttons, folded sections, choices, switches,
     fields. Help icons keep their 16 px glyph in a 44 × 44 px tap area; their label rows are 16 px taller so
     that area never covers the field below or above. */
  [data-testid="stMain"] [data-testid^="stBaseButton"], [data-testid="stMain"] [data-testid="stExpander"] summary { min-height: 44px; }
  [data-testid="stMain"] [data-testid="stRadioGroup"] label, [data-testid="stMain"] [data-testid="stCheckbox"] label { min-height: 44px; align-items: center; }
  [data-testid="stMain"] [data-testid="stRadioGroup"] { row-gap: 0; }
  [data-testid="stMain"] input[type="text"], [data-testid="stMain"] [data-baseweb="select"] > div { min-height: 44px; }
  [data-testid="stMain"] [data-testid="stTooltipIcon"] button:not([data-testid]) { position: relative; }
  [data-testid="stMain"] [data-testid="stTooltipIcon"] button:not([data-testid])::after { content: ""; position: absolute; inset: -14px; }
  [data-testid="stMain"] [data-testid="stWidgetLabel"]:has([data-testid="stTooltipIcon"]) { padding: 6px 0 10px; }
  [data-testid="stMain"] [data-testid="stHeaderActionElements"] { display: none; }  /* hover-only anchors */
  .st-key-assess_answer [data-testid="stAlert"] h3 { font-size: 1.25rem; }
  .st-key-assess_title h2 { font-size: 1.45rem; }
}
.st-key-assess_form [data-testid="stRadioGroup"] label { min-height: 44px; align-items: center; padding-right: 0.6rem; }
@media (max-width: 520px) {
  .st-key-assess_form[data-testid="stVerticalBlock"], .st-key-assess_form [data-testid="stVerticalBlock"] { gap: 0.55rem; }
  .st-key-assess_form [data-testid="stRadioGroup"] { column-gap: 0.4rem; }
  .st-key-assess_form [data-testid="stRadioGroup"] label { padding-right: 0.15rem; }
}
.st-key-assess_form input, .st-key-assess_form [data-baseweb="select"] > div { min-height: 44px; }
.st-key-assess_details [data-testid="stMarkdownContainer"] table,
.st-key-assess_answer [data-testid="stMarkdownContainer"] table { display: block; overflow-x: auto; max-width: 100%; }
</style>
"""


def toolbar() -> None:
    """Units, examples and clearing: one row above the form (wrapping on a phone)."""
    c1, c2 = st.columns([3, 6], vertical_alignment="bottom")
    with c1:
        st.radio(
            "Default units",
            ["us", "si"],
            index=shown_index("unit_system", ("us", "si"), "us"),
            key="unit_system",
            format_func=lambda s: {"us": "US (mg/dL, °F)", "si": "SI (g/L, mmol/L, °C)"}[s],
            horizontal=True,
            on_change=on_unit_system_change,
            help="Sets the unit of empty fields. A value you typed keeps the unit you chose.",
        )
        decimal_comma_toggle()
    ids = [ex["id"] for ex in examples()]
    titles = {ex["id"]: ex["title"] for ex in examples()}
    with c2, st.container(horizontal=True, vertical_alignment="bottom", gap="small", key="assess_examples"):
        st.selectbox("Example patient", ids, key="example_choice", format_func=titles.get, width=420)
        st.button(
            "Load example",
            key="load_example",
            on_click=lambda: load_example(st.session_state["example_choice"]),
            help="Replaces the form with a worked example from the criteria specification.",
        )
        st.button("Clear form", key="clear_form", on_click=clear_form)


def form(warnings: dict) -> None:
    """Entry order is the order a clinician reads them off: disease and age, fever, the labs as on a
    lab report, bedside findings, history and treatment; specialist results (rarely back at the
    bedside) folded away."""
    st.markdown("#### Patient")
    c1, c2 = st.columns([3, 2], wrap=False)
    with c1:
        choice_field("underlying_disease", "Underlying disease", DISEASE_LABELS)
    with c2:
        number_field("age_years", warnings)
    tri_state("febrile", warnings, help="Your judgement of the fever pattern in this illness, not one reading.")

    st.markdown("#### Laboratory results")
    st.caption(
        "Blank = not done (never read as normal). Another unit: type it after the number (2.6 mmol/L). "
        "Beyond the assay range: >40000."
    )
    for group, analytes in LAB_ORDER:
        st.markdown(f"**{group}**")
        for analyte in analytes:
            lab_row(analyte, warnings)

    st.markdown("#### Clinical findings")
    st.caption("Answer keys on a focused question: y = yes, n = no, u = unknown.")
    for field in ("hepatomegaly", "splenomegaly"):
        c1, c2 = st.columns([3, 1], wrap=False, vertical_alignment="bottom")
        with c1:
            tri_state(field, warnings)
        with c2:
            number_field(f"{field}_cm", warnings, placeholder="cm", label=f"{ORGAN_EDGE[field]} (cm)")
    for field in ("cns_involvement", "hemorrhagic_manifestations", "active_arthritis"):
        tri_state(field, warnings)

    st.markdown("#### History and treatment")
    c1, c2 = st.columns([3, 2], wrap=False)
    with c1:
        choice_field("biologic_therapy", "Biologic therapy", BIOLOGIC_LABELS)
    with c2:
        number_field("age_at_onset_years", warnings)
    tri_state("known_immunosuppression", warnings)

    specialist = (
        "hemophagocytosis_marrow",
        "hemophagocytosis_other_site",
        "nk_activity_low",
        "hlh_molecular_diagnosis",
        "hematologic_malignancy",
    )
    answered = sum(1 for f in specialist if st.session_state.get(ctx_key(f)) in ("Yes", "No"))
    label = "Specialist results (marrow, NK cells, genetics, malignancy)" + (
        f" · {answered} answered" if answered else ""
    )
    with st.expander(label, expanded=answered > 0, key="specialist_results"):
        for field in specialist:
            tri_state(field, warnings)
    show_warnings("underlying_disease", warnings)


def _pdf(patient: PatientInput, assessment: Assessment, details: PatientDetails, when: datetime) -> bytes:
    from mas_screen.render.pdf.report import pdf_summary

    return pdf_summary(patient, assessment, lab_figure=True, generated_at=when, details=details)


def _json(patient: PatientInput, assessment: Assessment) -> bytes:
    from mas_screen.render.export import assessment_json

    return assessment_json(assessment, patient)


def shown_first(patient: PatientInput, assessment: Assessment) -> tuple[str, ...]:
    """The patient's own instruments, then the ones that support but never decide (criteria/policy.yaml)."""
    return (*assessment.summary.own_instruments, *supporting_instruments(patient.context.disease))


def answer(patient: PatientInput, assessment: Assessment) -> None:
    """What the clinician needs after the last keystroke: kept in view while the form scrolls."""
    own = shown_first(patient, assessment)
    cards.headline(assessment)
    left_out = [w for w in assessment.input_warnings if w.code not in VALUE_KEPT_CODES]
    kept = len(assessment.input_warnings) - len(left_out)
    if assessment.input_warnings:
        parts = [f"{len(left_out)} value(s) flagged and left out"] if left_out else []
        parts += [f"{kept} used as read but worth a check"] if kept else []
        st.warning(f"{'; '.join(parts)} — see the messages beside the fields.", icon=":material/warning:")
    if assessment.summary.next_steps_kind == "empty_form":  # nothing entered: where to start, first
        cards.next_tests(assessment)
        export_buttons(patient, assessment)
        return
    cards.own_instruments(assessment, own)
    cards.comparison_panels(assessment, every=False)
    cards.next_tests(assessment)
    export_buttons(patient, assessment)


def export_buttons(patient: PatientInput, assessment: Assessment) -> None:
    details = details_inputs()  # typed for the PDF only, never stored
    when = browser_now()
    stamp = when.strftime("%Y%m%d-%H%M")
    with st.container(horizontal=True, gap="small", key="assess_export"):
        st.download_button(
            "Download PDF summary",
            data=functools.partial(_pdf, patient, assessment, details, when),
            file_name=f"mas-screen-{stamp}.pdf",
            mime="application/pdf",
            key="download_pdf",
            on_click="ignore",
            icon=":material/description:",
        )
        st.download_button(
            "Download JSON (contract v1)",
            data=functools.partial(_json, patient, assessment),
            file_name=f"mas-screen-{stamp}.json",
            mime="application/json",
            key="download_json",
            on_click="ignore",
            icon=":material/data_object:",
        )
    st.caption("Files are generated in memory when you click; nothing is written on the server.")


def details(patient: PatientInput, assessment: Assessment, chart_px: int, narrow: bool) -> None:
    """Below the form: the chart at the width it is shown at, every instrument (the patient's own
    first; on a phone all folded), caveats, teaching points once, the series button."""
    # Keys differ by arrangement: the first run does not know the width yet, and an expander keeps
    # the open/closed state it was first drawn with; a new key lets the phone start folded.
    tag = "narrow" if narrow else "wide"
    chart = st.expander("Labs against the thresholds", expanded=not narrow, key=f"chart_{tag}", on_change="rerun")
    if chart.open is not False:  # drawn only while open (a phone starts with it folded)
        chart.plotly_chart(
            lab_chart(patient, assessment, chart_px),
            key="lab_threshold_chart",
            width="stretch",
            config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage"], "responsive": True},
        )
    st.markdown("#### Instruments")
    own = shown_first(patient, assessment)
    shown = cards.ordered(assessment, own)
    for r in shown:
        cards.criterion_card(r, assessment, expanded=not narrow and (r.id in own or r.status == "met"), tag=tag)
    cards.caveats_and_sources(assessment, expanded=not narrow, tag=tag)
    cards.learn_more([r.id for r in shown])
    st.button(
        "Add this panel to the series (Trends page)",
        key="add_to_series",
        on_click=add_bedside_panel,
        help="Carries these values into the serial-labs table of this browser session, timed now.",
    )
    if st.session_state.pop("series_added_message", None):
        st.success("Added to the series: open the Trends page to see the course.")


FIGURE_CACHE = "_bedside_figure"  # this session's last chart: (inputs, width) → figure


def lab_chart(patient: PatientInput, assessment: Assessment, width: int):
    """The lab chart for `width`, rebuilt only when the panel or the width changed (kept in this
    session's memory only, never shared between users)."""
    from mas_screen.render.figures.labs import lab_threshold_figure

    stamp = (patient.model_dump_json(), width)
    cached = st.session_state.get(FIGURE_CACHE)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    fig = lab_threshold_figure(patient, assessment, width=width)
    st.session_state[FIGURE_CACHE] = (stamp, fig)
    return fig


def render() -> None:
    init_state()
    init_series_state()
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    measured = page_script(focus=css_key(FIRST_FIELD), numbers=NUMBER_FIELDS, measure=".st-key-assess_details")
    content_px = measured or DEFAULT_CHART_PX
    narrow = content_px < NARROW_PX
    with st.container(key="assess_title"):
        st.markdown("## MAS Screen — bedside assessment")
        st.caption(
            "Published criteria for macrophage activation syndrome applied to one panel. A screening aid, not a "
            "diagnosis. Private: entries stay in this browser session only; nothing is stored, logged or sent "
            "anywhere."
        )
    # Units, examples and the FHIR import sit here, but are drawn after the answer: their values
    # are in the session already (set through callbacks), and the answer is what changed.
    tools = st.container()
    patient: PatientInput | None = None
    assessment: Assessment | None = None
    try:
        patient = current_patient()
        assessment = assess(patient)
    except ValidationError:
        st.error("Some entries could not be read; please check the form. Nothing you typed was lost.")
    except Exception:
        st.error(
            "The screening engine could not compute results for these entries. Your entries are kept; "
            "please check them or report the problem (no patient data was logged)."
        )
    # Kept in this session's memory only: lets other pages (and tests) reuse the current result.
    st.session_state["current_assessment"] = assessment
    st.session_state["current_patient"] = patient
    warnings: dict = defaultdict(list)
    if assessment is not None:
        for w in assessment.input_warnings:
            warnings[w.field].append(w)
    if assessment is not None:
        # Tablets and phones: the headline stays pinned under the app header while typing.
        with st.container(key="assess_strip"):
            cards.status_strip(assessment, tuple(assessment.summary.own_instruments))
    with st.container(key="assess_layout"):
        left, right = st.columns([5, 7], gap="large")
        # The answer is sent first (it is what changes after a keystroke); the form fills in after.
        with right, st.container(key="assess_answer"):
            if assessment is not None and patient is not None:
                answer(patient, assessment)
        with tools:
            toolbar()
            import_panel()  # FHIR R4 Bundle → the form (and the Trends page when several dates)
        with left, st.container(key="assess_form"):
            form(warnings)
    with st.container(key="assess_details"):
        if assessment is not None and patient is not None:
            details(patient, assessment, min(max(content_px, 320), 1400), narrow)


render()
