"""The printable PDF summary of a screen: header, summary, instruments, inputs, figure, notes.

Everything is returned as bytes and nothing is written to disk by this module (privacy: the
caller streams the bytes to the user). The PDF uses the bundled DejaVu fonts because the PDF core
fonts are Latin-1 only and cannot print µ, ≥, ≤ or ×10⁹.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fpdf import FPDF, FontFace, XPos, YPos

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.references import compact_citation
from mas_screen.domain.models import (
    VALUE_KEPT_CODES,
    Assessment,
    PatientInput,
    field_label,
)
from mas_screen.explain.phrases import typeset
from mas_screen.explain.summary import (
    headline_caveats,
    more_tests_lines,
    more_tests_title,
    phlh_alert,
    qualified_name,
    reading_order,
    screening_caveat,
    syndrome_label,
)
from mas_screen.render.export import _print_figure, figure_png, print_chunks
from mas_screen.render.pdf.kit import (
    BODY_PT,
    BULLET_INDENT,
    FONT,
    HEADING_H,
    INK,
    MIN_FIGURE_W_MM,
    MUTED,
    NOTES_GUTTER,
    NOTES_LINE,
    NOTES_PARA_GAP,
    NOTES_PT,
    POPULATION_WORDS,
    PT_MM,
    RULE,
    SMALL_PT,
    STATUS_FILL,
    STATUS_WORD,
    TITLE,
    WRAP_SLACK,
    _bullets,
    _heading,
    _new_pdf,
    _opaque,
    _para,
    _when,
    pdf_provenance,
)
from mas_screen.render.pdf.trend_page import _trend_page, trend_pngs
from mas_screen.render.pdf.words import _caveats, _context_rows, _lab_rows, result_text, rule_text, short_label
from mas_screen.version import __version__

if TYPE_CHECKING:
    from mas_screen.domain.series import TrendResult

# -------------------------------------------------------------------------------------- sections


def _details(pdf: FPDF, details: PatientDetails | None) -> None:
    """The filing block: patient name, ID, date of birth, sample time, clinician. Blank fields
    print as lines to write on; what was entered on the page prints as typed (never stored)."""
    details = details or PatientDetails()
    rows = (
        (
            ("Patient name", details.name, 0.5),
            ("Patient ID", details.patient_id, 0.25),
            ("Date of birth", details.date_of_birth, 0.25),
        ),
        (("Sample taken (date, time)", details.sample_time, 0.5), ("Clinician", details.clinician, 0.5)),
    )
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    for row in rows:
        y = pdf.get_y()
        x = pdf.l_margin
        for label, value, share in row:
            width = pdf.epw * share
            pdf.set_xy(x, y)
            pdf.set_font(FONT, "", SMALL_PT)
            pdf.set_text_color(*MUTED)
            label_w = pdf.get_string_width(label + ": ") + 0.5
            pdf.cell(label_w, 6, label + ":")
            pdf.set_font(FONT, "B" if value else "", BODY_PT)
            pdf.set_text_color(*INK)
            field_w = width - label_w - 3
            text = value.strip() if value else ""
            while text and pdf.get_string_width(text) > field_w - 1:
                text = text[:-2] + "…"
            pdf.cell(field_w, 6, text)
            pdf.line(x + label_w, y + 5.4, x + width - 3, y + 5.4)
            x += width
        pdf.set_xy(pdf.l_margin, y + 6.6)


def _header(pdf: FPDF, patient: PatientInput, generated_at: datetime, details: PatientDetails | None) -> None:
    pdf.set_font(FONT, "B", 15)
    pdf.set_text_color(*INK)
    pdf.cell(0, 8, TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", SMALL_PT)
    pdf.set_text_color(*MUTED)
    meta = f"Generated {_when(generated_at)}"
    if patient.id:
        meta += f" · record {patient.id}"
    meta += f" · MAS Screen {__version__}, criteria as published (see references)"
    pdf.cell(0, 4.5, meta, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.5)
    _details(pdf, details)
    pdf.ln(1.5)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.4)
    pdf.set_fill_color(255, 244, 214)
    pdf.set_font(FONT, "", BODY_PT)
    pdf.set_text_color(*INK)
    lead, _, rest = screening_caveat().partition(":")
    pdf.multi_cell(
        0,
        4.4,
        f"**{lead}:**{rest}",
        border=1,
        fill=True,
        markdown=True,
        align="L",
        padding=(1.8, 2.5),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_fill_color(255, 255, 255)  # tables below fill only where they say so


def _summary(pdf: FPDF, a: Assessment) -> None:
    s = a.summary
    pdf.ln(3)
    _para(pdf, s.headline, size=12.5, style="B", h=6)
    for text in headline_caveats(a):  # e.g. IL-6 blockade: never a reassuring headline without it
        pdf.ln(0.4)
        _para(pdf, typeset(text), size=BODY_PT, style="B", h=4.6)
    if s.other_population_line:  # secondary and grey, never in the headline's weight or colour
        pdf.ln(0.4)
        _para(pdf, s.other_population_line, size=BODY_PT, colour=MUTED, h=4.4)
    pdf.ln(0.8)
    _para(pdf, typeset(s.phlh_text), size=BODY_PT, style="B" if phlh_alert(a) else "", h=4.6)
    label = syndrome_label(a)
    for title, items in ((f"Supporting {label}", s.supporting), (f"Against {label}", s.against)):
        pdf.ln(1.2)
        _para(pdf, title, size=BODY_PT, style="B", h=4.6)
        if items:
            _bullets(pdf, [typeset(t) for t in items], bullet="+" if title.startswith("Supp") else "−")
        else:
            _para(pdf, "none", size=BODY_PT, colour=MUTED, h=4.6)
    if s.indicative:
        pdf.ln(1.2)
        _para(pdf, "Instruments built for other populations", size=BODY_PT, style="B", colour=MUTED, h=4.6)
        _bullets(pdf, [typeset(t) for t in s.indicative], bullet="~", colour=MUTED)
    if s.next_steps:
        pdf.ln(1.2)
        pdf.set_font(FONT, "", BODY_PT)
        pdf.set_text_color(*INK)
        pdf.multi_cell(
            0, 4.6, f"**Next steps.** {s.next_steps}", markdown=True, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    more = more_tests_lines(a)
    if more:
        pdf.ln(0.8)
        _para(pdf, more_tests_title(), size=SMALL_PT, style="B", colour=MUTED, h=3.9)
        _bullets(pdf, more, size=SMALL_PT, bullet="·", colour=MUTED)


def _instruments(pdf: FPDF, a: Assessment) -> None:
    _heading(pdf, "Instruments")
    pdf.set_font(FONT, "", SMALL_PT)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.15)
    head = FontFace(emphasis="B", fill_color=(230, 230, 230), size_pt=SMALL_PT)
    note = FontFace(emphasis="I", color=MUTED, size_pt=SMALL_PT)
    with pdf.table(
        col_widths=(40, 26, 70, 48),
        text_align=("LEFT", "CENTER", "LEFT", "LEFT"),
        headings_style=head,
        line_height=3.9,
        padding=(0.9, 1.4),
        borders_layout="HORIZONTAL_LINES",
        width=pdf.epw,
    ) as table:
        table.row(["Instrument", "Status", "Result", "Rule / cut-off"])
        for r in reading_order(a):  # the patient's own instruments first
            row = table.row()
            indicative = r.id in a.summary.other_population_met  # grey, as on the screen: never alarming
            name = r.short_name if r.version in r.short_name else f"{r.short_name} ({r.version})"
            qualifier = qualified_name(r.id).removeprefix(r.short_name)  # the MH score's "not confirmed"
            row.cell(name + qualifier, style=FontFace(emphasis="B"))
            row.cell(
                f"{STATUS_WORD[r.status]} · indicative only" if indicative else STATUS_WORD[r.status],
                style=FontFace(
                    emphasis="B" if r.status == "met" and not indicative else "",
                    fill_color=STATUS_FILL["indeterminate" if indicative else r.status],
                ),
            )
            row.cell(result_text(r))
            row.cell(rule_text(r))
            notes = []
            if r.missing:
                notes.append("Missing: " + "; ".join(short_label(k) for k in r.missing))
            if POPULATION_WORDS[r.population]:
                notes.append(POPULATION_WORDS[r.population])
            if notes:
                table.row().cell(" · ".join(notes), colspan=4, style=note)


def _warning_text(field: str, message: str) -> str:
    """The warning with its field's name, unless the message already starts with it."""
    data = criteria().analytes
    names = [field_label(field)]
    names += [data.analytes[field].label] if field in data.analytes else []
    names += [data.context_numbers[field].label] if field in data.context_numbers else []
    if any(message.startswith(name) for name in names):
        return message
    return f"{short_label(field)}: {message}"


