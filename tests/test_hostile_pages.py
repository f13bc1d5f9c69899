"""Issue 13 on the pages (AppTest): the decimal-comma setting, huge values, the Trends upload of
blood counts, the alert-level box, and typed text shown literally (no markdown, entities, icons).

AppTest shows the markdown a page sends; tests/e2e/test_hostile_e2e.py checks what Chromium renders.
"""

from __future__ import annotations

import time

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest
from test_app_batch import settled
from test_app_trends import at  # noqa: F401 - the Trends page fixture

from mas_screen.ui.safe_text import WORD_JOINER, plain_markdown

APP = str(ROOT / "app.py")
TRENDS = str(ROOT / "mas_screen" / "ui" / "pages" / "trends.py")
BATCH = str(ROOT / "mas_screen" / "ui" / "pages" / "batch.py")


@pytest.fixture
def bedside() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    assert not app.exception
    return app


def warnings_text(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown if "⚠" in m.value)


# ------------------------------------------------------------------------- bedside page


def test_a_nine_character_exponent_is_flagged_not_frozen(bedside):
    """Issue 13 finding 1: "1e1000000" in a lab field froze every session for 31 s, then showed "the
    screening engine could not compute results", again on every rerun. Now a not-a-number warning beside
    the field at once (CPU limit generous: about 0.2 s for the whole page run here)."""
    started = time.process_time()
    bedside.text_input(key="lab::ferritin").set_value("1e1000000").run()
    assert time.process_time() - started < 10
    assert not bedside.exception and not bedside.error
    assert "Not a number" in warnings_text(bedside) and "exponent beyond ±30" in warnings_text(bedside)
    assert bedside.text_input(key="lab::ferritin").value == "1e1000000"  # what was typed stays


def test_decimal_comma_setting_on_the_bedside_page(bedside):
    """Issue 13 finding 2: "0,800" ferritin was read as 800 ("met") without a warning. Off: not a number,
    left out, named; on: 0.8 ng/mL (and "," / "." swap roles, nothing else changes)."""
    bedside.text_input(key="lab::ferritin").set_value("0,800").run()
    assert "decimal comma" in warnings_text(bedside)
    assert bedside.session_state["current_assessment"].criteria["mas2016"].items[1].result == "missing"
    bedside.toggle(key="decimal_comma").set_value(True).run()
    assert "Not a number" not in warnings_text(bedside)
    ferritin = next(
        i for i in bedside.session_state["current_assessment"].criteria["mas2016"].items if i.id == "ferritin"
    )
    assert ferritin.value == 0.8
    assert bedside.session_state["current_patient"].labs["ferritin"].value == "0,800"  # kept as typed


def test_an_ambiguous_number_is_flagged_beside_its_field(bedside):
    bedside.text_input(key="lab::ferritin").set_value("12.500").run()
    text = warnings_text(bedside)
    assert "Check the number" in text and "value used as read" in text


@pytest.mark.parametrize(
    ("typed", "literal"),
    [
        (":material/warning:", f"\\:{WORD_JOINER}material/warning\\:"),
        ("&lt;b&gt;", "\\&lt;b\\&gt;"),
        (":smile: :orange[red]", f"\\:{WORD_JOINER}smile\\: \\:{WORD_JOINER}orange\\[red\\]"),
    ],
)
def test_typed_text_is_echoed_literally(bedside, typed, literal):
    """Issue 13 finding 7: ":material/warning:" typed into a lab field rendered as an icon in its warning;
    "&lt;b&gt;" was echoed as "<b>". Escaped (entities too) and the shortcode broken by a word joiner."""
    bedside.text_input(key="lab::ferritin").set_value(typed).run()
    assert literal in warnings_text(bedside)
    assert typed not in warnings_text(bedside)


def test_plain_markdown_breaks_every_shortcode():
    assert plain_markdown(":+1: :100:") == f"\\:{WORD_JOINER}\\+1\\: \\:{WORD_JOINER}100\\:"
    assert plain_markdown("08:00") == "08\\:00"  # a time keeps its colon as typed
    assert plain_markdown("http://loinc.org") == "`http://loinc.org`"


# ------------------------------------------------------------------------------ Trends page


def test_trends_upload_reads_blood_counts(at):  # noqa: F811
    """Issue 13 finding 5: the Trends upload dropped every blood count ("'150 10^9/L 10^3/µL' is not a
    number"): the page's own cell splitter refused units starting with a digit. Page and CLI now read
    cells through one function (parsing.split_unit)."""
    data = b"time,platelets,neutrophils,wbc,fibrinogen\n2026-03-01 08:00,150,0.5,3.2,3.6 g/L\n"
    at.file_uploader(key="trend_upload").set_value(("counts.csv", data, "text/csv")).run()
    assert not at.exception
    shown = "\n".join(m.value for m in [*at.warning, *at.markdown])
    assert "not a number" not in shown and "is not recognised" not in shown
    assert at.session_state["series_rows"][0]["platelets"] == "150 10^9/L"
    assert at.selectbox(key="trend_point").value.startswith("2026-03-01")


