"""Export timings for a full example panel (printed, not asserted): figure build, static PNG via
kaleido (first call starts Chromium), and the PDF summary.

    .venv/bin/python benchmarks/bench_pdf.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from panels import FULL_PANEL

from mas_screen import PatientInput, assess
from mas_screen.render.export import assessment_json, figure_png, stop_png_server
from mas_screen.render.figures.gauges import score_gauge_figure
from mas_screen.render.figures.labs import lab_threshold_figure
from mas_screen.render.pdf.report import pdf_summary


def median_ms(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(repeats: int = 5) -> None:
    patient = PatientInput.model_validate(FULL_PANEL)
    assessment = assess(patient)
    lab_threshold_figure(patient, assessment)  # warm the YAML and rule caches
    fig = lab_threshold_figure(patient, assessment)

    print(f"full panel: {len(patient.labs)} labs, {len(fig.layout.annotations)} labels; medians of {repeats}")
    print(
        f"lab_threshold_figure():           {median_ms(lambda: lab_threshold_figure(patient, assessment), repeats):7.1f} ms"
    )
    print(f"score_gauge_figure():             {median_ms(lambda: score_gauge_figure(assessment), repeats):7.1f} ms")
    print(
        f"assessment_json(+input):          {median_ms(lambda: assessment_json(assessment, patient), repeats):7.1f} ms"
    )

    stop_png_server()
    t0 = time.perf_counter()
    png = figure_png(fig)
    first = (time.perf_counter() - t0) * 1000
    if png is None:
        print("figure_png(): unavailable (no Chromium?) — PDF timed without the figure")
    else:
        print(f"figure_png() first (starts browser): {first:7.1f} ms  ({len(png) / 1024:.0f} KiB, scale 2)")
        print(f"figure_png() warm, scale 2:       {median_ms(lambda: figure_png(fig), repeats):7.1f} ms")
        print(f"figure_png() warm, scale 1:       {median_ms(lambda: figure_png(fig, scale=1), repeats):7.1f} ms")

    plain = median_ms(lambda: pdf_summary(patient, assessment), repeats)
    print(
        f"pdf_summary() without figure:     {plain:7.1f} ms  ({len(pdf_summary(patient, assessment)) / 1024:.0f} KiB)"
    )
    if png is not None:
        with_fig = median_ms(lambda: pdf_summary(patient, assessment, figure_png=png), repeats)
        size = len(pdf_summary(patient, assessment, figure_png=png)) / 1024
        print(f"pdf_summary() with figure:        {with_fig:7.1f} ms  ({size:.0f} KiB)")
    stop_png_server()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
