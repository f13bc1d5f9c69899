"""`python -m mas_screen batch IN -o OUT`: CSV and Parquet, chunked streaming, summary, exit codes, Dask."""

from __future__ import annotations

import io
import json
import numbers
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from test_batch_identity import make_table, mismatches

from mas_screen.batch import output_columns, run_dask, screen_frame
from mas_screen.cli import main


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, stdin=io.StringIO(""), stdout=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_table(1200, seed=99)


@pytest.fixture
def csv_file(tmp_path, cohort):
    path = tmp_path / "cohort.csv"
    cohort.to_csv(path, index=False)
    return path


def table_values(df: pd.DataFrame) -> list[tuple]:
    def norm(v):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return None
        return repr(float(v)) if isinstance(v, numbers.Number) and not isinstance(v, bool) else str(v)

    return [tuple(norm(v) for v in row) for row in df.astype(object).itertuples(index=False)]


def read_parquet(path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


def test_explain_adds_missing_and_next_tests_equal_to_assess(tmp_path, csv_file, cohort):
    out = tmp_path / "out.csv"
    code, _ = run(["batch", str(csv_file), "-o", str(out), "--no-progress", "--explain"])
    assert code == 0
    screened = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(screened.columns) == list(cohort.columns) + list(output_columns(explain=True))
    assert "mas2016_missing" in screened.columns and screened.columns[-1] == "next_tests"
    assert not mismatches(cohort, screen_frame(cohort, explain=True))
    explained = screen_frame(cohort, explain=True)
    assert list(screened["next_tests"]) == list(explained["next_tests"].astype(str))


def test_csv_to_parquet_is_identical_to_assess(tmp_path, csv_file, cohort):
    out = tmp_path / "out.parquet"
    code, stdout = run(["batch", str(csv_file), "-o", str(out), "--no-progress"])
    assert code == 0
    screened = read_parquet(out)
    assert list(screened.columns) == list(cohort.columns) + list(output_columns())
    assert len(screened) == len(cohort)
    assert not mismatches(cohort, screened)
    assert "1,200 rows screened" in stdout
    assert "rows with warnings:" in stdout
    assert "mas2016" in stdout and "indeterminate" in stdout


def test_csv_output_matches_parquet_output(tmp_path, csv_file):
    run(["batch", str(csv_file), "-o", str(tmp_path / "a.parquet"), "--no-progress"])
    run(["batch", str(csv_file), "-o", str(tmp_path / "a.csv"), "--no-progress"])
    from_parquet = read_parquet(tmp_path / "a.parquet")
    from_csv = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    assert list(from_csv.columns) == list(from_parquet.columns)
    for column in output_columns():
        a = from_parquet[column]
        b = from_csv[column]
        if column.endswith(("_score", "_count_met", "_score_min", "_score_max")):
            pd.testing.assert_series_equal(
                pd.to_numeric(a).astype("float64"),
                pd.to_numeric(b.replace("", None)).astype("float64"),
                check_names=False,
            )
        else:
            assert list(a.astype(str)) == list(b), column


def test_chunked_streaming_gives_the_same_file(tmp_path, csv_file):
    run(["batch", str(csv_file), "-o", str(tmp_path / "whole.parquet"), "--no-progress"])
    code, _ = run(["batch", str(csv_file), "-o", str(tmp_path / "chunks.parquet"), "--chunk-rows", "250", "--progress"])
    assert code == 0
    whole, chunks = read_parquet(tmp_path / "whole.parquet"), read_parquet(tmp_path / "chunks.parquet")
    pd.testing.assert_frame_equal(whole, chunks)
    assert pq.ParquetFile(tmp_path / "chunks.parquet").metadata.num_row_groups >= 5


def test_parquet_input_with_typed_columns(tmp_path):
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "febrile": [True, False, None],
            "age_years": [6.5, None, 40.0],
            "ferritin": [2500.0, 684.0, None],
            "fibrinogen_g_per_L": [3.6, 1.5, 2.0],
            "platelets_per_uL": pd.array([181000, None, 90000], dtype="Int64"),
        }
    )
    source = tmp_path / "in.parquet"
    df.to_parquet(source)
    code, _ = run(["batch", str(source), "-o", str(tmp_path / "out.parquet"), "--chunk-rows", "2"])
    assert code == 0
    screened = read_parquet(tmp_path / "out.parquet")
    assert not mismatches(df, screened)


def test_summary_json(tmp_path, csv_file, cohort):
    target = tmp_path / "summary.json"
    run(["batch", str(csv_file), "-o", str(tmp_path / "o.parquet"), "--summary-json", str(target)])
    summary = json.loads(target.read_text())
    expected = screen_frame(cohort)
    assert summary["rows"] == len(cohort)
    assert summary["status"]["hscore"]["met"] == int((expected["hscore_status"] == "met").sum())
    assert summary["rows_with_warnings"] == int((expected["warnings"] != "").sum())
    assert sum(summary["mas_signal"].values()) == len(cohort)
    assert summary["warnings"]