def _inputs(pdf: FPDF, patient: PatientInput, a: Assessment) -> None:
    """Context in one column pair, labs in two (read down, then across): a full panel in 8 rows."""
    _heading(pdf, "Inputs as entered")
    warned = {w.field for w in a.input_warnings if w.code not in VALUE_KEPT_CODES}
    noted = {w.field for w in a.input_warnings if w.code in VALUE_KEPT_CODES}
    context = _context_rows(patient) or [("none entered", "")]
    labs = _lab_rows(patient, warned, noted) or [("none entered", "")]
    half = (len(labs) + 1) // 2
    lab_cols = (labs[:half], labs[half:])
    pdf.set_font(FONT, "", SMALL_PT)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.15)
    head = FontFace(emphasis="B", fill_color=(230, 230, 230), size_pt=SMALL_PT)
    with pdf.table(
        col_widths=(36, 27, 27, 33, 27, 34),
        text_align="LEFT",
        headings_style=head,
        line_height=3.7,
        padding=(0.6, 1.2),
        borders_layout="HORIZONTAL_LINES",
        width=pdf.epw,
    ) as table:
        heading = table.row()
        heading.cell("Clinical context", colspan=2)
        heading.cell("Laboratory values (value and unit as typed)", colspan=4)
        for i in range(max(len(context), half)):
            row = table.row()
            cells = [context[i] if i < len(context) else ("", "")]
            cells += [col[i] if i < len(col) else ("", "") for col in lab_cols]
            for label, value in cells:
                row.cell(label, style=FontFace(color=MUTED))
                row.cell(value)
    if a.input_warnings:
        pdf.ln(1.5)
        title = (
            "Input warnings (these values were left out of every instrument)"
            if not noted
            else "Input warnings (values marked 'left out' were not used; the others were used as read: please check)"
        )
        _para(pdf, title, size=SMALL_PT, style="B", h=4)
        _bullets(pdf, [_warning_text(w.field, w.message) for w in a.input_warnings], size=SMALL_PT, bullet="⚠")


