"""Cohort screening and FHIR import in a real browser: upload, summary, charts, downloads, screenshots."""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from test_fhir import bundle, obs

from e2e.helpers import full_screenshot, open_app, wait_idle
from e2e.waits import waits
from mas_screen.faces.cohort import screen_frame
from mas_screen.ui.batch_demo import demo_cohort

pytestmark = pytest.mark.e2e

FORMULA = "=cmd|' /C calc'!A0"
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def cohort_csv(path) -> pd.DataFrame:
    """The synthetic demo rows plus two hostile ones: a formula id and a formula in a lab cell."""
    frame = demo_cohort().head(40)
    hostile = frame.head(2).copy()
    hostile["id"] = [FORMULA, "@SUM(1+1)"]
    hostile["ferritin_ng_per_mL"] = ["-2+3+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0"]
    frame = pd.concat([frame, hostile], ignore_index=True)
    frame.to_csv(path, index=False)
    return frame


def open_batch(page: Page, url: str) -> None:
    page.goto(f"{url}/batch")
    page.get_by_role("button", name="Load demo cohort (synthetic)").wait_for(state="visible", timeout=waits.page)
    wait_idle(page)


def test_cohort_upload_summary_charts_and_downloads(page: Page, server, artifacts, tmp_path):
    source = tmp_path / "cohort.csv"
    frame = cohort_csv(source)
    expected = screen_frame(frame)
    open_batch(page, server)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(source))
    wait_idle(page)
    expect(page.get_by_text("Summary — cohort.csv")).to_be_visible(timeout=waits.page)
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="Rows screened")).to_contain_text("42")
    suggestive = int((expected["mas_signal"].astype("str") == "suggestive").sum())
    expect(metrics.filter(has_text="Suggestive of MAS")).to_contain_text(str(suggestive))

    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(2)
    expect(charts.first).to_contain_text("cut-off ≥ 169")
    expect(charts.nth(1)).to_contain_text("sJIA (derivation) ≥ −2.1")
    expect(charts.nth(1)).to_contain_text("AOSD (Yao 2021) ≥ −1.74")

    page.get_by_text("Flagged: features suggestive of MAS, or any instrument met").click()
    wait_idle(page)
    flagged = (expected["mas_signal"].astype("str") == "suggestive").copy()
    for column in expected.columns:
        if column.endswith("_status"):
            flagged |= expected[column].astype("str") == "met"
    expect(page.get_by_text(f"{int(flagged.sum())} row(s)", exact=False).first).to_be_visible()

    with page.expect_download(timeout=waits.page) as info:
        page.get_by_role("button", name="Download results CSV").click()
    text = info.value.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 42
    ids = [r["id"] for r in rows]
    assert "'" + FORMULA in ids and FORMULA not in ids
    assert "'@SUM(1+1)" in ids
    assert rows[-2]["ferritin_ng_per_mL"].startswith("'-2+3")
    assert rows[-1]["ferritin_ng_per_mL"] == "'+cmd|' /C calc'!A0"
    risky = [v for r in rows for v in r.values() if v[:1] in ("=", "@", "+", "-") and not NUMBER.match(v)]
    assert risky == []  # every formula-looking cell is neutralised; negative scores stay numbers
    assert [r["mas_signal"] for r in rows] == list(expected["mas_signal"].astype("str"))
    assert rows[-2]["warnings"].startswith("ferritin:")  # the formula is not a ferritin value
    assert [r["warnings"] for r in rows] == list(expected["warnings"].astype("str"))

    with page.expect_download(timeout=waits.page) as info:
        page.get_by_role("button", name="Download results Parquet").click()
    back = pd.read_parquet(info.value.path())
    assert list(back["id"]) == list(frame["id"])  # Parquet keeps cells exactly as typed
    assert list(back["hscore_status"].astype("str")) == list(expected["hscore_status"].astype("str"))

    page.get_by_text("All rows", exact=True).click()
    wait_idle(page)
    full_screenshot(page, artifacts / "batch-1440.png", 1440)
    full_screenshot(page, artifacts / "batch-820.png", 820)


def test_hostile_file_gets_a_message(page: Page, server, tmp_path):
    junk = tmp_path / "cohort.parquet"
    junk.write_bytes(b"id,ferritin\na,1\n")
    open_batch(page, server)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(junk))
    wait_idle(page)
    expect(page.get_by_text("is named like a Parquet file but is not one")).to_be_visible(timeout=waits.action)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def fhir_bundle() -> dict:
    """Two dates for one patient; on the latest, an unknown code and a unit with no fixed conversion."""
    day1, day3 = "2026-03-01T08:00:00Z", "2026-03-03T08:00:00Z"
    return bundle(
        obs("f1", "2276-4", 900, "ng/mL", when=day1),
        obs("p1-plt", "777-3", 260, "10*3/uL", when=day1),
        obs("f3", "2276-4", 4000, "ng/mL", when=day3),
        obs("p3-plt", "777-3", 140, "10*3/uL", when=day3),
        obs("a3", "1920-8", 80, "U/L", when=day3),
        obs("fib3", "3255-7", 2.6, "g/L", when=day3),
        obs("x3", "9999-9", 1, "mg/dL", when=day3),
        obs("s3", "76039-7", 3000, "pg/mL", when=day3),
    )


def test_fhir_bundle_fills_the_bedside_form(page: Page, server, artifacts, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(fhir_bundle()))
    open_app(page, server)
    page.get_by_text("Import FHIR R4 Bundle").click()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(path))
    wait_idle(page)
    expect(page.get_by_text("are now in the form below")).to_be_visible(timeout=waits.action)
    # The report is drawn before the form in the same run: wait for the form's values (retrying).
    expect(page.get_by_label("Ferritin", exact=True)).to_have_value("4000")
    expect(page.get_by_label("Platelet count", exact=True)).to_have_value("140")
    expect(page.get_by_label("Fibrinogen", exact=True)).to_have_value("2.6")
    expect(page.get_by_text("is not a LOINC code MAS Screen reads")).to_be_visible()
    expect(page.get_by_text("has no fixed conversion")).to_be_visible()
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    full_screenshot(page, artifacts / "assess-fhir-import-1440.png", 1440)

    page.get_by_role("button", name="Send all 2 dated panels to the Trends page").click()
    wait_idle(page)
    expect(page.get_by_text("Sent to the Trends page")).to_be_visible()
    page.get_by_role("link", name="Trends").click()
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=waits.action)
    # Two panels: the latest is the Trends page's default time point.
    expect(page.get_by_role("combobox", name="Show the full assessment at")).to_have_value("2026-03-03T08:00+00:00")
