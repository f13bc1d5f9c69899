"""Decoded-size budgets: how big a table becomes in memory, known before it is decoded.

A file's size says little about its decoded size. Parquet compresses and dictionary-encodes: 100,000
cells of "x" * 10,000 (one dictionary entry, zstd) are a 254 KB file and 1 GB decoded. A CSV of bare
commas is 50 MB of text and 50 million cells. So an upload is checked against a `DecodedBudget`
before its cells are decoded:

- Parquet (`parquet_estimate`): the footer's length first (from the last 8 bytes), then the
  metadata: rows, columns, and per column chunk the values and uncompressed size. Fixed-width
  columns decode to values × width; text columns whose pages hold the bytes themselves (PLAIN,
  DELTA_LENGTH_BYTE_ARRAY) to at most their uncompressed size plus an offset per value. Text
  columns whose pages only point at bytes held elsewhere (a dictionary, or DELTA_BYTE_ARRAY's shared
  prefixes) are sized exactly by reading the chunk as a dictionary (the indices and the distinct
  values, never the expanded cells): the decoded size is the sum of the indexed values' lengths.
- CSV (`read_csv_within_budget`): read in blocks with pyarrow's streaming reader, counting rows,
  cells and decoded bytes as it goes; it stops at the first block over the budget, so memory stays
  within the budget plus one block.

Decoding should still happen where a mistake cannot take the server down (a child process with a
memory limit: `mas_screen.faces.jobs`); these checks turn a bomb into a clear message instead.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import pyarrow as pa

MiB = 1 << 20
OFFSET_BYTES = 8  # per text cell: Arrow's large_string offsets (the batch engine reads text as large_string)
FIXED_WIDTH = {"BOOLEAN": 1, "INT32": 4, "INT64": 8, "INT96": 12, "FLOAT": 4, "DOUBLE": 8}
_BYTES_IN_PAGES = {"PLAIN", "RLE", "BIT_PACKED", "DELTA_LENGTH_BYTE_ARRAY"}  # the values' bytes are in the pages
_POINTING = {"PLAIN_DICTIONARY", "RLE_DICTIONARY", "DELTA_BYTE_ARRAY"}  # values built from bytes held elsewhere


class DecodedSizeError(ValueError):
    """The table would decode to more than the budget allows; the message says how much and what to do."""


@dataclass(frozen=True)
class DecodedBudget:
    """What one upload may become in memory once decoded."""

    max_bytes: int = 256 * MiB  # decoded cells: text bytes plus offsets, numbers at their width
    max_cells: int = 10_000_000  # rows × columns
    max_columns: int = 1_000
    max_rows: int | None = None
    max_footer_bytes: int = 8 * MiB  # Parquet metadata (a footer can describe millions of chunks)
    block_bytes: int = 4 * MiB  # CSV: read this much text at a time (a row may not be longer)

    def describe(self) -> str:
        return f"{self.max_bytes / MiB:,.0f} MB and {self.max_cells:,} cells"


@dataclass(frozen=True)
class DecodedEstimate:
    """An upper bound on the decoded size (exact where the chunk was sized by its dictionary)."""

    rows: int
    columns: int
    bytes: int
    probed_chunks: int = 0  # column chunks sized by reading their dictionary indices

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def _too_big(what: str, budget: DecodedBudget, hint: str = "") -> DecodedSizeError:
    return DecodedSizeError(
        f"{what}; this page decodes at most {budget.describe()} per file, so it was not read. "
        + (
            hint
            or "Split the table, drop columns that are not inputs, or use the command line (python -m mas_screen batch)."
        )
    )


def check_shape(rows: int, columns: int, budget: DecodedBudget, *, partial: bool = False) -> None:
    """Columns, rows and cells within the budget; `partial`: rows counted so far (a stream)."""
    some = "at least " if partial else ""
    if columns > budget.max_columns:
        raise _too_big(f"The table has {columns:,} columns (at most {budget.max_columns:,} are read)", budget)
    if budget.max_rows is not None and rows > budget.max_rows:
        raise _too_big(f"The table has {some}{rows:,} rows (at most {budget.max_rows:,} are read)", budget)
    if rows * columns > budget.max_cells:
        raise _too_big(
            f"The table has {some}{rows:,} rows × {columns:,} columns = {some}{rows * columns:,} cells", budget
        )


def check_bytes(decoded: int, budget: DecodedBudget, *, bound: bool) -> None:
    if decoded > budget.max_bytes:
        word = "at least" if not bound else "up to"
        raise _too_big(
            f"Decoded, the table would take {word} {decoded / MiB:,.0f} MB of memory "
            "(its cells are compressed or repeated far more than a cohort's are)",
            budget,
        )


# ------------------------------------------------------------------------------------- Parquet


def footer_length(data: bytes | str | os.PathLike) -> int:
    """The Parquet footer's length, from the 4 bytes before the closing 'PAR1' (0 if not Parquet)."""
    if isinstance(data, bytes):
        tail = data[-8:] if len(data) >= 12 else b""
    else:
        with open(data, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(size - 8, 0))
            tail = fh.read(8) if size >= 12 else b""
    if tail[-4:] != b"PAR1":
        return 0
    return int.from_bytes(tail[:4], "little")


