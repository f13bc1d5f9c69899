"""Provenance on every result (docs/contract-extensions.md "Provenance") and `verify`."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess
import sys
import tomllib

import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from fuzz_harness import random_patient
from panels import CONTRACT_EXAMPLE, FULL_PANEL
from pydantic import ValidationError

import mas_screen
from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria
from mas_screen.criteria.provenance import canonical_json, data_files, fingerprint, fingerprint_files, tool_version
from mas_screen.faces.cli.verify import VerifyError, verify_data

HEX64 = re.compile(r"[0-9a-f]{64}")


def cli(*args: str, stdin: str | None = None, env: dict | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mas_screen", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def stamped(data: dict) -> dict:
    return assess(PatientInput.model_validate(data)).model_dump(mode="json")


# ---------------------------------------------------------------------------------- the stamp


def test_every_assessment_carries_provenance():
    prov = stamped(CONTRACT_EXAMPLE)["provenance"]
    assert set(prov) == {
        "tool_version",
        "schema_version",
        "criteria_sha256",
        "instruments",
        "generated_at",
        "data_sha256",
        "input",
    }
    assert prov["schema_version"] == "1"
    assert HEX64.fullmatch(prov["criteria_sha256"])
    assert prov["instruments"] == {iid: spec.version for iid, spec in criteria().instruments.items()}
    assert prov["instruments"]["mas2016"] == "2016"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", prov["generated_at"])
    assert set(prov["data_sha256"]) == set(data_files())
    assert "criteria/mas2016.yaml" in prov["data_sha256"] and "references/references.yaml" in prov["data_sha256"]
    assert all(HEX64.fullmatch(h) for h in prov["data_sha256"].values())


def test_recorded_input_is_the_input_without_unknowns():
    prov = stamped(CONTRACT_EXAMPLE)["provenance"]
    assert PatientInput.model_validate(prov["input"]) == PatientInput.model_validate(CONTRACT_EXAMPLE)
    assert "splenomegaly_cm" not in prov["input"]["context"]  # null = not known, left out


def test_tool_version_is_the_project_version():
    with (ROOT / "pyproject.toml").open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    assert tool_version() == version == mas_screen.__version__


def test_generated_at_is_utc_now():
    from datetime import UTC, datetime

    before = datetime.now(UTC).replace(microsecond=0)
    when = datetime.fromisoformat(stamped({})["provenance"]["generated_at"].replace("Z", "+00:00"))
    assert before <= when <= datetime.now(UTC)


def test_fingerprint_is_computed_once_per_load():
    assert fingerprint() is fingerprint()
    # assess() reads the cached fingerprint: the digest is the same object's
    assert stamped({})["provenance"]["criteria_sha256"] == fingerprint().criteria_sha256


def test_hash_ignores_comments_and_layout_but_not_values(tmp_path):
    copy = tmp_path / "criteria"
    shutil.copytree(ROOT / "criteria", copy)
    files = data_files(copy)
    total, each = fingerprint_files(files)
    assert total == fingerprint().criteria_sha256  # the same data as the installed criteria
    path = copy / "mas2016.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text("# a comment added by an editor\n" + text.replace("\n", "  \n") + "\n\n", encoding="utf-8")
    assert fingerprint_files(data_files(copy))[0] == total
    path.write_text(re.sub(r"(?m)^(\s*threshold:\s*)684\s*$", r"\g<1>685", text), encoding="utf-8")
    changed_total, changed_each = fingerprint_files(data_files(copy))
    assert changed_total != total
    assert [k for k in each if each[k] != changed_each[k]] == ["criteria/mas2016.yaml"]


def test_canonical_form_is_sorted_compact_json():
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'.encode()


def test_non_finite_numbers_are_recorded_as_json():
    data = assess(PatientInput.model_validate({"labs": {"ferritin": float("nan"), "crp": float("inf")}}))
    dumped = json.dumps(data.model_dump(mode="json"), allow_nan=False)
    recorded = json.loads(dumped)["provenance"]["input"]["labs"]
    assert recorded == {"ferritin": {"value": {"$float": "nan"}}, "crp": {"value": {"$float": "inf"}}}
    assert verify_data(json.loads(dumped)).reproduced


def test_round_trip_through_the_model():
    from mas_screen.domain.models import Assessment

    a = assess(PatientInput.model_validate(FULL_PANEL))
    again = Assessment.model_validate(json.loads(a.model_dump_json()))
    assert again.provenance.criteria_sha256 == a.provenance.criteria_sha256
    assert again.model_dump(mode="json") == a.model_dump(mode="json")


# ---------------------------------------------------------------------------------- exports


def test_text_report_names_the_provenance():
    from mas_screen.render.text import render_text

    text = render_text(assess(PatientInput.model_validate(CONTRACT_EXAMPLE)))
    flat = " ".join(text.split())
    assert "Provenance:" in text and fingerprint().criteria_sha256 in flat.replace(" ", "")
    assert "mas2016 2016" in flat and "schema 1" in flat


def test_pdf_footer_carries_the_provenance():
    from mas_screen.render.pdf.report import pdf_summary

    patient = PatientInput.model_validate(FULL_PANEL)
    pdf = pdf_summary(patient, assess(patient))
    # fpdf2 writes glyph ids of a subset font: the text as a reader extracts it is checked
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    flat = "".join(out.split())
    pages = out.count("\f") or 1
    assert flat.count(fingerprint().criteria_sha256) == pages  # one footer per page
    assert "Provenance:criteriaSHA-256" in flat and "contractschema1" in flat


def test_batch_parquet_metadata_and_summary(tmp_path):
    from mas_screen.faces.cohort import PROVENANCE_KEY, run_file

    src = tmp_path / "in.csv"
    src.write_text("id,ferritin,platelets\na,2500,100\nb,80,300\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    summary = run_file(src, out)
    meta = json.loads(pq.ParquetFile(out).schema_arrow.metadata[PROVENANCE_KEY])
    assert meta == summary["provenance"]  # equal to assess()'s: tests/test_batch_identity.py
    assert meta["criteria_sha256"] == fingerprint().criteria_sha256 and "input" not in meta


def test_batch_summary_json_from_the_command_line(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,ferritin\na,2500\n", encoding="utf-8")
    summary_file = tmp_path / "summary.json"
    proc = cli("batch", str(src), "-o", str(tmp_path / "out.csv"), "--summary-json", str(summary_file))
    assert proc.returncode == 0, proc.stderr
    prov = json.loads(summary_file.read_text())["provenance"]
    assert prov["criteria_sha256"] == fingerprint().criteria_sha256
    assert "provenance: MAS Screen" in proc.stdout


def test_batch_page_parquet_download_carries_it():
    import pandas as pd

    from mas_screen.faces.cohort import PROVENANCE_KEY, screen_frame
    from mas_screen.ui.batch_io import results_parquet

    frame = screen_frame(pd.DataFrame({"id": ["a"], "ferritin": ["2500"]}, dtype="str"))
    meta = pq.ParquetFile(io.BytesIO(results_parquet(frame))).schema_arrow.metadata
    assert json.loads(meta[PROVENANCE_KEY])["criteria_sha256"] == fingerprint().criteria_sha256


# ---------------------------------------------------------------------------------- verify


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "result.json"
    proc = cli("assess", "-", stdin=json.dumps(CONTRACT_EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    path.write_text(proc.stdout, encoding="utf-8")
    return path


def test_verify_unchanged_exits_0(saved):
    proc = cli("verify", str(saved))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("verify: reproduced (1 assessment)")
    assert fingerprint().criteria_sha256 in proc.stdout


def test_verify_a_changed_threshold_exits_1_naming_mas2016(saved, tmp_path):
    copy = tmp_path / "criteria"
    shutil.copytree(ROOT / "criteria", copy)
    path = copy / "mas2016.yaml"
    text = path.read_text(encoding="utf-8")
    changed = re.sub(r"(?m)^(\s*threshold:\s*)684\s*$", r"\g<1>3000", text)
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    env = {**__import__("os").environ, "MAS_SCREEN_CRITERIA_DIR": str(copy)}
    proc = cli("verify", str(saved), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first == "verify: NOT reproduced under the installed criteria; instruments changed: mas2016"
    assert "mas2016: result changed (status 'met' → 'not_met'" in proc.stdout
    assert "mas2016: criteria data changed (criteria/mas2016.yaml)" in proc.stdout


def test_verify_a_data_change_that_leaves_results_alone_still_exits_1(saved, tmp_path):
    copy = tmp_path / "criteria"
    shutil.copytree(ROOT / "criteria", copy)
    path = copy / "ohi.yaml"
    data = path.read_text(encoding="utf-8")
    path.write_text(data.replace("purpose:", "purpose: Reworded.", 1), encoding="utf-8")
    proc = cli("verify", str(saved), env={**__import__("os").environ, "MAS_SCREEN_CRITERIA_DIR": str(copy)})
    assert proc.returncode == 1
    assert "ohi: criteria data changed (criteria/ohi.yaml)" in proc.stdout
    assert "result changed" not in proc.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"labs": {}}', "not a MAS Screen result"),
        ('{"criteria": {}, "summary": {}}', "no provenance"),
        ('{"criteria": {}, "provenance": {"criteria_sha256": "x"}}', "records no input"),
        ('{"criteria": {}, "provenance": {"input": {"labs": {"nonsense": 1}}}}', "does not validate"),
        ('{"points": []}', "no points"),
    ],
)
def test_verify_unreadable_exits_2(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    proc = cli("verify", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert message in proc.stderr and proc.stderr.count("\n") == 1


def test_verify_missing_file_exits_2(tmp_path):
    proc = cli("verify", str(tmp_path / "nowhere.json"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_verify_a_trend_result(tmp_path):
    series = {
        "context": {"underlying_disease": "sjia", "febrile": True},
        "panels": [
            {"time": "2026-03-01T08:00", "labs": {"ferritin": 600, "platelets": 250}},
            {"time": "2026-03-02T08:00", "labs": {"ferritin": 3000, "platelets": 120, "ast": 80}},
        ],
    }
    proc = cli("trend", "-", stdin=json.dumps(series))
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "trend.json"
    path.write_text(proc.stdout, encoding="utf-8")
    proc = cli("verify", str(path))
    assert proc.returncode == 0, proc.stdout
    assert "(2 assessments)" in proc.stdout


def test_verify_the_bedside_json_export():
    from mas_screen.render.export import assessment_json

    patient = PatientInput.model_validate(FULL_PANEL)
    report = verify_data(json.loads(assessment_json(assess(patient), patient)))
    assert report.reproduced and report.checked == 1


def test_verify_names_a_tampered_result():
    data = stamped(CONTRACT_EXAMPLE)
    data["criteria"]["hscore"]["status"] = "met"
    data["summary"]["mas_signal"] = "not_suggestive"
    report = verify_data(data)
    assert not report.reproduced
    assert report.instruments == ["hscore"]
    assert any("mas_signal 'not_suggestive' → " in f.what for f in report.findings)


def test_verify_refuses_garbage_input_record():
    data = stamped({})
    data["provenance"]["input"] = "labs"
    with pytest.raises(VerifyError):
        verify_data(data)


def test_verify_reproduces_hostile_inputs():
    """Whatever assess() accepts (the fuzz harness's hostile patients), verify reproduces."""
    rng = random.Random(20261207)
    checked = 0
    for _ in range(400):
        raw = random_patient(rng)
        try:
            patient = PatientInput.model_validate(raw)
        except (ValidationError, TypeError, ValueError):
            continue
        result = json.loads(json.dumps(assess(patient).model_dump(mode="json"), allow_nan=False))
        report = verify_data(result)
        assert report.reproduced, (raw, report.text())
        checked += 1
    assert checked > 250
