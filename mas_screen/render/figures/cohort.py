"""Cohort figures: how a screened cohort's HScore and MS score are spread, with the published cut-offs.

Pure functions (no Streamlit, no I/O) over the output of `batch.screen_frame`. Cut-offs, their
comparators, labels and sources are read from criteria/*.yaml (`cutoff`, `additional_cutoffs`),
never typed here. Only complete scores are drawn: a row whose score is open (an input missing or
censored) has no single value; how many such rows there are, and how many of them are decided
whatever the missing inputs (their status), is said under the title.

Bars are split at the instrument's own cut-off (the one its status uses) with the comparator from
the data, so a bar is either wholly at/above or wholly below it; the colours are figures.py's
Okabe–Ito pair (vermillion = cut-off met, blue = not met), readable with colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.references import short_citation
from mas_screen.criteria.schema import Cutoff
from mas_screen.domain.units import format_threshold
from mas_screen.explain.score_display import minus
from mas_screen.explain.wording import NEGATION, SYMBOL
from mas_screen.render.figures.kit import BASE_FONT, GREY, OKABE_ITO, TICK_FONT, _empty_figure, page_layout
from mas_screen.render.figures.trends_kit import _wrap

# A display choice, not a clinical number: at most this many bars over the observed range (1-2-5 steps).
TARGET_BARS = 24
WIDTH = 600  # text is wrapped for this width; the page shows the figure at it
PLOT_PX = 250  # the plot area's height
LINE_PX = 17  # one line of 13 px text
LABEL_ROW_PX = 20  # one row of cut-off labels
TITLE_PX = 22
CUTOFF_STYLE = ("#000000", "solid", 2.5)  # the instrument's own cut-off: black, as in the score gauges
EXTRA_STYLE = ("#444444", "dash", 2.0)  # other published cut-offs (e.g. MS score in AOSD)


@dataclass(frozen=True, slots=True)
class CutoffLine:
    """One published cut-off as drawn: value, comparator, words on the line and the source."""

    value: float
    comparator: str
    text: str  # e.g. "cut-off ≥ 169", "AOSD (Yao 2021) ≥ −1.74"
    source: str  # citation key
    main: bool  # the cut-off the instrument's status uses


def cutoff_lines(iid: str) -> list[CutoffLine]:
    """The instrument's cut-off and any additional published cut-offs, from its criteria file."""
    spec = criteria().instruments[iid]
    found: list[tuple[Cutoff, bool]] = [(spec.cutoff, True)] if spec.cutoff is not None else []
    found += [(c, False) for c in spec.additional_cutoffs if drawn(c)]
    lines = []
    for cut, main in found:
        words = f"{SYMBOL[cut.comparator]} {minus(format_threshold(cut.value))}"
        lines.append(
            CutoffLine(float(cut.value), cut.comparator, f"{cut.label or 'cut-off'} {words}", cut.source, main)
        )
    return lines


def drawn(cut: Cutoff) -> bool:
    """An additional cut-off is drawn when it is confirmed in a published source and applies to some
    population (`applies_to_diseases: []` marks one kept only as a teaching band edge)."""
    return cut.confirmation.startswith("CONFIRMED") and cut.applies_to_diseases != []


def meets(values: np.ndarray, comparator: str, threshold: float) -> np.ndarray:
    """Element-wise `value <comparator> threshold` (the comparator as written in the criteria)."""
    ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    return ops[comparator](values, threshold)


def bin_step(values: np.ndarray, base: float) -> float:
    """The narrowest bar on a 1-2-5 ladder from `base` (a point, a tenth) that keeps the observed
    range within TARGET_BARS bars."""
    span = float(values.max() - values.min()) if len(values) else 0.0
    for decade in range(0, 16):
        for factor in (1, 2, 5):
            step = base * factor * 10**decade
            if span / step <= TARGET_BARS:
                return step
    return base * 10**16


def bins(values: np.ndarray, anchor: float, step: float, comparator: str) -> np.ndarray:
    """Each value's bar index, with bar edges on `anchor` (the cut-off) so no bar straddles it.

    Bars are closed on the side the comparator includes: [a, a+step) for >= and <, (a, a+step]
    for > and <=. The sign of `value - anchor` is exact in floating point, so a value at the
    cut-off always falls on the side its comparison says.
    """
    scaled = (values - anchor) / step
    if comparator in (">=", "<"):
        return np.floor(scaled).astype(np.int64)
    return (np.ceil(scaled) - 1).astype(np.int64)


def _number(x: float) -> str:
    return minus(f"{x:g}")


