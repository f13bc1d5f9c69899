"""The file path of cohort screening never imports pandas (0.19 s of a 400,000-row run, issue 14), and
the Arrow builders it uses instead (mas_screen/kernel/inputs/arrow.py) give what pyarrow's own
constructors give."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mas_screen.kernel.exact import POW10, POW10_INT
from mas_screen.kernel.inputs import arrow

ROOT = Path(__file__).resolve().parents[1]

HEADER = "id,underlying_disease,febrile,splenomegaly,age_years,ferritin,platelets,ast,fibrinogen,esr,triglycerides\n"
ROWS = [
    "p1,sjia,true,,9,12000,110,80,131,12,300\n",
    "p2,aosd,false,true,34,>40000,<20,48,1.5 g/L,0,\n",
    "=HYPERLINK(x),sle,,,51,684,181,30,360,,156\n",  # a formula-like id: the CSV writer quotes it
    "p4,unknown,,,0.3,12.500,abc,-4,,7,2.1 mmol/L\n",
]


def test_batch_runs_import_no_pandas(tmp_path):
    """CSV and Parquet in, Parquet and CSV out, streamed in chunks, with --explain: one process runs
    them all and pandas is still not loaded at the end."""
    src = tmp_path / "cohort.csv"
    src.write_text(HEADER + "".join(ROWS * 50), encoding="utf-8")
    runs = [
        [str(src), "-o", str(tmp_path / "a.parquet")],
        [str(src), "-o", str(tmp_path / "b.csv")],
        [str(tmp_path / "a.parquet"), "-o", str(tmp_path / "c.parquet")],
        [str(src), "-o", str(tmp_path / "d.parquet"), "--explain"],
        [str(src), "-o", str(tmp_path / "e.csv"), "--chunk-rows", "70", "--explain"],
    ]
    code = textwrap.dedent(
        f"""
        import io, sys
        from mas_screen.faces.cli.main import main
        for argv in {runs!r}:
            rc = main(["batch", *argv], stdout=io.StringIO())
            assert rc == 0, (argv, rc)
        print("pandas loaded:", "pandas" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pandas loaded: False" in done.stdout
    assert "'=HYPERLINK(x)" in (tmp_path / "b.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "values",
    [
        np.array([1.5, 0.0, -3.0]),
        np.array([1, 2, 3], np.int64),
        np.array([1, -2], np.int8),
        np.array([7, 300], np.int16),
        np.array([1, 2], np.int32),
        np.array([True, False, True, True, False, False, True, False, True]),
        np.zeros(0),
    ],
)
def test_numbers_match_pyarrow(values):
    assert arrow.numbers(values).equals(pa.array(values))


def test_numbers_with_mask_match_pyarrow():
    values, mask = np.array([1.0, 2.0, 3.0, 4.0]), np.array([False, True, False, True])
    assert arrow.numbers(values, mask=mask).equals(pa.array(values, mask=mask))
    ints = np.array([5, 6, 7], np.int64)
    assert arrow.numbers(ints, mask=np.array([True, False, False])).equals(
        pa.array(ints, mask=np.array([True, False, False]))
    )
    with pytest.raises(TypeError):
        arrow.numbers(np.array(["a"], dtype=object))


def test_texts_and_scalars_match_pyarrow():
    words = ["", "ferritin:unit_suspect", None, "µmol/L", "é"]
    assert arrow.texts(words).equals(pa.array(words, pa.large_string()))
    assert arrow.texts(words, pa.string()).equals(pa.array(words, pa.string()))
    assert arrow.repeated("ab", 3).equals(pa.array(["ab"] * 3, pa.large_string()))
    assert arrow.repeated("", 0).equals(pa.array([], pa.large_string()))
    assert arrow.text("; ").equals(pa.scalar("; ", pa.large_string()))
    assert arrow.text(None, pa.string()).equals(pa.scalar(None, pa.string()))
    assert arrow.number(0.0, pa.float64()).equals(pa.scalar(0.0, pa.float64()))
    assert arrow.indices(np.array([2, 0], np.int32)).equals(pa.array([2, 0], pa.int64()))


def test_to_numpy_reads_buffers_and_offsets():
    bools = pa.array([True, False, True, True, False, True, False, False, True, True])
    for start in range(4):
        piece = bools.slice(start, 5)
        np.testing.assert_array_equal(arrow.to_numpy(piece), np.array(piece.to_pylist()))
    ints = pa.array(np.arange(10, dtype=np.int64)).slice(3, 4)
    np.testing.assert_array_equal(arrow.to_numpy(ints), [3, 4, 5, 6])
    np.testing.assert_array_equal(arrow.to_numpy(ints, np.float64), [3.0, 4.0, 5.0, 6.0])
    with_nulls = pa.array([1.0, None, 2.0])  # the general path: nulls as NaN, as pyarrow gives them
    np.testing.assert_array_equal(arrow.to_numpy(with_nulls), [1.0, np.nan, 2.0])
    chunked = pa.chunked_array([[1, 2], [3]])
    np.testing.assert_array_equal(arrow.to_numpy(chunked), [1, 2, 3])
    assert arrow.to_numpy(pa.array([], pa.bool_())).shape == (0,)


def test_power_tables_equal_numpy_power():
    k = np.arange(309)
    np.testing.assert_array_equal(POW10, np.power(10.0, k))
    np.testing.assert_array_equal(POW10_INT, 10 ** np.arange(19, dtype=np.int64))
