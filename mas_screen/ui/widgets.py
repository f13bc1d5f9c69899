"""Input widgets for the bedside form: a lab value with its unit, yes/no/unknown answers, numbers.

Values are text inputs on purpose: what the user types (">40000", "3,2", "pending") is kept as
typed and judged by the core, whose warning is shown right under the field (the typed text quoted
literally: parsing.echo bounds it, safe_text.plain_markdown keeps markdown and shortcodes inert).
"""

from __future__ import annotations

import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import InputWarning, field_label
from mas_screen.domain.units import pretty_unit
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.state import (
    TRI_STATE,
    ctx_key,
    lab_key,
    shown_index,
    shown_text,
    sync_unit_from_text,
    unit_key,
)

WARNING_TITLES = {
    "not_a_number": "Not a number",
    "negative": "Negative value",
    "implausible": "Implausible value",
    "unit_suspect": "Check the unit",
    "unknown_unit": "Unknown unit",
    "not_convertible": "Unit not convertible",
    "conflict": "Conflicting answers",
    "ambiguous_number": "Check the number",
}
KEPT = {"conflict": "both kept", "ambiguous_number": "value used as read"}


def show_warnings(field: str, warnings: dict[str, list[InputWarning]]) -> None:
    for w in warnings.get(field, []):
        kept = KEPT.get(w.code, "left out of every criterion")
        st.markdown(
            f":orange[**⚠ {WARNING_TITLES[w.code]}**: {plain_markdown(w.message)}] "
            f":gray[({kept}; you typed “{plain_markdown(str(w.input))}”)]",
        )


UNIT_WIDTH_PX = 118  # "µg/mL FEU", "×10³/µL" fit; the value field takes the rest of the row


def lab_row(analyte: str, warnings: dict[str, list[InputWarning]]) -> None:
    """Value and unit on one row at every width (a phone too). The unit selector is not a Tab
    stop (the page script): a keyboard user types the unit after the number instead."""
    spec = criteria().analytes.analytes[analyte]
    units = ", ".join(pretty_unit(u.unit) for u in spec.units)
    with st.container(key=f"labrow_{analyte}", horizontal=True, vertical_alignment="bottom", gap="small"):
        st.text_input(
            spec.label,
            value=shown_text(lab_key(analyte)),
            key=lab_key(analyte),
            placeholder="not done",
            autocomplete="off",
            on_change=sync_unit_from_text,
            args=(analyte,),
            help=f"Leave blank if not done. Results beyond the assay range: type '>100000' or '<50'. "
            f"Another unit: type it after the number ({units}). LOINC {', '.join(spec.loinc)}.",
        )
        options = [u.unit for u in spec.units]
        st.selectbox(
            f"{spec.label} unit",
            options,
            index=shown_index(unit_key(analyte), options, spec.default_unit),
            key=unit_key(analyte),
            format_func=pretty_unit,
            label_visibility="collapsed",
            width=UNIT_WIDTH_PX,
        )
    show_warnings(analyte, warnings)


def choice_field(field: str, label: str, labels: dict[str, str], fallback: str = "unknown") -> None:
    """A context choice (underlying disease, biologic therapy) shown at the session's value (shown_index)."""
    options = list(labels)
    st.selectbox(
        label,
        options,
        index=shown_index(ctx_key(field), options, fallback),
        key=ctx_key(field),
        format_func=labels.get,
    )


def tri_state(field: str, warnings: dict[str, list[InputWarning]], help: str | None = None) -> None:
    st.radio(
        field_label(field),
        TRI_STATE,
        index=shown_index(ctx_key(field), TRI_STATE, "Unknown"),  # never "Yes" by default (shown_index)
        key=ctx_key(field),
        horizontal=True,
        help=help,
    )
    show_warnings(field, warnings)


def number_field(
    field: str, warnings: dict[str, list[InputWarning]], placeholder: str = "not known", label: str | None = None
) -> None:
    st.text_input(
        label or field_label(field),
        value=shown_text(ctx_key(field)),
        key=ctx_key(field),
        placeholder=placeholder,
        autocomplete="off",
        help=None if label is None else field_label(field),
    )
    show_warnings(field, warnings)