def _notes_height(pdf: FPDF, caveats: list[str], references: list[Reference], size: float) -> float:
    """Height of the two-column caveats and references block, estimated from string widths
    (a dry-run line break costs as much as the rendering itself), erring on the tall side."""
    pdf.set_font(FONT, "", size)
    width = (pdf.epw - NOTES_GUTTER) / 2 - BULLET_INDENT
    line = size * PT_MM * NOTES_LINE
    texts = caveats + [_reference_text(r) for r in references]
    lines = sum(math.ceil(pdf.get_string_width(text) * WRAP_SLACK / width) for text in texts)
    total = lines * line + len(texts) * NOTES_PARA_GAP
    return HEADING_H + total / 2 + 5 * line  # two sub-headings, column-balance slack


def _notes(pdf: FPDF, caveats: list[str], references: list[Reference]) -> None:
    """Caveats and references in small print, two balanced columns (they are long: ~25 caveats).

    The largest of NOTES_PT that fits the room left on the page, else the largest that ends on
    the next page (the notes flow over the break either way).
    """
    room = pdf.h - pdf.b_margin - pdf.get_y()
    if room < HEADING_H + 20:  # a heading and a few lines at the foot of a page: start afresh
        pdf.add_page()
        room = pdf.h - pdf.b_margin - pdf.get_y()
    heights = {pt: _notes_height(pdf, caveats, references, pt) for pt in NOTES_PT}
    page = pdf.h - pdf.t_margin - pdf.b_margin
    size = next(
        (pt for pt in NOTES_PT if heights[pt] <= room),  # fits here
        next((pt for pt in NOTES_PT if heights[pt] <= room + page), NOTES_PT[-1]),  # ends on the next page
    )
    _heading(pdf, "Caveats and references")
    pdf.set_text_color(*INK)
    with pdf.text_columns(ncols=2, gutter=NOTES_GUTTER, balance=True, text_align="LEFT") as cols:
        entries: tuple[tuple[str, list[Reference], str], ...] = (
            ("Caveats", [(c, "", None) for c in caveats], "•"),
            ("References", references, "–"),
        )
        for title, items, bullet in entries:
            pdf.set_font(FONT, "B", size + 0.4)
            with cols.paragraph(line_height=NOTES_LINE, top_margin=0 if title == "Caveats" else 1.5) as para:
                para.write(title)
            pdf.set_font(FONT, "", size)
            for text, link_text, url in items:
                with cols.paragraph(
                    line_height=NOTES_LINE,
                    indent=BULLET_INDENT,
                    bullet_string=bullet,
                    bottom_margin=NOTES_PARA_GAP,
                ) as para:
                    para.write(text)
                    if link_text:
                        para.write(" ")
                        para.write(link_text, link=url)


