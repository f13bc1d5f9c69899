"""Traces of the serial-lab small multiples: the values (censored ones as bounds), the user's own alert
levels that fired, and the legend."""

from __future__ import annotations

import itertools
import math
import textwrap

import plotly.graph_objects as go

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import UnitSpec
from mas_screen.domain.series import TrendResult
from mas_screen.domain.units import pretty_unit
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import MISSING_WORD as MISSING
from mas_screen.explain.wording import NOT_MET_WORD as NOT_MET
from mas_screen.render.figures.kit import (
    BASE_FONT,
    STYLE,
)
from mas_screen.render.figures.trends_kit import (
    ALERT_COLOUR,
    ALERT_DASH,
    MARKER_MIN_GAP_PX,
    RING_COLOUR,
    VALUE_COLOUR,
    LabPanel,
    Obs,
    TimeAxis,
    _amount,
    _lab_label,
    _percent,
    _value_text,
    stamp,
    wall_time,
)


def _alert_hit_traces(result: TrendResult, panels: list[LabPanel], traces: list) -> bool:
    """The user's alerts that fired (`result.alerts`, e.g. a fall of at least the user's percent):
    a purple diamond on the value, its hover the alert's own label (which says it is user-set)."""
    hits = result.alerts
    drawn = False
    for index, p in enumerate(panels, start=1):
        suffix = "" if index == 1 else str(index)
        mine = [h for h in hits if h.analyte == p.analyte]
        xs, ys, words = [], [], []
        for hit in mine:
            at = wall_time(hit.time)
            for o, value in zip(p.obs, p.values, strict=True):
                if o.time == at:
                    xs.append(o.time)
                    ys.append(value)
                    words.append(hit.label)
                    break
        if xs:
            drawn = True
            traces.append(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="markers",
                    marker={"symbol": "diamond-open", "size": 19, "line": {"width": 3}, "color": ALERT_COLOUR},
                    xaxis=f"x{suffix}",
                    yaxis=f"y{suffix}",
                    showlegend=False,
                    name="your alert",
                    hovertext=words,
                    hovertemplate="%{hovertext}<extra></extra>",
                    meta={"analyte": p.analyte, "kind": "alert_hits", "labels": words},
                )
            )
    return drawn


def _check_alerts(alert_levels: dict[str, float] | None) -> dict[str, float]:
    known = criteria().analytes.analytes
    out: dict[str, float] = {}
    for key, level in (alert_levels or {}).items():
        if key not in known:
            raise ValueError(f"alert level for an unknown lab {key!r}")
        if level is None:
            continue
        value = float(level)
        if not math.isfinite(value):
            raise ValueError(f"alert level for {key} is not a finite number")
        out[key] = value
    return out


def _typical_gap(p: LabPanel, plot_px: float, taxis: TimeAxis) -> float:
    """Median distance in pixels between successive values of a panel."""
    xs_px = [taxis.frac(o.time) * plot_px for o in p.obs]
    gaps = sorted(b - a for a, b in itertools.pairwise(xs_px))
    return gaps[len(gaps) // 2] if gaps else plot_px


def _value_traces(p: LabPanel, xref: str, yref: str, plot_px: float, taxis: TimeAxis) -> list[go.Scatter]:
    """The values: markers (thinned out when crowded; bounds always shown as triangles), solid
    segments between exact values and dotted ones to or from a bound."""
    n = len(p.obs)
    typical = _typical_gap(p, plot_px, taxis)
    # Crowded markers read as a beaded (dotted) line, which means "bound" here: draw the line only.
    size, width_px = (12, 3.0) if typical >= MARKER_MIN_GAP_PX else (0, 2.5)
    sizes, symbols = [], []
    for i, o in enumerate(p.obs):
        if o.op in (">", ">="):
            symbols.append("triangle-up")
            sizes.append(max(size, 9) + 4)
        elif o.op in ("<", "<="):
            symbols.append("triangle-down")
            sizes.append(max(size, 9) + 4)
        else:
            symbols.append("circle")
            sizes.append(size if size or i in (0, n - 1) else 0)
    sizes[-1] = max(sizes[-1], 11)  # the first and the latest value are always visible
    sizes[0] = max(sizes[0], 11)
    solid_x: list = []
    solid_y: list = []
    dotted_x: list = []
    dotted_y: list = []
    for i in range(n - 1):
        a, b = p.obs[i], p.obs[i + 1]
        xs, ys = (dotted_x, dotted_y) if (a.op or b.op) else (solid_x, solid_y)
        if xs and xs[-1] == a.time:
            xs.append(b.time)
            ys.append(p.values[i + 1])
        else:
            if xs:
                xs.append(None)
                ys.append(None)
            xs.extend([a.time, b.time])
            ys.extend([p.values[i], p.values[i + 1]])
    out = []
    for xs, ys, dash in ((solid_x, solid_y, "solid"), (dotted_x, dotted_y, "dot")):
        if xs:
            out.append(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line={"color": VALUE_COLOUR, "width": width_px, "dash": dash},
                    xaxis=xref,
                    yaxis=yref,
                    hoverinfo="skip",
                    showlegend=False,
                    meta={"analyte": p.analyte, "kind": f"segments_{dash}"},
                )
            )
    out.append(
        go.Scatter(
            x=[o.time for o in p.obs],
            y=p.values,
            mode="markers",
            marker={
                "size": sizes,
                "symbol": symbols,
                "color": VALUE_COLOUR,
                "line": {"color": "white", "width": 1 if size else 0},
            },
            xaxis=xref,
            yaxis=yref,
            showlegend=False,
            name=_lab_label(p.analyte),
            hovertext=[_point_hover(p.analyte, o, p.shown, i == 0) for i, o in enumerate(p.obs)],
            hovertemplate="%{hovertext}<extra></extra>",
            meta={
                "analyte": p.analyte,
                "kind": "values",
                "unit": p.shown.unit,
                "censored": [o.op for o in p.obs],
                "log": p.axis.log,
            },
        )
    )
    return out


