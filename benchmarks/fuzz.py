"""Fuzz every face of the core with >= 200,000 inputs; print counts per target, the slowest input of
each target and its time, and every failure.

    .venv/bin/python benchmarks/fuzz.py              # 216,000+ inputs (about an hour on 2 busy cores)
    .venv/bin/python benchmarks/fuzz.py --jobs 2     # the targets on two processes
    .venv/bin/python benchmarks/fuzz.py --scale 0.1  # a tenth, for a quick look
    .venv/bin/python benchmarks/fuzz.py --seed 7     # another random sample
    .venv/bin/python benchmarks/fuzz.py --only batch # one target (repeatable)

Targets and oracles: tests/fuzz_harness.py; inputs include other locales' number spellings (decimal
commas, dot and space thousands, stray spaces), the decimal-comma setting, huge exponents and digit
strings of 10⁴–10⁶ characters. Time budget per input (issue 13): any single assess() over 50 ms of CPU,
or any batch table over 1 ms per row (amortised), is a failure (`over_time_budget`). The same harness
runs a small fixed sample in the test suite (tests/test_fuzz.py) with generous limits. Exit status 1
when any failure was found (the counts are printed first).
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

from fuzz_harness import (  # noqa: E402
    ISSUE_BUDGET,
    Report,
    check_patient,
    check_series,
    hypothesis_strategies,
    run_campaign,
)

# Inputs per target at scale 1 (batch: table rows; subprocess: real `python -m mas_screen` runs).
RANDOM_COUNTS = {
    "assess": 80_000,
    "cli_assess": 30_000,
    "cli_trend": 20_000,
    "series": 20_000,
    "batch": 60_000,
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


def _one_target(seed: int, target: str, count: int) -> tuple[Report, float]:
    t0 = time.perf_counter()
    return run_campaign(seed, {target: count}, budget=ISSUE_BUDGET), time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count (default 1: >= 200,000 inputs)")
    parser.add_argument("--jobs", type=int, default=1, help="processes for the random targets (default 1)")
    parser.add_argument(
        "--only", choices=[*RANDOM_COUNTS, "hypothesis"], action="append", help="run only these targets (repeatable)"
    )
    args = parser.parse_args()
    only = set(args.only or [*RANDOM_COUNTS, "hypothesis"])
    counts = {k: max(1, round(v * args.scale)) for k, v in RANDOM_COUNTS.items() if k in only}
    hyp = {k: max(1, round(v * args.scale)) if "hypothesis" in only else 0 for k, v in HYPOTHESIS_COUNTS.items()}
    print(f"seed {args.seed}; random inputs {sum(counts.values()):,}, hypothesis examples {sum(hyp.values()):,}")
    report = Report(budget=dict(ISSUE_BUDGET))
    started = time.perf_counter()
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = {t: pool.submit(_one_target, args.seed, t, c) for t, c in counts.items()}
            for target, future in futures.items():
                part, seconds = future.result()
                report.merge(part)
                print(f"  {target:<11} {counts[target]:>7,} in {seconds:6.1f} s", flush=True)
    else:
        for target, count in counts.items():
            part, seconds = _one_target(args.seed, target, count)
            report.merge(part)
            print(f"  {target:<11} {count:>7,} in {seconds:6.1f} s", flush=True)
    t0 = time.perf_counter()
    if "hypothesis" in only:
        hypothesis_run(report, hyp, args.seed)
    print(f"  hypothesis  {sum(hyp.values()):>7,} in {time.perf_counter() - t0:6.1f} s", flush=True)
    print(f"\n{sum(report.inputs.values()):,} inputs in {time.perf_counter() - started:.0f} s\n")
    print(report.summary())
    return 1 if report.total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
