"""Score gauges: each points-based instrument as a bar from 0 to its maximum, with its cut-off, the
points scored and (for the MS score) the range a missing value leaves open."""

from __future__ import annotations

import plotly.graph_objects as go

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import InstrumentSpec
from mas_screen.domain.models import Assessment, CriterionResult
from mas_screen.domain.units import format_threshold
from mas_screen.explain.phrases import result_phrase
from mas_screen.explain.score_display import minus, shown_score
from mas_screen.kernel.instruments import instruments
from mas_screen.render.figures.kit import (
    BASE_FONT,
    GREY,
    LABEL_FONT,
    OKABE_ITO,
    TICK_FONT,
    WIDTH,
    page_layout,
)

# -------------------------------------------------------------------------------------- gauges


def max_points(spec: InstrumentSpec) -> float:
    """Highest possible score of a point score (HScore 337, MH score 123), from the criteria data."""
    total = 0.0
    for item in spec.items:
        candidates = [item.points or 0]
        candidates += [b.points for b in item.bands or []]
        candidates += list((item.organ_points or {}).values())
        candidates += list((item.points_by_count or {}).values())
        total += max(candidates)
    return total


def _status_colour(status: str) -> str:
    return {"met": OKABE_ITO["vermillion"], "not_met": OKABE_ITO["blue"]}.get(status, GREY)


def score_gauge_figure(assessment: Assessment) -> go.Figure:
    """The scores of policy.yaml `score_gauges`: points scores (HScore, MH score) as bars on their full
    scale, a weighted sum (MS score) as a marker; cut-offs labelled.

    A score still open (items missing) is drawn as its known minimum plus a hatched range up to
    the maximum, so the reader sees whether the missing items could cross the cut-off.
    """
    fig = go.Figure()
    rows = [r for r in (assessment.criteria.get(k) for k in criteria().policy.score_gauges) if r]
    n = len(rows)
    bar_px, gap_px = 64, 92  # under each bar: its ticks, its status line, the next cut-off label
    total_px = n * bar_px + (n - 1) * gap_px
    annotations: list[dict] = []
    shapes: list[dict] = []
    layout: dict = {}
    for index, result in enumerate(rows, start=1):
        suffix = "" if index == 1 else str(index)
        xref, yref = f"x{suffix}", f"y{suffix}"
        top_px = total_px - (index - 1) * (bar_px + gap_px)
        spec = criteria().instruments[result.id]
        colour = _status_colour(result.status)
        continuous = instruments()[result.id].rule.type == "weighted_sum"
        if continuous:
            lo, hi = _ms_range(result)
            _ms_row(fig, result, xref, yref, colour, annotations)
        else:
            lo, hi = 0.0, max_points(spec)
            _points_row(fig, result, xref, yref, colour, annotations, hi)
        layout[f"xaxis{suffix}"] = {
            "domain": [0, 1],
            "anchor": yref,
            "range": [lo, hi],
            "showgrid": True,
            "gridcolor": "#EBEBEB",
            "zeroline": continuous,
            "zerolinecolor": "#BBB",
            "tickfont": {"size": TICK_FONT},
            "fixedrange": True,
        }
        layout[f"yaxis{suffix}"] = {
            "domain": [max(0.0, (top_px - bar_px) / total_px), min(1.0, top_px / total_px)],
            "anchor": xref,
            "range": [-0.6, 0.9],
            "visible": False,
            "fixedrange": True,
        }
        if result.cutoff is not None:
            shapes.append(
                {
                    "type": "line",
                    "xref": xref,
                    "yref": yref,
                    "x0": result.cutoff,
                    "x1": result.cutoff,
                    "y0": -0.5,
                    "y1": 0.5,
                    "line": {"color": "#000", "width": 2.5, "dash": "solid"},
                }
            )
            annotations.append(
                {
                    "text": f"cut-off {minus(result.cutoff_label or format_threshold(result.cutoff))}",
                    "xref": xref,
                    "yref": yref,
                    "x": result.cutoff,
                    "y": 0.55,
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": LABEL_FONT, "color": "#000"},
                }
            )
        annotations.append(
            {
                "text": f"<b>{result.short_name}</b>",
                "xref": "paper",
                "yref": f"{yref} domain",
                "x": 0,
                "y": 0.35,
                "xanchor": "right",
                "xshift": -14,
                "showarrow": False,
                "font": {"size": BASE_FONT + 1},
            }
        )
    fig.update_layout(
        **page_layout(
            width=WIDTH, height=total_px + 36 + 62, margin={"l": 150, "r": 40, "t": 36, "b": 62}, legend=False
        ),
        bargap=0.0,
        annotations=annotations,
        shapes=shapes,
        **layout,
    )
    return fig