def test_trends_page_and_cli_read_cells_alike():
    """One reading of a cell with its unit (issue 13 finding 5): the page's split_cell is the CSV reader's."""
    from mas_screen.kernel.inputs.columns import convert_row, parse_columns
    from mas_screen.ui.series_state import split_cell

    for cell, column, unit in [("150 10^9/L", "platelets", "10^9/L"), ("3.6 g/L", "fibrinogen", "mg/dL")]:
        read = convert_row({column: cell}, parse_columns([column])).data["labs"][column]
        assert split_cell(cell, unit) == (read["value"], read["unit"])
    assert split_cell("150", "/µL") == ("150", "/µL")


@pytest.mark.parametrize("typed", ["nan", "inf", "-inf", "1e309", "1e308", "Infinity", "9" * 5000])
def test_alert_level_box_never_raises(at, typed):  # noqa: F811
    """Issue 13 finding 6: nan, inf, -inf, 1e309 (ValueError) and 1e308 (OverflowError) in "Your alert
    levels" raised; now a caption says why no line is drawn."""
    at.button(key="trend_demo").click().run()
    at.text_input(key="trend_alert::ferritin").set_value(typed).run()
    assert not at.exception
    captions = "\n".join(c.value for c in at.caption)
    assert "no alert line drawn" in captions


def test_alert_level_is_shown_literally_and_drawn_in_the_charts_unit(at):  # noqa: F811
    """Issue 13 finding 7: the alert-level field rendered markdown (an image typed there made the browser
    fetch it). The message quotes it literally; a good level is drawn."""
    at.button(key="trend_demo").click().run()
    at.text_input(key="trend_alert::ferritin").set_value("![x](http://127.0.0.1:9/x.png)").run()
    captions = "\n".join(c.value for c in at.caption)
    # the typed text is a code span: never an image, a link or markup
    assert "`'![x](http://127.0.0.1:9/x.png)'`" in captions
    at.text_input(key="trend_alert::ferritin").set_value("5000").run()
    assert not at.exception
    assert "no alert line drawn" not in "\n".join(c.value for c in at.caption)


def test_alert_level_in_another_unit_is_converted(at):  # noqa: F811
    at.button(key="trend_demo").click().run()
    at.session_state["trend_unit::platelets"] = "/µL"
    at.text_input(key="trend_alert::platelets").set_value("100000").run()
    assert not at.exception
    captions = "\n".join(c.value for c in at.caption)
    assert "no alert line drawn" not in captions


def test_trends_decimal_comma_applies_to_cells(at):  # noqa: F811
    at.toggle(key="decimal_comma").set_value(True).run()
    at.file_uploader(key="trend_upload").set_value(
        ("eu.csv", b"time;ferritin;platelets\n2026-03-01 08:00;1.500,5;0,5\n", "text/csv")
    ).run()
    assert not at.exception
    assert "not a number" not in "\n".join(w.value for w in at.warning)


# ------------------------------------------------------------------------------- Batch page


def test_batch_page_semicolon_csv_with_decimal_commas(bedside):
    """Issue 13 finding 2: a semicolon-delimited European CSV on the Batch page read "0,500" as 500. Off:
    not a number (named per row); with the decimal-comma setting: 0.5."""
    bedside.switch_page(BATCH).run()
    data = b"id;neutrophils;ferritin\n1;0,500;1.500,5\n"
    bedside.file_uploader(key="batch_upload").set_value(("eu.csv", data, "text/csv")).run()
    result = settled(bedside).session_state["batch_result"]
    assert result.frame["warnings"].iloc[0] == "neutrophils:not_a_number; ferritin:not_a_number"
    bedside.toggle(key="decimal_comma").set_value(True).run()  # sent with the file to the screening job
    result = settled(bedside).session_state["batch_result"]
    assert result.frame["warnings"].iloc[0] == ""


def test_batch_page_refuses_a_very_wide_header_before_reading(bedside):
    """Issue 13 finding 7: 20,000 unknown columns gave an untruncated message (RSS +158 MB)."""
    bedside.switch_page(BATCH).run()
    header = ",".join(["id", *(f"c{i}" for i in range(20_000))])
    data = (header + "\n" + ",".join(["1"] * 20_001) + "\n").encode()
    bedside.file_uploader(key="batch_upload").set_value(("wide.csv", data, "text/csv")).run()
    settled(bedside)
    message = "\n".join(e.value for e in bedside.error)
    assert "20,000" in message or "20,001" in message
    assert len(message) < 600
