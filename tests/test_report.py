"""JSON export, static PNG export and the PDF summary (mas_screen.render.pdf.report)."""

from __future__ import annotations

import builtins
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from panels import FULL_PANEL as BASE_PANEL

from mas_screen import Assessment, PatientInput, __version__, assess
from mas_screen.render import export
from mas_screen.render.export import assessment_json, figure_png
from mas_screen.render.figures.labs import lab_threshold_figure
from mas_screen.render.pdf import kit as pdf_kit
from mas_screen.render.pdf import report
from mas_screen.render.pdf.report import pdf_summary
from mas_screen.render.pdf.words import relevant_ids

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium").exists() or bool(os.environ.get("BROWSER_PATH"))
WHEN = datetime(2025, 3, 14, 9, 26, tzinfo=UTC)

# The full panel with two units in alias spellings (µg/L, UCUM 10*9/L): the PDF shows them as typed.
FULL_PANEL = {
    **BASE_PANEL,
    "id": "bed 7",
    "context": {**BASE_PANEL["context"], "splenomegaly": False, "biologic_therapy": "none"},
    "labs": {
        **BASE_PANEL["labs"],
        "ferritin": {"value": ">40000", "unit": "µg/L"},
        "platelets": {"value": 110, "unit": "10*9/L"},
    },
}

SMALL_PANEL = {
    "context": {"febrile": True, "underlying_disease": "suspected_sjia"},
    "labs": {"ferritin": 2500, "platelets": {"value": 150, "unit": "10^9/L"}, "ast": 80, "fibrinogen": 300},
}


def patient_and_assessment(data: dict) -> tuple[PatientInput, Assessment]:
    patient = PatientInput.model_validate(data)
    return patient, assess(patient)


# ------------------------------------------------------------------------------- PDF inspection


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj\s*(.*?)\s*endobj", pdf, re.S)}


def _stream(body: bytes) -> bytes:
    """The object's stream, cut at its /Length (binary data may itself end in CR or LF)."""
    m = re.search(rb"stream\r?\n", body)
    length = re.search(rb"/Length (\d+)\b", body)
    if m is None or length is None:
        return b""
    raw = body[m.end() : m.end() + int(length.group(1))]
    return zlib.decompress(raw) if b"/FlateDecode" in body else raw


def _unescape(s: bytes) -> bytes:
    out, i = bytearray(), 0
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}
    while i < len(s):
        c = s[i : i + 1]
        if c == b"\\":
            nxt = s[i + 1 : i + 2]
            if nxt in simple:
                out += simple[nxt]
                i += 2
                continue
            octal = re.match(rb"[0-7]{1,3}", s[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
            i += 1
            continue
        out += c
        i += 1
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """Text of an fpdf2 PDF with embedded TrueType fonts: glyph codes mapped back through each
    font's ToUnicode CMap (a plain search for the text in the bytes cannot work)."""
    objects = _objects(pdf)
    cmaps: dict[bytes, dict[int, str]] = {}
    for name, num in re.findall(rb"/(F\d+) (\d+) 0 R", pdf):
        tounicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(num)])
        if tounicode:
            cmap = _stream(objects[int(tounicode.group(1))])
            cmaps[name] = {
                int(a, 16): bytes.fromhex(b.decode()).decode("utf-16-be")
                for a, b in re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>", cmap)
            }
    parts: list[str] = []
    token = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj|(ET)", re.S)
    for body in objects.values():
        content = _stream(body)
        if b" Tf" not in content:
            continue
        font: dict[int, str] = {}
        for m in token.finditer(content):
            if m.group(1):
                font = cmaps.get(m.group(1), {})
            elif m.group(3):
                parts.append("\n")
            else:
                raw = _unescape(m.group(2))
                parts.append(
                    "".join(font.get(int.from_bytes(raw[i : i + 2], "big"), "?") for i in range(0, len(raw), 2))
                )
    return re.sub(r"[ \t]+", " ", "".join(parts))


