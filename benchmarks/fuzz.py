"""Fuzz every face of the core with >= 100,000 inputs; print counts per target and every failure.

    .venv/bin/python benchmarks/fuzz.py              # 110,000+ inputs (about 10 minutes on 2 cores)
    .venv/bin/python benchmarks/fuzz.py --scale 0.1  # a tenth, for a quick look
    .venv/bin/python benchmarks/fuzz.py --seed 7     # another random sample

Targets and oracles: tests/fuzz_harness.py. The same harness runs a small fixed sample in the test
suite (tests/test_fuzz.py). Exit status 1 when any failure was found (the counts are printed first).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_harness import Report, check_patient, check_series, hypothesis_strategies, run_campaign  # noqa: E402

# Inputs per target at scale 1 (batch: table rows; subprocess: real `python -m mas_screen` runs).
RANDOM_COUNTS = {
    "assess": 40_000,
    "cli_assess": 20_000,
    "cli_trend": 12_000,
    "series": 12_000,
    "batch": 20_000,
    "subprocess": 20,
}
HYPOTHESIS_COUNTS = {"hyp_assess": 5_000, "hyp_series": 1_500}


def hypothesis_run(report: Report, counts: dict[str, int], seed: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hyp_seed

    patients, series = hypothesis_strategies()
    rng = random.Random(seed)
    config = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))

    @hyp_seed(seed)
    @settings(max_examples=counts["hyp_assess"], **config)
    @given(patients)
    def assess_case(data):
        check_patient(data, report, rng, blank_keys=3, target="hyp_assess")

    @hyp_seed(seed)
    @settings(max_examples=counts["hyp_series"], **config)
    @given(series)
    def series_case(data):
        check_series(data, report, rng, target="hyp_series")

    assess_case()
    series_case()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count (default 1: >= 100,000 inputs)")
    args = parser.parse_args()
    counts = {k: max(1, round(v * args.scale)) for k, v in RANDOM_COUNTS.items()}
    hyp = {k: max(1, round(v * args.scale)) for k, v in HYPOTHESIS_COUNTS.items()}
    print(f"seed {args.seed}; random inputs {sum(counts.values()):,}, hypothesis examples {sum(hyp.values()):,}")
    report = Report()
    started = time.perf_counter()
    for target, count in counts.items():
        t0 = time.perf_counter()
        part = run_campaign(args.seed, {target: count})
        report.merge(part)
        print(f"  {target:<11} {count:>7,} in {time.perf_counter() - t0:6.1f} s", flush=True)
    t0 = time.perf_counter()
    hypothesis_run(report, hyp, args.seed)
    print(f"  hypothesis  {sum(hyp.values()):>7,} in {time.perf_counter() - t0:6.1f} s", flush=True)
    print(f"\n{sum(report.inputs.values()):,} inputs in {time.perf_counter() - started:.0f} s\n")
    print(report.summary())
    return 1 if report.total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
