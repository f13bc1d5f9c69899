"""The patient's own instruments (contract "The patient's own instruments", revised 2026-12-06).

The table lives in the summary policy (criteria/policy.yaml, read by mas_screen.summary) once the
summary revision has landed; before that, in the engine's constants. This module is the one place
the service asks, so the cards follow whichever the installed core provides.
TODO(cds): drop the fallback once mas_screen.summary is on main everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

try:  # the revised summary: policy data
    from mas_screen.summary import by_tier as _by_tier
    from mas_screen.summary import own_instruments as _own
    from mas_screen.summary import policy as _policy

    def own_instruments(disease: str) -> tuple[str, ...]:
        return tuple(_own(disease))

    def mas_instruments() -> tuple[str, ...]:
        return tuple(_policy().mas_instruments)

    def by_tier(keys: Iterable[str]) -> list[str]:
        return _by_tier(keys)

except ImportError:  # the core before the summary revision
    from mas_screen.criteria_data import criteria
    from mas_screen.engine import MAS_INSTRUMENTS, POPULATION_INSTRUMENTS

    def own_instruments(disease: str) -> tuple[str, ...]:
        return tuple(POPULATION_INSTRUMENTS.get(disease, POPULATION_INSTRUMENTS["unknown"]))

    def mas_instruments() -> tuple[str, ...]:
        return MAS_INSTRUMENTS

    def by_tier(keys: Iterable[str]) -> list[str]:
        """Laboratory tests in the order of analytes.yaml (routine bloods first), then the rest."""
        order = {k: i for i, k in enumerate(criteria().analytes.analytes)}
        return sorted(dict.fromkeys(keys), key=lambda k: order.get(k, len(order)))


__all__ = ["by_tier", "mas_instruments", "own_instruments"]
