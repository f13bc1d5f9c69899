"""Reading a cohort file: its format and header, the whole CSV or its chunks, Parquet in batches.

Nothing here loads the criteria or the screening code, so a batch run starts reading its file
(`open_input`: on a background thread, the read releases the GIL and uses every core) while the
rest of the program is still being imported: ~0.1 s of a 400,000-row run (issue 14).
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from threading import Thread
from typing import NamedTuple

import pyarrow as pa

AUTO_CHUNK_BYTES = 256 << 20  # CSV files above this are streamed in chunks (bounded memory)
DEFAULT_CHUNK_ROWS = 500_000


class BatchError(ValueError):
    """The table cannot be screened at all (no id column, unknown columns, …)."""


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
    return _read_whole(path, *_csv_header(path))


def _read_whole(path: str | os.PathLike, names: list[str], delimiter: str) -> pa.Table:
    import pyarrow.csv as pacsv

    read, parse, convert = _csv_options(names, delimiter)
    try:
        return pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _arrow_error(path, exc) from exc


def iter_table_chunks(path: str | os.PathLike, fmt: str, chunk_rows: int | None):
    """(column names, total size for progress, iterator of (pa.Table, progress done)). A CSV read
    whole starts being read at once, on its own thread; chunks and Parquet are read as iterated."""
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
        # Read whole, from now on, on its own thread (the read releases the GIL and uses every
        # core): the caller loads and plans the screening meanwhile.
        return names, size, _read_ahead(lambda: _read_whole(path, names, delimiter), size)
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


class OpenedInput(NamedTuple):
    """A cohort file being read: column names, total size for progress (bytes of a CSV, rows of a
    Parquet file), and the chunks as (table, progress done)."""

    names: list[str]
    total: int
    chunks: Iterator[tuple[pa.Table, int]]


def open_input(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    format_in: str = "auto",
    format_out: str = "auto",
    chunk_rows: int | None = None,
) -> OpenedInput:
    """Check the input and output names (BatchInputError), then start reading: a CSV read whole is
    read at once on a background thread, so the caller can prepare the screening meanwhile; the
    first chunk it asks for waits for the read (and raises its error, if any)."""
    fmt_in = file_format(in_path, format_in)
    file_format(out_path, format_out)
    if not os.path.exists(in_path):
        raise BatchInputError(f"cannot read {in_path}: no such file")
    refuse_same_file(in_path, out_path)
    return OpenedInput(*iter_table_chunks(in_path, fmt_in, chunk_rows))


def _read_ahead(read: Callable[[], pa.Table], size: int) -> Iterator[tuple[pa.Table, int]]:
    """The one chunk of a whole-file read: read now on a daemon thread, handed over when asked."""
    done: Future = Future()

    def run() -> None:
        try:
            done.set_result(read())
        except BaseException as exc:  # handed to the consumer, raised where the chunk is asked for
            done.set_exception(exc)

    Thread(target=run, name="mas-screen-read", daemon=True).start()

    def handed() -> Iterator[tuple[pa.Table, int]]:
        yield done.result(), size

    return handed()


__all__ = [
    "AUTO_CHUNK_BYTES",
    "DEFAULT_CHUNK_ROWS",
    "BatchError",
    "BatchInputError",
    "OpenedInput",
    "file_format",
    "iter_table_chunks",
    "open_input",
    "parquet_chunk_rows",
    "read_csv_table",
    "refuse_same_file",
]
