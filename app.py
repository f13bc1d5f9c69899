"""MAS Screen Streamlit entry point: page config and navigation only."""

import streamlit as st

st.set_page_config(page_title="MAS Screen", page_icon="🩺", layout="wide")
st.title("MAS Screen")
st.info("The bedside page is being built; the screening core is available from the command line: `python -m mas_screen assess FILE`.")