LEGEND_CHAR_PX = 0.6 * (BASE_FONT - 1)
LEGEND_SYMBOL_PX = 50  # an entry's symbol and the gaps around it


def _legend_px(entries: list[go.Scatter], width: int) -> int:
    """Top margin for a horizontal legend of these entries (rows packed as plotly packs them; an
    entry wrapped onto several lines makes its row that much taller)."""
    rows, used, tallest, extra = 1, 0.0, 1, 0
    for entry in entries:
        lines = entry.name.split("<br>")
        need = LEGEND_SYMBOL_PX + max(len(line) for line in lines) * LEGEND_CHAR_PX
        if used and used + need > width:
            rows, used, extra, tallest = rows + 1, 0.0, extra + tallest - 1, 1
        used += need
        tallest = max(tallest, len(lines))
    return 30 + 23 * rows + 20 * (extra + tallest - 1)


def _legend(seen: set[str], rings: set[str], censored: bool, alert: bool, width: int | None = None) -> list[go.Scatter]:
    """The legend's entries; on a figure narrower than an entry, its words wrapped onto lines."""
    chars = None if width is None else max(12, int((width - LEGEND_SYMBOL_PX) / LEGEND_CHAR_PX))

    def entry(name: str, **kwargs) -> go.Scatter:
        if chars is not None and len(name) > chars:
            name = "<br>".join(textwrap.wrap(name, chars))
        return go.Scatter(x=[None], y=[None], name=name, **kwargs)

    out = [
        entry(
            "Value",
            mode="lines+markers",
            line={"color": VALUE_COLOUR, "width": 3},
            marker={"size": 10, "color": VALUE_COLOUR},
        )
    ]
    if censored:
        out.append(
            entry(
                "Reported as a bound (> or <)",
                mode="lines+markers",
                line={"color": VALUE_COLOUR, "width": 3, "dash": "dot"},
                marker={"size": 13, "color": VALUE_COLOUR, "symbol": "triangle-up"},
            )
        )
    words = {
        MET: "Threshold: met by the latest value",
        NOT_MET: "Threshold: not met by the latest value",
        MISSING: "Threshold: latest value cannot tell",
    }
    for result in (MET, NOT_MET, MISSING):
        if result in seen:
            colour, dash, _text = STYLE[result]
            out.append(entry(words[result], mode="lines", line={"color": colour, "dash": dash, "width": 3}))
    if "threshold" in rings:
        out.append(
            entry(
                "First measured value past a threshold",
                mode="markers",
                marker={"symbol": "circle-open", "size": 15, "line": {"width": 3}, "color": RING_COLOUR},
            )
        )
        out.append(
            entry(
                "Crossed somewhere between these two measurements",
                mode="lines",
                line={"color": "rgba(0,0,0,0.30)", "width": 7},
            )
        )
    if alert:
        out.append(
            entry(
                "Your alert level (not published)",
                mode="lines+markers" if "alert" in rings else "lines",
                line={"color": ALERT_COLOUR, "dash": ALERT_DASH, "width": 3},
                marker={"symbol": "diamond-open", "size": 13, "line": {"width": 3}, "color": ALERT_COLOUR},
            )
        )
    return out


def _point_hover(analyte: str, o: Obs, shown: UnitSpec, first: bool) -> str:
    c = o.change
    text = f"<b>{_lab_label(analyte)}</b> {_value_text(o.fact, shown)} {pretty_unit(shown.unit)}<br>{stamp(o.time)}"
    if shown.unit != o.fact.unit.unit:
        text += f"<br>entered as {c.input or c.value_text}"
    if not first and c.change_from_previous is not None:
        text += f"<br>from previous: {_amount(c.change_from_previous)} {pretty_unit(c.unit)}"
        if c.change_from_previous_percent is not None:
            text += f" ({_percent(c.change_from_previous_percent)})"
        if c.per_day_from_previous is not None:
            text += f", {_amount(c.per_day_from_previous)} per day"
    if not first and c.change_from_first_percent is not None:
        text += f"<br>from first: {_percent(c.change_from_first_percent)}"
    return text