def font_sizes_px(fig) -> list[float]:
    """Every font size a plotly figure draws text with: layout, axes, annotations, traces' text and
    legend, and inline `font-size:Npx` spans. Elements without their own size use the layout's."""
    data = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else fig
    sizes: list[float] = []

    def walk(node, key: str = "") -> None:
        if isinstance(node, dict):
            if key in ("font", "tickfont", "textfont", "insidetextfont", "outsidetextfont") and "size" in node:
                value = node["size"]
                sizes.extend(value if isinstance(value, list | tuple) else [value])
            for k, v in node.items():
                if k != "marker":
                    walk(v, k)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v, key)
        elif isinstance(node, str):
            sizes.extend(float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", node))

    walk(data)
    return [float(s) for s in sizes if s is not None]


def min_font_px(fig) -> float:
    return min(font_sizes_px(fig))


def pdf_font_sizes(pdf: bytes) -> set[float]:
    """Every text size (pt) set in the page content streams of an uncompressed PDF."""
    sizes: set[float] = set()
    for body in _objects(pdf).values():
        content = _stream(body)
        sizes |= {float(s) for s in re.findall(rb"/F\d+\s+([\d.]+)\s+Tf", content)}
    return sizes


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler's pdftotext reads it (what a reader copies out of the file)."""
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True)
    return flat(out.stdout.decode("utf-8"))


PDFTOTEXT = shutil.which("pdftotext") is not None


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


# -------------------------------------------------------------------------------------- JSON


def test_json_round_trip_validates():
    patient, a = patient_and_assessment(FULL_PANEL)
    data = assessment_json(a)
    assert isinstance(data, bytes)
    again = Assessment.model_validate(json.loads(data.decode("utf-8")))
    assert again.model_dump(mode="json") == a.model_dump(mode="json")
    with_input = json.loads(assessment_json(a, patient))
    assert with_input["input"] == patient.model_dump(mode="json")
    assert Assessment.model_validate(with_input).summary.headline == a.summary.headline
    assert "µg/L" in data.decode("utf-8") or "µ" in assessment_json(a, patient).decode("utf-8")  # not \\u00b5
    assert data.startswith(b"{\n  ")  # indented


# --------------------------------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def full_pdf() -> tuple[bytes, PatientInput, Assessment]:
    patient, a = patient_and_assessment(FULL_PANEL)
    return pdf_summary(patient, a, generated_at=WHEN, compress=False), patient, a


def test_pdf_is_a_short_pdf(full_pdf):
    pdf, _patient, _a = full_pdf
    assert pdf.startswith(b"%PDF")
    assert 1 <= page_count(pdf) <= 2
    patient, a = patient_and_assessment({"labs": {"ferritin": 900}})
    assert 1 <= page_count(pdf_summary(patient, a)) <= 2


def test_pdf_says_what_a_clinician_needs(full_pdf):
    pdf, _patient, a = full_pdf
    text = flat(pdf_text(pdf))
    assert "MAS Screen — screening summary" in text
    assert "Screening aid, not a diagnosis" in text and "not a diagnosis" in text
    assert flat(a.summary.headline) in text
    assert "14 Mar 2025, 09:26 UTC" in text and "bed 7" in text
    for r in a.criteria.values():
        assert r.short_name in text
    for line in a.summary.supporting:
        assert flat(line.replace("-2.1", "−2.1")) in text
    assert flat(f"Next steps. {a.summary.next_steps}") in text
    assert flat(a.summary.phlh_text) in text
    assert a.summary.other_population_line and flat(a.summary.other_population_line) in text


def test_pdf_lists_every_input_as_typed_with_proper_symbols(full_pdf):
    pdf, patient, _a = full_pdf
    text = flat(pdf_text(pdf))
    for key, m in patient.labs.items():
        value = m.value if isinstance(m.value, str) else f"{m.value:g}"
        assert value in text, key
    assert ">40000 µg/L" in text
    assert "110 ×10⁹/L" in text  # typed as 10*9/L, printed in its standard spelling
    assert "90 U/L (default)" in text  # ALT typed without a unit
    assert "Systemic JIA" in text and "7 years" in text
    assert "≥" in text and "−2.1" in text


