"""Reading numbers as typed (mas_screen.kernel.inputs.parsing, contract "Number spelling"): bounded work per value,
the decimal-comma rules, ambiguous spellings, yes/no answers, bounded JSON, and the column reader
agreeing with the single-value reader cell by cell. Regression tests for issue 13 findings 1, 2 and 7."""

from __future__ import annotations

import json
import math
import time
from decimal import Decimal

import pyarrow as pa
import pytest
from conftest import crit, run
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_screen.kernel.inputs.parsing import (
    COLUMN_OPS,
    JsonError,
    NotANumber,
    NotYesNo,
    echo,
    format_number,
    read_json,
    read_number,
    read_number_column,
    read_yes_no,
    split_unit,
    split_unit_column,
)

D = Decimal

# ------------------------------------------------------------------------ finding 2: decimal comma


@pytest.mark.parametrize(
    ("typed", "point", "comma"),
    [
        # contract examples: "," only between groups of three after a non-zero leading group
        ("20,000", D("20000"), D("20.000")),
        ("1,234.5", D("1234.5"), None),
        ("0,500", None, D("0.500")),
        ("1,5", None, D("1.5")),
        ("1.234,5", None, D("1234.5")),
        ("12,50", None, D("12.50")),
        ("12,500", D("12500"), D("12.500")),
        ("12.500", D("12.500"), D("12500")),
        ("0.500", D("0.500"), None),
        ("1.5", D("1.5"), None),
        ("1,234,567", D("1234567"), None),
        ("1.234.567", None, D("1234567")),
        # spaces: only between groups of three ("1 5" is never 15)
        ("1 5", None, None),
        ("1 000", D("1000"), D("1000")),
        ("20\u202f000,5", None, D("20000.5")),
        ("1 000.5", D("1000.5"), None),
        # censored, signs, exponents (the same in both spellings)
        ("> 20,000", D("20000"), D("20.000")),
        ("<0,5", None, D("0.5")),
        ("-12.5", D("-12.5"), None),
        ("1e5", D("1e5"), D("1e5")),
        ("2.5e3", D("2.5e3"), None),
        ("2,5e3", None, D("2.5e3")),
    ],
)
def test_number_spelling(typed, point, comma):
    """Issue 13 finding 2: a decimal comma was silently read as thousands ("0,500" → 500)."""
    for decimal_comma, want in ((False, point), (True, comma)):
        if want is None:
            with pytest.raises(NotANumber):
                read_number(typed, decimal_comma=decimal_comma)
        else:
            assert read_number(typed, decimal_comma=decimal_comma).value == want, (typed, decimal_comma)


def test_decimal_comma_message_says_what_to_do():
    with pytest.raises(NotANumber, match=r"not as a decimal comma.*with a point.*decimal-comma setting"):
        read_number("0,500")
    with pytest.raises(NotANumber, match="groups of three"):
        read_number("1 5")


@pytest.mark.parametrize(
    ("typed", "other"),
    [("12.500", D("12500")), ("12,500", D("12.500")), ("1.500", D("1500")), ("> 20,000", D("20.000"))],
)
def test_a_lone_separator_before_three_digits_has_another_reading(typed, other):
    assert read_number(typed).other == other
    assert read_number("1,234.5").other is None and read_number("0.500").other is None


def test_neutrophils_with_a_decimal_comma_never_read_as_500():
    """Issue 13 finding 2: neutrophils "0,500" was read as 500 ×10⁹/L and HLH-2004 became not_met with no
    warning; "0.5" gives met. Now not_a_number (left out, named), and with the setting 0.5."""
    context = {
        "febrile": True,
        "splenomegaly": True,
        "hemophagocytosis_marrow": False,
        "hemophagocytosis_other_site": False,
        "nk_activity_low": False,
        "hlh_molecular_diagnosis": False,
    }
    labs = {"hemoglobin": 12, "platelets": 50, "ferritin": 600, "triglycerides": 300, "fibrinogen": 300, "scd25": 1000}
    comma = run({**labs, "neutrophils": "0,500"}, **context)
    assert [(w["field"], w["code"]) for w in comma["input_warnings"]] == [("neutrophils", "not_a_number")]
    assert crit(comma, "hlh2004")["status"] != "not_met"
    point = run({**labs, "neutrophils": "0.5"}, **context)
    assert crit(point, "hlh2004")["status"] == "met"
    from mas_screen import PatientInput, assess

    setting = assess(
        PatientInput.model_validate(
            {"context": context, "labs": {**labs, "neutrophils": "0,500"}, "decimal_comma": True}
        )
    ).model_dump(mode="json")
    assert setting["input_warnings"] == [] and crit(setting, "hlh2004")["status"] == "met"


