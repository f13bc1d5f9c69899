"""Exports of a screen: JSON, a static PNG of a plotly figure, and a printable PDF summary.

Everything is returned as bytes and nothing is written to disk by this module (privacy: the
caller streams the bytes to the user). The PDF uses the bundled DejaVu fonts because the PDF core
fonts are Latin-1 only and cannot print µ, ≥, ≤ or ×10⁹.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fpdf import FPDF, FontFace, XPos, YPos

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.references import compact_citation
from mas_screen.domain.models import (
    BIOLOGIC_LABELS,
    CONTEXT_LABELS,
    DISEASE_LABELS,
    NUMERIC_CONTEXT_FIELDS,
    VALUE_KEPT_CODES,
    Assessment,
    CriterionResult,
    PatientInput,
    field_label,
)
from mas_screen.domain.units import format_number, pretty_unit, unit_index, unit_key
from mas_screen.explain.score_display import STATUS_WORDS, minus, shown_score
from mas_screen.explain.summary import more_tests_lines, more_tests_title, qualified_name, screening_caveat
from mas_screen.kernel.inputs.parsing import echo
from mas_screen.version import __version__

if TYPE_CHECKING:
    from mas_screen.domain.series import TrendResult

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------ JSON


def assessment_json(assessment: Assessment, patient: PatientInput | None = None) -> bytes:
    """The contract JSON of an assessment (plus the input under "input"), UTF-8 and indented."""
    data: dict[str, Any] = assessment.model_dump(mode="json")
    if patient is not None:
        data["input"] = patient.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


# ------------------------------------------------------------------------------------------- PNG

# One kaleido browser per process: starting Chromium costs ~1.5–2.5 s, a render on a warm server
# ~0.2–0.5 s (the full-panel figure). MathJax off: kaleido would fetch it from a CDN, which stalls
# on a closed network.
START_TIMEOUT_S = 30.0  # browser start plus first image
RENDER_TIMEOUT_S = 20.0  # one image on a running server (kaleido's own limit is set below it)
KALEIDO_RENDER_TIMEOUT_S = 15.0

_png_lock = threading.Lock()
_png_state: dict[str, bool] = {"started": False, "failed": False, "atexit": False}


def _server_thread() -> threading.Thread | None:
    """kaleido's server thread (private attribute; None if kaleido changes its internals)."""
    import kaleido

    server = getattr(kaleido, "_global_server", None)
    return getattr(server, "_thread", None) if server is not None else None


def stop_png_server() -> None:
    """Stop the kaleido browser (registered atexit) and allow a fresh start on the next call."""
    with _png_lock:
        _stop_locked()
        _png_state["failed"] = False


def _stop_locked() -> None:
    if not _png_state["started"]:
        return
    _png_state["started"] = False
    thread = _server_thread()
    if thread is not None and thread.is_alive() and _png_state["failed"]:
        # A hung browser: stopping would join its thread forever, so leave the daemon thread
        # behind and mark kaleido's server closed so its own atexit hook does not wait on it.
        import kaleido

        server = getattr(kaleido, "_global_server", None)
        if server is not None:
            server._initialized = False
        return
    try:
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
    except Exception:  # pragma: no cover - best effort at shutdown
        log.debug("kaleido server did not stop cleanly", exc_info=True)


def _ensure_server() -> None:
    import kaleido

    server = getattr(kaleido, "_global_server", None)
    if _png_state["started"] and (server is None or server.is_running()):
        return  # (someone else may have stopped kaleido's server: then start it again)
    # Private by default: kaleido's Chromium (choreographer) has no --disable-background-networking,
    # and was seen making a DNS query from the server during the privacy e2e test. A proxy on a closed
    # loopback port leaves it no way off the machine (figures need nothing from the network).
    os.environ.setdefault("CHOREO_PROXY_SERVER", "127.0.0.1:9")
    kaleido.start_sync_server(mathjax=False, silence_warnings=True, timeout=KALEIDO_RENDER_TIMEOUT_S)
    _png_state["started"] = True
    if not _png_state["atexit"]:
        atexit.register(stop_png_server)
        _png_state["atexit"] = True


