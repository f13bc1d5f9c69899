"""Decoded-size budgets (mas_screen/kernel/inputs/decoded_size.py): a table's size in memory, known before decoding.

Finding 3 of issue 13: a 254 KB Parquet file (100,000 cells of "x" * 10,000, zstd + dictionary)
decoded to 2.3 GB in the server. The budget is checked from the file's metadata (and, for text
held in dictionaries, the dictionary indices) before any cell is decoded; CSV is counted as it is
streamed.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mas_screen.faces import jobs
from mas_screen.kernel.inputs.decoded_size import (
    DecodedBudget,
    DecodedSizeError,
    csv_shape_within,
    footer_length,
    parquet_estimate,
    read_csv_within_budget,
)

BUDGET = DecodedBudget(max_bytes=64 << 20, max_cells=1_000_000, max_columns=50)


def parquet(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def bomb(rows: int = 100_000, cell: int = 10_000) -> bytes:
    """The issue's file: one repeated long text, dictionary-encoded and zstd-compressed."""
    ids = pa.array([str(i) for i in range(rows)])
    return parquet(pa.table({"id": ids, "ferritin": pa.array(["x" * cell] * rows)}), compression="zstd")


def test_the_dictionary_bomb_is_refused_from_metadata_and_dictionaries():
    """Finding 3: 254 KB on disk, 1 GB decoded: refused with the size it would take."""
    data = bomb()
    assert len(data) < 300_000
    with pytest.raises(DecodedSizeError, match=r"at least 9\d\d MB of memory"):
        parquet_estimate(data, DecodedBudget())


def test_the_check_itself_stays_small():
    """Finding 3: the check runs in a child limited to 200 MB of address space and finishes."""
    job = jobs.start(_estimate, bomb(), label="bomb", limits=jobs.JobLimits(memory_bytes=200 << 20))
    assert job.wait(300)
    assert job.state == "done", job.message
    assert "MB of memory" in job.take_result()


def _estimate(data, report):
    try:
        parquet_estimate(data, DecodedBudget())
    except DecodedSizeError as exc:
        return str(exc)
    return "accepted"


def test_delta_byte_array_prefix_bomb_is_sized_exactly():
    table = pa.table({"a": pa.array(["y" * 5_000] * 20_000)})
    data = parquet(table, use_dictionary=False, column_encoding={"a": "DELTA_BYTE_ARRAY"}, compression="zstd")
    assert len(data) < 100_000
    with pytest.raises(DecodedSizeError, match="MB of memory"):
        parquet_estimate(data, BUDGET)


@pytest.mark.parametrize("dictionary", [True, False])
def test_a_normal_cohort_fits_and_is_estimated_at_or_above_its_real_size(dictionary):
    rows = 20_000
    table = pa.table(
        {
            "id": pa.array([f"p{i}" for i in range(rows)]),
            "ferritin": pa.array([f"{1000 + i % 5000}.5 ng/mL" for i in range(rows)]),
            "age_years": pa.array([float(i % 80) for i in range(rows)]),
            "febrile": pa.array([i % 2 == 0 for i in range(rows)]),
        }
    )
    estimate = parquet_estimate(parquet(table, use_dictionary=dictionary), BUDGET)
    assert (estimate.rows, estimate.columns) == (rows, 4)
    assert estimate.bytes >= table.nbytes
    assert estimate.bytes < 3 * table.nbytes
    assert (estimate.probed_chunks > 0) == dictionary


def test_rows_columns_and_cells_are_checked_from_metadata():
    table = pa.table({f"c{i}": pa.array(["1"] * 10) for i in range(60)})
    with pytest.raises(DecodedSizeError, match="60 columns"):
        parquet_estimate(parquet(table), BUDGET)
    with pytest.raises(DecodedSizeError, match="20,000 rows"):
        parquet_estimate(parquet(pa.table({"a": pa.array(["1"] * 20_000)})), DecodedBudget(max_rows=10_000))
    wide = pa.table({f"c{i}": pa.array(["1"] * 30_000) for i in range(40)})
    with pytest.raises(DecodedSizeError, match="1,200,000 cells"):
        parquet_estimate(parquet(wide), BUDGET)


