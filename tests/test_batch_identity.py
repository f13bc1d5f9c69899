"""Batch == assess(), row by row and field by field (contract "Batch").

A fixed 5,000-row table mixes realistic random panels with values exactly at, and one step either
side of, every threshold and plausible bound in every accepted unit (3.6 g/L = 360 mg/dL,
101.3 degF = 38.5 degC, µkat/L × 60, 1.762 mmol/L, 5.70952 mmol/L Hb = 9.2 g/dL, …), censored values,
bad values, cells with their own unit, two filled cells for one lab and every context answer. A
hypothesis test adds rows built field by field.
"""

from __future__ import annotations

import math
import numbers
import random
from decimal import Decimal, localcontext

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria, criteria_dir, instrument_files, instrument_ids
from mas_screen.domain.models import BOOLEAN_FIELDS
from mas_screen.domain.units import convert
from mas_screen.faces.cohort import plan_columns, range_instruments, screen_frame
from mas_screen.kernel.inputs.columns import column_name, convert_row

ANALYTES = criteria().analytes.analytes
BOOL_WORDS = ["yes", "no", "", "", "", "true", "False", "1", "0", "maybe", "Unknown", " Yes "]
DISEASES = ["sjia", "suspected_sjia", "aosd", "sle", "other", "unknown", "", "SJIA", "lupus"]
BIOLOGICS = ["none", "il1", "il6", "other", "unknown", "", "anakinra"]
BAD_LAB = ["elevated", "pending", "1,200", "1e3", " 150 ", "-5", "0", "NA", ">", "< 0", "12,5", "≥ 500", "1 000"]
RANDOM_RANGES = {
    "ferritin": (50, 60000),
    "platelets": (5, 600),
    "wbc": (0.5, 30),
    "neutrophils": (0.1, 20),
    "hemoglobin": (4, 16),
    "ast": (10, 900),
    "alt": (10, 800),
    "ldh": (100, 4000),
    "triglycerides": (40, 700),
    "fibrinogen": (50, 700),
    "esr": (0, 140),
    "crp": (0, 300),
    "d_dimer": (0, 40),
    "scd25": (200, 20000),
    "temperature": (35.5, 41.5),
}


def lab_columns() -> list[tuple[str, str, str]]:
    """(column name, lab key, unit) for every accepted unit of every lab, plus a refused one."""
    cols = []
    for key, spec in ANALYTES.items():
        for u in spec.units:
            name = key if u.unit == spec.default_unit else column_name(key, u.unit)
            cols.append((name, key, u.unit))
    cols.append(("scd25_pg_per_mL", "scd25", "pg/mL"))
    return cols


def _text(d: Decimal) -> str:
    d = d.normalize()
    text = format(d, "f")
    return text


def _yaml_numbers() -> dict[tuple[str, str], set[Decimal]]:
    """(lab, unit) → every number an item compares that lab with, read from the YAML files themselves
    (never from the code under test): thresholds, infant thresholds, band edges, the fever convention;
    linear terms and ratios add their unit with no number."""
    found: dict[tuple[str, str], set[Decimal]] = {}

    def add(analyte, unit, *numbers):
        found.setdefault((analyte, unit), set()).update(Decimal(repr(x)) for x in numbers)

    def walk(items):
        for item in items:
            kind = item["kind"]
            if kind == "threshold":
                rule = item.get("infant_rule")
                add(item["analyte"], item["unit"], item["threshold"], *([rule["threshold"]] if rule else []))
            elif kind == "fever":
                add("temperature", item["unit"], item["threshold"])
            elif kind == "bands":
                edges = [v for band in item["bands"] for k, v in band.items() if k in ("gt", "ge", "lt", "le")]
                add(item["analyte"], item["unit"], *edges)
            elif kind == "linear" and "analyte" in item:
                add(item["analyte"], item["unit"])
            elif kind == "ratio":
                add(item["numerator"], item["numerator_unit"])
                add(item["denominator"], item["denominator_unit"])
            walk(item.get("items", []))

    for path in instrument_files(criteria_dir()):
        walk(yaml.safe_load(path.read_text(encoding="utf-8"))["items"])
    analytes = yaml.safe_load((criteria_dir() / "analytes.yaml").read_text(encoding="utf-8"))
    fever = analytes["fever_convention"]
    add("temperature", fever["unit"], fever["threshold"])
    return found


YAML_NUMBERS = _yaml_numbers()


