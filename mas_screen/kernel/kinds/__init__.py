"""Item kinds: each defined once, in one class, for one patient and for a cohort alike.

A kind holds everything that depends on what sort of item it is: its three-valued evaluation over
a value or a censored interval (`evaluate`), the input keys it reads (`keys`), the places where its
result can change (`edges`, for figures, what-if and teaching), its rule as a clinician reads it
(`rule_text`), how its outcome moves when one input is entered at either end of its range
(`extremes`, for next tests) and what its card shows (`shows`). Logic only: every number comes
from the item's YAML. `compile_item` builds the kind named by an item's `kind:`.
"""

from __future__ import annotations

from mas_screen.kernel.kinds import answers, composite, numeric, scores  # noqa: F401  (registers the kinds)
from mas_screen.kernel.kinds.base import KINDS, Edge, Item, compile_item

__all__ = ["KINDS", "Edge", "Item", "compile_item"]
