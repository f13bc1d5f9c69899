"""Cohort screening speed (printed, never asserted).

    .venv/bin/python benchmarks/bench_batch.py                 # 1,000,000 panels: CSV → Parquet
    .venv/bin/python benchmarks/bench_batch.py --rows 200000   # a quicker run
    .venv/bin/python benchmarks/bench_batch.py --dask-rows 10000000   # also the Dask path on 10M rows

Generates a synthetic cohort CSV (realistic mix: SI and US unit columns, partial panels, censored
ferritin, the occasional bad value), runs `python -m mas_screen batch IN -o OUT.parquet` in a child
process (so its peak RSS is its own), and measures assess() per row on a sample of the same rows in
this process for the speed-up. Targets on a 2-core machine: ≤ 5 s for 1M rows, ≥ 200× the per-row
speed, ≤ 1.5 GB peak RSS; the Dask path's memory bounded by the partition size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import BOOLS  # noqa: E402  the same yes/no fields as the single-patient benchmark

# (column, low, high, decimals) — one of each lab's columns is filled per row
LAB_COLUMNS = {
    "ferritin": [("ferritin", 50, 60000, 0), ("ferritin_ug_per_L", 50, 60000, 1)],
    "platelets": [("platelets", 20, 600, 0), ("platelets_per_uL", 20000, 600000, -3)],
    "wbc": [("wbc", 1, 30, 1), ("wbc_10^3_per_uL", 1, 30, 2)],
    "neutrophils": [("neutrophils", 0.2, 20, 2)],
    "hemoglobin": [("hemoglobin", 6, 14, 1), ("hemoglobin_g_per_L", 60, 140, 0)],
    "ast": [("ast", 15, 900, 0)],
    "alt": [("alt", 10, 800, 0)],
    "ldh": [("ldh", 150, 4000, 0)],
    "triglycerides": [("triglycerides", 60, 600, 0), ("triglycerides_mmol_per_L", 0.7, 6.8, 2)],
    "fibrinogen": [("fibrinogen", 80, 700, 0), ("fibrinogen_g_per_L", 0.8, 7.0, 1)],
    "esr": [("esr", 1, 120, 0)],
    "crp": [("crp", 1, 300, 0)],
    "scd25": [("scd25", 300, 20000, 0)],
    "temperature": [("temperature", 36.5, 40.5, 1), ("temperature_degF", 97.7, 104.9, 1)],
}


def _format(values: np.ndarray, decimals: int) -> pa.Array:
    if decimals <= 0:
        return pc.cast(pa.array(np.round(values, decimals).astype(np.int64)), pa.string())
    scaled = np.round(values * 10**decimals).astype(np.int64)
    whole, frac = np.divmod(scaled, 10**decimals)
    frac_text = pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), decimals, "0")
    return pc.binary_join_element_wise(pc.cast(pa.array(whole), pa.string()), frac_text, ".")


def synthetic_table(n: int, seed: int = 2026) -> pa.Table:
    """n synthetic panels in the contract's Batch layout (all cells strings, as typed)."""
    rng = np.random.default_rng(seed)
    empty = pa.array(np.full(n, ""), pa.string())
    columns: dict[str, pa.Array] = {
        "id": pc.binary_join_element_wise(pa.array(np.full(n, "p")), pc.cast(pa.array(np.arange(n)), pa.string()), "")
    }
    completeness = rng.choice([0.3, 0.6, 0.9, 1.0], n)
    columns["underlying_disease"] = pa.array(
        rng.choice(["sjia", "suspected_sjia", "aosd", "sle", "other", "unknown"], n)
    )
    columns["biologic_therapy"] = pa.array(rng.choice(["none", "il1", "il6", "unknown"], n))
    for name in BOOLS:
        answer = rng.choice(["yes", "no", ""], n)
        columns[name] = pa.array(np.where(rng.random(n) < completeness, answer, ""))
    columns["age_years"] = _format(rng.uniform(0.5, 70, n), 1)
    for key, options in LAB_COLUMNS.items():
        present = rng.random(n) < completeness
        which = rng.integers(0, len(options), n)
        for j, (column, lo, hi, decimals) in enumerate(options):
            text = _format(rng.uniform(lo, hi, n), decimals)
            roll = rng.random(n)
            if key == "ferritin":
                censored = pc.binary_join_element_wise(
                    pa.array(np.full(n, ">")), _format(rng.uniform(lo, hi, n), 0), ""
                )
                text = pc.if_else(pa.array(roll < 0.02), censored, text)
            text = pc.if_else(pa.array((roll > 0.02) & (roll < 0.03)), pa.scalar("pending"), text)
            columns[column] = pc.if_else(pa.array(present & (which == j)), text, empty)
    return pa.table(columns)


def write_csv(path: Path, n: int, seed: int = 2026, chunk: int = 1_000_000) -> None:
    with pacsv.CSVWriter(path, synthetic_table(min(n, 10), seed).schema) as writer:
        done = 0
        while done < n:
            size = min(chunk, n - done)
            table = synthetic_table(size, seed + done)
            if done:
                ids = pc.binary_join_element_wise(
                    pa.array(np.full(size, "p")), pc.cast(pa.array(np.arange(done, done + size)), pa.string()), ""
                )
                table = table.set_column(0, "id", ids)
            writer.write_table(table)
            done += size


