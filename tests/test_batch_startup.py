"""A batch run starts reading its file before it loads the screening code (issue 14): the reading
module and the command line load without pydantic or the criteria, and a read started ahead hands
over its table, or its error, where the chunk is asked for; and the process ends without the
interpreter's teardown once its outputs are complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mas_screen.faces.cohort.reading import BatchInputError, open_input

ROOT = Path(__file__).resolve().parents[1]


def test_reading_and_cli_load_without_the_screening_code():
    code = (
        "import sys\n"
        "import mas_screen.faces.cli.main, mas_screen.faces.cohort.reading\n"
        "heavy = [m for m in ('pydantic', 'pandas', 'mas_screen.criteria.loading', 'mas_screen.kernel.instruments',"
        " 'mas_screen.faces.cohort.screen') if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "heavy: []" in done.stdout


def test_open_input_reads_ahead_and_hands_over(tmp_path):
    src = tmp_path / "c.csv"
    src.write_text("id,ferritin\np1,12000\np2,\n", encoding="utf-8")
    opened = open_input(src, tmp_path / "o.parquet")
    assert opened.names == ["id", "ferritin"]
    chunks = list(opened.chunks)
    assert len(chunks) == 1
    table, done = chunks[0]
    assert table.column("ferritin").to_pylist() == ["12000", ""]
    assert done == opened.total == src.stat().st_size


def test_open_input_refuses_before_reading(tmp_path):
    src = tmp_path / "c.csv"
    src.write_text("id\np1\n", encoding="utf-8")
    with pytest.raises(BatchInputError, match="no such file"):
        open_input(tmp_path / "missing.csv", tmp_path / "o.parquet")
    with pytest.raises(BatchInputError, match="is the input file"):
        open_input(src, src)
    with pytest.raises(BatchInputError, match="cannot tell the format"):
        open_input(src, tmp_path / "o.xlsx")


def test_a_read_error_surfaces_where_the_chunk_is_asked_for(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("id,ferritin\np1,12000\np2,1,2\n", encoding="utf-8")
    opened = open_input(src, tmp_path / "o.parquet")  # the header is fine: the read starts
    with pytest.raises(BatchInputError, match="Expected 2 columns, got 3"):
        list(opened.chunks)


def test_file_slices_are_equal_rounds_for_the_workers():
    from mas_screen.faces.cohort.files import FILE_SLICE_ROWS, balanced_rows

    for n, workers in [(400_000, 2), (1_000_000, 2), (262_144, 2), (999_999, 4), (131_073, 2)]:
        rows = balanced_rows(n, workers)
        slices = -(-n // rows)
        assert rows <= FILE_SLICE_ROWS
        assert slices % workers == 0, (n, workers, rows)  # whole rounds: nobody screens the last one alone
        assert n - (slices - 1) * rows > rows - slices  # the last slice is nearly full
    assert balanced_rows(100, 2) == 100  # a small table is one slice
    assert balanced_rows(0, 2) == 1


def test_only_a_file_batch_ends_without_the_interpreters_teardown():
    from mas_screen.faces.cli.main import is_file_batch

    assert is_file_batch(["batch", "c.csv", "-o", "o.parquet"])
    assert not is_file_batch(["batch", "c.csv", "-o", "o.parquet", "--engine", "dask"])
    assert not is_file_batch(["assess", "p.json"])
    assert not is_file_batch(["--no-such-option"])


def test_a_batch_process_that_skips_teardown_leaves_every_output_complete(tmp_path):
    """python -m mas_screen batch ends with os._exit: the Parquet file, the summary JSON and the
    printed summary must all be complete (flushed and closed) when it does."""
    import json

    import pyarrow.parquet as pq

    src = tmp_path / "c.csv"
    src.write_text("id,ferritin,platelets\np1,12000,90\np2,,\n", encoding="utf-8")
    out, summary = tmp_path / "o.parquet", tmp_path / "s.json"
    done = subprocess.run(
        [sys.executable, "-m", "mas_screen", "batch", str(src), "-o", str(out), "--summary-json", str(summary)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("Screening aid, not a diagnosis.")
    assert pq.read_table(out).column("id").to_pylist() == ["p1", "p2"]
    assert json.loads(summary.read_text(encoding="utf-8"))["rows"] == 2


def test_a_batch_run_never_imports_pydantic(tmp_path):
    """`python -m mas_screen batch` reads the criteria's plain copy and parses its cells by arrays:
    pydantic (~0.1 s of start-up) is imported only for a cell the arrays leave to the single-patient
    code. A program calling main() in its own process keeps the validated criteria."""
    src = tmp_path / "c.csv"
    src.write_text("id,ferritin,platelets,febrile\np1,12000,90,true\np2,,200,\n", encoding="utf-8")
    save = "from mas_screen.criteria.loading import save_criteria_snapshot; save_criteria_snapshot()"
    subprocess.run([sys.executable, "-c", save], cwd=ROOT, check=True, capture_output=True)
    run = [sys.executable, "-X", "importtime", "-m", "mas_screen", "batch", str(src), "-o", str(tmp_path / "o.parquet")]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "mas_screen.faces.cohort.screen" in imported  # the log is complete
    assert not imported & {"pydantic", "yaml", "pandas", "mas_screen.criteria.validation"}
    assert (tmp_path / "o.parquet").exists()
