"""Hostile files and inputs: the Trends page's CSV upload (AppTest) and the command line.

Oversized, binary, UTF-16, malformed, empty, too many rows, several patients, formula-injection
cells: each ends in one clear message (the table is left as it was) or, for formula cells, is
flagged on its row and neutralised in the exported CSV. The command line answers unreadable input
with exit 2 and one short line on stderr, whatever the bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from streamlit.runtime.media_file_manager import MediaFileManager
from test_app_trends import at  # noqa: F401 - the Trends page fixture

from mas_screen.faces.cli.main import MAX_MESSAGE, main
from mas_screen.kernel.inputs.safe_csv import neutralise

# The Trends page's upload limits (mas_screen/ui/pages/trends.py; a page script runs when imported).
MAX_UPLOAD_BYTES = 2_000_000
MAX_UPLOAD_ROWS = 1_000


def upload(app, name: str, data: bytes, mime: str = "text/csv"):
    app.file_uploader(key="trend_upload").set_value((name, data, mime)).run()
    assert not app.exception
    return app


def literal(markdown: str) -> str:
    """Messages quote what the file held with Markdown escaped; read them as displayed."""
    return re.sub(r"\\(.)", r"\1", markdown)


def shown(app) -> str:
    return literal("\n".join(e.value for e in [*app.error, *app.warning, *app.markdown]))


def rows_of(n: int) -> bytes:
    return (
        "time,ferritin\n" + "".join(f"2026-03-01T{i // 60 % 24:02d}:{i % 60:02d},{500 + i}\n" for i in range(n))
    ).encode()


# --------------------------------------------------------------------------------- Trends upload


def test_upload_reads_the_rows_and_names_what_it_does_not_read(at):  # noqa: F811
    data = (
        b"time,ferritin,platelets,fibrinogen,febrile,shoe_size\n"
        b"2026-03-01 08:00,900,300,3.6 g/L,yes,42\n"
        b"2026-03-02 08:00,4000,140,250,yes,42\n"
    )
    upload(at, "series.csv", data)
    rows = at.session_state["series_rows"]
    assert [r["time"] for r in rows] == ["2026-03-01 08:00", "2026-03-02 08:00"]
    assert rows[0]["fibrinogen"].startswith("3.6") and "g/L" in rows[0]["fibrinogen"]
    text = shown(at)
    assert "Columns not read" in text and "shoe_size" in text
    assert "febrile" in text and "Assess page" in text  # context columns are named, not silently dropped
    assert not at.error


HOSTILE_FILES = [
    pytest.param(
        "big.csv", rows_of(1) + b"2026-03-02," + b"9" * (MAX_UPLOAD_BYTES + 10), "larger than 2 MB", id="oversized"
    ),
    pytest.param("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not UTF-8", id="binary-png"),
    pytest.param("book.csv", b"PK\x03\x04" + bytes(range(128, 256)) * 4, "not UTF-8", id="spreadsheet-zip"),
    pytest.param("utf16.csv", "time,ferritin\n2026-03-01,500\n".encode("utf-16-le"), "NUL bytes", id="utf16"),
    pytest.param("empty.csv", b"", "empty", id="empty"),
    pytest.param("dates.csv", b"date,ferritin\n2026-03-01,500\n", "no 'time' column", id="no-time-column"),
    pytest.param("header.csv", b"time,ferritin\n", "header but no rows", id="header-only"),
    pytest.param("many.csv", rows_of(MAX_UPLOAD_ROWS + 1), f"{MAX_UPLOAD_ROWS + 1:,} rows", id="too-many-rows"),
    pytest.param(
        "cohort.csv", b"id,time,ferritin\na,2026-03-01,500\nb,2026-03-02,600\n", "more than one patient", id="two-ids"
    ),
]


@pytest.mark.parametrize(("name", "data", "message"), HOSTILE_FILES)
def test_hostile_upload_gets_one_clear_message_and_changes_nothing(at, name, data, message):  # noqa: F811
    at.session_state["series_rows"] = [{"time": "2026-03-01 08:00", "ferritin": "900"}]
    at.session_state["series_version"] += 1
    at.run()
    upload(at, name, data)
    assert len(at.error) == 1, shown(at)
    assert message in literal(at.error[0].value)
    assert at.session_state["series_rows"] == [{"time": "2026-03-01 08:00", "ferritin": "900"}]


FORMULAS = ['=HYPERLINK("http://example.invalid","x")', "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)", "+1+cmd|'x'!A0"]


def test_formula_cells_are_flagged_and_neutralised_in_the_exported_csv(at, monkeypatch):  # noqa: F811
    exports: dict[str, object] = {}
    real = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        exports[file_name or ""] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "ferritin", "platelets", "ast"])
    writer.writerow(["2026-03-01 08:00", FORMULAS[0], "150", FORMULAS[2]])
    writer.writerow(["2026-03-02 08:00", "4000", FORMULAS[1], "80"])
    writer.writerow([FORMULAS[3], "5000", "120", "90"])
    upload(at, "formulas.csv", buffer.getvalue().encode())
    text = shown(at)
    assert "not a number" in text  # each formula cell is a flagged value, never a number
    assert "Row 3" in text  # the formula in the time column: the row is left out, with a message
    csv_exports = [f for name, f in exports.items() if name.endswith(".csv")]
    assert csv_exports, f"no CSV export offered; exports: {list(exports)}"
    exported = csv_exports[-1]().decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    # Each formula (as typed, with its column's unit where the page added one) is exported as text.
    neutralised = [c for c in cells if c.startswith("'")]
    assert len(neutralised) == len(FORMULAS), exported
    for formula in FORMULAS:
        assert any(formula.replace(" ", "")[:8] in c.replace(" ", "") for c in neutralised), formula
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and neutralise(c) != c]
    assert risky == []


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("+1+cmd|'x'!A0", "'+1+cmd|'x'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-5", "-5"),
        ("-0.25", "-0.25"),
        ("+5", "+5"),
        ("1e3", "1e3"),
        (">40000", ">40000"),
        ("3.6 g/L", "3.6 g/L"),
        (5, 5),
        (None, None),
    ],
)
def test_safe_csv_neutralises_formulas_and_keeps_numbers(cell, safe):
    assert neutralise(cell) == safe


# --------------------------------------------------------------------------------- command line


def run_cli(argv: list[str], text: str, capsys) -> tuple[int, str, str]:
    code = main(argv, stdin=io.StringIO(text), stdout=(out := io.StringIO()))
    return code, out.getvalue(), capsys.readouterr().err


HOSTILE_JSON = [
    pytest.param(["assess", "-"], "[" * 100_000 + "]" * 100_000, "nested too deeply", id="deep-nesting"),
    pytest.param(["trend", "-"], "{" + '"a":{' * 60_000 + "}" * 60_001, "nested too deeply", id="trend-deep-nesting"),
    pytest.param(["assess", "-", "--fhir"], "[" * 100_000, "nested too deeply", id="fhir-deep-nesting"),
    pytest.param(["assess", "-"], "", "not JSON", id="empty"),
    pytest.param(["assess", "-"], "\ufeff\x00\x01", "not JSON", id="control-bytes"),
    pytest.param(
        ["assess", "-"], '{"context": {"fever\\n\\u001b[31mred": true}}', "fever\\x0a\\x1b[31mred", id="escapes"
    ),
    pytest.param(
        ["assess", "-"], json.dumps({"labs": {f"k{i}": 1 for i in range(20_000)}}), "unknown analyte", id="huge-message"
    ),
    pytest.param(["trend", "-", "--format-in", "csv"], "shoe_size\n1\n", "no 'time' column", id="csv-no-time"),
    pytest.param(["trend", "-"], '{"panels": "many"}', "wrong shape", id="panels-not-a-list"),
]


@pytest.mark.parametrize(("argv", "text", "message"), HOSTILE_JSON)
def test_cli_unreadable_input_exits_2_with_one_short_line(argv, text, message, capsys):
    code, out, err = run_cli(argv, text, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("mas_screen: ") and err.endswith("\n") and err.count("\n") == 1
    assert len(err) <= MAX_MESSAGE + len("mas_screen: \n")
    assert message in err


def test_cli_formula_cells_in_a_trend_csv_are_values_flagged_on_their_row(capsys):
    text = "time,ferritin,platelets\n2026-03-01 08:00,=1+1,150\n2026-03-02 08:00,2500,-2+3+cmd|' /C calc'!A0\n"
    code, out, _ = run_cli(["trend", "-", "--format-in", "csv"], text, capsys)
    assert code == 0
    result = json.loads(out)
    warned = {(w["field"], w["code"]) for p in result["points"] for w in p["assessment"]["input_warnings"]}
    # "=1+1" is not a number; "-2+3+cmd…" reads as -2 in an unknown unit "+3+cmd…": both left out, both named.
    assert ("ferritin", "not_a_number") in warned and ("platelets", "unknown_unit") in warned


@pytest.mark.parametrize(
    ("argv", "data"),
    [
        pytest.param(["assess", "-"], b"\xff\xfe\x00{\x80", id="stdin-not-utf8"),
        pytest.param(["trend", "-"], bytes(range(256)) * 4, id="trend-stdin-binary"),
    ],
)
def test_cli_binary_stdin_in_a_real_process(argv, data):
    proc = subprocess.run(
        [sys.executable, "-m", "mas_screen", *argv], input=data, capture_output=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    err = proc.stderr.decode("utf-8", "replace")
    assert err.startswith("mas_screen: ") and err.count("\n") == 1, err


def test_cli_binary_file_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "scan.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    code = main(["assess", str(path)], stdin=io.StringIO(""), stdout=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and "not UTF-8" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param(json.dumps({"labs": {"ferritin": 10**400}}), "ferritin", id="lab"),
        pytest.param(
            json.dumps({"labs": {"platelets": {"value": -(10**400), "unit": "10^9/L"}}}), "platelets", id="negative-lab"
        ),
        pytest.param(json.dumps({"context": {"age_years": 10**400}}), "age_years", id="age"),
        pytest.param('{"labs": {"ferritin": ' + "9" * 5000 + "}}", "ferritin", id="5000-digits"),
        pytest.param('{"labs": {"ferritin": 1e309, "esr": NaN, "crp": -Infinity}}', None, id="float-overflow-nan-inf"),
    ],
)
def test_an_integer_beyond_the_float_range_is_a_warning_not_a_crash(text, field, capsys):
    """Issue 13 finding 1: JSON integers have no size limit; one longer than 32 digits is not_a_number
    (a warning, the rest assessed), never an error or a traceback ("Exceeds the limit (4300 digits)")."""
    exit_code, out, err = run_cli(["assess", "-"], text, capsys)
    assert exit_code == 0, err
    result = json.loads(out)
    fields = [field] if field else ["ferritin", "esr", "crp"]
    assert [(w["field"], w["code"]) for w in result["input_warnings"]] == [(f, "not_a_number") for f in fields]
    assert all(len(w["input"]) < 100 for w in result["input_warnings"])  # echoed, cut with an ellipsis


def test_a_ratio_beyond_the_float_range_cannot_be_typed():
    """Ferritin 10^6 over an ESR a hair above 0 once had a ratio no float holds (found by fuzzing). With the
    contract's exponent limit (±30) the ESR is not_a_number, alike in assess() and batch; the smallest ESR
    that can be typed (1e-30) gives a ratio of 1e36, a float."""
    import pandas as pd

    from mas_screen import PatientInput, assess
    from mas_screen.faces.cohort import screen_frame

    labs = {"ferritin": "1000000", "esr": "1.1125369292536007e-308"}
    a = assess(PatientInput.model_validate({"labs": labs}))
    assert [(w.field, w.code) for w in a.input_warnings] == [("esr", "not_a_number")]
    assert a.criteria["ferritin_esr"].status == "indeterminate"
    row = screen_frame(pd.DataFrame([{"id": "x", **labs}], dtype="str")).iloc[0]
    assert row["ferritin_esr_status"] == "indeterminate" and row["warnings"] == "esr:not_a_number"
    smallest = assess(PatientInput.model_validate({"labs": {"ferritin": "1000000", "esr": "1e-30"}}))
    c = smallest.criteria["ferritin_esr"]
    assert (c.status, c.score) == ("met", 1e36)
    json.dumps(smallest.model_dump(mode="json"), allow_nan=False)