def _render_with_watchdog(fig_dict: dict, opts: dict, deadline_s: float) -> bytes | None:
    """Render in a helper thread so that a dead or hung browser costs a timeout, never a hang.

    kaleido's sync server blocks forever when its browser failed to start (the request waits on
    a queue nobody serves), so the caller waits on the helper with a deadline and watches the
    server thread.
    """
    import kaleido

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["png"] = kaleido.calc_fig_sync(fig_dict, opts=opts)
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc

    helper = threading.Thread(target=work, name="mas-screen-png", daemon=True)
    helper.start()
    end = time.monotonic() + deadline_s
    while helper.is_alive():
        helper.join(0.05)
        server = _server_thread()
        if helper.is_alive() and server is not None and not server.is_alive():
            log.warning("static image export unavailable: the kaleido browser did not start")
            _png_state["failed"] = True
            _png_state["started"] = False
            with contextlib.suppress(Exception):  # the server thread is dead: closing cannot block
                kaleido.stop_sync_server(silence_warnings=True)
            return None
        if time.monotonic() > end:
            log.warning("static image export timed out after %.0f s", deadline_s)
            _png_state["failed"] = True
            _stop_locked()
            return None
    if "error" in box:
        log.warning("static image export failed: %s", type(box["error"]).__name__)
        return None
    png = box.get("png")
    return png if isinstance(png, bytes | bytearray) else None


def figure_png(fig: Any, *, scale: float = 2) -> bytes | None:
    """PNG bytes of a plotly figure, or None when Chromium/kaleido is unavailable or too slow.

    Never raises: the PDF is still useful without its figure. After a failed start the process
    does not retry (a missing browser should cost one timeout, not one per click); call
    `stop_png_server()` to allow a retry.
    """
    with _png_lock:
        if _png_state["failed"]:
            return None
        try:
            fresh = not _png_state["started"]
            _ensure_server()
            fig_dict = fig.to_dict() if hasattr(fig, "to_dict") else dict(fig)
            layout = fig_dict.get("layout", {})
            opts = {
                "format": "png",
                "width": layout.get("width") or 1000,
                "height": layout.get("height") or 600,
                "scale": scale,
            }
            png = _render_with_watchdog(fig_dict, opts, START_TIMEOUT_S if fresh else RENDER_TIMEOUT_S)
            return bytes(png) if png is not None else None
        except Exception as exc:
            log.warning("static image export unavailable: %s", type(exc).__name__)
            _png_state["failed"] = True
            return None


# The printed figure is laid out at this width and placed at the A4 text width (184 mm), so one
# layout pixel prints at 0.224 mm = 0.64 pt: the figure's smallest font (13 px) prints at 8.3 pt.
# Long panels are split into chunks of rows, each a page at most; never shrunk below this scale.
PRINT_FIGURE_WIDTH_PX = 820
PRINT_PAGE_ROOM_MM = 297.0 - 12 - 14 - 12  # A4 height minus margins and the figure's heading


def print_scale_pt_per_px(width_px: float = PRINT_FIGURE_WIDTH_PX) -> float:
    """Printed points per layout pixel of a figure of `width_px` placed at the A4 text width."""
    return (210.0 - 2 * 13.0) / width_px / (25.4 / 72)


PRINT_MM_PER_PX = (210.0 - 2 * 13.0) / PRINT_FIGURE_WIDTH_PX


def _print_rows(patient: PatientInput) -> list[str]:
    from mas_screen.kernel.inputs.facts import normalise
    from mas_screen.render.figures.kit import used_analytes

    facts, _ = normalise(patient)
    return [a for a in used_analytes() if a in facts.labs]


def _print_figure(patient: PatientInput, assessment: Assessment, rows: list[str]) -> Any:
    from mas_screen.render.figures.labs import lab_threshold_figure

    return lab_threshold_figure(patient, assessment, width=PRINT_FIGURE_WIDTH_PX, only=rows)


def _print_height_mm(fig: Any) -> float:
    return (fig.layout.height or 0) * PRINT_MM_PER_PX


def print_chunks(patient: PatientInput, assessment: Assessment, first_room_mm: float) -> list[list[str]]:
    """The lab rows in print chunks: the first fills `first_room_mm` (the rest of the current
    page), each later one a page at most; a row that would not fit starts the next chunk."""
    chunks: list[list[str]] = []
    room = first_room_mm
    for row in _print_rows(patient):
        if chunks and _print_height_mm(_print_figure(patient, assessment, [*chunks[-1], row])) <= room:
            chunks[-1].append(row)
            continue
        if chunks or _print_height_mm(_print_figure(patient, assessment, [row])) > room:
            room = PRINT_PAGE_ROOM_MM  # this chunk starts a page
            if not chunks:
                chunks.append([])  # nothing fits here: the first chunk is empty
        chunks.append([row])
    return chunks


