"""The kit of the serial-lab figures: sizes and colours, each lab as a series of observations in its
display unit, date formatting, the time axis, threshold crossings, label placement and the panel of one lab."""

from __future__ import annotations

import itertools
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import plotly.graph_objects as go

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import UnitSpec
from mas_screen.domain.series import TREND_ANALYTES, Change, TrendResult
from mas_screen.domain.units import ParsedNumber, format_number, unit_index, unit_key
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import MISSING_WORD as MISSING
from mas_screen.explain.wording import NOT_MET_WORD as NOT_MET
from mas_screen.explain.wording import bound_prefix
from mas_screen.kernel.inputs.facts import Facts, LabFact, unit_spec
from mas_screen.render.figures.kit import (
    OKABE_ITO,
    ROW_LABELS,
    TICK_FONT,
    Axis,
    Mark,
    display_number,
    group_digits,
    used_analytes,
)

KEY_ANALYTES = TREND_ANALYTES[:3]  # platelets, ferritin, AST: the consensus's "change matters most"
CONSENSUS_NOTE = (
    "Platelets, ferritin and AST: the labs whose change the expert consensus ranked most important "
    "(Ravelli 2016, RMD Open). It set no percent-change cut-off."
)
ALERT_COLOUR = OKABE_ITO["purple"]
ALERT_DASH = "dashdot"
ALERT_WORDS = "your alert level"
VALUE_COLOUR = OKABE_ITO["black"]
RING_COLOUR = OKABE_ITO["black"]  # on either threshold colour; the hover says which way it crossed
EMPTY_SERIES = "Enter dated panels to see the labs over time"

# Pixel geometry of the small multiples (laid out for `width`, like figures.lab_threshold_figure).
PANEL_PX = 170  # plot height of one lab
TITLE_PX = 34  # the lab's name and latest value above its plot
TICK_PX = 30  # date labels under a plot (one line)
TICK2_PX = 50  # … two lines (day and time)
PANEL_GAP_PX = 14
LEFT_PX = 84  # y tick labels ("12 000")
LINE_PX = 19  # one line of a threshold label (15 px font)
LEADER_PX = 22  # from the plot's right edge to its labels
TIME_TICK_PX = 96  # room for one date label
EDGE_PX = 12  # room kept between the first or last value and the plot's edge (a crossing ring's radius)
MARKER_MIN_GAP_PX = 12  # closer than this, markers would merge into a band: thin them out


# ------------------------------------------------------------------------------------ the series


@dataclass(slots=True)
class Obs:
    """One value of one lab at one time, as the rules see it (exact or a bound)."""

    time: datetime
    change: Change
    fact: LabFact  # in the unit it was typed in (else the Change's, the lab's canonical unit)

    @property
    def op(self) -> str | None:
        return self.fact.parsed.op


_LEADING = re.compile(r"^\s*(>=|<=|≥|≤|>|<)?\s*([-+−]?[\d\u202f\u00a0 ]*\.?\d+)\s*(.*)$")


def wall_time(text: str) -> datetime:
    """ISO 8601 time → naive wall-clock datetime (as entered; plotly has no time zones)."""
    dt = datetime.fromisoformat(text.strip())
    return dt.replace(tzinfo=None) if dt.tzinfo is not None else dt


def _unit_of(analyte: str, text: str | None) -> UnitSpec | None:
    if not text:
        return None
    return unit_index(analyte).accepted.get(unit_key(text))


def _parse_fact(analyte: str, text: str | None, unit: UnitSpec) -> LabFact | None:
    """'> 40000 ng/mL', '150000 /µL', '3.6 g/L' → a LabFact in the unit named (else `unit`)."""
    match = _LEADING.match(text or "")
    if match is None:
        return None
    op = {"≥": ">=", "≤": "<="}.get(match.group(1), match.group(1)) if match.group(1) else None
    number = re.sub(r"[\s\u202f\u00a0]", "", match.group(2)).replace("−", "-")
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    if not match.group(3).strip():
        return LabFact(analyte, ParsedNumber(value, op), unit, {})
    named = _unit_of(analyte, match.group(3))  # a unit not recognised: the number cannot be placed
    return LabFact(analyte, ParsedNumber(value, op), named, {}) if named is not None else None


