"""The column layout of contract.md "Batch" (shared by the trend CSV reader and the batch engine).

Columns: `id`, optional `time`, context fields by name, and labs as `<key>` (the default unit) or
`<key>_<unit>`, the unit spelled as in the contract's table with "/" → "_per_"
(`fibrinogen_g_per_L`, `ferritin_ug_per_L`, `platelets_10^9_per_L`, `temperature_degF`).

Matching is case-insensitive; µ/μ are read as u; every spelling analytes.yaml accepts for a unit
(its name, UCUM code and aliases) is accepted in a column name, with "_", spaces, "^" and
brackets ignored ("platelets_10^9_per_L" = "platelets_109_per_l" = "platelets_x10_9_per_L" =
"Platelets (10^9/L)"). A column that names no input, or a lab with a unit not accepted for it, is
reported as unknown, never guessed.

Cells stay strings, as typed, so every value is echoed back exactly; an empty cell is "not
entered". A lab cell may name its own unit ("3.6 g/L"); that unit is then used (and noted).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from mas_screen.criteria.loading import criteria, per_load
from mas_screen.domain.fields import (
    BOOLEAN_FIELDS,
    CONTEXT_FIELDS,
    NUMERIC_CONTEXT_FIELDS,
    Biologic,
    Disease,
    field_label,
)
from mas_screen.domain.units import pretty_unit, unit_index, unit_key
from mas_screen.kernel.inputs import parsing

if TYPE_CHECKING:
    from mas_screen.domain.series import Panel, SeriesInput, SeriesWarning

ENUM_FIELDS: dict[str, tuple[str, ...]] = {
    "underlying_disease": get_args(Disease),
    "biologic_therapy": get_args(Biologic),
}
UNKNOWN_WORDS = parsing.UNKNOWN_WORDS
MAX_COLUMNS = 1_000  # a table in the "Batch" layout has a few dozen; wider headers are refused unread
MAX_LISTED = 10  # unknown columns named in a message; the rest are counted

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


class ColumnError(ValueError):
    """The table cannot be read at all (no header, no time column, two time columns, …)."""


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    name: str  # as in the header
    kind: Literal["id", "time", "context", "lab"]
    key: str | None = None  # context field or lab key
    unit: str | None = None  # lab unit to send with the value (an accepted spelling, or a refused one)
    default_unit: bool = False  # the column is `<key>` alone


@dataclass(frozen=True, slots=True)
class UnknownColumn:
    index: int
    name: str
    message: str


@dataclass(slots=True)
class ColumnMap:
    columns: list[Column]
    unknown: list[UnknownColumn] = field(default_factory=list)
    unnamed: list[int] = field(default_factory=list)  # header cells left blank (often trailing commas)
    width: int = 0

    def of_kind(self, kind: str) -> list[Column]:
        return [c for c in self.columns if c.kind == kind]

    @property
    def time(self) -> Column | None:
        found = self.of_kind("time")
        return found[0] if found else None

    @property
    def id(self) -> Column | None:
        found = self.of_kind("id")
        return found[0] if found else None

    def targets(self) -> dict[str, list[Column]]:
        """Context field or lab key → the columns that give it (several for one lab in several units)."""
        out: dict[str, list[Column]] = {}
        for c in self.columns:
            if c.kind in ("context", "lab"):
                out.setdefault(f"{c.kind}:{c.key}", []).append(c)
        return out


# --------------------------------------------------------------------------------- column names


def _norm_name(name: str) -> str:
    return name.strip().lstrip("\ufeff").translate(_SUPERSCRIPTS).lower().replace("µ", "u").replace("μ", "u")


def suffix_key(text: str) -> str:
    """A unit spelling as a comparable token string: 'g/L' → 'gperl', '10^9_per_L' → '109perl'."""
    s = _norm_name(text)
    s = s.replace("/", "_per_").replace("°", "").replace("º", "")
    s = re.sub(r"[()\[\]{}]", "_", s)
    s = re.sub(r"(^|[_\s])(x|×)(?=\s*10)", r"\1", s)  # x10^9 → 10^9
    s = re.sub(r"10\s*[*e]\s*(\d)", r"10^\1", s)  # 10*9, 10e9 → 10^9
    return "".join(t for t in re.split(r"[_\s^]+", s) if t)


@per_load
def _unit_suffixes(analyte: str) -> dict[str, tuple[str, bool]]:
    """Column suffix key → (unit text to send, accepted?) for one analyte."""
    spec = criteria().analytes.analytes[analyte]
    out: dict[str, tuple[str, bool]] = {}
    for r in spec.refused_units:
        for alias in [r.unit, *r.aliases]:
            out.setdefault(suffix_key(alias), (alias, False))
    for u in spec.units:  # accepted spellings win over refused ones
        for alias in [u.unit, u.ucum, *u.aliases]:
            out[suffix_key(alias)] = (u.unit, True)
    return out


def column_name(analyte: str, unit: str | None = None) -> str:
    """The contract's spelling of a lab column: `fibrinogen_g_per_L`, `platelets_10^9_per_L`."""
    if unit is None:
        return analyte
    text = unit.replace("µ", "u").replace("μ", "u").replace("/", "_per_").replace(" ", "_")
    return f"{analyte}_{text}".replace("__", "_")