def print_figures(patient: PatientInput, assessment: Assessment) -> list[Any]:
    """The lab figure for print: rows in chunks that each fit a page at the legible print scale."""
    return [_print_figure(patient, assessment, c) for c in print_chunks(patient, assessment, PRINT_PAGE_ROOM_MM) if c]


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


# ---------------------------------------------------------------------------------- text pieces


def _minus(text: str) -> str:
    """Print typography: a true minus (−2.1), and ≥ ≤ for the ASCII >= <= some texts carry."""
    return minus(text.replace(">=", "≥").replace("<=", "≤"))


def result_text(r: CriterionResult) -> str:
    """Score / range / count of one instrument, as a short phrase."""
    if r.score is not None:
        text = ("ratio " if r.id == "ferritin_esr" else "score ") + str(shown_score(r))
    elif r.score_range is not None:
        text = f"score {format_number(r.score_range[0])}–{format_number(r.score_range[1])} (range: items missing)"
    elif r.count_met is not None:
        text = f"{r.count_met} met of {r.count_assessable} assessable"
    elif r.cutoff is not None:  # a score or ratio not computable (inputs missing or a bound)
        text = {
            "met": f"{_cut(r)} whatever the missing or bounded values",
            "not_met": f"below {format_number(r.cutoff)} whatever the missing or bounded values",
        }.get(r.status, "not computable yet")
    else:
        counted = [i for i in r.items if i.counted]
        met = sum(1 for i in counted if i.result == "met")
        text = f"{met} of {len(counted)} items met"
    if r.probability is not None:
        text += f"; probability {r.probability.label}"
    for extra in r.additional_cutoffs:
        text += f"; {extra.label}: {STATUS_WORD[extra.status]}"
    return _minus(text)


def _cut(r: CriterionResult) -> str:
    return r.cutoff_label or format_number(r.cutoff or 0)


def rule_text(r: CriterionResult) -> str:
    """The decision rule in a few words: the cut-off, or the count the instrument requires."""
    if r.cutoff_label:
        return _minus(r.cutoff_label)
    from mas_screen.kernel.instruments import instruments

    return instruments()[r.id].rule_text()


def short_label(key: str) -> str:
    """A lab or context field's name for the printed tables."""
    return SHORT_LABELS.get(key) or field_label(key).removesuffix(" (years)").removesuffix(" (cm)")


