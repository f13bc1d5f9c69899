"""The one-page PDF summary of an assessment (and, for serial panels, its trend page)."""
