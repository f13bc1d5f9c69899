"""App-wide style fixes that Streamlit's theme options cannot express (accessibility).

Streamlit draws captions faded (grey, and with opacity in a custom theme: 3.88:1 or less on white); WCAG AA
asks 4.5:1 for text of that size, so captions get a darker grey (#5f5e5b, 6.5:1). The <style>
element's own wrapper, and the page scripts that measure the Trends and Explore pages' width
(ui/page_script.py), are hidden so they take no room on the page.
"""

from __future__ import annotations

import streamlit as st

APP_CSS = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: #5f5e5b; opacity: 1; }
[data-testid="stElementContainer"]:has(> [data-testid="stMarkdown"] style):not(:has(p)) { display: none; }
.st-key-trends_page_script, .st-key-explore_page_script { display: none; }
</style>
"""


def apply_app_css() -> None:
    st.markdown(APP_CSS, unsafe_allow_html=True)
