"""Figures (plotly): the shared kit and the lab chart (kit, labs), serial labs (trends*), distances to
thresholds (explore), cohort summaries (cohort), and threshold label placement (label_layout)."""