def _fact(analyte: str, change: Change) -> LabFact | None:
    """The value of a Change as the rules saw it: as typed (`input`, e.g. "150000 /µL"), so a
    threshold is decided at full precision; else `value` or the bound (`op`, `bound`), in the
    Change's unit; else read from `value_text` ("> 40000 ng/mL")."""
    unit = _unit_of(analyte, change.unit) or _canonical(analyte)
    typed = _parse_fact(analyte, change.input, unit)
    if typed is not None:
        return typed
    op, bound = change.op, change.bound
    if change.value is not None and op is None:
        return LabFact(analyte, ParsedNumber(Decimal(repr(float(change.value)))), unit, {})
    if op is not None and bound is not None:
        return LabFact(analyte, ParsedNumber(Decimal(repr(float(bound))), op), unit, {})
    return _parse_fact(analyte, change.value_text, unit)


def lab_series(result: TrendResult) -> dict[str, list[Obs]]:
    """Each lab with at least one usable value → its values in time order."""
    out: dict[str, list[Obs]] = {}
    known = criteria().analytes.analytes
    for analyte, changes in result.changes.items():
        if analyte not in known:
            continue
        obs = []
        for change in changes:
            fact = _fact(analyte, change)
            if fact is not None:
                obs.append(Obs(wall_time(change.time), change, fact))
        obs.sort(key=lambda o: o.time)
        if obs:
            out[analyte] = obs
    return out


def panel_order(present: Sequence[str], analytes: Sequence[str] | None = None) -> list[str]:
    """The consensus labs first (platelets, ferritin, AST, then WBC, neutrophils, fibrinogen, ESR),
    then the others in the single-panel figure's order; or the order asked for."""
    known = criteria().analytes.analytes
    if analytes is not None:
        unknown = [a for a in analytes if a not in known]
        if unknown:
            raise ValueError(f"unknown analyte key(s): {', '.join(unknown)}")
        return [a for a in dict.fromkeys(analytes) if a in present]
    ranked = [*TREND_ANALYTES, *used_analytes(), *known]
    return [a for a in dict.fromkeys(ranked) if a in present]


def _canonical(analyte: str) -> UnitSpec:
    spec = criteria().analytes.analytes[analyte]
    return spec.unit(spec.default_unit)


def _display_unit(analyte: str, unit_system: str | None) -> UnitSpec:
    """The lab's canonical unit, or its unit in the "us" / "si" system."""
    if unit_system is None:
        return _canonical(analyte)
    systems = criteria().analytes.unit_systems
    if unit_system not in systems:
        raise ValueError(f"unit_system must be one of {', '.join(systems)} or None, not {unit_system!r}")
    chosen = systems[unit_system].get(analyte)  # type: ignore[index]  # checked just above
    return unit_spec(analyte, chosen) if chosen else _canonical(analyte)


def _context_facts(result: TrendResult) -> Facts:
    """What the threshold filter needs from the latest panel: the 'febrile' answer (fever items
    read the temperature only without it). Age is not in a TrendResult: infant thresholds are
    not drawn (the rules still apply them; the status timeline shows their result)."""
    febrile = None
    if result.points:
        r = result.points[-1].assessment.criteria.get("mas2016")
        for item in r.items if r else []:
            value = (item.input or {}).get("value")
            if item.id == "fever" and isinstance(value, bool):
                febrile = value
    return Facts({}, {"febrile": febrile}, {})


# ----------------------------------------------------------------------------------- formatting


def _day(dt: datetime, year: bool = False) -> str:
    return f"{dt.day} {dt:%b}" + (f" {dt.year}" if year else "")


def stamp(dt: datetime) -> str:
    """'3 Mar 2026 08:00' (no time for a date-only entry at midnight)."""
    text = f"{dt.day} {dt:%b %Y}"
    return text + (f" {dt:%H:%M}" if (dt.hour, dt.minute) != (0, 0) else "")


def _short_when(dt: datetime, with_time: bool) -> str:
    return _day(dt) + (f" {dt:%H:%M}" if with_time else "")


def _needs_time(times: Sequence[datetime]) -> bool:
    """Times of day matter in labels when two values share a day."""
    days = [t.date() for t in times]
    return len(set(days)) < len(days)


