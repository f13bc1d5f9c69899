"""Cohort screening: a table in the contract's "Batch" layout → every instrument per row, by columns.

`screen_frame(df)` gives, for every row, exactly what `assess()` gives for that row (status, score,
counts, `mas_signal`, `phlh_signal`, warning codes), computed with column operations (pyarrow
string kernels, numpy arrays) over the same `criteria/*.yaml`, never one Python call per row.

How it stays identical to the single-patient engine, which works in decimal arithmetic:

- Cells stay strings, as typed. A cell that is a plain decimal number (optionally censored, `>40000`,
  `<= 5`) with at most 15 significant digits is parsed by column operations: its float, its exact
  decimal mantissa and exponent, its unit from the column. Values typed in the unit an item was
  published in, or converted by an exact decimal factor (g/L → mg/dL × 100, /µL × 1/1000,
  µkat/L × 60, mmol/L × 88.57), are computed as one correctly rounded division of exact integers:
  bit for bit the float the single-patient engine compares.
- Conversions without an exact decimal factor (mg/dL → mmol/L ÷ 88.57, degF, Hb mmol/L, fibrinogen
  µmol/L) are computed in float64; a cell that lands within 1e-9 (relative) of a number it is
  compared with (a threshold, a plausible bound) is *delicate*.
- Everything else — words, units written in the cell, exponents, thousands separators, more than
  15 significant digits — and every delicate cell is decided by the single-patient code itself
  (`columns.convert_row` + `facts.normalise` on that one cell), once per distinct cell text. In real
  exports these cells are few (the benchmark prints how many).
- The MS score is summed exactly in scaled integers and rounded half-up at 4 dp; the ferritin:ESR
  ratio is rounded half-up at 2 dp and compared at full precision; a row whose rounding or
  comparison float64 cannot decide (a tie within 1e-9) is computed in decimal like the core.

Beyond one machine the same function runs per partition under Dask (`run_dask`).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.criteria.schema import ItemSpec
from mas_screen.domain.models import BOOLEAN_FIELDS, NUMERIC_CONTEXT_FIELDS, VALUE_KEPT_CODES, PatientInput
from mas_screen.domain.units import as_float, convert, plausible_in, unit_index, unit_key
from mas_screen.explain.cohort import explain_columns
from mas_screen.kernel.cohort import CohortValues
from mas_screen.kernel.exact import MAX_DIGITS, conversion, digits, near
from mas_screen.kernel.inputs.columns import (
    Column,
    ColumnError,
    ColumnMap,
    cell_text,
    convert_row,
    parse_columns,
    unknown_columns_message,
)
from mas_screen.kernel.inputs.facts import ORGAN_FIELDS, normalise, unit_spec
from mas_screen.kernel.inputs.parsing import MAX_UNIT_CHARS, is_cell_unit, read_number_column, split_unit_column
from mas_screen.kernel.inputs.safe_csv import neutralise_arrow
from mas_screen.kernel.instruments import instruments, per_criteria
from mas_screen.kernel.signals import (
    DISEASES,
    MAS_SIGNALS,
    PHLH_SIGNALS,
    mas_instruments,
    mas_signal,
    other_population_met,
    phlh_signal,
)

if TYPE_CHECKING:
    import pandas as pd
else:

    class _Pandas:
        """pandas, imported on first use: the file path (Arrow in, Arrow out) never needs it."""

        def __getattr__(self, name: str):
            import pandas

            return getattr(pandas, name)

    pd = _Pandas()

NOT_MET, MISSING, MET = 0, 1, 2  # Kleene order: AND is the minimum, OR the maximum
STATUS_NAMES = ("not_met", "indeterminate", "met")
SIGNAL_NAMES = MAS_SIGNALS
PHLH_NAMES = PHLH_SIGNALS
OTHER_SEPARATOR = ";"  # other_population_met cells: "parodi2009" or "hscore;parodi2009", "" when none
OPS = (None, ">", ">=", "<", "<=")
WARNING_SEPARATOR = "; "
_MAX_DIGITS = MAX_DIGITS


class BatchError(ValueError):
    """The table cannot be screened at all (no id column, unknown columns, …)."""


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


@cache
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


@cache
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


# ----------------------------------------------------------------------------------- cell text


def cell_texts(series: pd.Series) -> pa.Array:
    """A column's cells as text, the way `columns.convert_row` reads a cell: missing → ""."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) and getattr(dtype, "storage", "") == "pyarrow":
        return column_texts(series.array.__arrow_array__())
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
        try:
            arr = pa.array(series, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = pa.array([_cell_text(v) for v in series.tolist()], type=pa.large_string())
    elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = series.astype("float64") if pd.api.types.is_float_dtype(dtype) else series
        arr = pa.array(values, from_pandas=True)
        uniq = pc.unique(arr)
        if len(uniq) <= 4096 or pd.api.types.is_bool_dtype(dtype):
            # exactly str(value), as the row reader does (1.0 → "1.0", True → "True")
            texts = pa.array([_cell_text(v) for v in uniq.to_pylist()], type=pa.large_string())
            arr = pc.take(texts, pc.index_in(arr, uniq))
        else:  # many distinct numbers: the same decimal values, spelt by Arrow
            arr = pc.cast(arr, pa.large_string())
    else:
        arr = pa.array([_cell_text(v) for v in series.tolist()], type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr, "")


def column_texts(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """An Arrow column's cells as text: strings as they are (null → ""), other types as cell_texts."""
    if pa.types.is_dictionary(column.type) and (
        pa.types.is_string(column.type.value_type) or pa.types.is_large_string(column.type.value_type)
    ):
        column = column.cast(pa.large_string())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        arr = column.cast(pa.large_string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        return pc.fill_null(arr, "") if arr.null_count else arr
    return cell_texts(column.to_pandas())


def _cell_text(value: Any) -> str:
    if value is pd.NA or value is pd.NaT:
        return ""
    return cell_text(value)


def _np(arr: pa.Array | pa.ChunkedArray, dtype=None) -> np.ndarray:
    out = arr.to_numpy(zero_copy_only=False)
    return out if dtype is None else out.astype(dtype, copy=False)


# ---------------------------------------------------------------------------------- lab values


class Codes:
    """Warning and problem codes as small integers (0 = none)."""

    def __init__(self) -> None:
        self.names: list[str] = [""]

    def __call__(self, name: str | None) -> int:
        if not name:
            return 0
        try:
            return self.names.index(name)
        except ValueError:
            self.names.append(name)
            return len(self.names) - 1


@dataclass(slots=True)
class LabValues:
    """One analyte over all rows: what the single-patient engine's LabFact holds, as columns."""

    key: str
    state: np.ndarray  # int8: 0 not entered, 1 in use, 2 left out (bad value)
    warn: np.ndarray  # int16 warning code
    problem: np.ndarray  # int16 row-problem code (two_units, two_values, cell_unit)
    op: np.ndarray  # int8 index into OPS
    unit: np.ndarray  # int8 index into the analyte's accepted units
    x: np.ndarray  # float64 number as typed
    mant: np.ndarray  # int64: typed value = mant × 10^-dec when rep
    dec: np.ndarray  # int64
    rep: np.ndarray  # bool
    values: dict[str, np.ndarray] = field(default_factory=dict)  # item unit → float value
    decimals: dict[int, tuple[Decimal, str]] = field(default_factory=dict)  # slow rows: exact value, unit
    slow_cells: int = 0

    @property
    def exact(self) -> np.ndarray:
        return (self.state == 1) & (self.op == 0)

    def decimal(self, row: int) -> tuple[Decimal, str]:
        """The exact typed value and its unit (for the few rows decided in decimal)."""
        found = self.decimals.get(row)
        if found is not None:
            return found
        if not self.rep[row]:  # pragma: no cover - every analyte read exactly keeps its mantissas
            raise RuntimeError(f"{self.key}: no exact value kept for row {row}")
        spec = criteria().analytes.analytes[self.key]
        return Decimal(int(self.mant[row])).scaleb(-int(self.dec[row])), spec.units[int(self.unit[row])].unit


@dataclass(slots=True)
class _ColumnCells:
    kind: np.ndarray  # int8: 0 empty, 1 fast, 2 decided by the single-patient code
    texts: pa.Array
    numbers: pa.Array  # the number's text (censoring sign and a unit in the cell removed, point spelling)
    op: np.ndarray
    x: np.ndarray
    warn: np.ndarray
    unit: np.ndarray  # int8: position of the unit in use among the analyte's units, -1 for a refused unit
    problem: np.ndarray  # int16 row-problem code (cell_unit)


def _mantissa(numbers: pa.Array, x: np.ndarray, fast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact decimal of a plain number: mantissa and count of decimals (value = mant × 10^-dec)."""
    length = _np(pc.binary_length(numbers), np.int64)
    dot = _np(pc.find_substring(numbers, "."), np.int64)
    dec = np.where(fast & (dot >= 0), length - dot - 1, 0)
    mant = np.rint(np.abs(x) * np.power(10.0, dec)).astype(np.int64)
    return np.where(x < 0, -mant, mant), dec


def _plausible(x: np.ndarray, op: np.ndarray, analyte: str, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """`units.is_plausible` by columns, and which cells float64 cannot decide."""
    lo, hi = unit_bounds(analyte, unit)
    above_lo = np.where(op == 3, x > lo.value, x >= lo.value)
    below_hi = np.where(op == 1, x < hi.value, x <= hi.value)
    delicate = np.zeros(len(x), bool)
    for b in (lo, hi):
        if not b.exact:
            delicate |= near(x, b.value)
    return above_lo & below_hi, delicate


def _column_cells(
    texts: pa.Array, col: Column, analyte: str, codes: Codes, decimal_comma: bool, units_in_cells: bool
) -> _ColumnCells:
    """One column's cells by Arrow kernels (parsing.read_number_column), judged as `facts.normalise`
    judges them; what the kernels cannot decide exactly is kind 2 (the single-patient code)."""
    n = len(texts)
    read = read_number_column(texts, decimal_comma=decimal_comma)
    kind, op, x, numbers, other = read.kind, read.op, read.x, read.numbers, read.other
    index = unit_index_of(analyte)
    in_use = index.get(unit_key(col.unit or ""))
    unit = np.full(n, -1 if in_use is None else _unit_position(analyte, in_use), np.int8)
    problem = np.zeros(n, np.int16)
    if units_in_cells and (kind == 2).any():
        kind, op, x, numbers, other = _cells_with_units(
            texts, kind, op, x, numbers, other, unit, problem, col, codes, decimal_comma
        )
        kind = kind.copy()
    else:
        kind = kind.copy()
    kind[(kind == 1) & ~np.isnan(other) & (op != 0)] = 2  # an ambiguous bound: the single-patient code
    warn = np.zeros(n, np.int16)
    fast = kind == 1
    warn[fast & (unit < 0)] = codes("not_convertible")  # a refused unit (e.g. sCD25 in pg/mL): left out
    spec = criteria().analytes.analytes[analyte]
    for position in np.unique(unit[fast & (unit >= 0)]).tolist():
        here = fast & (unit == position)
        name = spec.units[position].unit
        ok, delicate = _plausible(x, op, analyte, name)
        bad = here & ~ok
        if bad.any():
            negative = bad & (x < 0) & (not spec.negative_is_plausibility)
            fits = np.zeros(n, bool)
            for other_unit in spec.units:
                if other_unit.unit != name:
                    ok_other, delicate_other = _plausible(x, op, analyte, other_unit.unit)
                    fits |= ok_other
                    delicate |= bad & ~negative & delicate_other
            warn[bad] = codes("implausible")
            warn[bad & fits] = codes("unit_suspect")
            warn[negative] = codes("negative")
        ambiguous = here & ok & ~np.isnan(other)
        if ambiguous.any():  # "12.500": the other reading (12500) plausible too → ambiguous_number, value used
            ok_other, delicate_other = _plausible(np.where(ambiguous, other, 0.0), op, analyte, name)
            warn[ambiguous & ok_other] = codes("ambiguous_number")
            delicate |= ambiguous & delicate_other
        kind[here & delicate] = 2
    return _ColumnCells(kind, texts, numbers, op, x, warn, unit, problem)


def _cells_with_units(texts, kind, op, x, numbers, other, unit, problem, col: Column, codes: Codes, decimal_comma):
    """Cells that carry their own unit ("19.164651 ng/mL"), split by column (parsing.split_unit_column)
    and read like any number: the unit of each distinct unit text is looked up once. Cells the split
    or the number reading cannot take (unknown units, exponents, grouping) stay kind 2."""
    idx = np.flatnonzero(kind == 2)
    sub = pc.take(texts, pa.array(idx))
    split, number_texts, unit_texts = split_unit_column(sub)
    if not split.any():
        return kind, op, x, numbers, other
    idx, number_texts, unit_texts = idx[split], number_texts.filter(pa.array(split)), unit_texts.filter(pa.array(split))
    encoded = pc.dictionary_encode(unit_texts)
    analyte = col.key or ""
    index = unit_index(analyte)
    col_spec = index.accepted.get(unit_key(col.unit or ""))
    cell_unit = codes("cell_unit")
    # per distinct unit text: (position or -1 refused, row problem) or None (left to the single-patient code)
    table: list[tuple[int, int] | None] = []
    for text in encoded.dictionary.to_pylist():
        ukey = unit_key(text) if len(text) <= MAX_UNIT_CHARS and is_cell_unit(text) else None
        found = index.accepted.get(ukey) if ukey is not None else None
        if found is not None:
            same = col_spec is not None and found.unit == col_spec.unit
            table.append((_unit_position(analyte, found.unit), 0 if same else cell_unit))
        elif ukey is not None and ukey in index.refused:
            table.append((-1, cell_unit))
        else:
            table.append(None)
    known = np.array([t is not None for t in table], bool)
    positions = np.array([t[0] if t else 0 for t in table], np.int8)
    problems = np.array([t[1] if t else 0 for t in table], np.int16)
    codes_of = _np(encoded.indices, np.int64)
    read = read_number_column(number_texts, decimal_comma=decimal_comma)
    take = known[codes_of] & (read.kind == 1)
    if not take.any():
        return kind, op, x, numbers, other
    rows = idx[take]
    kind, op, x, other = kind.copy(), op.copy(), x.copy(), other.copy()
    kind[rows], op[rows], x[rows], other[rows] = 1, read.op[take], read.x[take], read.other[take]
    unit[rows] = positions[codes_of[take]]
    problem[rows] = problems[codes_of[take]]
    where = np.full(len(texts), -1, np.int64)
    where[rows] = np.flatnonzero(take)
    filled = pa.array(np.where(where >= 0, where, 0))
    numbers = pc.if_else(pa.array(where >= 0), pc.take(read.numbers, filled), numbers)
    return kind, op, x, numbers, other


@cache
def unit_index_of(analyte: str) -> dict[str, str]:
    """unit_key(spelling) → accepted unit name."""
    spec = criteria().analytes.analytes[analyte]
    out: dict[str, str] = {}
    for u in spec.units:
        for alias in [u.unit, u.ucum, *u.aliases]:
            out[unit_key(alias)] = u.unit
    return out


def _unit_position(analyte: str, unit: str) -> int:
    return [u.unit for u in criteria().analytes.analytes[analyte].units].index(unit)


@cache
def needs_mantissa(analyte: str, unit: str) -> bool:
    """Whether values typed in `unit` need their exact decimal (exact conversions, MS score, ratio)."""
    needs = analyte_needs()[analyte]
    if needs.float_sensitive:
        return True
    return any(conversion(analyte, unit, t).kind == "exact" for t in needs.targets)


def lab_values(
    key: str, cols: tuple[Column, ...], texts: list[pa.Array], n: int, codes: Codes, decimal_comma: bool = False
) -> LabValues:
    single = len(cols) == 1  # cells with their own unit are read by columns in a lab's only column
    cells = [_column_cells(t, c, key, codes, decimal_comma, single) for c, t in zip(cols, texts, strict=True)]
    lab = LabValues(
        key=key,
        state=np.zeros(n, np.int8),
        warn=np.zeros(n, np.int16),
        problem=np.zeros(n, np.int16),
        op=np.zeros(n, np.int8),
        unit=np.zeros(n, np.int8),
        x=np.zeros(n),
        mant=np.zeros(n, np.int64),
        dec=np.zeros(n, np.int64),
        rep=np.zeros(n, bool),
    )
    kept = [codes(name) for name in sorted(VALUE_KEPT_CODES)]  # warned but in use (ambiguous_number)
    slow = np.zeros(n, bool)
    for c in cells:
        slow |= c.kind == 2
    filled = [c.kind != 0 for c in cells]
    chosen = np.full(n, -1, np.int8)
    for j in reversed(range(len(cells))):
        chosen[filled[j]] = j
    if len(cells) > 1:  # two filled cells for one lab: neither is used (convert_row's rule)
        distinct = np.zeros(n, bool)
        units_differ = np.zeros(n, bool)
        ukeys = [unit_key(c.unit or "") for c in cols]
        for a in range(len(cells)):
            for b in range(a + 1, len(cells)):
                both = filled[a] & filled[b]
                if not both.any():
                    continue
                if ukeys[a] != ukeys[b]:
                    units_differ |= both
                    distinct |= both
                else:
                    distinct |= both & _np(pc.not_equal(cells[a].texts, cells[b].texts), bool)
        conflict = distinct & ~slow
        lab.problem[conflict & units_differ] = codes("two_units")
        lab.problem[conflict & ~units_differ] = codes("two_values")
        chosen[conflict] = -1
    chosen[slow] = -1
    for j, c in enumerate(cells):
        rows = chosen == j
        if not rows.any():
            continue
        known = rows & (c.unit >= 0)
        in_use = np.isin(c.warn, [0, *kept])
        lab.warn = np.where(rows, c.warn, lab.warn)
        lab.state = np.where(rows, np.where(in_use, 1, 2), lab.state).astype(np.int8)
        lab.op = np.where(rows, c.op, lab.op)
        lab.x = np.where(rows, c.x, lab.x)
        lab.unit = np.where(known, c.unit, lab.unit).astype(np.int8)
        lab.problem = np.where(rows & (c.problem > 0), c.problem, lab.problem).astype(np.int16)
        spec_units = criteria().analytes.analytes[key].units
        if any(needs_mantissa(key, spec_units[p].unit) for p in np.unique(c.unit[known]).tolist()):
            mant, dec = _mantissa(c.numbers, c.x, c.kind == 1)
            lab.mant = np.where(known, mant, lab.mant)
            lab.dec = np.where(known, dec, lab.dec)
            lab.rep |= known
    slow |= _convert_targets(lab)
    _decide_slow(lab, cols, [c.texts for c in cells], slow, codes, decimal_comma)
    return lab


def _convert_targets(lab: LabValues) -> np.ndarray:
    """Values in every unit an item reads; returns the rows float64 cannot decide."""
    needs = analyte_needs()[lab.key]
    spec = criteria().analytes.analytes[lab.key]
    n = len(lab.state)
    delicate = np.zeros(n, bool)
    used = lab.state == 1
    positions = [(p, u, used & (lab.unit == p)) for p, u in enumerate(spec.units)]
    positions = [(p, u, rows) for p, u, rows in positions if rows.any()]
    for target in sorted(needs.targets):
        critical = sorted(needs.critical.get(target, ()))
        if len(positions) == 1 and conversion(lab.key, positions[0][1].unit, target).kind == "identity":
            lab.values[target] = lab.x  # the common case: typed in the item's unit
            continue
        y = np.zeros(n)
        for _position, source, rows in positions:
            conv = conversion(lab.key, source.unit, target)
            if conv.kind == "identity":
                y = np.where(rows, lab.x, y)
                continue
            idx = np.flatnonzero(rows)
            if conv.kind == "exact":
                mant, exponent = lab.mant[idx], lab.dec[idx] + conv.k
                ok = (np.abs(mant) * float(conv.p) < 10.0**_MAX_DIGITS) & (exponent <= 22) & (exponent >= -22)
                numerator = (mant * conv.p).astype(np.float64)  # exact: below 10^15
                y[idx] = np.where(
                    exponent >= 0,
                    numerator / np.power(10.0, np.clip(exponent, 0, 22)),
                    numerator * np.power(10.0, np.clip(-exponent, 0, 22)),
                )
                delicate[idx[~ok]] = True
                continue
            value = (lab.x[idx] + conv.offset_in) * conv.factor - conv.offset_out
            y[idx] = value
            close = np.zeros(len(idx), bool)
            for t in critical:
                close |= near(value, t)
            if target in needs.float_sensitive:
                close |= lab.op[idx] != 0
            delicate[idx[close]] = True
        lab.values[target] = y
    return delicate


def _decide_slow(
    lab: LabValues, cols: tuple[Column, ...], texts: list[pa.Array], slow: np.ndarray, codes: Codes, decimal_comma: bool
):
    """Cells the column operations leave to the single-patient code: once per distinct cell text."""
    rows = np.flatnonzero(slow)
    lab.slow_cells = len(rows)
    if not len(rows):
        return
    sub = [pc.take(t, pa.array(rows)) for t in texts]
    joined = sub[0] if len(sub) == 1 else pc.binary_join_element_wise(*sub, pa.scalar("\x1f", pa.large_string()))
    encoded = pc.dictionary_encode(joined)
    index = _np(encoded.indices, np.int64)
    distinct = encoded.dictionary.to_pylist()
    targets = sorted(analyte_needs()[lab.key].targets)
    m = len(distinct)
    problem = np.zeros(m, np.int16)
    warn = np.zeros(m, np.int16)
    state = np.zeros(m, np.int8)
    op = np.zeros(m, np.int8)
    unit = np.zeros(m, np.int8)
    x = np.zeros(m)
    mant = np.zeros(m, np.int64)
    dec = np.zeros(m, np.int64)
    rep = np.zeros(m, bool)
    values = {t: np.zeros(m) for t in targets}
    decimals: list[tuple[Decimal, str] | None] = [None] * m
    for i, text in enumerate(distinct):
        cells = (text,) if len(cols) == 1 else tuple(text.split("\x1f"))
        p, w, fact = _slow_lab(lab.key, cols, cells, targets, decimal_comma)
        problem[i], warn[i] = codes(p), codes(w)
        if fact is None:
            state[i] = 2 if w else 0
            continue
        value, unit_name, op_name, converted = fact
        state[i], op[i], unit[i], x[i] = 1, OPS.index(op_name), _unit_position(lab.key, unit_name), float(value)
        sign, digits, exponent = value.as_tuple()
        whole = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        if exponent > 0:
            whole, exponent = whole * 10**exponent, 0
        if len(digits) <= _MAX_DIGITS and abs(whole) < 10**_MAX_DIGITS and -exponent <= 22:
            mant[i], dec[i], rep[i] = whole, -exponent, True
        decimals[i] = (value, unit_name)
        for target, y in zip(targets, converted, strict=True):
            values[target][i] = y
    for target in targets:
        if lab.values[target] is lab.x:
            lab.values[target] = lab.x.copy()
        lab.values[target][rows] = values[target][index]
    lab.problem[rows], lab.warn[rows], lab.state[rows] = problem[index], warn[index], state[index]
    lab.op[rows], lab.unit[rows], lab.x[rows] = op[index], unit[index], x[index]
    lab.mant[rows], lab.dec[rows], lab.rep[rows] = mant[index], dec[index], rep[index]
    for row, i in zip(rows.tolist(), index.tolist(), strict=True):
        if decimals[i] is not None and not rep[i]:
            lab.decimals[row] = decimals[i]


def _slow_lab(key: str, cols: tuple[Column, ...], cells: tuple[str, ...], targets: list[str], decimal_comma: bool):
    """One lab of one row through the single-patient code: (row problem, warning code, fact)."""
    result = convert_row({c.name: t for c, t in zip(cols, cells, strict=True)}, ColumnMap(columns=list(cols)))
    problem = result.problems[0].code if result.problems else None
    measurement = result.data["labs"].get(key)
    if measurement is None:
        return problem, None, None
    data = {"labs": {key: measurement}, "decimal_comma": decimal_comma}
    facts, warnings = normalise(PatientInput.model_validate(data))
    fact = facts.labs.get(key)
    warn = warnings[0].code if warnings else None
    if fact is None:
        return problem, warn, None
    converted = tuple(as_float(convert(fact.parsed.value, fact.unit, unit_spec(key, t))) for t in targets)
    return problem, warn, (fact.parsed.value, fact.unit.unit, fact.parsed.op, converted)


# ------------------------------------------------------------------------------------- context


@dataclass(slots=True)
class ContextValues:
    flags: dict[str, np.ndarray]  # int8: 1 yes, 0 no, -1 not known
    numbers: dict[str, np.ndarray]  # float64, NaN when not entered or left out
    number_warn: dict[str, np.ndarray]  # int16 warning code
    problems: dict[str, np.ndarray]  # int16 row-problem code per context field
    disease: np.ndarray  # int8 index into DISEASES
    biologic: np.ndarray


def _context_cells(key: str, cols: tuple[Column, ...], texts: list[pa.Array], n: int, codes: Codes):
    """(values as a Python list per distinct cell tuple, index per row) through convert_row."""
    if len(cols) == 1:
        encoded = pc.dictionary_encode(texts[0])
        dictionary = encoded.dictionary.to_pylist()
        index = _np(encoded.indices, np.int64)
        keys = [(t,) for t in dictionary]
    else:
        joined = pc.binary_join_element_wise(*texts, pa.scalar("\x1f", pa.large_string()))
        encoded = pc.dictionary_encode(joined)
        index = _np(encoded.indices, np.int64)
        keys = [tuple(s.split("\x1f")) for s in encoded.dictionary.to_pylist()]
    results = []
    cmap = ColumnMap(columns=list(cols))
    for cells in keys:
        rr = convert_row({c.name: t for c, t in zip(cols, cells, strict=True)}, cmap)
        problem = rr.problems[0].code if rr.problems else None
        results.append((rr.data.get("context", {}).get(key), codes(problem)))
    return results, index


def context_values(plan: BatchPlan, frame_texts: dict[str, pa.Array], n: int, codes: Codes) -> ContextValues:
    comma = plan.decimal_comma
    flags: dict[str, np.ndarray] = {}
    numbers: dict[str, np.ndarray] = {}
    number_warn: dict[str, np.ndarray] = {}
    problems: dict[str, np.ndarray] = {}
    enums: dict[str, np.ndarray] = {}
    for key, cols in plan.context.items():
        texts = [frame_texts[c.name] for c in cols]
        if key in NUMERIC_CONTEXT_FIELDS:
            numbers[key], number_warn[key], problems[key] = _numbers(key, cols, texts, n, codes, comma)
            continue
        results, index = _context_cells(key, cols, texts, n, codes)
        problems[key] = np.array([p for _, p in results], np.int16)[index] if results else np.zeros(n, np.int16)
        if key in BOOLEAN_FIELDS:
            table = np.array([-1 if v is None else int(bool(v)) for v, _ in results] or [-1], np.int8)
            flags[key] = table[index] if results else np.full(n, -1, np.int8)
        else:
            choices = DISEASES if key == "underlying_disease" else ("none", "il1", "il6", "other", "unknown")
            table = np.array([choices.index(v) if v is not None else choices.index("unknown") for v, _ in results])
            enums[key] = table[index].astype(np.int8) if results else np.full(n, choices.index("unknown"), np.int8)
    for key in BOOLEAN_FIELDS:
        flags.setdefault(key, np.full(n, -1, np.int8))
    for key in NUMERIC_CONTEXT_FIELDS:
        numbers.setdefault(key, np.full(n, np.nan))
        number_warn.setdefault(key, np.zeros(n, np.int16))
    disease = enums.get("underlying_disease", np.full(n, DISEASES.index("unknown"), np.int8))
    biologic = enums.get("biologic_therapy", np.full(n, 4, np.int8))
    return ContextValues(flags, numbers, number_warn, problems, disease, biologic)


def _numbers(key: str, cols: tuple[Column, ...], texts: list[pa.Array], n: int, codes: Codes, decimal_comma: bool):
    """A numeric context field: plain numbers by columns, anything else through the core."""
    plaus = criteria().analytes.context_numbers[key].plausible
    values = np.full(n, np.nan)
    warn = np.zeros(n, np.int16)
    problem = np.zeros(n, np.int16)
    if len(cols) == 1:
        read = read_number_column(texts[0], decimal_comma=decimal_comma)
        plain = (read.kind == 1) & (read.op == 0) & np.isnan(read.other)  # bounds and "12.500": the core
        if plain.any():
            x = read.x
            negative = plain & (x < 0)
            implausible = plain & ~negative & ~((x >= plaus.min) & (x <= plaus.max))
            warn[negative] = codes("negative")
            warn[implausible] = codes("implausible")
            good = plain & ~negative & ~implausible
            values[good] = x[good]
        slow = (read.kind != 0) & ~plain
    else:
        slow = np.zeros(n, bool)
        for t in texts:
            slow |= ~_np(pc.equal(pc.binary_length(t), 0), bool)
    rows = np.flatnonzero(slow)
    if len(rows):
        sub = [pc.take(t, pa.array(rows)).to_pylist() for t in texts]
        cmap = ColumnMap(columns=list(cols))
        memo: dict[tuple[str, ...], tuple[float, int, int]] = {}
        for i, row in enumerate(rows.tolist()):
            cells = tuple(s[i] for s in sub)
            found = memo.get(cells)
            if found is None:
                rr = convert_row({c.name: c_t for c, c_t in zip(cols, cells, strict=True)}, cmap)
                p = codes(rr.problems[0].code) if rr.problems else 0
                raw = rr.data.get("context", {}).get(key)
                value, w = math.nan, 0
                if raw is not None:
                    data = {"context": {key: raw}, "decimal_comma": decimal_comma}
                    facts, warnings = normalise(PatientInput.model_validate(data))
                    value = facts.numbers.get(key, math.nan)
                    w = codes(warnings[0].code) if warnings else 0
                found = memo[cells] = (value, w, p)
            values[row], warn[row], problem[row] = found
    return values, warn, problem


# --------------------------------------------------------------------------------- instruments


@dataclass(slots=True)
class Result:
    status: np.ndarray  # int8 0/1/2
    score: np.ndarray | None = None  # float64, NaN = null
    count_met: np.ndarray | None = None
    score_min: np.ndarray | None = None
    score_max: np.ndarray | None = None


def _result(verdict) -> Result:
    """A kernel verdict over the rows as the batch's output columns need it."""
    out = Result(np.asarray(verdict.status, np.int8))
    if verdict.score is not None:
        out.score = np.asarray(verdict.score, np.float64)
    if verdict.count_met is not None:
        out.count_met = verdict.count_met
    low_high = verdict.score_range if verdict.score_range is not None else verdict.score_bounds
    if low_high is not None:
        out.score_min, out.score_max = low_high
    return out


# ---------------------------------------------------------------------------------- whole frame


@dataclass(slots=True)
class Screened:
    results: dict[str, Result]
    mas_signal: np.ndarray  # int8 index into SIGNAL_NAMES
    other_met: np.ndarray  # int8 bit set over policy mas_instruments (other_population_names())
    phlh_signal: np.ndarray
    warnings: pa.Array  # large_string: "field:code; field:code"
    slow_cells: int
    explained: dict[str, pa.Array] | None = None  # `<id>_missing`, `next_tests` (plan.explain)


def _conflicts(f: CohortValues, codes: Codes) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """`facts._conflicts` by columns, in the same order."""
    conv = criteria().analytes.fever_convention
    febrile_conflict = np.zeros(f.n, np.int16)
    if "temperature" in f.labs:
        iv = f.lab_interval("temperature", conv.unit)
        hit = (f.flag("febrile") == 0) & f.entered("temperature") & (iv.lo >= conv.threshold)
        febrile_conflict[hit] = codes("conflict")
    onset, age = f.number("age_at_onset_years"), f.number("age_years")
    with np.errstate(invalid="ignore"):
        age_conflict = np.where(onset > age, codes("conflict"), 0).astype(np.int16)
        organ_conflicts = [
            np.where((f.flag(organ) == 0) & (f.number(f"{organ}_cm") > 0), codes("conflict"), 0).astype(np.int16)
            for organ in ORGAN_FIELDS
        ]
    return febrile_conflict, age_conflict, organ_conflicts


def _join_warnings(slots: list[tuple[str, np.ndarray]], codes: Codes, n: int) -> pa.Array:
    """ "field:code; field:code" per row, built by Arrow kernels over the rows that have any ("" else)."""
    label_type = pa.large_string()
    slots = [(name, code) for name, code in slots if code.any()]
    if not slots:
        return pa.array(np.full(n, ""), label_type)
    warned = np.zeros(n, bool)
    for _, code in slots:
        warned |= code > 0
    rows = np.flatnonzero(warned)
    # A leading empty piece that is never null: pyarrow 26 drops rows whose pieces are all null
    # when joining with null_handling="skip"; the leading separator is trimmed afterwards.
    pieces = [pa.array(np.full(len(rows), ""), label_type)]
    for name, code in slots:
        labels = pa.array([None] + [f"{name}:{c}" for c in codes.names[1:]], label_type)
        pieces.append(pc.take(labels, pa.array(code[rows].astype(np.int32))))
    joined = pc.binary_join_element_wise(*pieces, pa.scalar(WARNING_SEPARATOR, label_type), null_handling="skip")
    joined = pc.utf8_ltrim(joined, characters=WARNING_SEPARATOR)
    where = np.full(n, len(rows), np.int64)  # rows without warnings point at a final ""
    where[rows] = np.arange(len(rows))
    return pc.take(pa.concat_arrays([joined, pa.array([""], label_type)]), pa.array(where))


def screen_arrays(plan: BatchPlan, texts: dict[str, pa.Array], n: int) -> Screened:
    """The columnar engine over cell texts (column name → text array)."""
    codes = Codes()
    labs = {
        key: lab_values(key, cols, [texts[c.name] for c in cols], n, codes, plan.decimal_comma)
        for key, cols in plan.labs.items()
    }
    ctx = context_values(plan, texts, n, codes)
    f = CohortValues(n, labs, ctx.flags, ctx.numbers, ctx.disease, explain=plan.explain)
    compiled = instruments()
    verdicts = {iid: instrument.evaluate(f) for iid, instrument in compiled.items()}
    results = {iid: _result(verdict) for iid, verdict in verdicts.items()}
    statuses = {iid: r.status for iid, r in results.items()}
    mas = mas_signal(f.ops, statuses, ctx.disease).astype(np.int8)
    phlh = phlh_signal(f.ops, statuses).astype(np.int8)
    other = np.asarray(other_population_met(f.ops, statuses, ctx.disease), np.int8)
    explained = explain_columns(f, compiled, verdicts, ctx.disease, phlh) if plan.explain else None

    febrile_conflict, age_conflict, organ_conflicts = _conflicts(f, codes)
    slots: list[tuple[str, np.ndarray]] = [(key, labs[key].warn) for key in plan.lab_order]
    slots += [(name, ctx.number_warn[name]) for name in NUMERIC_CONTEXT_FIELDS]
    slots += [("febrile", febrile_conflict), ("age_at_onset_years", age_conflict)]
    slots += list(zip(ORGAN_FIELDS, organ_conflicts, strict=True))
    for kind, key in plan.target_order:  # row problems, in convert_row's order
        slots.append((key, labs[key].problem if kind == "lab" else ctx.problems[key]))
    warnings = _join_warnings(slots, codes, n)
    slow = sum(lab.slow_cells for lab in labs.values())
    return Screened(results, mas, other, phlh, warnings, slow, explained)


@per_criteria
def other_population_names() -> tuple[str, ...]:
    """The `other_population_met` cell for each bit set: the ids in contract order, ";"-joined."""
    ids = mas_instruments()
    return tuple(
        OTHER_SEPARATOR.join(iid for bit, iid in enumerate(ids) if code >> bit & 1) for code in range(1 << len(ids))
    )


def _dictionary(codes: np.ndarray, names: tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(list(names)))


def _numbers_array(values: np.ndarray | None, n: int, integer: bool) -> pa.Array:
    if values is None:
        return pa.nulls(n, pa.int64() if integer else pa.float64())
    mask = np.isnan(values)
    if integer:
        return pa.array(np.where(mask, 0, values).astype(np.int64), mask=mask)
    return pa.array(values, mask=mask, type=pa.float64())


def results_arrays(screened: Screened) -> dict[str, pa.Array]:
    """The output columns (contract "Batch" plus extensions) as Arrow arrays."""
    cols: dict[str, pa.Array] = {}
    ranged = range_instruments()
    for iid, instrument in instruments().items():
        r = screened.results[iid]
        n = len(r.status)
        integer = instrument.integer_points
        cols[f"{iid}_status"] = _dictionary(r.status, STATUS_NAMES)
        cols[f"{iid}_score"] = _numbers_array(r.score, n, integer)
        count = None if r.count_met is None else r.count_met.astype(np.float64)
        cols[f"{iid}_count_met"] = _numbers_array(count, n, True)
        if iid in ranged:
            cols[f"{iid}_score_min"] = _numbers_array(r.score_min, n, integer)
            cols[f"{iid}_score_max"] = _numbers_array(r.score_max, n, integer)
        if screened.explained is not None:
            cols[f"{iid}_missing"] = screened.explained[f"{iid}_missing"]
    cols["mas_signal"] = _dictionary(screened.mas_signal, SIGNAL_NAMES)
    cols["other_population_met"] = _dictionary(screened.other_met, other_population_names())
    cols["phlh_signal"] = _dictionary(screened.phlh_signal, PHLH_NAMES)
    cols["warnings"] = screened.warnings
    if screened.explained is not None:
        cols["next_tests"] = screened.explained["next_tests"]
    return cols


def results_frame(screened: Screened, index: pd.Index) -> pd.DataFrame:
    nullable = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}
    frame = pa.table(results_arrays(screened)).to_pandas(types_mapper=nullable.get)
    frame.index = index
    return frame


def screened_counts(screened: Screened) -> dict[str, int]:
    """Status, signal and warning counts of one screened piece (summable)."""
    counts = {"rows": len(screened.mas_signal)}
    for iid in instrument_ids():
        found = np.bincount(screened.results[iid].status, minlength=3)
        for position, name in enumerate(STATUS_NAMES):
            counts[f"{iid}:{name}"] = int(found[position])
    for key, values, names in (
        ("mas_signal", screened.mas_signal, SIGNAL_NAMES),
        ("phlh_signal", screened.phlh_signal, PHLH_NAMES),
    ):
        found = np.bincount(values, minlength=len(names))
        for position, name in enumerate(names):
            counts[f"{key}:{name}"] = int(found[position])
    for bit, iid in enumerate(mas_instruments()):
        counts[f"other_population_met:{iid}"] = int(np.count_nonzero(screened.other_met & (1 << bit)))
    blank = pc.sum(pc.equal(screened.warnings, "")).as_py() or 0
    counts["rows_with_warnings"] = len(screened.warnings) - int(blank)
    return counts


def screen_frame(
    df: pd.DataFrame,
    *,
    unknown: Literal["error", "ignore"] = "error",
    require_id: bool = True,
    explain: bool = False,
    decimal_comma: bool = False,
) -> pd.DataFrame:
    """Screen every row of a "Batch" table: the input columns plus every instrument's result.

    Adds `<id>_status`, `<id>_score`, `<id>_count_met` for the 8 instruments, `<id>_score_min` /
    `<id>_score_max` for HScore, MH score (score_range) and MS score (score_bounds), `mas_signal`,
    `phlh_signal` and `warnings` ("field:code; field:code", input warnings as `assess()` gives them,
    then column problems such as two_units or bad_value). With `explain`, also each instrument's
    `<id>_missing` and the row's `next_tests` (";"-joined input keys, as `assess()` gives them).
    Raises BatchError when the table cannot be screened (no id column, unknown columns unless
    unknown="ignore"). `decimal_comma`: numbers in cells use "," as the decimal mark and "." between
    thousands (contract "Number spelling").
    """
    plan = plan_columns(
        list(df.columns), unknown=unknown, require_id=require_id, explain=explain, decimal_comma=decimal_comma
    )
    return screen_with_plan(df, plan)


BLOCK_ROWS = 1 << 17  # rows screened together: arrays stay cache-sized and memory is reused
THREADS = min(4, os.cpu_count() or 1)


def screen_blocks(plan: BatchPlan, texts: dict[str, pa.Array], n: int, threads: int | None = None) -> Screened:
    """screen_arrays over row blocks, on a small thread pool (the kernels release the GIL)."""
    starts = list(range(0, n, BLOCK_ROWS)) or [0]
    if len(starts) == 1:
        return screen_arrays(plan, texts, n)

    def block(start: int) -> Screened:
        size = min(BLOCK_ROWS, n - start)
        return screen_arrays(plan, {k: v.slice(start, size) for k, v in texts.items()}, size)

    workers = min(threads or THREADS, len(starts))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(block, starts))
    else:
        parts = [block(start) for start in starts]
    return _concat(parts)


def _concat(parts: list[Screened]) -> Screened:
    def cat(get):
        values = [get(p) for p in parts]
        if values[0] is None:
            return None
        return pa.concat_arrays(values) if isinstance(values[0], pa.Array) else np.concatenate(values)

    results = {}
    for iid in parts[0].results:
        results[iid] = Result(
            cat(lambda p, i=iid: p.results[i].status),
            score=cat(lambda p, i=iid: p.results[i].score),
            count_met=cat(lambda p, i=iid: p.results[i].count_met),
            score_min=cat(lambda p, i=iid: p.results[i].score_min),
            score_max=cat(lambda p, i=iid: p.results[i].score_max),
        )
    explained = None
    if parts[0].explained is not None:
        explained = {k: cat(lambda p, k=k: p.explained[k]) for k in parts[0].explained}
    return Screened(
        results,
        cat(lambda p: p.mas_signal),
        cat(lambda p: p.other_met),
        cat(lambda p: p.phlh_signal),
        cat(lambda p: p.warnings),
        sum(p.slow_cells for p in parts),
        explained,
    )


def screen_with_plan(df: pd.DataFrame, plan: BatchPlan, threads: int | None = None) -> pd.DataFrame:
    n = len(df)
    used = {c.name for cols in (*plan.labs.values(), *plan.context.values()) for c in cols}
    texts = {name: cell_texts(df[name]) for name in used}
    screened = screen_blocks(plan, texts, n, threads)
    out = results_frame(screened, df.index)
    keep = df.drop(columns=[c for c in out.columns if c in df.columns])
    result = pd.concat([keep.reset_index(drop=True), out.reset_index(drop=True)], axis=1)
    result.index = df.index
    result.attrs["slow_cells"] = screened.slow_cells
    return result


@cache
def _plan(names: tuple[str, ...], unknown: str, require_id: bool, explain: bool, decimal_comma: bool) -> BatchPlan:
    return plan_columns(names, unknown=unknown, require_id=require_id, explain=explain, decimal_comma=decimal_comma)


def screen_partition(
    df: pd.DataFrame,
    unknown: str = "error",
    require_id: bool = True,
    threads: int = 1,
    explain: bool = False,
    decimal_comma: bool = False,
) -> pd.DataFrame:
    """The per-partition function (file chunks, Dask partitions): screen_frame on one piece."""
    plan = _plan(tuple(map(str, df.columns)), unknown, require_id, explain, decimal_comma)
    return screen_with_plan(df, plan, threads)


# -------------------------------------------------------------------------------------- summary


def _value_counts(series: pd.Series, names: tuple[str, ...]) -> list[int]:
    if isinstance(series.dtype, pd.CategoricalDtype) and list(series.cat.categories) == list(names):
        return np.bincount(series.cat.codes.to_numpy()[series.cat.codes.to_numpy() >= 0], minlength=len(names)).tolist()
    values = series.astype("str")
    return [int((values == name).sum()) for name in names]


def partition_counts(df: pd.DataFrame) -> pd.DataFrame:
    """One row of counts for a screened frame (summable across chunks and partitions)."""
    counts: dict[str, int] = {"rows": len(df)}
    for iid in instrument_ids():
        for name, k in zip(STATUS_NAMES, _value_counts(df[f"{iid}_status"], STATUS_NAMES), strict=True):
            counts[f"{iid}:{name}"] = int(k)
    for column, names in (("mas_signal", SIGNAL_NAMES), ("phlh_signal", PHLH_NAMES)):
        for name, k in zip(names, _value_counts(df[column], names), strict=True):
            counts[f"{column}:{name}"] = int(k)
    other = _value_counts(df["other_population_met"], other_population_names())
    for bit, iid in enumerate(mas_instruments()):
        counts[f"other_population_met:{iid}"] = sum(k for code, k in enumerate(other) if code & (1 << bit))
    warned = df["warnings"].astype("str").fillna("")
    counts["rows_with_warnings"] = int((warned != "").sum())
    return pd.DataFrame([counts])


def summarise_counts(counts: pd.DataFrame | pd.Series | dict) -> dict:
    """Turn summed counts into the summary dict (see summarise_results)."""
    total = counts if isinstance(counts, dict) else counts.sum() if counts.ndim == 2 else counts
    out: dict[str, Any] = {
        "rows": int(total["rows"]),
        "status": {iid: {name: int(total[f"{iid}:{name}"]) for name in STATUS_NAMES} for iid in instrument_ids()},
        "mas_signal": {name: int(total[f"mas_signal:{name}"]) for name in SIGNAL_NAMES},
        "phlh_signal": {name: int(total[f"phlh_signal:{name}"]) for name in PHLH_NAMES},
        "other_population_met": {iid: int(total[f"other_population_met:{iid}"]) for iid in mas_instruments()},
        "rows_with_warnings": int(total["rows_with_warnings"]),
    }
    return out


def summarise_results(df: pd.DataFrame) -> dict:
    """Summary of a screened frame: rows, per-instrument status counts, signals, rows with warnings,
    and the count of each warning code ("field:code")."""
    summary = summarise_counts(partition_counts(df))
    warned = df["warnings"].astype("str").fillna("")
    codes = warned[warned != ""].str.split(WARNING_SEPARATOR).explode()
    summary["warnings"] = {str(k): int(v) for k, v in codes.value_counts().sort_index().items()}
    return summary


# ------------------------------------------------------------------------------------------- files

AUTO_CHUNK_BYTES = 256 << 20  # CSV files above this are streamed in chunks (bounded memory)
DEFAULT_CHUNK_ROWS = 500_000


class BatchInputError(BatchError):
    """The input file cannot be read."""


def _is_gzip(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(".gz")


def refuse_same_file(in_path: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """The output must not be the input (by any name: a relative path, a symlink, a hard link):
    writing it would destroy what is being read."""
    same = os.path.realpath(in_path) == os.path.realpath(out_path)
    with contextlib.suppress(OSError):  # an output that does not exist yet is not the input
        same = same or (os.path.exists(out_path) and os.path.samefile(in_path, out_path))
    if same:
        raise BatchInputError(f"{out_path} is the input file ({in_path}); write the results to another file")


def file_format(path: str | os.PathLike, given: str = "auto") -> str:
    if given != "auto":
        return given
    name = str(path).lower().rstrip("/")
    if name.endswith((".parquet", ".pq", ".parq")):
        return "parquet"
    if name.endswith((".csv", ".tsv", ".txt", ".csv.gz")):
        return "csv"
    raise BatchInputError(
        f"{path}: cannot tell the format from the name; use a .csv or .parquet file (or --format-in/--format-out)"
    )


def _csv_header(path: str | os.PathLike) -> tuple[list[str], str]:
    """The header row and the delimiter (comma, semicolon or tab, as columns.read_table guesses)."""
    import csv

    try:
        opener = gzip.open if _is_gzip(path) else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            first = fh.readline(1 << 20)
    except OSError as exc:
        raise BatchInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BatchInputError(f"cannot read {path}: not UTF-8 text") from exc
    except (gzip.BadGzipFile, EOFError) as exc:
        raise BatchInputError(f"cannot read {path}: not a gzip file, or a damaged one") from exc
    if not first.endswith("\n") and len(first) >= 1 << 20:
        raise BatchInputError(f"{path}: the header line is longer than 1 MB; not a table in the 'Batch' layout")
    if not first.strip():
        raise BatchInputError(f"{path}: the CSV is empty (no header row)")
    delimiter = max((",", ";", "\t"), key=first.count) if any(d in first for d in ",;\t") else ","
    names = next(csv.reader([first], delimiter=delimiter))
    return names, delimiter


def _csv_options(names: list[str], delimiter: str, block_size: int | None = None):
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(block_size=block_size) if block_size else pacsv.ReadOptions()
    parse = pacsv.ParseOptions(delimiter=delimiter)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.large_string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    return read, parse, convert


def _arrow_error(path, exc: Exception) -> BatchInputError:
    text = str(exc).split("\n")[0]
    if "invalid UTF8" in text:
        text = "not UTF-8 text"
    return BatchInputError(f"cannot read {path}: {text}")


def read_csv_table(path: str | os.PathLike) -> pa.Table:
    """A whole CSV as text columns (empty cells are "", nothing is guessed), read on all cores."""
    import pyarrow.csv as pacsv

    names, delimiter = _csv_header(path)
    read, parse, convert = _csv_options(names, delimiter)
    try:
        return pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _arrow_error(path, exc) from exc


def iter_table_chunks(path: str | os.PathLike, fmt: str, chunk_rows: int | None):
    """(column names, total size for progress, iterator of (pa.Table, progress done))."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise _arrow_error(path, exc) from exc
        total = pf.metadata.num_rows
        names = pf.schema_arrow.names
        if chunk_rows is None:
            chunk_rows = parquet_chunk_rows(path, total)

        def parquet_chunks():
            done = 0
            if chunk_rows is None:
                table = pf.read()
                yield table, table.num_rows
                return
            for batch in pf.iter_batches(batch_size=chunk_rows):
                done += batch.num_rows
                yield pa.Table.from_batches([batch]), done

        return names, total, parquet_chunks()
    import pyarrow.csv as pacsv

    names, delimiter = _csv_header(path)
    size = os.path.getsize(path)
    if chunk_rows is None and size <= AUTO_CHUNK_BYTES and not _is_gzip(path):

        def whole():
            yield read_csv_table(path), size

        return names, size, whole()
    rows_per_chunk = chunk_rows or DEFAULT_CHUNK_ROWS
    read, parse, convert = _csv_options(names, delimiter, block_size=8 << 20)

    def csv_chunks():
        # A .csv.gz file is always streamed: its decoded size is not known before it is read, and
        # memory stays bounded by the chunk whatever it is. Progress counts compressed bytes.
        try:
            source = pa.OSFile(str(path))
            stream = pa.CompressedInputStream(source, "gzip") if _is_gzip(path) else source
            reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            pending = reader.schema.empty_table()
            yielded = False
            for batch in reader:
                pending = pa.concat_tables([pending, pa.Table.from_batches([batch])])
                while pending.num_rows >= rows_per_chunk:
                    yield pending.slice(0, rows_per_chunk), min(source.tell(), size)
                    pending, yielded = pending.slice(rows_per_chunk), True
            if pending.num_rows or not yielded:
                yield pending, size
        except (pa.ArrowInvalid, OSError) as exc:
            raise _arrow_error(path, exc) from exc

    return names, size, csv_chunks()


def parquet_chunk_rows(path: str | os.PathLike, rows: int) -> int | None:
    """None (read whole) when the file decodes to at most AUTO_CHUNK_BYTES, else rows per chunk so each
    chunk does. From the metadata and dictionaries (mas_screen.kernel.inputs.decoded_size), before any cell is
    decoded: a small file can decode to gigabytes (issue 13, finding 3)."""
    from mas_screen.kernel.inputs.decoded_size import DecodedBudget, DecodedSizeError, parquet_estimate

    unlimited = DecodedBudget(max_bytes=1 << 62, max_cells=1 << 62, max_columns=1 << 30, max_footer_bytes=1 << 30)
    try:
        estimate = parquet_estimate(path, unlimited)
    except (DecodedSizeError, pa.ArrowException, OSError):
        return None  # the reader words what is wrong with the file
    if estimate.bytes <= AUTO_CHUNK_BYTES or rows <= 1:
        return None
    return max(1, int(rows * AUTO_CHUNK_BYTES / estimate.bytes))


def screen_table(table: pa.Table, plan: BatchPlan, threads: int | None = 1) -> tuple[pa.Table, dict[str, int]]:
    """Screen an Arrow table (the file path: no pandas): input columns plus result columns, and counts."""
    used = {c.name for cols in (*plan.labs.values(), *plan.context.values()) for c in cols}
    texts = {name: column_texts(table.column(name)) for name in used}
    screened = screen_blocks(plan, texts, table.num_rows, threads)
    outputs = results_arrays(screened)
    keep = [name for name in table.column_names if name not in outputs]
    result = pa.table({**{name: table.column(name) for name in keep}, **outputs})
    counts = screened_counts(screened)
    counts["slow_cells"] = screened.slow_cells
    return result, counts


def _for_csv(table: pa.Table) -> pa.Table:
    """The CSV writer takes plain columns: categories (and anything nested) as text; formula-like
    cells (=, +, -, @ not starting a plain number) get a leading ' as on every other CSV export."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type) or not (
            pa.types.is_primitive(f.type) or pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ):
            table = table.set_column(i, f.name, pc.cast(table.column(i), pa.large_string()))
    for i, f in enumerate(table.schema):  # a cell a spreadsheet would run as a formula is quoted
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            table = table.set_column(i, f.name, neutralise_arrow(table.column(i)))
    return table


PROVENANCE_KEY = b"mas_screen.provenance"


def provenance_stamp() -> dict:
    """The provenance of a batch run (no input recorded: the rows are the input)."""
    from mas_screen.criteria.provenance import stamp

    return stamp()


def with_provenance(schema: pa.Schema, provenance: dict) -> pa.Schema:
    """The schema with the run's provenance as JSON under the key `mas_screen.provenance`."""
    metadata = dict(schema.metadata or {})
    metadata[PROVENANCE_KEY] = json.dumps(provenance, sort_keys=True).encode("utf-8")
    return schema.with_metadata(metadata)


class _Writer:
    """Writes screened pieces to one CSV or Parquet file, all with the first piece's schema."""

    def __init__(self, path: str | os.PathLike, fmt: str, low_cardinality: tuple[str, ...] = ()):
        self.path, self.fmt = path, fmt
        self.low_cardinality = set(low_cardinality) | {"warnings", "time"}
        self.writer = None
        self.schema: pa.Schema | None = None
        self.provenance = provenance_stamp()  # one stamp per output file

    def write(self, table: pa.Table) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        if self.fmt == "csv":
            table = _for_csv(table)
        if self.writer is None:
            self.schema = table.schema
            if self.fmt == "parquet":
                self.schema = with_provenance(self.schema, self.provenance)
            try:
                if self.fmt == "parquet":
                    # Dictionary pages for categorical and context columns, plain pages for the
                    # (mostly distinct) lab texts: the same file, written faster.
                    low = [
                        f.name for f in self.schema if pa.types.is_dictionary(f.type) or f.name in self.low_cardinality
                    ]
                    # Statistics (min/max per page) only where a reader filters: the result columns,
                    # not the mostly distinct lab texts passed through as typed.
                    outputs = set(output_columns())
                    stats = [f.name for f in self.schema if f.name in self.low_cardinality or f.name in outputs]
                    self.writer = pq.ParquetWriter(
                        self.path, self.schema, use_dictionary=low or False, write_statistics=stats or False
                    )
                else:
                    self.writer = pacsv.CSVWriter(self.path, self.schema)
            except OSError as exc:
                raise BatchInputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        elif table.schema != self.schema:
            table = table.cast(self.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _slices(table: pa.Table, rows: int):
    for start in range(0, table.num_rows, rows):
        yield table.slice(start, rows)


def tune_allocator() -> None:
    """For a batch process only: let glibc keep large freed blocks for reuse instead of returning
    each to the OS (fresh pages for every temporary column cost ~1 s of system time per million
    rows). Process-wide, so the command line calls it, never the library. No-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 << 20)  # M_MMAP_THRESHOLD: blocks up to 256 MB come from the heap
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GB of freed heap for reuse
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def run_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    format_in: str = "auto",
    format_out: str = "auto",
    chunk_rows: int | None = None,
    unknown: str = "error",
    progress: Callable[[int, int, int], None] | None = None,
    threads: int | None = None,
    explain: bool = False,
    decimal_comma: bool = False,
) -> dict:
    """Screen a CSV or Parquet file into a CSV or Parquet file; returns the summary.

    The file is read whole when small (CSV up to 256 MB; Parquet unless `chunk_rows` is given), else
    streamed in chunks of `chunk_rows` (default 500,000) rows, so memory is bounded by the chunk
    whatever the file size. Each chunk is screened in slices of BLOCK_ROWS rows on a small thread
    pool (the kernels release the GIL) while finished slices are written in order.
    `progress(done, total, rows)` is called as slices are written (bytes for CSV, rows for Parquet).
    """
    fmt_in, fmt_out = file_format(in_path, format_in), file_format(out_path, format_out)
    if not os.path.exists(in_path):
        raise BatchInputError(f"cannot read {in_path}: no such file")
    refuse_same_file(in_path, out_path)
    names, total, chunks = iter_table_chunks(in_path, fmt_in, chunk_rows)
    plan = plan_columns(names, unknown=unknown, explain=explain, decimal_comma=decimal_comma)
    writer = _Writer(out_path, fmt_out, tuple(c.name for cols in plan.context.values() for c in cols))
    totals: dict[str, int] = {}
    codes: dict[str, int] = {}
    rows = 0
    workers = max(1, threads or THREADS)
    in_flight = 2 * workers  # bounds memory: at most this many slices screened ahead of the writer

    def work(piece: pa.Table):
        result, counts = screen_table(piece, plan, threads=1)
        return result, counts, _warning_code_counts(result.column("warnings"))

    def absorb(done_bytes: int, item) -> None:
        nonlocal rows
        result, counts, found = item
        writer.write(result)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        for key, value in found.items():
            codes[key] = codes.get(key, 0) + value
        rows += result.num_rows
        if progress is not None:
            progress(done_bytes, total, rows)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            queue: list = []
            for table, done in chunks:
                pieces = list(_slices(table, BLOCK_ROWS)) or [table]
                for i, piece in enumerate(pieces):
                    queue.append((done if i == len(pieces) - 1 else min(done, total), pool.submit(work, piece)))
                    while len(queue) >= in_flight:
                        done_bytes, future = queue.pop(0)
                        absorb(done_bytes, future.result())
                del table, pieces
            for done_bytes, future in queue:
                absorb(done_bytes, future.result())
    finally:
        writer.close()
    if not totals:
        totals = screened_counts(screen_blocks(plan, {n: pa.array([], pa.large_string()) for n in plan.names}, 0))
        totals["slow_cells"] = 0
    slow = totals.pop("slow_cells", 0)
    summary = summarise_counts(totals)
    summary["warnings"] = dict(sorted(codes.items()))
    summary["cells_decided_by_single_patient_code"] = slow
    summary["ignored_columns"] = list(plan.ignored)
    summary["provenance"] = writer.provenance
    return summary


def _warning_code_counts(warnings: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    """How often each "field:code" occurs (Arrow kernels: split, flatten, count)."""
    if isinstance(warnings, pa.ChunkedArray):
        warnings = warnings.combine_chunks()
    filled = warnings.filter(pc.not_equal(warnings, ""))
    if not len(filled):
        return {}
    parts = pc.list_flatten(pc.split_pattern(filled, WARNING_SEPARATOR))
    found = pc.value_counts(parts)
    return {str(v["values"]): int(v["counts"]) for v in found.to_pylist()}


def _empty(plan: BatchPlan) -> pd.DataFrame:
    return screen_with_plan(pd.DataFrame({n: pd.Series([], dtype="str") for n in plan.names}), plan)


# ------------------------------------------------------------------------------------------- Dask


def parse_blocksize(text: str | int) -> int:
    """'64MB', '1GiB' or a number of bytes → bytes; ValueError with a one-line message otherwise."""
    from dask.utils import parse_bytes

    try:
        value = parse_bytes(text) if isinstance(text, str) else int(text)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"--blocksize {text!r} is not a size (e.g. 64MB, 256MiB, 1GB)") from exc
    if value <= 0:
        raise ValueError(f"--blocksize {text!r} must be above 0")
    return value


def connect_scheduler(address: str, timeout: float):
    """A Dask client for a running scheduler, or BatchError after `timeout` seconds (default 5 s: a
    scheduler on the network answers in milliseconds; Dask's own default waits 30 s)."""
    from distributed import Client

    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).split("\n")[0][:200] or type(exc).__name__
        raise BatchError(f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s ({reason})") from exc


def run_dask(
    in_path: str,
    out_path: str,
    *,
    format_in: str = "auto",
    format_out: str = "auto",
    scheduler: str | None = None,
    blocksize: str | int = "64MB",
    workers: int | None = None,
    unknown: str = "error",
    client=None,
    explain: bool = False,
    decimal_comma: bool = False,
    connect_timeout: float = 5.0,
) -> dict:
    """The same per-partition function under dask.dataframe.map_partitions.

    A local cluster (one single-threaded worker process per core) unless `scheduler` names a running
    Dask scheduler ("tcp://host:8786") or a `client` is given. CSV input is split into `blocksize`
    partitions, Parquet by row group; memory per worker is bounded by the partition size. Parquet
    output is a directory of part files (Dask's layout); CSV output is one file.
    """
    import dask
    import dask.dataframe as dd

    fmt_in, fmt_out = file_format(in_path, format_in), file_format(out_path, format_out)
    if not os.path.exists(in_path):
        raise BatchInputError(f"cannot read {in_path}: no such file")
    refuse_same_file(in_path, out_path)
    if fmt_in == "csv" and _is_gzip(in_path):
        raise BatchInputError(
            f"{in_path}: Dask cannot split a gzip file into partitions (it would be read whole); decompress it, "
            "or use --engine pandas, which streams it in chunks"
        )
    try:
        blocksize = parse_blocksize(blocksize)
    except ValueError as exc:
        raise BatchInputError(str(exc)) from exc
    if fmt_in == "csv":
        names, delimiter = _csv_header(in_path)
    else:
        import pyarrow.parquet as pq

        try:
            names = pq.ParquetFile(in_path).schema_arrow.names
        except (pa.ArrowInvalid, OSError) as exc:
            raise _arrow_error(in_path, exc) from exc
    plan = plan_columns(names, unknown=unknown, explain=explain, decimal_comma=decimal_comma)  # fail fast
    if fmt_in == "csv":
        ddf = dd.read_csv(
            in_path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,  # cells as typed: "NA" stays "NA", an empty cell ""
            blocksize=blocksize,
            encoding="utf-8-sig",
            engine="pyarrow",
        )
    else:
        ddf = dd.read_parquet(in_path, split_row_groups=True)
    meta = screen_partition(ddf._meta, unknown, True, 1, explain, decimal_comma)  # the result's empty frame
    screened = ddf.map_partitions(
        screen_partition, unknown, True, 1, explain, decimal_comma, meta=meta, align_dataframes=False
    )
    counts = screened.map_partitions(partition_counts, meta=partition_counts(meta)).sum()
    provenance = provenance_stamp()
    if fmt_out == "parquet":
        write = screened.to_parquet(
            out_path,
            write_index=False,
            compute=False,
            custom_metadata={PROVENANCE_KEY: json.dumps(provenance, sort_keys=True).encode("utf-8")},
        )
    else:
        write = screened.to_csv(out_path, single_file=True, index=False, compute=False)

    own = None
    if client is None:
        from distributed import Client, LocalCluster

        if scheduler:
            client = own = connect_scheduler(scheduler, connect_timeout)
        else:
            n = workers or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
            client = own = Client(cluster)
    try:
        with warnings.catch_warnings():  # the CSV writer is a delayed object beside expressions: harmless
            warnings.filterwarnings("ignore", message="Computing mixed collections", category=UserWarning)
            try:
                _written, totals = dask.compute(write, counts)
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:  # a partition that cannot be parsed
                raise _arrow_error(in_path, exc) from exc
    finally:
        if own is not None:
            cluster = own.cluster
            own.close()
            if cluster is not None and not scheduler:
                cluster.close()
    summary = summarise_counts(totals)
    summary["partitions"] = ddf.npartitions
    summary["ignored_columns"] = list(plan.ignored)
    summary["provenance"] = provenance
    return summary


__all__ = [
    "BatchError",
    "BatchInputError",
    "BatchPlan",
    "output_columns",
    "partition_counts",
    "plan_columns",
    "read_csv_table",
    "run_dask",
    "run_file",
    "screen_frame",
    "screen_partition",
    "summarise_counts",
    "summarise_results",
]
