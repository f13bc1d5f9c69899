"""Waiting and screenshot helpers for Streamlit pages (pattern from Streamlit's own e2e conftest)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from e2e.waits import waits


def wait_idle(page: Page, timeout: int | None = None) -> None:
    timeout = timeout or waits.action
    page.wait_for_timeout(250)  # the script-state attribute is stale for a moment after an action
    page.locator('[data-testid="stApp"][data-test-connection-state="CONNECTED"]').wait_for(
        state="attached", timeout=timeout
    )
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=timeout
    )
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


def pick_option(page: Page, label: str, text: str) -> None:
    """Choose the option holding `text` in the select box `label`. On a loaded machine its list can
    close again before the option shows (a rerun, or the page moving focus to the first field, lands
    just after the click): then it is opened again, up to three times, each wait scaled from the
    measured page-ready time (e2e/waits.py)."""
    box = page.get_by_label(label)
    option = page.get_by_role("option").filter(has_text=text).first
    for attempt in range(3):
        wait_idle(page)
        box.click(timeout=waits.action)
        try:
            option.wait_for(state="visible", timeout=waits.action if attempt == 2 else waits.action // 3)
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            continue
        option.click(timeout=waits.action)
        return
    raise AssertionError(f"the option {text!r} of {label!r} never showed in three tries")


def open_app(page: Page, url: str) -> None:
    page.goto(url, timeout=waits.page)
    page.get_by_label("Ferritin", exact=True).wait_for(state="visible", timeout=waits.page)
    wait_idle(page)


def full_screenshot(page: Page, path: Path, width: int) -> None:
    """Streamlit scrolls inside its main container, so grow the viewport to the content first."""
    height = page.evaluate(
        "() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0,"
        " document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": width, "height": min(max(int(height) + 40, 900), 16000)})
    wait_idle(page)
    page.screenshot(path=str(path), full_page=True)
