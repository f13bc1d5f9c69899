"""The file batch's scheduler (faces/cohort/files._screen_and_write): every slice of every chunk
written once, in input order, whatever order the threads finish in; memory bounded by `ahead`;
the first failure (a slice, a write or the reading) stops every thread and reaches the caller."""

from __future__ import annotations

import random
import threading
import time

import pyarrow as pa
import pytest

from mas_screen.faces.cohort.files import _screen_and_write, balanced_rows


def _chunks(sizes: list[int]):
    """Tables of consecutive row numbers, with the progress mark of each chunk (rows so far)."""
    start = 0
    for size in sizes:
        yield pa.table({"row": list(range(start, start + size))}), start + size
        start += size


class _Run:
    """Fake screening (a random pause, so threads finish out of order) and writing, recording
    what was written and how far the screening got ahead of the writing."""

    def __init__(self, seed: int, fail_screen: int | None = None, fail_write: int | None = None):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.written: list[int] = []
        self.marks: list[int] = []
        self.threads: set[str] = set()
        self.screened = 0
        self.most_ahead = 0
        self.fail_screen, self.fail_write = fail_screen, fail_write

    def work(self, piece: pa.Table):
        with self.lock:
            pause = self.rng.random() * 0.004
            self.threads.add(threading.current_thread().name)
            self.screened += 1
            self.most_ahead = max(self.most_ahead, self.screened - len(self.written))
        time.sleep(pause)
        rows = piece.column("row").to_pylist()
        if self.fail_screen is not None and self.fail_screen in rows:
            raise ValueError(f"slice with row {self.fail_screen}")
        return rows

    def absorb(self, done: int, rows: list[int]) -> None:
        if self.fail_write is not None and self.fail_write in rows:
            raise OSError("disk full")
        self.written.extend(rows)
        self.marks.append(done)


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
@pytest.mark.parametrize("sizes", [[0], [5], [1000], [1000, 1, 999, 300], [7] * 12])
def test_every_row_written_once_in_order(workers: int, sizes: list[int]) -> None:
    run = _Run(seed=workers * 31 + len(sizes))
    ahead = 2 * workers
    _screen_and_write(_chunks(sizes), run.work, run.absorb, workers, ahead, sum(sizes))
    assert run.written == list(range(sum(sizes)))
    assert run.most_ahead <= ahead  # never more slices screened than the writer allows
    # each chunk's last slice carries the chunk's progress mark; marks never go back; an empty
    # chunk is still one (empty) slice, so an empty file's output has its columns
    assert run.marks == sorted(run.marks)
    assert run.marks[-1] == sum(sizes)


def test_slices_are_balanced_across_workers() -> None:
    """Whole rounds of equal slices for two workers (the shape the speed depends on): four of
    100,000 for 400,000 rows, eight of 125,000 for 1,000,000."""
    assert balanced_rows(400_000, 2) == 100_000
    assert balanced_rows(1_000_000, 2) == 125_000


def test_the_threads_share_the_work() -> None:
    run = _Run(seed=3)
    _screen_and_write(_chunks([40] * 4), run.work, run.absorb, 2, 4, 160)
    assert run.written == list(range(160))
    assert threading.current_thread().name in run.threads  # the calling thread screens too


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_failing_slice_stops_the_run(workers: int) -> None:
    run = _Run(seed=5, fail_screen=150)
    before = threading.active_count()
    with pytest.raises(ValueError, match="row 150"):
        _screen_and_write(_chunks([100, 100, 100]), run.work, run.absorb, workers, 2 * workers, 300)
    assert 150 not in run.written
    assert threading.active_count() == before  # no thread left behind


def test_a_failing_write_stops_the_run() -> None:
    run = _Run(seed=6, fail_write=10)
    with pytest.raises(OSError, match="disk full"):
        _screen_and_write(_chunks([50, 50]), run.work, run.absorb, 2, 4, 100)
    assert 10 not in run.written


def test_a_failing_read_reaches_the_caller() -> None:
    def chunks():
        yield pa.table({"row": [0, 1, 2]}), 3
        raise OSError("input vanished")

    run = _Run(seed=7)
    with pytest.raises(OSError, match="vanished"):
        _screen_and_write(chunks(), run.work, run.absorb, 2, 4, 6)
    assert run.written in ([], [0, 1, 2])


def test_the_last_round_of_slices_is_halved() -> None:
    """The last slice's write is the only work after the last screen: with two rounds or more, the
    last round's slices are cut in halves; every row once, in order; a small table is not cut up."""
    from mas_screen.faces.cohort.files import FILE_SLICE_ROWS, _tapered

    for rows, sizes in [
        (400_000, [100_000, 100_000, 50_000, 50_000, 50_000, 50_000]),
        (1_000_000, [125_000] * 6 + [62_500] * 4),
        (150_000, [75_000, 75_000]),  # one round: nothing to halve
        (0, [0]),
    ]:
        table = pa.table({"row": pa.array(range(rows), pa.int64())})
        parts = _tapered(table, 2, FILE_SLICE_ROWS)
        assert [p.num_rows for p in parts] == sizes
        assert pa.concat_tables(parts).column("row").to_pylist() == list(range(rows))
