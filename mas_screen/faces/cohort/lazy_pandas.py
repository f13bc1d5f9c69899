"""pandas, imported on first use: the cohort file path (Arrow in, Arrow out) never needs it, and
importing it costs the command line ~0.2 s at start-up."""

from __future__ import annotations

from typing import Any


class _Pandas:
    def __getattr__(self, name: str) -> Any:
        import pandas

        return getattr(pandas, name)


pd: Any = _Pandas()
