"""Job functions for tests of mas_screen.faces.jobs (module level, so a child process can import them)."""

from __future__ import annotations

import os
import time


def pid(payload, report):
    """The child's process id and the payload's length (proves the work ran elsewhere, data by pipe)."""
    report(1, 1, "done")
    return os.getpid(), len(payload)


def slow(payload, report):
    """Reports progress every 50 ms for `payload` seconds, then returns "finished"."""
    steps = max(1, int(payload / 0.05))
    for i in range(steps):
        report(i, steps, f"step {i + 1} of {steps}")
        time.sleep(0.05)
    return "finished"


def hungry(payload, report):
    """Asks for `payload` bytes at once (over a small memory limit: MemoryError in the child)."""
    report(0, 1, "allocating")
    block = bytearray(payload)
    return len(block)


def spin(payload, report):
    """Busy for ever (only the time limit ends it)."""
    report(0, 1, "spinning")
    x = 0
    while True:
        x += 1


def slow_cohort(request, report):
    """Stands in for mas_screen.ui.cohort_job.run_cohort: a cohort that takes minutes (for cancel tests)."""
    for i in range(6000):
        report(i, 6000, f"Screening rows {i * 10 + 1:,}–{i * 10 + 10:,} of 60,000…")
        time.sleep(0.05)
    raise AssertionError("a cancelled job ran to its end")


def pid_then_sleep(payload, report):
    """Reports its pid, then sleeps for ten minutes."""
    report(0, 1, f"child pid {os.getpid()}")
    time.sleep(600)


def cohort_rows(payload, report):
    """The Batch page's cohort job on `payload` rows of unit-suffixed cells (made in the child)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_server_load import unit_suffixed_csv

    from mas_screen.ui.cohort_job import CohortRequest, run_cohort

    outcome = run_cohort(CohortRequest(name="cohort.csv", data=unit_suffixed_csv(payload)), report)
    return outcome.error, len(outcome.frame)


def arrow_allocator(payload, report):
    """The allocator Arrow was told to use when this child's fork server started."""
    report(1, 1, "done")
    return os.environ.get("ARROW_DEFAULT_MEMORY_POOL")
