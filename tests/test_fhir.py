"""FHIR R4 import: hand-built Bundles → PatientInput / series, and what is reported instead of guessed."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from mas_screen import assess
from mas_screen.faces.cli.main import main
from mas_screen.faces.fhir import bundle_to_inputs
from mas_screen.faces.fhir_read import FhirError, loinc_map


def obs(oid: str, loinc: str | None, value=None, ucum=None, *, unit=None, when="2026-03-01T08:00:00Z", **extra) -> dict:
    resource: dict = {
        "resourceType": "Observation",
        "id": oid,
        "status": extra.pop("status", "final"),
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]} if loinc else {"text": "something"},
        "subject": {"reference": "Patient/p1"},
    }
    if when:
        resource["effectiveDateTime"] = when
    quantity: dict = {}
    if value is not None:
        quantity["value"] = value
    if ucum is not None:
        quantity.update({"system": "http://unitsofmeasure.org", "code": ucum})
    if unit is not None:
        quantity["unit"] = unit
    if "comparator" in extra:
        quantity["comparator"] = extra.pop("comparator")
    if quantity:
        resource["valueQuantity"] = quantity
    resource.update(extra)
    return {"fullUrl": f"urn:uuid:{oid}", "resource": resource}


def bundle(*entries, birth="2019-09-01") -> dict:
    items = list(entries)
    if birth is not None:
        items.insert(
            0, {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": birth}}
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": items}


def codes(result) -> list[str]:
    return [p.code for p in result.problems]


def test_loinc_codes_come_from_analytes_yaml():
    table = loinc_map()
    assert table["2276-4"] == "ferritin"
    assert table["777-3"] == "platelets"
    assert table["8310-5"] == "temperature"


def test_a_panel_with_ucum_units_and_age():
    result = bundle_to_inputs(
        bundle(
            obs("f", "2276-4", 2500, "ng/mL"),
            obs("p", "777-3", 120, "10*3/uL"),
            obs("fib", "3255-7", 3.6, "g/L"),
            obs("tg", "14927-8", 1.9, "mmol/L"),
            obs("t", "8310-5", 101.3, "[degF]"),
            obs("a", "1920-8", 0.8, "ukat/L"),
        )
    )
    assert result.series is None
    assert result.problems == []
    patient = result.patient
    assert patient.id == "p1"
    assert patient.context.age_years == round((date(2026, 3, 1) - date(2019, 9, 1)).days / 365.25, 4)
    labs = {k: (v.value, v.unit) for k, v in patient.labs.items()}
    assert labs == {
        "ferritin": ("2500", "ng/mL"),
        "platelets": ("120", "10^3/µL"),
        "fibrinogen": ("3.6", "g/L"),
        "triglycerides": ("1.9", "mmol/L"),
        "temperature": ("101.3", "degF"),
        "ast": ("0.8", "µkat/L"),
    }
    a = assess(patient)
    assert a.input_warnings == []
    assert a.criteria["mas2016"].items[5].result == "met"  # 3.6 g/L = 360 mg/dL <= 360


def test_unit_text_is_used_when_there_is_no_ucum_code():
    result = bundle_to_inputs(bundle(obs("f", "2276-4", 2500, unit="µg/L")))
    assert result.patient.labs["ferritin"].unit == "µg/L"


def test_wrong_and_refused_units_are_reported_not_guessed():
    result = bundle_to_inputs(
        bundle(
            obs("f", "2276-4", 2500, "mg/dL"),  # not a ferritin unit
            obs("s", "76039-7", 5000, "pg/mL"),  # sCD25 in pg/mL: no fixed conversion
            obs("p", "777-3", 120),  # no unit at all
            obs("d", "48065-7", 0.9, "mg/L"),  # D-dimer without FEU/DDU
        )
    )
    assert codes(result) == ["unknown_unit", "not_convertible", "no_unit", "not_convertible"]
    assert result.patient.labs == {}
    assert {p.field for p in result.problems} == {"ferritin", "scd25", "platelets", "d_dimer"}


def test_missing_value_quantity_and_other_value_types():
    result = bundle_to_inputs(
        bundle(
            obs("a", "2276-4", None),  # no valueQuantity
            obs("b", "777-3", None, dataAbsentReason={"text": "sample clotted"}),
            obs("c", "1920-8", None, valueString="elevated"),
            obs("d", "2532-0", unit="U/L"),  # valueQuantity without a value
        )
    )
    assert codes(result) == ["no_value", "no_value", "not_a_quantity", "no_value"]
    assert "sample clotted" in result.problems[1].message
    assert result.patient.labs == {}


def test_unknown_codes_are_reported():
    result = bundle_to_inputs(bundle(obs("x", "30522-7", 5, "mg/L"), obs("y", None, 5, "mg/L")))  # hs-CRP
    assert codes(result) == ["unknown_code", "unknown_code"]
    assert "30522-7" in result.problems[0].message


def test_censored_values_use_the_comparator():
    result = bundle_to_inputs(
        bundle(obs("f", "2276-4", 40000, "ng/mL", comparator=">"), obs("e", "4537-7", 2, "mm/h", comparator="<"))
    )
    assert result.patient.labs["ferritin"].value == ">40000"
    assert result.patient.labs["esr"].value == "<2"
    assert assess(result.patient).criteria["hscore"].items[4].result == "met"
    odd = bundle_to_inputs(bundle(obs("f", "2276-4", 40000, "ng/mL", comparator="ad")))
    assert codes(odd) == ["comparator"]


def test_duplicate_codes_on_one_date():
    result = bundle_to_inputs(
        bundle(
            obs("f1", "2276-4", 2000, "ng/mL", when="2026-03-01T06:00:00Z"),
            obs("f2", "20567-4", 2600, "ng/mL", when="2026-03-01T18:00:00Z"),  # another ferritin LOINC, later
            obs("p1", "777-3", 100, "10*9/L", when="2026-03-01T08:00:00Z"),
            obs("p2", "777-3", 110, "10*9/L", when="2026-03-01T08:00:00Z"),  # same time, different value
            obs("e1", "4537-7", 10, "mm/h"),
            obs("e2", "4537-7", 10, "mm/h"),  # same value twice
        )
    )
    assert result.patient.labs["ferritin"].value == "2600"
    assert "platelets" not in result.patient.labs
    assert result.patient.labs["esr"].value == "10"
    found = {(p.field, p.code, p.severity) for p in result.problems}
    assert found == {
        ("ferritin", "duplicate", "info"),
        ("platelets", "duplicate_conflict", "warning"),
        ("esr", "duplicate", "info"),
    }


def test_several_dates_give_a_series_and_the_latest_panel():
    result = bundle_to_inputs(
        bundle(
            obs("f1", "2276-4", 1200, "ng/mL", when="2026-03-01T08:00:00Z"),
            obs("p1", "777-3", 250, "10*9/L", when="2026-03-01T08:00:00Z"),
            obs("f2", "2276-4", 9000, "ng/mL", when="2026-03-03T07:30:00Z"),
            obs("p2", "777-3", 90, "10*9/L", when="2026-03-03T07:30:00Z"),
            obs("f3", "2276-4", 5000, "ng/mL", when="2026-03-02"),
        )
    )
    assert result.times == ["2026-03-01T08:00:00+00:00", "2026-03-02", "2026-03-03T07:30:00+00:00"]
    assert [p.time for p in result.series.panels] == result.times
    assert result.patient.labs["ferritin"].value == "9000"
    assert result.patient.context.age_years == round((date(2026, 3, 3) - date(2019, 9, 1)).days / 365.25, 4)
    from mas_screen.faces.trends import assess_series

    trend = assess_series(result.series)
    assert len(trend.points) == 3


def test_undated_observations_among_dated_ones_are_left_out():
    result = bundle_to_inputs(bundle(obs("f", "2276-4", 1200, "ng/mL"), obs("p", "777-3", 90, "10*9/L", when=None)))
    assert codes(result) == ["undated"]
    assert "platelets" not in result.patient.labs
    alone = bundle_to_inputs(bundle(obs("p", "777-3", 90, "10*9/L", when=None)))
    assert alone.patient.labs["platelets"].value == "90"
    assert alone.series is None


def test_status_entered_in_error_and_invalid_resources_are_skipped():
    bad = {"resource": {"resourceType": "Observation", "id": "broken", "code": {"text": "x"}}}  # no status
    result = bundle_to_inputs(
        bundle(
            obs("f", "2276-4", 1200, "ng/mL", status="entered-in-error"),
            bad,
            {"resource": {"resourceType": "Condition"}},
        )
    )
    assert codes(result) == ["status", "invalid_resource", "ignored_resource"]


def test_partial_birth_date_and_no_patient():
    result = bundle_to_inputs(bundle(obs("f", "2276-4", 1200, "ng/mL"), birth="2019"))
    assert "partial_birthdate" in codes(result) or "invalid_resource" in codes(result)
    assert result.patient.context.age_years is None
    nobody = bundle_to_inputs(bundle(obs("f", "2276-4", 1200, "ng/mL"), birth=None))
    assert nobody.patient.id is None


def test_text_bytes_and_a_single_observation_are_accepted():
    b = bundle(obs("f", "2276-4", 1200, "ng/mL"))
    assert bundle_to_inputs(json.dumps(b)).patient.labs["ferritin"].value == "1200"
    assert bundle_to_inputs(json.dumps(b).encode()).patient.labs["ferritin"].value == "1200"
    single = obs("f", "2276-4", 1200, "ng/mL")["resource"]
    assert bundle_to_inputs(single).patient.labs["ferritin"].value == "1200"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"resourceType": "Patient"}', "expected a FHIR Bundle"),
    ],
)
def test_unreadable_input_raises(data, message):
    with pytest.raises(FhirError, match=message):
        bundle_to_inputs(data)


def test_two_patients_are_refused():
    other = obs("g", "2276-4", 900, "ng/mL")
    other["resource"]["subject"] = {"reference": "Patient/someone-else"}
    with pytest.raises(FhirError, match="more than one patient"):
        bundle_to_inputs(bundle(obs("f", "2276-4", 1200, "ng/mL"), other))


# --------------------------------------------------------------------------------------- command


def run_cli(args, stdin_text=""):
    out = io.StringIO()
    code = main(args, stdin=io.StringIO(stdin_text), stdout=out)
    return code, out.getvalue()


def test_cli_assess_fhir(tmp_path, capsys):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(obs("f", "2276-4", 2500, "ng/mL"), obs("x", "30522-7", 5, "mg/L"))))
    code, out = run_cli(["assess", str(path), "--fhir"])
    assert code == 0
    result = json.loads(out)
    assert result["criteria"]["mas2016"]["items"][1]["input"] == {"value": "2500", "unit": "ng/mL"}
    assert "30522-7" in capsys.readouterr().err


def test_cli_assess_fhir_series_assesses_the_latest(capsys):
    b = bundle(
        obs("f1", "2276-4", 1200, "ng/mL", when="2026-03-01"), obs("f2", "2276-4", 9000, "ng/mL", when="2026-03-02")
    )
    code, out = run_cli(["assess", "-", "--fhir", "--format", "text"], json.dumps(b))
    assert code == 0
    assert "9000" in out
    assert "2 dates" in capsys.readouterr().err


def test_cli_assess_fhir_unreadable(capsys):
    code, out = run_cli(["assess", "-", "--fhir"], '{"resourceType": "Patient"}')
    assert code == 2
    assert out == ""
    assert "expected a FHIR Bundle" in capsys.readouterr().err


# ------------------------------------------------------------------- time zones (issue 13, finding 4)


def test_latest_compares_instants_across_time_zones():
    """Issue 13 finding 4: FHIR "latest" ignored time zones. 09:00-05:00 is 14:00 UTC, after 10:00+00:00:
    ferritin 5000 is the latest result, and the 2016 criteria see it."""
    result = bundle_to_inputs(
        bundle(
            obs("a", "2276-4", 500, "ng/mL", when="2026-03-01T10:00:00+00:00"),
            obs("b", "2276-4", 5000, "ng/mL", when="2026-03-01T09:00:00-05:00"),
        )
    )
    assert result.patient.labs["ferritin"].value == "5000"
    (dup,) = [p for p in result.problems if p.code == "duplicate"]
    assert "Observation/b" in dup.message.split("the latest")[1]
    assert result.times == ["2026-03-01T09:00:00-05:00"]


def test_same_instant_written_in_two_offsets_is_the_same_time():
    result = bundle_to_inputs(
        bundle(
            obs("a", "2276-4", 500, "ng/mL", when="2026-03-01T14:00:00+00:00"),
            obs("b", "2276-4", 5000, "ng/mL", when="2026-03-01T09:00:00-05:00"),
        )
    )
    assert "ferritin" not in result.patient.labs
    assert "duplicate_conflict" in codes(result)


def test_a_time_without_offset_is_not_ordered_against_a_near_offset_time():
    """Issue 13 finding 4 (decision): a clock time without an offset can be anywhere from 14 h before to
    12 h after the same reading in UTC. Within that, which result is latest is unknown: neither is used,
    with a warning that names both (a stale value is never shown as the latest)."""
    result = bundle_to_inputs(
        bundle(
            obs("a", "2276-4", 500, "ng/mL", when="2026-03-01T10:00:00+00:00"),
            obs("b", "2276-4", 5000, "ng/mL", when="2026-03-01T09:00:00"),
        )
    )
    assert "ferritin" not in result.patient.labs
    (problem,) = [p for p in result.problems if p.code == "time_order_unknown"]
    assert problem.field == "ferritin" and "Observation/a" in problem.message and "Observation/b" in problem.message
    assert "no_timezone" in codes(result)


@pytest.mark.parametrize(
    ("zoned", "local", "latest"),
    [
        ("2026-03-01T23:30:00+00:00", "2026-03-01T08:00:00", "500"),  # 23:30 UTC is after any 08:00 (≤ 20:00 UTC)
        ("2026-03-01T01:00:00+00:00", "2026-03-01T16:00:00", "5000"),  # 16:00 anywhere is after 01:00 UTC (≥ 02:00)
    ],
)
def test_a_time_without_offset_is_ordered_when_every_offset_agrees(zoned, local, latest):
    result = bundle_to_inputs(
        bundle(obs("a", "2276-4", 500, "ng/mL", when=zoned), obs("b", "2276-4", 5000, "ng/mL", when=local))
    )
    assert result.patient.labs["ferritin"].value == latest
    assert "time_order_unknown" not in codes(result)


def test_times_without_offsets_are_compared_as_written():
    """FHIR requires an offset; fhir.resources refuses such an Observation whole. Its result is kept, the
    time read as a clock time: times of one bundle without offsets share one clock."""
    result = bundle_to_inputs(
        bundle(
            obs("a", "2276-4", 500, "ng/mL", when="2026-03-01T10:00:00"),
            obs("b", "2276-4", 5000, "ng/mL", when="2026-03-01T09:00:00"),
        )
    )
    assert result.patient.labs["ferritin"].value == "500"
    assert "time_order_unknown" not in codes(result)
    (note,) = [p for p in result.problems if p.code == "no_timezone"]
    assert note.severity == "info" and "compared with each other as written" in note.message


def test_cli_fhir_latest_respects_time_zones(capsys):
    data = bundle(
        obs("a", "2276-4", 500, "ng/mL", when="2026-03-01T10:00:00+00:00"),
        obs("b", "2276-4", 5000, "ng/mL", when="2026-03-01T09:00:00-05:00"),
    )
    out = io.StringIO()
    assert main(["assess", "-", "--fhir"], stdin=io.StringIO(json.dumps(data)), stdout=out) == 0
    result = json.loads(out.getvalue())
    ferritin = next(it for it in result["criteria"]["mas2016"]["items"] if it["id"] == "ferritin")
    assert ferritin["value"] == 5000


# ------------------------------------------------------------------- hostile bundles (issue 13)


def test_resource_type_that_is_not_a_name_is_a_problem_not_a_crash(capsys):
    """Issue 13 finding 6: `"resourceType": ["Observation"]` raised TypeError (unhashable list)."""
    entry = obs("f", "2276-4", 1200, "ng/mL")
    entry["resource"]["resourceType"] = ["Observation"]
    data = bundle(entry, obs("p", "777-3", 90, "10*9/L"))
    result = bundle_to_inputs(data)
    assert "invalid_resource" in codes(result) and set(result.patient.labs) == {"platelets"}
    out = io.StringIO()
    assert main(["assess", "-", "--fhir"], stdin=io.StringIO(json.dumps(data)), stdout=out) == 0
    assert "resourceType" in capsys.readouterr().err


@pytest.mark.parametrize("value", ['"1e1000000"', "1e1000000", "9" * 5000, '"' + "8" * 5000 + '"'])
def test_a_huge_fhir_value_is_not_a_number_in_bounded_time(value, capsys):
    """Issue 13 finding 1: FHIR `"value": "1e1000000"` took 35 s and ended in a traceback."""
    import time

    entry = json.dumps(obs("f", "2276-4", 12345, "ng/mL")).replace("12345", value)
    text = json.dumps(bundle()).replace('"entry": [', '"entry": [' + entry + ", ")
    started = time.process_time()
    out = io.StringIO()
    assert main(["assess", "-", "--fhir"], stdin=io.StringIO(text), stdout=out) == 0
    assert time.process_time() - started < 5  # generous: about 0.05 s; 35 s before the fix
    warnings = json.loads(out.getvalue())["input_warnings"]
    assert [(w["field"], w["code"]) for w in warnings] == [("ferritin", "not_a_number")]
    assert len(warnings[0]["input"]) < 100


def test_duplicate_keys_in_a_bundle_are_refused(capsys):
    """Issue 13 finding 7 (decision): a duplicate key in a JSON object is refused (exit 2): which value is
    meant cannot be known, and the last one silently won before."""
    text = '{"resourceType": "Bundle", "type": "collection", "entry": [], "entry": []}'
    assert main(["assess", "-", "--fhir"], stdin=io.StringIO(text), stdout=io.StringIO()) == 2
    assert "appears twice" in capsys.readouterr().err
