"""Median microseconds per assess() over a realistic mix of synthetic patients (printed, not asserted).

.venv/bin/python benchmarks/bench_assess.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import patients

from mas_screen import PatientInput, assess


def main(n: int = 10_000) -> None:
    data = patients(n)
    inputs = [PatientInput.model_validate(d) for d in data]
    for p in inputs[:200]:  # warm caches (YAML load, unit indexes)
        assess(p)
    assess_us, full_us = [], []
    for d, p in zip(data, inputs, strict=True):
        t0 = time.perf_counter_ns()
        assess(p)
        t1 = time.perf_counter_ns()
        assess(PatientInput.model_validate(d)).model_dump(mode="json")
        t2 = time.perf_counter_ns()
        assess_us.append((t1 - t0) / 1000)
        full_us.append((t2 - t1) / 1000)
    q = statistics.quantiles(assess_us, n=100)
    print(f"patients: {n}")
    print(f"assess(): median {statistics.median(assess_us):.0f} µs, p90 {q[89]:.0f} µs, p99 {q[98]:.0f} µs")
    print(f"validate + assess + model_dump(json): median {statistics.median(full_us):.0f} µs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
