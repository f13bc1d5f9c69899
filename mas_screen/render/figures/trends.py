"""Serial labs as pictures: each lab over time against every published threshold, the status of
each instrument at each time, and the table of changes.

Pure functions (no Streamlit, no I/O) on a `trends.TrendResult`, in the style of `figures`
(Okabe–Ito colours, fonts ≥ 14 px, labelled lines, our own number format). Whether a value meets a
threshold is decided as the rules decide it (value converted to the published unit, censored
values as intervals); thresholds are converted for display only.

The expert consensus on dynamics (Ravelli 2016, RMD Open) ranked the change in platelets, ferritin
and AST as what matters most but set no percent-change cut-off: nothing here judges a change. An
alert level is the user's own and is drawn and labelled as such, never as a published threshold.
"""

from __future__ import annotations

import itertools
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import pandas as pd
import plotly.graph_objects as go

from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.criteria.schema import UnitSpec
from mas_screen.domain.models import CriterionResult
from mas_screen.domain.series import TREND_ANALYTES, Change, TrendResult
from mas_screen.domain.units import ParsedNumber, convert, format_number, pretty_unit, unit_index, unit_key
from mas_screen.explain.wording import MET_WORD as MET
from mas_screen.explain.wording import MISSING_WORD as MISSING
from mas_screen.explain.wording import NOT_MET_WORD as NOT_MET
from mas_screen.explain.wording import compare_words as compare
from mas_screen.kernel.inputs.facts import Facts, LabFact, unit_spec
from mas_screen.render.figures.kit import (
    BASE_FONT,
    CHAR_PX,
    FONT_FAMILY,
    LABEL_FONT,
    OKABE_ITO,
    ROW_LABELS,
    STYLE,
    TICK_FONT,
    WIDTH,
    Axis,
    Mark,
    _axis,
    _empty_figure,
    _merge,
    _ticks,
    display_number,
    drawn_rules,
    group_digits,
    threshold_mark,
    used_analytes,
    wants_log,
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
    prefix = {None: "", ">": "> ", ">=": "≥ ", "<": "< ", "<=": "≤ "}[fact.parsed.op]
    if shown.unit == fact.unit.unit:
        return prefix + group_digits(format_number(fact.parsed.value))
    return prefix + display_number(fact.value_in(shown))


def _plain_value(analyte: str, o: Obs) -> str:
    """The value in the lab's canonical unit as a plain number for tables and CSV ("> 40000",
    "12000"): the Change's own number when it has one, else converted from the value as typed."""
    c, fact = o.change, o.fact
    prefix = {None: "", ">": "> ", ">=": "≥ ", "<": "< ", "<=": "≤ "}[fact.parsed.op]
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
        pad = span * 0.05
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
    label_lines: list[int] = field(default_factory=list)


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
    label_lines = [len(line.mark.label.split(" · ")) for line in lines]
    height = max(panel_px, sum(label_lines) * LINE_PX + 2 * len(lines) + 8)
    return LabPanel(analyte, obs, shown, values, lines, axis, crossings, height, label_lines)


def _title(panel: LabPanel, with_time: bool) -> str:
    last = panel.obs[-1]
    unit = pretty_unit(panel.shown.unit)
    text = f"<b>{_lab_label(panel.analyte)}</b> <span style='color:#555'>({unit})</span>"
    latest = f"latest <b>{_value_text(last.fact, panel.shown)}</b> on {_short_when(last.time, with_time)}"
    pct = last.change.change_from_first_percent
    if len(panel.obs) > 1 and pct is not None:
        latest += f", {_percent(pct)} from first"
    return text + f"<span style='font-size:{TICK_FONT + 1}px;color:#333'>   {latest}</span>"


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
    right = int(min(max(label_px + LEADER_PX + 14, 40), width * 0.36))
    plot_px = width - LEFT_PX - right
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
    notes_px = 20 * len(_wrap(notes, width)) + 8

    plot_h = sum(TITLE_PX + p.height + tick_px for p in panels) + PANEL_GAP_PX * (len(panels) - 1)
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
        cursor -= TITLE_PX
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
            "showline": True,
            "linecolor": "#777",
            "ticks": "outside",
            "ticklen": 4,
            "tickcolor": "#777",
            "showgrid": True,
            "gridcolor": "#EBEBEB",
            "zeroline": False,
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
                "text": _title(p, with_time),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": top / plot_h,
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": 3,
                "showarrow": False,
                "align": "left",
                "font": {"size": BASE_FONT + 1, "color": "#111"},
            }
        )
        # Threshold lines across the panel, their labels in the lane on the right.
        wanted = [(p.axis.pos(line.mark.x) - p.axis.lo) / (p.axis.hi - p.axis.lo) * p.height for line in p.lines]
        heights = [n * LINE_PX for n in p.label_lines]
        placed = place_labels(wanted, heights, -6, p.height + 6)
        for line, want, at in zip(p.lines, wanted, placed, strict=True):
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
            text = "<br>".join(m.label.split(" · "))
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
    )
    annotations.append(
        {
            "text": "<br>".join(_wrap(notes, width)),
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 0,
            "xanchor": "left",
            "yanchor": "top",
            "yshift": -4,
            "align": "left",
            "showarrow": False,
            "font": {"size": TICK_FONT - 1, "color": "#555"},
        }
    )
    margin["t"] = _legend_px(legend, width)
    fig = go.Figure(data=[*traces, *legend])
    fig.update_layout(
        template="plotly_white",
        width=width,
        height=plot_h + margin["t"] + margin["b"],
        margin=margin,
        font={"family": FONT_FAMILY, "size": BASE_FONT, "color": "#222"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        showlegend=True,
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1,
            "yanchor": "bottom",
            "yref": "container",
            "font": {"size": BASE_FONT - 1},
        },
        hovermode="closest",
        annotations=annotations,
        **layout,
    )
    fig.update_layout(legend={"y": 1 - 6 / fig.layout.height, "yanchor": "top"})
    return fig


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


