"""One way to remember what recurs between patients: a bounded table per thing remembered.

Next-test answers, cards, chosen caveats, summary signals and phrases repeat across patients (a few tallies,
outcomes and flags recur); each is kept in a table that is cleared when it holds `LIMIT` entries,
so memory stays bounded whatever the inputs. Keys are outcomes, tallies, flags and criteria ids,
never a patient's own values or text (docs/architecture.md "Caches").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

LIMIT = 4096  # entries a table keeps at most (cleared when full): a bound, not a tuning
T = TypeVar("T")


def remember(table: dict, key, make: Callable[[], T]) -> T:
    """table[key], made by `make` the first time; the table is cleared first when it is full."""
    found = table.get(key)
    if found is None:
        if len(table) >= LIMIT:
            table.clear()
        found = table[key] = make()
    return found


__all__ = ["LIMIT", "remember"]
