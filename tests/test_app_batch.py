"""AppTest: the Batch page (upload → summary, charts, filter, hostile files, limits) and the FHIR
import on the bedside page; plus the in-memory reading and writing behind them (no Streamlit)."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest
from test_fhir import bundle as fhir_bundle
from test_fhir import obs

from mas_screen.criteria.loading import criteria
from mas_screen.faces.cohort import screen_frame, summarise_results
from mas_screen.ui import batch_io
from mas_screen.ui.batch_demo import DEMO_ROWS, SYNTHETIC_LABEL, demo_cohort, demo_csv
from mas_screen.ui.batch_io import (
    UploadError,
    read_upload,
    results_csv,
    results_parquet,
    screen_upload,
    template_columns,
    template_csv,
)
from mas_screen.ui.fhir_import import series_rows

APP = str(ROOT / "app.py")
BATCH = str(ROOT / "mas_screen" / "ui" / "pages" / "batch.py")
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(BATCH).run()
    assert not app.exception
    yield app
    job = app.session_state["batch_job"] if "batch_job" in app.session_state else None  # noqa: SIM401
    if job is not None:  # a test that failed midway leaves no job holding the server's job slot
        job.cancel()
        job.wait(60)


def settled(at: AppTest, timeout: float = 300) -> AppTest:
    """Rerun until the screening job (a child process) has finished and the page shows its outcome.
    Event-driven: returns as soon as the job ends; the timeout only bounds a hung job."""
    job = at.session_state["batch_job"] if "batch_job" in at.session_state else None  # noqa: SIM401 (no .get)
    if job is not None:
        assert job.wait(timeout), f"the screening job did not finish in {timeout} s"
        at.run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes, key: str = "batch_upload") -> AppTest:
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return settled(at)


def errors(at: AppTest) -> str:
    """Error texts as read (file-derived text is shown with markdown escapes)."""
    return "\n".join(e.value.replace("\\", "") for e in at.error)


def rows_table(at: AppTest) -> pd.DataFrame:
    """The results table (the last data frame; the column layout's table comes first)."""
    return at.dataframe[-1].value


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def cohort_bytes() -> tuple[bytes, pd.DataFrame]:
    frame = demo_cohort().head(30)
    frame.loc[0, "id"] = FORMULA
    frame.loc[1, "ferritin_ng_per_mL"] = "@SUM(1+1)"
    return frame.to_csv(index=False).encode("utf-8"), frame


# ------------------------------------------------------------------------------------ the page


def test_empty_page_invites_an_upload_or_the_demo(at):
    assert any("load the synthetic demo cohort" in i.value for i in at.info)
    assert not at.get("plotly_chart")
    assert "100,000 rows" in at.file_uploader(key="batch_upload").label
    assert "50 MB" in at.file_uploader(key="batch_upload").label


def test_upload_csv_shows_summary_charts_and_table(at):
    data, frame = cohort_bytes()
    upload(at, "cohort.csv", data)
    expected = summarise_results(screen_frame(frame))
    shown = metrics(at)
    assert shown["Rows screened"] == "30"
    assert shown["Suggestive of MAS"] == str(expected["mas_signal"]["suggestive"])
    assert shown["Not suggestive"] == str(expected["mas_signal"]["not_suggestive"])
    assert shown["Insufficient data"] == str(expected["mas_signal"]["insufficient_data"])
    assert shown["Rows with warnings"] == str(expected["rows_with_warnings"])
    text = "\n".join(m.value for m in at.markdown)
    for iid, counts in expected["status"].items():
        name = criteria().instruments[iid].short_name
        assert f"| {name} | {counts['met']} | {counts['not_met']} | {counts['indeterminate']} |" in text
    assert "Ferritin: not a number" in text  # the warnings table, in words
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2
    labels = [" ".join(a["text"] for a in c["layout"]["annotations"]) for c in charts]
    assert f"cut-off ≥ {criteria().instruments['hscore'].cutoff.value}" in labels[0]
    assert "sJIA (derivation) ≥ −2.1" in labels[1]
    table = rows_table(at)
    assert len(table) == 30
    assert table["id"].iloc[0] == FORMULA  # shown as typed; neutralised only in the CSV export
    assert set(table["mas2016"]) <= {"● met", "○ not met", "◐ indeterminate"}


def test_filters_show_flagged_rows_and_rows_with_warnings(at):
    data, frame = cohort_bytes()
    upload(at, "cohort.csv", data)
    screened = screen_frame(frame)
    flagged = screened["mas_signal"].astype("str") == "suggestive"
    for iid in criteria().instruments:
        flagged |= screened[f"{iid}_status"].astype("str") == "met"
    at.radio(key="batch_filter").set_value("flagged").run()
    table = rows_table(at)
    assert list(table["id"]) == list(screened.loc[flagged, "id"])
    at.radio(key="batch_filter").set_value("warnings").run()
    table = rows_table(at)
    warned = screened[screened["warnings"].astype("str") != ""]
    assert list(table["id"]) == list(warned["id"])
    assert all(table["warnings"].str.len() > 0)
    at.toggle(key="batch_inputs").set_value(True).run()
    assert "in::ferritin_ng_per_mL" in rows_table(at).columns


def test_demo_cohort_is_labelled_synthetic(at):
    settled(at.button(key="batch_demo").click().run())
    assert not at.exception
    assert any(SYNTHETIC_LABEL in w.value for w in at.warning)
    assert metrics(at)["Rows screened"] == str(DEMO_ROWS)
    assert all(str(i).startswith("SYNTH-") for i in rows_table(at)["id"])


HOSTILE = [
    ("junk.csv", bytes(range(256)) * 40, "binary file, not CSV text"),
    ("cohort.parquet", b"id,ferritin\na,1\n", "is named like a Parquet file but is not one"),
    ("broken.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1", "Parquet file could not be read"),
    ("ragged.csv", b"id,ferritin\na,1\nb,2,3\n", "Line 3 has 3 cell(s) but the header has 2"),
    ("quotes.csv", b'id,ferritin\n"a,1\nb,2\n', "Line 3 has 1 cell(s)"),
    ("noid.csv", b"ferritin,platelets\n2500,100\n", "no 'id' column"),
    ("latin1.csv", "id,ferritin\nMüller,1\n".encode("latin-1"), "not UTF-8 text"),
    ("book.csv", b"PK\x03\x04" + b"\x00" * 100, "spreadsheet workbook"),
    ("empty.csv", b"", "The file is empty"),
    ("header.csv", b"id,ferritin\n", "header but no rows"),
    ("blank.csv", b"\n\nid,ferritin\na,1\n", "needs a header row"),
    ("bundle.csv", b'{"resourceType": "Bundle"}', "looks like JSON"),
    ("dup.csv", b"id,ferritin,ferritin\na,1,2\n", "duplicate column name(s): 'ferritin'"),
]


@pytest.mark.parametrize(("name", "data", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_get_a_clear_message(at, name, data, message):
    upload(at, name, data)
    assert message in errors(at)
    assert not at.get("plotly_chart")


def test_unknown_columns_stop_until_passed_through(at):
    data = b"id,ferriten,ward\na,2500,5B\n"
    upload(at, "cohort.csv", data)
    assert "'ferriten' is not an input of MAS Screen" in errors(at)
    assert any("Pass other columns through unread" in c.value for c in at.caption)
    settled(at.checkbox(key="batch_ignore").check().run())
    assert not at.exception and not at.error
    assert metrics(at)["Rows screened"] == "1"
    assert any("ferriten" in c.value and "ward" in c.value for c in at.caption)


def test_oversize_file_is_refused_with_the_limit(at):
    data = b"id,ferritin\n" + b"a,1\n" * (batch_io.MAX_UPLOAD_BYTES // 4 + 10)
    upload(at, "huge.csv", data)
    assert f"up to {batch_io.MAX_UPLOAD_MB} MB" in errors(at)
    assert "python -m mas_screen batch" in errors(at)


def test_too_many_rows_is_refused(at, monkeypatch):
    monkeypatch.setattr(batch_io, "MAX_ROWS", 10)
    upload(at, "many.csv", demo_csv())
    assert f"The table has {DEMO_ROWS} rows; this page screens at most 10" in errors(at)


def test_the_demo_replaces_an_uploaded_file_until_a_new_file_comes(at):
    data, _ = cohort_bytes()
    upload(at, "cohort.csv", data)
    settled(at.button(key="batch_demo").click().run())
    assert metrics(at)["Rows screened"] == str(DEMO_ROWS)
    at.run()  # the file still in the uploader is not read again
    assert metrics(at)["Rows screened"] == str(DEMO_ROWS)
    upload(at, "other.csv", b"id,ferritin\na,2500\n")
    assert metrics(at)["Rows screened"] == "1"


def test_removing_the_file_removes_its_results(at):
    data, _ = cohort_bytes()
    upload(at, "cohort.csv", data)
    assert metrics(at)
    at.file_uploader(key="batch_upload").clear().run()
    assert not at.metric and not at.get("plotly_chart")


# ----------------------------------------------------------------- reading and writing in memory


def test_parquet_upload_with_typed_columns():
    frame = pd.DataFrame({"id": [1, 2], "febrile": [1.0, None], "ferritin": [2500.0, 684.0], "platelets": [100, 300]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    read, fmt = read_upload("cohort.parquet", buffer.getvalue())
    assert fmt == "parquet"
    screened, summary, _ = screen_upload(read)
    assert summary["rows"] == 2
    assert list(screened["warnings"]) == ["", ""]  # 1.0 is yes in a float yes/no column
    pd.testing.assert_frame_equal(screened, screen_frame(read))


def test_a_parquet_file_with_another_name_is_read_by_its_content():
    buffer = io.BytesIO()
    pd.DataFrame({"id": ["a"], "ferritin": ["900"]}).to_parquet(buffer)
    assert read_upload("export.csv", buffer.getvalue())[1] == "parquet"


def test_csv_cells_stay_as_typed_and_blank_headers_are_passed_over():
    data = "\ufeffid;ferritin;febrile;\nNA;>40000;Yes;\n".encode()
    read, fmt = read_upload("semi.csv", data)
    assert fmt == "csv"
    assert read.iloc[0].tolist() == ["NA", ">40000", "Yes", ""]
    screened, _, ignored = screen_upload(read)
    assert ignored == ["Unnamed: 3"]
    assert screened["warnings"].iloc[0] == ""  # '>40000' is a censored value, 'Yes' a yes


def test_results_csv_neutralises_formulas_and_keeps_numbers():
    data, frame = cohort_bytes()
    read, _ = read_upload("cohort.csv", data)
    screened, _, _ = screen_upload(read)
    text = results_csv(screened).decode("utf-8")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["id"].iloc[0] == "'" + FORMULA
    assert back["ferritin_ng_per_mL"].iloc[1] == "'@SUM(1+1)"
    assert back["id"].iloc[2] == frame["id"].iloc[2]
    negative = back["ms_score_score"][back["ms_score_score"].str.startswith("-")]
    assert len(negative) and all(v[1].isdigit() for v in negative)  # negative scores stay numbers
    assert list(back.columns) == list(screened.columns)


def test_formula_headers_are_neutralised_too():
    frame = pd.DataFrame({"id": ["a"], "=HYPERLINK(1)": ["x"]})
    screened, _, _ = screen_upload(frame, ignore_unknown=True)
    header = results_csv(screened).decode("utf-8").splitlines()[0]
    assert header.split(",")[1] == "'=HYPERLINK(1)"


def test_results_parquet_keeps_cells_and_types():
    data, frame = cohort_bytes()
    screened, _, _ = screen_upload(read_upload("cohort.csv", data)[0])
    table = pq.read_table(io.BytesIO(results_parquet(screened)))
    assert table.column("id").to_pylist() == list(frame["id"])
    assert str(table.schema.field("mas2016_status").type).startswith("dictionary")
    assert table.num_rows == 30


def test_template_header_is_read_back_as_the_layout():
    header = template_csv().decode("utf-8").strip().split(",")
    assert header == template_columns()
    assert header[:2] == ["id", "time"]
    frame = pd.DataFrame([[""] * len(header)], columns=header)
    frame["id"] = "x"
    screened, _, ignored = screen_upload(frame)  # every column is an input: no unknown column
    assert ignored == [] and len(screened) == 1


def test_every_hostile_file_raises_upload_error_only():
    for name, data, message in HOSTILE:
        with pytest.raises(UploadError, match=re.escape(message)):
            screen_upload(read_upload(name, data)[0])


# ----------------------------------------------------------------------- FHIR on the bedside page


def bundle(*entries) -> bytes:
    return json.dumps(fhir_bundle(*entries)).encode()


DAY1, DAY3 = "2026-03-01T08:00:00Z", "2026-03-03T08:00:00Z"


@pytest.fixture
def bedside() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    assert not app.exception
    return app


def test_fhir_bundle_fills_the_form_and_reports_what_was_not_used(bedside):
    bedside.text_input(key="lab::esr").set_value("30").run()  # replaced: the import clears the form
    data = bundle(
        obs("f3", "2276-4", 4000, "ng/mL", when=DAY3),
        obs("p3", "777-3", 120, "10*3/uL", when=DAY3),
        obs("fib3", "3255-7", 2.6, "g/L", when=DAY3),
        obs("x3", "9999-9", 1, "mg/dL", when=DAY3),
        obs("s3", "76039-7", 3000, "pg/mL", when=DAY3),
    )
    upload(bedside, "bundle.json", data, key="fhir_upload")
    state = bedside.session_state
    assert state["lab::ferritin"] == "4000" and state["unit::ferritin"] == "ng/mL"
    assert state["lab::platelets"] == "120" and state["unit::platelets"] == "10^3/µL"
    assert state["lab::fibrinogen"] == "2.6" and state["unit::fibrinogen"] == "g/L"
    assert state["lab::esr"] == ""
    assert state["ctx::age_years"] == str(round((date(2026, 3, 3) - date(2019, 9, 1)).days / 365.25, 4))
    assert state["current_patient"].labs["ferritin"].value == "4000"  # the results use the imported panel
    assert any("3 lab value(s)" in s.value for s in bedside.success)
    warned = "\n".join(w.value for w in bedside.warning)
    assert "9999" in warned and "is not a LOINC code MAS Screen reads" in warned
    assert "pg/mL" in warned and "has no fixed conversion" in warned
    assert "| Ferritin | 4000 | ng/mL |" in "\n".join(m.value for m in bedside.markdown)


def test_fhir_series_can_go_to_the_trends_page(bedside):
    data = bundle(
        obs("f1", "2276-4", 900, "ng/mL", when=DAY1),
        obs("p1-plt", "777-3", 260, "10*3/uL", when=DAY1),
        obs("f3", "2276-4", 4000, "ng/mL", when=DAY3),
        obs("p3-plt", "777-3", 140000, "/uL", when=DAY3),
    )
    upload(bedside, "bundle.json", data, key="fhir_upload")
    assert bedside.session_state["lab::ferritin"] == "4000"  # the latest panel in the form
    assert any("on 2 dates" in i.value for i in bedside.info)
    bedside.button(key="fhir_send_series").click().run()
    assert not bedside.exception
    rows = bedside.session_state["series_rows"]
    assert [r["ferritin"] for r in rows] == ["900", "4000"]
    assert rows[1]["platelets"] == "140000 /µL"  # another unit than the column's: carried in the cell
    assert bedside.session_state["trend_unit::platelets"] == "10^3/µL"
    assert any("Sent to the Trends page" in s.value for s in bedside.success)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "is not JSON"),
        (b'{"resourceType": "Patient", "id": "p"}', "Expected a FHIR Bundle"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
    ],
)
def test_bad_fhir_files_get_a_message_and_leave_the_form(bedside, data, message):
    bedside.text_input(key="lab::ferritin").set_value("2500").run()
    upload(bedside, "bad.json", data, key="fhir_upload")
    assert message in errors(bedside)
    assert bedside.session_state["lab::ferritin"] == "2500"


def test_a_bundle_with_nothing_usable_leaves_the_form(bedside):
    bedside.text_input(key="lab::ferritin").set_value("2500").run()
    data = json.dumps(fhir_bundle(obs("x", "9999-9", 1, "mg/dL", when=DAY3), birth=None)).encode()
    upload(bedside, "bundle.json", data, key="fhir_upload")
    assert bedside.session_state["lab::ferritin"] == "2500"
    assert any("nothing in the bundle could be put into the form" in w.value for w in bedside.warning)


def test_series_rows_keep_each_value_with_its_unit():
    from mas_screen.faces.fhir import bundle_to_inputs

    imported = bundle_to_inputs(
        bundle(
            obs("f1", "2276-4", 900, "ug/L", when=DAY1),
            obs("f3", "2276-4", 4000, "ng/mL", when=DAY3),
        )
    )
    rows, units = series_rows(imported.series)
    assert units == {"ferritin": "µg/L"}
    assert [r["ferritin"] for r in rows] == ["900", "4000 ng/mL"]


# --------------------------------------------------------- decoded-size limits, jobs off the server


def test_a_parquet_decompression_bomb_is_refused_with_its_decoded_size(at):
    """Finding 3 (issue 13): a 254 KB Parquet file that decodes to 1 GB gets a clear message, no results."""
    from test_decoded_size import bomb

    upload(at, "cohort.parquet", bomb())
    text = errors(at)
    assert "Decoded, the table would take at least" in text and "MB of memory" in text
    assert "this page decodes at most 256 MB" in text
    assert at.session_state["batch_result"] is None


def test_a_csv_over_the_cell_budget_is_refused(at, monkeypatch):
    """Finding 3: CSV is counted as it is read (here: more cells than the page's budget)."""
    from dataclasses import replace

    monkeypatch.setattr(batch_io, "BUDGET", replace(batch_io.BUDGET, max_cells=500))
    upload(at, "cohort.csv", demo_csv())
    assert "columns = 3,120 cells; this page decodes at most" in errors(at)


def test_too_many_columns_is_refused_before_the_header_is_split(at):
    upload(at, "wide.csv", b"id" + b",x" * 5000 + b"\n1\n")
    assert "The header has 5,001 columns; this page reads at most 1,000" in errors(at)


def test_screening_shows_progress_and_cancel_stops_it(at, monkeypatch):
    """Finding 9 (issue 13): the screen runs in a child process; the page stays responsive, shows its
    progress and a Cancel button; Cancel kills the job and says nothing was kept."""
    import job_fixtures

    from mas_screen.ui import cohort_job

    monkeypatch.setattr(cohort_job, "run_cohort", job_fixtures.slow_cohort)
    at.file_uploader(key="batch_upload").set_value(("cohort.csv", demo_csv(), "text/csv")).run()
    job = at.session_state["batch_job"]
    assert job is not None and job.running
    deadline = time.monotonic() + 300
    while job.progress.done < 2 and time.monotonic() < deadline:  # the child has reported progress
        time.sleep(0.05)
    at.run()
    bars = at.get("progress")
    assert bars and "Screening rows" in bars[0].proto.text and "cohort" in bars[0].proto.text
    assert bars[0].proto.value < 100
    at.button(key="batch_cancel").click().run()
    assert not at.exception
    assert job.state == "cancelled"
    settled(at)
    assert "Cancelled: the job was stopped and nothing was kept." in errors(at)
    assert at.session_state["batch_result"] is None and at.session_state["batch_job"] is None
    assert not at.get("progress")


def test_a_job_over_its_memory_budget_is_reported(at, monkeypatch):
    """Finding 9: a job that needs more memory than its budget is killed and the page says so."""
    from mas_screen.faces import jobs
    from mas_screen.ui import cohort_job

    monkeypatch.setattr(cohort_job, "LIMITS", jobs.JobLimits(memory_bytes=64 << 20))
    upload(at, "cohort.csv", pd.concat([demo_cohort()] * 250).to_csv(index=False).encode())
    assert "needed more than its memory limit of 64 MB; nothing was kept" in errors(at)


def test_a_new_file_cancels_the_screening_still_running(at, monkeypatch):
    import job_fixtures

    from mas_screen.ui import cohort_job

    monkeypatch.setattr(cohort_job, "run_cohort", job_fixtures.slow_cohort)
    at.file_uploader(key="batch_upload").set_value(("slow.csv", demo_csv(), "text/csv")).run()
    first = at.session_state["batch_job"]
    monkeypatch.undo()
    upload(at, "other.csv", b"id,ferritin\na,2500\n")
    assert first.wait(300) and first.state == "cancelled"
    assert metrics(at)["Rows screened"] == "1"


def test_downloads_are_written_in_a_child_process_with_the_same_bytes():
    """Finding 9: a 100,000-row results CSV takes seconds of CPU; the page writes it in a job."""
    from mas_screen.faces import jobs
    from mas_screen.ui.cohort_job import EXPORT_LIMITS, export_results

    screened = screen_frame(demo_cohort())
    for kind, writer in (("csv", results_csv), ("parquet", results_parquet)):
        job = jobs.run_and_wait(export_results, (kind, screened), label=kind, limits=EXPORT_LIMITS)
        assert job.state == "done", job.message
        made = job.take_result()
        if kind == "csv":
            assert made == writer(screened)
        else:
            assert pq.read_table(io.BytesIO(made)).equals(pq.read_table(io.BytesIO(writer(screened))))


def test_fhir_import_on_the_page_takes_the_latest_instant(bedside):
    """Issue 13 finding 4 (page import): 09:00-05:00 is later than 10:00+00:00; the form gets 5000."""
    data = bundle(
        obs("a", "2276-4", 500, "ng/mL", when="2026-03-01T10:00:00+00:00"),
        obs("b", "2276-4", 5000, "ng/mL", when="2026-03-01T09:00:00-05:00"),
    )
    upload(bedside, "bundle.json", data, key="fhir_upload")
    assert bedside.session_state["lab::ferritin"] == "5000"
    assert not bedside.exception
