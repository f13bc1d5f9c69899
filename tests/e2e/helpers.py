"""Waiting and screenshot helpers for Streamlit pages (pattern from Streamlit's own e2e conftest)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

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