def test_nested_columns_are_refused():
    table = pa.table({"id": ["a"], "labs": pa.array([[1, 2]])})
    with pytest.raises(DecodedSizeError, match="lists or records"):
        parquet_estimate(parquet(table), BUDGET)


def test_an_oversized_footer_is_refused_before_it_is_parsed():
    data = parquet(pa.table({"a": ["1"]}))
    assert footer_length(data) > 0
    forged = data[:-8] + (500 << 20).to_bytes(4, "little") + b"PAR1"
    with pytest.raises(DecodedSizeError, match="metadata alone"):
        parquet_estimate(forged, BUDGET)


def csv_body(text: str) -> tuple[bytes, list[str]]:
    header = text.split("\n", 1)[0].split(",")
    return text.encode(), header


def test_csv_is_read_as_text_within_the_budget():
    body, names = csv_body("id,ferritin\na,1200\nb,\n")
    table = read_csv_within_budget(body, names, ",", BUDGET)
    assert table.column("ferritin").to_pylist() == ["1200", ""]


def test_csv_of_bare_delimiters_is_stopped_at_the_cell_budget():
    """A CSV of commas is all cells: 40 columns × 30,000 rows is over 1,000,000 cells."""
    body, names = csv_body(",".join(f"c{i}" for i in range(40)) + "\n" + ("," * 39 + "\n") * 30_000)
    with pytest.raises(DecodedSizeError, match=r"at least .* cells|1,200,000 cells"):
        read_csv_within_budget(body, names, ",", DecodedBudget(max_cells=1_000_000, block_bytes=64 << 10))


def test_csv_decoded_bytes_are_counted():
    body, names = csv_body("id,note\n" + ("a," + "z" * 1000 + "\n") * 5_000)
    with pytest.raises(DecodedSizeError, match="MB of memory"):
        read_csv_within_budget(body, names, ",", DecodedBudget(max_bytes=1 << 20, block_bytes=64 << 10))


def test_csv_row_count_is_exact_when_the_file_ends_in_the_block():
    body, names = csv_body("id\n" + "a\n" * 120)
    with pytest.raises(DecodedSizeError, match=r"has 120 rows"):
        read_csv_within_budget(body, names, ",", DecodedBudget(max_rows=10))


def test_csv_shape_is_counted_without_parsing_everything():
    assert csv_shape_within("time,ferritin\n" + "2026-03-01,1\n" * 5, 1000, 100) == (5, 2)
    rows, _ = csv_shape_within("time,ferritin\n" + "2026-03-01,1\n" * 150_000, 1000, 100)
    assert rows == 1001  # stopped just past the limit
    assert csv_shape_within("time" + ",x" * 5000 + "\n1\n", 1000, 100)[1] == 5001


def test_the_batch_command_reads_a_bomb_in_chunks_sized_by_its_decoded_size(tmp_path):
    """Finding 3, command line: a Parquet file that decodes far past memory is streamed in chunks of
    about AUTO_CHUNK_BYTES decoded, chosen from its metadata; a normal file is read whole."""
    from mas_screen.faces.cohort import AUTO_CHUNK_BYTES, parquet_chunk_rows

    path = tmp_path / "bomb.parquet"
    path.write_bytes(bomb())
    rows = parquet_chunk_rows(path, 100_000)
    assert rows is not None and rows * 10_000 <= AUTO_CHUNK_BYTES * 1.1
    small = tmp_path / "small.parquet"
    small.write_bytes(parquet(pa.table({"id": ["a", "b"], "ferritin": ["1200", "900"]})))
    assert parquet_chunk_rows(small, 2) is None
    assert footer_length(path) == footer_length(path.read_bytes()) > 0
