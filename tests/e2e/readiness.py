"""A page is ready when the browser says so, and every wait after that scales from how long it took.

A fixed 30 s timeout passes on an idle machine and fails on a busy one (four of twelve axe scans
timed out under a load average of 30). So the first load of a page is waited for with only a hang
guard, timed, and every later wait in that test is a multiple of the time measured: a machine that
took 20 s to draw the page gets 200 s for the next step, an idle one the 30 s floor.

"Ready" is one condition checked in the page, held for a short quiet period (Streamlit swaps
elements in several passes): connected; the script not running; no skeleton, no stale element; no
dialog open (a dialog makes the page behind it inert); every Plotly chart drawn; a heading in the
main area; and on the bedside page, the layout drawn for the width the page script measured
(mas_screen/ui/page_script.py sets <html data-mas-layout="ready">).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from playwright.sync_api import Page

HANG_GUARD_MS = 600_000  # only against a hung browser or server: never a timing assumption
FLOOR_MS = 30_000
FACTOR = 10
QUIET_MS = 300

READY_JS = """(quietMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  const ok = !!app && !!main
    && app.dataset.testConnectionState === 'CONNECTED'
    && app.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"], [data-stale="true"], [role="dialog"]')
    && charts.every((c) => c.querySelector('.main-svg'))
    && !!main.querySelector('h1, h2')
    && (!document.querySelector('.st-key-bedside_page_script') || document.documentElement.dataset.masLayout === 'ready');
  const now = performance.now();
  if (!ok) { window.__masQuietSince = null; return false; }
  if (window.__masQuietSince == null) window.__masQuietSince = now;
  return now - window.__masQuietSince >= quietMs;
}"""


@dataclass
class Budget:
    """How long this page took to become ready, and the timeout every later wait gets."""

    ready_ms: float
    timeout_ms: int

    def __str__(self) -> str:
        return f"ready in {self.ready_ms / 1000:.1f} s; later waits {self.timeout_ms / 1000:.0f} s"


_budgets: WeakKeyDictionary[Page, Budget] = WeakKeyDictionary()


def timeout_for(page: Page) -> int:
    """The timeout measured for this page by `open_ready` (the floor before it has run)."""
    budget = _budgets.get(page)
    return budget.timeout_ms if budget else FLOOR_MS


def wait_ready(page: Page, timeout_ms: int | None = None) -> None:
    page.evaluate("() => { window.__masQuietSince = null; }")
    page.wait_for_function(READY_JS, arg=QUIET_MS, timeout=timeout_ms or timeout_for(page), polling=100)


def open_ready(page: Page, url: str) -> Budget:
    """Open `url`, wait (hang guard only) until ready, and scale this page's default timeout."""
    start = time.perf_counter()
    page.goto(url, timeout=HANG_GUARD_MS)
    wait_ready(page, HANG_GUARD_MS)
    took = (time.perf_counter() - start) * 1000
    budget = Budget(took, int(min(max(FLOOR_MS, FACTOR * took), HANG_GUARD_MS)))
    page.set_default_timeout(budget.timeout_ms)
    page.set_default_navigation_timeout(budget.timeout_ms)
    _budgets[page] = budget
    return budget
