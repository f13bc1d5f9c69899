"""Trends page uploads are sized before they are parsed (issue 13, finding 3: decoded size).

A 2 MB CSV of one-cell rows is ~150,000 rows: before, the page parsed every row into a patient
panel (14 s and 370 MB in the server process, every other session waiting) and only then refused
it for having more than 1,000 rows. Now the rows and columns are counted first.
"""

from __future__ import annotations

import resource

from test_app_trends import at  # noqa: F401 - the Trends page fixture
from test_hostile_inputs import literal, upload


def test_a_2mb_file_of_tiny_rows_is_refused_before_it_is_parsed(at, monkeypatch):  # noqa: F811
    """Finding 3 (issue 13): refused from a count, without building 150,000 panels."""
    import mas_screen.kernel.inputs.columns as columns

    def never(*_args, **_kwargs):
        raise AssertionError("the rows were parsed although the file has too many")

    monkeypatch.setattr(columns, "read_series_csv", never)
    data = b"time,ferritin\n" + b"2026-03-01,1\n" * 150_000
    assert len(data) < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    upload(at, "tiny-rows.csv", data)
    assert len(at.error) == 1
    assert "at least 1,001 rows" in literal(at.error[0].value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MB"


def test_a_file_with_thousands_of_columns_is_refused_before_it_is_parsed(at):  # noqa: F811
    upload(at, "wide.csv", b"time" + b",x" * 20_000 + b"\n2026-03-01" + b",1" * 20_000 + b"\n")
    assert len(at.error) == 1
    assert "20,001 columns; this page reads at most 200" in literal(at.error[0].value)