def _value_text(fact: LabFact, shown: UnitSpec) -> str:
    """A value in the display unit: as entered when the unit is the same, else 3 significant digits."""
    prefix = bound_prefix(fact.parsed.op)
    if shown.unit == fact.unit.unit:
        return prefix + group_digits(format_number(fact.parsed.value))
    return prefix + display_number(fact.value_in(shown))


def _plain_value(analyte: str, o: Obs) -> str:
    """The value in the lab's canonical unit as a plain number for tables and CSV ("> 40000",
    "12000"): the Change's own number when it has one, else converted from the value as typed."""
    c, fact = o.change, o.fact
    prefix = bound_prefix(fact.parsed.op)
    number = c.value if fact.parsed.op is None else c.bound
    if number is not None:
        return prefix + format_number(number)
    value = fact.value_in(_canonical(analyte))
    return prefix + format_number(round(value, max(0, 3 - value.adjusted())) if value else value)


def _wrap(notes: list[str], width: int) -> list[str]:
    """Notes under a figure, wrapped to its width (13 px text)."""
    chars = int((width - 10) / (0.6 * (TICK_FONT - 1)))
    return [line for note in notes for line in textwrap.wrap(note, chars)]


def _signed(value: float, digits: int = 1) -> str:
    text = f"{value:+.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:+.0f}"
    return text.replace("-", "−")


def _amount(value: float) -> str:
    """A change as text: '+3100', '−0.4' (at most 3 significant digits after the point)."""
    if value == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return _signed(round(value, digits), digits)


def _percent(value: float | None) -> str:
    if value is None:
        return ""
    text = _signed(value, 0 if abs(value) >= 10 else 1)
    return ("0" if text.lstrip("+−") == "0" else text) + "%"


def _lab_label(analyte: str) -> str:
    return ROW_LABELS.get(analyte, criteria().analytes.analytes[analyte].label)


# ----------------------------------------------------------------------------------------- time


@dataclass(slots=True)
class TimeAxis:
    lo: datetime
    hi: datetime
    tickvals: list[datetime]
    ticktext: list[str]
    two_lines: bool

    def frac(self, t: datetime) -> float:
        span = (self.hi - self.lo).total_seconds()
        return (t - self.lo).total_seconds() / span if span else 0.5


_STEPS = [  # (step, kind): hours and days as timedeltas, months as a count
    (timedelta(hours=1), "h"),
    (timedelta(hours=2), "h"),
    (timedelta(hours=3), "h"),
    (timedelta(hours=6), "h"),
    (timedelta(hours=12), "h"),
    (timedelta(days=1), "d"),
    (timedelta(days=2), "d"),
    (timedelta(days=7), "d"),
    (timedelta(days=14), "d"),
    (1, "m"),
    (2, "m"),
    (3, "m"),
    (6, "m"),
    (12, "m"),
]


