"""The bedside page in a real browser: keyboard entry, live results, chart, downloads, screenshots."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import full_screenshot, open_app, pick_option, wait_idle
from e2e.waits import waits

pytestmark = pytest.mark.e2e


def focused_label(page: Page) -> str:
    return page.evaluate(
        "() => { const e = document.activeElement; if (!e) return '';"
        " return e.getAttribute('aria-label') || (e.labels && e.labels[0] ? e.labels[0].innerText : '') || ''; }"
    )


def tab_to(page: Page, label: str, limit: int = 12) -> None:
    """Press Tab until the focused element is the field labelled `label` (keyboard-only entry)."""
    for _ in range(limit):
        if focused_label(page).strip() == label:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach {label!r} by Tab; focus is on {focused_label(page)!r}")


def type_into(page: Page, label: str, text: str) -> None:
    tab_to(page, label)
    page.keyboard.type(text)


def test_keyboard_entry_of_a_full_panel(page: Page, server, artifacts):
    open_app(page, server)
    page.get_by_label("Underlying disease").click()
    page.keyboard.type("Systemic JIA")
    page.keyboard.press("Enter")
    type_into(page, "Age (years)", "7")
    # Labs in report order; each value field is followed by its unit selector.
    for label, value in [
        ("Haemoglobin", "10.1"),
        ("White cell count", "6.2"),
        ("Platelet count", "150"),
        ("Ferritin", "2500"),
        ("AST", "60"),
        ("LDH", "800"),
        ("Triglycerides", "140"),
        ("Fibrinogen", "300"),
        ("ESR", "20"),
    ]:
        type_into(page, label, value)
    page.keyboard.press("Tab")
    wait_idle(page)
    # Fever answer by keyboard: focus the answer and press y.
    page.locator(".st-key-ctx--febrile [role='radiogroup']").get_by_role("radio", name="Unknown").focus()
    page.keyboard.press("y")
    wait_idle(page)
    expect(page.get_by_test_id("stAlert").filter(has_text="Features suggestive of MAS")).to_be_visible(
        timeout=waits.action
    )
    expect(page.get_by_text("2016 MAS criteria — met")).to_be_visible()
    expect(page.get_by_text("Ferritin:ESR — met")).to_be_visible()
    assert page.get_by_label("Ferritin", exact=True).input_value() == "2500"
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
    full_screenshot(page, artifacts / "assess-keyboard-desktop.png", 1440)


def test_bad_value_flagged_and_kept(page: Page, server, artifacts):
    open_app(page, server)
    field = page.get_by_label("Fibrinogen", exact=True)
    field.fill("3.2")
    field.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("Check the unit").first).to_be_visible()
    assert field.input_value() == "3.2"
    full_screenshot(page, artifacts / "assess-bad-input-tablet.png", 820)


def load_example(page: Page, title: str) -> None:
    pick_option(page, "Example patient", title)
    wait_idle(page)
    page.get_by_role("button", name="Load example").click()
    wait_idle(page)


def test_example_results_chart_and_screenshots(page: Page, server, artifacts):
    open_app(page, server)
    load_example(page, "Adult with SLE on prednisone: HScore 266")
    expect(page.get_by_text("HScore — met").first).to_be_visible()
    expect(page.get_by_text(">99%").first).to_be_visible()
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
    chart_text = page.locator('[data-testid="stPlotlyChart"]').inner_text()
    assert "Ferritin" in chart_text
    full_screenshot(page, artifacts / "assess-desktop.png", 1440)
    full_screenshot(page, artifacts / "assess-tablet.png", 820)


def test_downloads_pdf_and_json(page: Page, server, artifacts, tmp_path):
    open_app(page, server)
    load_example(page, "sJIA, febrile: 2016 criteria met")
    with page.expect_download(timeout=waits.page) as info:
        page.get_by_role("button", name="Download JSON (contract v1)").click()
    data = json.loads(info.value.path().read_bytes())
    assert data["schema_version"] == "1"
    assert data["criteria"]["mas2016"]["status"] == "met"
    assert data["input"]["labs"]["ferritin"]["value"] == "2500"

    with page.expect_download(timeout=waits.long) as info:
        page.get_by_role("button", name="Download PDF summary").click()
    pdf = info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    (artifacts / "assess-summary.pdf").write_bytes(pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
        text = text.decode()
        assert "not a diagnosis" in text
        assert "2500" in text and "Features suggestive of MAS" in text
        assert "≥" in text or "≤" in text
        assert "Patient name:" in text and "Clinician:" in text and "Next steps." in text
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 1 <= pages <= 4  # summary, inputs and the lab figure at 8 pt, caveats and references
