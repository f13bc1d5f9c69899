"""The Explore page's state: the starting point (a teaching case or the bedside panel) loaded into
session keys per lab (unit, start, step, range), the callbacks of its controls, and the working patient
those controls describe."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.domain.explore import Flip
from mas_screen.domain.models import (
    BIOLOGIC_LABELS,
    BOOLEAN_FIELDS,
    DISEASE_LABELS,
    NUMERIC_CONTEXT_FIELDS,
    Measurement,
    PatientInput,
    field_label,
)
from mas_screen.domain.units import convert, format_number, pretty_unit, unit_index, unit_key
from mas_screen.faces.explore import RESOLUTION
from mas_screen.kernel.inputs.facts import normalise, plausible_interval, unit_spec
from mas_screen.kernel.inputs.parsing import echo
from mas_screen.render.figures.kit import rules_by_analyte
from mas_screen.ui.state import (
    TRI_LABEL,
    TRI_VALUE,
)

ORIGIN = "explore_origin"  # what the current starting point was loaded from
BASE = "explore_base"  # the starting PatientInput
LABS = "explore_labs"  # lab -> {"unit", "start", "censored", "typed", "lo", "hi", "step"}


def num_key(lab: str) -> str:
    return f"xp_num::{lab}"


def slider_key(lab: str) -> str:
    return f"xp_slider::{lab}"


def flag_key(field: str) -> str:
    return f"xp_flag::{field}"


def cnum_key(field: str) -> str:
    return f"xp_cnum::{field}"


# ------------------------------------------------------------------------------------- loading


def _step(lab: str, unit: str, start: Decimal | None) -> float:
    """Slider and number-box step: the lab's reporting resolution, or finer if typed finer."""
    step = Decimal(RESOLUTION.get(lab, {}).get(unit, "0.01"))
    if start is not None:
        exp = start.normalize().as_tuple().exponent
        typed = Decimal(1).scaleb(exp) if isinstance(exp, int) and exp < 0 else None
        if typed is not None and typed < step:
            step = typed
    return float(step)


def _range(lab: str, unit: str, start: float | None) -> tuple[float, float]:
    """Slider range in the lab's unit: from the plausible minimum (≥ 0) to twice the start or 1.5×
    the highest published threshold (converted for display), within the plausible maximum."""
    target = unit_spec(lab, unit)
    tops = [
        float(convert(Decimal(repr(rule.threshold)), unit_spec(lab, rule.unit), target))
        for rule in rules_by_analyte().get(lab, ())
    ]
    plaus = plausible_interval(lab, unit)
    hi = max([2 * start if start else 0.0, 1.5 * max(tops, default=0.0), 1.0])
    return max(plaus.lo, 0.0), min(plaus.hi, hi)


def _decimals(step: float) -> int:
    exp = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def load_start(patient: PatientInput, origin: str) -> None:
    """Make `patient` the starting point: every control is set to its value (unit as entered)."""
    state = st.session_state
    facts, _warnings = normalise(patient)
    labs: dict[str, dict] = {}
    for lab in criteria().analytes.analytes:
        spec = criteria().analytes.analytes[lab]
        fact = facts.labs.get(lab)
        typed = patient.labs.get(lab)
        start: Decimal | None = None
        censored = False
        if fact is not None:
            unit = fact.unit.unit
            start = fact.parsed.value
            censored = fact.parsed.op is not None
        else:
            unit = spec.default_unit
            named = unit_index(lab).accepted.get(unit_key(typed.unit)) if typed is not None and typed.unit else None
            if named is not None:  # a bad value keeps the unit it was typed in
                unit = named.unit
        step = _step(lab, unit, start)
        lo, hi = _range(lab, unit, float(start) if start is not None else None)
        labs[lab] = {
            "unit": unit,
            "start": float(start) if start is not None else None,
            "censored": censored,
            "typed": None if typed is None or typed.value in (None, "") else echo(typed.value),  # bounded
            "lo": lo,
            "hi": max(hi, float(start)) if start is not None else hi,
            "step": step,
        }
        state[num_key(lab)] = float(start) if start is not None else None
        if start is not None:
            state[slider_key(lab)] = min(max(float(start), lo), labs[lab]["hi"])
        else:
            state.pop(slider_key(lab), None)
    ctx = patient.context
    for field in BOOLEAN_FIELDS:
        state[flag_key(field)] = TRI_LABEL[getattr(ctx, field)]
    for field in NUMERIC_CONTEXT_FIELDS:
        value = facts.numbers.get(field)
        state[cnum_key(field)] = float(value) if value is not None else None
    state["xp_disease"] = ctx.disease
    state["xp_biologic"] = ctx.biologic
    state[LABS] = labs
    state[BASE] = patient
    state[ORIGIN] = origin


