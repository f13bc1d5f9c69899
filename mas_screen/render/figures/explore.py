"""What-if pictures: how far each entered value sits from each published threshold.

Pure functions (no Streamlit, no I/O) over `explore.distances()`, in the style of `figures.kit`
(Okabe–Ito colours, fonts ≥ 14 px, our own number format). One row per threshold (or band edge,
or a score against its cut-off), grouped by instrument. Values of different labs have no common
unit, so a bar's length is the distance as a percentage of the threshold (capped, so one far value
cannot squash the rest) and its side says whether the rule holds; the distance itself is written
beside the bar in the item's published unit, as the criteria state it. Whether a rule holds is the
core's answer (`Distance.satisfied`), never recomputed here.

With a `baseline` (the starting point of an exploration) a hollow marker shows where each row
started, and rows whose rule flipped are highlighted, so the reader sees what a change did.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import plotly.graph_objects as go

from mas_screen.domain.explore import Distance
from mas_screen.domain.units import pretty_unit
from mas_screen.explain.wording import SYMBOL
from mas_screen.render.figures.kit import (
    BASE_FONT,
    CHAR_PX,
    LABEL_FONT,
    OKABE_ITO,
    TICK_FONT,
    WIDTH,
    _empty_figure,
    display_number,
    group_digits,
    note_below,
    page_layout,
)

CAP_PERCENT = 100.0  # bars longer than this are drawn at the cap, with an arrow (not to scale)
ROW_PX = 30
HEADER_PX = 40  # an instrument's name above its rows
TOP_PX = 96  # legend and the "does not hold | holds" words
BOTTOM_PX = 78  # ticks, axis title and the note
HOLDS_COLOUR = OKABE_ITO["vermillion"]  # as figures.STYLE: the criterion side
NOT_HOLDS_COLOUR = OKABE_ITO["blue"]
NOT_HOLDS_FILL = "#DCEAF6"  # light, hatched: reads as "not met" in greyscale too
BASELINE_COLOUR = "#333333"
FLIP_FILL = "rgba(240, 228, 66, 0.35)"  # Okabe–Ito yellow, behind rows whose rule flipped
EMPTY_DISTANCES = "Enter values to see how far each one is from its thresholds"
NOTE = (
    "Bar length: distance as a percentage of the threshold, capped at {cap} % (arrow: beyond, not to scale). "
    "Numbers on the right: the value and its distance in the criterion's published unit."
)
SYMBOLS = SYMBOL


@dataclass(slots=True)
class DistanceRow:
    """One drawn row: a value against one threshold, with where it started (if a baseline is given)."""

    key: tuple[str, str | None, str, float]  # instrument, item path, comparator, threshold
    instrument: str
    instrument_name: str
    label: str  # left of the plot: item and rule
    value_text: str  # right of the plot: value and distance, in the published unit
    hover: str
    margin_percent: float | None  # + the rule holds by this much, − it needs this much; None: threshold 0
    x: float  # drawn position (capped)
    capped: bool
    satisfied: bool
    baseline_x: float | None = None  # drawn position at the starting point (None: not there or unchanged)
    flipped: bool = False  # the rule held at the start and not now, or the reverse


def row_key(d: Distance) -> tuple[str, str | None, str, float]:
    return (d.instrument, d.item_id, d.comparator, d.threshold)


def _number(value: float, unit: str | None) -> str:
    """A value for a label: scores to 2 dp (the UI's MS-score convention), labs 3 significant digits."""
    if unit is None and not float(value).is_integer():
        text = format(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
        return group_digits(text.rstrip("0").rstrip(".")).replace("-", "−")
    return display_number(Decimal(repr(value))).replace("-", "−")


def _margin(d: Distance) -> float | None:
    """Signed distance as % of the threshold: positive when the rule holds, negative when it does not."""
    if d.relative_percent is None:
        return None
    return abs(d.relative_percent) if d.satisfied else -abs(d.relative_percent)


def _drawn(margin: float | None, satisfied: bool, cap: float) -> tuple[float, bool]:
    if margin is None:  # a threshold of 0: no percentage exists; draw at the cap on its side
        return (cap if satisfied else -cap), True
    if abs(margin) > cap:
        return (cap if margin > 0 else -cap), True
    return margin, False


def _rule_text(d: Distance) -> str:
    text = d.threshold_text.replace("-", "−")
    if d.kind == "band_edge" and d.points is not None:
        text += f" ({_number(d.points, None)} pts)"
    return text


def _distance_words(d: Distance, with_unit: bool = True) -> str:
    """'24 ×10⁹/L below', '0.41 above the cut-off', 'exactly at the threshold' (published unit)."""
    if d.distance == 0:
        return "exactly at the threshold" if d.kind != "score" else "exactly at the cut-off"
    side = "above" if d.distance > 0 else "below"
    unit = pretty_unit(d.unit) if with_unit else ""
    amount = f"{_number(abs(d.distance), d.unit)} {unit}".strip()
    return f"{amount} {side}" + (" the cut-off" if d.kind == "score" else "")


def _key_line(*, capped: bool, moved: bool, flipped: bool) -> str:
    """The figure's key as one line of text (a horizontal plotly legend wraps at the plot's width)."""

    def swatch(symbol: str, colour: str, words: str) -> str:
        return f"<span style='color:{colour}'>{symbol}</span> {words}"

    parts = [swatch("■", HOLDS_COLOUR, "rule holds"), swatch("▨", NOT_HOLDS_COLOUR, "rule does not hold")]
    if capped:
        parts.append(swatch("▶", "#555", "beyond the cap"))
    if moved:
        parts.append(swatch("◇", BASELINE_COLOUR, "starting point"))
    if flipped:
        parts.append("⇄ <span style='background-color:#F6F0A6'>flipped since the start</span>")
    return "     ".join(parts)


def distance_rows(
    distances: Sequence[Distance],
    *,
    baseline: Sequence[Distance] | None = None,
    instruments: Sequence[str] | None = None,
    cap_percent: float = CAP_PERCENT,
) -> list[DistanceRow]:
    """The rows of `distance_figure`, in the order given (instrument, then item), as plain data."""
    start = {row_key(d): d for d in baseline or ()}
    rows: list[DistanceRow] = []
    for d in distances:
        if instruments is not None and d.instrument not in instruments:
            continue
        margin = _margin(d)
        x, capped = _drawn(margin, d.satisfied, cap_percent)
        unit = pretty_unit(d.unit)
        value = f"{_number(d.value, d.unit)} {unit}".strip()
        label = ("Score" if d.kind == "score" else d.label) + f"  {_rule_text(d)}"
        pct = "" if d.relative_percent is None else f" ({abs(d.relative_percent):.0f} % of the threshold)"
        hover = (
            f"<b>{d.instrument_name}</b>: {d.label}<br>value {value}; rule {_rule_text(d)}<br>"
            f"{_distance_words(d)}{pct}<br>{'rule holds' if d.satisfied else 'rule does not hold'}"
        )
        row = DistanceRow(
            key=row_key(d),
            instrument=d.instrument,
            instrument_name=d.instrument_name,
            label=label,
            value_text=f"{value}: {_distance_words(d, with_unit=False)}",
            hover=hover,
            margin_percent=margin,
            x=x,
            capped=capped,
            satisfied=d.satisfied,
        )
        before = start.get(row.key)
        if before is not None:
            bx, _ = _drawn(_margin(before), before.satisfied, cap_percent)
            if before.value != d.value:
                row.baseline_x = bx
                row.hover += f"<br>at the start: {_number(before.value, before.unit)} {unit}".rstrip()
            row.flipped = before.satisfied != d.satisfied
            if row.flipped:
                row.label = "⇄ " + row.label
        rows.append(row)
    return rows


LANES_SHARE = 0.62  # the most of the width the labels (left) and the values (right) take


def _lanes(rows: Sequence[DistanceRow]) -> tuple[int, int]:
    """Pixels the rule labels (left of the plot) and the value words (right of it) need."""
    left = int(max(len(r.label) for r in rows) * CHAR_PX + 28)
    right = int(max(len(r.value_text) for r in rows) * CHAR_PX * 0.95 + 24)
    return left, right


def distance_fits(rows: Sequence[DistanceRow], width: int) -> bool:
    """Whether `distance_figure` has room for these rows' words at `width` (narrower, a phone or a
    tablet, the words would be cut: a face shows the rows as a list instead)."""
    return not rows or sum(_lanes(rows)) <= width * LANES_SHARE


def distance_figure(
    distances: Sequence[Distance],
    *,
    baseline: Sequence[Distance] | None = None,
    instruments: Sequence[str] | None = None,
    cap_percent: float = CAP_PERCENT,
    width: int = WIDTH,
) -> go.Figure:
    """Each entered value's distance to each threshold (and each score's to its cut-off), grouped by
    instrument: bars right of the centre line where the rule holds, left where it does not.

    `baseline`: the distances at the starting point; rows that moved get a hollow marker where
    they started, and rows whose rule flipped are highlighted and marked ⇄.
    `instruments`: only these instrument ids (default: every instrument with a row)."""
    rows = distance_rows(distances, baseline=baseline, instruments=instruments, cap_percent=cap_percent)
    return rows_figure(rows, cap_percent=cap_percent, width=width)


def rows_figure(rows: Sequence[DistanceRow], *, cap_percent: float = CAP_PERCENT, width: int = WIDTH) -> go.Figure:
    """`distance_figure` of rows already made (`distance_rows` with the same `cap_percent`): a face
    that first asks whether they fit (`distance_fits`) draws them without making them again."""
    if not rows:
        return _empty_figure(EMPTY_DISTANCES, width=width)

    # y positions top to bottom: a header slot per instrument, then its rows (1 unit = one row).
    ys: list[float] = []
    headers: list[tuple[float, str]] = []
    y = 0.0
    current = None
    for row in rows:
        if row.instrument != current:
            current = row.instrument
            y += HEADER_PX / ROW_PX
            headers.append((y - 0.62, row.instrument_name))
        ys.append(y)
        y += 1
    span = y

    left, right = _lanes(rows)
    if left + right > width * LANES_SHARE:  # keep the plot at least ~38 % of the width
        scale = width * LANES_SHARE / (left + right)
        left, right = int(left * scale), int(right * scale)
    note = textwrap.wrap(NOTE.format(cap=f"{cap_percent:.0f}"), int((width - 20) / (0.6 * (TICK_FONT - 1))))
    bottom = BOTTOM_PX + 18 * (len(note) - 1)
    plot_h = int(span * ROW_PX)
    height = plot_h + TOP_PX + bottom
    lim = cap_percent * 1.14

    holds = [i for i, r in enumerate(rows) if r.satisfied]
    not_holds = [i for i, r in enumerate(rows) if not r.satisfied]

    def bar(idx: list[int], name: str, marker: dict) -> go.Bar:
        return go.Bar(
            x=[rows[i].x for i in idx],
            y=[ys[i] for i in idx],
            base=0,
            orientation="h",
            width=0.62,
            marker=marker,
            name=name,
            hovertext=[rows[i].hover for i in idx],
            hovertemplate="%{hovertext}<extra></extra>",
            meta={"kind": "distance", "satisfied": name == "Rule holds", "keys": [list(rows[i].key) for i in idx]},
        )

    traces: list[go.BaseTraceType] = [
        bar(holds, "Rule holds", {"color": HOLDS_COLOUR, "line": {"color": HOLDS_COLOUR, "width": 1}}),
        bar(
            not_holds,
            "Rule does not hold",
            {
                "color": NOT_HOLDS_FILL,
                "line": {"color": NOT_HOLDS_COLOUR, "width": 1.5},
                "pattern": {"shape": "/", "fgcolor": NOT_HOLDS_COLOUR, "size": 8, "solidity": 0.25},
            },
        ),
    ]
    # A tick at every bar's end, so a value exactly on its threshold (a bar of length 0) still shows.
    traces.append(
        go.Scatter(
            x=[r.x for r in rows],
            y=ys,
            mode="markers",
            marker={
                "symbol": "line-ns",
                "size": 20,
                "line": {"width": 4, "color": [HOLDS_COLOUR if r.satisfied else NOT_HOLDS_COLOUR for r in rows]},
            },
            hovertext=[r.hover for r in rows],
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
            meta={"kind": "ends"},
        )
    )
    capped = [i for i, r in enumerate(rows) if r.capped]
    if capped:
        traces.append(
            go.Scatter(
                x=[rows[i].x + (4 if rows[i].x > 0 else -4) for i in capped],
                y=[ys[i] for i in capped],
                mode="markers",
                marker={
                    "symbol": ["triangle-right" if rows[i].x > 0 else "triangle-left" for i in capped],
                    "size": 13,
                    "color": [HOLDS_COLOUR if rows[i].satisfied else NOT_HOLDS_COLOUR for i in capped],
                },
                name=f"Beyond {cap_percent:.0f} % (not to scale)",
                hoverinfo="skip",
                meta={"kind": "capped"},
            )
        )
    moved = [i for i, r in enumerate(rows) if r.baseline_x is not None]
    if moved:
        traces.append(
            go.Scatter(
                x=[rows[i].baseline_x for i in moved],
                y=[ys[i] for i in moved],
                mode="markers",
                marker={
                    "symbol": "diamond-open",
                    "size": 15,
                    "color": BASELINE_COLOUR,
                    "line": {"width": 2.5, "color": BASELINE_COLOUR},
                },
                name="Starting point",
                hoverinfo="skip",
                meta={"kind": "baseline", "keys": [list(rows[i].key) for i in moved]},
            )
        )

    shapes: list[dict] = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": 0,
            "x1": 0,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#000", "width": 2},
        }
    ]
    for i, row in enumerate(rows):
        if row.flipped:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "paper",
                    "yref": "y",
                    "x0": 0,
                    "x1": 1,
                    "y0": ys[i] - 0.5,
                    "y1": ys[i] + 0.5,
                    "fillcolor": FLIP_FILL,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
    for hy, _name in headers[1:]:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": -left / (width - left - right),
                "x1": 1 + right / (width - left - right),
                "y0": hy - 0.45,
                "y1": hy - 0.45,
                "line": {"color": "#CCCCCC", "width": 1},
            }
        )

    annotations: list[dict] = []
    for hy, name in headers:
        annotations.append(
            {
                "text": f"<b>{name}</b>",
                "xref": "paper",
                "yref": "y",
                "x": 0,
                "y": hy,
                "xanchor": "left",
                "xshift": -left + 6,
                "showarrow": False,
                "font": {"size": BASE_FONT + 1, "color": "#111"},
            }
        )
    for i, row in enumerate(rows):
        annotations.append(
            {
                "text": f"<b>{row.value_text}</b>" if row.flipped else row.value_text,
                "xref": "paper",
                "yref": "y",
                "x": 1,
                "y": ys[i],
                "xanchor": "left",
                "xshift": 10,
                "showarrow": False,
                "font": {"size": LABEL_FONT, "color": HOLDS_COLOUR if row.satisfied else NOT_HOLDS_COLOUR},
            }
        )
    for x, text, anchor in (
        (-lim, "← rule does not hold", "left"),
        (lim, "rule holds →", "right"),
    ):
        annotations.append(
            {
                "text": text,
                "xref": "x",
                "yref": "paper",
                "x": x,
                "y": 1,
                "yshift": 8,
                "xanchor": anchor,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": TICK_FONT, "color": NOT_HOLDS_COLOUR if x < 0 else HOLDS_COLOUR},
            }
        )
    annotations.append(note_below("<br>".join(note), TICK_FONT - 1, xshift=-left + 6, yshift=-42))
    annotations.append(
        {
            "text": _key_line(capped=bool(capped), moved=bool(moved), flipped=any(r.flipped for r in rows)),
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 1,
            "xanchor": "left",
            "yanchor": "bottom",
            "xshift": -left + 6,
            "yshift": 44,
            "showarrow": False,
            "align": "left",
            "font": {"size": BASE_FONT - 1, "color": "#222"},
        }
    )
    ticks = [-cap_percent, -cap_percent / 2, 0, cap_percent / 2, cap_percent]
    fig = go.Figure(data=traces)
    fig.update_layout(
        **page_layout(
            width=width, height=height, margin={"l": left, "r": right, "t": TOP_PX, "b": bottom}, legend=False
        ),
        barmode="overlay",
        xaxis={
            "range": [-lim, lim],
            "tickvals": ticks,
            "ticktext": [f"{abs(t):.0f} %" if t else "threshold" for t in ticks],
            "tickfont": {"size": TICK_FONT, "color": "#444"},
            "showgrid": True,
            "gridcolor": "#EBEBEB",
            "zeroline": False,
            "fixedrange": True,
        },
        yaxis={
            "range": [span + 0.1, 0.2],
            "tickvals": ys,
            "ticktext": [f"<b>{r.label}</b>" if r.flipped else r.label for r in rows],
            "tickfont": {"size": LABEL_FONT, "color": "#111"},
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        shapes=shapes,
        annotations=annotations,
        hovermode="closest",
    )
    return fig


__all__ = [
    "CAP_PERCENT",
    "EMPTY_DISTANCES",
    "DistanceRow",
    "distance_figure",
    "distance_fits",
    "distance_rows",
    "row_key",
    "rows_figure",
]
