"""Kinds made of sub-items: cytopenic lineages (counted, or scored by count) and either-or items."""

from __future__ import annotations

from mas_screen.domain.units import format_number
from mas_screen.kernel.kinds.answers import by_count, by_count_tables
from mas_screen.kernel.kinds.base import Item
from mas_screen.kernel.logic import at_least, count_met, or3
from mas_screen.kernel.ops import MISSING
from mas_screen.kernel.outcome import decided, ends


class Composite(Item):
    """What lineages and any-of items share: their sub-items, and how one input moves them."""

    def __init__(self, spec):
        super().__init__(spec)
        # key → the one sub-item that reads it when it reads nothing else (next tests), fixed by the spec
        self.holders: dict[str, int | None] = {key: self._holder(key) for key in self.keys}

    def evaluate(self, v):
        parts = [part.evaluate(v) for part in self.parts]
        out = self.aggregate(v.ops, parts)
        if v.explain:
            out.missing = [pair for p in parts for pair in p.missing]
        return out

    def aggregate(self, ops, parts):  # pragma: no cover - each composite kind implements it
        raise NotImplementedError

    def _holder(self, key: str) -> int | None:
        holders = [i for i, part in enumerate(self.parts) if key in part.keys]
        return holders[0] if len(holders) == 1 and self.parts[holders[0]].keys == {key} else None

    def knowable(self, key: str) -> bool:
        return self.keys == {key} or self.holders.get(key) is not None

    def extremes(self, ops, out, key: str):
        i = None if len(self.keys) == 1 and key in self.keys else self.holders.get(key)
        if i is None:
            return ends(ops, out)
        parts = out.parts
        return tuple(self.aggregate(ops, [*parts[:i], end, *parts[i + 1 :]]) for end in ends(ops, parts[i]))


class Lineages(Composite):
    """Cytopenic lineages: at least `required` low (HLH-2004, Parodi), or points by how many are low (HScore)."""

    kind = "lineages"
    shows = "lineages"

    def __init__(self, spec):
        super().__init__(spec)
        self.tables = None
        if spec.points_by_count:
            self.tables = by_count_tables([spec.points_by_count[c] for c in range(len(self.parts) + 1)])

    def aggregate(self, ops, parts):
        results = [p.result for p in parts]
        if self.tables is None:
            out = decided(ops, at_least(ops, results, self.spec.required), self.points)
        else:
            met = count_met(ops, results)
            undecided = ops.count_equal(results, MISSING)
            out = by_count(ops, self.tables, met, undecided)
        out.parts = parts
        return out

    def rule_text(self) -> str:
        spec = self.spec
        if spec.required is not None:
            return f"≥ {spec.required} of {len(self.parts)}"
        return "; ".join(f"{c}: {format_number(p)}" for c, p in spec.points_by_count.items()) + " points by lineages"


class AnyOf(Composite):
    """Met if any sub-item is met (HLH-2004: hypertriglyceridaemia and/or hypofibrinogenaemia)."""

    kind = "any_of"
    shows = "either"

    def aggregate(self, ops, parts):
        out = decided(ops, or3(ops, [p.result for p in parts]), self.points)
        out.parts = parts
        return out

    def rule_text(self) -> str:
        return " or ".join(part.rule_text() or part.label for part in self.parts)


__all__ = ["AnyOf", "Composite", "Lineages"]