def _time_axis(times: Sequence[datetime], plot_px: float) -> TimeAxis:
    """A date axis with our own labels: at the values themselves when there are few and they are
    far enough apart, else at round times (hours, days, weeks, months); the year on the first."""
    first, last = min(times), max(times)
    span = last - first
    unique = sorted(set(times))
    max_ticks = max(2, int(plot_px // TIME_TICK_PX))
    if span == timedelta(0):
        lo, hi = first - timedelta(hours=12), last + timedelta(hours=12)
    else:
        # 5% each side, and never less than a crossing ring's radius (a phone's narrow plot)
        pad = max(span * 0.05, span * (EDGE_PX / max(plot_px - 2 * EDGE_PX, 1)))
        lo, hi = first - pad, last + pad
    seconds = (hi - lo).total_seconds()
    gaps = [(b - a).total_seconds() / seconds * plot_px for a, b in itertools.pairwise(unique)]
    with_time = _needs_time(unique)
    if len(unique) <= max_ticks and min(gaps, default=plot_px) >= TIME_TICK_PX:
        vals = list(unique)
        texts = []
        for i, t in enumerate(vals):
            head = _day(t, year=i == 0 or t.year != vals[i - 1].year)
            texts.append(head + (f"<br>{t:%H:%M}" if with_time else ""))
        return TimeAxis(lo, hi, vals, texts, with_time)
    step, kind = next(
        ((s, k) for s, k in _STEPS if _count(lo, hi, s, k) <= max_ticks),
        (max(1, math.ceil((hi.year - lo.year + 1) / max_ticks)) * 12, "m"),
    )
    vals = _tick_times(lo, hi, step, kind)
    texts = []
    for i, t in enumerate(vals):
        if kind == "h":
            new_day = i == 0 or t.date() != vals[i - 1].date()
            texts.append(f"{t:%H:%M}" + (f"<br>{_day(t, year=i == 0)}" if new_day else ""))
        elif kind == "m" and step >= 12:
            texts.append(str(t.year))
        elif kind == "m":
            texts.append(f"{t:%b}" + (f" {t.year}" if i == 0 or t.month == 1 else ""))
        else:
            texts.append(_day(t, year=i == 0 or t.year != vals[i - 1].year))
    return TimeAxis(lo, hi, vals, texts, kind == "h")


def _count(lo: datetime, hi: datetime, step, kind: str) -> float:
    if kind == "m":
        return ((hi.year - lo.year) * 12 + hi.month - lo.month) / step + 1
    return (hi - lo) / step + 1


def _tick_times(lo: datetime, hi: datetime, step, kind: str) -> list[datetime]:
    if kind == "m":
        t = datetime(lo.year, lo.month, 1)
        months = []
        while t <= hi:
            if t >= lo and (t.month - 1) % step == 0:
                months.append(t)
            t = datetime(t.year + (t.month == 12), t.month % 12 + 1, 1)
        return months
    if kind == "h":
        hours = int(step.total_seconds() // 3600)
        t = lo.replace(minute=0, second=0, microsecond=0)
        t = t.replace(hour=t.hour - t.hour % hours)
    else:
        t = datetime(lo.year, lo.month, lo.day)
        if t < lo:
            t += timedelta(days=1)
    out = []
    while t <= hi:
        if t >= lo:
            out.append(t)
        t += step
    return out


# ------------------------------------------------------------------------------------ crossings


def _changes_between(results: Sequence[str]) -> list[tuple[int, int, bool]]:
    """(last decided index, next decided index with the other result, whether it is now met);
    undecided values (a bound that cannot tell) between them are skipped."""
    out = []
    last = None
    for j, r in enumerate(results):
        if r == MISSING:
            continue
        if last is not None and results[last] != r:
            out.append((last, j, r == MET))
        last = j
    return out


@dataclass(slots=True)
class Crossing:
    """A threshold crossed between two measurements. When it was crossed was never measured: the
    ring marks the first *measured* value on the new side, and the interval between the two
    measurements is drawn along the threshold, labelled as such (no invented crossing time)."""

    when: datetime  # the measurement at which the new side was first seen (= after)
    y: float  # the threshold in the display unit
    label: str
    before: datetime
    after: datetime
    into: bool  # True: met from `after` on; False: no longer met
    value: float = 0.0  # the measured value at `after`, in the display unit (where the ring is drawn)
    alert: bool = False
    count: int = 1  # crossings too close to ring apart, drawn as one ring at the first

    def text(self, with_time: bool) -> str:
        a, b = _short_when(self.before, with_time), _short_when(self.after, with_time)
        times = f" {self.count} times" if self.count > 1 else ""
        if self.alert:
            side = "above" if self.into else "below"
            return f"crossed {self.label}{times} between {a} and {b} ({side} it from {b})"
        state = "met" if self.into else "no longer met"
        return f"crossed {self.label}{times} between {a} and {b} ({state} from {b})"


def _cluster(crossings: list[Crossing], taxis: TimeAxis, plot_px: float, ring_px: float) -> list[Crossing]:
    """Crossings of one line closer than a ring's width (a value hovering around a threshold)
    become one ring at the first, whose hover text counts them and gives the final state."""
    out: list[Crossing] = []
    by_line: dict[tuple[float, bool], list[Crossing]] = {}
    for c in crossings:
        by_line.setdefault((c.y, c.alert), []).append(c)
    for group in by_line.values():
        group.sort(key=lambda c: c.when)
        current: Crossing | None = None
        last_px = -math.inf
        for c in group:
            px = taxis.frac(c.when) * plot_px
            if current is not None and px - last_px < ring_px:
                labels = dict.fromkeys([*current.label.split(" · "), *c.label.split(" · ")])
                current.label = " · ".join(labels)
                current.after, current.into = c.after, c.into
                current.count += 1
            else:
                current = Crossing(c.when, c.y, c.label, c.before, c.after, c.into, c.value, c.alert)
                out.append(current)
            last_px = px
    # At one measured point, in the order a value moving that way passes the lines.
    return sorted(out, key=lambda c: (c.when, c.y if c.value >= c.y else -c.y))


def _crossing_traces(
    p: LabPanel, shown: list[Crossing], with_time: bool, xref: str, yref: str, ring_size: int, alert: bool
) -> list[go.Scatter]:
    """A ring (alert: a diamond) on each first measured value past a threshold, one per measured
    point whatever the number of lines crossed there, and the interval between the two
    measurements along each threshold crossed (where the crossing happened is not known)."""
    colour = ALERT_COLOUR if alert else RING_COLOUR
    kind = "alert_crossings" if alert else "crossings"
    texts = [c.text(with_time) for c in shown]
    at: dict[tuple[datetime, float], list[str]] = {}
    for c, text in zip(shown, texts, strict=True):
        at.setdefault((c.when, c.value), []).append(text)
    xs: list = []
    ys: list = []
    for c in shown:
        xs += [c.before, c.after, None]
        ys += [c.y, c.y, None]
    interval_words = "your alert level" if alert else "a threshold"
    symbol = (
        {"symbol": "diamond-open", "size": ring_size - 3} if alert else {"symbol": "circle-open", "size": ring_size}
    )
    return [
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": ALERT_COLOUR if alert else "rgba(0,0,0,0.30)", "width": 7},
            opacity=0.45 if alert else 1,
            xaxis=xref,
            yaxis=yref,
            showlegend=False,
            hoverinfo="skip",
            name=f"crossed {interval_words} between these measurements",
            meta={
                "analyte": p.analyte,
                "kind": f"{kind}_intervals",
                "intervals": [[c.before.isoformat(), c.after.isoformat(), c.y] for c in shown],
            },
        ),
        go.Scatter(
            x=[when for when, _v in at],
            y=[value for _w, value in at],
            mode="markers",
            marker={**symbol, "line": {"width": 3 if ring_size >= 20 else 2.5}, "color": colour},
            xaxis=xref,
            yaxis=yref,
            showlegend=False,
            name="crossed your alert level" if alert else "crossed",
            hovertext=["<br>".join(group) for group in at.values()],
            hovertemplate="%{hovertext}<extra></extra>",
            meta={"analyte": p.analyte, "kind": kind, "crossings": texts},
        ),
    ]


def _alert_side(fact: LabFact, shown: UnitSpec, level: float) -> str:
    value = float(fact.value_in(shown))
    op = fact.parsed.op
    if op is None:
        return MET if value > level else NOT_MET if value < level else MISSING
    if op in (">", ">=") and value >= level:
        return MET
    if op in ("<", "<=") and value <= level:
        return NOT_MET
    return MISSING


# ------------------------------------------------------------------------------ label placement


def place_labels(wanted: Sequence[float], heights: Sequence[float], lo: float, hi: float) -> list[float]:
    """Label centres (px from the panel's bottom) as near their lines as possible without overlap,
    kept within [lo, hi]. A label moved off its line gets a leader."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    pos = [0.0] * len(wanted)
    prev = None
    for i in order:  # bottom up: never below the label under it
        p = max(wanted[i], lo + heights[i] / 2)
        if prev is not None:
            p = max(p, pos[prev] + (heights[prev] + heights[i]) / 2 + 1)
        pos[i] = p
        prev = i
    nxt = None
    for i in reversed(order):  # top down: back under the ceiling
        p = min(pos[i], hi - heights[i] / 2)
        if nxt is not None:
            p = min(p, pos[nxt] - (heights[nxt] + heights[i]) / 2 - 1)
        pos[i] = p
        nxt = i
    return pos


# -------------------------------------------------------------------------------- small multiples


@dataclass(slots=True)
class Line:
    """One horizontal line of a panel: published threshold(s) or the user's alert level."""

    mark: Mark
    rules: list = field(default_factory=list)
    alert: bool = False


@dataclass(slots=True)
class LabPanel:
    analyte: str
    obs: list[Obs]
    shown: UnitSpec
    values: list[float]
    lines: list[Line]
    axis: Axis
    crossings: list[Crossing]
    height: int = PANEL_PX
    labels: list[list[str]] = field(default_factory=list)  # each line's label as drawn, one string per row of text