def on_number(lab: str) -> None:
    value = st.session_state.get(num_key(lab))
    info = st.session_state[LABS][lab]
    if value is not None:
        st.session_state[slider_key(lab)] = min(max(float(value), info["lo"]), info["hi"])


def on_slider(lab: str) -> None:
    st.session_state[num_key(lab)] = st.session_state[slider_key(lab)]


def apply_flip(flip: Flip) -> None:
    """Set the explorer to the flip's value (the instrument's status then changes, verified)."""
    state = st.session_state
    if flip.kind == "flag":
        state[flag_key(flip.input)] = TRI_LABEL[bool(flip.to_value)]
    elif flip.kind == "number":
        state[cnum_key(flip.input)] = float(flip.to_value)
    else:
        info = state[LABS][flip.input]
        value = float(flip.to_value)
        if flip.unit and flip.unit != info["unit"]:
            value = float(
                convert(Decimal(repr(value)), unit_spec(flip.input, flip.unit), unit_spec(flip.input, info["unit"]))
            )
        state[num_key(flip.input)] = value
        info["hi"] = max(info["hi"], value)
        state[slider_key(flip.input)] = min(max(value, info["lo"]), info["hi"])


def reset_to_start() -> None:
    state = st.session_state
    load_start(state[BASE], state[ORIGIN])


# ------------------------------------------------------------------------------------ the patient


def working_patient() -> PatientInput:
    """The explorer's patient: the start with every control's current value."""
    state = st.session_state
    base: PatientInput = state[BASE]
    labs: dict[str, Measurement] = {}
    for lab, info in state[LABS].items():
        value = state.get(num_key(lab))
        if value is None:
            continue
        if info["censored"] and info["start"] is not None and value == info["start"]:
            labs[lab] = base.labs[lab]  # a bound stays a bound until it is moved
        else:
            labs[lab] = Measurement(value=_plain(value, info["step"]), unit=info["unit"])
    context = {
        field: TRI_VALUE[state[flag_key(field)]] for field in BOOLEAN_FIELDS if state[flag_key(field)] != "Unknown"
    }
    for field in NUMERIC_CONTEXT_FIELDS:
        if state.get(cnum_key(field)) is not None:
            context[field] = state[cnum_key(field)]
    context["underlying_disease"] = state["xp_disease"]
    context["biologic_therapy"] = state["xp_biologic"]
    return PatientInput.model_validate({"context": context, "labs": labs})


def _plain(value: float, step: float) -> int | float:
    """A control's value as the number a clinician would type (no float noise, no '.0')."""
    rounded = round(value, max(_decimals(step), 6))
    return int(rounded) if float(rounded).is_integer() else rounded


def _value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "not entered"
    return f"{format_number(Decimal(repr(_plain(value, 1e-6))))} {pretty_unit(unit)}".strip()


def changes_from_start() -> list[str]:
    state = st.session_state
    base: PatientInput = state[BASE]
    out: list[str] = []
    for lab, info in state[LABS].items():
        now = state.get(num_key(lab))
        if now != info["start"]:
            start = _value_text(info["start"], info["unit"])
            if info["censored"]:
                start = f"{info['typed']} {pretty_unit(info['unit'])}"
            out.append(f"{field_label(lab)}: {start} → {_value_text(now, info['unit'])}")
    for field in BOOLEAN_FIELDS:
        start = TRI_LABEL[getattr(base.context, field)]
        if state[flag_key(field)] != start:
            out.append(f"{field_label(field)}: {start.lower()} → {state[flag_key(field)].lower()}")
    facts, _ = normalise(base)
    for field in NUMERIC_CONTEXT_FIELDS:
        start = facts.numbers.get(field)
        now = state.get(cnum_key(field))
        if (float(start) if start is not None else None) != now:
            before = "not known" if start is None else format_number(start)
            after = "not known" if now is None else format_number(Decimal(repr(now)))
            out.append(f"{field_label(field)}: {before} → {after}")
    if state["xp_disease"] != base.context.disease:
        out.append(
            f"Underlying disease: {DISEASE_LABELS[base.context.disease]} → {DISEASE_LABELS[state['xp_disease']]}"
        )
    if state["xp_biologic"] != base.context.biologic:
        out.append(
            f"Biologic therapy: {BIOLOGIC_LABELS[base.context.biologic]} → {BIOLOGIC_LABELS[state['xp_biologic']]}"
        )
    return out
