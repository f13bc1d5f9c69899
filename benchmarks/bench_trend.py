"""A year of daily panels (365 points) assessed, serialised and, when the module exists, charted.

.venv/bin/python benchmarks/bench_trend.py [N_POINTS] [REPEATS]

Prints figures, asserts nothing. The series is synthetic (deterministic): an sJIA course whose
platelets, ferritin, AST, fibrinogen and ESR drift with a flare into MAS every few months, mixed
units, an occasional censored ferritin and an occasional bad value.
"""

from __future__ import annotations

import csv
import io
import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mas_screen.domain.series import SeriesInput
from mas_screen.faces.trends import assess_series
from mas_screen.kernel.inputs.columns import read_series_csv
from mas_screen.render.text import render_trend_text


def synthetic_series(n: int = 365, seed: int = 2016) -> dict:
    rnd = random.Random(seed)
    start = datetime(2026, 1, 1, 8, 0)
    panels = []
    for day in range(n):
        flare = max(0.0, math.sin(day / 29.0)) ** 4  # 0 … 1, a few episodes a year
        labs: dict = {
            "platelets": round(380 - 260 * flare + rnd.gauss(0, 15)),
            "ferritin": round(400 + 14000 * flare + rnd.gauss(0, 50)),
            "ast": round(30 + 160 * flare + rnd.gauss(0, 4)),
            "wbc": round(12 - 7 * flare + rnd.gauss(0, 0.6), 1),
            "neutrophils": round(8 - 5 * flare + rnd.gauss(0, 0.4), 1),
            "esr": max(1, round(80 - 65 * flare + rnd.gauss(0, 4))),
            "ldh": round(300 + 1200 * flare + rnd.gauss(0, 20)),
            "temperature": round(37.2 + 2.2 * flare + rnd.gauss(0, 0.2), 1),
        }
        fib = 500 - 330 * flare + rnd.gauss(0, 12)
        labs["fibrinogen"] = {"value": round(fib / 100, 2), "unit": "g/L"} if day % 2 else round(fib)
        labs["triglycerides"] = {"value": round((120 + 160 * flare) / 88.57, 2), "unit": "mmol/L"}
        if labs["ferritin"] > 12000 and day % 5 == 0:
            labs["ferritin"] = ">10000"
        if day % 97 == 13:
            labs["ast"] = "haemolysed"
        panels.append({"time": (start + timedelta(days=day)).strftime("%Y-%m-%d %H:%M"), "labs": labs})
    context = {"age_years": 9, "underlying_disease": "sjia", "febrile": True, "biologic_therapy": "none"}
    return {"context": context, "panels": panels}


def as_csv(data: dict) -> str:
    keys = sorted({k for p in data["panels"] for k in p["labs"]})
    buf = io.StringIO()
    writer = csv.writer(buf)
    columns = ["time", *keys]
    writer.writerow(columns)
    for p in data["panels"]:
        row = [p["time"]]
        for k in keys:
            v = p["labs"].get(k, "")
            row.append(f"{v['value']} {v['unit']}" if isinstance(v, dict) else v)
        writer.writerow(row)
    return buf.getvalue()


def timed(func, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
    return result, times


def fmt(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}; {len(times)} runs)"


def main(n: int = 365, repeats: int = 5) -> None:
    data = synthetic_series(n)
    series = SeriesInput.model_validate(data)
    assess_series(SeriesInput.model_validate(synthetic_series(5)))  # warm caches (YAML, unit indexes)

    print(f"points: {n} (daily), labs per panel: {len(data['panels'][0]['labs'])}")
    _, t_validate = timed(lambda: SeriesInput.model_validate(data), repeats)
    print(f"validate SeriesInput:           {fmt(t_validate)}")
    result, t_assess = timed(lambda: assess_series(series), repeats)
    print(
        f"assess_series():                {fmt(t_assess)}  = {statistics.median(t_assess) / n * 1e6:.0f} µs per point"
    )
    _, t_dump = timed(lambda: result.model_dump(mode="json"), repeats)
    print(f"model_dump(mode='json'):        {fmt(t_dump)}")
    _, t_text = timed(lambda: render_trend_text(result), repeats)
    print(f"render_trend_text():            {fmt(t_text)}")
    text = as_csv(data)
    _, t_csv = timed(lambda: assess_series(read_series_csv(text).series), repeats)
    print(f"CSV read + assess_series():     {fmt(t_csv)}")
    met = {k: v for k, v in result.first_met.items() if v}
    print(f"first met: {met}")
    print(f"warnings: {len(result.warnings)}, changes: {sum(len(v) for v in result.changes.values())}")

    try:
        from mas_screen.render.figures.trends import trend_small_multiples
    except ImportError:
        print("charting: not available yet (mas_screen.render.figures.trends.trend_small_multiples not found)")
        return
    fig, t_chart = timed(lambda: trend_small_multiples(result), repeats)
    print(f"trend_small_multiples():        {fmt(t_chart)}")
    try:
        _, t_json = timed(lambda: fig.to_json(), repeats)
        print(f"figure.to_json():               {fmt(t_json)}")
    except AttributeError:
        pass
    total = statistics.median(t_assess) + statistics.median(t_chart)
    print(f"assessed and charted:           {total * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 365, int(sys.argv[2]) if len(sys.argv) > 2 else 5)
