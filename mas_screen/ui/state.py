"""Session state ↔ PatientInput for the bedside form.

All state lives in this browser session's `st.session_state`; nothing is written to disk. What the
user typed is kept verbatim (as text), and handed to the core as typed, so a bad value is flagged
by the core beside its field and never lost.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import streamlit as st
import yaml

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import UnitSpec
from mas_screen.domain.models import BOOLEAN_FIELDS, NUMERIC_CONTEXT_FIELDS, PatientInput
from mas_screen.domain.units import unit_index
from mas_screen.domain.units import unit_key as units_key

# A value typed with its unit ("6.2 mmol/L", "1.8g/L", ">40000 ng/mL"): the number part, then text
# that starts like a unit. Bounded: a field longer than this is handed to the core as typed.
_UNIT_SUFFIX = re.compile(r"^(?P<number>.*?[0-9.])\s*(?P<unit>[^\d\s.,+\-<>=≤≥].*)$")
MAX_SUFFIX_FIELD = 64

LAB_ORDER = (
    # As on a lab report: blood count, chemistry, coagulation, inflammation, special, vitals.
    ("Blood count", ("hemoglobin", "wbc", "neutrophils", "platelets")),
    ("Chemistry", ("ferritin", "ast", "alt", "ldh", "triglycerides")),
    ("Coagulation", ("fibrinogen", "d_dimer")),
    ("Inflammation", ("esr", "crp")),
    ("Specialist", ("scd25",)),
    ("Vital signs", ("temperature",)),
)
# Yes / No / Unknown: from the default (Unknown) one arrow key reaches Yes (→, wrapping) or No (←)
# without passing through the other answer; the page also takes y / n / u on a focused answer.
TRI_STATE = ("Yes", "No", "Unknown")
TRI_VALUE = {"Unknown": None, "Yes": True, "No": False}
TRI_LABEL = {None: "Unknown", True: "Yes", False: "No"}


def shown_index(key: str, options: tuple | list, fallback: object) -> int:
    """The option a choice widget shows when the browser draws it without the session's value.

    Streamlit sends a widget's session-state value to the browser only in the run that set it; if
    that run is cut short (a rerun requested meanwhile: the page script reporting the width while a
    fresh server's first run is still going), the browser draws the widget at its default and sends
    that back on the next rerun, so the default silently becomes the answer. Measured: on a fresh
    server's first page every yes/no answer read "Yes" and CRP "mg/L" instead of "mg/dL". So every
    default is the session's own value: a cut-short run can never change what was entered."""
    value = st.session_state.get(key, fallback)
    return options.index(value) if value in options else options.index(fallback) if fallback in options else 0


def shown_text(key: str) -> str:
    """A text field's default: the session's value (see shown_index)."""
    value = st.session_state.get(key, "")
    return "" if value is None else str(value)


def lab_key(analyte: str) -> str:
    return f"lab::{analyte}"


def unit_key(analyte: str) -> str:
    return f"unit::{analyte}"


def ctx_key(field: str) -> str:
    return f"ctx::{field}"


def split_unit_suffix(analyte: str, text: str) -> tuple[str, UnitSpec | None]:
    """'6.2 mmol/L' → ('6.2', the mmol/L unit) when the tail is a unit this analyte accepts
    (units.unit_index, the core's own alias table); otherwise (text, None), left for the core to
    judge as typed. Lets a keyboard user give a unit without leaving the value field."""
    if len(text) > MAX_SUFFIX_FIELD:
        return text, None
    match = _UNIT_SUFFIX.match(text.strip())
    if not match:
        return text, None
    unit = unit_index(analyte).accepted.get(units_key(match.group("unit")))
    return (match.group("number").strip(), unit) if unit is not None else (text, None)


def sync_unit_from_text(analyte: str) -> None:
    """on_change of a lab value: a unit typed after the number sets the field's unit selector."""
    _number, unit = split_unit_suffix(analyte, str(st.session_state.get(lab_key(analyte), "")))
    if unit is not None:
        st.session_state[unit_key(analyte)] = unit.unit


def default_unit(analyte: str, system: str) -> str:
    return criteria().analytes.unit_systems[system].get(analyte, criteria().analytes.analytes[analyte].default_unit)


DECIMAL_COMMA = "decimal_comma"  # one setting for every page where numbers are typed or uploaded
PERSISTENT_PREFIXES = ("lab::", "unit::", "ctx::", "trend_unit::", "trend_alert::")
PERSISTENT_KEYS = ("unit_system", "trend_labs", "example_choice", DECIMAL_COMMA)
# The persistent widgets each page draws (key prefixes and keys).
DRAWN_ON = {
    "Assess": ("lab::", "unit::", "ctx::", "unit_system", "example_choice", DECIMAL_COMMA),
    "Trends": ("trend_unit::", "trend_alert::", "trend_labs", DECIMAL_COMMA),
    "Batch": (DECIMAL_COMMA,),
}
KEEP = "_keep::"  # plain session-state copies of the persistent widget values


def _persistent(key: str) -> bool:
    return key in PERSISTENT_KEYS or key.startswith(PERSISTENT_PREFIXES)


def persist_widget_state(page_title: str) -> None:
    """Keep form values when the user moves to another page.

    Streamlit forgets a widget's value once a run does not draw that widget (on the Trends page
    the bedside form is not drawn). Every run copies the persistent widget values into plain keys
    (reading a widget's value pushes nothing to the browser); on a page's first run the widgets
    are given those values back. Values are never re-assigned while the user stays on a page: a
    value set from code is pushed to the browser and, on a busy server, overwrote what the user
    had just typed (keystrokes lost during fast keyboard entry; tests/e2e/test_assess_e2e.py).
    """
    state = st.session_state
    arrived = state.get("_current_page") != page_title
    state["_current_page"] = page_title
    here = DRAWN_ON.get(page_title, ())
    for key in list(state.keys()):
        if _persistent(key):
            state[KEEP + key] = state[key]
            if arrived or not key.startswith(here):  # the widgets this page draws own their values
                state[key] = state[key]
    if arrived:
        for key in list(state.keys()):
            if key.startswith(KEEP) and key[len(KEEP) :] not in state:
                state[key[len(KEEP) :]] = state[key]


def decimal_comma() -> bool:
    """The session's number spelling: True when "," is the decimal mark (0,5) and "." separates thousands."""
    return bool(st.session_state.get(DECIMAL_COMMA, False))


def decimal_comma_toggle() -> None:
    """The explicit decimal-comma setting (contract "Number spelling"): off, "0,500" is not read as a
    number (never as 500); on, "," and "." swap roles and nothing else changes."""
    st.toggle(
        "Decimal comma (0,5)",
        value=decimal_comma(),  # the session's value as the default (see shown_index)
        key=DECIMAL_COMMA,
        help="Off: 0.5 and 20,000 (a comma only between thousands). On: 0,5 and 20.000 — the comma is the "
        "decimal mark and the point separates thousands. Applies to every number you type or upload here.",
    )


def init_state() -> None:
    """Defaults for a fresh session: every value blank ('not done'), every answer 'Unknown'."""
    state = st.session_state
    state.setdefault(DECIMAL_COMMA, False)
    state.setdefault("unit_system", "us")
    for analyte in criteria().analytes.analytes:
        state.setdefault(lab_key(analyte), "")
        state.setdefault(unit_key(analyte), default_unit(analyte, state["unit_system"]))
    for field in NUMERIC_CONTEXT_FIELDS:
        state.setdefault(ctx_key(field), "")
    for field in BOOLEAN_FIELDS:
        state.setdefault(ctx_key(field), "Unknown")
    state.setdefault(ctx_key("underlying_disease"), "unknown")
    state.setdefault(ctx_key("biologic_therapy"), "unknown")


def on_unit_system_change() -> None:
    """Switching US/SI changes the unit of empty fields only: a typed value keeps its unit."""
    state = st.session_state
    for analyte in criteria().analytes.analytes:
        if not str(state.get(lab_key(analyte), "")).strip():
            state[unit_key(analyte)] = default_unit(analyte, state["unit_system"])


def patient_data() -> dict:
    """The form as contract input JSON (blank fields omitted: not known / not done)."""
    state = st.session_state
    context: dict = {}
    for field in NUMERIC_CONTEXT_FIELDS:
        text = str(state.get(ctx_key(field), "")).strip()
        if text:
            context[field] = text
    for field in BOOLEAN_FIELDS:
        value = TRI_VALUE.get(state.get(ctx_key(field), "Unknown"))
        if value is not None:
            context[field] = value
    for field in ("underlying_disease", "biologic_therapy"):
        value = state.get(ctx_key(field), "unknown")
        if value and value != "unknown":
            context[field] = value
    labs = {}
    for analyte in criteria().analytes.analytes:
        text = str(state.get(lab_key(analyte), "")).strip()
        if text:
            number, typed_unit = split_unit_suffix(analyte, text)
            unit = typed_unit.unit if typed_unit is not None else state.get(unit_key(analyte))
            labs[analyte] = {"value": number, "unit": unit}
    data: dict = {"context": context, "labs": labs}
    if decimal_comma():
        data["decimal_comma"] = True
    return data


def current_patient() -> PatientInput:
    return PatientInput.model_validate(patient_data())


@cache
def examples() -> list[dict]:
    path = Path(__file__).with_name("examples.yaml")
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)["examples"]


