"""A streamlit server whose output is kept (in memory), and many simultaneous browser sessions.

Used by the privacy and concurrency browser tests and by benchmarks/bench_concurrency.py.
`ServerProcess` drains the server's stdout/stderr on a thread (a full pipe would stall the server)
and keeps the text for inspection. `run_sessions` drives N browser contexts of one Chromium at the
same time (async Playwright), each entering its own panel, and times each one.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from e2e.conftest import CHROME_ARGS, CHROMIUM, ROOT, free_port, wait_healthy
from e2e.waits import waits

MAIN = '[data-testid="stMain"]'


class ServerProcess:
    """`streamlit run serve.py` (app.py behind the security headers) on a free loopback port; its output stays in memory (`output`)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"),
            "--server.headless", "true", "--server.port", str(self.port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--global.developmentMode", "false", "--client.toolbarMode", "viewer",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self._chunks: list[bytes] = []
        self._threads = [
            threading.Thread(target=self._drain, args=(stream,), daemon=True)
            for stream in (self.proc.stdout, self.proc.stderr)
        ]
        for t in self._threads:
            t.start()
        wait_healthy(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self, stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self._chunks.append(chunk)

    def stop(self) -> bytes:
        """Stop the server and return everything it printed (stdout and stderr)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(timeout=5)
        return self.output

    @property
    def output(self) -> bytes:
        return b"".join(self._chunks)


def session_wait_ms(sessions: int) -> int:
    """The wait for one of N simultaneous sessions: N pages opening at once on the same cores take
    about N times one page's measured ready time (e2e/waits.py); three times that, at least 5 min."""
    return waits.ms(3 * max(sessions, 1), 300)


async def wait_idle(page, timeout: int | None = None) -> None:
    """tests/e2e/helpers.wait_idle for the async API."""
    timeout = timeout or waits.long
    await page.wait_for_timeout(250)
    await page.locator('[data-testid="stApp"][data-test-connection-state="CONNECTED"]').wait_for(
        state="attached", timeout=timeout
    )
    await page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=timeout
    )


@dataclass
class SessionResult:
    index: int
    ferritin: str
    platelets: str
    page_ready_s: float = 0.0  # goto → form visible and idle
    results_s: float = 0.0  # value committed → results showing this session's ferritin
    field_value: str = ""
    text: str = ""  # the page's main text once its results are shown
    error: str | None = None
    worker: str = ""  # which server answered (behind the ward proxy: its X-MAS-Worker header)
    others_seen: list[str] = field(default_factory=list)


def panel_values(n: int) -> list[tuple[str, str]]:
    """Distinct, unusual ferritin and platelet values, one pair per session (none contains another)."""
    return [(f"{7001 + 113 * i}.{i % 9 + 1}", f"{41 + i}.{(i * 7) % 10}7") for i in range(n)]


async def _session(browser, url: str, index: int, ferritin: str, platelets: str, wait_ms: int) -> SessionResult:
    result = SessionResult(index, ferritin, platelets)
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(wait_ms)  # fills and presses too, not only the explicit waits
    try:
        page = await context.new_page()
        started = time.perf_counter()
        response = await page.goto(url, timeout=wait_ms)
        result.worker = (response.headers.get("x-mas-worker", "") if response else "") or url
        field_ = page.get_by_label("Ferritin", exact=True)
        await field_.wait_for(state="visible", timeout=wait_ms)
        await wait_idle(page, wait_ms)
        result.page_ready_s = time.perf_counter() - started
        committed = time.perf_counter()
        await field_.fill(ferritin)
        await field_.press("Tab")
        platelets_field = page.get_by_label("Platelet count", exact=True)
        await platelets_field.fill(platelets)
        await platelets_field.press("Tab")
        # Results reflect this session's panel once both values appear in the item tables.
        for text in (f"{ferritin} ng/mL", f"{platelets} ×10"):
            await page.locator(MAIN).get_by_text(text, exact=False).first.wait_for(state="attached", timeout=wait_ms)
        result.results_s = time.perf_counter() - committed
        await wait_idle(page, wait_ms)
        result.field_value = await field_.input_value()
        result.text = await page.locator(MAIN).inner_text()
    except Exception as exc:  # recorded and asserted on by the caller, with the session's number
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        await context.close()
    return result


async def _run(url: str, n: int) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    values = panel_values(n)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        try:
            wait_ms = session_wait_ms(n)
            results = await asyncio.gather(*(_session(browser, url, i, *values[i], wait_ms) for i in range(n)))
        finally:
            await browser.close()
    all_values = [v for pair in values for v in pair]
    for r in results:
        own = {r.ferritin, r.platelets}
        r.others_seen = [v for v in all_values if v not in own and v in r.text]
    return list(results)


def run_sessions(url: str, n: int) -> list[SessionResult]:
    """N browser contexts at once against one server, each entering its own ferritin and platelets."""
    return asyncio.run(_run(url, n))


def timing_lines(results: list[SessionResult]) -> list[str]:
    ok = [r for r in results if r.error is None]
    lines = [f"sessions: {len(results)} simultaneous, {len(ok)} completed"]
    for label, attr in (("page ready", "page_ready_s"), ("time to results", "results_s")):
        times = [getattr(r, attr) for r in ok]
        if times:
            slowest = max(ok, key=lambda r: getattr(r, attr))
            lines.append(
                f"{label}: median {statistics.median(times):.2f} s, slowest {max(times):.2f} s "
                f"(session {slowest.index}), fastest {min(times):.2f} s"
            )
    return lines


__all__ = ["MAIN", "ServerProcess", "SessionResult", "panel_values", "run_sessions", "timing_lines", "wait_idle"]
