"""Details printed on the PDF only: patient name, ID, date of birth, sample time, clinician.

Typed on the page for the PDF and nowhere else: they are not part of the patient input, the
assessment, the JSON export or the series, are never logged or written to disk, and are not kept
when the user leaves the page (no persistent key). Left blank, the PDF prints lines to write on.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from mas_screen.render.pdf.report import PatientDetails

KEY = "pdf::"
FIELDS = (
    ("name", "Patient name"),
    ("patient_id", "Patient ID"),
    ("date_of_birth", "Date of birth"),
    ("sample_time", "Sample taken (date, time)"),
    ("clinician", "Clinician"),
)
MAX_CHARS = 80


def details_inputs() -> PatientDetails:
    """Optional inputs (collapsed) for the printed PDF's filing block."""
    with st.expander("Details printed on the PDF (optional, never stored)", expanded=False):
        st.caption(
            "Only for the PDF you download now: not saved, not in the JSON export, gone when you leave "
            "the page. Blank fields print as lines to fill in by hand."
        )
        values: dict[str, str] = {}
        columns = st.columns(2)
        for i, (name, label) in enumerate(FIELDS):
            with columns[i % 2]:
                values[name] = st.text_input(label, key=f"{KEY}{name}", max_chars=MAX_CHARS)
    return PatientDetails(**values)


def browser_now() -> datetime:
    """Now in the reader's time zone (the browser's, as Streamlit reports it), else the server's."""
    zone = st.context.timezone
    if zone:
        try:
            return datetime.now(ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return datetime.now().astimezone()
