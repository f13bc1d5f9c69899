"""Cohort screening against the I/O floor (issue 14, point 8): printed, never asserted.

    .venv/bin/python benchmarks/bench_batch_floor.py                       # 400,000 and 1,000,000 rows
    .venv/bin/python benchmarks/bench_batch_floor.py --rows 400000 --repeats 5

For each size, a cohort CSV like the acceptance check's (12 labs, 15% of cells blank, 15% at a
published cut-off, yes/no/blank context answers, five underlying diseases), then, interleaved so
that noise hits all alike: the floor (a process that only reads the CSV with pyarrow.csv.read_csv
and writes it with pyarrow.parquet.write_table), `python -m mas_screen batch IN -o OUT.parquet`, and
the same with `--explain`. Prints the best and median wall time of each, the ratio to the floor
(goal <= 2.0x), each process's peak RSS (goal <= 1.5 GB at 1,000,000 rows) and what --explain costs.
Run it on a quiet machine: on two cores, anything else running moves every figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
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

# (low, high, values at published cut-offs) as in ../shared/acceptance/kernel-batch-floor
LABS = {
    "ferritin": (50, 30000, [684, 685, 2000, 6000, 500]),
    "platelets": (10, 600, [181, 110, 100, 78]),
    "ast": (10, 800, [48, 30, 40]),
    "ldh": (100, 3000, [567]),
    "triglycerides": (50, 600, [156, 178, 265]),
    "fibrinogen": (50, 700, [360, 250, 150, 131]),
    "esr": (1, 120, []),
    "hemoglobin": (5, 15, [9.2, 9.0, 8.3]),
    "wbc": (0.5, 30, [5.0, 4.0]),
    "neutrophils": (0.1, 25, [1.0, 1.4]),
    "scd25": (200, 20000, [2400, 3900]),
    "temperature": (36, 41, [38.4, 39.4, 38.5]),
}
FLOOR = "import sys, pyarrow.csv as c, pyarrow.parquet as q; q.write_table(c.read_csv(sys.argv[1]), sys.argv[2])"


def _choice(rng: np.random.Generator, words: list[str], n: int) -> pa.Array:
    return pc.take(pa.array(words), pa.array(rng.integers(0, len(words), n)))


def write_cohort(path: Path, n: int, seed: int = 13) -> None:
    """The cohort as text columns (numbers as Python spells them), written once per size."""
    rng = np.random.default_rng(seed)
    cols: dict[str, pa.Array] = {
        "id": pc.binary_join_element_wise("p", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    }
    cols["underlying_disease"] = _choice(rng, ["sjia", "aosd", "sle", "other", "unknown"], n)
    for field in ("febrile", "splenomegaly", "hepatomegaly"):
        cols[field] = _choice(rng, ["true", "false", ""], n)
    cols["age_years"] = pc.cast(pa.array(np.round(rng.uniform(0.1, 80, n), 1)), pa.string())
    for key, (low, high, edges) in LABS.items():
        u = rng.random(n)
        values = pc.cast(pa.array(np.round(rng.uniform(low, high, n), 1)), pa.string())
        if edges:
            at_edge = pc.take(pa.array([str(e) for e in edges]), pa.array(rng.integers(0, len(edges), n)))
            values = pc.if_else(pa.array(u < 0.3), at_edge, values)
        cols[key] = pc.if_else(pa.array(u < 0.15), pa.scalar(""), values)
    # unquoted, as csv.DictWriter writes it in the acceptance check (no cell holds a comma)
    pacsv.write_csv(pa.table(cols), path, pacsv.WriteOptions(quoting_style="none"))


def run(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes (of this child alone: wait4) and stderr of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err[-2000:]}")
    return seconds, usage.ru_maxrss * 1024, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[400_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            src = Path(tmp) / f"cohort_{n}.csv"
            write_cohort(src, n)
            out = str(Path(tmp) / "out.parquet")
            runs = {
                "floor": [py, "-c", FLOOR, str(src), out],
                "batch": [py, "-m", "mas_screen", "batch", str(src), "-o", out],
                "batch --explain": [py, "-m", "mas_screen", "batch", str(src), "-o", out, "--explain"],
            }
            times: dict[str, list[float]] = {k: [] for k in runs}
            rss: dict[str, int] = dict.fromkeys(runs, 0)
            for _ in range(args.repeats):
                for name, cmd in runs.items():
                    seconds, peak, _ = run(cmd)
                    times[name].append(seconds)
                    rss[name] = max(rss[name], peak)
            size = src.stat().st_size / 1e6
            print(f"{n:,} rows ({size:.0f} MB CSV), best and median of {args.repeats}, interleaved:")
            floor = min(times["floor"])
            for name, found in times.items():
                ratio = "" if name == "floor" else f"  = {min(found) / floor:.2f}x the floor (best)"
                print(
                    f"  {name:16s} best {min(found):5.2f} s, median {statistics.median(found):5.2f} s,"
                    f" peak RSS {rss[name] / 2**20:5.0f} MB{ratio}"
                )
            extra = min(times["batch --explain"]) - min(times["batch"])
            print(
                f"  --explain costs {extra:+.2f} s ({min(times['batch --explain']) / min(times['batch']):.2f}x batch)"
            )


if __name__ == "__main__":
    main()