def _lab_column(index: int, name: str, norm: str) -> Column | UnknownColumn | None:
    analytes = criteria().analytes.analytes
    for key in sorted(analytes, key=len, reverse=True):
        if norm == key:
            return Column(index, name, "lab", key, analytes[key].default_unit, default_unit=True)
        if norm.startswith(key) and norm[len(key)] in "_ (":
            rest = norm[len(key) :]
            skey = suffix_key(rest)
            if not skey:
                return Column(index, name, "lab", key, analytes[key].default_unit, default_unit=True)
            found = _unit_suffixes(key).get(skey)
            if found is None:
                accepted = ", ".join(column_name(key, u.unit) for u in analytes[key].units)
                return UnknownColumn(
                    index,
                    name,
                    f"column {name!r}: {rest.strip(' _()')!r} is not an accepted unit for {analytes[key].label} "
                    f"(accepted columns: {accepted})",
                )
            unit_text, _accepted = found
            return Column(index, name, "lab", key, unit_text, default_unit=unit_text == analytes[key].default_unit)
    return None


def parse_columns(names: Sequence[str]) -> ColumnMap:
    """Which column is which input. Unknown names are reported in `unknown`, never guessed.

    Raises ColumnError for a header wider than MAX_COLUMNS (nothing in it is read)."""
    if len(names) > MAX_COLUMNS:
        raise ColumnError(
            f"the header has {len(names):,} columns; a table in this layout has at most {MAX_COLUMNS:,} "
            "(id, time, context fields and labs)"
        )
    cmap = ColumnMap(columns=[], width=len(names))
    for index, raw in enumerate(names):
        name = "" if raw is None else str(raw)
        norm = _norm_name(name)
        if not norm:
            cmap.unnamed.append(index)
            continue
        if norm in ("id", "time"):
            cmap.columns.append(Column(index, name, norm))  # type: ignore[arg-type]
            continue
        if norm in CONTEXT_FIELDS:
            cmap.columns.append(Column(index, name, "context", norm))
            continue
        lab = _lab_column(index, name, norm)
        if isinstance(lab, Column):
            cmap.columns.append(lab)
        elif isinstance(lab, UnknownColumn):
            cmap.unknown.append(lab)
        else:
            hint = (
                " (the time column is called 'time')" if norm in ("date", "datetime", "timestamp", "date_time") else ""
            )
            cmap.unknown.append(UnknownColumn(index, name, f"column {name!r} is not an input of MAS Screen{hint}"))
    for kind in ("id", "time"):
        found = cmap.of_kind(kind)
        if len(found) > 1:
            raise ColumnError(f"{len(found)} columns are called {kind!r} ({', '.join(repr(c.name) for c in found)})")
    return cmap


def unknown_columns_message(cmap: ColumnMap) -> str:
    """The unknown columns named (the first MAX_LISTED, each name shortened) and the rest counted."""
    known = ", ".join(criteria().analytes.analytes)
    shown = cmap.unknown[:MAX_LISTED]
    parts = "; ".join(parsing.shorten(u.message, 200) for u in shown)
    if len(cmap.unknown) > len(shown):
        parts += f"; and {len(cmap.unknown) - len(shown):,} more"
    return f"unknown column(s): {parts}. Columns: id, time, context fields by name, labs ({known}) as <key> or <key>_<unit>"


# ----------------------------------------------------------------------------------------- rows


@dataclass(slots=True)
class RowProblem:
    code: str
    message: str
    field: str | None = None
    input: str | None = None
    severity: Literal["warning", "info"] = "warning"


@dataclass(slots=True)
class RowResult:
    data: dict[str, Any]  # contract input JSON (id, context, labs); cells as typed
    time: str | None
    problems: list[RowProblem]


def _cell(row: Mapping[str, Any] | Sequence[Any], col: Column | int, name: str | None = None) -> str:
    if isinstance(row, Mapping):
        value = row.get(col.name if isinstance(col, Column) else name)
    else:
        index = col.index if isinstance(col, Column) else col
        value = row[index] if index < len(row) else None
    return cell_text(value)


