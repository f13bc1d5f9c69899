"""CDS Hooks 2.0 service over the core: discovery, patient-view and order-sign, cards, security.

`python -m mas_screen serve-cds` (server.py) runs `app.create_app()` under uvicorn. The service
maps the EHR's prefetch (FHIR R4) to a PatientInput with the core's FHIR import, runs `assess()`,
and turns the result into cards by the rules in criteria/cds_hooks.yaml. See docs/cds-hooks.md.
"""