def test_pdf_has_each_relevant_caveat_once_and_the_references(full_pdf):
    """Full caveats of the instruments that fit the patient; one line for each instrument met outside
    its population; a pointer to the app for the rest (all ~30 caveats would not fit two pages)."""
    pdf, patient, a = full_pdf
    text = flat(pdf_text(pdf))
    keep = relevant_ids(a, patient)
    caveats = {c for iid in keep for c in a.criteria[iid].caveats}
    for caveat in caveats:
        words = flat(caveat.replace(">=", "≥").replace("<=", "≤"))
        assert words[:60] in text, caveat
    for iid, r in a.criteria.items():
        if iid not in keep and r.status == "met":
            assert flat(f"{r.short_name}: met, but the patient is outside its derivation population") in text
    others = [r.short_name for iid, r in a.criteria.items() if iid not in keep]
    if others:
        assert "Full caveats of" in text
    assert text.count(flat(a.summary.caveats[0])[:50]) == 1  # the boxed screening line, once
    for ref in a.references.values():
        assert ref.doi is None or ref.doi in text.replace(" ", "")


def test_pdf_shows_input_warnings():
    data = {"labs": {"platelets": {"value": 110000, "unit": "10^9/L"}, "ferritin": "lots"}}
    patient, a = patient_and_assessment(data)
    text = flat(pdf_text(pdf_summary(patient, a, compress=False)))
    assert "Input warnings" in text
    assert "110000 ×10⁹/L ⚠ left out" in text and "lots ×" not in text
    for w in a.input_warnings:
        assert flat(w.message)[:40] in text


def test_pdf_without_anything_entered():
    patient, a = patient_and_assessment({})
    pdf = pdf_summary(patient, a, compress=False)
    assert page_count(pdf) <= 2
    assert "none entered" in pdf_text(pdf)


def test_pdf_is_compressed_by_default_and_deterministic():
    patient, a = patient_and_assessment(SMALL_PANEL)
    packed = pdf_summary(patient, a, generated_at=WHEN)
    plain = pdf_summary(patient, a, generated_at=WHEN, compress=False)
    assert len(packed) < len(plain)
    assert flat(pdf_text(packed)) == flat(pdf_text(plain))


def test_pdf_writes_nothing_to_disk(monkeypatch):
    real_open = builtins.open

    def guarded(file, mode="r", *args, **kwargs):
        assert not any(c in mode for c in "wax+"), f"write to {file}"
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    patient, a = patient_and_assessment(FULL_PANEL)
    fake_png = _tiny_png()
    assert pdf_summary(patient, a, figure_png=fake_png).startswith(b"%PDF")
    assessment_json(a, patient)


def _tiny_png(width: int = 400, height: int = 300) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 114, 178, 255)).save(buf, format="PNG")
    return buf.getvalue()


def test_pdf_fits_a_figure_to_the_page():
    patient, a = patient_and_assessment(SMALL_PANEL)
    wide = pdf_summary(patient, a, figure_png=_tiny_png(1000, 600), compress=False)
    assert 1 <= page_count(wide) <= 2
    assert b"/Subtype /Image" in wide
    # a very tall figure is scaled to the page height, never cut
    tall = pdf_summary(patient, a, figure_png=_tiny_png(1000, 4000), compress=False)
    widths = [float(w) for w in re.findall(rb"q ([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm /I", tall)[0]]
    assert widths[1] <= 841.89 - 2 * 36


# --------------------------------------------------------------------------------------- PNG


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt package chromium) for kaleido")
def test_figure_png_renders_and_reuses_one_server():
    patient, a = patient_and_assessment(FULL_PANEL)
    fig = lab_threshold_figure(patient, a)
    first = figure_png(fig, scale=1)
    assert first is not None and first.startswith(b"\x89PNG")
    second = figure_png(fig, scale=1)
    assert second is not None and second.startswith(b"\x89PNG")
    assert export._png_state["started"]


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium for the end-to-end PDF")
def test_full_panel_pdf_with_figure(tmp_path):
    patient, a = patient_and_assessment(FULL_PANEL)
    pdf = pdf_summary(patient, a, lab_figure=True, generated_at=WHEN, compress=False)
    # The 12-row figure prints in two chunks at a legible scale: summary, inputs and figure, notes.
    assert page_count(pdf) <= 4
    placed = [float(w) for w in re.findall(rb"q ([\d.]+) 0 0 [\d.]+ [\d.]+ [\d.]+ cm /I", pdf)]
    assert len(placed) == len(export.print_figures(patient, a))
    assert all(w == pytest.approx(pdf_kit.A4_TEXT_W_MM / 25.4 * 72, abs=0.1) for w in placed)  # never shrunk
    small_patient, small = patient_and_assessment(SMALL_PANEL)
    small_pdf = pdf_summary(small_patient, small, lab_figure=True)
    assert page_count(small_pdf) <= 3
    if shutil.which("pdftoppm"):  # visual check: the page renders (look at it when changing the layout)
        (tmp_path / "summary.pdf").write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", str(tmp_path / "summary.pdf"), str(tmp_path / "page")], check=True
        )
        pages = sorted(tmp_path.glob("page-*.png"))
        assert len(pages) == page_count(pdf)
        assert all(p.read_bytes().startswith(b"\x89PNG") for p in pages)


