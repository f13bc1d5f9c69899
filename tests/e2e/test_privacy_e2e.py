"""Privacy in a real browser session: nothing about the patient is written, logged or sent.

One session enters a distinctive panel on the Assess page, exports the PDF and the JSON, carries the
panel to the Trends page, uploads a CSV with other distinctive values and exports the series CSV. Then:

- no file under the repository, the temp directory (tempfile.gettempdir()) or ~/.streamlit that
  was written during the session contains any of the values (searched as UTF-8 and UTF-16 bytes);
  the browser's own profile and downloads (the user's side, kept in one scratch directory) are the
  only place allowed to hold them, and the search is shown to find them there;
- the server's stdout and stderr contain none of them;
- the browser made no request to any host but 127.0.0.1/localhost;
- the server process (and any process it started, e.g. the PDF figure's headless browser) had no
  connection to anything but loopback, sampled with psutil throughout the session.
"""

from __future__ import annotations

import getpass
import ipaddress
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from playwright.sync_api import expect, sync_playwright

from e2e.conftest import CHROME_ARGS, CHROMIUM, ROOT
from e2e.helpers import full_screenshot, wait_idle
from e2e.sessions import ServerProcess
from e2e.waits import waits

pytestmark = pytest.mark.e2e


def _value(*parts: str) -> str:
    """Built from pieces so that this file's own text and bytecode never hold the searched values."""
    return "".join(parts)


# Label on the Assess page → an unusual value (US units by default: ferritin ng/mL, platelets
# 10^3/µL, AST U/L, triglycerides mg/dL, fibrinogen mg/dL).
PANEL = {
    "Ferritin": _value("1234", "5.6"),
    "Platelet count": _value("87", ".65"),
    "AST": _value("432", ".19"),
    "Triglycerides": _value("345", ".67"),
    "Fibrinogen": _value("123", ".45"),
    "Age (years)": _value("13", ".37"),
}
UPLOADED = {"ferritin": _value("2345", "6.7"), "platelets": _value("76", ".54")}  # a CSV uploaded on Trends
VALUES = [*PANEL.values(), *UPLOADED.values()]
PATTERNS = [v.encode(enc) for v in VALUES for enc in ("utf-8", "utf-16-le")]
BEACON = "http://203.0.113.7"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAX_READ = 256 * 1024 * 1024


def files_written_since(roots: list[Path], since: float, skip: list[Path]) -> list[Path]:
    found: list[Path] = []
    skip_resolved = [s.resolve() for s in skip]
    for root in roots:
        if not root.exists():
            continue
        for folder, dirs, names in os.walk(root, onerror=lambda _e: None):
            here = Path(folder).resolve()
            if any(here == s or s in here.parents for s in skip_resolved):
                dirs[:] = []
                continue
            for name in names:
                path = Path(folder) / name
                try:
                    stat = path.lstat()
                except OSError:
                    continue
                if path.is_file() and not path.is_symlink() and max(stat.st_mtime, stat.st_ctime) >= since:
                    found.append(path)
    return found


def holding_values(paths: list[Path]) -> dict[str, list[str]]:
    """Path → the values found in it (any encoding searched)."""
    hits: dict[str, list[str]] = {}
    for path in paths:
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_READ)
        except OSError:
            continue
        found = sorted({v for v in VALUES for enc in ("utf-8", "utf-16-le") if v.encode(enc) in data})
        if found:
            hits[str(path)] = found
    return hits


