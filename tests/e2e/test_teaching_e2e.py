"""The teaching pages in a real browser: a full practice session (reading, population, next step,
arithmetic over three panels, progress downloaded), the projector stage of a case and of the
what-if explorer at 1280 × 720 and 1920 × 1080, at 100 % and 150 % zoom, asserting that no screen
scrolls and nothing on a slide is cut off, and the Write a case page. Screenshots go to
test-artifacts/ for a human to look at."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import full_screenshot, wait_idle
from e2e.readiness import wait_ready
from e2e.waits import waits
from mas_screen.faces.teaching.grading import model_answer
from mas_screen.faces.teaching.library import neutral_name, practice_order
from mas_screen.faces.teaching.loading import case_by_id, load_cases
from mas_screen.faces.teaching.schema import READING_LABELS
from mas_screen.ui.case_stage import screens_of

pytestmark = pytest.mark.e2e
EARLY = "sjia_mas_early"
# 150 % zoom on a W × H screen is a W/1.5 × H/1.5 CSS viewport drawn at 1.5 device pixels per pixel.
SCREENS = {1.0: [(1280, 720), (1920, 1080)], 1.5: [(853, 480), (1280, 720)]}
WORDIEST = "sjia_prolonged_fever_not_mas_yeh2010"  # longest teaching point; long next steps; 41 screens
MIN_STAGE_FONT_PX = 18  # body type on the 1280 x 720 slide: below this the back of a room cannot read it

MEASURE = """() => {
  const stage = document.querySelector('.st-key-stage');
  const body = document.querySelector('.st-key-stage_body');
  const main = document.querySelector('[data-testid="stMain"]');
  const r = stage.getBoundingClientRect();
  const b = body.getBoundingClientRect();
  // a chart's drawing must lie inside the slide's body and fill most of its box (not clipped, not tiny)
  const scale = Number(stage.dataset.scale || 1);
  const charts = Array.from(body.querySelectorAll('[data-testid="stPlotlyChart"]')).map(c => {
    const svg = c.querySelector('.main-svg').getBoundingClientRect();
    const box = c.closest('[class*="st-key-stagechart_"]');  // the chart's box on the slide (unscaled size)
    // clipped by an ancestor (overflow other than visible) between the drawing and the slide?
    let clipped = 0;
    for (let el = c.querySelector('.main-svg').parentElement; el && el !== body; el = el.parentElement) {
      const o = getComputedStyle(el);
      if (o.overflowX !== 'visible' || o.overflowY !== 'visible') {
        const k = el.getBoundingClientRect();
        clipped = Math.max(clipped, svg.right - k.right, svg.bottom - k.bottom, k.left - svg.left, k.top - svg.top);
      }
    }
    return {right: svg.right - b.right, bottom: svg.bottom - b.bottom, fill: svg.width / (box.offsetWidth * scale),
            clipped};
  });
  return {
    charts,
    doc: document.documentElement.scrollHeight, docW: document.documentElement.scrollWidth,
    main: main ? main.scrollHeight : 0, innerH: innerHeight, innerW: innerWidth,
    bodyScroll: body.scrollHeight, bodyClient: body.clientHeight,
    bodyScrollW: body.scrollWidth, bodyClientW: body.clientWidth,
    right: r.right, bottom: r.bottom, left: r.left, top: r.top, font: Number(stage.dataset.fontPx || 0),
    head: document.querySelector('.st-key-stage_head').innerText,
  };
}"""


def choose_option(page: Page, box, option: str) -> None:
    """Streamlit's option list is virtualised: type to bring the option into the list, then pick it."""
    box.click()
    page.keyboard.type(option[:12])
    page.get_by_role("option", name=option, exact=True).click(timeout=waits.action)
    wait_idle(page)


CHARTS_SETTLED = """() => Array.from(document.querySelectorAll('.st-key-stage [data-testid="stPlotlyChart"]')).every(
  c => c.querySelector('.main-svg'))"""