def boundary_values(key: str, unit: str) -> list[str]:
    """Every number the items compare with (and the plausible bounds), in `unit`, exactly and nearby."""
    spec = ANALYTES[key]
    if unit not in {u.unit for u in spec.units}:
        return ["1000", "2500"]
    target = spec.unit(unit)
    numbers_: set[Decimal] = set()
    for (analyte, item_unit), values in YAML_NUMBERS.items():
        if analyte != key:
            continue
        for t in values:
            with localcontext() as ctx:
                ctx.prec = 28
                numbers_.add(convert(t, spec.unit(item_unit), target))
    with localcontext() as ctx:
        ctx.prec = 28
        for bound in (spec.plausible.min, spec.plausible.max):
            numbers_.add(convert(Decimal(repr(bound)), spec.unit(spec.default_unit), target))
    out: list[str] = []
    for d in numbers_:
        if d.is_zero():
            out += ["0", "0.0", "0.001"]
            continue
        for digits in (3, 4, 6, 12, 15):
            with localcontext() as ctx:
                ctx.prec = digits
                r = +d
            out.append(_text(r))
            step = Decimal(1).scaleb(r.adjusted() - digits + 1)
            out += [_text(r + step), _text(r - step)]
    return sorted(set(out))


def random_value(rng: random.Random, key: str, unit: str) -> str:
    lo, hi = RANDOM_RANGES[key]
    spec = ANALYTES[key]
    value = Decimal(repr(rng.uniform(lo, hi)))
    if unit in {u.unit for u in spec.units} and unit != spec.default_unit:
        value = convert(value, spec.unit(spec.default_unit), spec.unit(unit))
    places = rng.choice([0, 0, 1, 1, 2, 3, 5])
    text = _text(round(value, places))
    return text


def lab_cell(rng: random.Random, key: str, unit: str, boundaries: dict) -> str:
    roll = rng.random()
    if roll < 0.40:
        text = rng.choice(boundaries[(key, unit)])
    elif roll < 0.85:
        text = random_value(rng, key, unit)
    elif roll < 0.93:
        return rng.choice(BAD_LAB)
    else:
        text = rng.choice(boundaries[(key, unit)] + [random_value(rng, key, unit)])
        unit_text = rng.choice([unit, "g/L", "mg/dL", "U/L", "ukat/L", "mmol/L", "degF", "nonsense"])
        return f"{text} {unit_text}"
    if rng.random() < 0.12:
        text = rng.choice([">", "<", ">=", "<=", "> ", "< ", "≥"]) + text
    return text


def make_table(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    labs = lab_columns()
    boundaries = {(key, unit): boundary_values(key, unit) for _, key, unit in labs}
    by_key: dict[str, list[tuple[str, str]]] = {}
    for name, key, unit in labs:
        by_key.setdefault(key, []).append((name, unit))
    columns = ["id", "underlying_disease", "biologic_therapy", *BOOLEAN_FIELDS]
    columns += ["age_years", "age_at_onset_years", "hepatomegaly_cm", "splenomegaly_cm"]
    columns += [name for name, _, _ in labs]
    rows = []
    for i in range(n):
        row = dict.fromkeys(columns, "")
        row["id"] = f"p{i}"
        row["underlying_disease"] = rng.choice(DISEASES)
        row["biologic_therapy"] = rng.choice(BIOLOGICS)
        completeness = rng.choice([0.2, 0.5, 0.8, 1.0])
        for name in BOOLEAN_FIELDS:
            if rng.random() < completeness:
                row[name] = rng.choice(BOOL_WORDS)
        row["age_years"] = rng.choice(
            ["", "6.5", "1.6", "1.7", "0.0766", "0.07", "0.08", "18", "17.99", "40", "-1", "200", ">5", "1,5", "0"]
        )
        row["age_at_onset_years"] = rng.choice(["", "", "1.6", "1.61", "5", "0.5", "abc", "50"])
        row["hepatomegaly_cm"] = rng.choice(["", "", "3", "2.9", "2.99999", "0", "-2", "31"])
        row["splenomegaly_cm"] = rng.choice(["", "", "3", "3.0", "4", "1"])
        for key, options in by_key.items():
            if rng.random() > completeness:
                continue
            name, unit = rng.choice(options)
            row[name] = lab_cell(rng, key, unit, boundaries)
            if rng.random() < 0.04:  # a second cell for the same lab
                other, other_unit = rng.choice(options)
                row[other] = row[name] if rng.random() < 0.5 else lab_cell(rng, key, other_unit, boundaries)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns, dtype="str")


# ------------------------------------------------------------------------------------ comparison


