"""Serial labs as pictures: each lab over time against every published threshold, as small multiples
(the status timeline and the changes table are in trends_status; the shared pieces in trends_kit).

Pure functions (no Streamlit, no I/O) on a `domain.series.TrendResult`, in the style of `figures.kit`
(Okabe–Ito colours, fonts ≥ 14 px, labelled lines, our own number format). Whether a value meets a
threshold is decided as the rules decide it (value converted to the published unit, censored
values as intervals); thresholds are converted for display only.

The expert consensus on dynamics (Ravelli 2016, RMD Open) ranked the change in platelets, ferritin
and AST as what matters most but set no percent-change cut-off: nothing here judges a change. An
alert level is the user's own and is drawn and labelled as such, never as a published threshold.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from decimal import Decimal

import plotly.graph_objects as go

from mas_screen.criteria.schema import UnitSpec
from mas_screen.domain.series import TrendResult
from mas_screen.domain.units import convert, pretty_unit
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import compare_words as compare
from mas_screen.kernel.inputs.facts import Facts, unit_spec
from mas_screen.render.figures.kit import (
    BASE_FONT,
    CHAR_PX,
    LABEL_FONT,
    RULER_AXIS,
    STYLE,
    TICK_FONT,
    WIDTH,
    Mark,
    _axis,
    _empty_figure,
    _merge,
    _ticks,
    display_number,
    drawn_rules,
    note_below,
    page_layout,
    threshold_mark,
    wants_log,
)
from mas_screen.render.figures.trends_kit import (
    ALERT_COLOUR,
    ALERT_DASH,
    ALERT_WORDS,
    CONSENSUS_NOTE,
    EMPTY_SERIES,
    KEY_ANALYTES,
    LEADER_PX,
    LEFT_PX,
    LINE_PX,
    MARKER_MIN_GAP_PX,
    PANEL_GAP_PX,
    PANEL_PX,
    TICK2_PX,
    TICK_PX,
    TITLE_PX,
    Crossing,
    LabPanel,
    Line,
    Obs,
    _alert_side,
    _canonical,
    _changes_between,
    _cluster,
    _context_facts,
    _crossing_traces,
    _display_unit,
    _lab_label,
    _needs_time,
    _percent,
    _short_when,
    _time_axis,
    _value_text,
    _wrap,
    lab_series,
    panel_order,
    place_labels,
)
from mas_screen.render.figures.trends_traces import (
    _alert_hit_traces,
    _check_alerts,
    _legend,
    _legend_px,
    _typical_gap,
    _value_traces,
)


def _panel(
    analyte: str, obs: list[Obs], shown: UnitSpec, facts: Facts, alert: float | None, panel_px: int = PANEL_PX
) -> LabPanel:
    values = [float(o.fact.value_in(shown)) for o in obs]
    latest = obs[-1].fact
    pairs: list[tuple[Mark, object]] = []
    for rule in drawn_rules(analyte, facts):
        published = unit_spec(analyte, rule.unit)
        result = compare(latest.interval(published), rule.comparator, rule.threshold)
        pairs.append((threshold_mark(rule, shown, result, unit_words="in the unit shown"), rule))
    merged = _merge([m for m, _r in pairs])
    by_key: dict[tuple[float, str], list] = {}
    for m, rule in pairs:
        by_key.setdefault((round(m.x, 9), m.result), []).append((m, rule))
    lines = [Line(m, by_key[(round(m.x, 9), m.result)]) for m in merged]
    if alert is not None:
        level = float(convert(Decimal(repr(alert)), _canonical(analyte), shown))
        text = f"{ALERT_WORDS} {display_number(Decimal(repr(level)))}"
        hover = (
            f"{ALERT_WORDS.capitalize()}: {display_number(Decimal(repr(level)))} {pretty_unit(shown.unit)}"
            "<br>set by you, not a published threshold"
        )
        lines.append(Line(Mark(level, text, hover, "alert", "user"), alert=True))
    censored = next((o.op for o in obs if o.op in (">", ">=")), None) or next((o.op for o in obs if o.op), None)
    # Log scale from the values' own span (ferritin 900 → 12 000), not the thresholds'; a lone
    # value is drawn as the single-panel figure draws it (log when its thresholds span decades).
    log = wants_log(analyte, values) if len(values) > 1 else None
    axis = _axis(analyte, values + [line.mark.x for line in lines], censored, log=log)

    crossings: list[Crossing] = []
    for line in lines:
        if line.alert:
            sides = [_alert_side(o.fact, shown, line.mark.x) for o in obs]
            for i, j, into in _changes_between(sides):
                crossings.append(
                    Crossing(
                        obs[j].time, line.mark.x, line.mark.label, obs[i].time, obs[j].time, into, values[j], alert=True
                    )
                )
            continue
        found: dict[tuple[int, int, bool], list[str]] = {}
        for m, rule in line.rules:
            published = unit_spec(analyte, rule.unit)
            results = [compare(o.fact.interval(published), rule.comparator, rule.threshold) for o in obs]
            for key in _changes_between(results):
                found.setdefault(key, []).append(m.label)
        for (i, j, into), labels in found.items():
            crossings.append(
                Crossing(obs[j].time, line.mark.x, " · ".join(labels), obs[i].time, obs[j].time, into, values[j])
            )
    return LabPanel(analyte, obs, shown, values, lines, axis, crossings, panel_px)


def _title(panel: LabPanel, with_time: bool, narrow: bool = False) -> str:
    """The lab, its unit and its latest value; on a narrow figure the latest value on a line of its own."""
    last = panel.obs[-1]
    unit = pretty_unit(panel.shown.unit)
    text = f"<b>{_lab_label(panel.analyte)}</b> <span style='color:#555'>({unit})</span>"
    latest = f"latest <b>{_value_text(last.fact, panel.shown)}</b> on {_short_when(last.time, with_time)}"
    pct = last.change.change_from_first_percent
    if len(panel.obs) > 1 and pct is not None:
        latest += f", {_percent(pct)} from first"
    return (
        text + ("<br>" if narrow else "   ") + f"<span style='font-size:{TICK_FONT + 1}px;color:#333'>{latest}</span>"
    )


# Below this width (a phone) the figure stacks each title on two lines, gives the threshold labels a
# wider lane and wraps them to it: laid out for a desktop, a phone's plot would be a sliver.
NARROW_PX = 640
LANE_SHARE = 0.36  # the most of the width the threshold labels' lane takes
NARROW_LANE_SHARE = 0.45
_KEEP_TOGETHER = re.compile(r"([<>≤≥=]) |\(([^()]*)\)")


def _label_lines(label: str, chars: int) -> list[str]:
    """A threshold label ("HScore ≥ 2000 (35 pts) · 2016 > 684") as the lines it is drawn in: one per
    instrument, each wrapped to `chars` without parting a comparator from its number or opening a
    bracket's words ("(35 pts)")."""

    def glue(m: re.Match) -> str:
        return m.group(1) + "\u00a0" if m.group(1) else "(" + m.group(2).replace(" ", "\u00a0") + ")"

    lines: list[str] = []
    for part in label.split(" · "):
        wrapped = textwrap.wrap(_KEEP_TOGETHER.sub(glue, part), chars, break_long_words=False, break_on_hyphens=False)
        lines.extend(line.replace("\u00a0", " ") for line in wrapped or [part])
    return lines


