"""Bedside page timings in headless Chromium (printed, never asserted):

- cold start: `streamlit run` launched → form visible and the script idle
- edit → updated results: a lab value changed and committed (Tab) → the headline shows the new signal
- PDF: generation in-process (figure PNG + PDF), and click → download complete in the browser

    .venv/bin/python benchmarks/bench_ui.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from e2e.conftest import CHROME_ARGS, CHROMIUM, free_port, start_server, wait_healthy  # noqa: E402
from e2e.helpers import wait_idle  # noqa: E402
from panels import FULL_PANEL  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from mas_screen import PatientInput, assess  # noqa: E402
from mas_screen.render.pdf.report import pdf_summary  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main(repeats: int = 10) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        port = free_port()
        t0 = time.perf_counter()
        server = start_server(port)
        try:
            wait_healthy(port)
            t_health = time.perf_counter() - t0
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_label("Ferritin", exact=True).wait_for(state="visible", timeout=60_000)
            wait_idle(page)
            t_usable = time.perf_counter() - t0
            print(f"cold start: health ok {t_health:.2f} s, page usable {t_usable:.2f} s")

            # A panel one ferritin value away from the 2016 criteria being met.
            for label, value in [("Platelet count", "150"), ("AST", "60"), ("Fibrinogen", "300")]:
                field = page.get_by_label(label, exact=True)
                field.fill(value)
                field.press("Tab")
                wait_idle(page)
            page.locator(".st-key-ctx--febrile [role='radiogroup']").get_by_role("radio", name="Unknown").focus()
            page.keyboard.press("y")  # febrile: Yes
            wait_idle(page)
            alert = page.get_by_test_id("stAlert").first
            times = []
            for i in range(repeats):
                field = page.get_by_label("Ferritin", exact=True)
                field.fill("2500" if i % 2 == 0 else "500")
                start = time.perf_counter()
                field.press("Tab")
                if i % 2 == 0:
                    expect(alert).to_contain_text("Features suggestive of MAS", timeout=30_000)
                else:
                    expect(alert).not_to_contain_text("Features suggestive of MAS", timeout=30_000)
                times.append(time.perf_counter() - start)
                wait_idle(page)
            print(
                f"edit → updated headline: median {ms(statistics.median(times))}, "
                f"min {ms(min(times))}, max {ms(max(times))} (n={repeats})"
            )

            start = time.perf_counter()
            with page.expect_download(timeout=90_000) as info:
                page.get_by_role("button", name="Download PDF summary").click()
            info.value.path()
            print(f"PDF click → download complete (first, starts the PNG renderer): {ms(time.perf_counter() - start)}")
            start = time.perf_counter()
            with page.expect_download(timeout=90_000) as info:
                page.get_by_role("button", name="Download PDF summary").click()
            info.value.path()
            print(f"PDF click → download complete (warm): {ms(time.perf_counter() - start)}")
        finally:
            server.terminate()
            browser.close()

    patient = PatientInput.model_validate(FULL_PANEL)
    assessment = assess(patient)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        pdf_summary(patient, assessment, lab_figure=True)
        runs.append(time.perf_counter() - start)
    print(
        f"PDF in-process, 12-lab panel with its print figure: first {ms(runs[0])}, median of rest {ms(statistics.median(runs[1:]))}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
