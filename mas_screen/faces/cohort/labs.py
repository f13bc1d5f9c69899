"""Cohort screening, lab cells by columns: numbers, units, plausibility and exact decimals, the way
`facts.normalise` reads one patient; what columns cannot decide exactly goes to the single-patient code."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mas_screen.criteria.loading import criteria, per_load
from mas_screen.domain.fields import VALUE_KEPT_CODES
from mas_screen.domain.units import as_float, convert, unit_index, unit_key
from mas_screen.faces.cohort.plan import _MAX_DIGITS, OPS, analyte_needs, unit_bounds
from mas_screen.kernel.exact import POW10, conversion, decimal_float, near
from mas_screen.kernel.inputs import arrow
from mas_screen.kernel.inputs.columns import (
    Column,
    ColumnMap,
    cell_text,
    convert_row,
)
from mas_screen.kernel.inputs.facts import normalise, unit_spec
from mas_screen.kernel.inputs.parsing import (
    MAX_UNIT_CHARS,
    is_cell_unit,
    read_number_column,
    split_unit_column,
)
from mas_screen.kernel.ops import select

if TYPE_CHECKING:
    import pandas as pd
else:
    from mas_screen.faces.cohort.lazy_pandas import pd

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
        return pc.fill_null(arr, arrow.text("")) if arr.null_count else arr
    return cell_texts(column.to_pandas())


def _cell_text(value: Any) -> str:
    if value is pd.NA or value is pd.NaT:
        return ""
    return cell_text(value)


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
    positions: list[int]  # the unit positions of the cells read here (every position that occurs)


def _mantissa(numbers: pa.Array, x: np.ndarray, fast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact decimal of a plain number: mantissa and count of decimals (value = mant × 10^-dec)."""
    length = arrow.to_numpy(pc.binary_length(numbers), np.int64)
    dot = arrow.to_numpy(pc.find_substring(numbers, "."), np.int64)
    dec = select(fast & (dot >= 0), length - dot - 1, 0)
    mant = np.rint(np.abs(x) * POW10[np.minimum(dec, 308)]).astype(np.int64)
    return select(x < 0, -mant, mant), dec


def _positions(units: np.ndarray) -> list[int]:
    """The distinct unit positions (small non-negative ints) in a column, in order: a count, not a sort."""
    if not len(units):
        return []
    return np.flatnonzero(np.bincount(units.astype(np.intp))).tolist()


