"""About: each instrument's source, population, version and limitations; privacy; how to cite."""

from __future__ import annotations

import streamlit as st

import mas_screen
from mas_screen.criteria_data import criteria
from mas_screen.references import full_citation, link


def render() -> None:
    st.markdown("## About MAS Screen")
    st.warning(
        "**A screening aid, not a diagnosis.** MAS Screen applies published classification, diagnostic and "
        "screening criteria to the values you enter and shows which are met, what is missing and the caveats. "
        "It does not replace clinical judgement, specialist advice or local protocols. Macrophage activation "
        "syndrome can evolve over hours: reassess as results change.",
        icon="⚠️",
    )
    st.markdown(f"Version {mas_screen.__version__} · contract schema_version 1")

    st.markdown("### Instruments")
    for spec in criteria().instruments.values():
        with st.expander(f"{spec.name} ({spec.version})", expanded=False):
            st.markdown(f"**Purpose.** {spec.purpose}")
            st.markdown(f"**Derivation population.** {spec.population.description}")
            if spec.performance:
                st.markdown(f"**Reported performance.** {spec.performance}")
            if spec.cutoff is not None:
                note = f" — {spec.cutoff.note}" if spec.cutoff.note else ""
                st.markdown(
                    f"**Cut-off.** {spec.cutoff.comparator} {spec.cutoff.value} "
                    f"(confirmation: {spec.cutoff.confirmation}){note}"
                )
            st.markdown("**Limitations and caveats.**\n" + "\n".join(f"- {c.text}" for c in spec.caveats))
            unconfirmed = [i.label for i in spec.items if i.confirmation == "UNCONFIRMED"]
            if unconfirmed:
                st.markdown(":orange[**Not confirmed against the primary paper:**] " + ", ".join(unconfirmed))
            for key in spec.references:
                url = link(key)
                st.markdown(f"- {full_citation(key)}" + (f" [link]({url})" if url else ""))

    st.markdown("### Decisions where the sources leave a choice")
    st.markdown(
        "- Fever: the clinician's 'febrile' answer is used; without it, ≥ 38.0 °C (2016 criteria, MS score) and "
        "≥ 38.5 °C (HLH-2004, an adaptation of the HLH-94 wording). Parodi uses its own > 38 °C.\n"
        "- Ferritin:ESR counts ≥ 21.5; OHI uses the abstract's strict '>'; an exact cut-off value adds a caveat.\n"
        "- HScore items not entered are never scored 0: a score range is shown and the status is decided only "
        "when the whole range is on one side of 169. Probability comes from the published table only.\n"
        "- MH score cut-off ≥ 60 as reported in secondary sources (not verified in the primary paper).\n"
        "- MS score in AOSD: the derivation cut-off −2.1 decides the status; Yao 2021's −1.74 is shown beside it.\n"
        "- Values in a unit that looks wrong are left out and flagged, never guessed."
    )

    st.markdown("### Privacy")
    st.markdown(
        "Entries live only in your browser session's memory on the server that runs this app. Nothing is "
        "written to disk, logged, cached across users or sent anywhere; the app makes no network calls and "
        "loads no external fonts or scripts. Streamlit usage statistics are switched off. Exports (PDF, JSON) "
        "are generated in memory and sent only to your browser."
    )

    st.markdown("### How to cite")
    st.markdown(
        "MAS Screen (version " + mas_screen.__version__ + "), open-source decision support for macrophage "
        "activation syndrome. Please cite the original publications of the criteria you report (listed above), "
        "not this tool, for the criteria themselves."
    )


render()
