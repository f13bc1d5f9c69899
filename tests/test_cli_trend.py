"""`python -m mas_screen trend FILE|-` per contract.md "Command line" and "Series", as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, without_generated_at

CRITERION_IDS = {"mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi"}
CONTEXT = {"age_years": 7, "underlying_disease": "sjia", "febrile": True}
SERIES = {
    "context": CONTEXT,
    "panels": [
        {"time": "2026-03-03T08:00", "labs": {"platelets": 140, "ferritin": 12000, "ast": 60}},
        {"time": "2026-03-01T08:00", "labs": {"platelets": 300, "ferritin": 900, "ast": 30}},
        {
            "time": "2026-03-02T08:00",
            "labs": {"platelets": 220, "ferritin": {"value": 4000, "unit": "µg/L"}, "ast": 40},
        },
    ],
}
CSV = (
    "id,time,febrile,underlying_disease,age_years,platelets,ferritin,ast,fibrinogen,fibrinogen_g_per_L\n"
    "p1,2026-03-01 08:00,yes,sjia,7,300,900,30,,\n"
    "p1,2026-03-02 08:00,yes,sjia,7,220,4000,40,300,3.0\n"
    "p1,2026-03-03 08:00,yes,sjia,7,140,12000,60,,\n"
    "p1,03/04/2026,yes,sjia,7,100,15000,80,,\n"
)


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mas_screen", "trend", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"non-JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def ok(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return strict_json(proc.stdout)


@pytest.fixture
def series_file(tmp_path):
    path = tmp_path / "series.json"
    path.write_text(json.dumps(SERIES), encoding="utf-8")
    return path


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_json_file(series_file):
    data = ok(cli(str(series_file)))
    assert [p["time"] for p in data["points"]] == ["2026-03-01T08:00", "2026-03-02T08:00", "2026-03-03T08:00"]
    for p in data["points"]:
        assert p["assessment"]["schema_version"] == "1" and set(p["assessment"]["criteria"]) == CRITERION_IDS
    plt = data["changes"]["platelets"]
    # 140 vs 300: −53.33%; vs 220: −36.36% (worked in test_trends.py)
    assert (plt[2]["value"], plt[2]["change_from_first_percent"], plt[2]["change_from_previous_percent"]) == (
        140,
        -53.33,
        -36.36,
    )
    assert data["changes"]["ferritin"][1]["value"] == 4000  # µg/L = ng/mL
    assert data["first_met"]["mas2016"] == "2026-03-03T08:00"
    assert [w["code"] for w in data["warnings"]] == ["out_of_order", "out_of_order", "mixed_units"]


def test_stdin_and_dash(series_file):
    text = series_file.read_text(encoding="utf-8")
    runs = [ok(cli(stdin=text)), ok(cli("-", stdin=text)), ok(cli(str(series_file)))]
    assert without_generated_at(runs[0]) == without_generated_at(runs[1]) == without_generated_at(runs[2])


def test_csv_file(csv_file):
    data = ok(cli(str(csv_file)))
    assert len(data["points"]) == 3
    by_code = {w["code"]: w for w in data["warnings"]}
    assert by_code["two_units"]["line"] == 3 and by_code["two_units"]["row"] == 1
    assert by_code["bad_time"]["line"] == 5 and by_code["bad_time"]["input"] == "03/04/2026"
    assert [c["value"] for c in data["changes"]["platelets"]] == [300, 220, 140]
    assert "fibrinogen" not in data["changes"] or data["changes"]["fibrinogen"] == []
    # the CSV's context columns reach each point
    assert data["points"][0]["assessment"]["criteria"]["mas2016"]["population"] == "validated"


def test_csv_from_stdin_needs_format_in(csv_file):
    assert without_generated_at(ok(cli("--format-in", "csv", stdin=CSV))) == without_generated_at(
        ok(cli(str(csv_file)))
    )
    proc = cli(stdin=CSV)  # read as JSON
    assert proc.returncode == 2 and "not JSON" in proc.stderr


def test_text_format(series_file, csv_file):
    proc = cli(str(series_file), "--format", "text")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "2026-03-03T08:00" in out and "mas2016" in out and "−80 (−36.36%)" in out
    assert "First met: 2016 MAS criteria: 2026-03-03T08:00" in out
    assert "No published percent-change cut-off exists" in out
    csv_out = cli(str(csv_file), "--format", "text").stdout
    assert "line 5" in csv_out and "two cells are filled" in csv_out


def test_all_times_bad_still_answers_with_the_rows_messages(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"panels": [{"time": "tomorrow", "labs": {"ferritin": 900}}]}), encoding="utf-8")
    data = ok(cli(str(path)))
    assert data["points"] == [] and data["warnings"][0]["code"] == "bad_time"


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("s.json", "not json", "not JSON"),
        ("s.json", "[1, 2]", "JSON object"),
        ("s.json", "{}", "no 'panels'"),
        ("s.json", '{"panels": []}', "no panels"),
        ("s.json", '{"panels": {"time": 1}}', "wrong shape"),
        ("s.json", '{"panels": [{"time": "2026-03-01", "labs": {"ferritn": 900}}]}', "unknown analyte"),
        ("s.json", '{"panels": [{"time": "2026-03-01", "labz": {}}]}', "wrong shape"),
        ("s.json", '{"context": {"febrile": "maybe"}, "panels": [{"time": "2026-03-01"}]}', "wrong shape"),
        ("s.json", '{"panels": [{"time": "2026-03-01"}], "extra": 1}', "wrong shape"),
        ("s.csv", "ferritin\n900\n", "no 'time' column"),
        ("s.csv", "", "empty"),
        ("s.csv", "time,ferritn\n2026-03-01,900\n", "unknown column"),
        ("s.csv", "time,fibrinogen_kg\n2026-03-01,900\n", "not an accepted unit"),
        ("s.csv", "time,ferritin\n", "no data rows"),
        ("s.csv", "id,time,ferritin\na,2026-03-01,1\nb,2026-03-02,2\n", "more than one patient id"),
    ],
)
def test_unreadable_input_exits_2_with_one_line(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    proc = cli(str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("mas_screen: ")
    assert fragment in proc.stderr


def test_missing_file_exits_2(tmp_path):
    proc = cli(str(tmp_path / "nope.json"))
    assert proc.returncode == 2 and proc.stdout == "" and "cannot read" in proc.stderr


def test_help_lists_trend():
    proc = subprocess.run(
        [sys.executable, "-m", "mas_screen", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert "trend" in proc.stdout