def score_histogram(
    scores: Sequence[float] | np.ndarray,
    iid: str,
    *,
    open_status: Mapping[str, int] | None = None,
    width: int = WIDTH,
) -> go.Figure:
    """Histogram of complete scores of one instrument, split and marked at its published cut-offs.

    `open_status`: status → number of rows whose score is not complete (not drawn), said under
    the title. Text is wrapped for `width` pixels: show the figure at that width.
    """
    spec = criteria().instruments[iid]
    values = np.asarray([float(s) for s in scores], dtype=np.float64)
    values = values[np.isfinite(values)]
    lines = cutoff_lines(iid)
    main = next((c for c in lines if c.main), None)
    open_words = open_summary(open_status or {})
    if not len(values):
        message = f"No row has a complete {spec.short_name}"
        if open_words:
            wrapped = "<br>".join(_wrap([open_words], width - 40))
            message += f"<br><span style='font-size:14px'>{wrapped}</span>"
        return _empty_figure(message, height=PLOT_PX, width=width)

    continuous = any(item.kind == "linear" for item in spec.items)
    step = bin_step(values, 0.1 if continuous else 1.0)
    anchor = main.value if main is not None else 0.0
    comparator = main.comparator if main is not None else ">="
    index = bins(values, anchor, step, comparator)
    first, last = int(index.min()), int(index.max())
    positions = np.arange(first, last + 1)
    lefts = anchor + positions * step
    closed_left = comparator in (">=", "<")
    ranges = [
        f"{'[' if closed_left else '('}{_number(a)}, {_number(a + step)}{')' if closed_left else ']'}" for a in lefts
    ]
    fig = go.Figure()
    groups: list[tuple[str | None, np.ndarray, str]] = [(None, np.ones(len(values), bool), GREY)]
    if main is not None:
        hit = meets(values, main.comparator, main.value)
        words = _number(main.value)
        groups = [
            (f"{spec.short_name} {SYMBOL[NEGATION[main.comparator]]} {words}", ~hit, OKABE_ITO["blue"]),
            (f"{spec.short_name} {SYMBOL[main.comparator]} {words}", hit, OKABE_ITO["vermillion"]),
        ]
    totals = np.zeros(len(positions), np.int64)
    for name, mask, colour in groups:
        counts = np.bincount(index[mask] - first, minlength=len(positions))
        totals += counts
        if name is not None and not counts.sum():
            continue
        label = f"n = {int(counts.sum()):,}" if name is None else f"{name} (n = {int(counts.sum()):,})"
        fig.add_trace(
            go.Bar(
                x=lefts + step / 2,
                y=counts,
                width=step,
                name=label,
                marker={"color": colour, "line": {"color": "white", "width": 1}},
                customdata=ranges,
                hovertemplate="%{customdata}: %{y} row(s)<extra>%{fullData.name}</extra>",
            )
        )
    low, high = float(lefts[0]), float(lefts[-1] + step)
    span = max(high - low, step)
    # Room on both sides of the cut-offs for their labels, whatever the cohort's spread.
    cut_low = min((c.value for c in lines), default=low)
    cut_high = max((c.value for c in lines), default=high)
    x_range = [min(low, cut_low - 0.3 * span) - step / 2, max(high, cut_high + 0.3 * span) + step / 2]
    peak = int(totals.max())

    # Pixel geometry, top to bottom: title, subtitle, cut-off labels, plot, axis title, legend, sources.
    sub = _wrap([f"{len(values):,} row(s) with a complete score", *([open_words] if open_words else [])], width)
    notes = _wrap(["Cut-offs: " + "; ".join(_cited(c) for c in lines)], width) if lines else []
    label_px = LABEL_ROW_PX * max(2, len(lines))  # the same room in every figure: tops align side by side
    sub_px = LINE_PX * len(sub)
    top = label_px + 10 + sub_px + 6 + TITLE_PX + 12
    bottom = 54 + 30 + LINE_PX * len(notes) + 10
    shapes, annotations = _cutoff_marks(lines)
    annotations += [
        _text_block(f"<b>{spec.short_name}</b>", label_px + 10 + sub_px + 6, BASE_FONT + 1, "#222"),
        _text_block("<br>".join(sub), label_px + 10, 13, "#555"),
        {**_text_block("<br>".join(notes), -(54 + 30), 13, "#555"), "y": 0, "yanchor": "top"},
    ]
    fig.update_layout(
        **page_layout(
            width=width,
            height=top + PLOT_PX + bottom,
            margin={"l": 64, "r": 20, "t": top, "b": bottom},
            font_size=TICK_FONT,
        ),
        legend={  # below the plot, shown as plotly decides (not for a single group)
            "orientation": "h",
            "x": 0,
            "y": -54 / PLOT_PX,
            "yanchor": "top",
            "font": {"size": 13},
            "traceorder": "normal",
        },
        autosize=False,
        barmode="stack",
        bargap=0,
        xaxis={
            "title": {"text": spec.short_name if continuous else f"{spec.short_name} (points)", "standoff": 6},
            "range": x_range,
            "tickfont": {"size": TICK_FONT - 1},
            "zeroline": False,
            "showgrid": True,
            "gridcolor": "#EBEBEB",
            "fixedrange": True,
        },
        yaxis={
            "title": {"text": "Rows"},
            "range": [0, peak * 1.08 + 0.5],
            "tickmode": "linear",
            "tick0": 0,
            "dtick": _count_step(peak),
            "tickformat": ",d",
            "tickfont": {"size": TICK_FONT - 1},
            "gridcolor": "#EBEBEB",
            "fixedrange": True,
        },
        shapes=_extend_lines(shapes),
        annotations=annotations,
    )
    return fig


