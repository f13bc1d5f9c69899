"""The contract's "Batch" column layout (mas_screen.kernel.inputs.columns), shared by the trend CSV reader."""

from __future__ import annotations

import pytest

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria
from mas_screen.faces.trends import assess_series
from mas_screen.kernel.inputs.columns import (
    ColumnError,
    column_name,
    convert_row,
    parse_columns,
    read_series_csv,
    row_to_patient_data,
    suffix_key,
)


def one(name: str):
    cmap = parse_columns([name])
    assert not cmap.unknown, cmap.unknown
    (col,) = cmap.columns
    return col.kind, col.key, col.unit


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("id", ("id", None, None)),
        ("TIME", ("time", None, None)),
        ("febrile", ("context", "febrile", None)),
        ("Age_Years", ("context", "age_years", None)),
        ("hepatomegaly_cm", ("context", "hepatomegaly_cm", None)),
        ("underlying_disease", ("context", "underlying_disease", None)),
        # <key>: the default unit
        ("ferritin", ("lab", "ferritin", "ng/mL")),
        ("platelets", ("lab", "platelets", "10^9/L")),
        ("d_dimer", ("lab", "d_dimer", "mg/L FEU")),
        ("temperature", ("lab", "temperature", "degC")),
        # <key>_<unit>, "/" → "_per_", case-insensitive, µ → u
        ("fibrinogen_g_per_L", ("lab", "fibrinogen", "g/L")),
        ("fibrinogen_mg_per_dL", ("lab", "fibrinogen", "mg/dL")),
        ("fibrinogen_umol_per_L", ("lab", "fibrinogen", "µmol/L")),
        ("ferritin_ug_per_L", ("lab", "ferritin", "µg/L")),
        ("Ferritin_µg_per_L", ("lab", "ferritin", "µg/L")),
        ("ferritin_mcg_per_L", ("lab", "ferritin", "µg/L")),  # alias
        ("ferritin_ng_per_mL", ("lab", "ferritin", "ng/mL")),
        ("triglycerides_mmol_per_L", ("lab", "triglycerides", "mmol/L")),
        ("triglycerides_mg_per_dl", ("lab", "triglycerides", "mg/dL")),
        ("temperature_degF", ("lab", "temperature", "degF")),
        ("temperature_F", ("lab", "temperature", "degF")),  # alias
        ("temperature_Cel", ("lab", "temperature", "degC")),  # UCUM
        ("temperature_°C", ("lab", "temperature", "degC")),
        ("platelets_10^9_per_L", ("lab", "platelets", "10^9/L")),
        ("platelets_10*9_per_L", ("lab", "platelets", "10^9/L")),  # UCUM
        ("platelets_x10_9_per_L", ("lab", "platelets", "10^9/L")),
        ("platelets_10⁹_per_L", ("lab", "platelets", "10^9/L")),
        ("platelets_10^3_per_uL", ("lab", "platelets", "10^3/µL")),
        ("platelets_K_per_uL", ("lab", "platelets", "10^3/µL")),  # alias
        ("platelets_per_uL", ("lab", "platelets", "/µL")),
        ("platelets_per_mm3", ("lab", "platelets", "/mm3")),
        ("wbc_10^9_per_L", ("lab", "wbc", "10^9/L")),
        ("neutrophils_cells_per_uL", ("lab", "neutrophils", "/µL")),
        ("hemoglobin_g_per_L", ("lab", "hemoglobin", "g/L")),
        ("hemoglobin_mmol_per_L", ("lab", "hemoglobin", "mmol/L")),
        ("ast_ukat_per_L", ("lab", "ast", "µkat/L")),
        ("ldh_IU_per_L", ("lab", "ldh", "U/L")),
        ("esr_mm_per_h", ("lab", "esr", "mm/h")),
        ("esr_mm_per_hr", ("lab", "esr", "mm/h")),
        ("crp_mg_per_dL", ("lab", "crp", "mg/dL")),
        ("d_dimer_mg_per_L_FEU", ("lab", "d_dimer", "mg/L FEU")),
        ("d_dimer_ug_per_mL_FEU", ("lab", "d_dimer", "µg/mL FEU")),
        ("d_dimer_ng_per_mL_FEU", ("lab", "d_dimer", "ng/mL FEU")),
        ("scd25_U_per_mL", ("lab", "scd25", "U/mL")),
        # spreadsheet spellings
        ("Fibrinogen (g/L)", ("lab", "fibrinogen", "g/L")),
        ("ferritin ng/mL", ("lab", "ferritin", "ng/mL")),
        # refused units map to their lab; each cell then gets the not_convertible warning
        ("scd25_pg_per_mL", ("lab", "scd25", "pg/mL")),
        ("d_dimer_mg_per_L", ("lab", "d_dimer", "mg/l")),
    ],
)
def test_column_names(name, expected):
    assert one(name) == expected


