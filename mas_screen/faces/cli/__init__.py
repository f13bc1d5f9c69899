"""The command line face: `python -m mas_screen ...` (main) and `verify` (recompute a stored result)."""
