"""The PDF kit: fonts, colours, sizes and words of the printed summary, the FPDF document with its
footer, and its heading, paragraph and bullet helpers."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF, XPos, YPos

from mas_screen.domain.models import (
    Assessment,
)
from mas_screen.explain.phrases import STATUS_WORDS
from mas_screen.version import __version__

# ------------------------------------------------------------------------------------------- PDF

FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FONT = "DejaVu"
TITLE = "MAS Screen — screening summary"

INK = (17, 17, 17)
MUTED = (85, 85, 85)
RULE = (170, 170, 170)
# Okabe–Ito vermillion / blue, as tints for table cells (the status is also spelled out).
STATUS_FILL = {"met": (251, 224, 208), "not_met": (214, 232, 245), "indeterminate": (238, 238, 238)}
STATUS_WORD = STATUS_WORDS  # the app's words and marks: ● met, ○ not met, ◐ indeterminate
POPULATION_WORDS = {
    "validated": "",
    "outside": "Patient outside the derivation population",
    "unknown": "Fit to the derivation population unknown",
}

# Short labels for the printed tables (the forms' labels are written to be unambiguous on screen).
SHORT_LABELS = {
    "age_years": "Age",
    "age_at_onset_years": "Age at onset",
    "underlying_disease": "Underlying disease",
    "febrile": "Febrile",
    "hepatomegaly": "Hepatomegaly",
    "hepatomegaly_cm": "Liver edge below costal margin",
    "splenomegaly": "Splenomegaly",
    "splenomegaly_cm": "Spleen edge below costal margin",
    "cns_involvement": "CNS involvement",
    "hemorrhagic_manifestations": "Haemorrhagic manifestations",
    "active_arthritis": "Active arthritis",
    "hemophagocytosis_marrow": "Haemophagocytosis (marrow)",
    "hemophagocytosis_other_site": "Haemophagocytosis (other site)",
    "known_immunosuppression": "Known immunosuppression",
    "nk_activity_low": "Low NK-cell activity",
    "hlh_molecular_diagnosis": "HLH molecular diagnosis",
    "hematologic_malignancy": "Haematological malignancy",
    "biologic_therapy": "Biologic therapy",
    "platelets": "Platelets",
    "wbc": "White cells",
    "neutrophils": "Neutrophils",
    "scd25": "sCD25 (sIL-2R)",
    "temperature": "Max temperature",
}

# Point sizes on A4: nothing printed below 8 pt (caveats, references, footer, chart labels).
MIN_PT = 8.0
BODY_PT, SMALL_PT = 9.0, 8.0
NOTES_PT = (8.5, 8.0)  # caveats and references: the largest that fits the page
PT_MM = 25.4 / 72
NOTES_GUTTER = 5.0
NOTES_LINE = 1.12  # line height as a multiple of the font size
NOTES_PARA_GAP = 0.5
WRAP_SLACK = 1.12  # words wrap early: a line holds ~90% of its width on average
A4_MARGIN_MM = 13.0
BULLET_INDENT = 4.0
HEADING_H = 9.7  # _heading(): space, title line, rule
MIN_FIGURE_W_MM = 110.0  # a figure of unknown layout is never printed narrower
A4_TEXT_W_MM = 210.0 - 2 * A4_MARGIN_MM


class _SummaryPDF(FPDF):
    generated: str = ""
    provenance: str | None = None  # the provenance line printed under the page footer

    def footer(self) -> None:
        self.set_y(-13 if self.provenance else -10)
        self.set_font(FONT, "", MIN_PT)
        self.set_text_color(*MUTED)
        self.cell(
            0,
            4,
            f"MAS Screen {__version__} · {self.generated} · screening aid, not a diagnosis · "
            f"page {self.page_no()}/{{nb}}",
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if self.provenance:
            self.cell(0, 4, self.provenance, align="C")


def pdf_provenance(assessment: Assessment) -> str | None:
    """The footer's provenance line (the line above it gives the tool version and the time; the
    instruments table gives each instrument's version): criteria fingerprint and schema."""
    prov = assessment.provenance
    if prov is None:
        return None
    return f"Provenance: criteria SHA-256 {prov.criteria_sha256} · contract schema {prov.schema_version}"


def _new_pdf(compress: bool, generated_at: datetime) -> _SummaryPDF:
    # Fonts are parsed per document (~70 ms): a deep copy of a parsed template breaks fontTools'
    # subsetting at output, and fpdf2 has no supported way to share a parsed font.
    pdf = _SummaryPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FONT, "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
    pdf.set_compression(compress)
    pdf.set_margins(A4_MARGIN_MM, 12, A4_MARGIN_MM)
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_title(TITLE)
    pdf.set_subject("Screening summary for macrophage activation syndrome (not a diagnosis)")
    pdf.set_creator(f"MAS Screen {__version__}")
    pdf.set_creation_date(generated_at)
    pdf.generated = _when(generated_at)
    pdf.set_text_color(*INK)
    return pdf


def _heading(pdf: FPDF, text: str, *, space: float = 3.0) -> None:
    pdf.ln(space)
    pdf.set_font(FONT, "B", 10.5)
    pdf.set_text_color(*INK)
    pdf.cell(0, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y()
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(1.2)


def _para(pdf: FPDF, text: str, *, size: float = BODY_PT, style: str = "", colour=INK, h: float | None = None) -> None:
    pdf.set_font(FONT, style, size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, h or size * 0.48, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _bullets(pdf: FPDF, items: list[str], *, size: float = BODY_PT, bullet: str = "•", colour=INK) -> None:
    pdf.set_font(FONT, "", size)
    pdf.set_text_color(*colour)
    for text in items:
        pdf.set_x(pdf.l_margin)
        pdf.cell(BULLET_INDENT, size * 0.48, bullet)
        pdf.multi_cell(0, size * 0.48, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _when(generated_at: datetime) -> str:
    """'14 Mar 2025, 09:26 UTC' or '14 Mar 2025, 10:26 CET (UTC+01:00)': local time with its zone."""
    text = generated_at.strftime("%d %b %Y, %H:%M")
    offset = generated_at.utcoffset()
    if offset is None:
        return text
    name = generated_at.tzname() or ""
    total = int(offset.total_seconds()) // 60
    sign, total = ("+" if total >= 0 else "−"), abs(total)
    utc = "UTC" if total == 0 else f"UTC{sign}{total // 60:02d}:{total % 60:02d}"
    if not name or name.startswith(("UTC", "GMT+", "GMT-", "+", "-")):
        return f"{text} {utc}"
    return f"{text} {name}" + ("" if name == utc else f" ({utc})")


def _opaque(png: bytes) -> Any:
    """The PNG flattened on white: kaleido writes RGBA, and an alpha mask only bloats the PDF."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        img.load()
        if img.mode in ("RGBA", "LA", "P"):
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return img.convert("RGB")