def _context_rows(patient: PatientInput) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    ctx = patient.context
    for name in CONTEXT_LABELS:
        value = getattr(ctx, name, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name == "underlying_disease":
            shown = DISEASE_LABELS.get(value, str(value))
        elif name == "biologic_therapy":
            shown = BIOLOGIC_LABELS.get(value, str(value))
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        elif name in NUMERIC_CONTEXT_FIELDS:
            unit = "years" if "age" in name else "cm"
            shown = f"{echo(value)} {unit}"  # as typed, bounded
        else:
            shown = str(value)
        rows.append((short_label(name), shown))
    return rows


def _typed_unit(analyte: str, unit: str | None) -> str:
    """The unit as typed, in its standard spelling when recognised (10*9/L → ×10⁹/L)."""
    spec = criteria().analytes.analytes[analyte]
    if unit in (None, ""):
        return f"{pretty_unit(spec.default_unit)} (default)"
    known = unit_index(analyte).accepted.get(unit_key(unit))
    return pretty_unit(known.unit) if known is not None else unit


def _lab_rows(patient: PatientInput, warned: set[str], noted: set[str] = frozenset()) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    analytes = criteria().analytes.analytes
    for key, m in patient.labs.items():
        raw = m.value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        value = str(raw) if isinstance(raw, bool) else echo(raw)  # as typed, bounded (a 1 MB paste is cut)
        text = f"{value} {_typed_unit(key, m.unit)}"
        if key in warned:
            text += "  ⚠ left out"
        elif key in noted:
            text += "  ⚠ check"
        rows.append((SHORT_LABELS.get(key, analytes[key].label), text))
    return rows


def relevant_ids(a: Assessment, patient: PatientInput) -> list[str]:
    """Instruments whose caveats the printed summary carries in full: those built for the
    patient's population, and those met or validated for a patient inside their derivation
    population. The rest are in the app and the JSON export; printing all ~30 caveats would push
    the summary past two pages."""
    own = a.summary.own_instruments
    return [iid for iid, r in a.criteria.items() if iid in own or r.population == "validated"]


def _caveats(a: Assessment, patient: PatientInput) -> list[str]:
    """Summary caveats and the relevant instruments', deduplicated (the screening line is boxed above)."""
    seen = {screening_caveat()}
    out: list[str] = []
    for text in a.summary.caveats:
        if text not in seen:
            seen.add(text)
            out.append(text)
    keep = relevant_ids(a, patient)
    for iid in keep:
        r = a.criteria[iid]
        for text in r.caveats:
            if text not in seen:
                seen.add(text)
                out.append(f"{r.short_name}: {text}")
    for iid, r in a.criteria.items():
        if iid not in keep and r.status == "met":
            out.append(
                f"{r.short_name}: met, but the patient is outside its derivation population "
                f"({r.population_description.rstrip('.')}): indicative only."
            )
    others = [r.short_name for iid, r in a.criteria.items() if iid not in keep]
    if others:
        out.append(f"Full caveats of {', '.join(others)}: see the app or the JSON export.")
    return out


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
    if s.other_population_line:  # secondary and grey, never in the headline's weight or colour
        pdf.ln(0.4)
        _para(pdf, s.other_population_line, size=BODY_PT, colour=MUTED, h=4.4)
    pdf.ln(0.8)
    _para(pdf, _minus(s.phlh_text), size=BODY_PT, style="B" if s.phlh_signal == "favours_phlh" else "", h=4.6)
    for title, items in (("Supporting MAS", s.supporting), ("Against MAS", s.against)):
        pdf.ln(1.2)
        _para(pdf, title, size=BODY_PT, style="B", h=4.6)
        if items:
            _bullets(pdf, [_minus(t) for t in items], bullet="+" if title.startswith("Supp") else "−")
        else:
            _para(pdf, "none", size=BODY_PT, colour=MUTED, h=4.6)
    if s.indicative:
        pdf.ln(1.2)
        _para(pdf, "Instruments built for other populations", size=BODY_PT, style="B", colour=MUTED, h=4.6)
        _bullets(pdf, [_minus(t) for t in s.indicative], bullet="~", colour=MUTED)
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
        for r in a.criteria.values():
            row = table.row()
            name = r.short_name if r.version in r.short_name else f"{r.short_name} ({r.version})"
            qualifier = qualified_name(r.id).removeprefix(r.short_name)  # the MH score's "not confirmed"
            row.cell(name + qualifier, style=FontFace(emphasis="B"))
            row.cell(
                STATUS_WORD[r.status],
                style=FontFace(emphasis="B" if r.status == "met" else "", fill_color=STATUS_FILL[r.status]),
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


# ----------------------------------------------------------------------------------- trend page

TREND_HEADING = "Serial labs: change over time"
TIMELINE_HEADING = "Instrument status at each panel"
TREND_FIGURE_GAP = 2.0


def trend_pngs(series: TrendResult) -> tuple[bytes | None, bytes | None]:
    """PNGs for the trend page: the consensus labs (platelets, ferritin, AST; else the first three
    labs entered) as small multiples, and the status timeline. None where kaleido is unavailable."""
    from mas_screen.render.figures.trends import KEY_ANALYTES, lab_series, panel_order, status_timeline
    from mas_screen.render.figures.trends import trend_small_multiples as charts

    present = list(lab_series(series))
    keys = [a for a in KEY_ANALYTES if a in present] or panel_order(present)[:3]
    small = figure_png(charts(series, analytes=keys, width=PRINT_FIGURE_WIDTH_PX)) if keys else None
    return small, figure_png(status_timeline(series, width=PRINT_FIGURE_WIDTH_PX))


def _trend_lines(series: TrendResult) -> tuple[str, list[str], list[str]]:
    """The trend page's words: what the series covers, first-met times, each key lab's change."""
    from mas_screen.render.figures.trends import KEY_ANALYTES, first_met_times, lab_series, stamp, wall_time

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
    notes = [_minus(n) for n in notes]
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
    caveats = [_minus(c) for c in _caveats(assessment, patient)]
    references = _references(assessment)
    if lab_figure:
        _lab_figure(pdf, patient, assessment)
    elif figure_png:
        _figure(pdf, figure_png, _notes_height(pdf, caveats, references, NOTES_PT[-1]))
    _notes(pdf, caveats, references)
    if series is not None and series.points:
        _trend_page(pdf, series, trend_pngs(series))
    return bytes(pdf.output())
