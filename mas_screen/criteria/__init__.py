"""Criteria as data: the typed schema of criteria/*.yaml and references/*.yaml, loading and checking
them, the citation lookup, and the provenance hash of the files a result was computed from."""
