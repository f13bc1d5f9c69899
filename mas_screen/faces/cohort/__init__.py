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

The names below load on first use (PEP 562): `reading` (the file, its header, the read itself) loads
without the criteria or the screening code, so the command line starts reading first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mas_screen.faces.cohort.dask import parse_blocksize, run_dask
    from mas_screen.faces.cohort.files import (
        PROVENANCE_KEY,
        provenance_stamp,
        run_file,
        tune_allocator,
        with_provenance,
    )
    from mas_screen.faces.cohort.plan import (
        BatchPlan,
        analyte_needs,
        output_columns,
        plan_columns,
        range_instruments,
    )
    from mas_screen.faces.cohort.reading import (
        AUTO_CHUNK_BYTES,
        BatchError,
        BatchInputError,
        open_input,
        parquet_chunk_rows,
        read_csv_table,
    )
    from mas_screen.faces.cohort.screen import (
        partition_counts,
        screen_frame,
        screen_partition,
        screen_with_plan,
        summarise_counts,
        summarise_results,
    )

_WHERE = {
    "parse_blocksize": "dask",
    "run_dask": "dask",
    "PROVENANCE_KEY": "files",
    "provenance_stamp": "files",
    "run_file": "files",
    "tune_allocator": "files",
    "with_provenance": "files",
    "BatchPlan": "plan",
    "analyte_needs": "plan",
    "output_columns": "plan",
    "plan_columns": "plan",
    "range_instruments": "plan",
    "AUTO_CHUNK_BYTES": "reading",
    "BatchError": "reading",
    "BatchInputError": "reading",
    "open_input": "reading",
    "parquet_chunk_rows": "reading",
    "read_csv_table": "reading",
    "partition_counts": "screen",
    "screen_frame": "screen",
    "screen_partition": "screen",
    "screen_with_plan": "screen",
    "summarise_counts": "screen",
    "summarise_results": "screen",
}

__all__ = [
    "AUTO_CHUNK_BYTES",
    "PROVENANCE_KEY",
    "BatchError",
    "BatchInputError",
    "BatchPlan",
    "analyte_needs",
    "open_input",
    "output_columns",
    "parquet_chunk_rows",
    "parse_blocksize",
    "partition_counts",
    "plan_columns",
    "provenance_stamp",
    "range_instruments",
    "read_csv_table",
    "run_dask",
    "run_file",
    "screen_frame",
    "screen_partition",
    "screen_with_plan",
    "summarise_counts",
    "summarise_results",
    "tune_allocator",
    "with_provenance",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
