"""AppTest: the bedside page's logic — entry → results, units, bad input, unknown vs no, examples."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from mas_screen.explain.summary import qualified_name

APP = str(ROOT / "app.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def assessment(at: AppTest):
    return at.session_state["current_assessment"]


def enter(at: AppTest, labs: dict[str, str | tuple[str, str]], **answers: str) -> AppTest:
    for key, value in labs.items():
        if isinstance(value, tuple):
            value, unit = value
            at.selectbox(key=f"unit::{key}").set_value(unit)
        at.text_input(key=f"lab::{key}").set_value(value)
    for field, answer in answers.items():
        widget = (
            at.radio(key=f"ctx::{field}") if answer in ("Yes", "No", "Unknown") else at.selectbox(key=f"ctx::{field}")
        )
        widget.set_value(answer)
    at.run()
    assert not at.exception
    return at


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_fresh_page_is_blank_and_insufficient(at):
    assert all(w.value == "" for w in at.text_input if w.key.startswith("lab::"))
    assert all(w.value == "Unknown" for w in at.radio if w.key.startswith("ctx::"))
    a = assessment(at)
    assert a.summary.mas_signal == "insufficient_data"
    assert "Insufficient data" in at.warning[0].value
    assert "not a diagnosis" in " ".join(c.value for c in at.caption).lower()


def test_full_panel_gives_suggestive_headline_and_cards(at):
    enter(
        at,
        {"ferritin": "2500", "platelets": "150", "ast": "60", "triglycerides": "140", "fibrinogen": "300"},
        febrile="Yes",
        underlying_disease="sjia",
    )
    a = assessment(at)
    assert a.criteria["mas2016"].status == "met"
    assert "Features suggestive of MAS" in at.error[0].value
    text = markdown_text(at)
    assert "2016 MAS criteria" in text and "MAS vs primary HLH" in text
    names = {qualified_name(iid) for iid in a.criteria}  # the MH score's carries its "not confirmed"
    cards = [e for e in at.expander if e.label.split(" — ")[0].lstrip("●○◐ ") in names]
    assert len(cards) == 8
    charts = at.get("plotly_chart")
    assert len(charts) == 1


def test_unit_selector_converts_the_value_not_the_threshold(at):
    enter(at, {"ferritin": "2500", "platelets": "150", "fibrinogen": ("3.6", "g/L")}, febrile="Yes")
    item = next(i for i in assessment(at).criteria["mas2016"].items if i.id == "fibrinogen")
    assert item.result == "met" and item.value == 360.0  # 3.6 g/L = 360 mg/dL, <= 360 meets
    assert assessment(at).criteria["mas2016"].status == "met"


def test_bad_value_is_flagged_beside_field_and_kept(at):
    enter(at, {"fibrinogen": ("3.2", "mg/dL"), "ferritin": "elevated"})
    assert at.text_input(key="lab::fibrinogen").value == "3.2"
    assert at.text_input(key="lab::ferritin").value == "elevated"
    codes = {w.field: w.code for w in assessment(at).input_warnings}
    assert codes == {"fibrinogen": "unit_suspect", "ferritin": "not_a_number"}
    text = markdown_text(at)
    assert "Check the unit" in text and "Not a number" in text
    assert "fibrinogen" in assessment(at).criteria["mas2016"].missing


def test_unknown_is_not_no(at):
    enter(at, {"ferritin": "2500", "platelets": "150", "ast": "60"})
    assert assessment(at).criteria["mas2016"].status == "indeterminate"  # fever unknown
    enter(at, {}, febrile="No")
    assert assessment(at).criteria["mas2016"].status == "not_met"
    enter(at, {}, febrile="Yes")
    assert assessment(at).criteria["mas2016"].status == "met"


def test_load_example_fills_the_form(at):
    at.selectbox(key="example_choice").set_value("ex6_hscore_adult")
    at.button(key="load_example").click().run()
    assert not at.exception
    assert at.text_input(key="lab::ferritin").value == "8000"
    assert at.selectbox(key="unit::ferritin").value == "µg/L"
    assert at.radio(key="ctx::hepatomegaly").value == "Yes"
    a = assessment(at)
    assert a.criteria["hscore"].score == 266
    assert a.criteria["hscore"].probability.label == ">99%"


def test_unit_system_switch_changes_empty_fields_only(at):
    enter(at, {"fibrinogen": ("300", "mg/dL")})
    at.radio(key="unit_system").set_value("si").run()
    assert at.selectbox(key="unit::fibrinogen").value == "mg/dL"  # typed value keeps its unit
    assert at.selectbox(key="unit::triglycerides").value == "mmol/L"  # empty field follows SI
    assert at.selectbox(key="unit::temperature").value == "degC"


def test_clear_form(at):
    enter(at, {"ferritin": "900"}, febrile="Yes")
    at.button(key="clear_form").click().run()
    assert at.text_input(key="lab::ferritin").value == ""
    assert at.radio(key="ctx::febrile").value == "Unknown"


def test_about_page_lists_every_instrument():
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page(str(ROOT / "mas_screen" / "ui" / "pages" / "about.py")).run()
    assert not app.exception
    titles = [e.label for e in app.expander]
    assert len(titles) == 8
    assert any("Privacy" in m.value for m in app.markdown)
    # Decisions are read from criteria/*.yaml, numbers included: the unconfirmed MH cut-off is listed,
    # in plain words for clinicians, with no internal tags or file references.
    text = "\n".join(m.value for m in app.markdown)
    assert "MH score, cut-off ≥ 60: not confirmed against the primary paper" in text
    assert "confirmed in two independent sources" in text
    assert not re.search(r"CONFIRMED-\d|UNCONFIRMED|DECISION|ADAPTATION|docs/|source-verification\.md", text)
    # How each number was checked: linked (a download of the record), not pasted into the page.
    assert any(b.label.startswith("How each number was checked") for b in app.get("download_button"))
    assert "Which instruments decide the summary" in text and "Systemic JIA: 2016 MAS criteria and MS score" in text


def test_typed_markdown_is_shown_literally_never_rendered(at):
    """A typed value is echoed beside its field as text: an image or link in it is never rendered
    (which would make the browser fetch an outside address)."""
    typed = "![x](http://example.com/p.png)"
    at.text_input(key="lab::ferritin").set_value(typed).run()
    echoed = [m.value for m in at.markdown if "you typed" in m.value]
    # The URL-bearing token is a code span (shown as typed, never a link or an image).
    assert echoed and all("![x](" not in re.sub(r"`[^`]*`", "", m) for m in echoed)
    assert at.text_input(key="lab::ferritin").value == typed


def test_bedside_values_survive_a_round_trip_through_other_pages(at):
    """Form values are kept in this session when the user visits Trends and About and comes back
    (they are re-assigned only while another page runs; on the Assess page the browser owns them)."""
    enter(at, {"ferritin": "2500", "fibrinogen": ("3.2", "g/L")}, febrile="Yes")
    pages = ROOT / "mas_screen" / "ui" / "pages"
    for other in ("trends.py", "about.py", "assess.py"):
        at.switch_page(str(pages / other)).run()
        assert not at.exception
    assert at.text_input(key="lab::ferritin").value == "2500"
    assert at.text_input(key="lab::fibrinogen").value == "3.2"
    assert at.selectbox(key="unit::fibrinogen").value == "g/L"
    assert at.radio(key="ctx::febrile").value == "Yes"


# ------------------------------------------------------------- the patient's own instruments decide


FLARE_LABS = {
    "temperature": "39.2", "ferritin": "1800", "platelets": "480", "ast": "35", "ldh": "650", "triglycerides": "190",
    "fibrinogen": ("620", "mg/dL"), "esr": "95", "wbc": "21", "hemoglobin": ("10.5", "g/dL"),
}  # fmt: skip
FLARE_ANSWERS = {
    "underlying_disease": "sjia", "febrile": "Yes", "hepatomegaly": "No", "splenomegaly": "No",
    "cns_involvement": "No", "hemorrhagic_manifestations": "No", "active_arthritis": "Yes",
}  # fmt: skip


def test_flare_shows_parodi_only_in_a_grey_line(at):
    at.selectbox(key="unit::temperature").set_value("degC")
    enter(at, FLARE_LABS, **FLARE_ANSWERS)
    a = assessment(at)
    assert a.criteria["parodi2009"].status == "met" and a.summary.mas_signal == "not_suggestive"
    assert not at.error  # never the red box
    assert at.success and at.success[0].value.startswith("### Features not suggestive of MAS")
    grey = [c.value for c in at.caption if c.value.startswith("Also met by instruments built for other populations")]
    # Under the headline in the answer column, and in the pinned strip's opened view (phones, tablets).
    assert grey == ["Also met by instruments built for other populations — indicative only: Parodi 2009 (jSLE)"] * 2
    headline_boxes = " ".join(b.value for b in (*at.error, *at.success, *at.warning))
    assert "Parodi" not in headline_boxes  # not in the headline's colour
    assert not any("Parodi" in m.value and ":red[" in m.value for m in at.markdown)  # badges aside
    # Its badge and card title are grey and say why: never the red "met" of the patient's own.
    assert any(m.value.startswith(":gray-background[**● met · indicative only**]") for m in at.markdown)
    assert any(e.label.startswith("● Parodi 2009 (jSLE) — met, indicative only") for e in at.expander)


def test_next_steps_say_what_to_do_and_collapse_the_rest(at):
    # Fresh page: choose the disease, then routine labs.
    text = markdown_text(at)
    assert "**Next steps.** Start here: choose the underlying disease" in text
    assert "then enter ferritin, platelets, AST, triglycerides and fibrinogen" in text
    # sJIA with ferritin only: the routine tests that decide the own instruments, by label.
    enter(at, {"ferritin": "2500"}, underlying_disease="sjia")
    text = markdown_text(at)
    assert "**Next steps.** To decide 2016 MAS criteria and MS score: enter platelet count, AST" in text
    more = [e for e in at.expander if e.label == "More tests: specialist, and instruments built for other populations"]
    assert len(more) == 1 and not more[0].proto.expanded
    inside = "\n".join(m.value for m in more[0].markdown)
    assert "Neutrophil count (absolute) (MH score, HLH-2004)" in inside
    assert "Would decide instruments built for other populations" in inside
    # Own instruments decided: repeat the routine panel as the illness evolves.
    at.selectbox(key="unit::temperature").set_value("degC")
    enter(at, FLARE_LABS, **FLARE_ANSWERS)
    text = markdown_text(at)
    assert "The instruments built for this population are decided (2016 MAS criteria and MS score)" in text
    assert "Repeat ferritin, platelets, AST and fibrinogen (and D-dimer, LDH) as the illness evolves" in text


def test_mh_score_result_carries_its_qualifier_on_the_page(at):
    enter(at, {"neutrophils": "0.5", "platelets": "40", "hemoglobin": ("7.5", "g/dL")}, splenomegaly="Yes")
    text = markdown_text(at)
    assert "MH score (values not confirmed against the primary paper)" in text
    assert any(
        e.label.lstrip("●○◐ ").startswith("MH score (values not confirmed against the primary paper) — ")
        for e in at.expander
    )


def test_pdf_details_are_optional_inputs_kept_out_of_the_patient(at):
    enter(at, {"ferritin": "2500"}, underlying_disease="sjia")
    box = [e for e in at.expander if e.label == "Details printed on the PDF (optional, never stored)"]
    assert len(box) == 1 and not box[0].proto.expanded
    at.text_input(key="pdf::name").set_value("Ada Example").run()
    assert not at.exception
    assert "Ada Example" not in at.session_state["current_patient"].model_dump_json()
    assert "Ada Example" not in assessment(at).model_dump_json()


def test_item_tables_put_the_result_first_and_drop_empty_columns(at):
    """A phone shows a table's left columns before it scrolls: item and result come first; a
    converted value sits beside what was entered; no points column where nothing scores points."""
    enter(at, {"ferritin": "2500", "triglycerides": ("2.5", "mmol/L"), "platelets": "90"}, underlying_disease="sle")
    tables = [m.value for m in at.markdown if m.value.startswith("| Item |")]
    assert tables and all(t.startswith("| Item | Result | Entered | Rule |") for t in tables)
    parodi = next(t for t in tables if "Cytopenia" in t)
    assert "| Points |" not in parodi.splitlines()[0]
    assert parodi.count("(supportive, not counted)") == parodi.count("Haemophagocytosis")  # once per row
    assert "| 2.5 mmol/L = 221.4 mg/dL |" in parodi  # Parodi's rule is in mg/dL
    enter(at, {}, underlying_disease="other")  # HScore is this patient's own now: its card is open
    tables = [m.value for m in at.markdown if m.value.startswith("| Item |")]
    hscore = next(t for t in tables if "Organomegaly" in t)
    assert hscore.splitlines()[0] == "| Item | Result | Entered | Rule | Points |"
    assert "| 2.5 mmol/L |" in hscore  # HScore's own unit: no conversion shown


def test_il6_blockade_caveat_sits_under_the_headline(at):
    """A patient on tocilizumab: the blockade caveat is printed with the headline (orange, bold), not
    only inside the caveats list, so a reassuring headline is never read without it."""
    enter(at, {"ferritin": "600", "platelets": "250"}, underlying_disease="sjia", biologic_therapy="il6")
    lines = [m.value for m in at.markdown if "IL-1/IL-6 blockade" in m.value]
    assert any(line.startswith(":orange[**⚠ On IL-1/IL-6 blockade") for line in lines)  # and in the caveats
    enter(at, {}, biologic_therapy="none")
    assert not [m.value for m in at.markdown if m.value.startswith(":orange[**⚠ On IL-1/IL-6")]
