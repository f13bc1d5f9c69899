"""About: each instrument's source, population, version and limitations; privacy; how to cite."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import mas_screen
from mas_screen.criteria.loading import ROOT, criteria
from mas_screen.criteria.references import full_citation, link
from mas_screen.domain.models import DISEASE_LABELS
from mas_screen.explain.summary import join_words
from mas_screen.explain.wording import SYMBOL
from mas_screen.faces.cds_hooks.rules import card_rule_lines

SOURCE_CHECKS = ROOT / "docs" / "source-verification.md"


def confirmation_words(tag: str) -> str:
    """A confirmation tag in plain words ("confirmed in two independent sources")."""
    return criteria().policy.confirmation_words[tag]


def decision_lines() -> list[str]:
    """Every item and cut-off that is a project decision, an adaptation or not confirmed against the
    primary paper, in plain words with its note (numbers from the data)."""
    out: list[str] = []
    for spec in criteria().instruments.values():
        for it in spec.items:
            if not it.confirmation.startswith("CONFIRMED"):
                out.append(
                    f"{spec.short_name}, {it.label}: {confirmation_words(it.confirmation)}"
                    + (f" — {it.note}" if it.note else "")
                )
        for cut in [spec.cutoff, *spec.additional_cutoffs]:
            if cut is not None and not cut.confirmation.startswith("CONFIRMED"):
                out.append(
                    f"{spec.short_name}, cut-off {SYMBOL[cut.comparator]} {cut.value}: {confirmation_words(cut.confirmation)}"
                    + (f" — {cut.note}" if cut.note else "")
                )
    return out


def own_instrument_lines() -> list[str]:
    """Which instruments decide the summary for each underlying disease (criteria/policy.yaml)."""
    specs = criteria().instruments
    out = []
    for disease, pop in criteria().policy.populations.items():
        names = join_words(specs[i].short_name for i in pop.instruments)
        support = join_words(specs[i].short_name for i in pop.supporting)
        out.append(f"{DISEASE_LABELS[disease]}: {names}" + (f" (supported by {support})" if support else ""))
    return out


def source_checks() -> bytes | None:
    try:
        return Path(SOURCE_CHECKS).read_bytes()
    except OSError:
        return None


def render() -> None:
    st.markdown("## About MAS Screen")
    st.warning(
        "**A screening aid, not a diagnosis.** MAS Screen applies published classification, diagnostic and "
        "screening criteria to the values you enter and shows which are met, what is missing and the caveats. "
        "It does not replace clinical judgement, specialist advice or local protocols. Macrophage activation "
        "syndrome can evolve over hours: reassess as results change.",
        icon=":material/warning:",
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
                    f"**Cut-off.** {SYMBOL[spec.cutoff.comparator]} {spec.cutoff.value} "
                    f"({confirmation_words(spec.cutoff.confirmation)}){note}"
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
        "- A value not entered is never read as normal: an item without its value is 'missing', and an "
        "instrument is decided only when no plausible value of what is missing could change it (HScore and "
        "MS score show the range the score could take).\n"
        "- Probabilities come from the published tables only, never from a fitted curve.\n"
        "- Values in a unit that looks wrong, or outside what a living patient can have, are left out and "
        "flagged, never guessed.\n"
        "- The MS score's derivation cut-off decides its status in every population; other published cut-offs "
        "(AOSD) are shown beside it."
    )
    st.markdown("Items and cut-offs set by the project, adapted, or not yet confirmed against the primary paper:")
    st.markdown("\n".join(f"- {line}" for line in decision_lines()))
    record = source_checks()
    if record is not None:
        st.download_button(
            "How each number was checked against its source (record, Markdown)",
            data=record,
            file_name="mas-screen-source-verification.md",
            mime="text/markdown",
            key="download_source_checks",
            on_click="ignore",
            icon=":material/fact_check:",
        )

    st.markdown("### Which instruments decide the summary")
    st.markdown(
        "The headline is decided only by the instruments built for the patient's population (chosen by the "
        "underlying disease). Every other instrument is still computed and shown; when one built for another "
        "population is met, a grey line says so, as indicative only."
    )
    st.markdown("\n".join(f"- {line}" for line in own_instrument_lines()))
    st.markdown("### In the EHR (CDS Hooks)")
    st.markdown(
        "`python -m mas_screen serve-cds` runs the same screen as a CDS Hooks service: when a chart is opened "
        "(patient-view) or ferritin, triglycerides, fibrinogen or a bone-marrow aspirate is ordered (order-sign), "
        "the EHR sends the recent results and the problem list, and a card appears only by these rules "
        "(criteria/cds_hooks.yaml; the first that holds):"
    )
    st.markdown("\n".join(f"- {line}" for line in card_rule_lines()))
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
