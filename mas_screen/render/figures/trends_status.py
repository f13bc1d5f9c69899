"""The status timeline (each instrument's result at each panel, first met marked) and the changes table
of a series."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from mas_screen.criteria.loading import instrument_ids
from mas_screen.domain.models import CriterionResult
from mas_screen.domain.series import TrendResult
from mas_screen.domain.units import pretty_unit
from mas_screen.explain.phrases import STATUS_MARK, STATUS_TEXT, result_phrase
from mas_screen.render.figures.kit import (
    BASE_FONT,
    CHAR_PX,
    FONT_FAMILY,
    LABEL_FONT,
    OKABE_ITO,
    TICK_FONT,
    WIDTH,
    _empty_figure,
    page_layout,
)
from mas_screen.render.figures.trends_kit import (
    CONSENSUS_NOTE,
    EMPTY_SERIES,
    TICK2_PX,
    TICK_PX,
    TIME_TICK_PX,
    _canonical,
    _day,
    _lab_label,
    _needs_time,
    _plain_value,
    _short_when,
    lab_series,
    panel_order,
    stamp,
    wall_time,
)

# -------------------------------------------------------------------------------- status timeline

STATUS_SYMBOL, STATUS_WORD = STATUS_MARK, STATUS_TEXT  # the app's one table of marks and words
STATUS_Z = {"not_met": 0, "indeterminate": 1, "met": 2}
# Lightness differs too (dark / mid / light), so the strip reads in greyscale without the symbols.
STATUS_FILL = {"met": OKABE_ITO["vermillion"], "indeterminate": "#BDBDBD", "not_met": "#DCEAF6"}
STATUS_INK = {"met": "white", "indeterminate": "#111", "not_met": OKABE_ITO["blue"]}
ROW_PX = 40
SIDE_WORDS_MIN_PLOT = 0.4  # the share of the width the cells keep before the side words are left out
CELL_MIN_PX = 18  # narrower cells show colour only; a run of equal cells gets one symbol


def _hover_result(r: CriterionResult) -> str:
    return result_phrase(r, open_=True) or "—"


def _instrument_ids(points) -> list[str]:
    present: dict[str, None] = {}
    for p in points:
        present.update(dict.fromkeys(p.assessment.criteria))
    return [i for i in instrument_ids() if i in present] + [i for i in present if i not in instrument_ids()]


def _first_met_index(result: TrendResult, iid: str, statuses: list[str | None]) -> int | None:
    """The column where an instrument was first met: `result.first_met` when it says, else the
    first column whose status is met."""
    if iid in result.first_met:
        when = result.first_met[iid]
        if when is None:
            return None
        target = wall_time(when)
        return next((j for j, p in enumerate(result.points) if wall_time(p.time) == target), None)
    return next((j for j, s in enumerate(statuses) if s == "met"), None)


def first_met_times(result: TrendResult) -> dict[str, tuple[str, datetime | None]]:
    """{instrument id: (short name, time first met or None)} in instrument order."""
    out: dict[str, tuple[str, datetime | None]] = {}
    for iid in _instrument_ids(result.points):
        results = [p.assessment.criteria.get(iid) for p in result.points]
        name = next((r.short_name for r in results if r is not None), iid)
        j = _first_met_index(result, iid, [r.status if r else None for r in results])
        out[iid] = (name, None if j is None else wall_time(result.points[j].time))
    return out


def status_timeline(result: TrendResult, *, width: int = WIDTH) -> go.Figure:
    """One row per instrument, one column per time point: met ● / open ◐ / not met ○, in colour
    and lightness and with the symbol (so it reads without colour and in greyscale). Hover: the
    score or count. The time each instrument was first met is boxed and written on the right."""
    points = result.points
    if not points:
        return _empty_figure(EMPTY_SERIES, width=width)
    ids = _instrument_ids(points)
    times = [wall_time(p.time) for p in points]
    n = len(points)
    names: list[str] = []
    z: list[list[int | None]] = []
    hover: list[list[str]] = []
    statuses: dict[str, list[str | None]] = {}
    for iid in ids:
        row_z: list[int | None] = []
        row_h: list[str] = []
        row_s: list[str | None] = []
        name = iid
        for p, t in zip(points, times, strict=True):
            r = p.assessment.criteria.get(iid)
            if r is None:
                row_z.append(None)
                row_h.append(f"{iid}<br>{stamp(t)}<br>not assessed")
                row_s.append(None)
                continue
            name = r.short_name
            row_z.append(STATUS_Z[r.status])
            row_s.append(r.status)
            row_h.append(f"<b>{r.short_name}</b><br>{stamp(t)}<br>{STATUS_WORD[r.status]}: {_hover_result(r)}")
        names.append(name)
        z.append(row_z)
        hover.append(row_h)
        statuses[iid] = row_s

    first = {iid: _first_met_index(result, iid, statuses[iid]) for iid in ids}
    with_time = _needs_time(times)  # for the 'first met' words
    first_text = []
    for iid in ids:
        j = first[iid]
        if j is None:
            first_text.append("not met so far")
        elif j == 0:
            first_text.append("met from the start")
        else:
            first_text.append(f"first met {_short_when(times[j], with_time)}")
    left = int(max(len(s) for s in names) * CHAR_PX * 1.08 + 24)
    right = int(max(len(s) for s in first_text) * CHAR_PX + 24)
    # On a phone the 'first met' words would leave the cells no room: the boxed cell and the first-met
    # table under the chart say it there.
    side_words = width - left - right >= SIDE_WORDS_MIN_PLOT * width
    if not side_words:
        right = 16
    plot_px = width - left - right
    cell_px = plot_px / n

    # Columns are equal (one per panel), labelled with their time; the labels thin out when crowded.
    every = max(1, math.ceil(TIME_TICK_PX / cell_px)) if cell_px < TIME_TICK_PX else 1
    tick_idx = list(range(0, n, every))
    if n - 1 not in tick_idx and (n - 1 - tick_idx[-1]) * cell_px >= TIME_TICK_PX * 0.8:
        tick_idx.append(n - 1)
    tick_time = _needs_time([times[j] for j in tick_idx])
    tick_text = []
    for k, j in enumerate(tick_idx):
        t = times[j]
        prev = times[tick_idx[k - 1]] if k else None
        head = _day(t, year=prev is None or prev.year != t.year)
        tick_text.append(head + (f"<br>{t:%H:%M}" if tick_time else ""))

    colorscale = [
        [0.0, STATUS_FILL["not_met"]],
        [1 / 3, STATUS_FILL["not_met"]],
        [1 / 3, STATUS_FILL["indeterminate"]],
        [2 / 3, STATUS_FILL["indeterminate"]],
        [2 / 3, STATUS_FILL["met"]],
        [1.0, STATUS_FILL["met"]],
    ]
    gap = 2 if cell_px >= CELL_MIN_PX else 0
    heat = go.Heatmap(
        z=z,
        x=list(range(n)),
        y=list(range(len(ids))),
        zmin=-0.5,
        zmax=2.5,
        colorscale=colorscale,
        showscale=False,
        xgap=gap,
        ygap=2,
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
        meta={"kind": "status", "ids": ids},
    )
    # Symbols: in every cell when cells are wide enough, else once per run of equal cells.
    sx: list[float] = []
    sy: list[int] = []
    st: list[str] = []
    sc: list[str] = []
    for r_i, iid in enumerate(ids):
        row = statuses[iid]
        j = 0
        while j < n:
            k = j
            while k + 1 < n and row[k + 1] == row[j] and cell_px < CELL_MIN_PX:
                k += 1
            if row[j] is not None and (k - j + 1) * cell_px >= CELL_MIN_PX:
                sx.append((j + k) / 2)
                sy.append(r_i)
                st.append(STATUS_SYMBOL[row[j]])
                sc.append(STATUS_INK[row[j]])
            j = k + 1
    symbols = go.Scatter(
        x=sx,
        y=sy,
        mode="text",
        text=st,
        textfont={"size": 20 if cell_px >= 26 else 16, "color": sc, "family": FONT_FAMILY},
        hoverinfo="skip",
        showlegend=False,
        meta={"kind": "symbols"},
    )
    shapes = []
    half = max(0.5, 7 / cell_px)
    for r_i, iid in enumerate(ids):
        j = first[iid]
        if j is not None:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "y",
                    "x0": j - half,
                    "x1": j + half,
                    "y0": r_i - 0.5,
                    "y1": r_i + 0.5,
                    "line": {"color": "#000", "width": 3},
                    "fillcolor": "rgba(0,0,0,0)",
                }
            )
    annotations = [
        {
            "text": ("<b>" + text + "</b>") if first[iid] is not None else text,
            "xref": "paper",
            "yref": "y",
            "x": 1,
            "y": r_i,
            "xanchor": "left",
            "xshift": 10,
            "showarrow": False,
            "font": {"size": LABEL_FONT, "color": "#111" if first[iid] is not None else "#666"},
        }
        for r_i, (iid, text) in enumerate(zip(ids, first_text, strict=True))
        if side_words
    ]
    legend = [
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            name=f"{STATUS_SYMBOL[s]} {STATUS_WORD[s]}",
            marker={"symbol": "square", "size": 16, "color": STATUS_FILL[s], "line": {"color": "#555", "width": 1}},
        )
        for s in ("met", "indeterminate", "not_met")
    ]
    legend.append(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            name="first met (boxed)",
            marker={"symbol": "square-open", "size": 16, "color": "#000", "line": {"width": 3}},
        )
    )
    tick_px = TICK2_PX if tick_time else TICK_PX
    height = ROW_PX * len(ids) + 70 + tick_px + 10
    fig = go.Figure(data=[heat, symbols, *legend])
    fig.update_layout(
        **page_layout(
            width=width,
            height=height,
            margin={"l": left, "r": right, "t": 70, "b": tick_px + 10},
            legend={"yref": "container"},
        ),
        xaxis={
            "range": [-0.5, n - 0.5],
            "tickvals": tick_idx,
            "ticktext": tick_text,
            "tickfont": {"size": TICK_FONT, "color": "#444"},
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        yaxis={
            "range": [len(ids) - 0.5, -0.5],
            "tickvals": list(range(len(ids))),
            "ticktext": [f"<b>{s}</b>" for s in names],
            "tickfont": {"size": BASE_FONT, "color": "#111"},
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        shapes=shapes,
        annotations=annotations,
        hovermode="closest",
    )
    fig.update_layout(legend={"y": 1 - 6 / height, "yanchor": "top"})
    return fig


# ---------------------------------------------------------------------------------- changes table

ARROWS = {"up": "↑", "down": "↓", "same": "→"}
TABLE_COLUMNS = [
    "Lab",
    "Time",
    "Value",
    "Unit",
    "Change from first",
    "Change from first (%)",
    "Change from previous",
    "Change from previous (%)",
    "Per day",
    "Direction",
]


def _clean(value: float | None, digits: int) -> float | None:
    """Round for display, dropping binary noise (0.30000000000000004 → 0.3)."""
    return None if value is None else round(float(value), digits) + 0.0


def changes_table(result: TrendResult) -> pd.DataFrame:
    """One row per lab value: the lab (consensus labs first), time, the value as shown (a bound
    stays a bound, e.g. "> 40000"), its unit, the change from the first and the previous value
    (absolute and %), the change per day since the previous value and an arrow. Changes are in the
    lab's canonical unit, as `trends` computed them; none is judged (no published cut-off).

    Also: `Entered as` (value and unit as typed), `Value (number)` (the exact value in the
    canonical unit, empty for a bound) and `key` (the lab's key) for export and filtering."""
    series = lab_series(result)
    rows = []
    for analyte in panel_order(list(series)):
        for o in series[analyte]:
            c = o.change
            rows.append(
                {
                    "Lab": _lab_label(analyte),
                    "Time": pd.Timestamp(o.time),
                    "Value": _plain_value(analyte, o),
                    "Unit": pretty_unit(_canonical(analyte).unit),
                    "Change from first": _clean(c.change_from_first, 6),
                    "Change from first (%)": _clean(c.change_from_first_percent, 1),
                    "Change from previous": _clean(c.change_from_previous, 6),
                    "Change from previous (%)": _clean(c.change_from_previous_percent, 1),
                    "Per day": _clean(c.per_day_from_previous, 3),
                    "Direction": ARROWS.get(c.direction or "", ""),
                    "Entered as": c.input or c.value_text,
                    "Value (number)": None if o.op else float(o.fact.value_in(_canonical(analyte))),
                    "key": analyte,
                }
            )
    frame = pd.DataFrame(rows, columns=[*TABLE_COLUMNS, "Entered as", "Value (number)", "key"])
    for col in (
        "Change from first",
        "Change from first (%)",
        "Change from previous",
        "Change from previous (%)",
        "Per day",
        "Value (number)",
    ):
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    frame.attrs["note"] = CONSENSUS_NOTE
    return frame
