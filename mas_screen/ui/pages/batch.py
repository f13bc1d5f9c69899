"""Cohort screening: upload a CSV or Parquet table, screen every row, see a summary, download the results.

A thin face over `mas_screen.faces.cohort` (the same results as the bedside page, row by row). The file is
read in this session's memory only: nothing is written to disk, cached across sessions or logged.
"""

from __future__ import annotations

import functools
from datetime import datetime

import pandas as pd
import streamlit as st

from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.explain.phrases import STATUS_WORDS
from mas_screen.explain.summary import qualified_name
from mas_screen.faces import jobs
from mas_screen.render.figures.cohort import cohort_score_figure
from mas_screen.ui import batch_io, cohort_job
from mas_screen.ui.batch_demo import SYNTHETIC_LABEL
from mas_screen.ui.batch_io import (
    MAX_ROWS,
    MAX_UPLOAD_MB,
    CohortResult,
    layout_rows,
    readable_warnings,
    template_csv,
)
from mas_screen.ui.cohort_job import CohortOutcome, CohortRequest, run_cohort
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.state import decimal_comma, decimal_comma_toggle
from mas_screen.ui.widgets import WARNING_TITLES

RESULT = "batch_result"
ERROR = "batch_error"
DONE = "batch_upload_done"  # the results' source: ("upload", file_id, pass-through, decimal comma) or ("demo", file_id)
MAX_TABLE_ROWS = 5_000  # rows drawn in the table; the downloads hold every row
SIGNAL_WORDS = {
    "suggestive": "⚠ features suggestive of MAS",
    "not_suggestive": "○ not suggestive",
    "insufficient_data": "◐ insufficient data",
}
FILTERS = {
    "all": "All rows",
    "flagged": "Flagged: features suggestive of MAS, or any instrument met",
    "warnings": "Rows with warnings",
}
# Below this width side-by-side blocks stack: the histograms need ~600 px each for their cut-off
# labels, and the status and warning tables cramp their headings. Scoped to this page's containers.
STACK_CSS = """
<style>
@media (max-width: 1100px) {
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [class*="st-key-batch_stack"]) {
    flex-direction: column;
  }
  [data-testid="stColumn"]:has([class*="st-key-batch_stack"]) { width: 100% !important; flex: 1 1 auto !important; }
}
</style>
"""


def short_name(iid: str) -> str:
    return criteria().instruments[iid].short_name


# ------------------------------------------------------------------------------------- loading
# Reading and screening run in a child process (mas_screen.faces.jobs, mas_screen/ui/cohort_job.py): the
# server's process only holds the upload's bytes and, at the end, the screened table. The page waits
# up to INLINE_WAIT_S for a small job, else shows its progress with a Cancel button and keeps polling.

JOB = "batch_job"
INLINE_WAIT_S = 1.0
POLL_S = 1.0


def _start(request: CohortRequest, source: str) -> None:
    """Start screening in a child process; a job still running for this session is cancelled first."""
    old = st.session_state.get(JOB)
    if old is not None:
        old.cancel()
    st.session_state[ERROR] = None
    st.session_state[RESULT] = None
    job = jobs.start(run_cohort, request, label=source, limits=cohort_job.LIMITS)
    job.source = source  # type: ignore[attr-defined]
    st.session_state[JOB] = job


def _absorb(job: jobs.Job) -> None:
    """A finished job's outcome into this session's state: results, or the message why not."""
    st.session_state[JOB] = None
    outcome: CohortOutcome | None = job.take_result()
    source = getattr(job, "source", job.label)
    if job.state != "done" or outcome is None:
        st.session_state[ERROR] = (job.message or "Screening stopped; nothing was kept.", False)
        st.session_state[RESULT] = None
        return
    if outcome.error is not None:
        st.session_state[ERROR] = (outcome.error, outcome.unknown_columns)
        st.session_state[RESULT] = None
        return
    notes = []
    if outcome.fmt == "parquet" and not source.lower().endswith((".parquet", ".pq", ".parq")):
        notes.append(f"{source} is a Parquet file (read as Parquet, whatever its name).")
    st.session_state[RESULT] = CohortResult(outcome.frame, outcome.summary, source, outcome.fmt, outcome.ignored, notes)
    st.session_state[ERROR] = None