def test_every_accepted_unit_spelling_maps_back_to_its_unit():
    for key, spec in criteria().analytes.analytes.items():
        for u in spec.units:
            for spelling in [u.unit, u.ucum, *u.aliases]:
                assert one(column_name(key, spelling)) == ("lab", key, u.unit), (key, spelling)


def test_no_two_units_of_one_lab_share_a_column_spelling():
    for key, spec in criteria().analytes.analytes.items():
        seen: dict[str, str] = {}
        for u in spec.units:
            for spelling in [u.unit, u.ucum, *u.aliases]:
                k = suffix_key(spelling)
                assert seen.setdefault(k, u.unit) == u.unit, (key, spelling)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("ferritn", "not an input"),
        ("fibrinogen_kg", "not an accepted unit for Fibrinogen"),
        ("platelets_per_L", "not an accepted unit"),
        ("date", "called 'time'"),
        ("notes", "not an input"),
        ("altitude", "not an input"),
    ],
)
def test_unknown_columns_are_reported_not_guessed(name, fragment):
    cmap = parse_columns(["time", name])
    assert [c.kind for c in cmap.columns] == ["time"]
    assert len(cmap.unknown) == 1 and fragment in cmap.unknown[0].message


def test_two_time_columns_cannot_be_read():
    with pytest.raises(ColumnError, match="2 columns are called 'time'"):
        parse_columns(["time", "Time"])


# ------------------------------------------------------------------------------------------ rows


def test_row_to_patient_data_keeps_cells_as_typed():
    cmap = parse_columns(["id", "time", "febrile", "age_years", "ferritin", "fibrinogen_g_per_L", "platelets"])
    row = {
        "id": "p7",
        "time": "2026-03-01",
        "febrile": "Yes",
        "age_years": "6.5",
        "ferritin": ">40000",
        "fibrinogen_g_per_L": "1.4",
        "platelets": "",
    }
    data = row_to_patient_data(row, cmap)
    assert data == {
        "id": "p7",
        "context": {"febrile": True, "age_years": "6.5"},
        "labs": {"ferritin": {"value": ">40000", "unit": "ng/mL"}, "fibrinogen": {"value": "1.4", "unit": "g/L"}},
    }
    result = assess(PatientInput.model_validate(data))
    item = next(i for i in result.criteria["mas2016"].items if i.id == "fibrinogen")
    assert item.input == {"value": "1.4", "unit": "g/L"} and item.result == "met"


def test_positional_rows():
    cmap = parse_columns(["time", "ferritin"])
    assert convert_row(["2026-03-01", "900"], cmap).data == {"labs": {"ferritin": {"value": "900", "unit": "ng/mL"}}}
    assert convert_row(["2026-03-01"], cmap).data == {"labs": {}}  # short row: the rest blank


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("true", True), ("TRUE", True), ("yes", True), ("Y", True), ("1", True),
        ("false", False), ("No", False), ("n", False), ("0", False),
        ("", None), ("  ", None), ("unknown", None), ("NA", None), ("?", None),
    ],
)  # fmt: skip
def test_booleans(cell, value):
    cmap = parse_columns(["febrile"])
    result = convert_row({"febrile": cell}, cmap)
    assert result.problems == []
    assert result.data.get("context", {}).get("febrile") == value


@pytest.mark.parametrize(("cell", "value"), [(1.0, True), (0.0, False), (True, True), (False, False)])
def test_float_and_bool_spellings_of_yes_no(cell, value):
    """A yes/no column with gaps is a float column in pandas and Parquet: the numbers 1.0/0.0 there are
    the integers 1/0 (cell_text), read as yes/no like the text "1"/"0"."""
    result = convert_row({"febrile": cell}, parse_columns(["febrile"]))
    assert result.problems == []
    assert result.data["context"]["febrile"] is value


@pytest.mark.parametrize("cell", ["1.0", "0.0", " 1.00 ", "on", "off", "1.5", "2.0", "10", "0.1", "1e0", "01.0"])
def test_other_numbers_are_not_yes_no(cell):
    """Issue 13 finding 7: typed "1.0" and "off" are not yes/no answers (strict, as in JSON): flagged,
    read as not known."""
    result = convert_row({"splenomegaly": cell}, parse_columns(["splenomegaly"]))
    assert "context" not in result.data
    assert [p.code for p in result.problems] == ["bad_value"]


