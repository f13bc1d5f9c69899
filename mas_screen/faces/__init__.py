"""Faces: thin layers that present the core (assess, trends, batch, FHIR) to a kind of user or system
(CDS Hooks for an EHR, teaching for trainees and educators)."""
