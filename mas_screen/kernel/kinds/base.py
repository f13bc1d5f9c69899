"""The shape every item kind shares, the registry of kinds, and `compile_item`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from mas_screen.kernel.logic import SYMBOL
from mas_screen.kernel.outcome import ends

if TYPE_CHECKING:
    from mas_screen.criteria.schema import ItemSpec

KINDS: dict[str, type[Item]] = {}


@dataclass(frozen=True, slots=True)
class Edge:
    """A place where an item's result (or points) can change as one input moves.

    `comparator`/`threshold` in the item's published `unit`; `points` is what the side the
    comparator describes gives (band edges: the side with more points). `when` narrows where the
    edge applies: "infant" (HLH-2004's infant haemoglobin), "not_infant" (the usual threshold of an
    item with an infant rule), "infant_age" (the age at which the infant threshold stops applying),
    "febrile_unknown" (a fever item reads the temperature only then), "fallback" (an input read only
    in place of another: the current age for the age at onset).
    """

    key: str
    comparator: str
    threshold: float
    unit: str | None
    points: float | None = None
    band: bool = False
    when: str | None = None
    infant_days: float | None = None
    days_per_year: float | None = None

    def applies(self, age_years: float | None) -> bool:
        """An infant threshold only for a patient of known infant age; the usual one otherwise."""
        if self.when not in ("infant", "not_infant"):
            return True
        is_infant = age_years is not None and age_years * self.days_per_year < self.infant_days
        return is_infant if self.when == "infant" else not is_infant


class Item:
    """One compiled item: its spec, the inputs it reads, and how it evaluates.

    Subclasses set `kind` (the YAML name) and implement `evaluate`; the rest has defaults.
    """

    kind: ClassVar[str]
    scored_kind: ClassVar[bool] = False  # points depend on the value (bands, counts), not a fixed number
    shows: ClassVar[str] = "none"  # what the card shows (explain.cards renders each)
    contributes: ClassVar[bool] = False  # gives a number to a weighted sum rather than points

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            KINDS[cls.kind] = cls

    def __init__(self, spec: ItemSpec):
        self.spec = spec
        self.id = spec.id
        self.label = spec.label
        self.role = spec.role
        self.points = spec.points
        self.unit = spec.unit
        self.parts: tuple[Item, ...] = tuple(compile_item(sub) for sub in spec.sub_items())
        own = tuple(self.own_keys())
        self.keys: frozenset[str] = frozenset(own).union(*(p.keys for p in self.parts))
        self.scored = spec.points is not None or self.scored_kind or bool(spec.points_by_count)

    # -------------------------------------------------------------------------------- to override

    def own_keys(self) -> tuple[str, ...]:
        """Input keys this item reads itself (sub-items add their own)."""
        return ()

    def evaluate(self, v):  # pragma: no cover - every kind implements it
        raise NotImplementedError

    def edges(self) -> list[Edge]:
        return []

    def rule_text(self) -> str | None:
        return None

    # ------------------------------------------------------------------------------ next tests

    def knowable(self, key: str) -> bool:
        """Whether the item's outcome at either end of `key` follows from its outcome now, without
        evaluating again: the item reads `key` and nothing else (every item is monotone in each input,
        so its least and greatest outcomes are reached at the ends)."""
        return self.keys == {key}

    def extremes(self, ops, out, key: str):
        """(least, greatest) outcome with `key` entered at either end of its range (when knowable)."""
        return ends(ops, out)


def compile_item(spec: ItemSpec) -> Item:
    return KINDS[spec.kind](spec)


__all__ = ["KINDS", "SYMBOL", "Edge", "Item", "compile_item"]
