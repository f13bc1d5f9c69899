"""The Streamlit faces of MAS Screen: the only package that imports streamlit."""
