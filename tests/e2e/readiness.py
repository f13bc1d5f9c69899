"""A page is ready when the browser says so: one condition checked in the page, not a fixed time.

Streamlit swaps elements in several passes, and the bedside page draws itself a second time once
its page script has measured the width (mas_screen/ui/page_script.py). "Ready" is checked in the
page and must hold for a short quiet period: connected; the script not running; no skeleton, no
stale element; no dialog open (a dialog makes the page behind it inert); every Plotly chart drawn;
a heading in the main area; and on the bedside, Trends and Explore pages, the layout drawn for the width measured
(<html data-mas-layout="ready">). How long to wait for it comes from e2e/waits.py (scaled from the
page-ready time measured at the start of the session).
"""

from __future__ import annotations

import time

from playwright.sync_api import Page

from e2e.waits import waits

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
    && (!document.querySelector('.st-key-bedside_page_script, .st-key-trends_page_script, .st-key-explore_page_script')
        || document.documentElement.dataset.masLayout === 'ready');
  const now = performance.now();
  if (!ok) { window.__masQuietSince = null; return false; }
  if (window.__masQuietSince == null) window.__masQuietSince = now;
  return now - window.__masQuietSince >= quietMs;
}"""


def wait_ready(page: Page, timeout_ms: int | None = None) -> None:
    """Ready (as above) after an action; the quiet period starts afresh."""
    page.evaluate("() => { window.__masQuietSince = null; }")
    page.wait_for_function(READY_JS, arg=QUIET_MS, timeout=timeout_ms or waits.action, polling=100)


def open_ready(page: Page, url: str) -> float:
    """Open `url` and wait until it is ready; returns the seconds it took (printed by callers)."""
    start = time.perf_counter()
    page.goto(url, timeout=waits.page)
    wait_ready(page, waits.page)
    return time.perf_counter() - start