def expected_row(row: dict, cmap, decimal_comma: bool = False, explain: bool = True) -> dict:
    converted = convert_row(row, cmap, decimal_comma=decimal_comma)
    a = assess(PatientInput.model_validate(converted.data))
    out: dict = {}
    ranged = range_instruments()
    for iid in instrument_ids():
        c = a.criteria[iid]
        out[f"{iid}_status"] = c.status
        out[f"{iid}_score"] = c.score
        out[f"{iid}_count_met"] = c.count_met
        if iid in ranged:
            low_high = c.score_bounds if c.score_bounds is not None else c.score_range
            out[f"{iid}_score_min"] = low_high[0] if low_high else None
            out[f"{iid}_score_max"] = low_high[1] if low_high else None
        if explain:
            out[f"{iid}_missing"] = ";".join(c.missing)
    out["mas_signal"] = a.summary.mas_signal
    out["other_population_met"] = ";".join(a.summary.other_population_met)
    out["phlh_signal"] = a.summary.phlh_signal
    codes = [f"{w.field}:{w.code}" for w in a.input_warnings] + [f"{p.field}:{p.code}" for p in converted.problems]
    out["warnings"] = "; ".join(codes)
    if explain:
        out["next_tests"] = ";".join(a.summary.next_tests)
    return out


def _same(a, b) -> bool:
    def norm(v):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, numbers.Number) and not isinstance(v, bool):
            return ("number", float(v), math.copysign(1.0, float(v)))
        return str(v)

    return norm(a) == norm(b)


def mismatches(df: pd.DataFrame, screened: pd.DataFrame | None = None, decimal_comma: bool = False) -> list[str]:
    """Every field where the batch (with --explain's columns) differs from assess() on the row."""
    screened = screen_frame(df, explain=True, decimal_comma=decimal_comma) if screened is None else screened
    cmap = plan_columns(list(df.columns)).cmap
    found = []
    records = screened.to_dict("records")
    explain = "next_tests" in screened.columns
    for i, row in enumerate(df.to_dict("records")):
        want = expected_row(row, cmap, decimal_comma, explain)
        got = records[i]
        for key, value in want.items():
            if not _same(value, got[key]):
                filled = {k: v for k, v in row.items() if v not in ("", None)}
                found.append(f"row {i} {key}: assess {value!r}, batch {got[key]!r}; input {filled}")
    return found


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table(5000, seed=20260301)


def test_fixed_table_identical_to_assess(table):
    """Every output column, --explain's `<id>_missing` and `next_tests` included, equals assess()."""
    explained = screen_frame(table, explain=True)
    assert list(explained.columns[: len(table.columns)]) == list(table.columns)
    found = mismatches(table, explained)
    assert not found, "\n".join(found[:20])
    plain = screen_frame(table)  # without --explain: the same columns less the explanation
    extra = [c for c in explained.columns if c.endswith("_missing") or c == "next_tests"]
    pd.testing.assert_frame_equal(plain, explained.drop(columns=extra))


def test_fixed_table_exercises_every_status_and_warning(table):
    screened = screen_frame(table)
    for iid in instrument_ids():
        assert set(screened[f"{iid}_status"].astype(str)) == {"met", "not_met", "indeterminate"}, iid
    assert set(screened["mas_signal"].astype(str)) == {"suggestive", "not_suggestive", "insufficient_data"}
    others = set(screened["other_population_met"].astype(str))
    assert "" in others and any(";" in cell for cell in others)  # none, one and several instruments
    assert {"mas2016", "ms_score", "hscore", "hlh2004", "parodi2009"} <= {i for c in others for i in c.split(";") if i}
    codes = {c.split(":")[1] for w in screened["warnings"] if w for c in w.split("; ")}
    assert {"not_a_number", "negative", "implausible", "unit_suspect", "unknown_unit", "not_convertible"} <= codes
    assert {"conflict", "two_units", "two_values", "cell_unit", "bad_value"} <= codes


def swapped(df: pd.DataFrame) -> pd.DataFrame:
    """The table as a decimal-comma locale writes it: "," and "." exchanged in every cell but the id."""
    swap = str.maketrans(",.", ".,")
    return df.apply(lambda col: col if col.name == "id" else col.map(lambda v: v.translate(swap)))


def test_fixed_table_with_decimal_commas_identical_to_assess(table):
    """Issue 13 finding 2 (batch): the decimal-comma setting in the columnar path equals assess() with the
    same setting, row by row; the swapped table reads exactly as the original does without it."""
    european = swapped(table.head(2000))
    screened = screen_frame(european, decimal_comma=True)
    found = mismatches(european, screened, decimal_comma=True)
    assert not found, "\n".join(found[:20])
    plain = screen_frame(table.head(2000))
    results = [c for c in screened.columns if c.endswith(("_status", "_score", "_count_met", "_signal"))]
    pd.testing.assert_frame_equal(screened[results], plain[results])


