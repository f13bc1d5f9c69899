"""MAS Screen: Streamlit entry point (page config and navigation only)."""

from pathlib import Path

import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import CriteriaDataError
from mas_screen.kernel.instruments import instruments
from mas_screen.ui import run_times
from mas_screen.ui.state import persist_widget_state
from mas_screen.ui.theme import apply_app_css

PAGES = Path(__file__).resolve().parent / "mas_screen" / "ui" / "pages"

st.set_page_config(page_title="MAS Screen", page_icon="🩺", layout="wide", initial_sidebar_state="collapsed")

try:
    criteria()  # load and validate every criteria file once, before any page runs
    instruments()  # compile every instrument (item kinds and rules), before any page runs
except CriteriaDataError as exc:
    st.error(f"MAS Screen cannot start: its criteria data is broken ({exc}). No results can be shown.")
    st.stop()

# The projector stage (?stage=1 on Cases or Explore) shows a slide without the app's navigation.
stage = st.query_params.get("stage") == "1"
page = st.navigation(
    [
        st.Page(PAGES / "assess.py", title="Assess", icon=":material/stethoscope:", default=True, url_path="assess"),
        st.Page(PAGES / "trends.py", title="Trends", icon=":material/show_chart:", url_path="trends"),
        st.Page(PAGES / "cases.py", title="Cases", icon=":material/school:", url_path="cases"),
        st.Page(PAGES / "explore.py", title="Explore", icon=":material/science:", url_path="explore"),
        st.Page(PAGES / "write.py", title="Write a case", icon=":material/edit_note:", url_path="write"),
        st.Page(PAGES / "batch.py", title="Batch", icon=":material/bar_chart:", url_path="batch"),
        st.Page(PAGES / "about.py", title="About", icon=":material/info:", url_path="about"),
    ],
    position="hidden" if stage else "top",
)
persist_widget_state(page.title)  # form values survive moving between pages (this session only)
apply_app_css()  # caption contrast (WCAG AA), on every page
with run_times.reported(page.url_path or "assess"):  # MAS_RUN_TIMES=1: benchmarks only
    page.run()