def _open(source: bytes | str | os.PathLike):
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _chunk_bound(chunk, width: int | None) -> tuple[int | None, bool]:
    """(bytes bound or None when it must be probed, is_text)."""
    n = chunk.num_values
    kind = chunk.physical_type
    if kind in FIXED_WIDTH:
        return n * FIXED_WIDTH[kind], False
    if kind == "FIXED_LEN_BYTE_ARRAY":
        return n * max(width or 0, 1), False
    encodings = set(chunk.encodings)
    if encodings & _POINTING:
        return None, True
    if encodings <= _BYTES_IN_PAGES:
        return chunk.total_uncompressed_size + n * OFFSET_BYTES, True
    return None, True  # an encoding this check does not know: size it by reading it as a dictionary


def _probe(source: bytes | str | os.PathLike, row_group: int, names: list[str]) -> int:
    """Exact decoded bytes of text column chunks, reading only their indices and distinct values."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(_open(source), read_dictionary=names)
    table = pf.read_row_group(row_group, columns=names)
    total = 0
    for column in table.columns:
        for chunk in column.chunks:
            if pa.types.is_dictionary(chunk.type):
                lengths = pc.binary_length(chunk.dictionary).cast(pa.int64())
                total += int(pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0)
            else:  # read plain after all
                total += int(pc.sum(pc.binary_length(chunk).cast(pa.int64())).as_py() or 0)
            total += len(chunk) * OFFSET_BYTES
    return total


def _stream_size(source: bytes | str | os.PathLike, row_group: int, name: str, stored: int, limit: int) -> int:
    """Decoded bytes of a chunk that cannot be read as a dictionary (DELTA_BYTE_ARRAY), counted in small
    batches and stopped past `limit`. A value is at most the chunk's stored bytes long (each one is a
    prefix of the one before plus its own suffix), so a batch holds at most ~16 MB."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(_open(source))
    batch_size = max(1, (16 << 20) // max(stored, 1))
    total = 0
    for batch in pf.iter_batches(batch_size=batch_size, row_groups=[row_group], columns=[name]):
        column = batch.column(0)
        total += int(pc.sum(pc.binary_length(column).cast(pa.int64())).as_py() or 0) + len(column) * OFFSET_BYTES
        if total > limit:
            break
    return total


def parquet_estimate(data: bytes | str | os.PathLike, budget: DecodedBudget) -> DecodedEstimate:
    """Check a Parquet file (bytes in memory, or a path) against the budget without decoding its cells.

    Raises DecodedSizeError (over budget) or ValueError-like pyarrow errors (not Parquet); returns the
    estimate when the file fits.
    """
    import pyarrow.parquet as pq

    footer = footer_length(data)
    size = len(data) if isinstance(data, bytes) else os.path.getsize(data)
    if footer > budget.max_footer_bytes or footer > size:
        raise _too_big(f"The Parquet file's metadata alone is {footer / MiB:,.1f} MB", budget)
    pf = pq.ParquetFile(_open(data))
    meta = pf.metadata
    schema = pf.schema  # the Parquet (leaf) schema
    arrow_schema = pf.schema_arrow
    nested = [f.name for f in arrow_schema if pa.types.is_nested(f.type)]
    if nested:
        raise DecodedSizeError(
            f"Column {nested[0]!r} holds lists or records; each cell of a cohort table holds one value. "
            "Flatten the table (one column per value) and upload it again."
        )
    check_shape(meta.num_rows, len(arrow_schema), budget)
    widths = [schema.column(i).length for i in range(meta.num_columns)]
    certain = 0  # bytes every chunk takes at least (fixed widths, bounds, an offset per text value)
    stored = 0  # uncompressed bytes of the chunks to be probed (their dictionaries are read)
    to_probe: dict[int, list[str]] = {}  # row group → text columns to size by their dictionaries
    probe_values: dict[int, int] = {}
    for r in range(meta.num_row_groups):
        group = meta.row_group(r)
        for c in range(group.num_columns):
            chunk = group.column(c)
            bound, _text = _chunk_bound(chunk, widths[c])
            if bound is None:
                to_probe.setdefault(r, []).append(chunk.path_in_schema)
                probe_values[r] = probe_values.get(r, 0) + chunk.num_values
                certain += chunk.num_values * OFFSET_BYTES
                stored += chunk.total_uncompressed_size
            else:
                certain += bound
    check_bytes(certain, budget, bound=not to_probe)
    if stored > budget.max_bytes:  # reading the dictionaries would itself go over
        check_bytes(certain + stored, budget, bound=False)
    total = certain
    for r, names in to_probe.items():
        total -= probe_values[r] * OFFSET_BYTES
        try:
            total += _probe(data, r, names)
        except (NotImplementedError, OSError, pa.ArrowNotImplementedError):  # not readable as a dictionary
            for name in names:
                stored = _stored(meta, r, name)
                total += _stream_size(data, r, name, stored, budget.max_bytes - total)
                check_bytes(total, budget, bound=False)
        check_bytes(total, budget, bound=False)
    return DecodedEstimate(meta.num_rows, len(arrow_schema), total, sum(map(len, to_probe.values())))


def _stored(meta, row_group: int, name: str) -> int:
    group = meta.row_group(row_group)
    for c in range(group.num_columns):
        if group.column(c).path_in_schema == name:
            return group.column(c).total_uncompressed_size
    return 0


# ----------------------------------------------------------------------------------------- CSV


def read_csv_within_budget(body: bytes, names: list[str], delimiter: str, budget: DecodedBudget) -> pa.Table:
    """Every cell as text (empty cell = ""), read block by block and stopped at the budget.

    `body` is the CSV after its header line's bytes are still in place (the header is skipped here);
    `names` are the header's column names. Raises DecodedSizeError, or pyarrow's ArrowInvalid for a
    malformed file (the caller words that).
    """
    import pyarrow.csv as pacsv

    check_shape(0, len(names), budget)
    read = pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=budget.block_bytes, use_threads=False)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.large_string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    reader = pacsv.open_csv(io.BytesIO(body), read_options=read, parse_options=parse, convert_options=convert)
    batches = []
    rows = decoded = 0
    width = len(names)
    batch = _next(reader)
    while batch is not None:
        following = _next(reader)  # one block ahead: a count at the end of the file is exact
        rows += batch.num_rows
        decoded += batch.nbytes
        check_shape(rows, width, budget, partial=following is not None)
        check_bytes(decoded, budget, bound=False)
        batches.append(batch)
        batch = following
    return pa.Table.from_batches(batches, schema=reader.schema)


def _next(reader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


def csv_shape_within(text: str, max_rows: int, max_columns: int) -> tuple[int, int]:
    """(rows after the header, widest row) of a CSV, stopping as soon as either limit is passed.

    For small pages (Trends) that parse rows into patients: a quick count first, so a 2 MB file of
    150,000 one-cell rows is refused in milliseconds instead of being parsed for seconds.
    """
    import csv

    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if any(d in first for d in ",;\t") else ","
    if first.count(delimiter) + 1 > max_columns:
        return 0, first.count(delimiter) + 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = widest = 0
    for i, cells in enumerate(reader):
        widest = max(widest, len(cells))
        if i and any(c.strip() for c in cells):
            rows += 1
        if rows > max_rows or widest > max_columns:
            break
    return rows, widest


__all__ = [
    "DecodedBudget",
    "DecodedEstimate",
    "DecodedSizeError",
    "check_bytes",
    "check_shape",
    "csv_shape_within",
    "footer_length",
    "parquet_estimate",
    "read_csv_within_budget",
]
