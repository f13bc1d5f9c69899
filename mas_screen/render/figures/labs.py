"""The lab-against-thresholds figure: each entered lab on its own axis, with every published threshold
that applies drawn as a labelled mark, coloured by its result for this patient."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import Assessment, PatientInput
from mas_screen.domain.units import pretty_unit
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import MISSING_WORD as MISSING
from mas_screen.explain.wording import NOT_MET_WORD as NOT_MET
from mas_screen.kernel.inputs.facts import normalise
from mas_screen.render.figures.kit import (
    EMPTY_MESSAGE,
    GAP_PX,
    HALO,
    LEVEL_PX,
    OKABE_ITO,
    ROW_LABELS,
    RULER_AXIS,
    STYLE,
    VALUE_PX,
    WIDTH,
    _axis,
    _display_unit,
    _empty_figure,
    _marks_for,
    _merge,
    _place,
    _ticks,
    _typed_number,
    _value_label_side,
    note_below,
    page_layout,
    scale_for,
    used_analytes,
)
from mas_screen.render.figures.label_layout import wrap_px


def lab_threshold_figure(
    patient: PatientInput,
    assessment: Assessment,
    *,
    unit_system: str | None = None,
    width: int = WIDTH,
    only: Sequence[str] | None = None,
) -> go.Figure:
    """Each entered lab (one row) against every instrument threshold that reads it.

    Rows show the value in the unit typed (or the `unit_system` "us"/"si" unit), thresholds
    converted to it for display; a solid vermillion line is a criterion the value meets, a dashed
    blue one a criterion it does not meet. Values left out as invalid are not drawn (they are in
    the input warnings), and are listed under the figure. Labels are laid out in pixels for
    `width` (label_layout: no overlap, no covered line): show the figure at that width. Below
    600 px the phone scale applies (smaller type, each row's title above the row).
    `only` restricts the rows to some labs (the print layout splits the rows into two columns).
    """
    facts, _warnings = normalise(patient)
    analytes = criteria().analytes.analytes
    rows = [a for a in used_analytes() if a in facts.labs and (only is None or a in only)]
    if not rows:
        return _empty_figure(EMPTY_MESSAGE, width=width)

    sc = scale_for(width)
    plot_px = width - sc.margin["l"] - sc.margin["r"]
    title_levels = 1 if sc.titles_above else 0
    traces: list[go.Scatter] = []
    annotations: list[dict] = []
    layout: dict = {}
    heights: list[int] = []
    row_specs = []
    seen_results: set[str] = set()
    any_censored = False

    for analyte in rows:
        fact = facts.labs[analyte]
        shown = _display_unit(analyte, fact, unit_system)
        value = float(fact.value_in(shown))
        marks = _merge(_marks_for(analyte, fact, shown, facts, assessment))
        positions = [value] + [m.x for m in marks if m.draw_line]
        axis = _axis(analyte, positions, fact.parsed.op)
        placed = _place(marks, axis, plot_px, sc.label_font)
        levels = max([box.top for _m, box in placed], default=0)
        heights.append(VALUE_PX + (max(levels, 1) + title_levels) * LEVEL_PX)
        row_specs.append((analyte, fact, shown, value, axis, placed, max(levels, 1)))

    total_rows_px = sum(heights) + GAP_PX * (len(rows) - 1)
    height = sc.margin["t"] + sc.margin["b"] + total_rows_px
    top = total_rows_px
    for index, (analyte, fact, shown, value, axis, placed, levels) in enumerate(row_specs, start=1):
        suffix = "" if index == 1 else str(index)
        xref, yref = f"x{suffix}", f"y{suffix}"
        row_px = heights[index - 1]
        bottom = top - row_px
        # y units: value lane at 0, label levels at 1..levels.
        y_lo, y_hi = -0.75, levels + title_levels + 0.55
        tickvals, ticktext = _ticks(axis, sc.ticks)
        layout[f"xaxis{suffix}"] = {
            "domain": [0, 1],
            "anchor": yref,
            "type": "log" if axis.log else "linear",
            "range": [axis.lo, axis.hi],
            "tickvals": tickvals,
            "ticktext": ticktext,
            "tickfont": {"size": sc.tick_font, "color": "#444"},
            **RULER_AXIS,
            "fixedrange": True,
        }
        layout[f"yaxis{suffix}"] = {
            "domain": [bottom / total_rows_px, top / total_rows_px],
            "anchor": xref,
            "range": [y_lo, y_hi],
            "visible": False,
            "fixedrange": True,
        }
        label = ROW_LABELS.get(analyte, analytes[analyte].label)
        unit_span = f"<span style='font-size:{sc.tick_font}px;color:#555'>{pretty_unit(shown.unit)}</span>"
        if sc.titles_above:  # phone: "Ferritin ng/mL" on its own level above the row's labels
            title = {"text": f"<b>{label}</b> {unit_span}", "xref": "paper", "yref": yref, "x": 0}
            title |= {"y": levels + 1, "xanchor": "left", "align": "left"}
        else:
            title = {"text": f"<b>{label}</b><br>{unit_span}", "xref": "paper", "yref": f"{yref} domain", "x": 0}
            title |= {"y": 0.5, "xanchor": "right", "xshift": -14, "align": "right"}
        annotations.append(title | {"showarrow": False, "font": {"size": sc.base_font + 1, "color": "#111"}})
        # Threshold lines, each reaching up to its own label.
        for mark, box in placed:
            level = box.level
            colour, dash, _legend = STYLE[mark.result]
            seen_results.add(mark.result)
            if mark.draw_line:
                traces.append(
                    go.Scatter(
                        x=[mark.x, mark.x],
                        y=[y_lo, level - 0.32],
                        mode="lines",
                        line={"color": colour, "dash": dash, "width": 2.5 if mark.result == MET else 2},
                        xaxis=xref,
                        yaxis=yref,
                        name=mark.label,
                        showlegend=False,
                        hovertemplate=f"{mark.hover}<extra></extra>",
                        meta={"analyte": analyte, "instrument": mark.instrument, "result": mark.result},
                    )
                )
            # A note, or a label shifted to stay inside the plot, starts at its box; others at the line.
            free = box.anchor == "free"
            x_at = axis.lo + box.x0 / plot_px * (axis.hi - axis.lo) if free else axis.pos(mark.x)
            annotations.append(
                {
                    "text": "<br>".join(box.lines),
                    "xref": xref,
                    "yref": yref,
                    "x": x_at,
                    "y": level + (len(box.lines) - 1) / 2,
                    "xanchor": "right" if box.anchor == "right" else "left",
                    "xshift": {"left": 3, "right": -3}.get(box.anchor, 0),
                    "align": "left",
                    "showarrow": False,
                    "font": {"size": sc.label_font, "color": colour},
                    "bgcolor": "rgba(255,255,255,0.85)",
                    "hovertext": mark.hover,
                }
            )
        # The patient's value: a large marker; a bound points the censored way over a shaded run.
        op = fact.parsed.op
        typed = _typed_number(fact, shown)
        if op is not None:
            any_censored = True
            edge = 10**axis.hi if (axis.log and op in (">", ">=")) else axis.hi
            if op in ("<", "<="):
                edge = 10**axis.lo if axis.log else axis.lo
            traces.append(
                go.Scatter(
                    x=[value, edge, edge, value],
                    y=[-0.3, -0.3, 0.3, 0.3],
                    fill="toself",
                    fillcolor="rgba(0,0,0,0.10)",
                    line={"width": 0},
                    mode="lines",
                    xaxis=xref,
                    yaxis=yref,
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        symbol = {None: "circle", ">": "triangle-right", ">=": "triangle-right", "<": "triangle-left"}.get(
            op, "triangle-left"
        )
        traces.append(
            go.Scatter(
                x=[value],
                y=[0],
                mode="markers",
                marker={"size": 17 if op is None else 20, "color": OKABE_ITO["black"], "symbol": symbol},
                xaxis=xref,
                yaxis=yref,
                name=f"{label}: {typed} {pretty_unit(shown.unit)}",
                showlegend=False,
                hovertemplate=f"{analytes[analyte].label}: {typed} {pretty_unit(shown.unit)}<extra></extra>",
                meta={"analyte": analyte, "value": value, "censored": op, "text": typed},
            )
        )
        right, crosses = _value_label_side(
            typed,
            axis.px(value, plot_px),
            [axis.px(m.x, plot_px) for m, _box in placed if m.draw_line],
            plot_px,
            sc.base_font + 1,
        )
        annotations.append(
            {
                "text": f"<b>{typed}</b>",
                "xref": xref,
                "yref": yref,
                "x": axis.pos(value),
                "y": 0,
                "xanchor": "left" if right else "right",
                "xshift": 15 if right else -15,
                "showarrow": False,
                # A line through the number could be misread ("1|4"): a white halo keeps the digits
                # clear while the line stays visible around them.
                "font": {"size": sc.base_font + 1, "color": "#000", "shadow": HALO if crosses else "none"},
            }
        )
        top = bottom - GAP_PX

    # Legend: one entry per style actually used, plus the value markers.
    legend = [
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"size": 14, "color": "#000", "symbol": "circle"},
            name="Patient's value",
        )
    ]
    if any_censored:
        legend.append(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"size": 15, "color": "#000", "symbol": "triangle-right"},
                name="Value is a bound (> or <)",
            )
        )
    for result in (MET, NOT_MET, MISSING):
        if result in seen_results:
            colour, dash, text = STYLE[result]
            legend.append(
                go.Scatter(
                    x=[None], y=[None], mode="lines", line={"color": colour, "dash": dash, "width": 3}, name=text
                )
            )

    notes = ["Lines: published thresholds, shown in the unit entered.", "MS score (coefficients) not drawn."]
    left_out = [analytes[k].label for k in patient.labs if k in used_analytes() and k not in facts.labs]
    left_out = [name for name in dict.fromkeys(left_out)]
    if left_out:
        notes.append("Not drawn (see input warnings): " + ", ".join(left_out) + ".")
    if "temperature" in facts.labs and facts.flags.get("febrile") is not None:
        notes.append("Fever items of the 2016 and HLH-2004 criteria use the 'febrile' answer, so are not drawn.")
    unused = [analytes[k].label for k in facts.labs if k not in used_analytes()]
    if unused:
        notes.append("Used by none of these criteria: " + ", ".join(unused) + ".")
    notes = [line for note in notes for line in wrap_px(note, sc.note_font, width - sc.margin["l"] - 8)]
    annotations.append(note_below("<br>".join(notes), sc.note_font, yshift=-30))
    margin = dict(sc.margin)
    margin["b"] += 18 * (len(notes) - 1)
    # The layout goes in with the data: update_layout on a built figure re-validates every
    # annotation one property at a time (a 12-lab chart took ~0.3 s instead of ~0.06 s).
    return go.Figure(
        data=[*traces, *legend],
        layout=page_layout(
            width=width,
            height=height + 18 * (len(notes) - 1),
            margin=margin,
            font_size=sc.base_font,
            legend={"yref": "paper", "font": {"size": sc.base_font - 1}, "itemwidth": 40},
            hovermode="closest",
            annotations=annotations,
            **layout,
        ),
    )
