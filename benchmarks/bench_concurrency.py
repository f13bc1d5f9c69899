"""Simultaneous browser sessions on one server: time to results per session, median and slowest.

    .venv/bin/python benchmarks/bench_concurrency.py               # 20 sessions
    .venv/bin/python benchmarks/bench_concurrency.py --sessions 5  # fewer
    .venv/bin/python benchmarks/bench_concurrency.py --repeats 3   # several rounds on one server

One `streamlit run` server; N Chromium contexts at once (async Playwright), each entering its own
ferritin and platelet count on the Assess page. "page ready": page load until the form is usable;
"time to results": values committed until the results show that session's values. Also checks
that no session sees another's values (the browser test asserts it: tests/e2e/test_concurrency_e2e.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import psutil  # noqa: E402
from e2e.sessions import ServerProcess, run_sessions, timing_lines  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    server = ServerProcess()
    crossed = 0
    try:
        for round_ in range(1, args.repeats + 1):
            started = time.perf_counter()
            cpu_before = sum(psutil.Process(server.pid).cpu_times()[:2])
            results = run_sessions(server.url, args.sessions)
            wall = time.perf_counter() - started
            server_cpu = sum(psutil.Process(server.pid).cpu_times()[:2]) - cpu_before
            print(f"\nround {round_}: all sessions done in {wall:.1f} s")
            # The browsers share the machine's cores with the server: this says how much of the
            # wall time the server itself was working (the rest is Chromium rendering 20 pages).
            print(f"server CPU time (user + system) during the round: {server_cpu:.1f} s of {wall:.1f} s wall")
            print("\n".join(timing_lines(results)))
            for r in sorted(results, key=lambda r: r.index):
                status = r.error or ("OTHER SESSION'S VALUES: " + ", ".join(r.others_seen) if r.others_seen else "ok")
                print(f"  session {r.index:>2}: ready {r.page_ready_s:6.2f} s, results {r.results_s:6.2f} s  {status}")
            crossed += sum(1 for r in results if r.others_seen or r.error)
    finally:
        server.stop()
    print(f"\nsessions with an error or another session's values: {crossed}")
    return 1 if crossed else 0


if __name__ == "__main__":
    sys.exit(main())
