"""Faces: the ways in (bedside assess, trends, teaching, explore, cohort, FHIR, CDS Hooks, command line)."""
