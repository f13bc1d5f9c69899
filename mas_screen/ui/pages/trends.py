"""Serial labs: a table of dated panels, their trends against every threshold, and when each
instrument was first met. The change matters as much as any single panel (Ravelli 2016, RMD Open),
but no published percent-change cut-off exists: alert levels here are the user's own.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from datetime import datetime

import pandas as pd
import streamlit as st

from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.criteria.references import short_citation
from mas_screen.domain.models import PatientInput, field_label
from mas_screen.domain.series import SeriesInput, TrendResult
from mas_screen.domain.units import as_float, convert, is_plausible, plausible_in, pretty_unit
from mas_screen.faces.trends import assess_series
from mas_screen.kernel.inputs.decoded_size import csv_shape_within
from mas_screen.kernel.inputs.facts import unit_spec
from mas_screen.kernel.inputs.parsing import NotANumber, format_number, read_number, shorten
from mas_screen.kernel.inputs.safe_csv import neutralise
from mas_screen.ui import cards
from mas_screen.ui.page_script import measured_width
from mas_screen.ui.print_details import browser_now
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.series_state import (
    COLUMNS_KEY,
    add_bedside_panel,
    alert_key,
    base_frame,
    clear_series,
    editor_key,
    frame_to_rows,
    init_series_state,
    load_demo,
    mixed_unit_columns,
    series_input,
    set_rows,
    trend_unit_key,
)
from mas_screen.ui.state import decimal_comma, decimal_comma_toggle, shown_index

MAX_UPLOAD_BYTES = 2_000_000
MAX_UPLOAD_ROWS = 1_000  # one patient's series; a cohort belongs on the command line (python -m mas_screen batch)
MAX_UPLOAD_COLUMNS = 200  # time, labs in one or two units each, a few passed-through columns
MAX_SHOWN_PROBLEMS = 20
CHART_WIDTH_PX = 1100  # the widest the charts are drawn; narrower when the page is (a phone, a tablet)
TIMELINE_WIDTH_PX = 1000
CHARTS_KEY = "trend_charts"


def plain(text: object) -> str:
    """Text from a file or a cell shown literally, on one line (an image in a column name would otherwise
    make the browser fetch an outside address)."""
    return plain_markdown(" ".join(str(text).split()))


def controls() -> None:
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3], vertical_alignment="bottom")
    with c1:
        st.button(
            "Load demo course", key="trend_demo", on_click=load_demo, help="sJIA flare evolving into MAS over 4 days"
        )
    with c2:
        st.button(
            "Add bedside panel",
            key="trend_add_bedside",
            on_click=add_bedside_panel,
            help="Adds the values on the Assess page as a new row, timed now (this session only).",
        )
    with c3:
        st.button("Clear series", key="trend_clear", on_click=clear_series)
    with c4:
        upload = st.file_uploader("Upload CSV (one row per time point)", type=["csv"], key="trend_upload")
    if upload is not None and st.session_state.get("trend_upload_done") != upload.file_id:
        st.session_state["trend_upload_done"] = upload.file_id
        load_csv(upload.getvalue())
        st.rerun()


def load_csv(data: bytes) -> None:
    """A CSV in the contract's batch layout: `time`, labs as `<key>` or `<key>_<unit>`. In memory only.

    Every way a file can be unfit (too large, binary, not UTF-8, not a series, too many rows) ends
    in one message and leaves the table as it was; row and column problems are listed, not raised.
    """
    from mas_screen.kernel.inputs.columns import read_series_csv

    state = st.session_state
    state["trend_upload_problems"] = []
    if len(data) > MAX_UPLOAD_BYTES:
        state["trend_upload_error"] = f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB; not read."
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        state["trend_upload_error"] = "The file is not UTF-8 text (is it a spreadsheet? save it as CSV)."
        return
    if "\x00" in text:
        state["trend_upload_error"] = (
            "The file contains NUL bytes: it is not a text CSV (a binary file, or UTF-16 text). Save it as CSV UTF-8."
        )
        return
    # Counted before parsing (issue 13, finding 3: decoded size): 2 MB of one-cell rows is ~150,000
    # rows, which took 14 s and 370 MB to parse into panels only to be refused afterwards.
    rows, width = csv_shape_within(text, MAX_UPLOAD_ROWS, MAX_UPLOAD_COLUMNS)
    if width > MAX_UPLOAD_COLUMNS:
        state["trend_upload_error"] = (
            f"The CSV has {width:,} columns; this page reads at most {MAX_UPLOAD_COLUMNS} (time and labs). Nothing was loaded."
        )
        return
    if rows > MAX_UPLOAD_ROWS:
        state["trend_upload_error"] = (
            f"The CSV has at least {rows:,} rows; this page takes one patient's series of at most "
            f"{MAX_UPLOAD_ROWS:,} time points. For a cohort use the command line: python -m mas_screen batch."
        )
        return
    try:
        table = read_series_csv(text, decimal_comma=decimal_comma())
    except (ValueError, csv.Error) as exc:  # ColumnError and pydantic's ValidationError are ValueErrors
        state["trend_upload_error"] = f"The CSV could not be read: {str(exc).splitlines()[0]}"
        return
    panels = table.series.panels
    if not panels:
        state["trend_upload_error"] = "The CSV has a header but no rows; nothing was loaded."
        return
    if len(panels) > MAX_UPLOAD_ROWS:
        state["trend_upload_error"] = (
            f"The CSV has {len(panels):,} rows; this page takes one patient's series of at most "
            f"{MAX_UPLOAD_ROWS:,} time points. For a cohort use the command line: python -m mas_screen batch."
        )
        return
    rows = []
    for panel in panels:
        row = {"time": panel.time or ""}
        for key, m in panel.labs.items():
            row[key] = "" if m.value is None else f"{m.value} {m.unit}" if m.unit else str(m.value)
        rows.append(row)
    notes = [f"Line {p.line}: {p.message}" for p in table.problems]
    if table.columns.unknown:
        notes.insert(0, "Columns not read: " + "; ".join(u.message for u in table.columns.unknown) + ".")
    context = [c.name for c in table.columns.of_kind("context")]
    if context:
        notes.insert(
            0, f"Columns {', '.join(context)} are not read here: the patient's context comes from the Assess page."
        )
    set_rows(rows)
    state["trend_upload_error"] = None
    state["trend_upload_problems"] = notes


def unit_row() -> None:
    """One unit per lab column (a cell may still name its own unit, e.g. '3.6 g/L')."""
    labs = st.session_state[COLUMNS_KEY]
    cols = st.columns(min(len(labs), 6) or 1)
    for i, analyte in enumerate(labs):
        spec = criteria().analytes.analytes[analyte]
        options = [u.unit for u in spec.units]
        with cols[i % len(cols)]:
            st.selectbox(
                f"{spec.label} unit",
                options,
                # the session's unit, never the first option: a cut-short run must not change it (shown_index)
                index=shown_index(trend_unit_key(analyte), options, spec.default_unit),
                key=trend_unit_key(analyte),
                format_func=pretty_unit,
            )


def table() -> list[dict]:
    st.multiselect(
        "Lab columns",
        list(criteria().analytes.analytes),
        key=COLUMNS_KEY,
        format_func=lambda k: criteria().analytes.analytes[k].label,
        on_change=lambda: st.session_state.update({"series_version": st.session_state["series_version"] + 1}),
    )
    with st.expander("Units of the columns", expanded=False):
        unit_row()
    config = {"time": st.column_config.TextColumn("Time", help="e.g. 2026-03-01 08:00", required=False)}
    for analyte in st.session_state[COLUMNS_KEY]:
        unit = pretty_unit(st.session_state[trend_unit_key(analyte)])
        config[analyte] = st.column_config.TextColumn(
            f"{criteria().analytes.analytes[analyte].label} ({unit})",
            help="Blank = not done. '>40000' for a result beyond the assay range; '3.6 g/L' to give a unit.",
        )
    edited = st.data_editor(
        base_frame(),
        key=editor_key(),
        num_rows="dynamic",
        column_config=config,
        hide_index=False,
        width="stretch",
    )
    return frame_to_rows(edited)


def row_messages(result: TrendResult, rows: list[dict]) -> None:
    # What the user typed or pasted (times, values, units) is shown literally: plain().
    lines = [f"Row {w.row + 1} ({plain(w.time or 'no time')}): {plain(w.message)}" for w in result.warnings]
    for point in result.points:
        for w in point.assessment.input_warnings:
            lines.append(f"Row {point.row + 1} ({plain(point.time)}): {field_label(w.field)} — {plain(w.message)}")
    for analyte, units in mixed_unit_columns(rows).items():
        shown = plain(", ".join(sorted(pretty_unit(u) for u in units)))
        lines.append(f"{field_label(analyte)}: cells use several units ({shown}); each is converted, none guessed.")
    if lines:
        st.warning(
            "**Check these rows** (values flagged are left out; what you typed is kept):\n\n"
            + "\n".join(f"- {x}" for x in lines)
        )


def first_met(result: TrendResult) -> None:
    names = {r.id: r.short_name for r in result.points[-1].assessment.criteria.values()} if result.points else {}
    rows = []
    for iid, when in result.first_met.items():
        after = result.first_met_after_indeterminate.get(iid)
        rows.append(f"| {names.get(iid, iid)} | {when or '—'} | {after or '—'} |")
    st.markdown(
        "| Instrument | First met | First met after an indeterminate point |\n|---|---|---|\n" + "\n".join(rows)
    )


def alert_level(analyte: str, text: str) -> tuple[float | None, str | None]:
    """A level typed in the column's unit → (the level in the lab's canonical unit, as the chart draws
    it; None), or (None, why no line is drawn).

    Read like every other number (parsing.read_number: bounded, the session's decimal setting), and
    only within the lab's plausible range in that unit: nan, inf, 1e309 or 1e308 draw no line."""
    if not text.strip():
        return None, None
    unit = unit_spec(analyte, st.session_state[trend_unit_key(analyte)])
    try:
        parsed = read_number(text, decimal_comma=decimal_comma())
    except NotANumber as exc:
        return None, f"{shorten(text)!r} is {exc}"
    if parsed.op is not None:
        return None, f"{shorten(text)!r} is a bound, not a level"
    spec = criteria().analytes.analytes[analyte]
    if not is_plausible(parsed.value, unit, spec):
        lo, hi = plausible_in(unit, spec)
        return None, (
            f"{format_number(parsed.value)} {pretty_unit(unit.unit)} is outside the plausible range "
            f"({format_number(lo)}–{format_number(hi)} {pretty_unit(unit.unit)})"
        )
    return as_float(convert(parsed.value, unit, spec.unit(spec.default_unit))), None


def alert_levels() -> dict[str, float]:
    """User-set alert levels: the user's own, never published cut-offs (criteria-spec Decisions)."""
    levels: dict[str, float] = {}
    with st.expander("Your alert levels (optional)", expanded=False):
        st.caption(
            f"No published percent-change or trend cut-off exists ({short_citation('ravelli2016_dynamics')}). "
            "Lines you set here are drawn and labelled as your alert level, not as a criterion."
        )
        cols = st.columns(3)
        for i, analyte in enumerate(("platelets", "ferritin", "ast")):
            with cols[i]:
                text = st.text_input(
                    f"{field_label(analyte)} ({pretty_unit(st.session_state[trend_unit_key(analyte)])})",
                    key=alert_key(analyte),
                    placeholder="none",
                )
            level, problem = alert_level(analyte, text)
            if level is not None:
                levels[analyte] = level
            elif problem is not None:
                # What was typed is shown literally (no markdown, links, images or icons made from it).
                st.caption(f":orange[{field_label(analyte)}: {plain(problem)}; no alert line drawn.]")
    return levels


def exports(result: TrendResult, rows: list[dict], series: SeriesInput) -> None:
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    c1, c2, c3 = st.columns(3)
    with c1:
        st.download_button(
            "Download series CSV",
            data=functools.partial(_csv, result, rows),
            file_name=f"mas-screen-series-{stamp}.csv",
            mime="text/csv",
            key="trend_csv",
            on_click="ignore",
        )
    with c2:
        st.download_button(
            "Download series JSON",
            data=functools.partial(_json, result),
            file_name=f"mas-screen-series-{stamp}.json",
            mime="application/json",
            key="trend_json",
            on_click="ignore",
        )
    with c3:
        st.download_button(
            "Download PDF with trends",
            data=functools.partial(_pdf, result, series, browser_now()),
            file_name=f"mas-screen-series-{stamp}.pdf",
            mime="application/pdf",
            key="trend_pdf",
            on_click="ignore",
        )
    st.caption("Files are generated in memory when you click; nothing is written on the server.")


def _csv(result: TrendResult, rows: list[dict]) -> bytes:
    """Rows as typed plus each instrument's status at that time (cells safe to open in a spreadsheet)."""
    by_row = {p.row: p for p in result.points}
    out = []
    for i, row in enumerate(rows):
        record = dict(row)
        point = by_row.get(i)
        for iid in instrument_ids():  # every instrument of criteria/, in its order
            record[f"{iid}_status"] = point.assessment.criteria[iid].status if point else "not assessed"
        record["mas_signal"] = point.assessment.summary.mas_signal if point else "not assessed"
        record["other_population_met"] = ";".join(point.assessment.summary.other_population_met) if point else ""
        out.append({k: neutralise(v) for k, v in record.items()})
    buffer = io.StringIO()
    pd.DataFrame(out).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def _json(result: TrendResult) -> bytes:
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8")


def _pdf(result: TrendResult, series: SeriesInput, when: datetime) -> bytes:
    """The latest panel's summary with the trend charts."""
    from mas_screen.render.pdf.report import pdf_summary

    last = result.points[-1]
    patient = PatientInput(context=series.context, labs=series.panels[last.row].labs)
    return pdf_summary(patient, last.assessment, lab_figure=True, generated_at=when, series=result)


def point_detail(result: TrendResult) -> None:
    times = [p.time for p in result.points]
    choice = st.selectbox("Show the full assessment at", times, index=len(times) - 1, key="trend_point")
    point = result.points[times.index(choice)]
    cards.headline(point.assessment)
    cards.status_grid(point.assessment)
    cards.comparison_panels(point.assessment)
    for r in point.assessment.criteria.values():
        cards.criterion_card(r, point.assessment, expanded=False)


def render() -> None:
    from mas_screen.render.figures.trends import trend_small_multiples
    from mas_screen.render.figures.trends_status import changes_table, status_timeline

    init_series_state()
    st.markdown("## Serial labs — trends")
    st.caption(
        "One row per time point; the patient's context comes from the Assess page. Entries stay in this browser "
        "session only. Change over time matters most for platelets, ferritin and AST "
        f"({short_citation('ravelli2016_dynamics')}); no published percent-change cut-off exists."
    )
    controls()
    decimal_comma_toggle()
    if st.session_state.pop("series_added_message", None):
        st.success("Added the bedside panel as a new row (timed now; edit the time if needed).")
    if st.session_state.get("trend_upload_error"):
        st.error(plain(st.session_state["trend_upload_error"]))
    problems = st.session_state.get("trend_upload_problems") or []
    if problems:
        shown = problems[:MAX_SHOWN_PROBLEMS]
        more = f"\n- … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        st.warning("**From the uploaded file:**\n\n" + "\n".join(f"- {plain(p)}" for p in shown) + more)
    rows = table()
    if not rows:
        st.info("Add rows (type or paste from a spreadsheet), load the demo course, or add the bedside panel.")
        return
    try:
        series = series_input(rows)
        result = assess_series(series)
    except Exception:
        st.error("The series could not be assessed; your rows are kept. Please check the times and values.")
        return
    row_messages(result, rows)
    if not result.points:
        st.info("No row has a usable time yet.")
        return
    levels = alert_levels()
    # The charts are laid out for the width they are shown at (labels, time ticks and margins in
    # pixels): a figure drawn for a desktop and squeezed onto a phone leaves its plot a sliver.
    measured = measured_width(CHARTS_KEY, key="trends_page_script")
    chart_px = min(CHART_WIDTH_PX, measured) if measured else CHART_WIDTH_PX
    with st.container(key=CHARTS_KEY):
        st.markdown("#### Labs over time")
        st.plotly_chart(
            trend_small_multiples(result, alert_levels=levels, width=chart_px),
            key="trend_chart",
            width="content",
            theme=None,
            config={"displaylogo": False},
        )
        st.markdown("#### Each instrument at each time point")
        st.plotly_chart(
            status_timeline(result, width=min(chart_px, TIMELINE_WIDTH_PX)),
            key="trend_timeline",
            width="content",
            theme=None,
            config={"displaylogo": False},
        )
    first_met(result)
    st.markdown("#### Changes")
    changes = changes_table(result).drop(columns=["key", "Value (number)"], errors="ignore")
    st.dataframe(changes.astype(object).where(changes.notna(), ""), hide_index=True, width="stretch")
    for caveat in result.caveats:
        st.caption(caveat)
    st.markdown("#### A time point in full")
    point_detail(result)
    st.markdown("#### Export")
    exports(result, rows, series)


render()
