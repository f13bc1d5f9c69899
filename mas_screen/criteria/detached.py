"""The validated criteria as plain objects: what a batch run loads, so that it never imports pydantic.

A cohort run reads the criteria's fields and a few methods (criteria/spec_methods.py), never
validates them: pydantic's import alone is ~0.1 s of a 400,000-row run (issue 14). `detach` copies a
validated criteria object, field by field, into these classes; setup saves the copy beside the
validated snapshot (criteria/snapshot.py), under the same key. A copy compares and hashes as the
frozen model it was made from does (by its fields), and carries the same methods.
"""

from __future__ import annotations

from typing import Any

from mas_screen.criteria.spec_methods import (
    AnalyteSpecMethods,
    BandMethods,
    InstrumentSpecMethods,
    ItemSpecMethods,
    PolicyFileMethods,
    UnitSpecMethods,
)


class Detached:
    """A criteria object's fields as attributes (read-only by convention, like the frozen models)."""

    def __init__(self, kind: str, fields: dict[str, Any]):
        self.__dict__.update(fields)
        self._kind = kind  # the schema class it was made from

    def _fields(self) -> tuple:
        return tuple((k, v) for k, v in self.__dict__.items() if k != "_kind")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Detached) and self._kind == other._kind and self._fields() == other._fields()

    def __hash__(self) -> int:  # as a frozen model's: by its fields (unhashable if one is a list)
        return hash((self._kind, self._fields()))

    def __repr__(self) -> str:
        return f"{self._kind}({', '.join(f'{k}={v!r}' for k, v in self._fields())})"


class UnitSpec(Detached, UnitSpecMethods):
    pass


class AnalyteSpec(Detached, AnalyteSpecMethods):
    pass


class Band(Detached, BandMethods):
    pass


class ItemSpec(Detached, ItemSpecMethods):
    pass


class InstrumentSpec(Detached, InstrumentSpecMethods):
    pass


class PolicyFile(Detached, PolicyFileMethods):
    pass


# Schema classes with methods beyond their fields: their copies carry the same methods.
WITH_METHODS: dict[str, type[Detached]] = {
    cls.__name__: cls for cls in (UnitSpec, AnalyteSpec, Band, ItemSpec, InstrumentSpec, PolicyFile)
}


def detach(value: Any) -> Any:
    """A plain copy of a validated criteria value: models become Detached objects, containers are
    copied, everything else (str, numbers, Decimal, dates, None) is kept as it is."""
    fields = getattr(type(value), "model_fields", None)
    if fields is not None:
        kind = type(value).__name__
        made = WITH_METHODS.get(kind, Detached)
        return made(kind, {name: detach(getattr(value, name)) for name in fields})
    if isinstance(value, dict):
        return {k: detach(v) for k, v in value.items()}
    if isinstance(value, list):
        return [detach(v) for v in value]
    if isinstance(value, tuple):
        return tuple(detach(v) for v in value)
    return value
