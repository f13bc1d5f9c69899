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
from mas_screen.explain.summary import supporting_instruments
from mas_screen.models import BIOLOGIC_LABELS, DISEASE_LABELS, VALUE_KEPT_CODES, Assessment, PatientInput
from mas_screen.report import PatientDetails
from mas_screen.ui import cards
from mas_screen.ui.fhir_import import import_panel
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
)
from mas_screen.ui.widgets import lab_row, number_field, show_warnings, tri_state

CHART_WIDTH_PX = 680


# Below this width the form and the results stack (tablets, phones, a projector at low resolution):
# two columns of ~350 px would cramp both. Scoped to this page's layout container only.
STACK_CSS = """
<style>
.st-key-assess_strip { display: none; }
@media (max-width: 1100px) {
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-assess_form) { flex-direction: column; }
  [data-testid="stColumn"]:has(.st-key-assess_form), [data-testid="stColumn"]:has(.st-key-assess_results) {
    width: 100% !important; flex: 1 1 auto !important;
  }
  .st-key-assess_strip {
    display: flex; position: sticky; top: 0; z-index: 99; background: var(--background-color, #fff);
    border-bottom: 1px solid rgba(49, 51, 63, 0.2); padding: 0.3rem 0;
  }
}
</style>
"""


def toolbar() -> None:
    """Units, examples and clearing: one row above the form, reachable by keyboard."""
    c1, c2, c3, c4 = st.columns([3, 4, 1.3, 1.2], vertical_alignment="bottom")
    with c1:
        st.radio(
            "Default units",
            ["us", "si"],
            key="unit_system",
            format_func=lambda s: {"us": "US (mg/dL, °F)", "si": "SI (g/L, mmol/L, °C)"}[s],
            horizontal=True,
            on_change=on_unit_system_change,
            help="Sets the unit of empty fields. A value you typed keeps the unit you chose.",
        )
        decimal_comma_toggle()
    ids = [ex["id"] for ex in examples()]
    titles = {ex["id"]: ex["title"] for ex in examples()}
    with c2:
        st.selectbox("Example patient", ids, key="example_choice", format_func=titles.get)
    with c3:
        st.button(
            "Load example",
            key="load_example",
            on_click=lambda: load_example(st.session_state["example_choice"]),
            help="Replaces the form with a worked example from the criteria specification.",
        )
    with c4:
        st.button("Clear form", key="clear_form", on_click=clear_form)


def form(warnings: dict) -> None:
    st.markdown("#### Patient")
    c1, c2 = st.columns(2)
    with c1:
        number_field("age_years", warnings)
    with c2:
        number_field("age_at_onset_years", warnings)
    c1, c2 = st.columns(2)
    with c1:
        st.selectbox(
            "Underlying disease",
            list(DISEASE_LABELS),
            key=ctx_key("underlying_disease"),
            format_func=DISEASE_LABELS.get,
        )
    with c2:
        st.selectbox(
            "Biologic therapy", list(BIOLOGIC_LABELS), key=ctx_key("biologic_therapy"), format_func=BIOLOGIC_LABELS.get
        )
    tri_state("febrile", warnings, help="Your judgement of the fever pattern in this illness, not one reading.")

    st.markdown("#### Laboratory results")
    st.caption("Blank = not done (never read as normal). Type '>40000' for a result beyond the assay range.")
    for group, analytes in LAB_ORDER:
        st.markdown(f"**{group}**")
        for analyte in analytes:
            lab_row(analyte, warnings)

    st.markdown("#### Clinical findings")
    for field in ("hepatomegaly", "splenomegaly"):
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        with c1:
            tri_state(field, warnings)
        with c2:
            number_field(f"{field}_cm", warnings, placeholder="cm, if measured")
    for field in ("cns_involvement", "hemorrhagic_manifestations", "active_arthritis", "known_immunosuppression"):
        tri_state(field, warnings)

    st.markdown("#### Specialist results")
    for field in (
        "hemophagocytosis_marrow",
        "hemophagocytosis_other_site",
        "nk_activity_low",
        "hlh_molecular_diagnosis",
        "hematologic_malignancy",
    ):
        tri_state(field, warnings)
    show_warnings("underlying_disease", warnings)


def _pdf(patient: PatientInput, assessment: Assessment, details: PatientDetails, when: datetime) -> bytes:
    from mas_screen.report import pdf_summary

    return pdf_summary(patient, assessment, lab_figure=True, generated_at=when, details=details)


def _json(patient: PatientInput, assessment: Assessment) -> bytes:
    from mas_screen.report import assessment_json

    return assessment_json(assessment, patient)


def results(patient: PatientInput, assessment: Assessment) -> None:
    from mas_screen.figures import lab_threshold_figure

    cards.headline(assessment)
    left_out = [w for w in assessment.input_warnings if w.code not in VALUE_KEPT_CODES]
    kept = len(assessment.input_warnings) - len(left_out)
    if assessment.input_warnings:
        parts = [f"{len(left_out)} value(s) flagged and left out"] if left_out else []
        parts += [f"{kept} used as read but worth a check"] if kept else []
        st.warning(f"{'; '.join(parts)} — see the messages beside the fields.", icon=":material/warning:")
    cards.status_grid(assessment)
    cards.comparison_panels(assessment)
    cards.next_tests(assessment)

    st.markdown("#### Labs against the thresholds")
    fig = lab_threshold_figure(patient, assessment)
    st.plotly_chart(
        fig, key="lab_threshold_chart", config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]}
    )

    st.markdown("#### Instruments")
    # The patient's own instruments and the supporting ones open (criteria/policy.yaml), and any met.
    own = (*assessment.summary.own_instruments, *supporting_instruments(patient.context.disease))
    for iid, result in assessment.criteria.items():
        cards.criterion_card(result, assessment, expanded=iid in own or result.status == "met")
    cards.caveats_and_sources(assessment)

    st.markdown("#### Export")
    details = details_inputs()
    when = browser_now()
    stamp = when.strftime("%Y%m%d-%H%M")
    c1, c2 = st.columns(2)
    with c1:
        st.download_button(
            "Download PDF summary",
            data=functools.partial(_pdf, patient, assessment, details, when),
            file_name=f"mas-screen-{stamp}.pdf",
            mime="application/pdf",
            key="download_pdf",
            on_click="ignore",
            icon=":material/description:",
        )
    with c2:
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
    st.button(
        "Add this panel to the series (Trends page)",
        key="add_to_series",
        on_click=add_bedside_panel,
        help="Carries these values into the serial-labs table of this browser session, timed now.",
    )
    if st.session_state.pop("series_added_message", None):
        st.success("Added to the series: open the Trends page to see the course.")


def render() -> None:
    init_state()
    init_series_state()
    st.markdown(STACK_CSS, unsafe_allow_html=True)
    st.markdown("## MAS Screen — bedside assessment")
    st.caption(
        "Published criteria for macrophage activation syndrome applied to one panel. A screening aid, not a "
        "diagnosis. Private: entries stay in this browser session only; nothing is stored, logged or sent anywhere."
    )
    toolbar()
    import_panel()  # FHIR R4 Bundle → the form (and the Trends page when several dates)
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
        # On narrow screens the results sit below the form: keep the headline in view while typing.
        with st.container(key="assess_strip"):
            cards.status_strip(assessment)
    with st.container(key="assess_layout"):
        left, right = st.columns([5, 7], gap="large")
        with left, st.container(key="assess_form"):
            form(warnings)
        with right, st.container(key="assess_results"):
            if assessment is not None and patient is not None:
                results(patient, assessment)


render()