def trend_small_multiples(
    result: TrendResult,
    *,
    analytes: Sequence[str] | None = None,
    unit_system: str | None = None,
    alert_levels: dict[str, float] | None = None,
    width: int = WIDTH,
    panel_px: int = PANEL_PX,
) -> go.Figure:
    """One panel per lab with at least one value: the values over time (a real date axis) against
    every published threshold that reads the lab, labelled "2016 > 684"; crossings ringed.

    - Order: platelets, ferritin, AST (the consensus's order, trends.TREND_ANALYTES), then the
      rest; or `analytes` (only those with a value are drawn).
    - Unit: the lab's canonical unit, or the `unit_system` ("us" / "si") unit; thresholds are
      converted for display only and the crossings are decided in the published unit.
    - A threshold line's colour says whether the lab's latest value meets it (as in figures).
    - A value reported as a bound (">40000") is a triangle joined by dotted segments.
    - `alert_levels`: {lab: level in the lab's canonical unit}, drawn dash-dot purple and labelled
      "your alert level" (the consensus set no cut-off; these are the user's, never published).
    - Markers are thinned out when values are too close to tell apart (a year of daily values);
      every value keeps its hover text.
    - `panel_px`: the plot height of one lab (taller on a projector slide; never below what its
      threshold labels need).
    """
    series = lab_series(result)
    order = panel_order(list(series), analytes)
    alerts = _check_alerts(alert_levels)
    if not order:
        return _empty_figure(EMPTY_SERIES, width=width)
    facts = _context_facts(result)
    panels = [_panel(a, series[a], _display_unit(a, unit_system), facts, alerts.get(a), panel_px) for a in order]
    all_times = sorted({o.time for p in panels for o in p.obs})
    with_time = _needs_time(all_times)

    label_px = max(
        [len(part) * CHAR_PX for p in panels for line in p.lines for part in line.mark.label.split(" · ")],
        default=0,
    )
    narrow = width < NARROW_PX
    right = int(min(max(label_px + LEADER_PX + 14, 40), width * (NARROW_LANE_SHARE if narrow else LANE_SHARE)))
    plot_px = width - LEFT_PX - right
    # Each threshold label's lines, wrapped to the lane when it is narrower than the longest label;
    # a panel is never shorter than its labels need.
    lane_chars = max(8, int((right - LEADER_PX - 14) / CHAR_PX))
    for p in panels:
        p.labels = [_label_lines(line.mark.label, lane_chars) for line in p.lines]
        p.height = max(p.height, sum(map(len, p.labels)) * LINE_PX + 2 * len(p.lines) + 8)
    title_px = TITLE_PX + (20 if narrow else 0)
    taxis = _time_axis(all_times, plot_px)
    tick_px = TICK2_PX if taxis.two_lines else TICK_PX

    any_censored = any(o.op for p in panels for o in p.obs)
    notes = ["Lines: published thresholds (instrument, comparator, value); colour: met by the latest value or not."]
    if any(p.analyte in KEY_ANALYTES for p in panels):
        notes.append(CONSENSUS_NOTE)
    if any(line.alert for p in panels for line in p.lines):
        notes.append("Purple dash-dot: your alert level, set by you; not a published threshold.")
    if any(h.analyte in order for h in result.alerts):
        notes.append("Purple diamond on a value: your own alert fired there (set by you; no published cut-off).")
    if any(p.analyte == "esr" for p in panels):
        notes.append("ESR has no fixed threshold: the ferritin:ESR ratio is in the status timeline.")
    if facts.flags.get("febrile") is not None and any(p.analyte == "temperature" for p in panels):
        notes.append("Fever items of the 2016 and HLH-2004 criteria use the 'febrile' answer, so are not drawn.")
    # The notes start at the plot's left edge; on a phone at the figure's, to take the whole width.
    edge_shift = -(LEFT_PX - 4) if narrow else 0
    notes_width = width - LEFT_PX - edge_shift
    notes_px = 20 * len(_wrap(notes, notes_width)) + 8

    plot_h = sum(title_px + p.height + tick_px for p in panels) + PANEL_GAP_PX * (len(panels) - 1)
    margin = {"l": LEFT_PX, "r": right, "t": 78, "b": 8 + notes_px}
    traces: list[go.Scatter] = []
    annotations: list[dict] = []
    layout: dict = {}
    seen: set[str] = set()
    rings_seen: set[str] = set()
    cursor = plot_h
    for index, p in enumerate(panels, start=1):
        suffix = "" if index == 1 else str(index)
        xref, yref = f"x{suffix}", f"y{suffix}"
        cursor -= title_px
        top = cursor
        cursor -= p.height
        bottom = cursor
        cursor -= tick_px + PANEL_GAP_PX
        yvals, ytext = _ticks(p.axis, target=4 if p.axis.log else 7)  # ~5 labels either way
        layout[f"xaxis{suffix}"] = {
            "domain": [0, 1],
            "anchor": yref,
            "type": "date",
            "range": [taxis.lo, taxis.hi],
            "tickvals": taxis.tickvals,
            "ticktext": taxis.ticktext,
            "tickfont": {"size": TICK_FONT, "color": "#444"},
            **RULER_AXIS,
            **({"matches": "x"} if index > 1 else {}),
        }
        layout[f"yaxis{suffix}"] = {
            "domain": [bottom / plot_h, top / plot_h],
            "anchor": xref,
            "type": "log" if p.axis.log else "linear",
            "range": [p.axis.lo, p.axis.hi],
            "tickvals": yvals,
            "ticktext": ytext,
            "tickfont": {"size": TICK_FONT, "color": "#444"},
            "showline": True,
            "linecolor": "#777",
            "showgrid": True,
            "gridcolor": "#EBEBEB",
            "zeroline": False,
            "fixedrange": True,
        }
        annotations.append(
            {
                "text": _title(p, with_time, narrow),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": top / plot_h,
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": 3,
                "xshift": edge_shift,  # a phone: the title takes the whole width, as the notes do
                "showarrow": False,
                "align": "left",
                "font": {"size": BASE_FONT + 1, "color": "#111"},
            }
        )
        # Threshold lines across the panel, their labels in the lane on the right.
        wanted = [(p.axis.pos(line.mark.x) - p.axis.lo) / (p.axis.hi - p.axis.lo) * p.height for line in p.lines]
        heights = [len(label) * LINE_PX for label in p.labels]
        placed = place_labels(wanted, heights, -6, p.height + 6)
        for line, want, at, lines_text in zip(p.lines, wanted, placed, p.labels, strict=True):
            m = line.mark
            if line.alert:
                colour, dash, width_px = ALERT_COLOUR, ALERT_DASH, 2.5
                meta = {"analyte": p.analyte, "kind": "alert", "value": m.x, "label": m.label}
            else:
                colour, dash, _words = STYLE[m.result]
                width_px = 2.5 if m.result == MET else 2
                seen.add(m.result)
                meta = {
                    "analyte": p.analyte,
                    "kind": "threshold",
                    "value": m.x,
                    "label": m.label,
                    "result": m.result,
                    "instruments": [r.instrument for _m, r in line.rules],
                    "thresholds": [r.threshold for _m, r in line.rules],
                }
            traces.append(
                go.Scatter(
                    x=[taxis.lo, taxis.hi],
                    y=[m.x, m.x],
                    mode="lines",
                    line={"color": colour, "dash": dash, "width": width_px},
                    xaxis=xref,
                    yaxis=yref,
                    name=m.label,
                    showlegend=False,
                    hovertemplate=f"{m.hover}<extra></extra>",
                    meta=meta,
                )
            )
            text = "<br>".join(lines_text)
            annotations.append(
                {
                    "text": f"<i>{text}</i>" if line.alert else text,
                    "xref": f"{xref} domain",
                    "yref": yref,
                    "x": 1,
                    "y": p.axis.pos(m.x),
                    "ax": LEADER_PX,
                    "ay": -(at - want),
                    "axref": "pixel",
                    "ayref": "pixel",
                    "showarrow": True,
                    "arrowhead": 0,
                    "arrowwidth": 1.2,
                    "arrowcolor": colour,
                    "standoff": 0,
                    "xanchor": "left",
                    "align": "left",
                    "font": {"size": LABEL_FONT, "color": colour},
                    "hovertext": m.hover,
                    "name": f"{meta['kind']}:{p.analyte}",
                }
            )
        traces.extend(_value_traces(p, xref, yref, plot_px, taxis))
        if p.crossings:
            roomy = _typical_gap(p, plot_px, taxis) >= MARKER_MIN_GAP_PX
            ring_px = 20 if roomy else 15
            shown = _cluster(p.crossings, taxis, plot_px, ring_px)
            rings = [c for c in shown if not c.alert]
            alerts_crossed = [c for c in shown if c.alert]
            if rings:
                rings_seen.add("threshold")
                traces.extend(_crossing_traces(p, rings, with_time, xref, yref, ring_px, alert=False))
            if alerts_crossed:
                rings_seen.add("alert")
                traces.extend(_crossing_traces(p, alerts_crossed, with_time, xref, yref, 20, alert=True))

    hits_drawn = _alert_hit_traces(result, panels, traces)
    legend = _legend(
        seen,
        rings_seen | ({"alert"} if hits_drawn else set()),
        any_censored,
        any(line.alert for p in panels for line in p.lines) or hits_drawn,
        width,
    )
    annotations.append(note_below("<br>".join(_wrap(notes, notes_width)), TICK_FONT - 1, xshift=edge_shift, yshift=-4))
    margin["t"] = _legend_px(legend, width)
    fig = go.Figure(data=[*traces, *legend])
    fig.update_layout(
        **page_layout(
            width=width,
            height=plot_h + margin["t"] + margin["b"],
            margin=margin,
            legend={"yref": "container", "font": {"size": BASE_FONT - 1}},
        ),
        hovermode="closest",
        annotations=annotations,
        **layout,
    )
    fig.update_layout(legend={"y": 1 - 6 / fig.layout.height, "yanchor": "top"})
    return fig
