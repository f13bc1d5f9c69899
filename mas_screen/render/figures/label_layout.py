"""Threshold-label layout for the lab charts: where each label goes so that none collides.

Pure geometry in pixels (no plotly, no Streamlit), so it can be tested by computing label boxes.
A threshold line rises from the axis to its own label (a "flag"). The layout keeps two promises
at the width it is given:

1. labels never overlap (boxes on the same level are apart by at least `GAP_PX`);
2. no label covers a line that rises past it (a solid line drawn through text reads as broken,
   and text with a line through it reads as a different number: "OHI > 1000|Score > 6000").

A label too wide for the plot is wrapped (at " · " between merged thresholds, then at spaces)
and takes several levels. Widths are estimated from per-glyph advance widths of Verdana and
DejaVu Sans (the fonts the charts name), rounded up, so the estimate errs on the wide side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GAP_PX = 6.0  # clear space between two labels on one level
PAD_PX = 8.0  # the annotation's offset from its line and plotly's padding around the text
LINE_CLEAR_PX = 1.0  # a line must be this far inside a label's box to count as spanned (as `collisions`)

# Advance widths in em, the larger of Verdana and DejaVu Sans for each glyph (rounded up).
_EM = {
    **dict.fromkeys("0123456789", 0.64),
    **dict.fromkeys(" ", 0.36),
    **dict.fromkeys(".,:;·'’|!", 0.4),
    **dict.fromkeys("()[]{}-/", 0.47),
    **dict.fromkeys("≥≤<>=+−×%", 0.84),
    **dict.fromkeys("il", 0.29),
    **dict.fromkeys("jf", 0.36),
    **dict.fromkeys("tr", 0.44),
    "m": 0.98,
    "w": 0.83,
    "I": 0.42,
    "M": 0.87,
    "W": 1.0,
}
_LOWER_EM = 0.63
_UPPER_EM = 0.78
_OTHER_EM = 0.84  # symbols, µ, superscripts: wide, to be safe


def text_px(text: str, font_px: float) -> float:
    """Width of one line of `text` at `font_px`, erring wide (markup such as <b> is not counted)."""
    total = 0.0
    for ch in text:
        if ch in _EM:
            total += _EM[ch]
        elif ch.islower():
            total += _LOWER_EM
        elif ch.isupper():
            total += _UPPER_EM
        else:
            total += _OTHER_EM
    return total * font_px


def wrap_px(text: str, font_px: float, width_px: float) -> list[str]:
    """Lines of at most `width_px`: merged labels ("A · B") are packed whole while they fit, a
    single label too wide is broken at spaces; a word wider than the width stays whole."""
    lines: list[str] = []
    for part in text.split(" · "):
        joined = f"{lines[-1]} · {part}" if lines else part
        if lines and text_px(joined, font_px) <= width_px:
            lines[-1] = joined
            continue
        if text_px(part, font_px) <= width_px:
            lines.append(part)
            continue
        current = ""
        for word in part.split(" "):
            trial = f"{current} {word}" if current else word
            if current and text_px(trial, font_px) > width_px:
                lines.append(current)
                current = word
            else:
                current = trial
        lines.append(current)
    return lines


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """One label to place: the x of its line in plot pixels (None: a note without a line)."""

    text: str
    x: float | None


@dataclass(frozen=True, slots=True)
class LabelBox:
    """A placed label: its text lines, its horizontal extent and the levels it occupies.

    Levels count up from 1 (level 0 is the lane of the patient's value). A label with n lines
    occupies levels `level` … `level + n - 1`; its line (if any) rises to just under `level`.
    `anchor` is how the text hangs from `x0`/`x1`: "left" (starts at its line), "right" (ends at
    its line) or "free" (a note, or a label shifted to stay inside the plot)."""

    text: str
    lines: tuple[str, ...]
    x: float | None
    x0: float
    x1: float
    level: int
    anchor: str

    @property
    def top(self) -> int:
        return self.level + len(self.lines) - 1


@dataclass(frozen=True, slots=True)
class _Option:
    lines: tuple[str, ...]
    x0: float
    x1: float
    anchor: str


def _options(text: str, x: float, plot_px: float, font_px: float) -> list[_Option]:
    """Ways to hang a label on its line: one, two or three lines of text; to the right of the line,
    to its left, or (wider than either side) shifted to fit while still spanning the line."""
    found: list[_Option] = []
    for parts in (1, 2, 3):
        lines = tuple(wrap_px(text, font_px, max(plot_px / parts, font_px * 4) - PAD_PX))
        if found and lines == found[-1].lines:
            continue
        width = max(text_px(line, font_px) for line in lines) + PAD_PX
        if x + width <= plot_px:
            found.append(_Option(lines, x, x + width, "left"))
        if x - width >= 0:
            found.append(_Option(lines, x - width, x, "right"))
        if x + width > plot_px and x - width < 0:
            x0 = max(0.0, min(x - width / 2, plot_px - width))
            found.append(_Option(lines, x0, x0 + width, "free"))
    return found


def layout_labels(specs: Sequence[LabelSpec], plot_px: float, font_px: float) -> list[LabelBox]:
    """Place every label (same order as `specs`) so that the module's two promises hold.

    1. Each label takes the way of hanging on its line (right of it, left of it, or shifted; on
       one to three lines) that spans the fewest other lines, then the fewest lines of text,
       preferring the right side. A label that spans another's line must sit above that label;
       where two labels would each span the other's line, choices are revised one label at a
       time (fewest such knots first) until nothing changes.
    2. Levels follow those "above" relations (a label's level is one more than the highest label
       under it), lifted further only to avoid overlapping a label on the same level, which keeps
       every relation. Only a knot of labels that cannot avoid spanning each other (more text
       around one point than the plot is wide) can still leave a covered line.
    Notes without a line go on top, one per level of text.
    """
    usable = max(plot_px, 1.0)
    lined = [i for i, s in enumerate(specs) if s.x is not None]
    xs = {i: float(specs[i].x or 0.0) for i in lined}

    def spans(option: _Option, i: int) -> list[int]:
        return [j for j in lined if j != i and option.x0 + LINE_CLEAR_PX < xs[j] < option.x1 - LINE_CLEAR_PX]

    def cost(option: _Option, i: int) -> tuple[int, int, int]:
        return (len(spans(option, i)), len(option.lines), ("left", "right", "free").index(option.anchor))

    options = {i: sorted(_options(specs[i].text, xs[i], usable, font_px), key=lambda o, i=i: cost(o, i)) for i in lined}
    chosen = {i: options[i][0] for i in lined}

    def knots(option: _Option, i: int) -> int:
        return sum(1 for j in spans(option, i) if i in spans(chosen[j], j))

    for _round in range(3 * len(lined)):  # untie mutual spans, one label at a time, until stable
        changed = False
        for i in lined:
            best = min(options[i], key=lambda o, i=i: (knots(o, i), *cost(o, i)))
            if best != chosen[i]:
                chosen[i], changed = best, True
        if not changed:
            break
    under = {i: set(spans(chosen[i], i)) for i in lined}
    boxes: dict[int, LabelBox] = {}

    def free(level: int, height: int, x0: float, x1: float) -> bool:
        return not any(
            b.level <= level + height - 1 and level <= b.top and x0 < b.x1 + GAP_PX and b.x0 < x1 + GAP_PX
            for b in boxes.values()
        )

    pending = sorted(lined, key=lambda i: -xs[i])
    while pending:
        ready = [i for i in pending if under[i] <= boxes.keys()]
        # A knot left: take the label with the fewest labels still to place under it.
        i = ready[0] if ready else min(pending, key=lambda k: len(under[k] - boxes.keys()))
        pending.remove(i)
        option = chosen[i]
        height = len(option.lines)
        level = 1 + max((boxes[j].top for j in under[i] if j in boxes), default=0)
        while not free(level, height, option.x0, option.x1):
            level += 1
        boxes[i] = LabelBox(specs[i].text, option.lines, xs[i], option.x0, option.x1, level, option.anchor)
    top = max((b.top for b in boxes.values()), default=0)
    for i, spec in enumerate(specs):
        if spec.x is None:
            lines = wrap_px(spec.text, font_px, usable - PAD_PX)
            width = max(text_px(line, font_px) for line in lines) + PAD_PX
            boxes[i] = LabelBox(spec.text, tuple(lines), None, 0.0, min(width, usable), top + 1, "free")
            top += len(lines)
    return [boxes[i] for i in range(len(specs))]


def collisions(boxes: Sequence[LabelBox]) -> list[tuple[str, str]]:
    """Pairs that break a promise: (label, label) overlapping on a level, or (label, line's label)
    where the label covers a line that rises past it. Empty for a good layout (used by tests)."""
    found: list[tuple[str, str]] = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a.level <= b.top and b.level <= a.top and a.x0 < b.x1 and b.x0 < a.x1:
                found.append((a.text, b.text))
        for b in boxes:
            if b is a or b.x is None:
                continue
            if a.x0 + 1 < b.x < a.x1 - 1 and a.level < b.level:
                found.append((a.text, b.text))
    return found
