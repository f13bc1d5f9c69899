"""Cohort screening of files: CSV or Parquet in (whole or streamed in chunks), screened in slices on a small
thread pool, CSV or Parquet out with the provenance stamp."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from mas_screen.faces.cohort.labs import column_texts
from mas_screen.faces.cohort.plan import WARNING_SEPARATOR, BatchError, BatchPlan, output_columns, plan_columns
from mas_screen.faces.cohort.screen import (
    BLOCK_ROWS,
    THREADS,
    results_arrays,
    screen_blocks,
    screen_with_plan,
    screened_counts,
    summarise_counts,
)
from mas_screen.kernel.inputs import arrow
from mas_screen.kernel.inputs.safe_csv import neutralise_arrow

if TYPE_CHECKING:
    import pandas as pd
else:
    from mas_screen.faces.cohort.lazy_pandas import pd

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
            pending = pa.Table.from_batches([], schema=reader.schema)
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
    filled = warnings.filter(pc.not_equal(warnings, arrow.text("", warnings.type)))
    if not len(filled):
        return {}
    parts = pc.list_flatten(pc.split_pattern(filled, WARNING_SEPARATOR))
    found = pc.value_counts(parts)
    return {str(v["values"]): int(v["counts"]) for v in found.to_pylist()}


def _empty(plan: BatchPlan) -> pd.DataFrame:
    return screen_with_plan(pd.DataFrame({n: pd.Series([], dtype="str") for n in plan.names}), plan)
