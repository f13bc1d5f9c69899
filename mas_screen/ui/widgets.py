"""Input widgets for the bedside form: a lab value with its unit, yes/no/unknown answers, numbers.

Values are text inputs on purpose: what the user types (">40000", "3,2", "pending") is kept as
typed and judged by the core, whose warning is shown right under the field (the typed text quoted
literally: parsing.echo bounds it, safe_text.plain_markdown keeps markdown and shortcodes inert).
"""

from __future__ import annotations

import streamlit as st

from mas_screen.criteria_data import criteria
from mas_screen.models import InputWarning, field_label
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.state import TRI_STATE, ctx_key, lab_key, unit_key
from mas_screen.units import pretty_unit

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


def lab_row(analyte: str, warnings: dict[str, list[InputWarning]]) -> None:
    spec = criteria().analytes.analytes[analyte]
    value_col, unit_col = st.columns([3, 2], gap="small", vertical_alignment="bottom")
    with value_col:
        st.text_input(
            spec.label,
            key=lab_key(analyte),
            placeholder="not done",
            help=f"Leave blank if not done. Results beyond the assay range: type '>100000' or '<50'. "
            f"LOINC {', '.join(spec.loinc)}.",
        )
    with unit_col:
        st.selectbox(
            f"{spec.label} unit",
            [u.unit for u in spec.units],
            key=unit_key(analyte),
            format_func=pretty_unit,
            label_visibility="collapsed",
        )
    show_warnings(analyte, warnings)


def tri_state(field: str, warnings: dict[str, list[InputWarning]], help: str | None = None) -> None:
    st.radio(field_label(field), TRI_STATE, key=ctx_key(field), horizontal=True, help=help)
    show_warnings(field, warnings)


def number_field(field: str, warnings: dict[str, list[InputWarning]], placeholder: str = "not known") -> None:
    st.text_input(field_label(field), key=ctx_key(field), placeholder=placeholder)
    show_warnings(field, warnings)