def unit_cells_table(n: int, seed: int) -> pd.DataFrame:
    """Every lab cell carries a unit: accepted spellings (the column's and others), refused and unknown
    ones, censored and ambiguous values ("12.500 ng/mL"), boundaries in every unit."""
    rng = random.Random(seed)
    labs = lab_columns()
    boundaries = {(key, unit): boundary_values(key, unit) for _, key, unit in labs}
    spellings = {
        key: [s for u in spec.units for s in (u.unit, u.ucum, *u.aliases)] + [r.unit for r in spec.refused_units]
        for key, spec in ANALYTES.items()
    }
    columns = ["id", "febrile", "underlying_disease", *dict.fromkeys(key for _, key, _ in labs)]
    rows = []
    for i in range(n):
        row = dict.fromkeys(columns, "")
        row["id"], row["febrile"], row["underlying_disease"] = f"u{i}", rng.choice(["yes", "no", ""]), "sjia"
        for key in columns[3:]:
            if rng.random() < 0.3:
                continue
            unit = rng.choice([u.unit for u in ANALYTES[key].units])
            roll = rng.random()
            if roll < 0.5:
                number = rng.choice(boundaries[(key, unit)])
            elif roll < 0.85:
                number = random_value(rng, key, unit)
            else:
                number = rng.choice(["12.500", "1.500", "2,500", "999.999", "1e3", "0,5", "-3", "5."])
            prefix = rng.choice(["", "", "", "", ">", "< ", ">= "])
            spelling = unit if rng.random() < 0.6 else rng.choice([*spellings[key], "parsec", "e5", "10"])
            row[key] = f"{prefix}{number}{rng.choice([' ', ' ', '  '])}{spelling}{rng.choice(['', ' '])}"
        rows.append(row)
    return pd.DataFrame(rows, columns=columns, dtype="str")


def test_unit_suffixed_cells_identical_to_assess():
    """Issue 13 point 9: cells that carry their unit ("19.164651 ng/mL") are read by columns (split by
    Arrow, each distinct unit looked up once), and equal assess() row by row."""
    df = unit_cells_table(3000, seed=13)
    screened = screen_frame(df)
    found = mismatches(df, screened)
    assert not found, "\n".join(found[:20])
    assert screened.attrs["slow_cells"] < 0.25 * df.size  # most unit cells never reach the single-patient code


# ------------------------------------------------------------------------------------- hypothesis

LABS = lab_columns()


@st.composite
def rows(draw):
    row: dict[str, str] = {"id": "h"}
    for name in ("febrile", "hepatomegaly", "splenomegaly", "cns_involvement", "hemorrhagic_manifestations"):
        row[name] = draw(st.sampled_from(["yes", "no", ""]))
    row["active_arthritis"] = draw(st.sampled_from(["yes", "no", ""]))
    row["hlh_molecular_diagnosis"] = draw(st.sampled_from(["yes", "no", ""]))
    row["hemophagocytosis_marrow"] = draw(st.sampled_from(["yes", "no", ""]))
    row["underlying_disease"] = draw(st.sampled_from(["sjia", "sle", "other", "aosd", ""]))
    row["age_years"] = draw(st.sampled_from(["", "0.05", "1.6", "10", "30"]))
    chosen = draw(st.lists(st.sampled_from(LABS), max_size=10, unique_by=lambda c: c[1]))
    for name, key, unit in chosen:
        number = draw(
            st.one_of(
                st.decimals(min_value=0, max_value=100000, allow_nan=False, allow_infinity=False, places=2),
                st.decimals(min_value=0, max_value=50, allow_nan=False, allow_infinity=False, places=4),
                st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda x: Decimal(repr(x))),
                st.sampled_from([Decimal(v) for v in boundary_values(key, unit)]),
            )
        )
        text = format(number, "f")
        prefix = draw(st.sampled_from(["", "", "", ">", "<", ">=", "<="]))
        row[name] = prefix + text
    return row


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), min_size=1, max_size=8))
def test_hypothesis_rows_identical_to_assess(batch):
    columns = sorted({k for r in batch for k in r}, key=lambda c: (c != "id", c))
    df = pd.DataFrame([{c: r.get(c, "") for c in columns} for r in batch], columns=columns, dtype="str")
    found = mismatches(df)
    assert not found, "\n".join(found[:10])


def test_batch_provenance_equals_assess_without_the_time(tmp_path):
    """A batch file's provenance is assess()'s, less generated_at (run time) and input (the rows)."""
    import json

    import pyarrow.parquet as pq

    from mas_screen.faces.cohort import PROVENANCE_KEY, run_file

    src = tmp_path / "in.csv"
    make_table(20, seed=7).to_csv(src, index=False)
    summary = run_file(src, tmp_path / "out.parquet")
    written = json.loads(pq.ParquetFile(tmp_path / "out.parquet").schema_arrow.metadata[PROVENANCE_KEY])
    single = assess(PatientInput.model_validate({})).model_dump(mode="json")["provenance"]
    for stamp in (written, summary["provenance"]):
        assert {k: v for k, v in stamp.items() if k != "generated_at"} == {
            k: v for k, v in single.items() if k not in ("generated_at", "input")
        }