def load_demo() -> None:
    """The demo replaces the results; a file still in the uploader is not re-read until it changes."""
    upload = st.session_state.get("batch_upload")
    st.session_state[DONE] = ("demo", upload.file_id if upload is not None else None)
    _start(CohortRequest(name=SYNTHETIC_LABEL, demo=True), SYNTHETIC_LABEL)


def read_uploaded(upload) -> None:
    """Read and screen an uploaded file once per file (and per 'pass through' choice)."""
    token = ("upload", upload.file_id, st.session_state.get("batch_ignore", False), decimal_comma())
    done = st.session_state.get(DONE)
    if done == token or done == ("demo", upload.file_id):
        return
    st.session_state[DONE] = token
    if upload.size > MAX_UPLOAD_MB * 1024 * 1024:  # the browser enforces it too; this also covers API use
        old = st.session_state.get(JOB)
        if old is not None:
            old.cancel()
        st.session_state[JOB] = None
        st.session_state[ERROR] = (
            f"The file is {upload.size / 1024 / 1024:,.1f} MB; this page reads files up to {MAX_UPLOAD_MB} MB. "
            "For larger cohorts use the command line: python -m mas_screen batch cohort.csv -o screened.parquet.",
            False,
        )
        st.session_state[RESULT] = None
        return
    request = CohortRequest(
        name=upload.name,
        data=upload.getvalue(),
        ignore_unknown=st.session_state.get("batch_ignore", False),
        budget=batch_io.current_budget(),
        decimal_comma=decimal_comma(),
    )
    _start(request, upload.name)


def _cancel() -> None:
    job = st.session_state.get(JOB)
    if job is not None:
        job.cancel()
        job.wait(5)


def settle(wait: float = INLINE_WAIT_S) -> jobs.Job | None:
    """The running job, if any, after waiting up to `wait` s for it; a finished one is absorbed."""
    job = st.session_state.get(JOB)
    if job is None:
        return None
    if job.running:
        job.wait(wait)
    if not job.running:
        _absorb(job)
        return None
    return job


@st.fragment(run_every=POLL_S)
def job_progress() -> None:
    """Progress and Cancel for the running job; once it ends, the whole page shows its outcome."""
    job = st.session_state.get(JOB)
    if job is None:
        return
    if not job.running:
        st.rerun()  # the page reruns and absorbs the outcome
    with st.container(border=True, key="batch_job_panel"):
        label = plain_markdown(getattr(job, "source", job.label))
        if job.state == "queued":
            st.progress(0.0, text=f"Waiting for another screening on this server to finish — {label}")
        else:
            p = job.progress
            st.progress(p.fraction, text=f"{plain_markdown(p.text)} — {label} ({job.elapsed:,.0f} s)")
        st.button("Cancel", key="batch_cancel", on_click=_cancel, icon=":material/cancel:")
        st.caption(
            "Screening runs apart from the page, so others using this server are not slowed; you may keep "
            "using the other pages meanwhile. Cancel stops it and keeps nothing."
        )