def test_semicolon_separated_csv(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("id;ferritin;fibrinogen_g_per_L\na;2500;3.6\n", encoding="utf-8")
    code, _ = run(["batch", str(path), "-o", str(tmp_path / "o.csv")])
    assert code == 0
    out = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert out["fibrinogen_g_per_L"].iloc[0] == "3.6"


# ------------------------------------------------------------------------------------ exit status


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ferritin,platelets\n2500,100\n", "no 'id' column"),
        ("id,ferriten\na,2500\n", "ferriten"),
        ("id,ferritin\na,1\nb,2,3\n", "Expected 2 columns"),
        ("", "empty"),
    ],
)
def test_unreadable_tables_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    code, stdout = run(["batch", str(path), "-o", str(tmp_path / "o.parquet")])
    assert code == 2
    assert stdout == ""
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_not_utf8_and_missing_file_exit_2(tmp_path, capsys):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,ferritin\na,caf\xe9\n".encode("latin-1"))
    assert run(["batch", str(path), "-o", str(tmp_path / "o.parquet")])[0] == 2
    assert "UTF-8" in capsys.readouterr().err
    assert run(["batch", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.parquet")])[0] == 2
    assert "no such file" in capsys.readouterr().err
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    assert run(["batch", str(garbage), "-o", str(tmp_path / "o.parquet")])[0] == 2
    assert "cannot read" in capsys.readouterr().err
    assert run(["batch", str(path), "-o", str(tmp_path / "o.xlsx")])[0] == 2


def test_unknown_columns_pass_through_when_asked(tmp_path, capsys):
    path = tmp_path / "extra.csv"
    path.write_text("id,ward,ferritin\na,5B,2500\n", encoding="utf-8")
    code, stdout = run(["batch", str(path), "-o", str(tmp_path / "o.csv"), "--ignore-unknown"])
    assert code == 0
    assert "passed through unread: ward" in stdout
    assert pd.read_csv(tmp_path / "o.csv", dtype=str)["ward"].iloc[0] == "5B"


def test_module_entry_point(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,ferritin\na,2500\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mas_screen", "batch", str(path), "-o", str(tmp_path / "o.parquet")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 rows screened" in proc.stdout


# ------------------------------------------------------------------------------------------- Dask


def test_dask_local_cluster_matches_the_pandas_path(tmp_path, csv_file):
    from distributed import Client, LocalCluster

    pandas_out = tmp_path / "pandas.parquet"
    run(["batch", str(csv_file), "-o", str(pandas_out), "--no-progress"])
    dask_out = tmp_path / "dask.parquet"
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        summary = run_dask(str(csv_file), str(dask_out), blocksize=60_000, client=client)
        csv_summary = run_dask(str(csv_file), str(tmp_path / "dask.csv"), blocksize=60_000, client=client)
    assert summary["partitions"] >= 3
    expected = read_parquet(pandas_out)
    got = pq.read_table(dask_out).to_pandas()
    order = {k: i for i, k in enumerate(expected["id"])}
    got = got.sort_values("id", key=lambda s: s.map(order)).reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    assert table_values(got) == table_values(expected)
    assert summary["rows"] == csv_summary["rows"] == len(expected)
    assert summary["status"] == csv_summary["status"]
    assert len(pd.read_csv(tmp_path / "dask.csv", dtype=str)) == len(expected)


def test_csv_output_quotes_formula_cells_and_keeps_numbers(tmp_path):
    """A cell a spreadsheet would run (=, +, -, @) comes back with a leading ' in the CSV output;
    negative and signed plain numbers stay numbers; the Parquet output keeps cells as typed."""
    src = tmp_path / "in.csv"
    src.write_text(
        "id,ferritin,platelets,underlying_disease\n"
        "=cmd|' /C calc'!A0,-2+3+cmd|' /C calc'!A0,+120,@SUM(A1)\n"
        "p2,2500,-5,sjia\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["batch", str(src), "-o", str(out)]) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got.loc[0, "id"] == "'=cmd|' /C calc'!A0"
    assert got.loc[0, "ferritin"] == "'-2+3+cmd|' /C calc'!A0"
    assert got.loc[0, "platelets"] == "+120"
    assert got.loc[0, "underlying_disease"] == "'@SUM(A1)"
    assert got.loc[1, "platelets"] == "-5"
    assert not any(str(v).startswith(("=", "@")) for v in got.to_numpy().ravel())
    pq_out = tmp_path / "out.parquet"
    assert main(["batch", str(src), "-o", str(pq_out)]) == 0
    assert pq.read_table(pq_out).column("id").to_pylist()[0] == "=cmd|' /C calc'!A0"
