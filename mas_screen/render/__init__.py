"""Render: results as figures (plotly), PDF, and text. Pure functions of results; no Streamlit here."""