def _legend_px(entries: list[go.Scatter], width: int) -> int:
    """Top margin for a horizontal legend of these entries (rows packed as plotly packs them)."""
    rows, used = 1, 0.0
    for entry in entries:
        need = 50 + len(entry.name) * 0.6 * (BASE_FONT - 1)
        if used and used + need > width:
            rows, used = rows + 1, 0.0
        used += need
    return 30 + 23 * rows


def _legend(seen: set[str], rings: set[str], censored: bool, alert: bool) -> list[go.Scatter]:
    def entry(name: str, **kwargs) -> go.Scatter:
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


# -------------------------------------------------------------------------------- status timeline

STATUS_SYMBOL = {"met": "●", "not_met": "○", "indeterminate": "◐"}
STATUS_WORD = {"met": "met", "not_met": "not met", "indeterminate": "indeterminate"}  # the app's words
STATUS_Z = {"not_met": 0, "indeterminate": 1, "met": 2}
# Lightness differs too (dark / mid / light), so the strip reads in greyscale without the symbols.
STATUS_FILL = {"met": OKABE_ITO["vermillion"], "indeterminate": "#BDBDBD", "not_met": "#DCEAF6"}
STATUS_INK = {"met": "white", "indeterminate": "#111", "not_met": OKABE_ITO["blue"]}
ROW_PX = 40
CELL_MIN_PX = 18  # narrower cells show colour only; a run of equal cells gets one symbol


def _hover_result(r: CriterionResult) -> str:
    from mas_screen.render.pdf.words import result_text  # the printed summary's wording (score, count, range)

    return result_text(r)


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
        template="plotly_white",
        width=width,
        height=height,
        margin={"l": left, "r": right, "t": 70, "b": tick_px + 10},
        font={"family": FONT_FAMILY, "size": BASE_FONT, "color": "#222"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        showlegend=True,
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "bottom", "yref": "container"},
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


__all__ = [
    "ALERT_WORDS",
    "CONSENSUS_NOTE",
    "KEY_ANALYTES",
    "changes_table",
    "first_met_times",
    "lab_series",
    "panel_order",
    "stamp",
    "status_timeline",
    "trend_small_multiples",
    "wall_time",
]
