"""The figure kit shared by every plotly figure of a screen: colours, fonts, the threshold rules drawn
per analyte, number formatting, marks, axes and the label layout scale.

Pure functions (no Streamlit, no I/O) so the UI, the PDF report and tests draw the same picture.
Thresholds are converted to the unit the clinician typed for display only; whether a threshold is
met is decided exactly as the rules decide it (the value converted to the published unit, compared
with the published number, censored values as intervals), so the picture cannot disagree with the
result cards.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

import plotly.graph_objects as go

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import UnitSpec
from mas_screen.domain.models import Assessment
from mas_screen.domain.units import convert, format_threshold, pretty_unit
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import MISSING_WORD as MISSING
from mas_screen.explain.wording import NOT_MET_WORD as NOT_MET
from mas_screen.explain.wording import SYMBOL, bound_prefix, compare_words, tag
from mas_screen.kernel.inputs.facts import Facts, LabFact, plausible_interval, unit_spec
from mas_screen.kernel.instruments import Instrument, instruments, per_criteria
from mas_screen.kernel.kinds import Item
from mas_screen.render.figures.label_layout import LabelBox, LabelSpec, layout_labels, text_px

# Okabe–Ito: distinguishable with the common colour-vision deficiencies; dash style repeats the
# met / not met distinction so it survives greyscale printing.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GREY = "#8C8C8C"
STYLE = {  # threshold result → (colour, dash, legend text)
    MET: (OKABE_ITO["vermillion"], "solid", "Criterion met"),
    NOT_MET: (OKABE_ITO["blue"], "dash", "Criterion not met"),
    MISSING: (GREY, "dot", "Cannot tell (value is a bound)"),
}
FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"  # DejaVu is what kaleido's Chromium has here
BASE_FONT = 16
LABEL_FONT = 15
TICK_FONT = 14
EMPTY_MESSAGE = "Enter labs to see them against the criteria"
HALO = ", ".join(f"{dx}px {dy}px 1px white" for dx in (-2, 0, 2) for dy in (-2, 0, 2) if dx or dy)

# Row labels short enough for the left margin (analytes.yaml labels are written for forms).
ROW_LABELS = {
    "platelets": "Platelets",
    "wbc": "White cells",
    "neutrophils": "Neutrophils",
    "scd25": "sCD25 (sIL-2R)",
    "temperature": "Temperature",
}
ROW_ORDER = (
    "ferritin",
    "platelets",
    "hemoglobin",
    "wbc",
    "neutrophils",
    "ast",
    "ldh",
    "triglycerides",
    "fibrinogen",
    "esr",
    "scd25",
    "temperature",
)
# Labs whose values span decades in MAS (ferritin 500 → 100 000): log axis when the span warrants.
LOG_ANALYTES = frozenset({"ferritin", "scd25", "ldh", "ast", "alt"})
LOG_SPAN = 10.0  # max/min ratio from which a log axis reads better than a linear one
SYMBOLS = SYMBOL

# Pixel geometry (the label layout is computed in pixels so labels never overlap at this width).
WIDTH = 1000  # labels are laid out for this width: show the figure at it or wider (not squeezed)
MARGIN = {"l": 175, "r": 36, "t": 64, "b": 64}
LEVEL_PX = 23  # one row of threshold labels
VALUE_PX = 32  # the value marker's lane
GAP_PX = 34  # between rows: room for the tick labels of the row above
CHAR_PX = 0.6 * LABEL_FONT  # conservative average glyph width of DejaVu Sans


# ------------------------------------------------------------------------------- threshold rules


@dataclass(frozen=True, slots=True)
class Rule:
    """One published threshold on one lab, as written in criteria/*.yaml."""

    instrument: str
    analyte: str
    comparator: str
    threshold: float
    unit: str
    points: float | None
    description: str  # for the hover text
    fever_item: bool = False  # decided by the 'febrile' answer when there is one
    # HLH-2004 haemoglobin: a different threshold below an age in days (criteria infant_rule).
    infant: bool = False  # this is the infant threshold
    replaced_in_infants: bool = False  # this is the usual threshold of an item with an infant rule
    infant_days: float | None = None
    days_per_year: float | None = None

    def applies(self, facts: Facts) -> bool:
        """The infant threshold replaces the usual one only for a patient of known infant age."""
        if self.infant_days is None or self.days_per_year is None:
            return True
        age = facts.numbers.get("age_years")
        is_infant = age is not None and age * self.days_per_year < self.infant_days
        return is_infant if self.infant else not is_infant


def _walk(items, parent=None) -> Iterator[tuple[Item, Item | None]]:
    for item in items:
        yield item, parent
        yield from _walk(item.parts, item)


def _rules_of(instrument: Instrument) -> Iterator[Rule]:
    """Every lab threshold of an instrument, from its items' edges (linear terms and ratios have none)."""
    spec = instrument.spec
    labs = criteria().analytes.analytes
    for item, parent in _walk(instrument.items):
        where = f"{spec.short_name} — " + (f"{parent.label}: " if parent is not None else "") + item.label
        for edge in item.edges():
            if edge.key not in labs or edge.when == "infant_age":
                continue
            text = f"{where} {SYMBOLS[edge.comparator]} {format_threshold(edge.threshold)} {pretty_unit(edge.unit)}"
            if edge.band:
                text += f": {_num(edge.points)} points"
            elif edge.when == "febrile_unknown":
                text += " (used when 'febrile' is not answered)"
            elif edge.when == "infant":
                text += f" (age < {format_threshold(edge.infant_days)} days)"
            yield Rule(
                spec.id,
                edge.key,
                edge.comparator,
                edge.threshold,
                edge.unit,
                edge.points,
                text,
                fever_item=edge.when == "febrile_unknown",
                infant=edge.when == "infant",
                replaced_in_infants=edge.when == "not_infant",
                infant_days=edge.infant_days,
                days_per_year=edge.days_per_year,
            )


@per_criteria
def rules_by_analyte() -> dict[str, tuple[Rule, ...]]:
    """Thresholds per lab over every instrument, in instrument order (worked out once)."""
    found: dict[str, list[Rule]] = {}
    for instrument in instruments().values():
        for rule in _rules_of(instrument):
            found.setdefault(rule.analyte, []).append(rule)
    return {k: tuple(v) for k, v in found.items()}


@per_criteria
def used_analytes() -> tuple[str, ...]:
    """Labs read by at least one instrument (thresholds, bands, coefficients or the ratio), row order."""
    labs = criteria().analytes.analytes
    used = {key for instrument in instruments().values() for key in instrument.keys if key in labs}
    ordered = [a for a in ROW_ORDER if a in used]
    return tuple(ordered + sorted(used - set(ordered)))


# ----------------------------------------------------------------------------------- formatting


def _num(value: float | Decimal) -> str:
    return format_threshold(int(value)) if float(value).is_integer() else format_threshold(float(value))


def group_digits(text: str) -> str:
    """'40000' → '40 000' (narrow no-break space) from five integer digits, as SI style prints it."""
    sign = "−" if text.startswith("-") else ""
    body = text.lstrip("-")
    whole, dot, frac = body.partition(".")
    if len(whole) >= 5 and whole.isdigit():
        whole = f"{int(whole):,}".replace(",", "\u202f")
    return f"{sign}{whole}{dot}{frac}"


def display_number(value: Decimal) -> str:
    """A converted threshold or value for a label: whole numbers as is, else 3 significant digits
    (at least one decimal from 100 up, so 38.4 °C → 101.1 °F, not 101)."""
    if value == value.to_integral_value():
        return group_digits(str(int(value)))
    if abs(value) >= 100:
        text = f"{round(value, 1):f}"
    else:
        digits = max(0, 2 - value.adjusted())
        text = f"{round(value, digits):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return group_digits(text)


def _typed_number(fact: LabFact, unit: UnitSpec) -> str:
    """The value as a clinician typed it (or converted, under a unit-system switch)."""
    value = fact.parsed.value if unit.unit == fact.unit.unit else fact.value_in(unit)
    text = display_number(value) if unit.unit != fact.unit.unit else group_digits(f"{value.normalize():f}")
    prefix = bound_prefix(fact.parsed.op)
    return prefix + text


# --------------------------------------------------------------------------------------- marks


@dataclass(slots=True)
class Mark:
    """A threshold as drawn on one row: its display position, label and whether the value meets it."""

    x: float  # in the display unit
    label: str
    hover: str
    result: str  # MET / NOT_MET / MISSING
    instrument: str
    draw_line: bool = True


def threshold_mark(rule: Rule, shown: UnitSpec, result: str, *, unit_words: str = "in the unit entered") -> Mark:
    """A rule drawn in the display unit `shown`: position, short label ("2016 > 684") and hover text.

    The threshold is converted for display only; `result` says whether the value meets it."""
    published = unit_spec(rule.analyte, rule.unit)
    x = convert(Decimal(repr(rule.threshold)), published, shown)
    number = format_threshold(rule.threshold) if published.unit == shown.unit else display_number(x)
    label = f"{tag(rule.instrument)} {SYMBOLS[rule.comparator]} {number}"
    if rule.points is not None:
        label += f" ({_num(rule.points)} pts)"
    if rule.infant:
        label += f" (< {format_threshold(rule.infant_days or 0)} d)"
    hover = rule.description
    if published.unit != shown.unit:
        hover += f"<br>= {number} {pretty_unit(shown.unit)} {unit_words} (display only)"
    return Mark(float(x), label, hover, result, rule.instrument)


def drawn_rules(analyte: str, facts: Facts) -> list[Rule]:
    """The thresholds drawn for a lab: infant thresholds only for an infant, and fever items only
    when 'febrile' is not answered (they read the temperature only then, as the rules do)."""
    return [
        rule
        for rule in rules_by_analyte().get(analyte, ())
        if rule.applies(facts) and not (rule.fever_item and facts.flags.get("febrile") is not None)
    ]


def _marks_for(analyte: str, fact: LabFact, shown: UnitSpec, facts: Facts, assessment: Assessment) -> list[Mark]:
    marks: list[Mark] = []
    for rule in drawn_rules(analyte, facts):
        published = unit_spec(analyte, rule.unit)
        result = compare_words(fact.interval(published), rule.comparator, rule.threshold)
        marks.append(threshold_mark(rule, shown, result))
    for instrument, ratio in ratio_items():
        if ratio.spec.denominator == analyte:
            marks.extend(_ratio_marks(instrument.spec, ratio.spec, facts, shown, assessment))
    return marks


@per_criteria
def ratio_items() -> tuple[tuple[Instrument, Item], ...]:
    """(instrument, ratio item) pairs: a ratio's divisor has a threshold only for a given numerator."""
    return tuple((i, item) for i in instruments().values() for item, _ in _walk(i.items) if item.shows == "ratio")


def _ratio_marks(spec, item, facts: Facts, shown: UnitSpec, assessment: Assessment) -> list[Mark]:
    """A ratio (ferritin:ESR) has no fixed threshold on its divisor; with an exact numerator it has one
    for this patient."""
    result = assessment.criteria.get(spec.id)
    status = {"met": MET, "not_met": NOT_MET}.get(result.status if result else "", MISSING)
    sym, cut = SYMBOLS[item.comparator], format_threshold(item.threshold)
    name = spec.tag or spec.short_name
    labs = criteria().analytes.analytes
    numerator = ROW_LABELS.get(item.numerator, labs[item.numerator].label).lower()
    divisor = labs[item.denominator].label.split(" (")[0]
    ferritin = facts.labs.get(item.numerator)
    if ferritin is None or not ferritin.exact:
        if ferritin is None:
            text = f"{name} {sym} {cut}: needs {numerator}"
        elif status == MISSING:
            text = f"{name} {sym} {cut}: open ({numerator} reported as a bound)"
        else:
            text = f"{name} {sym} {cut}: {'met' if status == MET else 'not met'} whatever the exact {numerator}"
        hover = f"{spec.short_name} {sym} {cut} ({spec.name})"
        return [Mark(math.nan, text, hover, status, spec.id, draw_line=False)]
    num = ferritin.value_in(unit_spec(item.numerator, item.numerator_unit))
    esr_cut = num / Decimal(repr(item.threshold))  # ratio ≥ cut ⇔ ESR ≤ ferritin / cut
    x = convert(esr_cut, unit_spec(item.denominator, item.denominator_unit), shown)
    ceiling = plausible_interval(item.denominator, shown.unit).hi
    if float(x) > ceiling:  # a line far off the ESR scale would squash the row
        text = f"{name} {sym} {cut} for any {divisor} up to {display_number(x)}"
        return [Mark(math.nan, text, f"{spec.name} {sym} {cut}", status, spec.id, draw_line=False)]
    label = f"{name} {sym} {cut} if {divisor} ≤ {display_number(x)}"
    hover = (
        f"{spec.name} {sym} {cut}<br>with {numerator} {ferritin.display(ferritin.unit)} the ratio is "
        f"{sym} {cut} when {divisor} ≤ {display_number(x)} {pretty_unit(shown.unit)}"
    )
    return [Mark(float(x), label, hover, status, spec.id)]


def _merge(marks: list[Mark]) -> list[Mark]:
    """Thresholds at the same place with the same result share one line and one label."""
    merged: dict[tuple[float, str], Mark] = {}
    out: list[Mark] = []
    for m in marks:
        if not m.draw_line:
            out.append(m)
            continue
        key = (round(m.x, 9), m.result)
        if key in merged:
            first = merged[key]
            first.label += f" · {m.label}"
            first.hover += f"<br>{m.hover}"
        else:
            merged[key] = Mark(m.x, m.label, m.hover, m.result, m.instrument)
            out.append(merged[key])
    return out


# ---------------------------------------------------------------------------------------- axes


@dataclass(slots=True)
class Axis:
    lo: float  # in axis units (log10 for a log axis)
    hi: float
    log: bool

    def pos(self, x: float) -> float:
        """Data value → axis coordinate (annotations on a log axis take log10)."""
        return math.log10(x) if self.log else x

    def px(self, x: float, width: float) -> float:
        return (self.pos(x) - self.lo) / (self.hi - self.lo) * width


def wants_log(analyte: str, points: Sequence[float]) -> bool:
    """A log axis for labs that span decades in MAS, when these points span ≥ LOG_SPAN-fold."""
    return (
        analyte in LOG_ANALYTES
        and len(points) > 1
        and all(p > 0 for p in points)
        and max(points) / min(points) >= LOG_SPAN
    )


def _axis(analyte: str, points: list[float], censored: str | None, log: bool | None = None) -> Axis:
    """The axis range for `points` (padded; room on the side a bound points to); log as
    `wants_log` decides from the points themselves unless `log` says."""
    if log is None:
        log = wants_log(analyte, points)
    log = log and all(p > 0 for p in points)
    values = [math.log10(p) for p in points] if log else list(points)
    lo, hi = min(values), max(values)
    span = hi - lo
    if span == 0 and not log and lo > 0:
        lo, hi = 0.0, hi * 1.5  # a lone positive value (ESR without thresholds): axis from 0
        span = hi
    elif span == 0:
        span = max(abs(hi) * 0.2, 1.0)
    pad = 0.1 * span
    lo, hi = lo - pad, hi + pad
    if censored in (">", ">="):
        hi += 0.18 * span
    elif censored in ("<", "<="):
        lo -= 0.18 * span
    if not log and min(points) >= 0:
        lo = max(lo, 0.0)  # counts and concentrations: no negative axis
    return Axis(lo, hi, log)


def _nice_step(span: float, target: int = 6) -> float:
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power  # pragma: no cover


def _ticks(axis: Axis, target: int = 6) -> tuple[list[float], list[str]]:
    """Readable ticks with our own number format (no '20k', no exponent); about `target` of them
    on a linear axis, at most `target` + 2 on a log axis."""
    if axis.log:
        values: list[float] = []
        for steps in ((1, 2, 5), (1, 3), (1,)):
            values = [
                m * 10.0**k
                for k in range(math.floor(axis.lo) - 1, math.ceil(axis.hi) + 1)
                for m in steps
                if axis.lo <= math.log10(m * 10.0**k) <= axis.hi
            ]
            if len(values) <= target + 2:
                break
        return values, [display_number(Decimal(repr(v)).normalize()) for v in values]
    step = _nice_step(axis.hi - axis.lo, target)
    start = math.ceil(axis.lo / step) * step
    values = []
    v = start
    while v <= axis.hi + 1e-9 * step:
        values.append(round(v, 10))
        v += step
    return values, [display_number(Decimal(repr(v)).normalize()) for v in values]


# -------------------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class Scale:
    """Type sizes and margins for a chart width: a phone gets smaller type and row titles above
    each row (the left margin would otherwise take half its width)."""

    base_font: int
    label_font: int
    tick_font: int
    margin: dict
    titles_above: bool
    ticks: int
    note_font: int  # the notes under the chart


COMPACT_BELOW_PX = 600  # below this width the chart uses the phone scale


def scale_for(width: int) -> Scale:
    if width >= 900:
        return Scale(BASE_FONT, LABEL_FONT, TICK_FONT, dict(MARGIN), False, 6, TICK_FONT - 1)
    if width >= COMPACT_BELOW_PX:  # also the print figure (export.PRINT_FIGURE_WIDTH_PX): 13 px prints at >= 8 pt
        margin = {"l": 140, "r": 28, "t": 64, "b": 64}
        return Scale(BASE_FONT - 1, LABEL_FONT - 1, TICK_FONT - 1, margin, False, 5, TICK_FONT - 1)
    return Scale(14, 13, 12, {"l": 10, "r": 14, "t": 84, "b": 60}, True, 4, 11)


def _place(marks: list[Mark], axis: Axis, plot_px: float, font_px: float) -> list[tuple[Mark, LabelBox]]:
    """Each mark with its label box (label_layout.layout_labels: no overlap, no covered line)."""
    specs = [LabelSpec(m.label, axis.px(m.x, plot_px) if m.draw_line else None) for m in marks]
    return list(zip(marks, layout_labels(specs, plot_px, font_px), strict=True))


def _value_label_side(
    text: str, x: float, lines: list[float], plot_px: float, font_px: float = BASE_FONT + 1
) -> tuple[bool, bool]:
    """(right?, crosses a line?): the side of the marker whose text crosses fewer threshold lines."""
    width = text_px(text, font_px) * 1.08 + 16  # bold
    costs = []
    for right in (True, False):
        start, end = (x + 6, x + width) if right else (x - width, x - 6)
        outside = end > plot_px + 10 or start < -10
        costs.append((outside, sum(1 for lx in lines if start <= lx <= end), not right))
    best = min(costs)
    return best == costs[0], best[1] > 0


# A value or time axis drawn as a ruler: its line, outside ticks and a light grid (lab and trend charts).
RULER_AXIS = {
    "showline": True,
    "linecolor": "#777",
    "ticks": "outside",
    "ticklen": 4,
    "tickcolor": "#777",
    "showgrid": True,
    "gridcolor": "#EBEBEB",
    "zeroline": False,
}


def note_below(text: str, font_size: int, **shift) -> dict:
    """A grey, left-aligned note under the plot area (`shift`: xshift/yshift in pixels)."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": 0,
        "xanchor": "left",
        "yanchor": "top",
        **shift,
        "align": "left",
        "showarrow": False,
        "font": {"size": font_size, "color": "#555"},
    }


def page_layout(
    *, width: int, height: int, margin: dict, font_size: int = BASE_FONT, legend: dict | bool | None = None, **extra
) -> dict:
    """What every chart's layout starts from: a white page and plot, one font family, the size given.
    `legend`: a dict shows a horizontal legend from the left edge, above the plot (the dict adds each
    chart's own reference, font and item width); False hides it; None leaves plotly's default.
    `extra` adds the rest of the layout."""
    layout: dict = {
        "template": "plotly_white",
        "width": width,
        "height": height,
        "margin": margin,
        "font": {"family": FONT_FAMILY, "size": font_size, "color": "#222"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }
    if legend is not None:
        layout["showlegend"] = bool(legend)
    if isinstance(legend, dict):
        layout["legend"] = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "bottom", **legend}
    layout.update(extra)
    return layout


def _empty_figure(message: str, height: int = 220, width: int = WIDTH) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        **page_layout(width=width, height=height, margin={"l": 20, "r": 20, "t": 20, "b": 20}),
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": message,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 20, "color": "#555"},
            }
        ],
    )
    return fig


def _display_unit(analyte: str, fact: LabFact, unit_system: str | None) -> UnitSpec:
    if unit_system is None:
        return fact.unit
    systems = criteria().analytes.unit_systems
    if unit_system not in systems:
        raise ValueError(f"unit_system must be one of {', '.join(systems)} or None, not {unit_system!r}")
    chosen = systems[unit_system].get(analyte)  # type: ignore[index]  # checked just above
    return unit_spec(analyte, chosen) if chosen else fact.unit
