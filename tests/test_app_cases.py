"""AppTest: the Cases page — practice that grades judgement (reading, population, next step, then
arithmetic), the case browser (filters, random from a theme), the session summary and progress
file, the educator's screens inline and on the projector stage (?stage=1)."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from conftest import page_text as text
from streamlit.testing.v1 import AppTest

from mas_screen.faces.teaching.claims import compute
from mas_screen.faces.teaching.grading import model_answer
from mas_screen.faces.teaching.library import practice_order
from mas_screen.faces.teaching.loading import case_by_id, load_cases
from mas_screen.faces.teaching.progress import MAX_PROGRESS_BYTES, Progress, dumps
from mas_screen.ui.safe_text import plain_markdown

APP = str(ROOT / "app.py")
CASES = str(ROOT / "mas_screen" / "ui" / "pages" / "cases.py")
EARLY = "sjia_mas_early"  # three panels: day 1, day 3, day 4
MAS = ("mas2016", "ms_score", "hscore", "hlh2004", "parodi2009", "ohi")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(CASES).run()
    assert not app.exception
    return app


def choose(at: AppTest, case_id: str) -> AppTest:
    return at.selectbox(key="practice_case").set_value(case_id).run()


def answer(at: AppTest, reading=None, applies=(), step=None, met=()) -> AppTest:
    if reading is not None:
        at.radio(key="practice_reading").set_value(reading)
    for iid in MAS:
        at.checkbox(key=f"practice_applies::{iid}").set_value(iid in applies)
        at.checkbox(key=f"practice_met::{iid}").set_value(iid in met)
    if step is not None:
        at.radio(key="practice_step").set_value(step)
    at.button(key="practice_commit").click().run()
    assert not at.exception
    return at


def model(case_id: str, time: str) -> dict:
    a = model_answer(case_by_id(case_id), time)
    return {"reading": a.reading, "applies": a.applies, "step": a.next_step, "met": a.met}


# ----------------------------------------------------------------------------------------- practice


def test_practice_opens_on_an_introductory_childs_case_with_the_form(at):
    first = practice_order(load_cases())[0]
    assert at.selectbox(key="practice_case").value == first.id
    assert float(first.context.age_years) < 18 and first.difficulty == 1
    shown = text(at)
    assert "Your answers — commit before you see any result" in shown
    assert "Feedback" not in shown and not at.get("plotly_chart")
    # The questions in their order of weight.
    assert at.radio(key="practice_reading").label.startswith("**1. What is your reading")
    assert at.radio(key="practice_step").label.startswith("**3. What is the most useful next step")
    assert "**2. Which instruments apply to this patient?**" in shown
    assert "**4. Which instruments are met at this panel?**" in shown


def test_titles_are_hidden_and_the_case_unfolds_panel_by_panel(at):
    choose(at, EARLY)
    shown = text(at)
    assert "Early MAS" not in shown
    assert "7 years old · Systemic JIA" in at.selectbox(key="practice_case").format_func(EARLY)
    assert "Panel 1 of 3: Day 1 \\(admission\\)" in shown
    assert "| Ferritin | **2400** | ng/mL |" in shown
    assert "On day 3" not in shown


def test_commit_needs_reading_population_and_next_step(at):
    choose(at, EARLY)
    answer(at, reading="flare")
    assert "still open: which instruments apply, the next step" in at.error[0].value
    assert at.session_state["practice_progress"].records == []
    assert at.button(key="practice_commit")


def test_full_credit_then_next_panel_then_teaching_points(at):
    choose(at, EARLY)
    times = compute(case_by_id(EARLY)).times
    answer(at, **model(EARLY, times[0]))
    assert "**10 of 10 points**" in at.success[0].value
    assert "shown after the last panel" in text(at)
    at.button(key="practice_next_panel_top").click().run()
    shown = text(at)
    assert "Panel 2 of 3: Day 3" in shown and "On day 3 she is more tired" in shown and "By day 4" not in shown
    answer(at, **model(EARLY, times[1]))
    at.button(key="practice_next_panel_bottom").click().run()
    answer(at, **model(EARLY, times[2]))
    records = at.session_state["practice_progress"].records
    assert len(records) == 3 and all(sum(s.earned for s in r.skills.values()) == 10 for r in records)
    shown = text(at)
    assert "Early MAS in systemic JIA" in shown  # the title, now that the case is done
    assert "[Shimizu 2018](https://doi.org/" in shown
    assert "Learning objectives" in shown
    assert at.button(key="practice_another_top") and at.button(key="practice_restart_bottom")


def test_feedback_explains_each_answer_with_sources(at):
    """Day 1 of the early case: reading 'MAS' (wrong: the author reads a flare), Parodi added to the
    population (partial), D-dimer as next step (acceptable, half), Parodi ticked as met (not graded)."""
    choose(at, EARLY)
    answer(at, reading="mas", applies={"mas2016", "ms_score", "parodi2009"}, step="d_dimer_ldh", met={"parodi2009"})
    banner = at.error[0].value if at.error else at.warning[0].value
    assert "Interpretation 0/4" in banner and "Population 2/3" in banner and "Next step 1/2" in banner
    shown = text(at)
    # 1: against the author, with the rationale and its sources; the screen shown beside it.
    assert "The case author: **The underlying disease (a flare, or quiet), not MAS**" in shown
    assert "Quotidian fever" in shown and "[Minoia 2019](https://doi.org/" in shown
    assert "never used as the answer" in shown
    # 2: every instrument says why it does or does not apply.
    assert "| Parodi 2009 (jSLE) | no | yes | Parodi 2009 \\(jSLE\\)\\: not for this patient" in shown
    # 3: the author's ranking with grades and reasons.
    assert ":orange-background[**acceptable**]" in shown and "The author's ranking" in shown
    assert "Send NK\\-cell function" in shown
    # 4: own instruments item by item; the others as not for this patient.
    assert [t.label for t in at.tabs][:2] == ["✓ 2016 MAS criteria", "✓ MS score"]
    assert "| Ferritin (mandatory) | 2400 ng/mL | 2400 ng/mL | > 684 ng/mL | ● met |" in shown
    assert "Not for this patient (or supporting only), and why" in shown and "you ticked it" in shown


def test_score_banner_lists_the_skills_in_their_order_of_weight(at):
    choose(at, "sjia_flare")
    answer(at, reading="flare", applies={"mas2016"}, step="marrow")
    banner = next(e.value for kind in (at.success, at.warning, at.error) for e in kind if "points**" in e.value)
    order = [banner.index(f"{name} ") for name in ("Interpretation", "Population", "Next step", "Arithmetic")]
    assert order == sorted(order), banner
    assert "Interpretation 4/4" in banner and "Next step 0/2" in banner


def test_a_mimic_without_hlh_is_graded_against_the_authors_not_hlh(at):
    """A library mimic (septic shock): 'secondary HLH' is wrong against the author's 'not HLH', while
    the rest of the answer still earns its points; the author's answers on the next panel earn full
    credit."""
    case_id = "pneumococcal_septic_shock_not_hlh"
    choose(at, case_id)
    first = compute(case_by_id(case_id)).times[0]
    right = model(case_id, first)
    assert right["reading"] == "not_hlh"
    answer(at, **{**right, "reading": "other_hlh"})
    banner = at.warning[0].value
    assert "**6 of 10 points**" in banner and "Interpretation 0/4" in banner
    shown = text(at)
    assert "The case author: **Not HLH: another condition explains the picture" in shown
    assert "[Knaak 2020](https://doi.org/" in shown
    at.button(key="practice_next_panel_top").click().run()
    second = compute(case_by_id(case_id)).times[1]
    answer(at, **model(case_id, second))
    assert "**10 of 10 points**" in at.success[0].value


def test_full_computed_result_opens_after_answering(at):
    choose(at, "sjia_flare")
    answer(at, **model("sjia_flare", "last"))
    headline = "Features not suggestive of MAS on 2016 MAS criteria and MS score"
    assert not any(headline in e.value for e in at.success)
    at.toggle(key="practice_full_result").set_value(True).run()
    assert not at.exception
    assert any(headline in e.value for e in at.success)


def test_restart_clears_this_cases_answers_but_keeps_the_record(at):
    choose(at, "sjia_flare")
    answer(at, **model("sjia_flare", "last"))
    at.button(key="practice_restart_top").click().run()
    assert at.button(key="practice_commit")
    assert len(at.session_state["practice_progress"].records) == 1


# ------------------------------------------------------------------------------------------ browser


def offered(at: AppTest) -> list[str]:
    """The case ids the practice picker offers (its options are shown as neutral names)."""
    box = at.selectbox(key="practice_case")
    by_label = {box.format_func(c.id): c.id for c in load_cases()}
    return [by_label[o] for o in box.options]


def test_filters_narrow_the_case_list(at):
    cases = load_cases()
    aosd = [c.id for c in cases if c.context.underlying_disease == "aosd"]
    at.multiselect(key="cases_f_population").set_value(["aosd"]).run()
    assert offered(at) == aosd
    assert at.selectbox(key="practice_case").value in aosd
    at.multiselect(key="cases_f_theme").set_value(["aosd-mas"]).run()
    both = [c.id for c in cases if c.id in aosd and "aosd-mas" in c.themes]
    assert "aosd_mas" in both and offered(at) == both
    assert f"{len(both)} of {len(cases)} cases match the filters." in text(at)
    at.radio(key="cases_f_source").set_value("published").run()
    published = [i for i in both if case_by_id(i).published]
    assert published and offered(at) == published
    at.multiselect(key="cases_f_population").set_value(["sle"]).run()  # no lupus case in that theme
    assert "No case matches these filters." in text(at)
    assert "practice_case" not in [s.key for s in at.selectbox]  # no picker, no practice form
    assert "practice_commit" not in [b.key for b in at.button]


def test_a_theme_the_filters_leave_out_falls_back_to_any(at):
    assert not any(
        c.context.underlying_disease == "sle" and "primary-hlh" in c.themes for c in load_cases()
    )  # the premise
    at.selectbox(key="cases_random_theme").set_value("primary-hlh").run()
    at.multiselect(key="cases_f_population").set_value(["sle"]).run()
    assert not at.exception
    assert at.selectbox(key="cases_random_theme").value == "__any__"
    at.button(key="practice_random").click().run()
    assert case_by_id(at.selectbox(key="practice_case").value).context.underlying_disease == "sle"


def test_random_case_from_a_theme(at):
    for _ in range(4):
        at.selectbox(key="cases_random_theme").set_value("dynamics").run()
        at.button(key="practice_random").click().run()
        assert not at.exception
        assert "dynamics" in case_by_id(at.selectbox(key="practice_case").value).themes


# ------------------------------------------------------------------------------------ session file


def test_summary_by_skill_and_theme_and_download(at):
    choose(at, "sjia_flare")
    answer(at, reading="flare", applies={"mas2016"}, step="marrow")
    shown = text(at)
    assert any(e.label.startswith("Your session: 1 panel answered") for e in at.expander)
    assert "| Interpretation (the clinical reading) | 4 of 4 | 100 % |" in shown
    assert "| Next step | 0 of 2 | 0 % |" in shown
    assert "| sJIA flare, not MAS |" in shown
    download = at.get("download_button")[0]
    assert download.proto.label == "Download my progress"


def test_progress_file_loads_and_a_bad_one_is_refused(at):
    saved = Progress()
    case = case_by_id("jsle_mas")
    from mas_screen.faces.teaching.grading import grade
    from mas_screen.faces.teaching.progress import record

    saved.add(record(case, grade(case, model_answer(case))))
    at.file_uploader(key="practice_progress_file").upload("progress.json", dumps(saved), "application/json").run()
    assert not at.exception
    assert "Loaded 1 answered panel from the file." in text(at)
    assert [r.case_id for r in at.session_state["practice_progress"].records] == ["jsle_mas"]
    bad = json.dumps({"format": "mas-screen-practice-progress", "records": [{"case_id": "../x"}]}).encode()
    at.file_uploader(key="practice_progress_file").set_value(("evil.json", bad, "application/json")).run()
    assert "Nothing was loaded" in text(at) and "records.0" in text(at)
    assert [r.case_id for r in at.session_state["practice_progress"].records] == ["jsle_mas"]


def test_progress_file_size_and_format_limits(at):
    """The progress file is checked before anything is merged: too large, not JSON, not ours."""
    choose(at, "sjia_flare")
    answer(at, **model("sjia_flare", "last"))
    before = list(at.session_state["practice_progress"].records)
    big = b"{" + b" " * MAX_PROGRESS_BYTES + b"}"
    for name, raw, says in [
        ("big.json", big, f"larger than {MAX_PROGRESS_BYTES // 1000} kB"),
        ("notes.json", b"my notes, not JSON", "not JSON"),
        ("other.json", json.dumps({"format": "something-else", "records": []}).encode(), "Nothing was loaded"),
        ("latin1.json", "caf\xe9".encode("latin-1"), "not UTF-8"),
    ]:
        at.file_uploader(key="practice_progress_file").upload(name, raw, "application/json").run()
        assert not at.exception
        assert says in text(at) and "Nothing was loaded" in text(at), name
        assert at.session_state["practice_progress"].records == before
    # A round trip: what this session downloads loads back in a fresh one.
    data = at.get("download_button")[0].proto
    saved = dumps(at.session_state["practice_progress"])
    assert data.label == "Download my progress"
    fresh = AppTest.from_file(APP, default_timeout=90)
    fresh.run()
    fresh.switch_page(CASES).run()
    fresh.file_uploader(key="practice_progress_file").upload("p.json", saved, "application/json").run()
    assert [r.case_id for r in fresh.session_state["practice_progress"].records] == ["sjia_flare"]


def test_progress_is_per_browser_session(at):
    choose(at, "sjia_flare")
    answer(at, **model("sjia_flare", "last"))
    fresh = AppTest.from_file(APP, default_timeout=90)
    fresh.run()
    fresh.switch_page(CASES).run()
    assert fresh.session_state["practice_progress"].records == []
    at.button(key="practice_reset_progress").click().run()
    assert at.session_state["practice_progress"].records == []


# ------------------------------------------------------------------------------------------ educator


def educator(at: AppTest, case_id: str = EARLY) -> AppTest:
    at.segmented_control(key="cases_mode").set_value("educator").run()
    at.selectbox(key="educator_case").set_value(case_id).run()
    assert not at.exception
    return at


def headings(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("## ")]


def test_educator_walks_one_idea_per_screen(at):
    educator(at)
    assert headings(at)[-1].startswith("## Early MAS in systemic JIA")
    seen = []
    while "educator_reveal" in [b.key for b in at.button]:
        at.button(key="educator_reveal").click().run()
        assert not at.exception
        seen.append(headings(at)[-1])
    assert seen[:3] == ["## The story", "## The patient", "## Day 1: the labs (1/2)"]
    assert "## Day 1: your reading?" in seen and "## Day 1: what would you do next?" in seen
    assert "## Day 1: what the criteria say" in seen and "## Day 1: the author's reading" in seen
    assert "## Day 3: each instrument over time" in seen and "## Day 4: ferritin over time" in seen
    assert seen[-1] == "## Learning objectives"
    assert at.progress[0].value == 100


def test_educator_labs_use_short_headers_and_charts_reveal_nothing_later(at):
    educator(at)
    for _ in range(3):
        at.button(key="educator_reveal").click().run()
    assert "| Lab | **Day 1** | Unit |" in text(at)
    while headings(at)[-1] != "## Day 3: each instrument over time":
        at.button(key="educator_reveal").click().run()
    timeline = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(timeline["data"][0]["x"]) == 2  # day 4 not revealed yet
    at.button(key="educator_reveal").click().run()
    (chart,) = at.get("plotly_chart")
    drawn = {(t.get("meta") or {}).get("analyte") for t in json.loads(chart.proto.spec)["data"]} - {None}
    assert drawn == {"platelets"}


def test_educator_project_button_opens_the_stage(at):
    educator(at)
    at.button(key="educator_project").click().run()
    assert at.query_params["stage"] in ("1", ["1"])
    assert not at.exception
    assert [b.key for b in at.button if b.key.startswith("stage_")][:2] == ["stage_back", "stage_next"]
    assert not any(m.value.startswith("## Teaching cases") for m in at.markdown)  # the slide only


def test_stage_moves_with_its_buttons_and_exits(at):
    educator(at)
    at.button(key="educator_project").click().run()
    at.button(key="stage_next").click().run()
    assert headings(at)[-1] == "## The story"
    at.button(key="stage_pgdn").click().run()  # a clicker's Page Down
    assert headings(at)[-1] == "## The patient"
    at.button(key="stage_pgup").click().run()
    assert headings(at)[-1] == "## The story"
    at.button(key="stage_home").click().run()
    assert headings(at)[-1].startswith("## Early MAS")
    at.button(key="stage_exit").click().run()
    assert "stage" not in at.query_params
    assert any(m.value == "## Teaching cases" for m in at.markdown)


def test_stage_opened_directly_shows_the_default_case_without_the_page():
    """?stage=1 on the Cases page (a bookmarked projector link): the default case's title screen,
    no page heading, filters or practice form."""
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.query_params["stage"] = "1"
    app.switch_page(CASES).run()
    assert not app.exception
    assert headings(app)[-1].startswith("## Early MAS in systemic JIA")
    assert not any(m.value == "## Teaching cases" for m in app.markdown)
    assert "practice_commit" not in [b.key for b in app.button]
    assert "stage_next" in [b.key for b in app.button]


def test_the_chosen_case_stays_on_the_stage_and_after_it():
    """The stage draws no case picker: the educator's chosen case (and the filters) must survive the
    stage's reruns and the way back, not fall back to the default case."""
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(CASES).run()
    app.multiselect(key="cases_f_population").set_value(["aosd"]).run()
    educator(app, "aosd_mas")
    app.button(key="educator_project").click().run()
    title = plain_markdown(case_by_id("aosd_mas").title)
    assert headings(app)[-1] == f"## {title}"
    app.button(key="stage_next").click().run()
    app.button(key="stage_next").click().run()
    assert headings(app)[-1] == "## The patient"
    assert any(m.value.startswith(title) for m in app.markdown)  # the slide's head names the case
    app.button(key="stage_exit").click().run()
    assert app.selectbox(key="educator_case").value == "aosd_mas"
    assert app.multiselect(key="cases_f_population").value == ["aosd"]
