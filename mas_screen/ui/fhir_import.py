"""FHIR R4 Bundle import on the bedside page: read in memory, fill the form, say what was not used.

`fhir.bundle_to_inputs` does the reading (LOINC + UCUM, nothing guessed); this module puts the
latest panel into the form through the same state helpers as "Load example", keeps a report of
what was imported and every problem for this session, and, when the bundle holds several dates,
can send the whole series to the Trends page's table.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import field_label
from mas_screen.domain.series import SeriesInput
from mas_screen.domain.units import pretty_unit
from mas_screen.faces.fhir import bundle_to_inputs
from mas_screen.faces.fhir_read import FhirError, FhirImport
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.series_state import init_series_state, set_rows, trend_unit_key
from mas_screen.ui.state import in_session_spelling, load_data

UPLOAD = "fhir_upload"
REPORT = "fhir_report"
SERIES = "fhir_series"
MAX_FHIR_MB = 5  # a Bundle of one patient's labs is kilobytes; this bounds what is parsed


def imported_rows(imported: FhirImport) -> list[dict[str, str]]:
    """The panel put into the form, for the report: lab, value, unit."""
    if imported.patient is None:
        return []
    return [
        {"Lab": field_label(key), "Value": str(m.value), "Unit": pretty_unit(m.unit) if m.unit else ""}
        for key, m in imported.patient.labs.items()
    ]


def series_rows(series: SeriesInput) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Panels → the Trends table's rows and one unit per lab column (the first value's unit); a value
    in another unit carries its unit in the cell, as the Trends page reads it."""
    units: dict[str, str] = {}
    rows = []
    for panel in series.panels:
        row = {"time": panel.time or ""}
        for key, m in panel.labs.items():
            text = in_session_spelling(m.value)  # FHIR numbers are spelt with a decimal point
            unit = m.unit or criteria().analytes.analytes[key].default_unit
            units.setdefault(key, unit)
            row[key] = text if unit == units[key] else f"{text} {unit}"
        rows.append(row)
    return rows, units


def _report(imported: FhirImport, name: str) -> dict[str, Any]:
    age = imported.patient.context.age_years if imported.patient is not None else None
    return {
        "ok": True,
        "name": name,
        "patient_id": imported.patient_id,
        "age": None if age is None else str(age),
        "rows": imported_rows(imported),
        "times": list(imported.times),
        "warnings": [p.message for p in imported.problems if p.severity != "info"],
        "infos": [p.message for p in imported.problems if p.severity == "info"],
        "filled": False,
        "sent": False,
    }


def on_upload() -> None:
    """Read the uploaded Bundle (bytes in memory) and fill the form with its latest panel."""
    state = st.session_state
    upload = state.get(UPLOAD)
    if upload is None:
        return
    state[SERIES] = None
    if upload.size > MAX_FHIR_MB * 1024 * 1024:
        state[REPORT] = {"ok": False, "message": f"The file is larger than {MAX_FHIR_MB} MB; not read."}
        return
    try:
        imported = bundle_to_inputs(upload.getvalue())
    except FhirError as exc:
        text = str(exc)
        state[REPORT] = {
            "ok": False,
            "message": f"{upload.name} could not be imported. {text[:1].upper()}{text[1:].rstrip('.')}.",
        }
        return
    except Exception:  # never a traceback, never the bundle in a log
        state[REPORT] = {"ok": False, "message": f"{upload.name} could not be read as a FHIR R4 Bundle."}
        return
    report = _report(imported, upload.name)
    patient = imported.patient
    if patient is not None and (patient.labs or patient.context.age_years is not None):
        load_data(patient.model_dump(mode="json", exclude_none=True))
        report["filled"] = True
    if imported.series is not None:
        state[SERIES] = imported.series
    state[REPORT] = report


def send_series() -> None:
    """Replace the Trends page's table with the bundle's dated panels (this session only)."""
    state = st.session_state
    series = state.get(SERIES)
    if series is None:
        return
    init_series_state()
    rows, units = series_rows(series)
    for key, unit in units.items():
        state[trend_unit_key(key)] = unit
    set_rows(rows)
    if state.get(REPORT):
        state[REPORT]["sent"] = True


def _show_report(report: dict[str, Any]) -> None:
    if not report.get("ok"):
        st.error(plain_markdown(report["message"]), icon=":material/block:")
        return
    rows = report["rows"]
    name = plain_markdown(report["name"])
    who = f"Patient/{report['patient_id']}" if report["patient_id"] else "no Patient resource"
    when = report["times"][-1] if report["times"] else "no date"
    if report["filled"]:
        age = f", age {report['age']} years (from birthDate)" if report["age"] else ""
        st.success(
            f"**{name}**: {len(rows)} lab value(s) from {plain_markdown(when)} ({plain_markdown(who)}{age}) are now in "
            "the form below. "
            "The form was cleared first; the clinical context (disease, fever, findings) is not in the bundle: "
            "set it below.",
            icon=":material/check_circle:",
        )
    else:
        st.warning(f"**{name}**: nothing in the bundle could be put into the form.", icon=":material/warning:")
    if rows:
        st.markdown(
            "| Lab | Value | Unit |\n|---|---:|---|\n"
            + "\n".join(f"| {r['Lab']} | {plain_markdown(r['Value'])} | {r['Unit']} |" for r in rows)
        )
    if report["warnings"]:
        st.warning(
            f"**Not used ({len(report['warnings'])})** — nothing is guessed:\n\n"
            + "\n".join(f"- {plain_markdown(m)}" for m in report["warnings"]),
            icon=":material/warning:",
        )
    for message in report["infos"]:
        st.caption(f"ℹ️ {plain_markdown(message)}")
    times = report["times"]
    if len(times) > 1:
        st.info(
            f"The bundle holds observations on {len(times)} dates ({plain_markdown(times[0])} … "
            f"{plain_markdown(times[-1])}); the form holds the "
            "latest panel.",
            icon=":material/show_chart:",
        )
        if report["sent"]:
            st.success("Sent to the Trends page: open Trends to see the course.", icon=":material/show_chart:")
        elif st.session_state.get(SERIES) is not None:
            st.button(
                f"Send all {len(times)} dated panels to the Trends page",
                key="fhir_send_series",
                on_click=send_series,
                help="Replaces the serial-labs table on the Trends page (this browser session only).",
            )


def import_panel() -> None:
    """The 'Import FHIR R4 Bundle' expander: upload, and the last import's report."""
    st.session_state.setdefault(REPORT, None)
    st.session_state.setdefault(SERIES, None)
    report = st.session_state[REPORT]
    with st.expander("Import FHIR R4 Bundle", expanded=report is not None, icon=":material/upload_file:"):
        st.file_uploader(
            "FHIR R4 Bundle (JSON) of lab Observations, with an optional Patient",
            type=["json"],
            key=UPLOAD,
            on_change=on_upload,
            max_upload_size=MAX_FHIR_MB,
            help="Read in this session's memory only. Labs are matched by LOINC code and UCUM unit; the latest "
            "date fills the form. Replaces what is in the form.",
        )
        if report is not None:
            _show_report(report)


__all__ = ["import_panel", "on_upload", "send_series", "series_rows"]
