"""Cohort screening beyond one machine: the same screen per partition under Dask."""

from __future__ import annotations

import json
import os
import warnings

import pyarrow as pa

from mas_screen.faces.cohort.files import PROVENANCE_KEY, provenance_stamp
from mas_screen.faces.cohort.plan import plan_columns
from mas_screen.faces.cohort.reading import (
    BatchError,
    BatchInputError,
    _arrow_error,
    _csv_header,
    _is_gzip,
    file_format,
    refuse_same_file,
)
from mas_screen.faces.cohort.screen import partition_counts, screen_partition, summarise_counts

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