def _cited(cut: CutoffLine) -> str:
    """'≥ 169 (Fardet 2014)'; a label that already names its source is not cited twice."""
    cite = short_citation(cut.source)
    text = cut.text.removeprefix("cut-off ")
    return text if cite in text else f"{text} ({cite})"


def _text_block(text: str, shift_px: float, size: int, colour: str) -> dict:
    """Left-aligned text above (shift > 0) or below (shift < 0) the plot area, offset in pixels."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": 1,
        "xanchor": "left",
        "xshift": -60,
        "yanchor": "bottom",
        "yshift": shift_px,
        "showarrow": False,
        "align": "left",
        "font": {"size": size, "color": colour},
    }


def _extend_lines(shapes: list[dict]) -> list[dict]:
    """Cut-off lines run from the axis up to their label row (pixels → paper units)."""
    for shape in shapes:
        shape["y1"] = 1 + shape.pop("label_px") / PLOT_PX
    return shapes


def _count_step(peak: int) -> int:
    """Whole-row ticks on a 1-2-5 ladder, about five of them."""
    for decade in range(0, 10):
        for factor in (1, 2, 5):
            step = factor * 10**decade
            if peak / step <= 5:
                return step
    return 10**10


def open_summary(open_status: Mapping[str, int]) -> str:
    """'Not drawn: 43 open score(s) (an input missing or censored) — 12 met and 5 not met whatever
    the missing inputs, 26 undecided', from the status column of the rows without a complete score."""
    total = sum(open_status.values())
    if not total:
        return ""
    met, not_met = open_status.get("met", 0), open_status.get("not_met", 0)
    undecided = total - met - not_met
    parts = []
    if met or not_met:
        parts.append(f"{met:,} met and {not_met:,} not met whatever the missing inputs")
    if undecided:
        parts.append(f"{undecided:,} undecided")
    return f"Not drawn: {total:,} open score(s) (an input missing or censored) — " + ", ".join(parts)


def _cutoff_marks(lines: list[CutoffLine]) -> tuple[list[dict], list[dict]]:
    """Vertical lines over the plot, each labelled just above it on its own row; the lower value's
    label sits on the upper row and points left, the higher one's points right, so they never cross."""
    shapes: list[dict] = []
    annotations: list[dict] = []
    ordered = sorted(lines, key=lambda c: c.value)
    for position, cut in enumerate(ordered):
        colour, dash, width = CUTOFF_STYLE if cut.main else EXTRA_STYLE
        row_px = 2 + LABEL_ROW_PX * (len(ordered) - 1 - position)
        anchor = "center" if len(ordered) == 1 else "right" if position < len(ordered) / 2 else "left"
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": cut.value,
                "x1": cut.value,
                "y0": 0,
                "label_px": row_px + 8,
                "line": {"color": colour, "width": width, "dash": dash},
            }
        )
        annotations.append(
            {
                "text": f"<b>{cut.text}</b>" if cut.main else cut.text,
                "xref": "x",
                "yref": "paper",
                "x": cut.value,
                "y": 1,
                "yshift": row_px,
                "xanchor": anchor,
                "yanchor": "bottom",
                "xshift": {"right": -4, "left": 4, "center": 0}[anchor],
                "showarrow": False,
                "font": {"size": 13, "color": colour},
                "bgcolor": "rgba(255,255,255,0.9)",
            }
        )
    return shapes, annotations


def cohort_score_figure(screened, iid: str, **kwargs) -> go.Figure:
    """`score_histogram` over a screened frame (`batch.screen_frame`): `<iid>_score` where complete;
    the other rows counted by `<iid>_status`."""
    column = screened[f"{iid}_score"]
    complete = column.notna().to_numpy()
    statuses = screened.loc[~complete, f"{iid}_status"].astype("str").value_counts()
    return score_histogram(
        column[complete].to_numpy(dtype=np.float64),
        iid,
        open_status={str(k): int(v) for k, v in statuses.items()},
        **kwargs,
    )


__all__ = ["CutoffLine", "cohort_score_figure", "cutoff_lines", "meets", "score_histogram"]
