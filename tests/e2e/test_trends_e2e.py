"""The Trends page in a real browser: demo course, charts, a time point's cards, exports, screenshots."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import full_screenshot, wait_idle
from e2e.readiness import wait_ready
from e2e.waits import waits

pytestmark = pytest.mark.e2e


def open_trends(page: Page, url: str) -> None:
    page.goto(f"{url}/trends")
    page.get_by_role("button", name="Load demo course").wait_for(state="visible", timeout=waits.page)
    wait_idle(page)


def test_demo_course_charts_and_export(page: Page, server, artifacts):
    open_trends(page, server)
    page.get_by_role("button", name="Load demo course").click()
    wait_idle(page)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts.first).to_be_visible(timeout=waits.action)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
    assert charts.count() >= 2
    expect(page.get_by_text("2026-03-03T08:00").first).to_be_visible()
    with page.expect_download(timeout=waits.page) as info:
        page.get_by_role("button", name="Download series JSON").click()
    data = json.loads(info.value.path().read_bytes())
    assert data["first_met"]["mas2016"] == "2026-03-03T08:00"
    assert len(data["points"]) == 4
    with page.expect_download(timeout=waits.page) as info:
        page.get_by_role("button", name="Download series CSV").click()
    csv_text = info.value.path().read_text()
    assert "mas2016_status" in csv_text.splitlines()[0]
    full_screenshot(page, artifacts / "trends-desktop.png", 1440)
    full_screenshot(page, artifacts / "trends-tablet.png", 820)
    full_screenshot(page, artifacts / "trends-phone.png", 390)


def test_on_a_phone_the_charts_are_drawn_for_its_width(page: Page, server, artifacts):
    """A figure laid out for a desktop and squeezed onto a phone left its plot a sliver: the charts
    are drawn for the width the page measures, within the screen, with room for the values."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_trends(page, server)
    page.get_by_role("button", name="Load demo course").click()
    wait_ready(page)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(2)
    labs, timeline = (charts.nth(i).locator(".main-svg").first.bounding_box() for i in range(2))
    for box in (labs, timeline):
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    plots = [charts.nth(i).locator(".nsewdrag").first.bounding_box()["width"] for i in range(2)]
    assert plots[0] >= 100, plots  # the values' plot: a week of panels reads
    assert plots[1] >= 0.35 * timeline["width"], plots  # the timeline's cells
    charts.first.scroll_into_view_if_needed()
    charts.first.screenshot(path=str(artifacts / "trends-phone-chart.png"))


def test_bedside_panel_to_series(page: Page, server, artifacts):
    page.goto(server)
    page.get_by_label("Ferritin", exact=True).wait_for(state="visible", timeout=waits.page)
    wait_idle(page)
    for label, value in [("Ferritin", "2500"), ("Platelet count", "150")]:
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
        wait_idle(page)
    page.get_by_role("button", name="Add this panel to the series (Trends page)").click()
    wait_idle(page)
    expect(page.get_by_text("Added to the series")).to_be_visible()
    page.get_by_role("link", name="Trends").click()
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    # Back on the bedside page the form still holds what was typed.
    page.get_by_role("link", name="Assess").click()
    wait_idle(page)
    assert page.get_by_label("Ferritin", exact=True).input_value() == "2500"
