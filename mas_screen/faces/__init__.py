"""Faces: thin layers that present the kernel to a kind of user or system (bedside assess, trends,
teaching, explore, cohort, FHIR, CDS Hooks, command line)."""