def settle(page: Page) -> None:
    """Two animation frames (the stage's fit script runs on the frame after a change) and every chart
    drawn."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_function(CHARTS_SETTLED, timeout=waits.action)


def assert_fits(m: dict, where: str) -> None:
    assert m["doc"] <= m["innerH"], f"{where}: the page scrolls ({m['doc']} > {m['innerH']})"
    assert m["main"] <= m["innerH"], f"{where}: the main area scrolls ({m['main']} > {m['innerH']})"
    assert m["docW"] <= m["innerW"], f"{where}: the page scrolls sideways"
    assert m["bodyScroll"] <= m["bodyClient"] + 1, (
        f"{where}: the slide is cut off ({m['bodyScroll']} > {m['bodyClient']})"
    )
    assert m["bodyScrollW"] <= m["bodyClientW"] + 1, f"{where}: the slide is cut off at the side"
    assert m["left"] >= -0.5 and m["top"] >= -0.5, where
    assert m["right"] <= m["innerW"] + 0.5 and m["bottom"] <= m["innerH"] + 0.5, f"{where}: the slide leaves the screen"
    for chart in m["charts"]:
        assert chart["right"] <= 1 and chart["bottom"] <= 1, f"{where}: a chart is cut off ({chart})"
        assert chart["clipped"] <= 1, f"{where}: a chart is clipped by its box ({chart})"
        assert 0.95 <= chart["fill"] <= 1.05, f"{where}: a chart does not fill its box ({chart})"


def open_cases(page: Page, url: str) -> None:
    page.goto(f"{url}/cases")
    page.get_by_role("button", name="Commit answers").wait_for(state="visible", timeout=waits.page)
    wait_idle(page)


# ---------------------------------------------------------------------------------------- practice


def test_full_practice_session(page: Page, server, artifacts):
    """The early sJIA case, three panels: day 1 answered with a few mistakes, days 3 and 4 right;
    the session summary counts them by skill and the progress file downloads."""
    page.set_viewport_size({"width": 1440, "height": 1000})
    open_cases(page, server)
    case = case_by_id(EARLY)
    number = [c.id for c in practice_order(load_cases())].index(EARLY) + 1
    choose_option(page, page.get_by_label("Case", exact=True).locator(".."), neutral_name(case, number))
    expect(page.get_by_text("Panel 1 of 3: Day 1 (admission)")).to_be_visible()
    times = case.times
    form = page.get_by_test_id("stForm")
    # Day 1: reading MAS (the author reads a flare), population right, NK-cell function (unhelpful).
    form.get_by_text(READING_LABELS["mas"], exact=True).click()
    form.get_by_text("2016 MAS criteria", exact=True).nth(0).click()  # question 2 (question 4 is nth(1))
    form.get_by_text("MS score", exact=True).nth(0).click()
    form.get_by_text("Send NK-cell function", exact=True).click()
    page.get_by_role("button", name="Commit answers").click()
    wait_idle(page)
    expect(page.get_by_text("4 of 10 points", exact=False)).to_be_visible(timeout=waits.action)
    expect(page.get_by_text("The case author:", exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Minoia 2019").first).to_have_attribute(
        "href", "https://doi.org/10.1136/annrheumdis-2019-215211"
    )
    full_screenshot(page, artifacts / "teaching-practice-feedback-1440.png", 1440)
    full_screenshot(page, artifacts / "teaching-practice-feedback-390.png", 390)  # a trainee on a phone
    page.set_viewport_size({"width": 1440, "height": 1000})
    for k in (1, 2):
        page.get_by_role("button", name="Next panel:").first.click()
        wait_idle(page)
        expect(page.get_by_text(f"Panel {k + 1} of 3")).to_be_visible()
        right = model_answer(case, times[k])
        form = page.get_by_test_id("stForm")
        form.get_by_text(READING_LABELS[right.reading], exact=True).click()
        for iid, name in (("mas2016", "2016 MAS criteria"), ("ms_score", "MS score")):
            form.get_by_text(name, exact=True).nth(0).click()
            if iid in right.met:
                form.get_by_text(name, exact=True).nth(1).click()
        step = next(s for s in case.panel_at(times[k]).next_steps if s.id == right.next_step)
        form.get_by_text(step.text, exact=True).click()
        page.get_by_role("button", name="Commit answers").click()
        wait_idle(page)
        expect(page.get_by_text("10 of 10 points", exact=False)).to_be_visible(timeout=waits.action)
    expect(page.get_by_text("Early MAS in systemic JIA", exact=False).first).to_be_visible()
    expect(page.get_by_text("Learning objectives")).to_be_visible()
    summary = page.get_by_text("Your session: 3 panels answered", exact=False)
    expect(summary).to_be_visible()
    summary.click()
    wait_idle(page)
    expect(page.get_by_text("Interpretation (the clinical reading)").first).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download my progress").click()
    saved = json.loads(info.value.path().read_text(encoding="utf-8"))
    assert saved["format"] == "mas-screen-practice-progress" and len(saved["records"]) == 3
    assert sum(r["skills"]["interpretation"]["earned"] for r in saved["records"]) == 8
    full_screenshot(page, artifacts / "teaching-practice-summary-1440.png", 1440)


# ------------------------------------------------------------------------------------------- stage


def _walk_stage(page: Page, count: int, dsf: float, artifacts, name: str, sizes=None) -> list[dict]:
    """Every screen, moved by keys (→ and a clicker's Page Down in turn), measured at both screen
    sizes of this zoom (or the sizes given); one screenshot of each kind of screen."""
    seen: list[dict] = []
    shot_kinds: set[str] = set()
    for k in range(count):
        expect(page.locator(".st-key-stage_head")).to_contain_text(f"screen {k + 1} of {count}", timeout=waits.action)
        wait_idle(page)
        heading = page.locator(".st-key-stage_body h2").first.inner_text()
        kind = heading.split(":")[-1].strip().split(" (")[0]
        for w, h in sizes or SCREENS[dsf]:
            page.set_viewport_size({"width": w, "height": h})
            settle(page)
            m = page.evaluate(MEASURE)
            assert_fits(m, f"{name} screen {k + 1} ({heading}) at {w}x{h} css, zoom {dsf}")
            seen.append(m)
            if kind not in shot_kinds or k == 0:
                page.screenshot(path=str(artifacts / f"stage-{name}-{int(dsf * 100)}-{w}x{h}-{k + 1:02d}.png"))
        shot_kinds.add(kind)
        if k < count - 1:
            page.keyboard.press("ArrowRight" if k % 2 == 0 else "PageDown")
    return seen


def _open_case_stage(page: Page, server: str, case_id: str = EARLY) -> None:
    """Cases page → Educator mode → the case (by its title) → Project full screen."""
    page.goto(f"{server}/cases")
    _project(page, None if case_id == EARLY else case_by_id(case_id).title)  # EARLY: the educator's default


def _project(page: Page, title: str | None) -> None:
    """On the Cases page: Educator mode → the case with this title (None: the default) → Project."""
    page.get_by_role("button", name="Commit answers").wait_for(state="visible", timeout=waits.page)
    wait_idle(page)
    page.get_by_text("Educator (projector)").click()
    wait_idle(page)
    # Under load the rerun may start after wait_idle's grace: the practice picker (neutral names) would
    # still be there. The educator's own button says the mode has switched.
    page.get_by_role("button", name="Project full screen").wait_for(state="visible", timeout=waits.action)
    wait_idle(page)
    if title is not None:
        choose_option(page, page.get_by_label("Case", exact=True).locator(".."), title)
        expect(page.get_by_role("combobox", name="Case", exact=True)).to_have_value(title, timeout=waits.action)
    page.get_by_role("button", name="Project full screen").click()
    wait_idle(page)
    page.locator(".st-key-stage").wait_for(timeout=waits.action)


@pytest.mark.parametrize("dsf", [1.0, 1.5], ids=["zoom100", "zoom150"])
def test_case_stage_fits_every_screen_without_scrolling(browser, server, artifacts, dsf):
    count = len(screens_of(case_by_id(EARLY)))
    w, h = SCREENS[dsf][0]
    context = browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=dsf)
    page = context.new_page()
    try:
        _open_case_stage(page, server)
        # No app chrome on the stage: no navigation, header or toolbar.
        assert page.locator('[data-testid="stHeader"]').evaluate_all("els => els.every(e => !e.offsetParent)")
        expect(page.get_by_role("link", name="Assess")).to_have_count(0)
        seen = _walk_stage(page, count, dsf, artifacts, "case")
        assert len(seen) == 2 * count
        # The slide is scaled to the screen: the same slide, 1.5 times larger at 1920 × 1080.
        scales = {(m["innerW"], m["innerH"]): round(m["right"] - m["left"]) for m in seen}
        assert set(scales.values()) <= {853, 1280, 1920}
        # Back with ← and a clicker's Page Up, home, and Esc leaves the stage.
        page.keyboard.press("ArrowLeft")
        expect(page.locator(".st-key-stage_head")).to_contain_text(f"screen {count - 1} of {count}")
        page.keyboard.press("PageUp")
        expect(page.locator(".st-key-stage_head")).to_contain_text(f"screen {count - 2} of {count}")
        page.keyboard.press("Home")
        expect(page.locator(".st-key-stage_head")).to_contain_text(f"screen 1 of {count}")
        page.keyboard.press("Escape")
        expect(page.get_by_role("heading", name="Teaching cases")).to_be_visible(timeout=waits.action)
        assert "stage" not in page.url
    finally:
        context.close()


@pytest.mark.parametrize("case_id", [WORDIEST])
def test_a_wordy_library_case_fits_the_stage_in_legible_type(browser, server, artifacts, case_id):
    """The library case with the longest teaching point and next-step texts, on a 1280 × 720
    projector: every screen fits the slide without scrolling, in type a room can read."""
    count = len(screens_of(case_by_id(case_id)))
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1.0)
    page = context.new_page()
    try:
        _open_case_stage(page, server, case_id)
        expect(page.locator(".st-key-stage_head")).to_contain_text(case_by_id(case_id).title[:30])
        seen = _walk_stage(page, count, 1.0, artifacts, f"library-{case_id}", sizes=[(1280, 720)])
        assert len(seen) == count
        small = [(k + 1, m["font"]) for k, m in enumerate(seen) if m["font"] < MIN_STAGE_FONT_PX]
        assert not small, f"screens set below {MIN_STAGE_FONT_PX} px: {small}"
    finally:
        context.close()


@pytest.mark.parametrize("dsf", [1.0, 1.5], ids=["zoom100", "zoom150"])
def test_explore_stage_fits_every_screen_without_scrolling(browser, server, artifacts, dsf):
    w, h = SCREENS[dsf][0]
    context = browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=dsf)
    page = context.new_page()
    try:
        page.goto(f"{server}/explore?stage=1")
        page.locator(".st-key-stage").wait_for(timeout=waits.page)
        wait_idle(page)
        head = page.locator(".st-key-stage_head").inner_text()
        count = int(head.rsplit(" of ", 1)[1])
        seen = _walk_stage(page, count, dsf, artifacts, "explore")
        assert len(seen) == 2 * count and count >= 4
    finally:
        context.close()


# ------------------------------------------------------------------------------------------- write


def test_write_page_checks_a_pasted_case(page: Page, server, artifacts):
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"{server}/write")
    page.get_by_role("heading", name="Write a case").wait_for(timeout=waits.page)
    wait_idle(page)
    page.get_by_role("tab", name="YAML, check and preview").click()
    expect(page.get_by_text("passes every check", exact=False)).to_be_visible()
    box = page.get_by_role("textbox", name="The case in YAML", exact=False)
    text = box.input_value().replace("difficulty: 1", "difficulty: 5")
    box.fill(text)
    box.press("Control+Enter")
    wait_idle(page)
    expect(page.get_by_text("1 problem(s). Each names the field and the line", exact=False)).to_be_visible(
        timeout=waits.action
    )
    expect(page.get_by_role("cell", name="difficulty", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="difficulty: 5", exact=True)).to_be_visible()  # the line as written
    full_screenshot(page, artifacts / "teaching-write-error-1440.png", 1440)


def test_an_educator_writes_a_case_and_projects_it(browser, server, artifacts):
    """The educator's round trip in one browser session: the starter case on the Write page, renamed,
    checked (computed findings and a practice preview), added to this session's library; then, by the
    app's own navigation (a reload would start a new session), the Cases page in Educator mode
    projects it on a 1280 × 720 stage whose every screen fits."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    title = "A flare written in the browser"
    try:
        page.goto(f"{server}/write")
        page.get_by_role("heading", name="Write a case").wait_for(timeout=waits.page)
        wait_idle(page)
        page.get_by_role("tab", name="YAML, check and preview").click()
        box = page.get_by_role("textbox", name="The case in YAML", exact=False)
        written = box.input_value()
        assert "id: my_new_case" in written
        text = written.replace("id: my_new_case", "id: e2e_written_flare")
        text = text.replace("A short title (hidden from trainees until they finish)", title)
        box.fill(text)
        box.press("Control+Enter")
        wait_idle(page)
        expect(page.get_by_text("“e2e_written_flare” passes every check", exact=False)).to_be_visible(
            timeout=waits.action
        )
        expect(page.get_by_role("heading", name="What the criteria compute")).to_be_visible()
        expect(page.get_by_role("heading", name="Practice preview: what a trainee sees", exact=False)).to_be_visible()
        expect(page.get_by_role("button", name="Download the YAML")).to_be_visible()
        full_screenshot(page, artifacts / "teaching-write-preview-1440.png", 1440)
        page.get_by_role("button", name="Add it to this session's library").click()
        wait_idle(page)
        expect(page.get_by_text("Added “e2e_written_flare” to this session's library", exact=False)).to_be_visible(
            timeout=waits.action
        )
        page.get_by_role("link", name="Cases").click()  # the app's navigation keeps the session
        _project(page, title)
        page.set_viewport_size({"width": 1280, "height": 720})
        expect(page.locator(".st-key-stage_head")).to_contain_text(title, timeout=waits.action)
        count = int(page.locator(".st-key-stage_head").inner_text().rsplit(" of ", 1)[1].split()[0])
        seen = _walk_stage(page, count, 1.0, artifacts, "written", sizes=[(1280, 720)])
        assert len(seen) == count >= 8  # title, story, patient, labs, reading, next step, criteria, answer...
    finally:
        context.close()


# ----------------------------------------------------------------------------------------- explore


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
    full_screenshot(page, artifacts / "teaching-explorer-390.png", 390)  # a phone
    # On a phone the distances are a list (the chart's words would be cut), and the chart comes back wide.
    page.set_viewport_size({"width": 390, "height": 844})
    wait_ready(page)
    section = page.locator(".st-key-xp_distance")
    expect(section.get_by_text("does not hold").first).to_be_visible()
    expect(section.locator('[data-testid="stPlotlyChart"]')).to_have_count(0)
    # the instruments table fits the screen (no sideways scroll, nothing past its edge)
    table = page.locator(".st-key-xp_results table").first.bounding_box()
    assert table["x"] >= 0 and table["x"] + table["width"] <= 390, table
    page.set_viewport_size({"width": 1440, "height": 1000})
    wait_ready(page)
    expect(section.locator('[data-testid="stPlotlyChart"]')).to_have_count(1)
    wait_idle(page)
    page.get_by_role("button", name="Reset").click()
    wait_idle(page)
    expect(page.get_by_text("Nothing changed yet")).to_be_visible()
    page.locator(".st-key-xp_flips_mas2016").get_by_role("button", name="Apply").first.click()
    wait_idle(page)
    expect(page.get_by_text("⇄ 2016 MAS criteria")).to_be_visible(timeout=waits.action)
