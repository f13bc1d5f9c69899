"""Median microseconds per assess() over a realistic mix of synthetic patients (printed, not asserted).

.venv/bin/python benchmarks/bench_assess.py [N] [--mix realistic|unknown|all]

`realistic` is the benchmark mix (complete and partial panels); `unknown` is a patient seen early:
few labs back and most context answers unknown, so many missing values and many next-test trials.

It also prints two floors, below which no assess() returning the contract's pydantic `Assessment`
can go: reading the input (`normalise`: units, censored values, warnings), and building the
output models alone from finished plain data (one `Assessment.model_validate` of the result's own
dump, the input passed as the validated instance it already is): pydantic's validation in Rust,
with no rule evaluated and no text written.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import patients

from mas_screen import Assessment, PatientInput, assess
from mas_screen.kernel.inputs.facts import normalise


def main(n: int = 10_000, mix: str = "realistic") -> None:
    data = patients(n, mix=mix)
    inputs = [PatientInput.model_validate(d) for d in data]
    for p in inputs[:200]:  # warm caches (YAML load, unit indexes)
        assess(p)
    assess_us, cpu_us, full_us = [], [], []
    for d, p in zip(data, inputs, strict=True):
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        assess(p)
        t1 = time.perf_counter_ns()
        cpu_us.append((time.thread_time_ns() - c0) / 1000)
        assess(PatientInput.model_validate(d)).model_dump(mode="json")
        t2 = time.perf_counter_ns()
        assess_us.append((t1 - t0) / 1000)
        full_us.append((t2 - t1) / 1000)
    q = statistics.quantiles(assess_us, n=100)
    print(f"patients: {n} ({mix} mix)")
    print(f"assess(): median {statistics.median(assess_us):.0f} µs, p90 {q[89]:.0f} µs, p99 {q[98]:.0f} µs")
    # CPU time of this thread: on a machine shared with other work it moves far less than wall time
    print(f"assess() CPU time: median {statistics.median(cpu_us):.0f} µs")
    print(f"validate + assess + model_dump(json): median {statistics.median(full_us):.0f} µs")
    floor_in, floor_out = [], []
    for p in inputs:
        plain = assess(p).model_dump()
        plain["provenance"]["input"] = p
        t0 = time.perf_counter_ns()
        normalise(p)
        t1 = time.perf_counter_ns()
        Assessment.model_validate(plain)
        t2 = time.perf_counter_ns()
        floor_in.append((t1 - t0) / 1000)
        floor_out.append((t2 - t1) / 1000)
    fin, fout = statistics.median(floor_in), statistics.median(floor_out)
    print(
        f"floor: read the input {fin:.0f} µs + build the output models from plain data {fout:.0f} µs = {fin + fout:.0f} µs"
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    chosen = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--mix=")), "all")
    for name in ("realistic", "unknown") if chosen == "all" else (chosen,):
        main(int(args[0]) if args else 10_000, name)