def test_figure_png_returns_none_when_kaleido_cannot_start(monkeypatch):
    import kaleido

    export.stop_png_server()

    def refuse(*args, **kwargs):
        raise RuntimeError("Kaleido requires Google Chrome")

    monkeypatch.setattr(kaleido, "start_sync_server", refuse)
    patient, a = patient_and_assessment(SMALL_PANEL)
    try:
        assert figure_png(lab_threshold_figure(patient, a)) is None
        assert figure_png(lab_threshold_figure(patient, a)) is None  # no retry storm
    finally:
        export.stop_png_server()  # clears the failure for later tests


def test_figure_png_returns_none_when_the_browser_is_missing():
    """The real failure: kaleido's server thread dies and its queue would block forever."""
    code = (
        "import time; from mas_screen.render.pdf.report import figure_png; import plotly.graph_objects as go;"
        "t = time.monotonic(); png = figure_png(go.Figure()); print(png is None, round(time.monotonic() - t))"
    )
    env = {**os.environ, "BROWSER_PATH": "/nonexistent/chromium"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    ok, seconds = done.stdout.split()
    assert ok == "True" and int(seconds) < 30


def test_figure_png_gives_up_on_a_hung_render(monkeypatch):
    """A render that never returns costs one deadline, then the process stops trying."""
    import threading
    import time

    import kaleido

    export.stop_png_server()
    release = threading.Event()
    monkeypatch.setattr(kaleido, "start_sync_server", lambda *a, **k: None)
    monkeypatch.setattr(kaleido, "calc_fig_sync", lambda *a, **k: release.wait(30))
    monkeypatch.setattr(export, "START_TIMEOUT_S", 0.3)
    patient, a = patient_and_assessment(SMALL_PANEL)
    fig = lab_threshold_figure(patient, a)  # built outside the timed calls (slow on a busy machine)
    try:
        t0 = time.monotonic()
        assert figure_png(fig) is None
        assert time.monotonic() - t0 < 5
        t0 = time.monotonic()
        assert figure_png(fig) is None
        assert time.monotonic() - t0 < 0.2  # no second wait
    finally:
        release.set()
        export.stop_png_server()


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium for kaleido")
def test_figure_png_is_safe_from_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    patient, a = patient_and_assessment(SMALL_PANEL)
    fig = lab_threshold_figure(patient, a)
    with ThreadPoolExecutor(max_workers=3) as pool:
        pngs = list(pool.map(lambda _: figure_png(fig, scale=1), range(3)))
    assert all(p is not None and p.startswith(b"\x89PNG") for p in pngs)


# ------------------------------------------------------------------- a PDF a clinician can file

FLARE = {  # the walkthrough's sJIA flare: Parodi 2009 met, the own instruments not met
    "context": {
        "underlying_disease": "sjia", "febrile": True, "age_years": 8, "hepatomegaly": False, "splenomegaly": False,
        "cns_involvement": False, "hemorrhagic_manifestations": False, "active_arthritis": True,
    },
    "labs": {
        "temperature": 39.2, "ferritin": 1800, "platelets": 480, "ast": 35, "ldh": 650, "triglycerides": 190,
        "fibrinogen": 620, "esr": 95, "wbc": 21, "hemoglobin": 10.5,
    },
}  # fmt: skip
BERLIN = datetime(2026, 12, 6, 14, 5, tzinfo=ZoneInfo("Europe/Berlin"))
needs_pdftotext = pytest.mark.skipif(not PDFTOTEXT, reason="needs poppler-utils (pdftotext)")


@needs_pdftotext
def test_pdf_prints_the_filing_details_typed_on_the_page(tmp_path):
    patient, a = patient_and_assessment(SMALL_PANEL)
    details = report.PatientDetails(
        name="Ada Example", patient_id="MRN 004211", date_of_birth="2019-04-02", sample_time="6 Dec 2026 07:40",
        clinician="Dr B. Reviewer",
    )  # fmt: skip
    text = pdftotext(pdf_summary(patient, a, generated_at=BERLIN, details=details), tmp_path)
    for label, value in (
        ("Patient name:", "Ada Example"), ("Patient ID:", "MRN 004211"), ("Date of birth:", "2019-04-02"),
        ("Sample taken (date, time):", "6 Dec 2026 07:40"), ("Clinician:", "Dr B. Reviewer"),
    ):  # fmt: skip
        assert label in text and value in text
    # the details are for the PDF only: never in the assessment or its JSON export
    assert "Ada Example" not in assessment_json(a, patient).decode()


@needs_pdftotext
def test_pdf_without_details_prints_lines_to_write_on(tmp_path):
    patient, a = patient_and_assessment(SMALL_PANEL)
    pdf = pdf_summary(patient, a, generated_at=BERLIN, compress=False)
    text = pdftotext(pdf, tmp_path)
    for label in ("Patient name:", "Patient ID:", "Date of birth:", "Sample taken (date, time):", "Clinician:"):
        assert label in text
    assert len(re.findall(rb"[\d.]+ [\d.]+ m [\d.]+ [\d.]+ l S", pdf)) >= 5  # one ruled line per field


@needs_pdftotext
def test_pdf_prints_local_time_with_its_zone_and_a_footer(tmp_path):
    patient, a = patient_and_assessment(SMALL_PANEL)
    text = pdftotext(pdf_summary(patient, a, generated_at=BERLIN), tmp_path)
    assert "Generated 06 Dec 2026, 14:05 CET (UTC+01:00)" in text
    footer = f"MAS Screen {__version__} · 06 Dec 2026, 14:05 CET (UTC+01:00) · screening aid, not a diagnosis"
    assert text.count(footer) == page_count(pdf_summary(patient, a, generated_at=BERLIN))
    utc = pdftotext(pdf_summary(patient, a, generated_at=WHEN), tmp_path)
    assert "Generated 14 Mar 2025, 09:26 UTC ·" in utc
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    assert "01 Jul 2026, 09:00 EDT (UTC−04:00)" in pdftotext(pdf_summary(patient, a, generated_at=summer), tmp_path)


@needs_pdftotext
def test_pdf_uses_the_apps_status_words(tmp_path):
    patient, a = patient_and_assessment(FULL_PANEL)
    text = pdftotext(pdf_summary(patient, a, generated_at=WHEN), tmp_path)
    assert "◐ indeterminate" in text and "● met" in text
    assert re.search(r"\bopen\b", text) is None


def test_pdf_has_no_text_below_8_pt():
    for data in (FULL_PANEL, FLARE, {}):
        patient, a = patient_and_assessment(data)
        sizes = pdf_font_sizes(pdf_summary(patient, a, generated_at=WHEN, compress=False))
        assert sizes and min(sizes) >= 8.0, (data.get("id"), sorted(sizes))


def test_printed_lab_figure_labels_are_at_least_8_pt_on_a4():
    """The print figure's smallest font, at the scale it is placed on the page, is ≥ 8 pt; each
    chunk fits a page (the rows are split, never shrunk)."""
    patient, a = patient_and_assessment(FULL_PANEL)
    figures = export.print_figures(patient, a)
    assert len(figures) >= 2  # 12 labs do not fit one page at a legible scale
    assert sum(len(f.layout.annotations) > 0 for f in figures) == len(figures)
    for fig in figures:
        assert fig.layout.width == export.PRINT_FIGURE_WIDTH_PX
        assert min_font_px(fig) * export.print_scale_pt_per_px() >= 8.0
        assert fig.layout.height * export.PRINT_MM_PER_PX <= export.PRINT_PAGE_ROOM_MM
    # the on-screen figure (1000 px) squeezed into the text width would not be
    screen = lab_threshold_figure(patient, a)
    assert min_font_px(screen) * export.print_scale_pt_per_px(screen.layout.width) < 8.0


def test_print_chunks_fill_the_room_left_on_the_page_first():
    patient, a = patient_and_assessment(FULL_PANEL)
    whole = export.print_chunks(patient, a, export.PRINT_PAGE_ROOM_MM)
    small = export.print_chunks(patient, a, 110.0)
    none = export.print_chunks(patient, a, 5.0)
    rows = [r for c in whole for r in c]
    assert [r for c in small for r in c] == rows == [r for c in none for r in c]
    assert 0 < len(small[0]) < len(whole[0]) and none[0] == []


@needs_pdftotext
def test_pdf_links_are_short_text_with_the_doi(tmp_path):
    patient, a = patient_and_assessment(FULL_PANEL)
    pdf = pdf_summary(patient, a, generated_at=WHEN, compress=False)
    text = pdftotext(pdf, tmp_path)
    assert "http" not in text  # no raw URL printed
    for ref in a.references.values():
        if ref.doi:
            assert f"doi:{ref.doi}" in text.replace(" ", "").replace("doi:", "doi:")
            assert f"/URI (https://doi.org/{ref.doi})".encode() in pdf
    assert "(record: fis.uke.de)" in text  # Minoia 2017 has no verified DOI: the record's host


DEV_NOTES = re.compile(
    r"(?i:not verified|could not be checked|docs/|criteria-spec|source-verification|\bverify\b|\bspec\b)|"
    r"CONFIRMED-\d|UNCONFIRMED|DECISION|ADAPTATION"
)


@needs_pdftotext
@pytest.mark.parametrize("data", [FULL_PANEL, FLARE, {}, SMALL_PANEL], ids=["full", "flare", "empty", "small"])
def test_pdf_prints_no_development_notes(data, tmp_path):
    patient, a = patient_and_assessment(data)
    text = pdftotext(pdf_summary(patient, a, generated_at=WHEN), tmp_path)
    assert DEV_NOTES.search(text) is None, DEV_NOTES.search(text)


@needs_pdftotext
def test_pdf_of_the_flare_keeps_parodi_secondary_and_says_what_next(tmp_path):
    patient, a = patient_and_assessment(FLARE)
    s = a.summary
    assert s.mas_signal == "not_suggestive" and s.other_population_met == ["parodi2009"]
    text = pdftotext(pdf_summary(patient, a, generated_at=WHEN), tmp_path)
    assert "Features not suggestive of MAS on 2016 MAS criteria and MS score (screening result)" in text
    assert "Also met by instruments built for other populations — indicative only: Parodi 2009 (jSLE)" in text
    assert "Supporting MAS none Against MAS − 2016 MAS classification criteria not met" in text
    assert "Repeat ferritin, platelets, AST and fibrinogen (and D-dimer, LDH) as the illness evolves" in text
    assert "Ravelli 2016, RMD Open" in text and "Shakoory 2023" in text
    assert "MH score (values not confirmed against the primary paper)" in text


@needs_pdftotext
def test_pdf_words_primary_hlh_in_an_infant_as_a_haemophagocytic_syndrome(tmp_path):
    infant = {
        "context": {"underlying_disease": "other", "age_years": 0.3, "febrile": True, "splenomegaly": True,
                    "hepatomegaly": True, "hemophagocytosis_marrow": True},
        "labs": {"ferritin": 3000, "platelets": 40, "neutrophils": 0.4, "hemoglobin": 7.5, "triglycerides": 400,
                 "fibrinogen": 90, "temperature": 39.5, "ast": 150},
    }  # fmt: skip
    patient, a = patient_and_assessment(infant)
    text = pdftotext(pdf_summary(patient, a, generated_at=WHEN), tmp_path)
    assert "Features suggestive of a haemophagocytic syndrome (HLH/MAS): HScore, HLH-2004 met" in text
    assert "MH score (values not confirmed against the primary paper) 123 (≥ 60): favours primary HLH" in text
