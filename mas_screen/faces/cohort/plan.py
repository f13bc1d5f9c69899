"""Cohort screening, the plan: which column feeds which input, what each analyte needs, the output columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mas_screen.criteria.loading import criteria, per_load
from mas_screen.domain.units import plausible_in
from mas_screen.faces.cohort.reading import BatchError
from mas_screen.kernel.exact import MAX_DIGITS, digits
from mas_screen.kernel.inputs.columns import (
    Column,
    ColumnError,
    ColumnMap,
    parse_columns,
    unknown_columns_message,
)
from mas_screen.kernel.instruments import instruments
from mas_screen.kernel.signals import (
    MAS_SIGNALS,
    PHLH_SIGNALS,
)

if TYPE_CHECKING:
    from mas_screen.criteria.schema import ItemSpec

NOT_MET, MISSING, MET = 0, 1, 2  # Kleene order: AND is the minimum, OR the maximum
STATUS_NAMES = ("not_met", "indeterminate", "met")
SIGNAL_NAMES = MAS_SIGNALS
PHLH_NAMES = PHLH_SIGNALS
OTHER_SEPARATOR = ";"  # other_population_met cells: "parodi2009" or "hscore;parodi2009", "" when none
OPS = (None, ">", ">=", "<", "<=")
WARNING_SEPARATOR = "; "
_MAX_DIGITS = MAX_DIGITS


# ------------------------------------------------------------------------------------ the plan


def _walk(items: Sequence[ItemSpec]):
    for item in items:
        yield item
        yield from _walk(item.sub_items())


@dataclass(slots=True)
class AnalyteNeeds:
    targets: set[str] = field(default_factory=set)  # units items read this analyte in
    critical: dict[str, set[float]] = field(default_factory=dict)  # unit → numbers compared with
    float_sensitive: set[str] = field(default_factory=set)  # units whose censored bounds enter sums


@per_load
def analyte_needs() -> dict[str, AnalyteNeeds]:
    """For each analyte: the units the items read it in and the numbers values are compared with."""
    data = criteria()
    needs = {key: AnalyteNeeds() for key in data.analytes.analytes}

    def add(analyte: str, unit: str, *numbers: float) -> None:
        n = needs[analyte]
        n.targets.add(unit)
        n.critical.setdefault(unit, set()).update(float(x) for x in numbers)

    for spec in data.instruments.values():
        for item in _walk(spec.items):
            if item.kind == "threshold":
                extra = [item.infant_rule.threshold] if item.infant_rule is not None else []
                add(item.analyte, item.unit, item.threshold, *extra)
            elif item.kind == "fever":
                add("temperature", item.unit, item.threshold)
            elif item.kind == "bands":
                add(item.analyte, item.unit, *(t for band in item.bands for _, t in band.conditions))
            elif item.kind == "linear" and item.analyte is not None:
                add(item.analyte, item.unit)
                needs[item.analyte].float_sensitive.add(item.unit)
            elif item.kind == "ratio":
                add(item.numerator, item.numerator_unit)
                add(item.denominator, item.denominator_unit)
                needs[item.numerator].float_sensitive.add(item.numerator_unit)
                needs[item.denominator].float_sensitive.add(item.denominator_unit)
    conv = data.analytes.fever_convention
    add("temperature", conv.unit, conv.threshold)
    return needs


@dataclass(frozen=True, slots=True)
class Bound:
    value: float
    exact: bool  # the decimal bound has at most 15 significant digits: float comparison is exact


@per_load
def unit_bounds(analyte: str, unit: str) -> tuple[Bound, Bound]:
    spec = criteria().analytes.analytes[analyte]
    lo, hi = plausible_in(spec.unit(unit), spec)
    return (
        Bound(float(lo), lo == 0 or digits(lo) <= _MAX_DIGITS),
        Bound(float(hi), hi == 0 or digits(hi) <= _MAX_DIGITS),
    )


@dataclass(frozen=True)
class BatchPlan:
    """What the column layout means (built once per layout)."""

    names: tuple[str, ...]
    cmap: ColumnMap
    labs: dict[str, tuple[Column, ...]]  # lab key → its columns, in column order
    context: dict[str, tuple[Column, ...]]
    lab_order: tuple[str, ...]  # order of labs in the input JSON (first column of each)
    target_order: tuple[tuple[str, str], ...]  # ("lab"|"context", key) in convert_row's order
    ignored: tuple[str, ...]  # unknown or unnamed columns passed through untouched
    explain: bool = False  # add `<id>_missing` and `next_tests` (what the bedside explains)
    decimal_comma: bool = False  # numbers in cells use "," as the decimal mark (contract "Number spelling")

    @property
    def id_column(self) -> str | None:
        return self.cmap.id.name if self.cmap.id is not None else None


def plan_columns(
    names: Sequence[str],
    *,
    unknown: str = "error",
    require_id: bool = True,
    explain: bool = False,
    decimal_comma: bool = False,
) -> BatchPlan:
    """Read the header; raise BatchError for a missing id column or (unless ignored) unknown columns."""
    names = tuple(str(n) for n in names)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise BatchError(f"duplicate column name(s): {', '.join(map(repr, dupes))}")
    try:
        cmap = parse_columns(names)
    except ColumnError as exc:
        raise BatchError(str(exc)) from exc
    if require_id and cmap.id is None:
        raise BatchError(
            "the table has no 'id' column; every row needs an identifier (contract 'Batch': id, time, context, labs)"
        )
    outputs = set(output_columns(explain=True))
    clash = [u for u in cmap.unknown if u.name in outputs]
    real_unknown = [u for u in cmap.unknown if u.name not in outputs and not u.name.startswith("Unnamed: ")]
    if real_unknown and unknown == "error":
        shown = ColumnMap(columns=[], unknown=real_unknown)
        raise BatchError(unknown_columns_message(shown) + " (pass unknown='ignore' / --ignore-unknown to keep them)")
    labs: dict[str, list[Column]] = {}
    context: dict[str, list[Column]] = {}
    order: list[tuple[str, str]] = []
    for col in cmap.columns:
        if col.kind == "lab":
            if col.key not in labs:
                order.append(("lab", col.key))
            labs.setdefault(col.key, []).append(col)
        elif col.kind == "context":
            if col.key not in context:
                order.append(("context", col.key))
            context.setdefault(col.key, []).append(col)
    ignored = tuple(u.name for u in cmap.unknown if u.name not in {c.name for c in clash}) + tuple(
        names[i] for i in cmap.unnamed
    )
    return BatchPlan(
        names=names,
        cmap=cmap,
        labs={k: tuple(v) for k, v in labs.items()},
        context={k: tuple(v) for k, v in context.items()},
        lab_order=tuple(k for kind, k in order if kind == "lab"),
        target_order=tuple(order),
        ignored=ignored,
        explain=explain,
        decimal_comma=decimal_comma,
    )


def range_instruments() -> tuple[str, ...]:
    """Instruments with `<id>_score_min`/`<id>_score_max` columns: points (score_range) and weighted
    sums (score_bounds)."""
    return tuple(iid for iid, i in instruments().items() if i.rule.type in ("points", "weighted_sum"))


def output_columns(explain: bool = False) -> tuple[str, ...]:
    """The result columns, every instrument of the loaded criteria in order (contract "Batch");
    with `explain`, each instrument's `<id>_missing` and the row's `next_tests` too."""
    ranged = range_instruments()
    cols: list[str] = []
    for iid in instruments():
        cols += [f"{iid}_status", f"{iid}_score", f"{iid}_count_met"]
        if iid in ranged:
            cols += [f"{iid}_score_min", f"{iid}_score_max"]
        if explain:
            cols.append(f"{iid}_missing")
    outputs = ("mas_signal", "other_population_met", "phlh_signal", "warnings")
    return (*cols, *outputs, *(["next_tests"] if explain else []))