def test_float_yes_no_columns_screen_like_words():
    """The batch engine reads a float64 Parquet/pandas column as its text ("1.0"): same result as yes/no."""
    import numpy as np
    import pandas as pd

    from mas_screen.faces.cohort import screen_frame

    labs = {"ferritin": ["2500", "2500", "2500"], "platelets": ["100", "100", "100"], "ast": ["60", "60", "60"]}
    floats = pd.DataFrame(
        {"id": ["a", "b", "c"], "febrile": [1.0, 0.0, np.nan], "cns_involvement": [0.0, 1.0, 1.0], **labs}
    )
    words = floats.assign(febrile=["yes", "no", ""], cns_involvement=["no", "yes", "yes"])
    a, b = screen_frame(floats), screen_frame(words)
    results = [c for c in a.columns if c not in floats.columns]
    pd.testing.assert_frame_equal(a[results], b[results])
    assert list(a["warnings"]) == ["", "", ""]
    assert list(a["mas2016_status"]) == ["met", "not_met", "indeterminate"]


def test_bad_boolean_is_flagged_and_not_known():
    result = convert_row({"hepatomegaly": "maybe"}, parse_columns(["hepatomegaly"]))
    assert "context" not in result.data
    (p,) = result.problems
    assert (p.code, p.field, p.input) == ("bad_value", "hepatomegaly", "maybe")


@pytest.mark.parametrize(
    ("cell", "value", "code"),
    [("sJIA", "sjia", None), ("aosd", "aosd", None), ("unknown", "unknown", None), ("", None, None),
     ("lupus", None, "bad_value")],
)  # fmt: skip
def test_enums(cell, value, code):
    result = convert_row({"underlying_disease": cell}, parse_columns(["underlying_disease"]))
    assert result.data.get("context", {}).get("underlying_disease") == value
    assert [p.code for p in result.problems] == ([code] if code else [])


def test_biologic_none_is_a_value_not_unknown():
    result = convert_row({"biologic_therapy": "None"}, parse_columns(["biologic_therapy"]))
    assert result.data["context"] == {"biologic_therapy": "none"}


def test_empty_cells_are_not_entered():
    cmap = parse_columns(["time", "ferritin", "platelets", "febrile", "age_years"])
    assert row_to_patient_data(
        {"time": "", "ferritin": "", "platelets": "  ", "febrile": "", "age_years": ""}, cmap
    ) == {"labs": {}}


def test_two_units_in_one_row_keep_neither():
    cmap = parse_columns(["fibrinogen", "fibrinogen_g_per_L", "ferritin"])
    result = convert_row({"fibrinogen": "360", "fibrinogen_g_per_L": "3.6", "ferritin": "900"}, cmap)
    assert result.data["labs"] == {"ferritin": {"value": "900", "unit": "ng/mL"}}
    (p,) = result.problems
    assert (p.code, p.field) == ("two_units", "fibrinogen")
    assert "fibrinogen = 360" in p.message and "fibrinogen_g_per_L = 3.6" in p.message and "neither" in p.message
    # only one of the two filled: used
    one_filled = convert_row({"fibrinogen": "", "fibrinogen_g_per_L": "3.6"}, cmap)
    assert one_filled.data["labs"] == {"fibrinogen": {"value": "3.6", "unit": "g/L"}} and not one_filled.problems


def test_same_unit_twice():
    cmap = parse_columns(["ferritin", "ferritin_ng_per_mL"])
    differ = convert_row(["900", "1000"], cmap)
    assert differ.data["labs"] == {} and [p.code for p in differ.problems] == ["two_values"]
    agree = convert_row(["900", "900"], cmap)
    assert agree.data["labs"] == {"ferritin": {"value": "900", "unit": "ng/mL"}} and not agree.problems


def test_context_field_twice():
    cmap = parse_columns(["febrile", "Febrile"])
    assert [p.code for p in convert_row(["yes", "no"], cmap).problems] == ["two_values"]
    assert convert_row(["yes", "1"], cmap).data["context"] == {"febrile": True}


def test_a_cell_may_name_its_own_unit():
    cmap = parse_columns(["fibrinogen"])
    result = convert_row({"fibrinogen": "3.6 g/L"}, cmap)
    assert result.data["labs"] == {"fibrinogen": {"value": "3.6", "unit": "g/L"}}
    assert [(p.code, p.severity) for p in result.problems] == [("cell_unit", "info")]
    same = convert_row({"fibrinogen": "360 mg/dL"}, cmap)
    assert same.data["labs"] == {"fibrinogen": {"value": "360", "unit": "mg/dL"}} and not same.problems
    # not a unit: passed on, and the assessment says unknown_unit with the text as typed
    odd = convert_row({"fibrinogen": "360 (clotted)"}, cmap)
    warnings = assess(PatientInput.model_validate(odd.data)).input_warnings
    assert [(w.code, w.input) for w in warnings] == [("unknown_unit", "360 (clotted)")]


