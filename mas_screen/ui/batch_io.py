"""Reading an uploaded cohort and writing the screened results, all in memory (no Streamlit here).

Uploaded bytes are read from memory and never written to disk. Every way a file can fail to be a
cohort table — binary junk, a workbook, a file named .parquet that is not one, text that is not
UTF-8, a ragged CSV row, too many rows, no `id` column, unknown columns — raises `UploadError`
with a message for the person who uploaded it; nothing else is expected to escape.

The results CSV is spreadsheet-safe (safe_csv.neutralise on every text cell and header); the
Parquet file keeps every cell exactly as typed (no spreadsheet evaluates Parquet cells).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace

import pandas as pd
import pyarrow as pa

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import BOOLEAN_FIELDS, field_label
from mas_screen.faces.cohort import BatchError, output_columns, plan_columns, screen_frame, summarise_results
from mas_screen.kernel.inputs.columns import CONTEXT_FIELDS, ENUM_FIELDS, column_name
from mas_screen.kernel.inputs.decoded_size import (
    DecodedBudget,
    DecodedSizeError,
    parquet_estimate,
    read_csv_within_budget,
)
from mas_screen.kernel.inputs.safe_csv import neutralise

MAX_UPLOAD_MB = 50  # as .streamlit/config.toml server.maxUploadSize
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # Streamlit counts megabytes as MiB
MAX_ROWS = 100_000  # larger cohorts: the command line streams any size (python -m mas_screen batch)
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
# What one upload may become in memory once decoded (a 254 KB Parquet file can hold 1 GB of text):
# checked before the cells are decoded (mas_screen/kernel/inputs/decoded_size.py), in the screening job's process.
BUDGET = DecodedBudget(max_bytes=256 << 20, max_cells=10_000_000, max_columns=1_000)
CLI_HINT = "For larger cohorts use the command line: python -m mas_screen batch cohort.csv -o screened.parquet"
_CLI_IGNORE_HINT = " (pass unknown='ignore' / --ignore-unknown to keep them)"


class UploadError(ValueError):
    """The upload cannot be screened; the message says why and what to do."""

    def __init__(self, message: str, *, unknown_columns: bool = False) -> None:
        super().__init__(message)
        self.unknown_columns = unknown_columns


@dataclass
class CohortResult:
    """A screened cohort held in this session's memory."""

    frame: pd.DataFrame  # input columns + result columns (batch.screen_frame)
    summary: dict  # batch.summarise_results
    source: str  # file name, or the demo label
    fmt: str  # "csv", "parquet" or "demo"
    ignored: list[str] = field(default_factory=list)  # columns passed through unread
    notes: list[str] = field(default_factory=list)  # said beside the summary (e.g. read as Parquet)


# ------------------------------------------------------------------------------------- reading


def sniff(name: str, data: bytes) -> str:
    """'csv' or 'parquet' from the content (a Parquet file starts with PAR1); junk is refused."""
    if not data.strip():
        raise UploadError("The file is empty.")
    if data[:4] == b"PAR1":
        return "parquet"
    if name.lower().endswith(PARQUET_SUFFIXES):
        raise UploadError(
            f"{name!r} is named like a Parquet file but is not one (no Parquet signature). "
            "Export the table again as Parquet, or upload it as CSV."
        )
    if data[:2] == b"PK":
        raise UploadError(
            "This looks like a spreadsheet workbook (.xlsx) or a zip archive, not a CSV. "
            "Save the sheet as 'CSV UTF-8 (comma delimited)' and upload that."
        )
    if data[:2] == b"\x1f\x8b":
        raise UploadError("This is a compressed (gzip) file. Decompress it and upload the CSV inside.")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        raise UploadError(
            "This looks like JSON, not a CSV table. A FHIR Bundle of one patient's labs is imported on the "
            "Assess page (Import FHIR R4 Bundle)."
        )
    if b"\x00" in data[:65536]:
        raise UploadError("This is a binary file, not CSV text. Upload a CSV (UTF-8) or a Parquet file.")
    return "csv"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UploadError(
            f"The file is not UTF-8 text (first unreadable byte on line {line:,}). "
            "Save it as 'CSV UTF-8' from your spreadsheet and upload it again."
        ) from exc


def _ragged_line(text: str, delimiter: str, width: int) -> tuple[int, int] | None:
    """(line, cells) of the first row whose cell count differs from the header's."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for cells in reader:
        if reader.line_num == 1 or not any(c.strip() for c in cells):
            continue
        if len(cells) != width:
            return reader.line_num, len(cells)
    return None


def current_budget() -> DecodedBudget:
    """The decoded-size budget with the page's row limit (read when called, so both can be adjusted)."""
    return replace(BUDGET, max_rows=MAX_ROWS)


