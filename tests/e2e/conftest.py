"""End-to-end fixtures: one `streamlit run` server per module, Debian Chromium driven by Playwright.

`playwright install` cannot download browsers here; we drive /usr/bin/chromium (installed by
scripts/install-chromium.sh). Screenshots go to test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from e2e.waits import waits

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("MAS_SCREEN_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--global.developmentMode", "false", "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_healthy(port: int, timeout: float | None = None) -> None:
    timeout = timeout or waits.page / 1000
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("streamlit server did not become healthy")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = start_server(port)
    try:
        wait_healthy(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def measure_page_ready(max_s: float = 900) -> float:
    """Seconds from goto to a usable Assess page (form visible, script idle) on a fresh server."""
    from playwright.sync_api import sync_playwright

    from e2e.helpers import wait_idle

    port = free_port()
    proc = start_server(port)
    try:
        wait_healthy(port, timeout=max_s)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
            try:
                page = b.new_context(viewport={"width": 1440, "height": 1000}).new_page()
                started = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}", timeout=max_s * 1000)
                page.get_by_label("Ferritin", exact=True).wait_for(state="visible", timeout=max_s * 1000)
                wait_idle(page, timeout=int(max_s * 1000))
                return time.perf_counter() - started
            finally:
                b.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session", autouse=True)
def page_ready_time(artifacts) -> float:
    """Measured once per test process; every e2e wait scales from it (e2e/waits.py)."""
    from playwright.sync_api import expect

    given = os.environ.get("MAS_SCREEN_E2E_READY_S")
    if given:
        waits.ready_s = float(given)
    else:
        if not Path(CHROMIUM).exists():
            pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/install-chromium.sh")
        waits.ready_s = measure_page_ready()
    waits.measured = True
    expect.set_options(timeout=waits.action)
    line = (
        f"e2e page ready in {waits.ready_s:.2f} s (load average {os.getloadavg()[0]:.1f}); waits: action "
        f"{waits.action / 1000:.0f} s, page {waits.page / 1000:.0f} s, long {waits.long / 1000:.0f} s"
    )
    print(line)
    with open(artifacts / "e2e-readiness.txt", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return waits.ready_s


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run scripts/install-chromium.sh (the README's test command does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(waits.action)
    context.set_default_navigation_timeout(waits.page)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