def run_cli(args: list[str]) -> tuple[float, int, int, str]:
    """Wall time, peak RSS of the process tree (summed: client, scheduler and Dask workers) and of
    its largest single process (bytes), sampled every 50 ms with psutil, and the command's stdout."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mas_screen", "batch", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = psutil.Process(proc.pid)
    peak_tree = peak_one = 0
    while proc.poll() is None:
        try:
            sizes = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
        except psutil.Error:
            sizes = []
        if sizes:
            peak_tree, peak_one = max(peak_tree, sum(sizes)), max(peak_one, max(sizes))
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {stderr}")
    return wall, peak_tree, peak_one, stdout


def per_row_speed(csv_path: Path, sample: int) -> tuple[float, float]:
    """Rows per second, one row at a time: (row → PatientInput → assess(), assess() alone)."""
    import pandas as pd

    from mas_screen import PatientInput, assess
    from mas_screen.kernel.inputs.columns import parse_columns, row_to_patient_data

    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False, nrows=sample)
    cmap = parse_columns(list(df.columns))
    records = df.to_dict("records")
    for row in records[:50]:
        assess(PatientInput.model_validate(row_to_patient_data(row, cmap)))
    t0 = time.perf_counter()
    inputs = [PatientInput.model_validate(row_to_patient_data(row, cmap)) for row in records]
    for patient in inputs:
        assess(patient)
    full = len(records) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for patient in inputs:
        assess(patient)
    alone = len(records) / (time.perf_counter() - t0)
    return full, alone


def in_process(csv_path: Path, out: Path) -> dict:
    """The same pipeline in this process, split into stages (read, screen, write)."""
    import pyarrow.parquet as pq

    from mas_screen.faces.cohort import read_csv_table, screen_frame

    t0 = time.perf_counter()
    table = read_csv_table(csv_path)
    df = table.to_pandas()
    t1 = time.perf_counter()
    screened = screen_frame(df)
    t2 = time.perf_counter()
    pq.write_table(pa.Table.from_pandas(screened, preserve_index=False), out)
    t3 = time.perf_counter()
    return {"read": t1 - t0, "screen": t2 - t1, "write": t3 - t2, "slow_cells": screened.attrs.get("slow_cells", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=3000, help="rows for the per-row assess() speed")
    parser.add_argument("--dask-rows", type=int, default=0, help="also run --engine dask on this many rows")
    parser.add_argument("--dask-blocksize", default="64MB")
    parser.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="mas-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"cohort_{args.rows}.csv"
    if not csv_path.exists():
        t0 = time.perf_counter()
        write_csv(csv_path, args.rows)
        print(f"synthetic CSV made in {time.perf_counter() - t0:.1f} s")
    print(f"synthetic CSV: {args.rows:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB ({os.cpu_count()} cores)")

    out = work / "out.parquet"
    wall, peak_tree, _peak_one, stdout = run_cli([str(csv_path), "-o", str(out), "--no-progress"])
    rate = args.rows / wall
    print(
        f"python -m mas_screen batch CSV → Parquet (whole process, start-up included): {wall:.2f} s, "
        f"{rate:,.0f} rows/s, peak RSS {peak_tree / 1e9:.2f} GB"
    )
    print(stdout.strip())

    stages = in_process(csv_path, work / "stages.parquet")
    print(
        f"stages in one process, one after another: read {stages['read']:.2f} s, screen {stages['screen']:.2f} s, "
        f"write {stages['write']:.2f} s; cells decided by the single-patient code: {stages['slow_cells']:,}"
    )

    full, alone = per_row_speed(csv_path, args.sample)
    print(
        f"per row, {args.sample:,}-row sample: row → PatientInput → assess() {full:,.0f} rows/s; assess() alone {alone:,.0f} rows/s"
    )
    print(f"speed-up, whole batch process vs row → PatientInput → assess(): {rate / full:,.0f}×")
    print(f"speed-up, whole batch process vs assess() alone: {rate / alone:,.0f}×")
    print(
        f"speed-up, screening step (screen_frame) vs row → PatientInput → assess(): {args.rows / stages['screen'] / full:,.0f}×"
    )
    print("targets: ≤ 5 s for 1M rows, ≥ 200× per row, ≤ 1.5 GB peak RSS")

    if args.dask_rows:
        big = work / f"cohort_{args.dask_rows}.csv"
        if not big.exists():
            write_csv(big, args.dask_rows)
        print(f"synthetic CSV: {args.dask_rows:,} rows, {big.stat().st_size / 1e9:.2f} GB")
        # The same partition size on a 10× smaller file: similar peaks show memory is bounded by the
        # partition, not by the file.
        for rows, source in ((args.rows, csv_path), (args.dask_rows, big)):
            out_dir = work / f"dask_out_{rows}.parquet"
            shutil.rmtree(out_dir, ignore_errors=True)
            wall, peak_tree, peak_one, stdout = run_cli(
                [
                    str(source),
                    "-o",
                    str(out_dir),
                    "--engine",
                    "dask",
                    "--blocksize",
                    args.dask_blocksize,
                    "--no-progress",
                ]
            )
            print(
                f"--engine dask, {rows:,} rows (local cluster, one worker per core, {args.dask_blocksize} partitions): "
                f"{wall:.1f} s incl. cluster start, {rows / wall:,.0f} rows/s; peak RSS of all processes together "
                f"{peak_tree / 1e9:.2f} GB, of the largest one {peak_one / 1e9:.2f} GB"
            )
        print(stdout.strip())


if __name__ == "__main__":
    main()