def _plausible(x: np.ndarray, op: np.ndarray, analyte: str, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """`units.is_plausible` by columns, and which cells float64 cannot decide."""
    lo, hi = unit_bounds(analyte, unit)
    above_lo = select(op == 3, x > lo.value, x >= lo.value)
    below_hi = select(op == 1, x < hi.value, x <= hi.value)
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
    uniform = True  # one unit for the whole column (no cell carries its own)
    if units_in_cells and (kind == 2).any():
        kind, op, x, numbers, other = _cells_with_units(
            texts, kind, op, x, numbers, other, unit, problem, col, codes, decimal_comma
        )
        uniform = False
    kind = kind.copy()
    kind[(kind == 1) & ~np.isnan(other) & (op != 0)] = 2  # an ambiguous bound: the single-patient code
    warn = np.zeros(n, np.int16)
    fast = kind == 1
    warn[fast & (unit < 0)] = codes("not_convertible")  # a refused unit (e.g. sCD25 in pg/mL): left out
    spec = criteria().analytes.analytes[analyte]
    if uniform:  # the column's unit, if any cell is read here and the unit is accepted
        positions = [int(unit[0])] if n and unit[0] >= 0 and fast.any() else []
    else:
        positions = _positions(unit[fast & (unit >= 0)])
    for position in positions:
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
            ok_other, delicate_other = _plausible(select(ambiguous, other, 0.0), op, analyte, name)
            warn[ambiguous & ok_other] = codes("ambiguous_number")
            delicate |= ambiguous & delicate_other
        kind[here & delicate] = 2
    return _ColumnCells(kind, texts, numbers, op, x, warn, unit, problem, positions)


def _cells_with_units(texts, kind, op, x, numbers, other, unit, problem, col: Column, codes: Codes, decimal_comma):
    """Cells that carry their own unit ("19.164651 ng/mL"), split by column (parsing.split_unit_column)
    and read like any number: the unit of each distinct unit text is looked up once. Cells the split
    or the number reading cannot take (unknown units, exponents, grouping) stay kind 2."""
    idx = np.flatnonzero(kind == 2)
    sub = pc.take(texts, arrow.indices(idx))
    split, number_texts, unit_texts = split_unit_column(sub)
    if not split.any():
        return kind, op, x, numbers, other
    idx, number_texts, unit_texts = (
        idx[split],
        number_texts.filter(arrow.numbers(split)),
        unit_texts.filter(arrow.numbers(split)),
    )
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
    codes_of = arrow.to_numpy(encoded.indices, np.int64)
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
    filled = arrow.indices(select(where >= 0, where, 0))
    numbers = pc.if_else(arrow.numbers(where >= 0), pc.take(read.numbers, filled), numbers)
    return kind, op, x, numbers, other


@per_load
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


@per_load
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
    chosen = np.full(n, -1, np.int8)  # the first filled column of the lab (by a select, not a mask)
    for j in reversed(range(len(cells))):
        chosen = select(filled[j], np.int8(j), chosen)
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
                    distinct |= both & arrow.to_numpy(pc.not_equal(cells[a].texts, cells[b].texts), bool)
        conflict = distinct & ~slow
        lab.problem[conflict & units_differ] = codes("two_units")
        lab.problem[conflict & ~units_differ] = codes("two_values")
        chosen[conflict] = -1
    chosen[slow] = -1
    spec_units = criteria().analytes.analytes[key].units
    for j, c in enumerate(cells):
        rows = chosen == j
        if not rows.any():
            continue
        known = rows & (c.unit >= 0)
        in_use = c.warn == 0
        for code in kept:
            in_use |= c.warn == code
        state = select(in_use, 1, 2).astype(np.int8)
        if len(cells) == 1:
            # A lab's only column: its arrays are the lab's as they are. Outside `rows` a cell is
            # empty (zeros) or left to the single-patient code, which sets every field of its row
            # below; only the state and unit that _convert_targets reads are masked.
            lab.warn, lab.op, lab.problem = c.warn, c.op, c.problem
            lab.x = c.x if c.x.flags.writeable else c.x.copy()
            lab.state = select(rows, state, lab.state)
        else:
            lab.warn = select(rows, c.warn, lab.warn)
            lab.state = select(rows, state, lab.state)
            lab.op = select(rows, c.op, lab.op)
            lab.x = select(rows, c.x, lab.x)
            lab.problem = select(rows & (c.problem > 0), c.problem, lab.problem).astype(np.int16)
        lab.unit = select(known, c.unit, lab.unit).astype(np.int8)
        if any(needs_mantissa(key, spec_units[p].unit) for p in c.positions):
            mant, dec = _mantissa(c.numbers, c.x, c.kind == 1)
            lab.mant = select(known, mant, lab.mant)
            lab.dec = select(known, dec, lab.dec)
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
                y = select(rows, lab.x, y)
                continue
            idx = np.flatnonzero(rows)
            if conv.kind == "exact":
                mant, exponent = lab.mant[idx], lab.dec[idx] + conv.k
                ok = (np.abs(mant) * float(conv.p) < 10.0**_MAX_DIGITS) & (exponent <= 22) & (exponent >= -22)
                numerator = (mant * conv.p).astype(np.float64)  # exact: below 10^15
                y[idx] = decimal_float(numerator, exponent)
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
    sub = [pc.take(t, arrow.indices(rows)) for t in texts]
    joined = sub[0] if len(sub) == 1 else pc.binary_join_element_wise(*sub, arrow.text("\x1f"))
    encoded = pc.dictionary_encode(joined)
    index = arrow.to_numpy(encoded.indices, np.int64)
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
    from mas_screen.domain.models import PatientInput  # a cell the arrays cannot decide: rare

    facts, warnings = normalise(PatientInput.model_validate(data))
    fact = facts.labs.get(key)
    warn = warnings[0].code if warnings else None
    if fact is None:
        return problem, warn, None
    converted = tuple(as_float(convert(fact.parsed.value, fact.unit, unit_spec(key, t))) for t in targets)
    return problem, warn, (fact.parsed.value, fact.unit.unit, fact.parsed.op, converted)
