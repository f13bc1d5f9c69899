"""Teaching cases: the case schema (schema), what the core computes for a case and the machine-checked
claims of its teaching points (claims), practice grading of clinical judgement (grading), the case
browser (library), a trainee's progress file (progress) and the projector screens (stage).

Pure library: no Streamlit here; mas_screen/ui only renders.
"""