def cell_text(value: Any) -> str:
    """A cell as text, the one spelling of every reader: missing (None, NaN) → "", text as it is,
    an integral float as its integer (a Parquet or pandas float column holds 1.0 for 1: a yes/no
    or integer column with gaps), any other value as str()."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        if value != value:  # NaN from a data frame
            return ""
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
    return str(value)


def _context_value(key: str, text: str) -> tuple[Any, RowProblem | None]:
    word = " ".join(text.split()).lower()
    label = field_label(key)
    if key in BOOLEAN_FIELDS:
        try:
            return parsing.read_yes_no(text), None
        except parsing.NotYesNo:
            return None, RowProblem(
                "bad_value",
                f"{label}: {parsing.shorten(text)!r} is not yes/no (yes/no, true/false, 1/0); read as not known.",
                key,
                text,
            )
    if key in ENUM_FIELDS:
        allowed = ENUM_FIELDS[key]
        if word in allowed:
            return word, None
        if word in UNKNOWN_WORDS:
            return None, None
        return None, RowProblem(
            "bad_value", f"{label}: {text!r} is not one of {', '.join(allowed)}; read as not known.", key, text
        )
    return text.strip(), None  # numeric context fields: judged (and echoed) by normalise


def _lab_value(col: Column, text: str) -> tuple[dict[str, Any], RowProblem | None]:
    value, unit = parsing.split_unit(text)
    if unit is not None:
        index = unit_index(col.key or "")
        ukey = unit_key(unit)
        cell_spec = index.accepted.get(ukey)
        col_spec = index.accepted.get(unit_key(col.unit or ""))
        if cell_spec is not None and col_spec is not None and cell_spec.unit == col_spec.unit:
            return {"value": value, "unit": col.unit}, None
        problem = None
        if cell_spec is not None or ukey in index.refused:
            problem = RowProblem(
                "cell_unit",
                f"{field_label(col.key or '')}: the cell gives its own unit ({unit}); used instead of the column's "
                f"{pretty_unit(col.unit)}.",
                col.key,
                text,
                "info",
            )
        return {"value": value, "unit": unit}, problem
    return {"value": value, "unit": col.unit}, None


def convert_row(row: Mapping[str, Any] | Sequence[Any], cmap: ColumnMap, *, decimal_comma: bool = False) -> RowResult:
    """One table row → contract input JSON, the typed time, and the row's problems.

    `row` is a mapping (column name → cell) or a sequence in header order. Two filled cells for one
    input (a lab in two unit columns, a context field given twice) that differ: neither is used,
    and a `two_units` / `two_values` problem says why.
    """
    problems: list[RowProblem] = []
    data: dict[str, Any] = {}
    if cmap.id is not None:
        ident = _cell(row, cmap.id).strip()
        if ident:
            data["id"] = ident
    time_col = cmap.time
    typed_time = _cell(row, time_col) if time_col is not None else None
    time = typed_time.strip() if typed_time is not None and typed_time.strip() else None
    context: dict[str, Any] = {}
    labs: dict[str, Any] = {}
    for target, cols in cmap.targets().items():
        kind, key = target.split(":", 1)
        filled = [(c, _cell(row, c)) for c in cols]
        filled = [(c, t) for c, t in filled if t.strip()]
        if not filled:
            continue
        if kind == "lab":
            values = [_lab_value(c, t) for c, t in filled]
            distinct = {(v["value"], unit_key(v["unit"] or "")) for v, _ in values}
            if len(distinct) > 1:
                units = {unit_key(v["unit"] or "") for v, _ in values}
                code = "two_units" if len(units) > 1 else "two_values"
                shown = "; ".join(f"{c.name} = {t.strip()}" for c, t in filled)
                problems.append(
                    RowProblem(
                        code,
                        f"{field_label(key)}: two cells are filled ({shown}); neither is used until one is cleared.",
                        key,
                        shown,
                    )
                )
                continue
            measurement, problem = values[0]
            if problem is not None:
                problems.append(problem)
            labs[key] = measurement
        else:
            parsed = [(c, t, *_context_value(key, t)) for c, t in filled]
            distinct = {repr(v) if p is None else t.strip() for c, t, v, p in parsed}
            if len(distinct) > 1:
                shown = "; ".join(f"{c.name} = {t.strip()}" for c, t in filled)
                problems.append(
                    RowProblem(
                        "two_values",
                        f"{field_label(key)}: two cells are filled ({shown}); neither is used until one is cleared.",
                        key,
                        shown,
                    )
                )
                continue
            _, text, value, problem = parsed[0]
            if problem is not None:
                problems.append(problem)
            if value is not None:
                context[key] = value
    if context:
        data["context"] = context
    data["labs"] = labs
    if decimal_comma:
        data["decimal_comma"] = True
    for index in cmap.unnamed:
        text = _cell(row, index, "")
        if text.strip():
            problems.append(
                RowProblem(
                    "unnamed_column",
                    f"Column {index + 1} has no name; its cell {text.strip()!r} is not used.",
                    None,
                    text,
                )
            )
    if not isinstance(row, Mapping) and len(row) > cmap.width:
        extra = [str(v) for v in row[cmap.width :] if v is not None and str(v).strip()]
        if extra:
            problems.append(
                RowProblem(
                    "extra_cells",
                    f"The row has more cells than the header ({', '.join(map(repr, extra))}); they are not used.",
                    None,
                    ", ".join(extra),
                )
            )
    return RowResult(data, time, problems)


def row_to_patient_data(
    row: Mapping[str, Any] | Sequence[Any], cmap: ColumnMap, *, decimal_comma: bool = False
) -> dict[str, Any]:
    """One table row → contract input JSON (see convert_row for the row's problems)."""
    return convert_row(row, cmap, decimal_comma=decimal_comma).data


# ------------------------------------------------------------------------------------------ CSV


@dataclass(slots=True)
class SeriesCSV:
    series: SeriesInput
    problems: list[SeriesWarning]  # row problems (row = position in series.panels)
    columns: ColumnMap
    lines: list[int]  # CSV line of each panel (header = line 1)


def read_table(text: str) -> list[list[str]]:
    """CSV text → rows of cells (comma, semicolon or tab separated; a byte-order mark is ignored)."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if any(d in first for d in ",;\t") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_series_csv(text: str, *, decimal_comma: bool = False) -> SeriesCSV:
    """A CSV of dated panels (one row per time point) → SeriesInput plus each row's problems.

    Raises ColumnError when the table cannot be read as a series: no header, no `time` column,
    two `time` or `id` columns, or rows for more than one patient id. Unknown columns are listed in
    `columns.unknown` (the command line refuses them; a page may show them).
    """
    from mas_screen.domain.series import Panel, SeriesInput, SeriesWarning  # pydantic: a series, not a cohort

    table = read_table(text)
    while table and not any(c.strip() for c in table[0]):
        table.pop(0)
    if not table:
        raise ColumnError("the CSV is empty (no header row)")
    header = table[0]
    cmap = parse_columns(header)
    if cmap.time is None:
        hint = ""
        if any(_norm_name(h) in ("date", "datetime", "timestamp") for h in header):
            hint = " (rename the date column to 'time')"
        raise ColumnError(f"the CSV has no 'time' column{hint}; a series needs one time per row")
    panels: list[Panel] = []
    problems: list[SeriesWarning] = []
    lines: list[int] = []
    ids: dict[str, int] = {}
    for offset, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line: nothing typed
        result = convert_row(cells, cmap, decimal_comma=decimal_comma)
        row = len(panels)
        ident = result.data.pop("id", None)
        if ident is not None:
            ids.setdefault(ident, offset)
        panel = Panel.model_validate(
            {"time": result.time, "labs": result.data["labs"], "context": result.data.get("context")}
        )
        panels.append(panel)
        lines.append(offset)
        for p in result.problems:
            problems.append(
                SeriesWarning(
                    row=row,
                    time=result.time,
                    code=p.code,
                    field=p.field,
                    message=p.message,
                    severity=p.severity,
                    input=p.input,
                    line=offset,
                )
            )
    if len(ids) > 1:
        shown = ", ".join(f"{k!r} (line {v})" for k, v in list(ids.items())[:5])
        raise ColumnError(f"the CSV holds more than one patient id ({shown}); a series is one patient")
    series = SeriesInput(id=next(iter(ids), None), panels=panels, decimal_comma=decimal_comma)
    return SeriesCSV(series, problems, cmap, lines)


def with_lines(warnings: list[SeriesWarning], lines: list[int]) -> list[SeriesWarning]:
    """Fill each warning's CSV line from its row."""
    for w in warnings:
        if w.line is None and 0 <= w.row < len(lines):
            w.line = lines[w.row]
    return warnings


__all__ = [
    "NUMERIC_CONTEXT_FIELDS",
    "Column",
    "ColumnError",
    "ColumnMap",
    "RowProblem",
    "RowResult",
    "SeriesCSV",
    "UnknownColumn",
    "column_name",
    "convert_row",
    "parse_columns",
    "read_series_csv",
    "read_table",
    "row_to_patient_data",
    "suffix_key",
    "unknown_columns_message",
    "with_lines",
]