class ConnectionSampler(threading.Thread):
    """Every remote address of the server process tree's inet sockets, sampled until stopped."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.remote: set[tuple[str, int, str]] = set()  # (ip, port, process name)
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for proc in procs:
                try:
                    for conn in proc.net_connections(kind="inet"):
                        if conn.raddr:
                            self.remote.add((conn.raddr.ip, conn.raddr.port, proc.name()))
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            self.samples += 1
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def test_a_session_leaves_no_patient_data_behind(artifacts):
    temp_root = Path(tempfile.gettempdir())
    browser_dir = Path(tempfile.mkdtemp(prefix="mas-screen-privacy-browser-"))  # the user's side
    started = time.time() - 1  # filesystem timestamps may be coarse
    server = ServerProcess()
    sampler = ConnectionSampler(server.pid)
    sampler.start()
    requests: list[str] = []
    downloads: dict[str, bytes] = {}
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(browser_dir / "profile"),
                executable_path=CHROMIUM,
                args=CHROME_ARGS,
                accept_downloads=True,
                downloads_path=str(browser_dir / "downloads"),
                viewport={"width": 1440, "height": 1000},
            )
            context.on("request", lambda r: requests.append(r.url))
            page = context.new_page()
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.goto(server.url)
            page.get_by_label("Ferritin", exact=True).wait_for(state="visible", timeout=waits.page)
            wait_idle(page)
            for label, value in PANEL.items():
                field = page.get_by_label(label, exact=True)
                field.fill(value)
                field.press("Tab")
                wait_idle(page)
            # Markup typed into a field is shown back in its warning: it must stay text, never an image.
            crp = page.get_by_label("CRP", exact=True)
            crp.fill(f"![x]({BEACON}/typed.png)")
            crp.press("Tab")
            wait_idle(page)
            main = page.locator('[data-testid="stMain"]')
            expect(main.get_by_text(f"{PANEL['Ferritin']} ng/mL").first).to_be_attached(timeout=waits.page)
            for name in ("Download JSON (contract v1)", "Download PDF summary"):
                with page.expect_download(timeout=waits.long) as info:
                    page.get_by_role("button", name=name).click()
                downloads[name] = Path(info.value.path()).read_bytes()
            page.get_by_role("button", name="Add this panel to the series (Trends page)").click()
            wait_idle(page)
            page.get_by_role("link", name="Trends").click()
            wait_idle(page)
            page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.page)
            # Hostile markup too: an image in a column name and a link in a cell would make the browser
            # fetch an outside address if any message rendered them (TEST-NET-3, never routed).
            csv_text = (
                f"time,ferritin,platelets,![x]({BEACON}/p.png)\n2026-03-01 08:00,900,300,1\n"
                f"2026-03-02 08:00,{UPLOADED['ferritin']},{UPLOADED['platelets']},2\n"
                f"2026-03-03 08:00,![y]({BEACON}/q.png),[z]({BEACON}/),3\n"
            )
            page.locator("input[type=file]").set_input_files(
                {"name": "series.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
            )
            wait_idle(page)
            expect(main.get_by_text(UPLOADED["ferritin"]).first).to_be_attached(timeout=waits.page)
            with page.expect_download(timeout=waits.long) as info:
                page.get_by_role("button", name="Download series CSV").click()
            downloads["series CSV"] = Path(info.value.path()).read_bytes()
            full_screenshot(page, artifacts / "privacy-session-trends.png", 1440)
            context.close()
    finally:
        sampler.stop()
        output = server.stop()

    try:
        # The exports did carry the panel (so the searches below look for what was really there).
        exported = json.loads(downloads["Download JSON (contract v1)"])
        assert exported["input"]["labs"]["ferritin"]["value"] == PANEL["Ferritin"]
        assert downloads["Download PDF summary"].startswith(b"%PDF")
        assert UPLOADED["ferritin"].encode() in downloads["series CSV"]
        # The search finds the values where they are: the browser's downloads and profile.
        assert holding_values(files_written_since([browser_dir], started, [])), "the search is blind"

        # 1. Nothing written on the server side holds a value.
        roots = [ROOT, temp_root, Path.home() / ".streamlit"]
        # pytest's own tmp_path folders hold what other tests (on the other xdist worker, or another run on
        # this machine) wrote on purpose, e.g. a test PDF with the same panel; the server never writes there.
        pytest_tmp = temp_root / f"pytest-of-{getpass.getuser()}"
        written = files_written_since(roots, started, skip=[browser_dir, pytest_tmp])
        leaks = holding_values(written)
        assert leaks == {}, f"patient values written to disk: {leaks}"

        # 2. The server logged none of them.
        logged = [v for v in VALUES if v.encode() in output]
        assert logged == [], f"server output contains {logged}: {output[-2000:]!r}"

        # 3. The browser talked to the loopback server only.
        off_host = [
            u
            for u in requests
            if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).hostname not in LOOPBACK_HOSTS
        ]
        assert requests and off_host == [], f"requests beyond loopback: {off_host[:10]}"

        # 4. The server (and its children) connected to loopback only; the sampler did see the session.
        assert sampler.samples > 10
        assert any(is_loopback(ip) for ip, _, _ in sampler.remote), "sampler saw no connection at all"
        outside = sorted(r for r in sampler.remote if not is_loopback(r[0]))
        assert outside == [], f"server-side connections beyond loopback: {outside}"
        print(
            f"privacy: {len(written)} files written during the session searched, none with a value; "
            f"{len(requests)} browser requests, all loopback; {sampler.samples} connection samples, "
            f"remote addresses {sorted({ip for ip, _, _ in sampler.remote})}"
        )
    finally:
        shutil.rmtree(browser_dir, ignore_errors=True)
