"""For benchmarks only: with MAS_RUN_TIMES=1, each page run's page, start, wall and CPU time go to
stderr (never a value typed), so a benchmark can tell the server's time from the browser's."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator


@contextlib.contextmanager
def reported(page: str) -> Iterator[None]:
    if os.environ.get("MAS_RUN_TIMES") != "1":
        yield
        return
    started, cpu = time.monotonic(), time.thread_time()
    try:
        yield
    finally:
        wall_ms, cpu_ms = 1000 * (time.monotonic() - started), 1000 * (time.thread_time() - cpu)
        sys.stderr.write(f"mas-run {page} {started:.3f} {wall_ms:.1f} {cpu_ms:.1f}\n")
