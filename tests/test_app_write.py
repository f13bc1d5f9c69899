"""AppTest: the Write a case page — the guided form and pasted YAML, checked with every schema error
named by field and line, the computed findings and practice preview, the YAML download, and cases
added to this browser session's library (a YAML or a zip, with its limits)."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import ROOT
from conftest import page_text as text
from streamlit.testing.v1 import AppTest

from mas_screen.faces.teaching.loading import load_cases
from mas_screen.faces.teaching.schema import CASES_DIR
from mas_screen.faces.teaching.upload import MAX_UPLOAD_BYTES, MAX_ZIP_FILES

APP = str(ROOT / "app.py")
WRITE = str(ROOT / "mas_screen" / "ui" / "pages" / "write.py")
CASES = str(ROOT / "mas_screen" / "ui" / "pages" / "cases.py")
FIXTURE = (ROOT / "tests" / "fixtures" / "cases" / "published_fixture.yaml").read_text(encoding="utf-8")
FLARE = (CASES_DIR / "sjia_flare.yaml").read_text(encoding="utf-8").replace("id: sjia_flare", "id: my_flare")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(WRITE).run()
    assert not app.exception
    return app


def paste(at: AppTest, yaml_text: str) -> AppTest:
    at.text_area(key="author_yaml").set_value(yaml_text).run()
    assert not at.exception
    return at


def line_of(yaml_text: str, needle: str) -> int:
    return yaml_text[: yaml_text.index(needle)].count("\n") + 1


def test_the_starter_case_passes_and_shows_findings_and_a_preview(at):
    shown = text(at)
    assert "“my_new_case” passes every check" in shown
    assert "#### What the criteria compute" in shown
    assert "| 2016 MAS criteria | **own** |" in shown
    assert "#### Practice preview: what a trainee sees at the first panel" in shown
    assert "**10 of 10 points**" in shown
    download = at.get("download_button")[0]
    assert download.proto.label == "Download the YAML"


def test_the_guided_form_writes_a_case_that_passes(at):
    at.text_input(key="af_id_0").set_value("guided_case")
    at.text_area(key="af_story_0").set_value(
        "A 9-year-old boy with systemic JIA has fever spikes. His knees are swollen. He is well between spikes."
    )
    at.button(key="author_build").click().run()
    assert not at.exception
    assert "YAML written and checked: no problems." in text(at)
    written = at.text_area(key="author_yaml").value
    assert written.startswith("id: guided_case\n") and "A 9-year-old boy" in written
    assert "“guided_case” passes every check" in text(at)


def test_a_library_case_copied_into_the_form_keeps_its_claims(at):
    at.selectbox(key="author_start").set_value("sjia_mas_early").run()
    at.button(key="author_load").click().run()
    assert "Loaded into the form and the YAML" in text(at)
    at.button(key="author_build").click().run()
    written = at.text_area(key="author_yaml").value
    assert "id: sjia_mas_early_copy" in written and "first_met: mas2016" in written
    assert "“sjia_mas_early_copy” passes every check" in text(at)


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "message"),
    [
        ("tags:", "colour: red\ntags:", "colour:", "colour", "unknown field"),
        ("difficulty: 1", "difficulty: 7", "difficulty:", "difficulty", "Input should be 1, 2 or 3"),
        ("      reading: flare", "      reading: sepsis", "reading:", "panels.0.answer.reading", "Input should be"),
        ("    labs:\n      ferritin:", "    labs:\n      ferritn:", "    labs:", "panels.0.labs", "unknown analyte"),
        (
            "    citation: minoia2019",
            "    citation: smith1999",
            "citation: smith1999",
            "teaching_points.0.citation",
            "unknown citation key",
        ),
        ('  - time: "2026-03-16T09:00"', '  - time: "16/03/2026"', "- time:", "panels.0.time", "ambiguous"),
        ("difficulty: 1", "difficulty: 1\ndifficulty: 2", "difficulty: 2", "", "appears twice"),
        ("themes: [sjia-flare]", "themes: [sjia-flare", "difficulty:", "", "sequence that starts on line 9"),
        ("        grade: best", "        grade: good", "grade: good", "panels.0.next_steps.0.grade", "Input should be"),
        (
            "        references: [ravelli2016_dynamics]",
            "        references: [ravelli2016_dynamix]",
            "references: [ravelli2016_dynamix]",
            "panels.0.next_steps.0.references.0",
            "unknown citation key",
        ),
        (
            "expected_interpretation: flare",
            "expected_interpretation: not_hlh",
            "expected_interpretation:",
            "expected_interpretation",
            "contradicts the last panel's authored reading",
        ),
        (
            '    short_label: "Week 1"',
            '    short_label: "The whole first week"',
            "short_label:",
            "panels.0.short_label",
            "at most 12",
        ),
    ],
)
def test_each_kind_of_schema_error_is_shown_with_field_and_line(at, old, new, needle, field, message):
    broken = FLARE.replace(old, new, 1)
    paste(at, broken)
    shown = text(at)
    assert "problem(s). Each names the field and the line of the YAML." in shown
    line = line_of(broken, needle)
    table = next(m.value for m in at.markdown if m.value.startswith("| Line | Field | Problem |"))
    row = next(r for r in table.splitlines() if r.startswith(f"| {line} |"))
    assert f"`{field or '(whole file)'}`" in row and message.split(" (")[0] in row.replace("\\", "")
    written = broken.splitlines()[line - 1].strip()
    assert f"`{written}`" in row  # the line as written, beside its number
    assert not at.get("download_button")  # a broken case is not offered for download


def test_a_failed_claim_is_shown_with_its_line(at):
    broken = FLARE.replace("{criterion: ms_score, status: not_met, score: -4.5}", "{criterion: ms_score, status: met}")
    paste(at, broken)
    table = next(m.value for m in at.markdown if m.value.startswith("| Line | Field | Problem |"))
    assert f"| {line_of(broken, '{criterion: ms_score, status: met}')} | `teaching_points.0.claims.0` |" in table
    assert "claim does not hold" in table


def test_a_library_id_is_refused(at):
    paste(at, FLARE.replace("id: my_flare", "id: sjia_flare"))
    assert "already the id of a case in the library" in text(at)


def test_a_written_case_is_added_to_this_sessions_library(at):
    paste(at, FLARE)
    at.button(key="author_add").click().run()
    assert "Added “my_flare” to this session's library" in text(at)
    at.switch_page(CASES).run()
    assert "my_flare" in at.session_state["session_cases"]
    assert at.selectbox(key="practice_case").options[-1].startswith(f"Case {len(load_cases()) + 1} · 5 years old")
    fresh = AppTest.from_file(APP, default_timeout=90)
    fresh.run()
    fresh.switch_page(CASES).run()
    assert len(fresh.selectbox(key="practice_case").options) == len(load_cases())  # another session


# ------------------------------------------------------------------------------------------- upload


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_upload_a_yaml_and_a_zipped_folder(at):
    at.file_uploader(key="author_upload").set_value(
        [
            ("published_fixture.yaml", FIXTURE.encode(), "application/x-yaml"),
            ("more.zip", _zip({"cases/my_flare.yaml": FLARE.encode(), "cases/notes.txt": b"x"}), "application/zip"),
        ]
    ).run()
    assert not at.exception
    shown = text(at)
    assert "Added: published_fixture, my_flare." in shown
    assert "Not case files, ignored: cases/notes\\.txt" in shown
    assert "`published_fixture` · Fixture\\: a published flare · 1 panel(s) · published" in shown
    at.button(key="author_remove::my_flare").click().run()
    assert "`my_flare`" not in text(at)


def test_upload_problems_and_limits(at):
    broken = FLARE.replace("difficulty: 1", "difficulty: 9")
    many = _zip({f"c{i}.yaml": b"id: x\n" for i in range(MAX_ZIP_FILES + 1)})
    bomb = _zip({"bomb.yaml": b"# " + b"a" * 150_000})
    at.file_uploader(key="author_upload").set_value(
        [
            ("my_flare.yaml", broken.encode(), "application/x-yaml"),
            ("many.zip", many, "application/zip"),
            ("bomb.zip", bomb, "application/zip"),
            ("big.yaml", b"#" * (MAX_UPLOAD_BYTES + 1), "application/x-yaml"),
        ]
    ).run()
    assert not at.exception
    table = next(m.value for m in at.markdown if m.value.startswith("| Line | Field | Problem |"))
    assert f"| {line_of(broken, 'difficulty:')} | `difficulty` |" in table
    assert f"upload at most {MAX_ZIP_FILES} at a time" in table
    assert "zip bomb" in table
    assert "too large to be cases" in table
    assert "Added:" not in text(at)
    assert at.session_state["session_cases"] == {}
