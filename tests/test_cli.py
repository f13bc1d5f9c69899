"""The command line per contract.md "Command line": run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, without_generated_at
from panels import CONTRACT_EXAMPLE

CRITERION_IDS = {"mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi"}


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mas_screen", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def strict_json(text: str):
    """JSON as other tools read it: NaN/Infinity are not JSON."""

    def refuse(constant):
        raise ValueError(f"non-JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def assert_assessment(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    data = strict_json(proc.stdout)
    assert data["schema_version"] == "1"
    assert set(data["criteria"]) == CRITERION_IDS
    return data


@pytest.fixture
def example_file(tmp_path):
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(CONTRACT_EXAMPLE), encoding="utf-8")
    return path


def test_assess_file(example_file):
    data = assert_assessment(cli("assess", str(example_file)))
    assert data["criteria"]["mas2016"]["status"] == "met"
    assert data["input_warnings"] == []


def test_assess_dash_reads_stdin():
    data = assert_assessment(cli("assess", "-", stdin=json.dumps(CONTRACT_EXAMPLE)))
    assert data["criteria"]["mas2016"]["status"] == "met"


def test_assess_without_file_reads_stdin():
    data = assert_assessment(cli("assess", stdin=json.dumps(CONTRACT_EXAMPLE)))
    assert data["criteria"]["mas2016"]["status"] == "met"


def test_file_and_stdin_give_the_same_assessment(example_file):
    from_file = assert_assessment(cli("assess", str(example_file)))
    from_stdin = assert_assessment(cli("assess", stdin=example_file.read_text(encoding="utf-8")))
    assert without_generated_at(from_file) == without_generated_at(from_stdin)


def test_format_text(example_file):
    proc = cli("assess", str(example_file), "--format", "text")
    assert proc.returncode == 0, proc.stderr
    data = assert_assessment(cli("assess", str(example_file)))
    assert data["summary"]["headline"] in proc.stdout
    assert "not a diagnosis" in proc.stdout
    assert proc.stdout.strip()
    with pytest.raises(json.JSONDecodeError):
        json.loads(proc.stdout)


def test_criteria_lists_every_instrument():
    proc = cli("criteria")
    assert proc.returncode == 0, proc.stderr
    rows = strict_json(proc.stdout)
    assert {row["id"] for row in rows} == CRITERION_IDS
    assert len(rows) == 8
    for row in rows:
        for key in ("id", "name", "version", "citation"):
            assert isinstance(row[key], str) and row[key], (row.get("id"), key)


UNREADABLE = [
    ("not-json", "this is not json"),
    ("truncated-json", '{"labs": {"ferritin": 2500}'),
    ("empty-input", ""),
    ("top-level-list", "[1, 2, 3]"),
    ("top-level-string", '"ferritin 2500"'),
    ("top-level-number", "2500"),
    ("unknown-analyte-key", json.dumps({"labs": {"feritin": 2500}})),
    ("labs-not-an-object", json.dumps({"labs": [2500]})),
    ("labs-a-string", json.dumps({"labs": "ferritin 2500"})),
]


@pytest.mark.parametrize("text", [r[1] for r in UNREADABLE], ids=[r[0] for r in UNREADABLE])
def test_unreadable_input_exits_2(text):
    proc = cli("assess", stdin=text)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_analyte_key_is_named():
    proc = cli("assess", stdin=json.dumps({"labs": {"feritin": 2500}}))
    assert proc.returncode == 2
    assert "feritin" in proc.stderr


def test_nonexistent_file_exits_2(tmp_path):
    missing = tmp_path / "no-such-patient.json"
    proc = cli("assess", str(missing))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "no-such-patient.json" in proc.stderr


BAD_FIELDS = [
    ("word", {"ferritin": "elevated"}, "ferritin", "not_a_number"),
    ("nan", {"ferritin": float("nan")}, "ferritin", "not_a_number"),
    ("negative", {"platelets": -5}, "platelets", "negative"),
    ("implausible", {"ferritin": 0}, "ferritin", "implausible"),
    ("unit-suspect", {"fibrinogen": {"value": 3.2, "unit": "mg/dL"}}, "fibrinogen", "unit_suspect"),
    ("unknown-unit", {"ferritin": {"value": 2500, "unit": "furlongs"}}, "ferritin", "unknown_unit"),
    ("not-convertible", {"scd25": {"value": 3000, "unit": "pg/mL"}}, "scd25", "not_convertible"),
]


@pytest.mark.parametrize(("labs", "field", "code"), [r[1:] for r in BAD_FIELDS], ids=[r[0] for r in BAD_FIELDS])
def test_bad_field_values_exit_0_with_warnings(labs, field, code):
    # json.dumps writes NaN as the (non-standard) token Python's json module reads back
    proc = cli("assess", stdin=json.dumps({"context": {"febrile": True}, "labs": labs}))
    data = assert_assessment(proc)
    assert [(w["field"], w["code"]) for w in data["input_warnings"]] == [(field, code)]


def test_conflict_exits_0_with_warning():
    proc = cli("assess", stdin=json.dumps({"context": {"febrile": False}, "labs": {"temperature": 39}}))
    data = assert_assessment(proc)
    assert [(w["field"], w["code"]) for w in data["input_warnings"]] == [("febrile", "conflict")]


def test_text_report_qualifies_the_mh_score_and_words_next_steps():
    infant = {
        "context": {"underlying_disease": "other", "age_years": 0.3, "febrile": True, "splenomegaly": True},
        "labs": {"ferritin": 3000, "platelets": 40, "neutrophils": 0.4, "hemoglobin": 7.5, "fibrinogen": 90},
    }
    proc = cli("assess", "--format", "text", stdin=json.dumps(infant))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "MH score (values not confirmed against the primary paper) 123 (≥ 60): favours primary HLH" in out
    assert "MH score (values not confirmed against the primary paper): MET" in out
    assert "Next steps: To decide" in out and "haemophagocytic syndrome (HLH/MAS)" in out
    assert "hemophagocytosis_marrow" not in out  # labels, never keys


def test_text_report_shows_other_populations_as_indicative_only():
    flare = {
        "context": {"underlying_disease": "sjia", "febrile": True, "age_years": 8, "hepatomegaly": False,
                    "splenomegaly": False, "cns_involvement": False, "hemorrhagic_manifestations": False,
                    "active_arthritis": True},
        "labs": {"temperature": 39.2, "ferritin": 1800, "platelets": 480, "ast": 35, "ldh": 650,
                 "triglycerides": 190, "fibrinogen": 620, "esr": 95, "wbc": 21, "hemoglobin": 10.5},
    }  # fmt: skip
    out = cli("assess", "--format", "text", stdin=json.dumps(flare)).stdout
    head = out.split("\n\n")[1].splitlines()
    assert head[0] == "Features not suggestive of MAS on 2016 MAS criteria and MS score (screening result)"
    assert head[1] == "(Also met by instruments built for other populations — indicative only: Parodi 2009 (jSLE))"
    assert "Supporting MAS:" not in out.split("2016 MAS criteria: not met")[0]
    assert "~ Indicative only (built for juvenile SLE)" in out