@pytest.mark.parametrize("cell", ["150", ">40000", "> 40,000", "1 000", "1e3", "elevated", "3,6"])
def test_numbers_and_words_are_not_split(cell):
    assert (
        convert_row({"ferritin": cell}, parse_columns(["ferritin"])).data["labs"]["ferritin"]["value"] == cell.strip()
    )


def test_unnamed_and_extra_cells_are_reported():
    cmap = parse_columns(["time", "ferritin", ""])
    assert cmap.unnamed == [2] and not cmap.unknown
    result = convert_row(["2026-03-01", "900", "x", "y"], cmap)
    assert [p.code for p in result.problems] == ["unnamed_column", "extra_cells"]
    assert not convert_row(["2026-03-01", "900", "", ""], cmap).problems


# ------------------------------------------------------------------------------------------- CSV


def test_read_series_csv():
    text = (
        "\ufeffid;time;febrile;underlying_disease;platelets;fibrinogen;fibrinogen_g_per_L\n"
        "p1;2026-03-01 08:00;yes;sjia;300;;3.6\n"
        ";;;;;;\n"
        "p1;2026-03-02 08:00;yes;sjia;220;300;2.5\n"
        "p1;2026-03-03 08:00;yes;sjia;140;250;\n"
    )
    table = read_series_csv(text)
    assert table.series.id == "p1"
    assert [p.time for p in table.series.panels] == ["2026-03-01 08:00", "2026-03-02 08:00", "2026-03-03 08:00"]
    assert table.lines == [2, 4, 5]
    assert table.series.panels[0].context.febrile is True
    assert [(w.row, w.code, w.line) for w in table.problems] == [(1, "two_units", 4)]
    result = assess_series(table.series, problems=table.problems)
    assert [c.value for c in result.changes["fibrinogen"]] == [360, 250]  # row 2's two units: neither used
    assert result.warnings[0].code == "two_units"


def test_csv_cells_echo_as_typed():
    table = read_series_csv('time,ferritin,platelets_per_uL\n2026-03-01,"> 40,000","150,000"\n')
    labs = table.series.panels[0].labs
    assert (labs["ferritin"].value, labs["platelets"].value, labs["platelets"].unit) == ("> 40,000", "150,000", "/µL")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("ferritin\n900\n", "no 'time' column"),
        ("date,ferritin\n2026-03-01,900\n", "rename the date column to 'time'"),
        ("id,time,ferritin\na,2026-03-01,900\nb,2026-03-02,900\n", "more than one patient id"),
    ],
)
def test_csv_that_cannot_be_a_series(text, message):
    with pytest.raises(ColumnError, match=message):
        read_series_csv(text)


def test_csv_unknown_columns_are_listed():
    table = read_series_csv("time,ferritn\n2026-03-01,900\n")
    assert [u.name for u in table.columns.unknown] == ["ferritn"]


def test_csv_value_in_a_wrong_looking_unit_is_flagged_on_its_row():
    # 320 g/L fibrinogen is implausible but fits mg/dL: unit_suspect in that point, left out of changes.
    table = read_series_csv("time,fibrinogen_g_per_L\n2026-03-01,3.6\n2026-03-02,320\n2026-03-03,2.4\n")
    result = assess_series(table.series, problems=table.problems)
    warnings = result.points[1].assessment.input_warnings
    assert [(w.field, w.code, w.input) for w in warnings] == [("fibrinogen", "unit_suspect", "320 g/L")]
    # 3.6 g/L = 360 mg/dL; 2.4 g/L = 240 mg/dL; 240 − 360 = −120 (−33.33%) over 2 days = −60/day
    f = result.changes["fibrinogen"]
    assert [c.value for c in f] == [360, 240]
    assert (f[1].change_from_previous, f[1].change_from_previous_percent, f[1].per_day_from_previous) == (
        -120,
        -33.33,
        -60,
    )


def test_the_context_fields_are_the_models_fields_in_order() -> None:
    """domain/fields.py names the context fields without pydantic (the cohort reads them); the
    contract's model declares them: one order for both."""
    from mas_screen.domain.fields import CONTEXT_FIELDS, CONTEXT_LABELS
    from mas_screen.domain.models import ClinicalContext

    assert CONTEXT_FIELDS == tuple(ClinicalContext.model_fields) == tuple(CONTEXT_LABELS)