def _lab_figure(pdf: FPDF, patient: PatientInput, assessment: Assessment) -> None:
    """The lab figure in print layout (`print_chunks`): the rows that fit the rest of this page
    here, the others on the next page(s), always at the text width so labels print at 8 pt or
    more. Rendered with kaleido; without it the PDF has no figure (the app shows it)."""
    room = pdf.h - pdf.b_margin - pdf.get_y() - HEADING_H - 2.0
    heading = True
    for rows in print_chunks(patient, assessment, room):
        if not rows:
            pdf.add_page()
            continue
        png = figure_png(_print_figure(patient, assessment, rows))
        if png is None:
            return
        image = _opaque(png)
        h = pdf.epw * image.size[1] / image.size[0]
        if pdf.get_y() + h + (HEADING_H if heading else 0) > pdf.h - pdf.b_margin + 0.5:
            pdf.add_page()
        if heading:
            _heading(pdf, "Labs against the published thresholds", space=2.0)
            heading = False
        pdf.image(image, x=pdf.l_margin, y=pdf.get_y(), w=pdf.epw, h=h, alt_text=FIGURE_ALT)
        pdf.set_y(pdf.get_y() + h + 1)


FIGURE_ALT = "Each lab against the published thresholds"


def _figure(pdf: FPDF, png: bytes, after_h: float) -> None:
    """The figure at the full text width when the page allows, else as large as keeps the PDF at
    two pages (room left on this page, or the next page shared with what follows); below a
    legible width it gets a page of its own even if that makes a third page."""
    image = _opaque(png)
    px_w, px_h = image.size
    ratio = px_h / px_w
    natural = pdf.epw * ratio
    page_h = pdf.h - pdf.t_margin - pdf.b_margin - HEADING_H
    room_here = pdf.h - pdf.b_margin - pdf.get_y() - HEADING_H
    if natural + after_h <= room_here:
        where, h = "here", natural
    elif pdf.page_no() >= 2:
        where, h = "here", min(natural, room_here - after_h)
    else:
        where, h = "next", min(natural, page_h - after_h)
    if h / ratio < MIN_FIGURE_W_MM:  # cannot share a page legibly: give it one
        h = min(natural, page_h)
        where = "here" if room_here >= h else "next"
    if where == "next":
        pdf.add_page()
    _heading(pdf, "Labs against the published thresholds", space=2.0)
    w = h / ratio
    x = pdf.l_margin + (pdf.epw - w) / 2
    pdf.image(image, x=x, y=pdf.get_y(), w=w, h=h, alt_text=FIGURE_ALT)
    pdf.set_y(pdf.get_y() + h + 1)