def controls() -> None:
    c1, c2 = st.columns([3, 2], gap="large")
    with c1:
        upload = st.file_uploader(
            f"Cohort table: CSV or Parquet, up to {MAX_UPLOAD_MB} MB and {MAX_ROWS:,} rows",
            type=["csv", "txt", "tsv", "parquet", "pq"],
            key="batch_upload",
            max_upload_size=MAX_UPLOAD_MB,
            help="One row per panel: an id column, optionally time, context fields and labs (see the column "
            "layout). Read in this session's memory only; nothing is written to disk.",
        )
        st.checkbox(
            "Pass other columns through unread",
            key="batch_ignore",
            help="Columns that are not inputs (ward, study arm, …) are kept in the download but not read. "
            "Off: such a column stops the screen, so a misspelt lab is never silently skipped.",
        )
        decimal_comma_toggle()
    with c2:
        st.markdown("**No data at hand?**")
        st.button(
            "Load demo cohort (synthetic)",
            key="batch_demo",
            on_click=load_demo,
            icon=":material/science:",
            help="120 made-up rows generated the same way every time: MAS-like and flare-like panels, gaps, "
            "and a few cells a real export holds. Not patients.",
        )
        st.download_button(
            "Download template CSV (header row)",
            data=template_csv(),
            file_name="mas-screen-cohort-template.csv",
            mime="text/csv",
            key="batch_template",
            on_click="ignore",
            icon=":material/description:",
        )
    if upload is not None:
        read_uploaded(upload)
    elif (st.session_state.get(DONE) or ("",))[0] == "upload":
        # The file was removed: its results (or its screening still running) go with it.
        st.session_state[DONE] = None
        st.session_state[RESULT] = None
        st.session_state[ERROR] = None
        if st.session_state.get(JOB) is not None:
            st.session_state[JOB].cancel()
            st.session_state[JOB] = None


def column_layout() -> None:
    with st.expander("Column layout (what the table may hold)", expanded=False):
        st.markdown(
            "Column names are matched case-insensitively. A lab column is `<lab>` (its default unit) or "
            "`<lab>_<unit>` with `/` written `_per_` (`fibrinogen_g_per_L`, `platelets_10^9_per_L`). "
            "Cells are read as typed: a blank cell is *not done* (never normal); `>40000` is a censored "
            "result; a cell may carry its own unit (`3.6 g/L`). Yes/no fields take yes/no, true/false, 1/0."
        )
        st.dataframe(pd.DataFrame(layout_rows()), hide_index=True, width="stretch", key="batch_layout")


# ------------------------------------------------------------------------------------- results


def summary(result: CohortResult) -> None:
    s = result.summary
    signal = s["mas_signal"]
    st.markdown(f"#### Summary — {plain_markdown(result.source)}")
    for note in result.notes:
        st.caption(plain_markdown(note))
    if result.ignored:
        st.caption("Passed through unread: " + ", ".join(plain_markdown(c) for c in result.ignored))
    with st.container(key="batch_metrics"):
        cols = st.columns(5)
        cols[0].metric("Rows screened", f"{s['rows']:,}")
        cols[1].metric(
            "Suggestive of MAS",
            f"{signal['suggestive']:,}",
            help="An instrument built for the row's own population (by underlying disease) met. Instruments "
            "built for other populations never count: they are listed as indicative only.",
        )
        cols[2].metric(
            "Not suggestive",
            f"{signal['not_suggestive']:,}",
            help="Every instrument for the row's own population (by underlying disease) not met.",
        )
        cols[3].metric("Insufficient data", f"{signal['insufficient_data']:,}", help="Neither of the above yet.")
        cols[4].metric("Rows with warnings", f"{s['rows_with_warnings']:,}", help="See the warnings table below.")
    left, right = st.columns([3, 2], gap="medium")
    with left, st.container(key="batch_stack_status"):
        lines = ["| Instrument | ● met | ○ not met | ◐ indeterminate |", "|---|---:|---:|---:|"]
        for iid in instrument_ids():
            counts = s["status"][iid]
            lines.append(
                f"| {short_name(iid)} | {counts['met']:,} | {counts['not_met']:,} | {counts['indeterminate']:,} |"
            )
        st.markdown("\n".join(lines))
    with right, st.container(key="batch_stack_warnings"):
        if s["warnings"]:
            words = readable_warnings(pd.Series(list(s["warnings"])), WARNING_TITLES)
            st.markdown(
                "| Warning | Rows |\n|---|---:|\n"
                + "\n".join(f"| {w} | {n:,} |" for w, n in zip(words, s["warnings"].values(), strict=True))
            )
            st.caption(
                "A flagged value is left out of every criterion and the row is screened without it; "
                "conflicting answers are both kept."
            )
        else:
            st.markdown("**No warnings**: every filled cell was read.")


