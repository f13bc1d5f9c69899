"""Issue 13 in a real browser: what Chromium renders from hostile typing (AppTest sees only the markdown
sent). Typed icon shortcodes, entities and images stay text; the decimal-comma toggle reads 0,8."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import full_screenshot, open_app, wait_idle
from e2e.waits import waits

pytestmark = pytest.mark.e2e
WORD_JOINER = "\u2060"


def type_lab(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Tab")
    wait_idle(page)


def warning_under(page: Page, title: str):
    """The markdown block of the first warning with this title (e.g. "Not a number")."""
    block = page.locator('[data-testid="stMarkdown"]').filter(has_text=title).first
    expect(block).to_be_visible(timeout=waits.action)
    return block


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        (":material/warning:", ":material/warning:"),
        ("&lt;b&gt;", "&lt;b&gt;"),
        ("**x** :smile: :orange[y]", "**x** :smile: :orange[y]"),
    ],
)
def test_typed_text_is_shown_as_typed(page: Page, server, artifacts, typed, shown):
    """Issue 13 finding 7: ":material/warning:" typed into a lab field rendered as an icon in the warning
    beside it; "&lt;b&gt;" was echoed as "<b>". Both are shown exactly as typed."""
    open_app(page, server)
    type_lab(page, "Ferritin", typed)
    block = warning_under(page, "Not a number")
    text = block.inner_text().replace(WORD_JOINER, "")
    assert shown in text, text
    assert block.locator('[data-testid="stIconMaterial"], img, strong:has-text("x")').count() == 0
    assert "😄" not in text
    if typed.startswith(":material"):
        full_screenshot(page, artifacts / "hostile-shortcode-echo.png", 1440)


def test_nine_character_exponent_answers_at_once(page: Page, server):
    """Issue 13 finding 1: "1e1000000" froze the server for ~31 s and ended in the engine's error box."""
    open_app(page, server)
    type_lab(page, "Ferritin", "1e1000000")
    block = warning_under(page, "Not a number")
    assert "exponent beyond ±30" in block.inner_text()
    expect(page.get_by_text("could not compute results")).to_have_count(0)
    assert page.get_by_label("Ferritin", exact=True).input_value() == "1e1000000"


def test_decimal_comma_toggle(page: Page, server):
    """Issue 13 finding 2: ferritin "0,800" was read as 800. Off: not a number; on: 0.8 ng/mL."""
    open_app(page, server)
    type_lab(page, "Ferritin", "0,800")
    expect(page.get_by_text("not as a decimal comma").first).to_be_visible(timeout=waits.action)
    page.get_by_text("Decimal comma (0,5)").click()
    wait_idle(page)
    expect(page.get_by_text("not as a decimal comma")).to_have_count(0, timeout=waits.action)
    assert page.get_by_label("Ferritin", exact=True).input_value() == "0,800"


def test_alert_level_markdown_is_not_rendered_or_fetched(page: Page, server, artifacts):
    """Issue 13 finding 7: an image typed into "Your alert levels" made the browser request it."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server}/trends", timeout=waits.page)
    page.get_by_role("button", name="Load demo course").wait_for(state="visible", timeout=waits.page)
    wait_idle(page)
    page.get_by_role("button", name="Load demo course").click()
    wait_idle(page)
    page.get_by_text("Your alert levels (optional)").click()
    wait_idle(page)
    field = page.get_by_label("Ferritin (ng/mL)")
    field.fill("![x](http://127.0.0.1:9/pixel.png)")
    field.press("Tab")
    wait_idle(page)
    expect(page.get_by_text("no alert line drawn").first).to_be_visible(timeout=waits.action)
    assert not [url for url in requested if "127.0.0.1:9/" in url]
    for typed in ("nan", "1e309", "1e308"):
        field.fill(typed)
        field.press("Tab")
        wait_idle(page)
        expect(page.get_by_test_id("stException")).to_have_count(0)
    full_screenshot(page, artifacts / "hostile-alert-levels.png", 1440)
