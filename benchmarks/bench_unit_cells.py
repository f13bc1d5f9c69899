"""Cells that carry their unit ("19.164651 ng/mL"): a 100,000-row cohort through the Batch page's path,
before and after the columnar reading of such cells (issue 13 point 9). Printed, never asserted.

    .venv/bin/python benchmarks/bench_unit_cells.py                  # this tree, and `main` for comparison
    .venv/bin/python benchmarks/bench_unit_cells.py --before-ref ""  # this tree only
    .venv/bin/python benchmarks/bench_unit_cells.py --rows 20000

Builds the cohort (every lab cell "<number with 6 decimals> <unit>", the unit the column's or another
accepted spelling; about 23 MB of CSV for 100,000 rows, like the issue's file), then in a child process
per source tree reads it as the Batch page does (batch_io.read_upload) and screens it
(batch_io.screen_upload): wall and CPU seconds, rows per second, cells left to the single-patient code.
The `before` tree is `git archive <ref>` in a temporary folder (nothing else is touched). The two
trees' result columns are compared, so a speed-up cannot hide a changed result.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# lab → (column, low, high, unit spellings written in the cells)
LABS = {
    "ferritin": ("ferritin", 50, 60000, ["ng/mL", "ng/ml", "µg/L", "ug/L"]),
    "platelets": ("platelets", 20, 600, ["10^9/L", "x10^9/L", "10^3/µL", "K/uL"]),
    "wbc": ("wbc", 1, 30, ["10^9/L", "10^3/µL"]),
    "neutrophils": ("neutrophils", 0.2, 20, ["10^9/L", "10^3/µL"]),
    "hemoglobin": ("hemoglobin", 6, 14, ["g/dL", "g/dl"]),
    "ast": ("ast", 15, 900, ["U/L", "IU/L"]),
    "alt": ("alt", 10, 800, ["U/L", "IU/L"]),
    "ldh": ("ldh", 150, 4000, ["U/L"]),
    "triglycerides": ("triglycerides", 60, 600, ["mg/dL"]),
    "fibrinogen": ("fibrinogen", 80, 700, ["mg/dL"]),
    "esr": ("esr", 1, 120, ["mm/h", "mm/hr"]),
    "crp": ("crp", 1, 300, ["mg/L"]),
}

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from mas_screen.ui import batch_io
data = open(sys.argv[2], "rb").read()
t0, c0 = time.perf_counter(), time.process_time()
frame, fmt = batch_io.read_upload("cohort.csv", data)
screened, summary, ignored = batch_io.screen_upload(frame)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
screened.drop(columns=list(frame.columns)).astype(str).to_csv(sys.argv[3], index=False)
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": len(screened),
                  "slow_cells": int(screened.attrs.get("slow_cells", -1)),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def cohort_csv(path: Path, n: int, seed: int = 2026) -> None:
    rng = np.random.default_rng(seed)
    columns = {"id": [f"p{i}" for i in range(n)]}
    columns["underlying_disease"] = list(rng.choice(["sjia", "aosd", "sle", "other", "unknown"], n))
    columns["febrile"] = list(rng.choice(["yes", "no", ""], n))
    for _key, (name, lo, hi, units) in LABS.items():
        values = rng.uniform(lo, hi, n)
        spelled = rng.choice(units, n)
        filled = rng.random(n) < 0.85
        columns[name] = [f"{v:.6f} {u}" if f else "" for v, u, f in zip(values, spelled, filled, strict=True)]
    lines = [",".join(columns)]
    for i in range(n):
        lines.append(",".join(columns[c][i] for c in columns))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure(tree: Path, csv_path: Path, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(csv_path), str(out)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--before-ref", default="main", help="git ref measured for comparison ('' to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "cohort.csv"
        t0 = time.perf_counter()
        cohort_csv(csv_path, args.rows)
        size = csv_path.stat().st_size
        print(f"cohort: {args.rows:,} rows, every lab cell with its unit, {size / 1e6:.1f} MB CSV "
              f"(built in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
        trees = {"after (this tree)": ROOT}
        if args.before_ref:
            before = tmp_path / "before"
            before.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.before_ref], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
            trees = {f"before ({args.before_ref})": before, **trees}
        results = {}
        for label, tree in trees.items():
            out = tmp_path / f"{len(results)}.csv"
            r = measure(tree, csv_path, out)
            results[label] = (r, out)
            print(
                f"{label:<22} {r['seconds']:7.1f} s wall, {r['cpu']:7.1f} s CPU, {r['rows'] / r['seconds']:>9,.0f} rows/s, "
                f"cells decided one by one: {r['slow_cells']:,}, peak RSS {r['peak_rss_mb']:,.0f} MB"
            )
        if len(results) == 2:
            (a, out_a), (b, out_b) = results.values()
            same = out_a.read_bytes() == out_b.read_bytes()
            print(f"speed-up: {a['seconds'] / b['seconds']:.0f}× wall, {a['cpu'] / b['cpu']:.0f}× CPU; "
                  f"result columns identical: {same}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