def test_ambiguous_ferritin_is_used_and_both_readings_named():
    """Issue 13 finding 2: ferritin "12.500" (12.5 here, 12500 with a decimal comma, both plausible)."""
    result = run({"ferritin": "12.500"})
    (w,) = result["input_warnings"]
    assert w["code"] == "ambiguous_number" and "12.5 ng/mL" in w["message"] and "12500 ng/mL" in w["message"]
    ferritin = next(it for it in crit(result, "mas2016")["items"] if it["id"] == "ferritin")
    assert ferritin["value"] == 12.5 and ferritin["result"] == "not_met"  # used, as read
    assert "ferritin" not in crit(result, "mas2016")["missing"]


def test_unambiguous_when_the_other_reading_is_implausible():
    # neutrophils 1.500 ×10⁹/L; 1500 ×10⁹/L is no living patient's count
    assert run({"neutrophils": "1.500"})["input_warnings"] == []


def test_a_bad_value_names_the_other_reading_in_its_message():
    result = run({"platelets": "150,000"})  # 150000 ×10⁹/L: implausible; 150 with a decimal comma
    (w,) = result["input_warnings"]
    assert w["code"] == "unit_suspect" and "With a decimal comma it would read 150" in w["message"]


# ---------------------------------------------------------------------- finding 1: bounded work


@pytest.mark.parametrize(
    "typed",
    ["1e1000000", "1e10000000", "1e5000", "8" * 5000, "9" * 1_000_000, "1" + "0" * 100_000 + ".5", "1e-400", "-1e31"],
    ids=["1e1000000", "1e10000000", "1e5000", "5000-digits", "1e6-digits", "100001-digit-decimal", "1e-400", "-1e31"],
)
def test_huge_spellings_are_not_a_number_in_bounded_time(typed):
    """Issue 13 finding 1: nine characters ("1e1000000") froze every session for 31 s (int(Decimal) in
    format_number); 4,301+ digits crashed with "Exceeds the limit (4300 digits)". Now not_a_number before
    any digit is converted. The limit is generous (one second of CPU; about 1 ms here)."""
    started = time.process_time()
    result = run({"ferritin": typed})
    assert time.process_time() - started < 1.0
    (w,) = result["input_warnings"]
    assert w["code"] == "not_a_number"
    assert len(w["input"]) < 100 and len(w["message"]) < 400  # echoed with an ellipsis


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**5000), 1e308, 1e-320, math.inf, math.nan],
    ids=["1e400", "-1e5000", "1e308", "1e-320", "inf", "nan"],
)
def test_huge_python_numbers_are_not_a_number(value):
    with pytest.raises(NotANumber):
        read_number(value)


def test_limits_are_the_contracts():
    assert read_number("1e30").value == D("1e30") and read_number("1e-30").value == D("1e-30")
    with pytest.raises(NotANumber, match="±30"):
        read_number("1e31")
    assert read_number("1.23456789012345e3").value == D("1234.56789012345")
    with pytest.raises(NotANumber, match="15 significant"):
        read_number("1.234567890123456e3")
    assert read_number("1" * 32).value == D("1" * 32)
    with pytest.raises(NotANumber, match="32"):
        read_number("1" * 33)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1E+1000000"), "1e+1000000"),
        (D("-1.50E-45"), "-1.5e-45"),
        pytest.param(10**5000, "an integer of about 5,001 digits", id="int-5001-digits"),
        (1e308, "1e+308"),
        (D("2500.0"), "2500"),
        (0.0001, "0.0001"),
        (D("1E+40"), "1" + "0" * 40),
    ],
)
def test_format_number_is_bounded(value, text):
    """Issue 13 finding 1: format_number called int(Decimal) on huge values (quadratic in the digits)."""
    assert format_number(value) == text


def test_echo_is_bounded():
    assert echo("x" * 1_000_000) == "x" * 39 + "… (1,000,000 characters)"
    assert len(echo([[[[[[[[1]]]]]]]] * 1000)) < 100


# --------------------------------------------------------------------------------------- JSON


def test_json_numbers_that_cannot_be_read_stay_text():
    """Issue 13 finding 1: huge JSON numbers (5,000 digits, 1e309, NaN, Infinity) are not_a_number values,
    never a traceback or a refused file."""
    data = read_json('{"a": ' + "9" * 5000 + ', "b": 1e309, "c": NaN, "d": -Infinity, "e": 1.5, "f": 7, "g": 1e5}')
    assert data["a"] == "9" * 5000 and data["b"] == "1e309" and data["c"] == "NaN" and data["d"] == "-Infinity"
    assert (data["e"], data["f"], data["g"]) == (1.5, 7, 100000.0)


