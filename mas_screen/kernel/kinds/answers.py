"""Kinds read from yes/no answers: one answer, any of several, the count of enlarged organs."""

from __future__ import annotations

from mas_screen.domain.units import format_number
from mas_screen.kernel.kinds.base import Item
from mas_screen.kernel.logic import or3, points_result
from mas_screen.kernel.ops import MISSING
from mas_screen.kernel.outcome import ArrayOut, Out, decided

ORGANS = ("hepatomegaly", "splenomegaly")


def answer(ops, value):
    """A yes/no answer (1, 0, -1) as a three-valued result."""
    return ops.three(value == 1, value == 0)


class Flag(Item):
    """A yes/no context field: met when yes, not met when no, missing when not known."""

    kind = "flag"
    shows = "answer"

    def own_keys(self) -> tuple[str, ...]:
        return (self.spec.field,)

    def evaluate(self, v):
        value = v.flag(self.spec.field)
        out = decided(v.ops, answer(v.ops, value), self.points)
        if v.explain:
            out.missing = [(self.spec.field, value < 0)]
        return out

    def rule_text(self) -> str:
        return "present"


class AnyFlag(Item):
    """Met if any of several answers is yes (HLH-2004 haemophagocytosis at any site), not met when all
    are no; while undecided, the unanswered ones are missing."""

    kind = "any_flag"
    shows = "answers"

    def own_keys(self) -> tuple[str, ...]:
        return tuple(self.spec.fields)

    def evaluate(self, v):
        ops = v.ops
        values = [v.flag(name) for name in self.spec.fields]
        result = or3(ops, [answer(ops, value) for value in values])
        out = decided(ops, result, self.points)
        if v.explain:
            undecided = result == MISSING
            out.missing = [
                (name, undecided & (value < 0)) for name, value in zip(self.spec.fields, values, strict=True)
            ]
        return out

    def rule_text(self) -> str:
        return "present"


def by_count_tables(points: list[float]) -> tuple[list[list[float]], list[list[float]]]:
    """Least and greatest points for a count known to lie in [known, known + unknown]."""
    size = len(points)
    lo = [[0.0] * size for _ in range(size)]
    hi = [[0.0] * size for _ in range(size)]
    for k in range(size):
        for u in range(size - k):
            possible = points[k : k + u + 1]
            lo[k][u], hi[k][u] = float(min(possible)), float(max(possible))
    return lo, hi


def by_count(ops, tables, known, unknown):
    """Points (least, greatest) and result of an item scored by a count (organs, cytopenic lineages)."""
    lo = ops.lookup(tables[0], known, unknown)
    hi = ops.lookup(tables[1], known, unknown)
    result = points_result(ops, lo, hi)
    return (ArrayOut if ops.array else Out)(result, lo, hi)


class Organomegaly(Item):
    """HScore: points by how many of liver and spleen are enlarged (none / one / both)."""

    kind = "organomegaly"
    scored_kind = True
    shows = "organs"

    def __init__(self, spec):
        super().__init__(spec)
        op = spec.organ_points
        self.tables = by_count_tables([op["none"], op["one"], op["both"]])

    def own_keys(self) -> tuple[str, ...]:
        return ORGANS

    def evaluate(self, v):
        ops = v.ops
        values = [v.flag(name) for name in ORGANS]
        known = ops.count(value == 1 for value in values)
        unknown = ops.count(value < 0 for value in values)
        out = by_count(ops, self.tables, known, unknown)
        if v.explain:
            out.missing = [(name, value < 0) for name, value in zip(ORGANS, values, strict=True)]
        return out

    def rule_text(self) -> str:
        op = self.spec.organ_points
        return f"none: {format_number(op['none'])}; one: {format_number(op['one'])}; both: {format_number(op['both'])}"


__all__ = ["ORGANS", "AnyFlag", "Flag", "Organomegaly", "answer", "by_count", "by_count_tables"]
