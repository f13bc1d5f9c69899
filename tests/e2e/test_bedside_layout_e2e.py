"""The bedside page in Chromium at desktop, tablet and phone widths (issue 12, points 3 and 4).

The answer stays in view while the form scrolls; the phone page is short; nothing is printed
twice; threshold labels do not overlap as drawn by the browser; a full panel goes in by keyboard
in at most 90 keys. Waits are on readiness (script idle, a selector, an expected text), never a
fixed sleep as the condition.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import full_screenshot, pick_option, wait_idle
from e2e.keyboard_panel import ENTRIES, EXPECTED_ANSWERS, EXPECTED_LABS, LAB_LABELS, enter_panel, focused_label
from e2e.readiness import open_ready, wait_ready

pytestmark = pytest.mark.e2e

TODAY_PHONE_HEIGHT_PX = 17_511  # issue 12: worked example 1 at 390 px before this change
MAIN = '[data-testid="stMain"]'
SIZES = {"desktop": (1440, 900), "tablet": (820, 1180), "phone": (390, 844)}


def sized(page: Page, name: str) -> None:
    width, height = SIZES[name]
    page.set_viewport_size({"width": width, "height": height})


def load_example(page: Page, title: str) -> None:
    """Load a worked example (both used here end "suggestive"; the empty form is "insufficient")."""
    pick_option(page, "Example patient", title)
    idle(page)
    page.get_by_role("button", name="Load example").click()
    answer = page.locator(".st-key-assess_answer [data-testid='stAlert']").first
    expect(answer).to_contain_text("Features suggestive of")
    settled(page)


def settled(page: Page) -> None:
    """Ready: the rerun after an action is done, and the layout drawn for the measured width."""
    wait_ready(page)


def idle(page: Page) -> None:
    wait_idle(page)


def open_app(page: Page, server: str) -> None:
    """The bedside page (the app's default, at "/"), ready (e2e/readiness.py)."""
    open_ready(page, f"{server}/")


def scroll_to(page: Page, y: int) -> None:
    page.evaluate(f"() => document.querySelector('{MAIN}').scrollTo(0, {y})")
    page.wait_for_function(f"() => Math.abs(document.querySelector('{MAIN}').scrollTop - {y}) < 2 || "
                           f"document.querySelector('{MAIN}').scrollTop + document.querySelector('{MAIN}').clientHeight "
                           f">= document.querySelector('{MAIN}').scrollHeight - 2")  # fmt: skip


def test_first_field_has_focus_and_a_full_panel_goes_in_by_keyboard(page: Page, server, artifacts):
    open_app(page, server)
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'INPUT'")
    assert focused_label(page) == "Underlying disease"
    done = enter_panel(page, settle=idle)
    page.keyboard.press("Tab")
    idle(page)
    assert done.wrong_focus == []
    assert done.keystrokes + 1 <= 90, done.keystrokes  # issue 12: ≤ 90 keys for 20 entries (was ~145)
    assert ENTRIES == 20
    for key, label in LAB_LABELS.items():
        assert page.get_by_label(label, exact=True).input_value() == EXPECTED_LABS[key]
    # The typed units set the selectors; the result reads them (2.9 mmol/L = 257 mg/dL > 156).
    assert page.get_by_label("Triglycerides unit").input_value() == "mmol/L"
    assert page.get_by_label("Fibrinogen unit").input_value() == "g/L"
    for field, answer in EXPECTED_ANSWERS.items():
        group = page.locator(f".st-key-ctx--{field} [role='radiogroup']")
        assert group.get_by_role("radio", name=answer, exact=True).is_checked(), field
    headline = page.locator(".st-key-assess_answer [data-testid='stAlert']").first
    expect(headline).to_contain_text("Features suggestive of MAS")
    expect(headline).to_contain_text("2016 MAS criteria")
    # After the last keystroke (the form scrolled down to the last answer) the headline is on screen.
    box = headline.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 1000, box
    # Phones get the decimal keypad; help icons and unit selectors are out of the Tab order.
    modes = page.evaluate(
        "() => [...document.querySelectorAll('[class*=\"st-key-lab--\"] input')].map(i => i.inputMode)"
    )
    assert modes and set(modes) == {"decimal"}
    assert page.evaluate(
        '() => [...document.querySelectorAll(\'.st-key-assess_form [class*="st-key-unit--"] input,'
        ' .st-key-assess_form [data-testid="stTooltipIcon"] button\')].every(e => e.tabIndex === -1)'
    )
    full_screenshot(page, artifacts / "bedside-keyboard-desktop.png", 1440)


def test_answer_key_does_not_pass_through_another_answer(page: Page, server):
    """From Unknown, 'n' sets No directly: one rerun, Yes never selected on the way."""
    open_app(page, server)
    group = page.locator(".st-key-ctx--febrile [role='radiogroup']")
    group.get_by_role("radio", name="Unknown").focus()
    page.evaluate(
        """() => { window.__seen = []; const g = document.querySelector('.st-key-ctx--febrile [role=radiogroup]');
        new MutationObserver(() => { const c = g.querySelector('input:checked');
          window.__seen.push(c ? c.closest('label').innerText.trim() : ''); })
          .observe(g, { attributes: true, subtree: true }); }"""
    )
    page.keyboard.press("n")
    idle(page)
    assert group.get_by_role("radio", name="No", exact=True).is_checked()
    assert "Yes" not in page.evaluate("() => window.__seen")
    page.keyboard.press("u")
    idle(page)
    assert group.get_by_role("radio", name="Unknown", exact=True).is_checked()


@pytest.mark.parametrize("size", ["desktop", "tablet", "phone"])
def test_headline_stays_in_view_while_scrolling(page: Page, server, artifacts, size):
    sized(page, size)
    open_app(page, server)
    load_example(page, "sJIA, febrile: 2016 criteria met")
    settled(page)
    height = page.evaluate(f"() => document.querySelector('{MAIN}').scrollHeight")
    viewport = SIZES[size][1]
    if size == "desktop":  # the answer column sticks beside the form
        target = page.locator(".st-key-assess_answer [data-testid='stAlert']").first
        form_end = page.evaluate(
            "() => { const f = document.querySelector('.st-key-assess_form'); const m = document.querySelector("
            f"'{MAIN}'); return f.getBoundingClientRect().bottom + m.scrollTop; }}"
        )
        positions = [0, 400, 900, int(form_end - viewport)]
    else:  # a strip pinned under the app header, whatever the scroll position
        target = page.locator(".st-key-assess_strip")
        positions = [0, 500, 1500, height // 2, height]
    expect(target).to_contain_text("Features suggestive of MAS")
    for y in positions:
        scroll_to(page, y)
        box = target.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport, (size, y, box)
        if y > 0 or size != "desktop":  # scrolled: stuck at the top (the title sits above it at first)
            assert box["y"] <= 120, (size, y, box)
        if y == positions[2]:
            page.screenshot(path=str(artifacts / f"bedside-scrolled-{size}.png"))
    scroll_to(page, 0)
    full_screenshot(page, artifacts / f"bedside-{size}.png", SIZES[size][0])


def test_phone_page_is_a_third_of_what_it_was_and_nothing_is_printed_twice(page: Page, server, artifacts):
    sized(page, "phone")
    open_app(page, server)
    load_example(page, "sJIA, febrile: 2016 criteria met")
    settled(page)
    height = page.evaluate(f"() => document.querySelector('{MAIN}').scrollHeight")
    assert height <= TODAY_PHONE_HEIGHT_PX / 3, height
    pdf = page.get_by_role("button", name="Download PDF summary")
    pdf.scroll_into_view_if_needed()
    expect(pdf).to_be_in_viewport()
    # The teaching topic that three cards used to print is printed once.
    page.get_by_text("Learn more: recognising MAS").click()
    idle(page)
    assert page.get_by_text("Recognising early MAS", exact=False).count() == 1
    # Each instrument once in the answer, once as a card: never a second copy of either block.
    answer = page.locator(".st-key-assess_answer")
    assert answer.get_by_text("2016 MAS criteria ·").count() == 1
    assert (
        page.locator(".st-key-assess_details [data-testid='stExpander']").filter(has_text="2016 MAS criteria —").count()
        == 1
    )
    # Instrument tables fit or scroll inside their card (never wider than the screen).
    page.locator("[data-testid='stExpander']").filter(has_text="2016 MAS criteria —").first.locator("summary").click()
    idle(page)
    table = page.locator(".st-key-assess_details table").first
    table.wait_for()
    assert table.evaluate("t => t.getBoundingClientRect().right") <= 390 + 1
    full_screenshot(page, artifacts / "bedside-phone-card-open.png", 390)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_chart_labels_do_not_overlap_as_drawn(page: Page, server, artifacts, size):
    sized(page, size)
    open_app(page, server)
    load_example(page, "Adult with SLE on prednisone: HScore 266")
    settled(page)
    section = page.locator("[data-testid='stExpander']").filter(has_text="Labs against the thresholds").first
    if not section.locator("[data-testid='stPlotlyChart']").count():
        section.locator("summary").click()
        idle(page)
    page.wait_for_selector("[data-testid='stPlotlyChart'] .main-svg")
    idle(page)
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart_box = chart.bounding_box()
    assert chart_box and chart_box["width"] <= SIZES[size][0]
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=stPlotlyChart] g.annotation-text-g text')]
          .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.top, r.right, r.bottom]; })
          .filter(b => b[3] > b[1])"""
    )
    assert len(boxes) > 10
    overlaps = []
    for i, (text_a, left_a, top_a, right_a, bottom_a) in enumerate(boxes):
        for text_b, left_b, top_b, right_b, bottom_b in boxes[i + 1 :]:
            dx = min(right_a, right_b) - max(left_a, left_b)
            dy = min(bottom_a, bottom_b) - max(top_a, top_b)
            if dx > 1 and dy > 1:
                overlaps.append((text_a, text_b))
        assert right_a <= chart_box["x"] + chart_box["width"] + 1, text_a  # nothing cropped
    assert overlaps == []
    # A chart taller than the window is painted only where it is on screen: grow the window first.
    page.set_viewport_size({"width": SIZES[size][0], "height": min(int(chart_box["height"]) + 400, 16000)})
    chart.scroll_into_view_if_needed()
    settled(page)
    chart.screenshot(path=str(artifacts / f"bedside-chart-{size}.png"))


# Issue 12's textbook sJIA flare: Parodi 2009 (built for jSLE) is met, the patient's own instruments
# are not: "not suggestive", with Parodi only in the grey line (tests/test_app.py has the same panel).
FLARE_FIELDS = (
    ("Age (years)", "6"), ("Temperature (highest in last 24 h)", "39.2 °C"), ("Ferritin", "1800"),
    ("Platelet count", "480"), ("AST", "35"), ("LDH", "650"), ("Triglycerides", "190"),
    ("Fibrinogen", "620 mg/dL"), ("ESR", "95"), ("White cell count", "21"), ("Haemoglobin", "10.5 g/dL"),
)  # fmt: skip
FLARE_ANSWERS = {
    "febrile": "Yes", "hepatomegaly": "No", "splenomegaly": "No", "cns_involvement": "No",
    "hemorrhagic_manifestations": "No", "active_arthritis": "Yes",
}  # fmt: skip
OTHER_LINE = "Also met by instruments built for other populations — indicative only: Parodi 2009 (jSLE)"
GREY_OF = """e => { const [r, g, b] = getComputedStyle(e).color.match(/\\d+/g).map(Number);
  return Math.max(r, g, b) - Math.min(r, g, b); }"""  # 0 for a pure grey
REDDISH = """e => { const seen = [];
  for (let n = e; n && n !== document.body; n = n.parentElement) {
    for (const c of [getComputedStyle(n).color, getComputedStyle(n).backgroundColor]) {
      const [r, g, b, a = 1] = c.match(/[\\d.]+/g).map(Number);
      if (a > 0.05 && r - Math.max(g, b) > 40) seen.push(c); } }
  return seen; }"""  # text or background on the way up that is red (r well above g and b)


def enter_flare(page: Page) -> None:
    page.get_by_label("Underlying disease").click()
    page.keyboard.type("Systemic JIA")
    page.keyboard.press("Enter")
    idle(page)
    for label, value in FLARE_FIELDS:
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
        idle(page)
    for name, answer in FLARE_ANSWERS.items():
        group = page.locator(f".st-key-ctx--{name} [role='radiogroup']")
        group.get_by_role("radio", name=answer, exact=True).check(force=True)
        idle(page)
    expect(page.locator(".st-key-assess_answer [data-testid='stAlert']").first).to_contain_text(
        "Features not suggestive of MAS"
    )
    settled(page)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_other_populations_line_is_grey_under_the_headline(page: Page, server, artifacts, size):
    sized(page, size)
    open_app(page, server)
    enter_flare(page)
    answer = page.locator(".st-key-assess_answer")
    headline = answer.get_by_test_id("stAlert").first
    expect(headline).not_to_contain_text("Parodi")
    assert headline.locator("h3").evaluate(REDDISH) == []  # the headline is not red: a not-suggestive answer
    line = answer.get_by_text(OTHER_LINE, exact=True)
    if size == "desktop":  # in the sticky column, straight under the headline, grey
        line.scroll_into_view_if_needed()
        head, grey = headline.bounding_box(), line.bounding_box()
        assert head and grey and 0 <= grey["y"] - (head["y"] + head["height"]) < 48, (head, grey)
        assert line.evaluate(GREY_OF) <= 12
        assert line.evaluate(GREY_OF) < headline.locator("h3").evaluate(GREY_OF)  # not the headline's colour
        page.screenshot(path=str(artifacts / "bedside-flare-desktop.png"))
        return
    # Phone: the pinned strip opens onto the grey line (lying over the page, which does not move).
    strip = page.locator(".st-key-assess_strip")
    strip_headline = strip.get_by_test_id("stMarkdownContainer").first
    expect(strip_headline).to_contain_text("Features not suggestive of MAS")
    expect(strip_headline).not_to_contain_text("Parodi")
    assert strip_headline.locator("strong").first.evaluate(REDDISH) == []
    expect(strip.locator("summary")).to_contain_text("+1 met, built for other populations")
    scroll_to(page, 1500)
    form_top = page.locator(".st-key-assess_form").bounding_box()["y"]
    strip.locator("summary").click()
    in_strip = strip.get_by_text(OTHER_LINE, exact=True)
    expect(in_strip).to_be_visible()
    box = in_strip.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= SIZES["phone"][1]
    assert in_strip.evaluate(GREY_OF) <= 12
    assert page.locator(".st-key-assess_form").bounding_box()["y"] == pytest.approx(form_top, abs=2)
    page.screenshot(path=str(artifacts / "bedside-flare-phone-strip-open.png"))
    strip.locator("summary").click()
    expect(in_strip).to_be_hidden()


# A fresh server's first page: its first run is slow, and the page script's width report asks for a
# rerun meanwhile. Streamlit then never sent the session's values to the browser, which drew each
# widget at its own default and sent that back: every yes/no answer read "Yes" (Yes is the first
# option), CRP "mg/L" instead of the US "mg/dL", temperature "°C" instead of "°F". Every widget's
# default is now the session's value (mas_screen/ui/state.shown_index), so a cut-short run changes nothing.
US_UNITS = {
    "CRP": "mg/dL",
    "Temperature (highest in last 24 h)": "°F",
    "D-dimer": "µg/mL FEU",
    "Platelet count": "×10³/µL",
}
SHOWN_ANSWERS = """() => [...document.querySelectorAll('.st-key-assess_form [role=radiogroup]')]
  .map(g => { const c = g.querySelector('input:checked'); return c ? c.closest('label').textContent.trim() : ''; })"""


def test_first_page_on_a_fresh_server_answers_nothing_by_itself(browser):
    from e2e.conftest import free_port, start_server, wait_healthy
    from e2e.waits import waits

    port = free_port()
    proc = start_server(port)
    try:
        wait_healthy(port)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(waits.action)
        page = context.new_page()
        open_app(page, f"http://127.0.0.1:{port}")  # the first session this server has
        assert set(page.evaluate(SHOWN_ANSWERS)) == {"Unknown"}
        for label, unit in US_UNITS.items():
            assert page.get_by_label(f"{label} unit").input_value() == unit, label
        # A rerun sends the browser's widgets back: the server still has nothing answered.
        age = page.get_by_label("Age (years)", exact=True)
        age.fill("6")
        age.press("Tab")
        settled(page)
        assert set(page.evaluate(SHOWN_ANSWERS)) == {"Unknown"}
        expect(page.locator("[data-testid='stExpander']").filter(has_text="Specialist results")).not_to_contain_text(
            "answered"
        )
        assert page.get_by_label("CRP unit").input_value() == "mg/dL"
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=waits.action / 1000)


COVERED = """e => { const r = e.getBoundingClientRect(); const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const hit = document.elementFromPoint(x, y); return !(hit && (e === hit || e.contains(hit))); }"""


def test_phone_controls_scrolled_to_are_never_under_the_pinned_strip(page: Page, server, artifacts):
    """Tab, Shift+Tab or a focus() scrolls a control into view below the strip, not under it; the
    PDF button and the page's last button are reachable and not covered."""
    sized(page, "phone")
    open_app(page, server)
    enter_flare(page)
    height = page.evaluate(f"() => document.querySelector('{MAIN}').scrollHeight")
    scroll_to(page, height)  # the bottom: the last button clear of the edge
    last = page.get_by_role("button", name="Add this panel to the series (Trends page)")
    box = last.bounding_box()
    assert box and box["y"] + box["height"] <= SIZES["phone"][1] - 16, box
    assert not last.evaluate(COVERED)
    strip_bottom = page.locator(".st-key-assess_strip").bounding_box()
    for target in (
        page.get_by_role("button", name="Download PDF summary"),
        page.get_by_label("Ferritin", exact=True),
        page.get_by_label("Underlying disease"),
    ):
        scroll_to(page, height)
        target.focus()  # scrolled up to it: it must land below the pinned strip
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")  # one frame for the layout
        box = target.bounding_box()
        assert box and box["y"] >= strip_bottom["y"] + strip_bottom["height"] - 1, (box, strip_bottom)
        assert not target.evaluate(COVERED)
    # Shift+Tab from a field just below the strip: the field before it is under the strip until
    # the browser scrolls to it (by the least amount), and must come out below the strip.
    ferritin = page.get_by_label("Ferritin", exact=True)
    ferritin.focus()
    below_strip = strip_bottom["y"] + strip_bottom["height"]
    page.evaluate(
        f"() => {{ const m = document.querySelector('{MAIN}'); const f = document.activeElement;"
        f" m.scrollTop += f.getBoundingClientRect().top - {below_strip} - 4; }}"
    )
    page.keyboard.press("Shift+Tab")
    previous = page.get_by_label("Platelet count", exact=True)
    expect(previous).to_be_focused()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    box = previous.bounding_box()
    assert box and box["y"] >= below_strip - 1, (box, strip_bottom)
    assert not previous.evaluate(COVERED)
    page.get_by_role("button", name="Download PDF summary").click()  # a tap reaches it
    page.screenshot(path=str(artifacts / "bedside-phone-pdf-focused.png"))