def clear_form() -> None:
    state = st.session_state
    for analyte in criteria().analytes.analytes:
        state[lab_key(analyte)] = ""
        state[unit_key(analyte)] = default_unit(analyte, state["unit_system"])
    for field in NUMERIC_CONTEXT_FIELDS:
        state[ctx_key(field)] = ""
    for field in BOOLEAN_FIELDS:
        state[ctx_key(field)] = "Unknown"
    state[ctx_key("underlying_disease")] = "unknown"
    state[ctx_key("biologic_therapy")] = "unknown"


def in_session_spelling(value: object, *, decimal_comma_source: bool = False) -> str:
    """A value from a file or an example (numbers spelt with a decimal point) as text in the number
    spelling this session reads, so that switching on the decimal comma never misreads a loaded 2.5."""
    text = "" if value is None else str(value)
    if decimal_comma() != decimal_comma_source:
        text = text.translate(_SWAP)
    return text


_SWAP = str.maketrans(",.", ".,")


def load_data(data: dict, system: str | None = None) -> None:
    """Fill the form from contract input JSON (an example, or a panel carried from elsewhere)."""
    state = st.session_state
    if system:
        state["unit_system"] = system
    clear_form()
    source = bool(data.get("decimal_comma", False))
    context = data.get("context", {}) or {}
    for field, value in context.items():
        if field in BOOLEAN_FIELDS:
            state[ctx_key(field)] = TRI_LABEL[value]
        elif field in NUMERIC_CONTEXT_FIELDS:
            state[ctx_key(field)] = in_session_spelling(value, decimal_comma_source=source)
        elif field in ("underlying_disease", "biologic_therapy"):
            state[ctx_key(field)] = value or "unknown"
    for analyte, lab in (data.get("labs") or {}).items():
        if isinstance(lab, dict):
            text = in_session_spelling(lab.get("value"), decimal_comma_source=source)
            if lab.get("unit"):
                spec = unit_index(analyte).accepted.get(units_key(lab["unit"]))
                if spec is not None:
                    state[unit_key(analyte)] = spec.unit
                else:  # keep what came in, visibly: the core flags it beside the field
                    text = f"{text} {lab['unit']}"
            state[lab_key(analyte)] = text
        else:
            state[lab_key(analyte)] = in_session_spelling(lab, decimal_comma_source=source)
            state[unit_key(analyte)] = criteria().analytes.analytes[analyte].default_unit


def load_example(example_id: str) -> None:
    for ex in examples():
        if ex["id"] == example_id:
            load_data({"context": ex["context"], "labs": ex["labs"]}, ex.get("units"))
            return
