"""axe-core scan of every page at desktop and phone width (issue 12, point 7).

axe-playwright-python ships axe-core inside the package (no network). No serious or critical
violation may remain, except those listed in STREAMLIT_CHROME: inside Streamlit's own widgets,
where the page cannot change the markup. Each exclusion names the rule and the exact selector.
Each scan starts once the page is ready (e2e/readiness.py), never after a fixed time; every wait is
scaled from the page-ready time measured at the start of the session (e2e/waits.py), so a loaded
machine waits longer instead of failing. The scan itself (axe.run in the page) has no time limit.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from e2e.helpers import pick_option
from e2e.readiness import open_ready, wait_ready
from e2e.waits import waits

pytestmark = pytest.mark.e2e

PAGES = ("assess", "trends", "cases", "explore", "batch", "about")
WIDTHS = {"desktop": (1440, 900), "phone": (390, 844)}
# (rule id, CSS selector fragment of the node) that Streamlit draws and the app cannot fix.
STREAMLIT_CHROME: tuple[tuple[str, str], ...] = ()


def serious(page: Page) -> list[str]:
    results = Axe().run(page).response
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            if any(rule == violation["id"] and where in target for rule, where in STREAMLIT_CHROME):
                continue
            found.append(f"{violation['id']} ({violation['impact']}): {target} — {node['failureSummary'][:160]}")
    return found


EXAMPLES = {  # the bedside page with a result on screen: headline, badges, panels, cards
    "assess": "sJIA, febrile: 2016 criteria met",
    # other populations' instruments met: the grey line, grey badges, the pinned strip opened
    "assess-other-populations": "Adult with SLE on prednisone",
}


@pytest.mark.parametrize("size", list(WIDTHS))
@pytest.mark.parametrize("name", [*PAGES, "assess-other-populations"])
def test_no_serious_or_critical_accessibility_violation(page: Page, server, name, size):
    width, height = WIDTHS[size]
    page.set_viewport_size({"width": width, "height": height})
    # The bedside page is the app's default: it lives at "/" ("/assess" opens a "Page not found"
    # dialog over it, which makes the page inert).
    took = open_ready(page, f"{server}/" if name in EXAMPLES else f"{server}/{name}")
    print(f"{name} at {width} px: ready in {took:.1f} s")
    if name in EXAMPLES:
        pick_option(page, "Example patient", EXAMPLES[name])
        page.get_by_role("button", name="Load example").click(timeout=waits.action)
        answer = page.locator(".st-key-assess_answer [data-testid='stAlert']")
        answer.filter(has_text="Features suggestive of MAS").wait_for(timeout=waits.action)
        wait_ready(page, waits.action)
        if name != "assess" and size == "phone":
            page.locator(".st-key-assess_strip summary").click(timeout=waits.action)
            page.locator(".st-key-assess_strip [data-testid='stCaptionContainer']").first.wait_for(timeout=waits.action)
            wait_ready(page, waits.action)
    found = serious(page)
    assert not found, "\n".join(found)
