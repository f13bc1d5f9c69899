"""AppTest: the Cases page — practice mode (commit, cited feedback, tally, next panel) and
educator mode (reveal steps, trend charts for a case with several panels)."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from mas_screen.cases import case_by_id, compute, load_cases, model_answer
from mas_screen.criteria_data import CONTRACT_IDS

APP = str(ROOT / "app.py")
CASES = str(ROOT / "mas_screen" / "ui" / "pages" / "cases.py")
EARLY = "sjia_mas_early"  # three panels: day 1, day 3, day 4


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(CASES).run()
    assert not app.exception
    return app


def text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.success, at.warning, at.error, at.info) for e in kind]
    return "\n".join(parts)


def choose(at: AppTest, case_id: str) -> AppTest:
    return at.selectbox(key="practice_case").set_value(case_id).run()


def answer(at: AppTest, met: set[str], hscore: str, interpretation: str, next_test: str) -> AppTest:
    for iid in CONTRACT_IDS:
        at.checkbox(key=f"practice_met::{iid}").set_value(iid in met)
    at.radio(key="practice_hscore").set_value(hscore)
    at.radio(key="practice_interp").set_value(interpretation)
    at.selectbox(key="practice_next").set_value(next_test)
    at.button(key="practice_commit").click().run()
    assert not at.exception
    return at


def model(case_id: str, time: str) -> dict:
    a = model_answer(case_by_id(case_id), time)
    return {
        "met": set(a.met_instruments),
        "hscore": a.hscore_band,
        "interpretation": a.interpretation,
        "next_test": a.next_test or "__none__",
    }


def test_practice_starts_with_the_form_and_hides_results(at):
    assert at.segmented_control(key="cases_mode").value == "practice"
    assert at.button(key="practice_commit")
    shown = text(at)
    assert "Your answers — commit before you see any result" in shown
    assert "Feedback" not in shown and not at.get("plotly_chart")
    assert at.session_state["practice_tally"] == {"panels": 0, "correct": 0, "total": 0}
    # The title would give the answer away: the selector and the heading name cases neutrally.
    choose(at, EARLY)
    shown = text(at)
    assert "Early MAS" not in shown
    number = [c.id for c in load_cases()].index(EARLY) + 1
    assert f"### Case {number} · 7 years old · Systemic JIA" in shown
    assert "Panel 1 of 3: Day 1 (admission)" in shown
    assert "| Ferritin | **2400** | ng/mL |" in shown


def test_commit_needs_every_answer_and_keeps_the_tally(at):
    choose(at, EARLY)
    at.radio(key="practice_hscore").set_value("<169")
    at.button(key="practice_commit").click().run()
    assert not at.exception
    assert "still open: the picture, the next test" in at.error[0].value
    assert at.session_state["practice_tally"]["panels"] == 0
    assert at.button(key="practice_commit")  # still answering


def test_all_right_then_next_panel_then_teaching_points(at):
    choose(at, EARLY)
    times = compute(case_by_id(EARLY)).times
    # Day 1 by hand: nothing met (2016 0 companions, MS score −4.0), HScore < 169, a flare.
    expected_day1 = model(EARLY, times[0])
    assert expected_day1["met"] == set() and expected_day1["interpretation"] == "flare"
    answer(at, **expected_day1)
    assert "**11 of 11 right**" in at.success[0].value
    assert at.session_state["practice_tally"] == {"panels": 1, "correct": 11, "total": 11}
    assert "shown after the last panel" in text(at)  # no spoilers for day 3 and 4
    assert "On day 3" not in text(at) and "By day 4" not in text(at)  # the course unfolds panel by panel
    at.button(key="practice_next_panel_top").click().run()
    assert "Panel 2 of 3: Day 3" in text(at)
    assert "On day 3 she is more tired" in text(at) and "By day 4" not in text(at)
    assert at.button(key="practice_commit")

    answer(at, **model(EARLY, times[1]))
    at.button(key="practice_next_panel_bottom").click().run()
    answer(at, **model(EARLY, times[2]))
    assert at.session_state["practice_tally"] == {"panels": 3, "correct": 33, "total": 33}
    shown = text(at)
    # Last panel: the case's title and its cited teaching points, with DOI links.
    assert "Early MAS in systemic JIA" in shown
    assert "first met on day 4" in shown
    assert "[Shimizu 2018](https://doi.org/" in shown
    assert "Learning objectives" in shown
    assert at.button(key="practice_another_top") and at.button(key="practice_restart_bottom")


def test_wrong_answers_are_shown_item_by_item_with_rule_and_source(at):
    choose(at, "near_miss_ferritin_684")
    # 2016 ticked (wrong: ferritin exactly 684 is not > 684), the rest as computed.
    right = model("near_miss_ferritin_684", "last")
    answer(at, right["met"] | {"mas2016"}, right["hscore"], right["interpretation"], right["next_test"])
    assert "**10 of 11 right**" in at.warning[0].value
    assert at.session_state["practice_tally"]["correct"] == 10
    tabs = [t.label for t in at.tabs]
    assert tabs[0] == "✗ 2016 MAS criteria" and all(t.startswith("✓") for t in tabs[1:])
    shown = text(at)
    assert "Ticked, but the criteria are not met." in shown
    assert "| Ferritin (mandatory) | 684 ng/mL | 684 ng/mL | > 684 ng/mL | ○ not met |" in shown
    assert "[Ravelli 2016](https://doi.org/10.1002/art.39332)" in shown
    assert "| 2016 MAS criteria | met | :green-background[**○ not met**] | :red[**✗ wrong**] |" in shown


def test_full_computed_result_opens_after_answering(at):
    choose(at, "sjia_flare")
    answer(at, **model("sjia_flare", "last"))
    headline = "Features not suggestive of MAS on 2016 MAS criteria and MS score"
    assert not any(headline in e.value for e in at.success)  # closed until asked for
    at.toggle(key="practice_full_result").set_value(True).run()
    assert not at.exception
    # The bedside cards: the headline and one card per instrument.
    assert any(headline in e.value for e in at.success)
    cards = [e.label for e in at.expander if e.label.split(" — ")[0] in {"2016 MAS criteria", "HScore", "OHI"}]
    assert len(cards) == 3


def test_tally_is_per_session_and_can_be_reset(at):
    choose(at, "sjia_flare")
    answer(at, set(), "cannot_tell", "unsure", "__none__")
    tally = at.session_state["practice_tally"]
    assert tally["panels"] == 1 and 0 < tally["correct"] < tally["total"] == 11
    fresh = AppTest.from_file(APP, default_timeout=90)
    fresh.run()
    fresh.switch_page(CASES).run()
    assert fresh.session_state["practice_tally"]["panels"] == 0  # another browser session
    at.button(key="practice_reset_tally").click().run()
    assert at.session_state["practice_tally"] == {"panels": 0, "correct": 0, "total": 0}


def test_random_case_picks_another_case(at):
    before = at.selectbox(key="practice_case").value
    at.button(key="practice_random").click().run()
    assert not at.exception
    assert at.selectbox(key="practice_case").value != before


def test_restart_clears_this_cases_answers(at):
    choose(at, "sjia_flare")
    answer(at, **model("sjia_flare", "last"))
    at.button(key="practice_restart_top").click().run()
    assert at.button(key="practice_commit")
    assert at.session_state["practice_tally"]["panels"] == 1  # the tally keeps what was answered


# ------------------------------------------------------------------------------------------ educator


def educator(at: AppTest, case_id: str = EARLY) -> AppTest:
    at.segmented_control(key="cases_mode").set_value("educator").run()
    at.selectbox(key="educator_case").set_value(case_id).run()
    assert not at.exception
    return at


def headings(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("## ")]


def test_educator_reveals_story_labs_criteria_then_trends(at):
    educator(at)
    assert headings(at)[-1].startswith("## Early MAS in systemic JIA")
    assert any("projector" in m.value or "educator_stage" in m.value for m in at.markdown)  # scoped CSS
    assert at.button(key="educator_reveal").label == "Reveal the labs ▶"

    at.button(key="educator_reveal").click().run()
    assert headings(at)[-1] == "## Day 1 (admission) · 2 Feb 2026 08:00: the labs"
    assert "| Ferritin | **2400** | ng/mL |" in text(at)
    assert at.button(key="educator_reveal").label == "Reveal the criteria ▶"

    at.button(key="educator_reveal").click().run()
    assert headings(at)[-1].endswith("what the criteria say")
    assert "| 2016 MAS criteria | :green-background[**○ not met**]" in text(at)
    assert at.button(key="educator_reveal").label == "Next panel: Day 3 ▶"

    at.button(key="educator_reveal").click().run()  # day 3 labs: day 1 beside it for comparison
    assert "| Platelet count | 390 | **205** | ×10⁹/L |" in text(at)
    at.button(key="educator_reveal").click().run()  # day 3 criteria
    at.button(key="educator_reveal").click().run()  # each instrument over time (two panels)
    charts = at.get("plotly_chart")
    assert [c.key for c in charts] == ["educator_timeline"]
    timeline = json.loads(charts[0].proto.spec)
    assert timeline["data"][0]["meta"]["kind"] == "status"
    assert len(timeline["data"][0]["x"]) == 2  # day 4 is not revealed yet
    at.button(key="educator_reveal").click().run()  # the labs over time: the consensus's three first
    charts = at.get("plotly_chart")
    assert [c.key for c in charts] == ["educator_trend"]
    drawn = {(t.get("meta") or {}).get("analyte") for t in json.loads(charts[0].proto.spec)["data"]} - {None}
    assert drawn == {"platelets", "ferritin", "ast"}
    at.toggle(key="educator_all_labs").set_value(True).run()
    drawn = {(t.get("meta") or {}).get("analyte") for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert {"fibrinogen", "esr", "ldh"} <= drawn

    at.button(key="educator_back").click().run()
    assert [c.key for c in at.get("plotly_chart")] == ["educator_timeline"]


def test_educator_ends_with_cited_teaching_points(at):
    educator(at)
    while "educator_reveal" in [b.key for b in at.button]:
        at.button(key="educator_reveal").click().run()
    assert headings(at)[-1] == "## Teaching points"
    shown = text(at)
    assert "[Ravelli 2016](https://doi.org/10.1002/art.39332)" in shown
    assert "Learning objectives" in shown
    assert at.progress[0].value == 100
    at.button(key="educator_restart").click().run()
    assert headings(at)[-1].startswith("## Early MAS")


def test_single_panel_case_has_no_trend_screens(at):
    educator(at, "sjia_flare")
    seen = []
    while "educator_reveal" in [b.key for b in at.button]:
        seen.append(at.button(key="educator_reveal").label)
        at.button(key="educator_reveal").click().run()
    assert seen == ["Reveal the labs ▶", "Reveal the criteria ▶", "Reveal the teaching points ▶"]
    assert not at.exception