def read_csv_bytes(data: bytes, budget: DecodedBudget | None = None) -> pd.DataFrame:
    """A CSV upload → a table of text cells exactly as typed (empty cell = ""), read within the budget."""
    budget = budget or current_budget()
    text = _decode(data)
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise UploadError("The first line is empty: the CSV needs a header row (id, time, labs, …) on line 1.")
    delimiter = max((",", ";", "\t"), key=first.count) if any(d in first for d in ",;\t") else ","
    if first.count(delimiter) >= budget.max_columns:  # before the header is split into names
        raise UploadError(
            _budget_message(
                DecodedSizeError(
                    f"The header has {first.count(delimiter) + 1:,} columns (at most {budget.max_columns:,} are read)"
                ),
                budget,
            )
        )
    header = next(csv.reader([first], delimiter=delimiter))
    # Blank header cells (often trailing commas) get pandas' names, which the batch reader passes over.
    names = [n if n.strip() else f"Unnamed: {i}" for i, n in enumerate(header)]
    body = data[3:] if data[:3] == b"\xef\xbb\xbf" else data
    try:
        table = read_csv_within_budget(body, names, delimiter, budget)
    except DecodedSizeError as exc:
        raise UploadError(_budget_message(exc, budget)) from exc
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        ragged = _ragged_line(text, delimiter, len(names))
        if ragged is not None:
            line, cells = ragged
            raise UploadError(
                f"Line {line:,} has {cells} cell(s) but the header has {len(names)} column(s). "
                "Fix that row (a value containing the delimiter must be in double quotes) and upload again."
            ) from exc
        if "straddling" in str(exc):
            raise UploadError(
                f"A row of the CSV is longer than {budget.block_bytes >> 20} MB; a cohort row is a few hundred "
                "characters. Check the file is the cohort table."
            ) from exc
        raise UploadError("The CSV could not be read (unbalanced quotes or a malformed row).") from exc
    return table.to_pandas()


def read_parquet_bytes(data: bytes, budget: DecodedBudget | None = None) -> pd.DataFrame:
    """A Parquet upload → its table (typed columns are read as their text by the batch engine), after
    its metadata (and dictionaries) showed it fits the budget: no cell is decoded before that."""
    import pyarrow.parquet as pq

    budget = budget or current_budget()
    try:
        parquet_estimate(data, budget)
        table = pq.ParquetFile(io.BytesIO(data)).read()
        return table.to_pandas()
    except DecodedSizeError as exc:
        raise UploadError(_budget_message(exc, budget)) from exc
    except UploadError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise UploadError(
            "The Parquet file could not be read (it is damaged, or uses a type this reader does not know)."
        ) from exc


def _budget_message(exc: DecodedSizeError, budget: DecodedBudget) -> str:
    """The budget's message; the row limit in the page's own words (a CSV is counted as it is read, so
    its count is where reading stopped)."""
    text = str(exc)
    if "rows (at most" in text and budget.max_rows is not None:
        return f"{text.split(' (at most')[0]}; this page screens at most {budget.max_rows:,}. {CLI_HINT}."
    if "columns (at most" in text:
        return f"{text.split(' (at most')[0]}; this page reads at most {budget.max_columns:,}. Drop the columns that are not inputs, or use the command line."
    return text


def read_upload(name: str, data: bytes, budget: DecodedBudget | None = None) -> tuple[pd.DataFrame, str]:
    """An uploaded file → (table, 'csv' | 'parquet'), decoded within the budget (default: the page's).
    Raises UploadError with a message for the user."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"The file is {len(data) / 1024 / 1024:,.1f} MB; this page reads files up to {MAX_UPLOAD_MB} MB. "
            f"{CLI_HINT}."
        )
    fmt = sniff(name, data)
    reader = read_parquet_bytes if fmt == "parquet" else read_csv_bytes
    return reader(data, budget), fmt


# ------------------------------------------------------------------------------------ screening


def screen_upload(
    frame: pd.DataFrame, *, ignore_unknown: bool = False, decimal_comma: bool = False
) -> tuple[pd.DataFrame, dict, list[str]]:
    """batch.screen_frame + summarise_results; a table that cannot be screened → UploadError.
    `decimal_comma`: cells spell numbers 0,5 and 1.234,5 (contract "Number spelling")."""
    names = [str(c) for c in frame.columns]
    frame = frame.set_axis(names, axis=1)
    unknown = "ignore" if ignore_unknown else "error"
    try:
        plan = plan_columns(names, unknown=unknown)
        screened = screen_frame(frame, unknown=unknown, decimal_comma=decimal_comma)
    except BatchError as exc:
        text = str(exc)
        if "no 'id' column" in text:
            raise UploadError(
                "The table has no 'id' column. Every row needs an identifier (a study or record number, "
                "not a name): add a column called id. The template below shows the column layout."
            ) from exc
        if text.startswith("unknown column"):
            raise UploadError(
                "Some columns are not inputs of MAS Screen: "
                + text.removeprefix("unknown column(s): ").replace(_CLI_IGNORE_HINT, "")
                + ". Rename them as in the template, or tick 'Pass other columns through unread'.",
                unknown_columns=True,
            ) from exc
        raise UploadError(f"The table cannot be screened: {text}.") from exc
    if screened.empty:
        raise UploadError("The table has a header but no rows.")
    return screened, summarise_results(screened), list(plan.ignored)


# -------------------------------------------------------------------------------------- writing


def _safe_column(column: pd.Series) -> pd.Series:
    """safe_csv.neutralise on every text cell of a column (each distinct text once)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object)
    if not (pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)):
        return column
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    safe = pd.Series([neutralise(v) for v in distinct], dtype=object)
    if all(a is b for a, b in zip(safe, distinct, strict=True)):
        return column
    out = pd.Series(safe.to_numpy()[codes], index=column.index, dtype=object)
    out[codes < 0] = None
    return out