TOO_SMALL = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const seen = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const targets = [
    ...main.querySelectorAll('input[type="text"], [data-baseweb="select"] > div, [data-testid="stRadioGroup"] label,'
      + ' [data-testid="stCheckbox"] label, [data-testid^="stBaseButton"], [data-testid="stExpander"] summary'),
  ].filter(seen);
  const small = targets.filter((e) => e.getBoundingClientRect().height < 43.5)
    .map((e) => `${e.tagName} ${(e.getAttribute('aria-label') || e.textContent).trim().slice(0, 40)}: `
      + `${Math.round(e.getBoundingClientRect().height)} px`);
  // Help icons: a 16 px glyph in a 44 × 44 px tap area (::after), which never reaches another control
  // (their label rows are taller below 1100 px to leave room for it).
  const icons = [...main.querySelectorAll('[data-testid="stTooltipIcon"] button:not([data-testid])')].filter(seen);
  const controls = 'input, button, label, summary, a, [data-baseweb="select"]';
  for (const b of icons) {
    const area = getComputedStyle(b, '::after');
    if (parseFloat(area.width) < 43.5 || parseFloat(area.height) < 43.5)
      small.push(`help icon ${b.getAttribute('aria-label')}: tap area ${area.width} × ${area.height}`);
    b.scrollIntoView({ block: 'center' });  // clear of the pinned strip
    const r = b.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (document.elementFromPoint(x, y) !== b && !b.contains(document.elementFromPoint(x, y))) continue;  // folded away
    for (const [dx, dy] of [[-21, 0], [21, 0], [0, -21], [0, 21]]) {  // the tap area's edges
      const hit = document.elementFromPoint(x + dx, y + dy);
      const other = hit && hit.closest(controls);
      if (other && other !== b && !b.contains(other) && !other.contains(b))
        small.push(`help icon ${b.getAttribute('aria-label')}: tap at (${dx}, ${dy}) reaches ${other.tagName}`);
    }
  }
  return [targets.length, icons.length, small];
}"""


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_touch_targets_are_at_least_44_px(page: Page, server, size):
    sized(page, size)
    open_app(page, server)
    load_example(page, "Adult with SLE on prednisone: HScore 266")
    fields = page.locator(".st-key-assess_form input[type='text']")
    for i in range(fields.count()):  # a help icon's tap area never covers its own field
        assert not fields.nth(i).evaluate(
            "e => { e.scrollIntoView({ block: 'center' }); const r = e.getBoundingClientRect();"
            " const hit = document.elementFromPoint(r.right - 4, r.top + 3);"
            " return !!(hit && hit.closest('[data-testid=\"stTooltipIcon\"]')); }"
        ), i
    count, icons, small = page.evaluate(TOO_SMALL)
    assert count > 60 and icons > 15, (count, icons)
    assert small == [], "\n".join(small)


# Issue 12, points 2 and 8: the empty form says what to do first; the infant worked example is worded
# as a haemophagocytic syndrome (never "suggestive of MAS"), with the MH score's qualifier beside it.
START_HERE = "Start here: choose the underlying disease"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_empty_form_says_what_to_do_first(page: Page, server, artifacts, size):
    sized(page, size)
    open_app(page, server)
    answer = page.locator(".st-key-assess_answer")
    expect(answer.get_by_text(START_HERE).first).to_be_attached()
    if size == "desktop":
        expect(answer.get_by_text(START_HERE).first).to_be_visible()
    expect(page.locator(MAIN)).not_to_contain_text("suggestive of MAS")
    page.screenshot(path=str(artifacts / f"bedside-empty-{size}.png"))


def test_infant_example_is_worded_as_a_haemophagocytic_syndrome(page: Page, server, artifacts):
    sized(page, "desktop")
    open_app(page, server)
    pick_option(page, "Example patient", "Infant: MH score 123")
    idle(page)
    page.get_by_role("button", name="Load example").click()
    headline = page.locator(".st-key-assess_answer [data-testid='stAlert']").first
    expect(headline).to_contain_text("haemophagocytic syndrome")
    settled(page)
    expect(headline).not_to_contain_text("suggestive of MAS")
    main = page.locator(MAIN)
    expect(main).to_contain_text("values not confirmed against the primary paper")
    page.screenshot(path=str(artifacts / "bedside-infant-desktop.png"))
