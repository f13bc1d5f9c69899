"""The serial-panel table of this browser session: rows as typed, one unit per lab column.

Rows live in `st.session_state` only (never on disk). The editor's base table changes only when
the user loads, adds or clears rows; cell edits are read back from the editor itself, so nothing
typed is lost between reruns.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

from mas_screen.criteria.loading import criteria
from mas_screen.domain.series import TREND_ANALYTES, Panel, SeriesInput
from mas_screen.kernel.inputs.parsing import split_unit
from mas_screen.ui.state import (
    decimal_comma,
    default_unit,
    in_session_spelling,
    init_state,
    lab_key,
    patient_data,
    unit_key,
)

ROWS = "series_rows"
VERSION = "series_version"
COLUMNS_KEY = "trend_labs"
DEFAULT_COLUMNS = (*TREND_ANALYTES, "ldh", "triglycerides", "hemoglobin")


def trend_unit_key(analyte: str) -> str:
    return f"trend_unit::{analyte}"


def alert_key(analyte: str) -> str:
    return f"trend_alert::{analyte}"


def init_series_state() -> None:
    init_state()
    state = st.session_state
    state.setdefault(ROWS, [])
    state.setdefault(VERSION, 0)
    state.setdefault(COLUMNS_KEY, list(DEFAULT_COLUMNS))
    for analyte in criteria().analytes.analytes:
        state.setdefault(trend_unit_key(analyte), default_unit(analyte, state["unit_system"]))
        state.setdefault(alert_key(analyte), "")


def editor_key() -> str:
    return f"series_editor_{st.session_state[VERSION]}"


def base_frame() -> pd.DataFrame:
    """The editor's starting table: a time column and one text column per chosen lab."""
    columns = ["time", *st.session_state[COLUMNS_KEY]]
    rows = [{c: row.get(c, "") for c in columns} for row in st.session_state[ROWS]]
    return pd.DataFrame(rows, columns=columns, dtype="string")


def set_rows(rows: list[dict]) -> None:
    """Replace the table (loading, adding, clearing) and start a fresh editor."""
    state = st.session_state
    state[ROWS] = rows
    labs = [c for c in criteria().analytes.analytes if any(str(r.get(c, "")).strip() for r in rows)]
    state[COLUMNS_KEY] = list(dict.fromkeys([*DEFAULT_COLUMNS, *labs]))
    state[VERSION] += 1


def frame_to_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for record in frame.to_dict("records"):
        row = {
            k: ("" if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else str(v))
            for k, v in record.items()
        }
        if any(v.strip() for v in row.values()):
            rows.append(row)
    return rows


def split_cell(text: str, column_unit: str) -> tuple[str, str]:
    """A cell may name its own unit ('3.6 g/L', '150 10^9/L'); otherwise the column's unit applies.
    The same reading as the trend and batch CSV readers (parsing.split_unit)."""
    value, unit = split_unit(text)
    return value, unit or column_unit


def series_input(rows: list[dict]) -> SeriesInput:
    """The table as contract "Series" input, with the bedside page's context (same patient)."""
    context = patient_data()["context"]
    panels = []
    for row in rows:
        labs = {}
        for key, text in row.items():
            if key == "time" or key not in criteria().analytes.analytes or not text.strip():
                continue
            value, unit = split_cell(text, st.session_state[trend_unit_key(key)])
            labs[key] = {"value": value, "unit": unit}
        panels.append(Panel.model_validate({"time": row.get("time", "").strip() or None, "labs": labs}))
    return SeriesInput.model_validate({"context": context, "panels": panels, "decimal_comma": decimal_comma()})


def mixed_unit_columns(rows: list[dict]) -> dict[str, set[str]]:
    """Lab columns whose cells name more than one unit (allowed, but worth a note)."""
    found: dict[str, set[str]] = {}
    for row in rows:
        for key, text in row.items():
            if key in criteria().analytes.analytes and text.strip():
                found.setdefault(key, set()).add(split_cell(text, st.session_state[trend_unit_key(key)])[1])
    return {k: v for k, v in found.items() if len(v) > 1}


@cache
def demo_course() -> dict:
    with Path(__file__).with_name("trend_demo.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_demo() -> None:
    from mas_screen.ui.state import load_data

    demo = demo_course()
    load_data({"context": demo["context"], "labs": {}})
    for analyte, unit in demo["units"].items():
        st.session_state[trend_unit_key(analyte)] = unit
    set_rows([{k: v if k == "time" else in_session_spelling(v) for k, v in r.items()} for r in demo["rows"]])


def add_bedside_panel() -> None:
    """Carry the panel on the bedside page into the series (this session only), timed now."""
    state = st.session_state
    rows = list(state[ROWS])
    row: dict = {"time": datetime.now().strftime("%Y-%m-%d %H:%M")}
    for analyte in criteria().analytes.analytes:
        text = str(state.get(lab_key(analyte), "")).strip()
        if not text:
            continue
        unit = state.get(unit_key(analyte))
        column_unit = state[trend_unit_key(analyte)]
        if not any(str(r.get(analyte, "")).strip() for r in rows):
            state[trend_unit_key(analyte)] = column_unit = unit  # first value sets the column's unit
        # A column has one unit: a value typed in another unit carries its unit in the cell.
        row[analyte] = text if unit == column_unit else f"{text} {unit}"
    rows.append(row)
    set_rows(rows)
    state["series_added_message"] = f"Added the bedside panel at {row['time']} (edit the time if needed)."


def clear_series() -> None:
    set_rows([])