def results_csv(screened: pd.DataFrame) -> bytes:
    """The screened table as CSV (UTF-8), every text cell and header safe to open in a spreadsheet."""
    results = set(output_columns())
    safe = pd.DataFrame(
        {
            i: screened.iloc[:, i] if name in results else _safe_column(screened.iloc[:, i])
            for i, name in enumerate(screened.columns)
        }
    )
    safe.columns = [neutralise(str(c)) for c in screened.columns]
    return safe.to_csv(index=False).encode("utf-8")


def results_parquet(screened: pd.DataFrame) -> bytes:
    """The screened table as Parquet: cells as typed, statuses as categories, scores as numbers."""
    import pyarrow.parquet as pq

    from mas_screen.faces.cohort import provenance_stamp, with_provenance

    table = pa.Table.from_pandas(screened, preserve_index=False)
    table = table.replace_schema_metadata(with_provenance(table.schema, provenance_stamp()).metadata)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------- template


def template_columns() -> list[str]:
    """id, time, every context field, every lab in its default unit (the contract's spelling)."""
    labs = [column_name(k, s.default_unit) for k, s in criteria().analytes.analytes.items()]
    return ["id", "time", *CONTEXT_FIELDS, *labs]


def template_csv() -> bytes:
    """A CSV with the header row only: what the Batch page and the command line read."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(template_columns())
    return buffer.getvalue().encode("utf-8")


def layout_rows() -> list[dict[str, str]]:
    """The column layout as a table for the page: column, what it holds, other accepted spellings."""
    rows = [
        {"Column": "id", "Holds": "Record identifier (required; a study number, not a name)", "Also accepted": ""},
        {"Column": "time", "Holds": "When the panel was taken (optional), e.g. 2026-03-01 08:00", "Also accepted": ""},
    ]
    for key in CONTEXT_FIELDS:
        if key in BOOLEAN_FIELDS:
            holds = "yes / no / blank (not known); also true/false, 1/0"
        elif key in ENUM_FIELDS:
            holds = " / ".join(ENUM_FIELDS[key]) + " / blank"
        else:
            holds = "number / blank"
        rows.append({"Column": key, "Holds": f"{field_label(key)}: {holds}", "Also accepted": ""})
    for key, spec in criteria().analytes.analytes.items():
        others = [column_name(key, u.unit) for u in spec.units if u.unit != spec.default_unit]
        rows.append(
            {
                "Column": column_name(key, spec.default_unit),
                "Holds": f"{spec.label} in {spec.default_unit} (or '{key}' alone)",
                "Also accepted": ", ".join(others),
            }
        )
    return rows


# ------------------------------------------------------------------------------------- warnings

COLUMN_PROBLEM_TITLES = {
    "two_units": "two cells in different units",
    "two_values": "two different cells",
    "cell_unit": "unit given in the cell",
    "bad_value": "not an accepted answer",
    "unnamed_column": "cell in an unnamed column",
    "extra_cells": "more cells than the header",
}


def readable_warnings(codes: pd.Series, titles: dict[str, str]) -> pd.Series:
    """'ferritin:not_a_number; febrile:bad_value' → 'Ferritin: not a number; Febrile…: not an accepted
    answer' (each distinct text translated once)."""
    words = {**{k: v.lower() for k, v in titles.items()}, **COLUMN_PROBLEM_TITLES}

    def one(text: str) -> str:
        parts = []
        for piece in text.split("; ") if text else []:
            key, _, code = piece.partition(":")
            parts.append(f"{field_label(key)}: {words.get(code, code.replace('_', ' '))}")
        return "; ".join(parts)

    texts = codes.astype("str").fillna("")
    distinct = {t: one(t) for t in texts.unique()}
    return texts.map(distinct)


__all__ = [
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_MB",
    "CohortResult",
    "UploadError",
    "layout_rows",
    "read_upload",
    "readable_warnings",
    "results_csv",
    "results_parquet",
    "screen_upload",
    "template_columns",
    "template_csv",
]
