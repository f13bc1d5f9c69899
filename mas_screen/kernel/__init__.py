"""The rule kernel: every item kind and combination rule defined once, for one patient and for a cohort."""