def _score_words(result: CriterionResult) -> str:
    """The result as every face phrases it (explain.phrases), after where it lies against the cut-off
    drawn beside it while the phrase itself does not say."""
    phrase = result_phrase(result, cutoff=False, open_=True)
    if result.score is not None:
        side = {"met": "At or above the cut-off", "not_met": "Below the cut-off"}.get(result.status)
    elif result.score_range is not None:
        side = {
            "met": "At or above the cut-off whatever the missing items",
            "not_met": "Below the cut-off whatever the missing items",
        }.get(result.status, "The missing items decide")
    else:
        side = None
    return f"{side}: {phrase}" if side else phrase[:1].upper() + phrase[1:]


def _points_row(fig, result: CriterionResult, xref, yref, colour, annotations, top_score) -> None:
    lo, hi = (result.score, result.score) if result.score is not None else (result.score_range or [0, top_score])
    fig.add_trace(
        go.Bar(
            x=[top_score],
            y=[0],
            orientation="h",
            width=0.7,
            marker={"color": "#F2F2F2", "line": {"width": 0}},
            xaxis=xref,
            yaxis=yref,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Bar(
            x=[lo],
            y=[0],
            orientation="h",
            width=0.7,
            marker={"color": colour},
            xaxis=xref,
            yaxis=yref,
            name=result.short_name,
            hovertemplate=f"{result.short_name}: {_score_words(result)}<extra></extra>",
        )
    )
    if hi > lo:
        fig.add_trace(
            go.Bar(
                x=[hi - lo],
                y=[0],
                base=[lo],
                orientation="h",
                width=0.7,
                marker={
                    "color": "white",
                    "line": {"color": colour, "width": 2},
                    "pattern": {"shape": "/", "fgcolor": colour},
                },
                xaxis=xref,
                yaxis=yref,
                name="range",
                hovertemplate=f"{result.short_name}: {_score_words(result)}<extra></extra>",
            )
        )
    fig.update_layout(barmode="overlay")
    annotations.append(_row_caption(_score_words(result), yref))


def _row_caption(text: str, yref: str) -> dict:
    """The words under a gauge row (score, cut-off, status)."""
    return {
        "text": text,
        "xref": "paper",
        "yref": f"{yref} domain",
        "x": 0,
        "y": 0,
        "yanchor": "top",
        "xanchor": "left",
        "yshift": -30,
        "showarrow": False,
        "font": {"size": LABEL_FONT, "color": "#222"},
    }


def _ms_range(result: CriterionResult) -> tuple[float, float]:
    points = [-6.0, 6.0, *([result.score] if result.score is not None else [])]
    return min(points) - 1, max(points) + 1


def _ms_row(fig, result: CriterionResult, xref, yref, colour, annotations) -> None:
    if result.score is not None:
        fig.add_trace(
            go.Scatter(
                x=[result.score],
                y=[0],
                mode="markers",
                marker={"size": 22, "symbol": "diamond", "color": colour, "line": {"color": "#000", "width": 1.5}},
                xaxis=xref,
                yaxis=yref,
                hovertemplate=f"MS score {shown_score(result)}<extra></extra>",
            )
        )
    annotations.append(_row_caption(_score_words(result), yref))