def test_duplicate_json_keys_are_refused():
    """Issue 13 finding 7 (decision): duplicate keys silently kept the last value; now refused (exit 2)."""
    with pytest.raises(JsonError, match="'ferritin' appears twice"):
        read_json('{"labs": {"ferritin": 500, "ferritin": 5000}}')


# ------------------------------------------------------------------------------------ yes / no


YES_NO = [
    (True, True), (False, False), (None, None), ("yes", True), (" No ", False), ("1", True), ("0", False),
    ("TRUE", True), ("f", False), ("unknown", None), ("n/a", None), ("", None),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "value"), YES_NO)
def test_yes_no_vocabulary(raw, value):
    assert read_yes_no(raw) is value


@pytest.mark.parametrize("raw", ["off", "on", 1.0, 1, 0, "1.0", "maybe", [], "y" * 50])
def test_yes_no_is_strict(raw):
    """Issue 13 finding 7: `"febrile": "off"` and `1.0` were accepted as yes/no."""
    with pytest.raises(NotYesNo):
        read_yes_no(raw)


@pytest.mark.parametrize("raw", ["off", 1.0, 1])
def test_json_yes_no_outside_the_vocabulary_is_refused_with_a_message(raw, capsys):
    """Issue 13 finding 7 (decision): in JSON a yes/no answer outside the vocabulary is refused (exit 2,
    one line naming the field and what is accepted), as any wrong type of a yes/no answer already was."""
    import io

    from mas_screen.faces.cli.main import main

    text = json.dumps({"context": {"febrile": raw}, "labs": {"ferritin": 900}})
    assert main(["assess", "-"], stdin=io.StringIO(text), stdout=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "context.febrile" in err and "not a yes/no answer" in err and err.count("\n") == 1


# --------------------------------------------------------------------------------- units in cells


@pytest.mark.parametrize(
    ("cell", "split"),
    [
        ("3.6 g/L", ("3.6", "g/L")),
        ("150 10^9/L", ("150", "10^9/L")),  # a unit may start with digits (issue 13 finding 5)
        ("150 10^9/L 10^3/µL", ("150", "10^9/L 10^3/µL")),
        ("> 40000 ng/mL", ("> 40000", "ng/mL")),
        ("3,6 g/L", ("3,6", "g/L")),
        ("1.2 mg/L FEU", ("1.2", "mg/L FEU")),
        ("1e3", ("1e3", None)),
        ("1e400", ("1e400", None)),  # an exponent is not a unit
        ("1 000", ("1 000", None)),
        ("elevated", ("elevated", None)),
        ("1 " + "x" * 100, ("1 " + "x" * 100, None)),  # longer than a cell with a unit
    ],
)
def test_split_unit(cell, split):
    assert split_unit(cell) == split


# ----------------------------------------------------------------- columns agree with single values

CELL_PARTS = st.sampled_from(["", ">", "<", ">=", "<= ", "-", "+"])
NUMBERS = st.one_of(
    st.decimals(min_value=-1000, max_value=10**6, places=3, allow_nan=False).map(lambda d: format(d, "f")),
    st.sampled_from(["12.500", "12,500", "0,5", "1.234,5", "1 000", "5.", ".5", "0.500", "999.999", "1,5", "1e5"]),
    st.text(alphabet="0123456789.,e- \x00\u00a0", min_size=1, max_size=18),
)
UNITS = st.sampled_from(["", " ng/mL", " 10^9/L", " g/L", "  mg/L FEU ", " e5", " parsec", "g/L"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(CELL_PARTS, NUMBERS, UNITS), min_size=1, max_size=30), st.booleans())
def test_column_reader_agrees_with_the_single_value_reader(cells, decimal_comma):
    """parsing.read_number_column and split_unit_column give, for every cell they read (kind 1 / split),
    exactly what read_number and split_unit give (value, bound, other reading; number and unit)."""
    texts = [op + number + unit for op, number, unit in cells]
    arr = pa.array(texts, pa.large_string())
    column = read_number_column(arr, decimal_comma=decimal_comma)
    for i, text in enumerate(texts):
        if column.kind[i] == 0:
            assert text == ""
        if column.kind[i] != 1:
            continue
        one = read_number(text, decimal_comma=decimal_comma)
        assert column.x[i] == float(one.value), text
        assert COLUMN_OPS[column.op[i]] == one.op, text
        other = column.other[i]
        assert (one.other is None and math.isnan(other)) or other == float(one.other), text
    split, numbers, units = split_unit_column(arr)
    for i, text in enumerate(texts):
        if split[i] and units[i].as_py().strip() in KNOWN_UNITS:  # the batch reads only known units this way
            assert split_unit(text) == (numbers[i].as_py(), units[i].as_py().strip()), text


KNOWN_UNITS = {"ng/mL", "10^9/L", "g/L", "mg/L FEU"}
