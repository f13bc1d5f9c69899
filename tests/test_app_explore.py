"""AppTest: the Explore page — start from a case or the bedside panel, move a value or an answer,
see which instruments flip, the distance chart and the smallest single flips (applied too)."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "app.py")
EXPLORE = str(ROOT / "mas_screen" / "ui" / "pages" / "explore.py")
ASSESS = str(ROOT / "mas_screen" / "ui" / "pages" / "assess.py")
ABOUT = str(ROOT / "mas_screen" / "ui" / "pages" / "about.py")
NEAR_MISS = "near_miss_platelets_fibrinogen"  # platelets 181, fibrinogen 3.6 g/L, AST 48, TG 156


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(EXPLORE).run()
    assert not app.exception
    return app


def status_rows(at: AppTest) -> dict[str, str]:
    table = next(m.value for m in at.markdown if m.value.startswith("| Instrument | At the start | Now |"))
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = cells[0].removeprefix(":orange-background[").removesuffix("]").strip("*").removeprefix("⇄ ")
        rows[name] = line
    return rows


def changed(at: AppTest, name: str) -> bool:
    """The row is marked as flipped since the start (bold, ⇄)."""
    return status_rows(at)[name].startswith(f"| :orange-background[**⇄ {name}**] |")


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def chart(at: AppTest) -> dict:
    found = [c for c in at.get("plotly_chart") if c.key == "xp_distance_chart"]
    assert len(found) == 1
    return json.loads(found[0].proto.spec)


def test_starts_from_a_case_with_its_values_in_their_units(at):
    assert at.radio(key="xp_source").value == "case"
    assert at.selectbox(key="xp_case").value == NEAR_MISS
    assert at.number_input(key="xp_num::platelets").value == 181
    assert at.number_input(key="xp_num::fibrinogen").value == 3.6  # g/L, as the case gives it
    assert "(g/L)" in at.number_input(key="xp_num::fibrinogen").label
    assert at.slider(key="xp_slider::platelets").value == 181
    assert "● met" in status_rows(at)["2016 MAS criteria"] and not changed(at, "2016 MAS criteria")
    assert "Nothing changed yet" in "\n".join(c.value for c in at.caption)


def test_one_platelet_more_flips_the_2016_criteria(at):
    """Platelets 181 meets ≤ 181; 182 does not, leaving one companion (fibrinogen 360 mg/dL): not met."""
    at.number_input(key="xp_num::platelets").set_value(182.0).run()
    assert not at.exception
    line = status_rows(at)["2016 MAS criteria"]
    assert changed(at, "2016 MAS criteria")
    assert line.index("● met") < line.index("○ not met")  # met at the start, not met now
    assert "**1** met of 4 assessable" in line
    assert not changed(at, "MS score")
    assert "1 instrument has so far" in "\n".join(c.value for c in at.caption)
    assert "**Changed from the start:** Platelet count: 181 ×10⁹/L → 182 ×10⁹/L" in markdown(at)
    assert at.slider(key="xp_slider::platelets").value == 182  # the slider follows the box
    fig = chart(at)
    base = [t for t in fig["data"] if (t.get("meta") or {}).get("kind") == "baseline"]
    assert base and ["mas2016", "platelets", "<=", 181] in base[0]["meta"]["keys"]
    assert any("⇄ Platelet count" in t for t in fig["layout"]["yaxis"]["ticktext"])


def test_slider_moves_the_value_too(at):
    at.slider(key="xp_slider::fibrinogen").set_value(3.61).run()
    assert at.number_input(key="xp_num::fibrinogen").value == 3.61
    assert changed(at, "2016 MAS criteria")  # 361 mg/dL > 360


def test_toggling_an_answer_flips(at):
    at.radio(key="xp_flag::febrile").set_value("No").run()
    assert not at.exception
    assert changed(at, "2016 MAS criteria")  # fever is the entry condition
    assert "Febrile in this illness: yes → no" in markdown(at)
    at.button(key="xp_reset").click().run()
    assert at.radio(key="xp_flag::febrile").value == "Yes"
    assert not changed(at, "2016 MAS criteria")


def test_smallest_flips_are_listed_and_apply(at):
    texts = markdown(at)
    assert "Platelet count: 181 ×10⁹/L → **182 ×10⁹/L or more** (+1, +0.55 %)" in texts
    keys = [b.key for b in at.button if (b.key or "").startswith("xp_apply::mas2016::")]
    assert keys
    # Apply the platelet flip: the explorer takes the value and the instrument flips.
    for key in keys:
        at.button(key=key).click().run()
        if at.number_input(key="xp_num::platelets").value == 182:
            break
        at.button(key="xp_reset").click().run()
    assert at.number_input(key="xp_num::platelets").value == 182
    assert changed(at, "2016 MAS criteria")


def test_chart_can_be_narrowed_to_instruments(at):
    at.multiselect(key="xp_chart_instruments").set_value(["mas2016"]).run()
    fig = chart(at)
    keys = [k for t in fig["data"] if (t.get("meta") or {}).get("kind") == "distance" for k in t["meta"]["keys"]]
    assert {k[0] for k in keys} == {"mas2016"} and len(keys) == 5


def test_other_time_point_of_a_case(at):
    at.selectbox(key="xp_case").set_value("sjia_mas_early").run()
    times = at.selectbox(key="xp_time").options
    assert len(times) == 3
    at.selectbox(key="xp_time").set_value("2026-02-04T08:00").run()
    assert at.number_input(key="xp_num::platelets").value == 205
    assert "○ not met" in status_rows(at)["2016 MAS criteria"]


def test_values_survive_a_page_change(at):
    at.number_input(key="xp_num::ferritin").set_value(700.0).run()
    at.switch_page(ABOUT).run()
    at.switch_page(EXPLORE).run()
    assert not at.exception
    assert at.number_input(key="xp_num::ferritin").value == 700


def test_starts_from_the_bedside_panel(at):
    at.radio(key="xp_source").set_value("bedside").run()
    assert "The bedside form is empty" in at.info[0].value
    at.switch_page(ASSESS).run()
    at.text_input(key="lab::ferritin").set_value("2500")
    at.text_input(key="lab::platelets").set_value("150")
    at.selectbox(key="unit::fibrinogen").set_value("g/L")
    at.text_input(key="lab::fibrinogen").set_value("3.6")
    at.radio(key="ctx::febrile").set_value("Yes")
    at.selectbox(key="ctx::underlying_disease").set_value("sjia")
    at.run()
    at.switch_page(EXPLORE).run()
    assert not at.exception
    assert at.radio(key="xp_source").value == "bedside"
    assert at.number_input(key="xp_num::ferritin").value == 2500
    assert at.number_input(key="xp_num::fibrinogen").value == 3.6
    assert "(g/L)" in at.number_input(key="xp_num::fibrinogen").label
    assert at.number_input(key="xp_num::ast").value is None  # not entered: not done
    # 2 companions (platelets 150, fibrinogen 360 mg/dL): met; ferritin to 684 flips it.
    assert "● met" in status_rows(at)["2016 MAS criteria"]
    at.number_input(key="xp_num::ferritin").set_value(684.0).run()
    assert changed(at, "2016 MAS criteria")
    # The bedside form itself is untouched.
    at.switch_page(ASSESS).run()
    assert at.text_input(key="lab::ferritin").value == "2500"


def from_bedside_ferritin(at: AppTest, typed: str) -> AppTest:
    """Type a ferritin on the bedside form, then start the explorer from it."""
    at.switch_page(ASSESS).run()
    at.text_input(key="lab::ferritin").set_value(typed).run()
    at.switch_page(EXPLORE).run()
    at.radio(key="xp_source").set_value("bedside").run()
    assert not at.exception
    return at


def test_a_bad_bedside_value_is_shown_not_lost(at):
    from_bedside_ferritin(at, "pending")
    assert at.number_input(key="xp_num::ferritin").value is None
    assert "typed “pending”: not a usable number, left out" in markdown(at)


def test_a_censored_bedside_value_stays_a_bound_until_moved(at):
    from_bedside_ferritin(at, ">40000")
    assert at.number_input(key="xp_num::ferritin").value == 40000
    assert "start \\>40000 ng/mL (a bound: used as typed until you move it)" in markdown(at)  # shown literally
    assert "Changed from the start" not in markdown(at)  # the bound is used as typed, not as 40000
    at.number_input(key="xp_num::ferritin").set_value(500.0).run()
    assert "Ferritin: >40000 ng/mL → 500 ng/mL" in markdown(at)


# ------------------------------------------------------------------------------------------- stage


def test_stage_shows_the_explorers_state_one_idea_per_screen(at):
    at.number_input(key="xp_num::platelets").set_value(182.0).run()  # one platelet more: the 2016 criteria flip
    at.button(key="xp_project").click().run()
    assert not at.exception
    assert not any(m.value.startswith("## What-if explorer") for m in at.markdown)  # the slide only
    headings = lambda: [m.value for m in at.markdown if m.value.startswith("## ")]  # noqa: E731
    assert headings() == ["## Each instrument: at the start and now"]
    assert changed(at, "2016 MAS criteria")
    at.button(key="stage_next").click().run()
    assert headings() == ["## Changed from the start"]
    assert "Platelet count: 181 ×10⁹/L → 182 ×10⁹/L" in markdown(at)
    at.button(key="stage_next").click().run()  # suspected sJIA: the 2016 criteria, then the MS score
    assert headings() == ["## How far each value is from the 2016 MAS criteria thresholds"]
    (fig,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == "xp_stage_chart"]
    assert fig["layout"]["height"] <= 500 and fig["layout"]["width"] == 1192  # the slide's body
    at.button(key="stage_pgdn").click().run()
    assert headings() == ["## How far each value is from the MS score thresholds"]
    at.button(key="stage_next").click().run()
    assert headings() == ["## The smallest single change that flips each instrument"]
    assert "**2016 MAS criteria**" in markdown(at)
    assert not [b for b in at.button if b.key == "stage_next"]  # the last screen
    at.button(key="stage_exit").click().run()
    assert any(m.value == "## What-if explorer" for m in at.markdown)
    assert at.number_input(key="xp_num::platelets").value == 182.0  # nothing lost


def test_stage_opened_directly_starts_from_the_default_case():
    app = AppTest.from_file(APP, default_timeout=90)
    app.query_params["stage"] = "1"
    app.run()
    app.switch_page(EXPLORE).run()
    assert not app.exception
    assert any(m.value == "## Each instrument: at the start and now" for m in app.markdown)
