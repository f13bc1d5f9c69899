"""Cohort screening of files: the input (read by faces/cohort/reading.py, whole or in chunks) screened in
slices on a small thread pool, CSV or Parquet out with the provenance stamp."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from mas_screen.faces.cohort.labs import column_texts
from mas_screen.faces.cohort.plan import WARNING_SEPARATOR, BatchPlan, plan_columns
from mas_screen.faces.cohort.reading import (
    BatchInputError,
    OpenedInput,
    file_format,
    open_input,
)
from mas_screen.faces.cohort.screen import (
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

    @cached_property
    def provenance(self) -> dict:
        """One stamp per output file, made at the first write: the criteria fingerprint (every data
        file parsed and hashed, ~0.05 s) is then worked out while the first slices are screened, not
        before they start."""
        return provenance_stamp()

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
                    # No min/max statistics: rows are in input order, so every row group (a slice)
                    # holds every status and nearly the whole range of every score, and a reader's
                    # filter could skip nothing by them; they cost ~12% of the write.
                    self.writer = pq.ParquetWriter(
                        self.path, self.schema, use_dictionary=low or False, write_statistics=False
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


# Rows per slice of a file, at most. Each slice costs a fixed amount of Python between the kernels
# (on two threads that share one interpreter lock), so larger slices cost less per row; their
# temporaries grow with them (~1 KB per row per thread, ~0.7 GB peak at 1,000,000 rows) and the
# last slice's write is the work left after the last screen. Measured on two cores against 65,536:
# 1,000,000 rows 3.62 -> 3.44 s of CPU (wall 2.00 -> 1.89 s), 400,000 rows unchanged.
FILE_SLICE_ROWS = 1 << 17
# With --explain a slice also keeps every item's outcome and works out its next tests: half the rows
# (measured: 1,000,000 rows 4.8 -> 4.3 s, peak RSS 1.40 -> 0.90 GB; 32,768 is slower again).
EXPLAIN_SLICE_ROWS = 1 << 16


def _slices(table: pa.Table, rows: int):
    for start in range(0, table.num_rows, rows):
        yield table.slice(start, rows)


def _tapered(table: pa.Table, workers: int, most: int) -> list[pa.Table]:
    """The table in `balanced_rows` slices, the last round's halved when there are two rounds or more:
    the last slice's write is the only work left after the last screen, so it is made short. At
    least one slice (an empty table's, so an empty file's output has its columns)."""
    parts = list(_slices(table, balanced_rows(table.num_rows, workers, most))) or [table]
    if len(parts) >= 2 * workers:
        last = parts[-workers:]
        parts = parts[:-workers] + [half for p in last for half in _slices(p, -(-p.num_rows // 2))]
    return parts


def balanced_rows(n: int, workers: int, most: int = FILE_SLICE_ROWS) -> int:
    """Rows per slice: at most `most`, and the slices of `n` rows in whole rounds of `workers` of
    equal size, so no worker screens a last slice alone while the others wait (400,000 rows on two
    workers: four slices of 100,000, not three of 131,072 and a small one). Never below a quarter of
    `most` rows (per-slice costs), unless the table is smaller."""
    rounds = max(1, -(-n // (workers * most)))
    return max(1, -(-n // (rounds * workers)), min(n, most // 4))  # a small table is not cut up


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
    opened: OpenedInput | None = None,
) -> dict:
    """Screen a CSV or Parquet file into a CSV or Parquet file; returns the summary.

    The file is read whole when small (CSV up to 256 MB; Parquet unless `chunk_rows` is given), else
    streamed in chunks of `chunk_rows` (default 500,000) rows, so memory is bounded by the chunk
    whatever the file size. Each chunk is screened in equal slices (`balanced_rows`) by one thread per
    core, this one included (the kernels release the GIL), which also write the finished slices in
    order and read the next chunk (`_screen_and_write`).
    `progress(done, total, rows)` is called as slices are written (bytes for CSV, rows for Parquet).
    `opened`: the input already opened by `reading.open_input` with these arguments (the command line
    starts reading before it loads the screening code).
    """
    fmt_out = file_format(out_path, format_out)
    if opened is None:
        opened = open_input(in_path, out_path, format_in=format_in, format_out=format_out, chunk_rows=chunk_rows)
    names, total, chunks = opened
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
        most = EXPLAIN_SLICE_ROWS if explain else FILE_SLICE_ROWS
        _screen_and_write(chunks, work, absorb, workers, in_flight, total, most)
    finally:
        writer.close()
    if not totals:
        totals = screened_counts(screen_blocks(plan, {n: arrow.repeated("", 0) for n in plan.names}, 0))
        totals["slow_cells"] = 0
    slow = totals.pop("slow_cells", 0)
    summary = summarise_counts(totals)
    summary["warnings"] = dict(sorted(codes.items()))
    summary["cells_decided_by_single_patient_code"] = slow
    summary["ignored_columns"] = list(plan.ignored)
    summary["provenance"] = writer.provenance
    return summary


def _screen_and_write(
    chunks, work: Callable, absorb: Callable, workers: int, ahead: int, total: int, most: int = FILE_SLICE_ROWS
) -> None:
    """Read the chunks, screen their slices and hand each result, in order, to `absorb` (which
    writes it), on `workers` threads, this one included: one per core. Each thread takes the next
    job there is: the next slice's write once it is screened (one write at a time), else the next
    slice to screen (at most `ahead` beyond the last written, which bounds memory), else, when every
    slice read so far is taken, the next chunk. So no thread waits behind a writer (a writer thread
    beside one screening thread per core cost ~0.1 s of CPU per 400,000 rows in switching) and none
    idles while work is left; the last slice's write is the only work after the last screen."""
    pieces: list = []  # slices of the chunks read so far (None once written)
    marks: list[int] = []  # progress done when each slice is written
    results: list = []
    ready = threading.Condition()
    state = {"claimed": 0, "written": 0, "writing": False, "reading": False, "ended": False, "error": None}

    def take():
        """The next job, waiting for one; None when everything is written or a job failed."""
        with ready:
            while True:
                if state["error"] is not None or (state["ended"] and state["written"] == len(pieces)):
                    return None
                head, claimed = state["written"], state["claimed"]
                if not state["writing"] and head < len(pieces) and results[head] is not None:
                    state["writing"] = True
                    return "write", head
                if claimed < len(pieces) and claimed - head < ahead:
                    state["claimed"] += 1
                    return "screen", claimed
                if claimed == len(pieces) and not (state["ended"] or state["reading"]):
                    state["reading"] = True
                    return "read", None
                ready.wait()

    def do(kind: str, i) -> None:
        if kind == "read":
            table, done = next(chunks, (None, None))
            parts = [] if table is None else _tapered(table, workers, most)
            del table
            with ready:
                pieces.extend(parts)
                marks.extend(done if k == len(parts) - 1 else min(done, total) for k in range(len(parts)))
                results.extend([None] * len(parts))
                state["reading"], state["ended"] = False, not parts
                ready.notify_all()
        elif kind == "screen":
            item = work(pieces[i])
            with ready:
                results[i] = item
                ready.notify_all()
        else:
            item, results[i], pieces[i] = results[i], None, None  # freed once written
            absorb(marks[i], item)
            with ready:
                state["written"] += 1
                state["writing"] = False
                ready.notify_all()

    def run() -> None:
        try:
            while (job := take()) is not None:
                do(*job)
        except BaseException as exc:  # the first failure stops every thread; the caller raises it
            with ready:
                if state["error"] is None:
                    state["error"] = exc
                ready.notify_all()

    helpers = [threading.Thread(target=run, name=f"mas-screen-{k}", daemon=True) for k in range(workers - 1)]
    for t in helpers:
        t.start()
    try:
        run()
    finally:
        for t in helpers:
            t.join()
    if state["error"] is not None:
        raise state["error"]


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
