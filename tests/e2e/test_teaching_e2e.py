"""The teaching pages in a real browser: practice feedback, the educator's projector view and the
what-if explorer, with screenshots in test-artifacts/ for a human to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import full_screenshot, wait_idle
from e2e.waits import waits
from mas_screen.cases import load_cases

pytestmark = pytest.mark.e2e


def open_cases(page: Page, url: str) -> None:
    page.goto(f"{url}/cases")
    page.get_by_role("button", name="Commit answers").wait_for(state="visible", timeout=waits.page)
    wait_idle(page)


def choose_option(page: Page, box, option: str) -> None:
    """Streamlit's option list is virtualised: type to bring the option into the list, then pick it."""
    box.click()
    page.keyboard.type(option[:12])
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_practice_answer_feedback_tally_and_next_panel(page: Page, server, artifacts):
    open_cases(page, server)
    # The early sJIA case (three panels), chosen by its neutral name: titles would give the answer away.
    number = [c.id for c in load_cases()].index("sjia_mas_early") + 1
    choose_option(
        page, page.get_by_label("Case", exact=True).locator(".."), f"Case {number} · 7 years old · Systemic JIA"
    )
    expect(page.get_by_text("Panel 1 of 3: Day 1 (admission)")).to_be_visible()
    form = page.get_by_test_id("stForm")
    form.get_by_text("2016 MAS criteria", exact=True).click()  # wrong on day 1: no companion is met
    form.get_by_text("below 169", exact=True).click()
    form.get_by_text("Flare of the underlying disease without a MAS signal", exact=True).click()
    choose_option(page, form.get_by_test_id("stSelectbox"), "Soluble CD25 (sIL-2R)")
    page.get_by_role("button", name="Commit answers").click()
    wait_idle(page)
    expect(page.get_by_text("10 of 11 right")).to_be_visible(timeout=waits.action)
    expect(page.get_by_text("Ticked, but the criteria are not met.")).to_be_visible()
    tally = page.get_by_test_id("stMetric")
    expect(tally.nth(0)).to_contain_text("1")
    expect(tally.nth(1)).to_contain_text("10 of 11")
    # Citations link to the DOI.
    expect(page.get_by_role("link", name="Ravelli 2016").first).to_have_attribute(
        "href", "https://doi.org/10.1002/art.39332"
    )
    full_screenshot(page, artifacts / "teaching-practice-feedback-1440.png", 1440)
    page.get_by_role("button", name="Next panel: Day 3 ▶").first.click()
    wait_idle(page)
    expect(page.get_by_text("Panel 2 of 3: Day 3")).to_be_visible()
    expect(page.get_by_role("button", name="Commit answers")).to_be_visible()


def test_educator_projector_view_reveals_step_by_step(page: Page, server, artifacts):
    page.set_viewport_size({"width": 1440, "height": 900})
    open_cases(page, server)
    page.get_by_text("Educator (projector)").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Early MAS in systemic JIA")).to_be_visible()
    # Projector type: the story is set large (scoped CSS), the rest of the app is not.
    size = page.locator(".st-key-educator_stage p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 24
    for label in ("Reveal the labs ▶", "Reveal the criteria ▶"):
        page.get_by_role("button", name=label).click()
        wait_idle(page)
    expect(
        page.get_by_role("heading", name="Day 1 (admission) · 2 Feb 2026 08:00: what the criteria say")
    ).to_be_visible()
    page.screenshot(path=str(artifacts / "teaching-educator-1440.png"))
    for label in ("Next panel: Day 3 ▶", "Reveal the criteria ▶", "Each instrument over time ▶"):
        page.get_by_role("button", name=label).click()
        wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    expect(page.get_by_role("heading", name="Each instrument over time, up to Day 3")).to_be_visible()
    page.screenshot(path=str(artifacts / "teaching-educator-timeline-1440.png"))
    page.get_by_role("button", name="The labs over time ▶").click()
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    full_screenshot(page, artifacts / "teaching-educator-trend-1440.png", 1440)


def test_explorer_value_change_flips_a_criterion(page: Page, server, artifacts):
    page.goto(f"{server}/explore")
    page.get_by_role("heading", name="What-if explorer").wait_for(state="visible", timeout=waits.page)
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    expect(page.get_by_text("Nothing changed yet")).to_be_visible()
    box = page.get_by_label("Platelet count (×10⁹/L)", exact=True)
    box.fill("182")
    box.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("⇄ 2016 MAS criteria")).to_be_visible(timeout=waits.action)
    expect(page.get_by_text("Platelet count: 181 ×10⁹/L → 182 ×10⁹/L")).to_be_visible()
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    full_screenshot(page, artifacts / "teaching-explorer-1440.png", 1440)
    full_screenshot(page, artifacts / "teaching-explorer-820.png", 820)  # tablet: controls and results stack
    page.set_viewport_size({"width": 1440, "height": 1000})
    wait_idle(page)
    # Back to the start, then apply the smallest flip the core found for the 2016 criteria.
    page.get_by_role("button", name="Reset").click()
    wait_idle(page)
    expect(page.get_by_text("Nothing changed yet")).to_be_visible()
    page.locator(".st-key-xp_flips_mas2016").get_by_role("button", name="Apply").first.click()
    wait_idle(page)
    expect(page.get_by_text("⇄ 2016 MAS criteria")).to_be_visible(timeout=waits.action)
