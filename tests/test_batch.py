"""Batch engine: API, output layout, hand-picked boundaries in other units, errors, summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_batch_identity import mismatches

from mas_screen.criteria.schema import CONTRACT_IDS
from mas_screen.faces import cohort
from mas_screen.faces.cohort import (
    BatchError,
    output_columns,
    plan_columns,
    screen_frame,
    screen_partition,
    summarise_results,
)
from mas_screen.faces.cohort import screen as cohort_screen


def frame(rows: list[dict]) -> pd.DataFrame:
    columns: list[str] = ["id"]
    for r in rows:
        columns += [k for k in r if k not in columns]
    return pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], columns=columns, dtype="str")


def one(row: dict) -> pd.Series:
    df = frame([{"id": "x", **row}])
    assert not mismatches(df)
    return screen_frame(df).iloc[0]


# ----------------------------------------------------------------------------------------- layout


def test_output_columns_follow_the_contract_and_keep_the_input():
    df = frame([{"id": "a", "time": "2026-03-01", "ferritin": "2500", "ward": "5B"}])
    out = screen_frame(df, unknown="ignore")
    assert list(out.columns[: len(df.columns)]) == list(df.columns)
    for iid in CONTRACT_IDS:
        for suffix in ("status", "score", "count_met"):
            assert f"{iid}_{suffix}" in out.columns
    for iid in ("hscore", "mh_score", "ms_score"):
        assert {f"{iid}_score_min", f"{iid}_score_max"} <= set(out.columns)
    assert {"mas_signal", "phlh_signal", "warnings"} <= set(out.columns)
    assert list(out.columns[len(df.columns) :]) == list(output_columns())
    assert out["ward"].iloc[0] == "5B"


def test_index_and_row_order_are_kept():
    df = frame([{"id": str(i), "ferritin": str(100 * (i + 1))} for i in range(5)])
    df.index = [10, 7, 7, 3, 99]
    out = screen_frame(df)
    assert list(out.index) == [10, 7, 7, 3, 99]
    assert list(out["id"]) == ["0", "1", "2", "3", "4"]


def test_empty_frame():
    out = screen_frame(frame([{"id": "a", "ferritin": "1"}]).iloc[:0])
    assert len(out) == 0
    assert "mas2016_status" in out.columns


def test_result_dtypes():
    out = screen_frame(frame([{"id": "a", "ferritin": "2500", "esr": "30"}]))
    assert isinstance(out["mas2016_status"].dtype, pd.CategoricalDtype)
    assert out["hscore_score_min"].dtype == "Int64"
    assert out["ms_score_score_min"].dtype == "Float64"
    assert out["ferritin_esr_score"].iloc[0] == 83.33


# ------------------------------------------------------------------------------ boundaries by unit


@pytest.mark.parametrize(
    ("column", "value", "status"),
    [
        ("fibrinogen", "360", "met"),  # <= 360 mg/dL
        ("fibrinogen_g_per_L", "3.6", "met"),  # 3.6 g/L is exactly 360 mg/dL
        ("fibrinogen_g_per_L", "3.61", "not_met"),
        ("triglycerides_mmol_per_L", "1.762", "met"),  # 156.06 mg/dL > 156
        ("triglycerides_mmol_per_L", "1.76", "not_met"),  # 155.88 mg/dL
        ("ast_ukat_per_L", "0.8", "not_met"),  # 48 U/L, not > 48
        ("ast_ukat_per_L", "0.81", "met"),
        ("platelets_per_uL", "181000", "met"),  # 181 ×10⁹/L
        ("platelets_per_uL", "181001", "not_met"),
    ],
)
def test_mas2016_companions_at_the_boundary_in_other_units(column, value, status):
    # Febrile, ferritin met, exactly one other companion met: the tested value decides the status.
    base = {"febrile": "yes", "ferritin": "2500", "platelets": "300", "ast": "60", "triglycerides": "100"}
    base["fibrinogen"] = "400"
    key = column.split("_")[0]
    del base[key]
    if key == "ast":
        base["platelets"] = "100"
    row = one({**base, column: value})
    assert row["mas2016_status"] == status


@pytest.mark.parametrize(
    ("value", "unit_column", "met"),
    [("38.5", "temperature", True), ("101.3", "temperature_degF", True), ("101.29", "temperature_degF", False)],
)
def test_hlh2004_fever_at_38_5_degC(value, unit_column, met):
    row = one({unit_column: value, "age_years": "5"})
    flagged = one({unit_column: value, "age_years": "5", "splenomegaly": "yes"})
    assert flagged["hlh2004_count_met"] == row["hlh2004_count_met"] + 1
    assert row["hlh2004_count_met"] == (1 if met else 0)


def test_ms_score_exact_minus_2_1():
    # criteria-spec Worked example 5: -0.90 + 0.40 - 1.80 + 0.20 = -2.10 exactly (float sum -2.0999999999999996)
    row = one(
        {
            "cns_involvement": "no",
            "hemorrhagic_manifestations": "no",
            "active_arthritis": "no",
            "platelets": "300",
            "ldh": "400",
            "fibrinogen": "450",
            "ferritin": "2000",
        }
    )
    assert row["ms_score_score"] == -2.1
    assert row["ms_score_status"] == "met"
    same_in_si = one(
        {
            "cns_involvement": "no",
            "hemorrhagic_manifestations": "no",
            "active_arthritis": "no",
            "platelets_per_uL": "300000",
            "ldh": "400",
            "fibrinogen_g_per_L": "4.5",
            "ferritin_ug_per_L": "2000",
        }
    )
    assert same_in_si["ms_score_score"] == -2.1
    assert same_in_si["ms_score_status"] == "met"


def test_ms_score_half_up_rounding_at_the_fifth_decimal():
    # -0.003 × 150.05 = -0.45015 → the sum's 5th decimal is a tie: half away from zero
    row = one(
        {
            "cns_involvement": "no",
            "hemorrhagic_manifestations": "no",
            "active_arthritis": "yes",
            "platelets": "150.05",
            "ldh": "800",
            "fibrinogen": "250",
            "ferritin": "5000",
        }
    )
    assert row["ms_score_score"] == -1.4502


def test_ferritin_esr_ratio_esr_zero_is_null_and_ties_round_half_up():
    zero = one({"ferritin": "2500", "esr": "0"})
    assert pd.isna(zero["ferritin_esr_score"])
    assert zero["ferritin_esr_status"] == "indeterminate"
    tie = one({"ferritin": "1", "esr": "8"})  # 0.125 → 0.13
    assert tie["ferritin_esr_score"] == 0.13
    at = one({"ferritin": "215", "esr": "10"})  # exactly 21.5: >= 21.5
    assert at["ferritin_esr_status"] == "met"
    below = one({"ferritin": "214.99999", "esr": "10"})
    assert below["ferritin_esr_status"] == "not_met"
    assert below["ferritin_esr_score"] == 21.5


def test_censored_and_bad_values():
    row = one({"ferritin": ">40000", "platelets": "elevated", "fibrinogen": "3.2", "scd25_pg_per_mL": "5000"})
    assert row["warnings"] == "platelets:not_a_number; fibrinogen:unit_suspect; scd25:not_convertible"
    assert row["hscore_score_min"] == 50  # ferritin > 6000 decided by the bound
    assert row["mas_signal"] in ("suggestive", "insufficient_data", "not_suggestive")


def test_cell_units_two_cells_and_context_words():
    row = one(
        {
            "fibrinogen": "3.6 g/L",
            "ferritin": "2500",
            "ferritin_ug_per_L": "2600",
            "febrile": "maybe",
            "underlying_disease": "SJIA",
        }
    )
    assert row["warnings"] == "fibrinogen:cell_unit; ferritin:two_units; febrile:bad_value"


def test_numeric_and_boolean_columns_read_as_typed():
    df = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "febrile": [True, False, None],
            "age_years": [6.5, np.nan, 40.0],
            "ferritin": [2500.0, 684.0, np.nan],
            "platelets_per_uL": pd.array([181000, None, 90000], dtype="Int64"),
            "temperature_degF": [101.3, 100.4, 98.6],
        }
    )
    assert not mismatches(df)


# ------------------------------------------------------------------------------------------ errors


def test_missing_id_column_is_refused():
    with pytest.raises(BatchError, match="no 'id' column"):
        screen_frame(pd.DataFrame({"ferritin": ["1"]}))
    assert "mas2016_status" in screen_frame(pd.DataFrame({"ferritin": ["1"]}), require_id=False).columns


def test_unknown_columns_are_refused_unless_ignored():
    df = frame([{"id": "a", "ferriten": "2500", "ward": "5B"}])
    with pytest.raises(BatchError, match="ferriten"):
        screen_frame(df)
    out = screen_frame(df, unknown="ignore")
    assert out["mas2016_status"].iloc[0] == "indeterminate"
    assert plan_columns(list(df.columns), unknown="ignore").ignored == ("ferriten", "ward")


def test_duplicate_column_names_are_refused():
    df = pd.DataFrame([["a", "1", "2"]], columns=["id", "ferritin", "ferritin"])
    with pytest.raises(BatchError, match="duplicate"):
        screen_frame(df)


def test_output_columns_in_the_input_are_replaced():
    df = frame([{"id": "a", "ferritin": "2500"}])
    first = screen_frame(df)
    again = screen_frame(first.astype({"mas2016_status": "str"}), unknown="ignore")
    assert list(again.columns) == list(first.columns)


# ------------------------------------------------------------------------------ blocks and summary


def test_blocks_and_threads_give_the_same_result(monkeypatch):
    from test_batch_identity import make_table

    df = make_table(700, seed=7)
    whole = screen_frame(df)
    monkeypatch.setattr(cohort_screen, "BLOCK_ROWS", 64)
    blocked = screen_partition(df, threads=2)
    pd.testing.assert_frame_equal(whole, blocked)


def test_summarise_results():
    df = frame(
        [
            {"id": "a", "febrile": "yes", "ferritin": "2500", "platelets": "100", "ast": "60"},
            {"id": "b", "ferritin": "elevated"},
            {"id": "c", "underlying_disease": "sjia", "febrile": "no"},
        ]
    )
    summary = summarise_results(screen_frame(df))
    assert summary["rows"] == 3
    assert summary["status"]["mas2016"] == {"not_met": 1, "indeterminate": 1, "met": 1}
    assert sum(summary["mas_signal"].values()) == 3
    assert summary["rows_with_warnings"] == 1
    assert summary["warnings"] == {"ferritin:not_a_number": 1}


def test_every_instrument_of_the_criteria_has_its_columns():
    """The cohort runs the kernel's instruments: every instrument file gives its columns, in order."""
    from mas_screen.criteria.loading import instrument_ids

    statuses = [c.removesuffix("_status") for c in cohort.output_columns() if c.endswith("_status")]
    assert statuses == list(instrument_ids())


def test_organ_conflict_matches_assess():
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "splenomegaly": ["no", "yes", "no"],
            "splenomegaly_cm": ["4", "4", "0"],
            "hepatomegaly": ["no", "", ""],
            "hepatomegaly_cm": ["2", "", ""],
        },
        dtype="str",
    )
    out = screen_frame(df)
    assert list(out["warnings"]) == ["hepatomegaly:conflict; splenomegaly:conflict", "", ""]