def charts(result: CohortResult) -> None:
    st.markdown("#### Score distributions")
    st.caption(
        "Complete scores only: a score with an input missing or censored has no single value. HScore was "
        "derived in adults and the MS score in children with systemic JIA; rows outside those populations "
        "are drawn as computed."
    )
    scores = criteria().policy.cohort_scores  # the cohort score distributions drawn (policy.yaml)
    cols = st.columns(len(scores), gap="medium")
    for col, iid in zip(cols, scores, strict=True):
        with col, st.container(key=f"batch_stack_chart_{iid}"):
            st.plotly_chart(
                cohort_score_figure(result.frame, iid),
                key=f"batch_hist_{iid}",
                width="content",
                theme=None,
                config={"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
            )


def flagged(frame: pd.DataFrame) -> pd.Series:
    """Rows with features suggestive of MAS or any instrument met."""
    mask = frame["mas_signal"].astype("str") == "suggestive"
    for iid in instrument_ids():
        mask |= frame[f"{iid}_status"].astype("str") == "met"
    return mask


def display_frame(frame: pd.DataFrame, *, inputs: bool) -> tuple[pd.DataFrame, dict]:
    """The table as shown: id/time, signal, every status in words and symbols, scores, warnings."""
    results = {f"{iid}_status" for iid in instrument_ids()} | {"mas_signal", "other_population_met", "phlh_signal"}
    results.add("warnings")
    shown: dict[str, pd.Series] = {}
    config: dict = {}
    for key in ("id", "time"):
        found = next((c for c in frame.columns if str(c).strip().lower() == key), None)
        if found is not None:
            shown[key] = frame[found].astype("str")
            config[key] = st.column_config.TextColumn(key, pinned=True) if key == "id" else key
    shown["mas_signal"] = frame["mas_signal"].astype("str").map(SIGNAL_WORDS)
    config["mas_signal"] = st.column_config.TextColumn("MAS signal", width=215)
    if "other_population_met" in frame.columns:
        names = {iid: short_name(iid) for iid in instrument_ids()}
        shown["other_population_met"] = (
            frame["other_population_met"]
            .astype("str")
            .map(lambda cell: ", ".join(names.get(i, i) for i in cell.split(";") if i and i != "nan"))
        )
        config["other_population_met"] = st.column_config.TextColumn(
            "Also met (other populations)",
            width=190,
            help="Met by instruments built for other populations: indicative only, never part of the MAS signal.",
        )
    for iid in instrument_ids():
        shown[iid] = frame[f"{iid}_status"].astype("str").map(STATUS_WORDS)
        qualifier = qualified_name(iid).removeprefix(short_name(iid)).strip()
        config[iid] = st.column_config.TextColumn(short_name(iid), width=118, help=qualifier.strip("()") or None)
    for iid in criteria().policy.cohort_scores:
        shown[f"{iid}_score"] = frame[f"{iid}_score"]
        config[f"{iid}_score"] = st.column_config.NumberColumn(f"{short_name(iid)} (score)", format="%g")
    shown["warnings"] = readable_warnings(frame["warnings"], WARNING_TITLES)
    config["warnings"] = st.column_config.TextColumn("Warnings", width="large")
    if inputs:
        own = [c for c in frame.columns if c not in results and not str(c).startswith(tuple(instrument_ids()))]
        for c in own:
            if str(c).strip().lower() not in ("id", "time"):
                shown[f"in::{c}"] = frame[c]
                config[f"in::{c}"] = str(c)
    return pd.DataFrame(shown, index=frame.index), config


def table(result: CohortResult) -> None:
    st.markdown("#### Rows")
    frame = result.frame
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    with c1:
        choice = st.radio("Show", list(FILTERS), key="batch_filter", format_func=FILTERS.get, horizontal=True)
    with c2:
        inputs = st.toggle("Show input columns", key="batch_inputs")
    if choice == "flagged":
        frame = frame[flagged(frame).to_numpy()]
    elif choice == "warnings":
        frame = frame[(frame["warnings"].astype("str") != "").to_numpy()]
    total = len(frame)
    if not total:
        st.info("No row matches this filter.")
        return
    shown, config = display_frame(frame.head(MAX_TABLE_ROWS), inputs=inputs)
    st.caption(
        f"{total:,} row(s)"
        + (f"; the first {MAX_TABLE_ROWS:,} are shown, the downloads hold every row" if total > MAX_TABLE_ROWS else "")
        + ". Status: ● met, ○ not met, ◐ indeterminate (an input missing could change it)."
    )
    st.dataframe(
        shown, hide_index=True, width="stretch", column_config=config, key="batch_table", height=420, placeholder="—"
    )


def export(kind: str, frame: pd.DataFrame) -> bytes:
    """A download's bytes, written in a child process (mas_screen.faces.jobs) when the button is clicked."""
    job = jobs.run_and_wait(
        cohort_job.export_results, (kind, frame), label=f"export {kind}", limits=cohort_job.EXPORT_LIMITS
    )
    if job.state != "done":
        return f"The {kind} file could not be written: {job.message}\n".encode()
    return job.take_result()


def downloads(result: CohortResult) -> None:
    st.markdown("#### Download the results")
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    c1, c2 = st.columns(2)
    with c1:
        st.download_button(
            "Download results CSV",
            data=functools.partial(export, "csv", result.frame),
            file_name=f"mas-screen-cohort-{stamp}.csv",
            mime="text/csv",
            key="batch_csv",
            on_click="ignore",
            icon=":material/description:",
            help="Every input column plus each instrument's status, score and count, mas_signal, phlh_signal and "
            "warnings. Cells a spreadsheet would run as a formula (=, +, -, @) are prefixed with '.",
        )
    with c2:
        st.download_button(
            "Download results Parquet",
            data=functools.partial(export, "parquet", result.frame),
            file_name=f"mas-screen-cohort-{stamp}.parquet",
            mime="application/vnd.apache.parquet",
            key="batch_parquet",
            on_click="ignore",
            icon=":material/folder_open:",
            help="The same columns with types (statuses as categories, scores as numbers); cells exactly as typed.",
        )
    st.caption(
        "Files are generated in memory when you click; nothing is written on the server. The columns follow "
        "the command line's output (`python -m mas_screen batch`)."
    )


def render() -> None:
    st.session_state.setdefault(JOB, None)
    st.session_state.setdefault(RESULT, None)
    st.session_state.setdefault(ERROR, None)
    st.html(STACK_CSS)  # style only: takes no space on the page
    st.markdown("## Cohort screening")
    st.caption(
        "Screen a table of patients with every published instrument, row by row, exactly as the Assess page does "
        "for one panel. A screening aid for quality review and research, not a diagnosis. Private: the file is "
        "read in this browser session's memory only; nothing is written to disk, stored or sent."
    )
    jobs.warm_up_once()
    controls()
    column_layout()
    if settle() is not None:
        job_progress()
        return
    error = st.session_state.get(ERROR)
    if error:
        message, unknown = error
        st.error(plain_markdown(message), icon=":material/block:")
        if unknown:
            st.caption("Tick 'Pass other columns through unread' above to screen the table anyway.")
    result: CohortResult | None = st.session_state.get(RESULT)
    if result is None:
        if not error:
            st.info("Upload a cohort table, or load the synthetic demo cohort to see what the page does.")
        return
    if result.fmt == "demo":
        st.warning(
            f"**{SYNTHETIC_LABEL}.** Generated the same way every time, for teaching; no real data.",
            icon=":material/science:",
        )
    summary(result)
    charts(result)
    table(result)
    downloads(result)


render()
