"""The trend page of the PDF summary: the serial-lab charts, the status timeline and the lines that
say what changed and when each instrument was first met."""

from __future__ import annotations

import math

from fpdf import FPDF

from mas_screen.domain.series import TrendResult
from mas_screen.domain.units import format_number
from mas_screen.explain.phrases import typeset
from mas_screen.render.export import PRINT_FIGURE_WIDTH_PX, figure_png
from mas_screen.render.pdf.kit import (
    BULLET_INDENT,
    FONT,
    HEADING_H,
    INK,
    MUTED,
    NOTES_GUTTER,
    NOTES_PT,
    SMALL_PT,
    WRAP_SLACK,
    _bullets,
    _heading,
    _opaque,
    _para,
)
from mas_screen.render.pdf.words import short_label

# ----------------------------------------------------------------------------------- trend page

TREND_HEADING = "Serial labs: change over time"
TIMELINE_HEADING = "Instrument status at each panel"
TREND_FIGURE_GAP = 2.0


def trend_pngs(series: TrendResult) -> tuple[bytes | None, bytes | None]:
    """PNGs for the trend page: the consensus labs (platelets, ferritin, AST; else the first three
    labs entered) as small multiples, and the status timeline. None where kaleido is unavailable."""
    from mas_screen.render.figures.trends import trend_small_multiples as charts
    from mas_screen.render.figures.trends_kit import KEY_ANALYTES, lab_series, panel_order
    from mas_screen.render.figures.trends_status import status_timeline

    present = list(lab_series(series))
    keys = [a for a in KEY_ANALYTES if a in present] or panel_order(present)[:3]
    small = figure_png(charts(series, analytes=keys, width=PRINT_FIGURE_WIDTH_PX)) if keys else None
    return small, figure_png(status_timeline(series, width=PRINT_FIGURE_WIDTH_PX))


def _trend_lines(series: TrendResult) -> tuple[str, list[str], list[str]]:
    """The trend page's words: what the series covers, first-met times, each key lab's change."""
    from mas_screen.render.figures.trends_kit import KEY_ANALYTES, lab_series, stamp, wall_time
    from mas_screen.render.figures.trends_status import first_met_times

    times = [stamp(wall_time(p.time)) for p in series.points]
    span = f"{len(times)} dated panels, {times[0]} to {times[-1]}" if len(times) > 1 else f"1 dated panel, {times[0]}"
    intro = f"{span}."
    if not any("percent-change" in c for c in series.caveats):  # else the series' own caveat says it
        intro += (
            " The expert consensus on dynamics ranked the change in platelets, ferritin and AST as most "
            "important and set no percent-change or time-window cut-off (Ravelli 2016, RMD Open): changes "
            "are shown, not judged."
        )
    met = [
        f"{name}: " + (f"first met {stamp(when)}" if when else "not met in this series")
        for name, when in first_met_times(series).values()
    ]
    labs = lab_series(series)
    changes: list[str] = []
    for analyte in (a for a in KEY_ANALYTES if a in labs):
        first, last = labs[analyte][0].change, labs[analyte][-1].change
        if len(labs[analyte]) == 1:
            changes.append(f"{short_label(analyte)}: {first.value_text} (one value)")
            continue
        text = f"{short_label(analyte)}: {first.value_text} → {last.value_text}"
        pct = last.change_from_first_percent
        if pct is not None:
            text += f" ({'+' if pct > 0 else '−' if pct < 0 else ''}{format_number(round(abs(pct)))}% from first)"
        changes.append(text)
    return intro, met, changes


def _bullets_height(pdf: FPDF, items: list[str], size: float) -> float:
    """Height of `_bullets(items, size)` (estimated from string widths, erring on the tall side)."""
    if not items:
        return 0.0
    pdf.set_font(FONT, "", size)
    width = pdf.epw - BULLET_INDENT
    lines = sum(math.ceil(pdf.get_string_width(text) * WRAP_SLACK / width) for text in items)
    return 1.5 + lines * size * 0.48


def _trend_page(pdf: FPDF, series: TrendResult, pngs: tuple[bytes | None, bytes | None]) -> None:
    """A page of its own after the single-panel summary: the key labs over time, the instrument
    timeline, first-met times and each key lab's change, the series' caveats. The figures print at
    the text width (labels 8 pt or more); the timeline moves to the next page when it does not fit."""
    pdf.add_page()
    _heading(pdf, TREND_HEADING, space=0)
    intro, met, changes = _trend_lines(series)
    _para(pdf, intro, size=SMALL_PT, h=3.9)
    if changes:
        pdf.ln(1)
        _bullets(pdf, changes, size=SMALL_PT)
    images = [
        (_opaque(png), alt)
        for png, alt in zip(
            pngs,
            ("Key labs over time against the published thresholds", "Status of each instrument at each panel"),
            strict=True,
        )
        if png
    ]
    timeline_png = pngs[1] is not None
    notes = list(series.caveats) + [
        f"Row {w.row + 1}{f' ({w.time})' if w.time else ''}: {w.message}"
        for w in series.warnings
        if w.severity == "warning"  # not the notes that left nothing out
    ]
    notes = [typeset(n) for n in notes]
    natural = [pdf.epw * img.size[1] / img.size[0] for img, _alt in images]
    # Never scaled below the text width: laid out at PRINT_FIGURE_WIDTH_PX, labels print at 8 pt or
    # more; what does not fit flows to the next page.
    for (img, alt), h_mm in zip(images, natural, strict=True):
        h = min(h_mm, pdf.h - pdf.t_margin - pdf.b_margin - HEADING_H)
        w = pdf.epw * h / h_mm
        timeline = alt.startswith("Status")
        if pdf.get_y() + h + HEADING_H * timeline > pdf.h - pdf.b_margin:
            pdf.add_page()
        if timeline:
            _heading(pdf, TIMELINE_HEADING, space=1.0)
        pdf.image(img, x=pdf.l_margin + (pdf.epw - w) / 2, y=pdf.get_y(), w=w, h=h, alt_text=alt)
        pdf.set_y(pdf.get_y() + h + TREND_FIGURE_GAP)
    if not timeline_png:  # the figure says when each was first met; without it, the words do
        _heading(pdf, TIMELINE_HEADING, space=1.0)
        pdf.set_font(FONT, "", SMALL_PT)
        pdf.set_text_color(*INK)
        with pdf.text_columns(ncols=2, gutter=NOTES_GUTTER, balance=True, text_align="LEFT") as cols:
            for text in met:
                with cols.paragraph(line_height=1.15) as para:
                    para.write(text)
    if notes:
        pdf.ln(1.5)
        _bullets(pdf, notes, size=NOTES_PT[0], colour=MUTED)
