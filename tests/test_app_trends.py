"""AppTest: the Trends page — demo course, carry-over from the bedside page, row messages."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "app.py")
TRENDS = str(ROOT / "mas_screen" / "ui" / "pages" / "trends.py")
ASSESS = str(ROOT / "mas_screen" / "ui" / "pages" / "assess.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(TRENDS).run()
    assert not app.exception
    return app


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(w.value for w in at.warning)


def set_rows(at: AppTest, rows: list[dict]) -> AppTest:
    at.session_state["series_rows"] = rows
    at.session_state["series_version"] = at.session_state["series_version"] + 1
    return at.run()


def test_empty_series_invites_entry(at):
    assert any("Add rows" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_demo_course_shows_trends_first_met_and_changes(at):
    at.button(key="trend_demo").click().run()
    assert not at.exception
    assert len(at.session_state["series_rows"]) == 4
    assert len(charts(at)) >= 2  # small multiples + status timeline (+ the point's cards have none)
    # 2016 criteria: day 3 ferritin 4000 with AST 80, TG 170, fibrinogen 300 mg/dL -> 3 companions -> met.
    assert "| 2016 MAS criteria | 2026-03-03T08:00" in text(at)
    assert at.dataframe, "changes table shown"
    assert at.selectbox(key="trend_point").value.startswith("2026-03-04")


def test_bedside_panel_carries_over(at):
    at.switch_page(ASSESS).run()
    at.text_input(key="lab::ferritin").set_value("2500").run()
    at.text_input(key="lab::platelets").set_value("150").run()
    at.button(key="add_to_series").click().run()
    assert not at.exception
    rows = at.session_state["series_rows"]
    assert len(rows) == 1 and rows[0]["ferritin"] == "2500" and rows[0]["platelets"] == "150"
    at.switch_page(TRENDS).run()
    assert not at.exception
    assert len(charts(at)) >= 2


def test_bad_rows_get_messages_and_nothing_is_lost(at):
    rows = [
        {"time": "2026-03-02 08:00", "platelets": "220", "ferritin": "4000"},
        {"time": "yesterday", "platelets": "300", "ferritin": "900"},
        {"time": "2026-03-01 08:00", "platelets": "300", "ferritin": "900", "fibrinogen": "3.2"},
        {"time": "2026-03-02 08:00", "platelets": "140", "ferritin": "12000"},
    ]
    set_rows(at, rows)
    assert not at.exception
    shown = text(at)
    assert "Row 2 (yesterday)" in shown  # unparseable time: left out of the series, kept in the table
    assert "Row 4" in shown  # duplicate time
    assert "Fibrinogen" in shown and "did you mean" in shown  # 3.2 mg/dL looks like g/L
    assert at.session_state["series_rows"][1]["time"] == "yesterday"


def test_cell_with_its_own_unit_is_read_in_that_unit(at):
    set_rows(
        at,
        [
            {"time": "2026-03-01 08:00", "fibrinogen": "360"},
            {"time": "2026-03-02 08:00", "fibrinogen": "2.0 g/L"},
        ],
    )
    assert not at.exception
    assert "several units" in text(at)


def test_form_values_survive_a_visit_to_another_page(at):
    at.switch_page(ASSESS).run()
    at.text_input(key="lab::ferritin").set_value("2500").run()
    at.radio(key="ctx::febrile").set_value("Yes").run()
    at.switch_page(TRENDS).run()
    at.switch_page(ASSESS).run()
    assert at.text_input(key="lab::ferritin").value == "2500"
    assert at.radio(key="ctx::febrile").value == "Yes"