Reference = tuple[str, str, str | None]  # (citation text, link text, link target)


def _references(a: Assessment) -> list[Reference]:
    """Compact citations (first author, journal, volume, pages) with the DOI as a short link, or
    the host of the record's page where no DOI is known: never a long raw URL."""
    out: list[Reference] = []
    for key, ref in a.references.items():
        text = compact_citation(key)
        if ref.doi:
            text = text.removesuffix(f" doi:{ref.doi}").rstrip()
            out.append((text, f"doi:{ref.doi}", f"https://doi.org/{ref.doi}"))
        elif ref.url:
            host = urlsplit(ref.url).netloc.removeprefix("www.")
            out.append((text, f"(record: {host})", ref.url))
        else:
            out.append((text, "", None))
    return out


def _reference_text(ref: Reference) -> str:
    return f"{ref[0]} {ref[1]}".strip()


@dataclass(frozen=True)
class PatientDetails:
    """What files the printed summary in a patient's notes: typed on the page for this PDF only,
    never stored, logged or put in the JSON. Empty fields print as lines to write on."""

    name: str = ""
    patient_id: str = ""
    date_of_birth: str = ""
    sample_time: str = ""
    clinician: str = ""


def pdf_summary(
    patient: PatientInput,
    assessment: Assessment,
    *,
    figure_png: bytes | None = None,
    lab_figure: bool = False,
    generated_at: datetime | None = None,
    compress: bool = True,
    series: TrendResult | None = None,
    details: PatientDetails | None = None,
) -> bytes:
    """A two- to four-page A4 summary of a screen, as PDF bytes.

    `lab_figure=True` prints the lab figure in its print layout (rendered here with kaleido, split
    over pages so its labels print at 8 pt or more); `figure_png` instead places a ready PNG.
    `details`: patient name, ID, date of birth, sample time and clinician for filing (blank lines
    when not given). `generated_at` should carry the reader's time zone (printed with it).

    `series` (serial panels, usually ending with this one) adds a page after the summary: the
    key labs over time against the thresholds and each instrument's status at each panel
    (rendered here with kaleido; words only if it is unavailable). Without it the PDF is exactly
    the one-panel summary. `compress=False` leaves the content streams readable (tests check the
    text). Nothing is written to disk.
    """
    generated_at = generated_at or datetime.now().astimezone()
    pdf = _new_pdf(compress, generated_at)
    pdf.provenance = pdf_provenance(assessment)
    pdf.add_page()
    _header(pdf, patient, generated_at, details)
    _summary(pdf, assessment)
    _instruments(pdf, assessment)
    _inputs(pdf, patient, assessment)
    caveats = [typeset(c) for c in _caveats(assessment, patient)]
    references = _references(assessment)
    if lab_figure:
        _lab_figure(pdf, patient, assessment)
    elif figure_png:
        _figure(pdf, figure_png, _notes_height(pdf, caveats, references, NOTES_PT[-1]))
    _notes(pdf, caveats, references)
    if series is not None and series.points:
        _trend_page(pdf, series, trend_pngs(series))
    return bytes(pdf.output())
