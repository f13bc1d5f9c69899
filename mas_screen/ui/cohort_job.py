"""The Batch page's work, done in a child process (mas_screen.faces.jobs): read, check, screen, summarise.

Runs in the job's process, never in the Streamlit server's: decoding an upload (checked against the
decoded-size budget first, mas_screen.kernel.inputs.decoded_size) and screening every row. The upload's bytes
come down the job's pipe and the screened table goes back up it; nothing touches the disk. Imports
nothing from Streamlit (the child never loads it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from mas_screen.faces.cohort import BatchError, plan_columns, screen_with_plan, summarise_results
from mas_screen.faces.jobs import JobLimits
from mas_screen.kernel.inputs.decoded_size import DecodedBudget
from mas_screen.ui.batch_io import MAX_UPLOAD_MB, UploadError, read_upload, screen_upload

SLICE_ROWS = 5_000  # rows screened between two progress reports
LIMITS = JobLimits(memory_bytes=1536 << 20, seconds=600)


@dataclass(frozen=True)
class CohortRequest:
    """What the page sends down the pipe: an uploaded file, or the demo cohort (made in the child)."""

    name: str
    data: bytes = b""
    ignore_unknown: bool = False
    demo: bool = False
    budget: DecodedBudget | None = None  # the page's (batch_io.current_budget()), read in the server
    decimal_comma: bool = False  # the session's number spelling (contract "Number spelling")


@dataclass
class CohortOutcome:
    """What comes back: the screened table and its summary, or the message to show instead."""

    fmt: str = ""
    frame: pd.DataFrame | None = None
    summary: dict = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    error: str | None = None
    unknown_columns: bool = False


def screen_sliced(
    frame: pd.DataFrame,
    *,
    ignore_unknown: bool,
    report: Callable[[float, float, str], None],
    decimal_comma: bool = False,
) -> tuple[pd.DataFrame, dict, list[str]]:
    """batch_io.screen_upload, in slices of SLICE_ROWS rows so progress can be reported (same result)."""
    n = len(frame)
    if n <= SLICE_ROWS:
        report(0, max(n, 1), f"Screening {n:,} rows…")
        return screen_upload(frame, ignore_unknown=ignore_unknown, decimal_comma=decimal_comma)
    names = [str(c) for c in frame.columns]
    frame = frame.set_axis(names, axis=1)
    unknown = "ignore" if ignore_unknown else "error"
    try:
        plan = plan_columns(names, unknown=unknown, decimal_comma=decimal_comma)
    except BatchError:
        return screen_upload(frame.head(0), ignore_unknown=ignore_unknown)  # words the error the same way
    parts = []
    for start in range(0, n, SLICE_ROWS):
        report(start, n, f"Screening rows {start + 1:,}–{min(start + SLICE_ROWS, n):,} of {n:,}…")
        parts.append(screen_with_plan(frame.iloc[start : start + SLICE_ROWS], plan, threads=1))
    screened = pd.concat(parts)
    screened.attrs["slow_cells"] = sum(p.attrs.get("slow_cells", 0) for p in parts)
    report(n, n, "Summarising…")
    return screened, summarise_results(screened), list(plan.ignored)


def run_cohort(request: CohortRequest, report: Callable[[float, float, str], None]) -> CohortOutcome:
    """The job: read (within the budgets), screen in slices, summarise. Never raises for bad input."""
    report(0, 1, "Reading the file…")
    try:
        if request.demo:
            from mas_screen.ui.batch_demo import demo_cohort

            frame, fmt = demo_cohort(), "demo"
        else:
            if len(request.data) > MAX_UPLOAD_MB * 1024 * 1024:
                raise UploadError(f"The file is larger than {MAX_UPLOAD_MB} MB.")
            frame, fmt = read_upload(request.name, request.data, request.budget)
        screened, summary, ignored = screen_sliced(
            frame, ignore_unknown=request.ignore_unknown, report=report, decimal_comma=request.decimal_comma
        )
    except UploadError as exc:
        return CohortOutcome(error=str(exc), unknown_columns=exc.unknown_columns)
    except (MemoryError, pa.ArrowMemoryError):
        raise  # the job reports it as over its memory limit
    except Exception:  # never a traceback, never the data in a log
        return CohortOutcome(error="The file could not be read as a cohort table (CSV or Parquet).")
    return CohortOutcome(fmt=fmt, frame=screened, summary=summary, ignored=ignored)


EXPORT_LIMITS = JobLimits(memory_bytes=1536 << 20, seconds=300)


def export_results(request: tuple[str, pd.DataFrame], report: Callable[[float, float, str], None]) -> bytes:
    """The job behind the Batch page's downloads: the screened table as CSV or Parquet bytes (a
    100,000-row CSV takes seconds of CPU, which the server's process must not spend)."""
    from mas_screen.ui.batch_io import results_csv, results_parquet

    kind, frame = request
    report(0, 1, f"Writing {kind}…")
    return results_csv(frame) if kind == "csv" else results_parquet(frame)


__all__ = [
    "EXPORT_LIMITS",
    "LIMITS",
    "SLICE_ROWS",
    "CohortOutcome",
    "CohortRequest",
    "export_results",
    "run_cohort",
    "screen_sliced",
]
