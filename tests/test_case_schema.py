"""Case schema version 2 (docs/case-schema.md): every kind of error is reported with its file, field
and line, all at once; version 1 still loads; published values are checked as published; uploads
and `python -m mas_screen cases check` are bounded and exit as documented."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from mas_screen.faces.teaching.check import check_folder
from mas_screen.faces.teaching.claims import check_case, published_value_problems
from mas_screen.faces.teaching.loading import load_case_file, read_case_text
from mas_screen.faces.teaching.schema import CASES_DIR, MAX_CASE_BYTES, CaseDataError
from mas_screen.faces.teaching.upload import (
    MAX_TOTAL_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_ZIP_ENTRIES,
    MAX_ZIP_FILES,
    read_upload,
)
from mas_screen.faces.teaching.yaml_lines import MAX_DEPTH, YamlError, load_with_lines

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "cases" / "published_fixture.yaml"
BASE = (CASES_DIR / "sjia_flare.yaml").read_text(encoding="utf-8")


def problems(text: str, name: str = "sjia_flare.yaml") -> list:
    with pytest.raises(CaseDataError) as info:
        read_case_text(text, name, stem=Path(name).stem)
    return info.value.problems


def line_of(text: str, needle: str, start: int = 0) -> int:
    index = text.index(needle, start)
    return text.count("\n", 0, index) + 1


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# ------------------------------------------------------------------------------- one per kind of error


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "message"),
    [
        ("tags:", "colour: red\ntags:", "colour:", "colour", "unknown field"),
        ("themes: [sjia-flare]", "themes: [sjia-flair]", "themes:", "themes.0", "Input should be 'sjia-mas'"),
        ("difficulty: 1", "difficulty: 4", "difficulty:", "difficulty", "Input should be 1, 2 or 3"),
        ("      reading: flare", "      reading: sepsis", "reading:", "panels.0.answer.reading", "Input should be"),
        ("      reading: flare\n", "", "answer:", "panels.0.answer.reading", "required field is missing"),
        ("        grade: best", "        grade: good", "grade: good", "panels.0.next_steps.0.grade", "Input should be"),
        ('short_label: "Week 1"', 'short_label: "The first week"', "short_label", "panels.0.short_label", "at most 12"),
        ("    labs:\n      ferritin:", "    labs:\n      ferritn:", "    labs:", "panels.0.labs", "unknown analyte"),
        ("  febrile: true", "  febrile: maybe", "febrile:", "context.febrile", "is not a yes/no answer"),
        (
            "    citation: minoia2019",
            "    citation: smith1999",
            "citation: smith1999",
            "teaching_points.0.citation",
            "unknown citation key",
        ),
        (
            "      references: [minoia2019, eloseily2019, sen2016]",
            "      references: [minoia2019, nobody2020]",
            "references: [minoia2019, nobody",
            "panels.0.answer.references.1",
            "unknown citation key 'nobody2020'",
        ),
        ('  - time: "2026-03-16T09:00"', '  - time: "16/03/2026 09:00"', "- time:", "panels.0.time", "ambiguous"),
        ("  kind: constructed", "  kind: invented", "source:", "source", "source is a mapping with kind"),
    ],
)
def test_each_kind_of_schema_error_names_file_field_and_line(old, new, needle, field, message):
    text = edit(old, new)
    found = problems(text)
    match = [p for p in found if p.field == field]
    assert match, [str(p) for p in found]
    p = match[0]
    assert p.file == "sjia_flare.yaml"
    assert message in p.message, str(p)
    assert p.line == line_of(text, needle), str(p)
    assert str(p).startswith(f"sjia_flare.yaml: line {p.line}: field {field}: ")


def test_next_step_rules():
    steps_start = BASE.index("    next_steps:")
    one_best = BASE[:steps_start] + BASE[steps_start:].replace("grade: best", "grade: acceptable")
    assert any("no next step is graded 'best'" in p.message for p in problems(one_best))
    dup = edit("id: warning_signs", "id: repeat_labs")
    (p,) = [p for p in problems(dup) if p.field == "panels.0.next_steps.1.id"]
    assert "used twice" in p.message and p.line == line_of(dup, "id: repeat_labs", BASE.index("id: repeat_labs") + 5)
    data = yaml.safe_load(BASE)
    data["panels"][0]["next_steps"] = data["panels"][0]["next_steps"][:2]
    few = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    assert any(p.field == "panels.0.next_steps" and "give 3 to 6" in p.message for p in problems(few))


def test_version_2_needs_every_part():
    data = yaml.safe_load(BASE)
    del data["themes"], data["difficulty"], data["panels"][0]["answer"]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    fields = {p.field: p.message for p in problems(text)}
    assert "at least one theme" in fields["themes"]
    assert "difficulty" in fields["difficulty"]
    assert "author's reading" in fields["panels.0.answer"]


def test_every_problem_is_reported_in_one_pass():
    text = edit("difficulty: 1", "difficulty: 9", edit("tags:", "colour: red\ntags:"))
    text = edit("    labs:\n      ferritin:", "    labs:\n      ferritn:", text)
    fields = {p.field for p in problems(text)}
    assert {"difficulty", "colour", "panels.0.labs"} <= fields


def test_declared_reading_may_not_contradict_the_author():
    text = edit("expected_interpretation: flare", "expected_interpretation: mas")
    (p,) = problems(text)
    assert p.field == "expected_interpretation" and "contradicts" in p.message
    assert p.line == line_of(text, "expected_interpretation:")


def test_adapted_must_name_a_value_of_its_panel():
    text = edit("    answer:", "    adapted: {scd25: filled in}\n    answer:")
    (p,) = problems(text)
    assert p.field == "panels.0.adapted.scd25" and "not a lab or context value" in p.message


# ----------------------------------------------------------------------------------------- YAML


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("id: a\nid: b\n", 2, "the key 'id' appears twice (lines 1 and 2)"),
        ("a: &x [1, 2]\nb: *x\n", 2, "anchors and aliases"),
        ("a: [1, 2\n", 1, "not valid YAML"),
        ("a:\n  <<: {b: 1}\n", 2, "merge keys"),
        ("a: 2026-02-30\n", None, "a value cannot be read"),
        ("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), 1, "nested"),
    ],
)
def test_yaml_that_cannot_be_a_case(text, line, message):
    with pytest.raises(YamlError) as info:
        load_with_lines(text)
    assert message in info.value.message and info.value.line == line


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20)
    )
    with pytest.raises(CaseDataError, match="anchors and aliases"):
        read_case_text(bomb, "bomb.yaml")


def test_text_that_is_not_a_mapping_or_too_large():
    assert "a YAML mapping" in problems("- just\n- a list\n")[0].message
    assert "larger than" in problems("x" * 300_000)[0].message


# -------------------------------------------------------------------------------------- version 1


def test_version_1_files_still_load():
    data = yaml.safe_load(BASE)
    data["source"] = "constructed for teaching"
    for key in ("themes", "difficulty"):
        del data[key]
    for key in ("answer", "next_steps", "short_label"):
        del data["panels"][0][key]
    case = read_case_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "sjia_flare.yaml")
    assert case.version == 1 and case.constructed and case.final_reading == "flare"
    assert case.source_text == "Constructed for teaching"


def test_version_1_interpretation_words_map_to_readings():
    case = read_case_text(
        edit(
            "expected_interpretation: flare",
            "expected_interpretation: unsure",
            edit("      reading: flare", "      reading: not_enough_data"),
        ),
        "sjia_flare.yaml",
    )
    assert case.final_reading == "not_enough_data"


# ----------------------------------------------------------------------------------- published cases


def test_published_fixture_holds_its_values_as_published():
    case = load_case_file(FIXTURE)
    assert case.published and case.source_kind == "published" and case.source_doi == "10.5555/mas-screen-fixture"
    assert case.source_text.startswith("Adapted from Fixture A")
    assert published_value_problems(case) == []  # 6.0 g/L = 600 mg/dL; 1.24 mmol/L rounds to 110 mg/dL
    assert check_case(case) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      ferritin: 1500",
            "      ferritin: 1400",
            "the paper prints ferritin = 1500 ng/mL (Table 1); the case holds 1400 ng/mL",
        ),
        ("      triglycerides: 110", "      triglycerides: 120", "triglycerides = 1.24 mmol/L"),
        (
            "      fibrinogen: {value: 6.0, unit: g/L}",
            "      fibrinogen: {value: 5.0, unit: g/L}",
            "fibrinogen = 600 mg/dL",
        ),
        ("  age_years: 5", "  age_years: 6", "age_years = 5"),
    ],
)
def test_a_value_changed_from_the_paper_is_reported_with_its_line(old, new, message):
    text = edit(old, new, FIXTURE.read_text(encoding="utf-8"))
    case = read_case_text(text, "published_fixture.yaml", stem="published_fixture")
    (p,) = check_case(case, "published_fixture.yaml")
    assert message in p.message
    assert p.field.startswith("source.published_values.") and p.line is not None
    assert text.splitlines()[p.line - 1].lstrip().startswith("- {panel:")


def test_an_adapted_value_is_exempt_and_a_missing_one_is_not():
    text = FIXTURE.read_text(encoding="utf-8")
    case = read_case_text(text, "published_fixture.yaml")
    assert case.panels[0].labs["ldh"] == 400  # the paper's 999 is exempt: listed under adapted
    dropped = edit(
        "      ldh: 400\n",
        "",
        edit('    adapted:\n      ldh: "not reported; a value typical of an sJIA flare"\n', "", text),
    )
    problems_ = published_value_problems(read_case_text(dropped, "published_fixture.yaml"))
    assert [m for _p, m in problems_] == ["ldh is not in panel 0 (mark it under that panel's adapted if left out)"]


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('doi: "10.5555/mas-screen-fixture"', 'doi: "https://doi.org/10.5555/x"', "source.doi", "bare DOI"),
        (
            "{panel: 0, key: ferritin",
            "{panel: null, key: ferritin",
            "source.published_values.1.panel",
            "name the panel",
        ),
        ("{panel: 0, key: platelets", "{panel: 7, key: platelets", "source.published_values.2.panel", "does not exist"),
        ("unit: mmol/L", "unit: furlongs", "source.published_values.4.unit", "not a unit of triglycerides"),
        ("key: ldh", "key: lactate", "source.published_values.5.key", "neither a lab key nor a context field"),
    ],
)
def test_published_source_errors(old, new, field, message):
    text = edit(old, new, FIXTURE.read_text(encoding="utf-8"))
    found = problems(text, "published_fixture.yaml")
    assert any(p.field == field and message in p.message for p in found), [str(p) for p in found]


# ----------------------------------------------------------------------------------------- uploads


def _zip(files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_upload_one_yaml_and_a_zipped_folder():
    fixture = FIXTURE.read_bytes()
    one = read_upload("my case (1).yaml", fixture)
    assert [c.id for c in one.cases] == ["published_fixture"] and not one.problems
    zipped = read_upload(
        "cases.zip",
        _zip({"folder/published_fixture.yaml": fixture, "folder/README.txt": b"hi", "__MACOSX/._x.yaml": b"x"}),
    )
    assert [c.id for c in zipped.cases] == ["published_fixture"] and zipped.ignored == ["folder/README.txt"]


def test_upload_refuses_reserved_ids_and_names_problems_with_lines():
    out = read_upload("sjia_flare.yaml", BASE.encode(), reserved_ids={"sjia_flare"})
    assert not out.cases and "already the id of a case in the library" in out.problems[0].message
    bad = read_upload("x.yaml", edit("difficulty: 1", "difficulty: 9").encode())
    assert bad.problems[0].line == line_of(BASE, "difficulty:")


def test_upload_limits():
    assert "too large" in read_upload("big.yaml", b"x" * (MAX_UPLOAD_BYTES + 1)).problems[0].message
    assert "not a case file" in read_upload("notes.pdf", b"%PDF").problems[0].message
    assert "not a readable zip" in read_upload("broken.zip", b"PK\x03\x04 nonsense").problems[0].message
    many = _zip({f"c{i}.yaml": b"id: x\n" for i in range(MAX_ZIP_FILES + 1)})
    assert f"upload at most {MAX_ZIP_FILES}" in read_upload("many.zip", many).problems[0].message
    # A zip bomb: 5 MB of one repeated byte compresses to a few kB.
    bomb = read_upload("bomb.zip", _zip({"bomb.yaml": b"a" * 5_000_000}))
    assert not bomb.cases and ("zip bomb" in bomb.problems[0].message or "larger than" in bomb.problems[0].message)
    ratio = read_upload("ratio.zip", _zip({"r.yaml": b"# " + b"a" * 150_000}))
    assert "zip bomb" in ratio.problems[0].message
    assert "no .yaml case files" in read_upload("empty.zip", _zip({"a.txt": b"x"})).problems[0].message
    entries = _zip({f"notes/{i}.txt": b"" for i in range(MAX_ZIP_ENTRIES + 1)})
    assert f"a zip of cases holds at most {MAX_ZIP_ENTRIES}" in read_upload("entries.zip", entries).problems[0].message
    # Many case-sized files that each compress modestly: the total read is capped, the rest not read.
    rng = random.Random(16)
    size = MAX_CASE_BYTES - 1_000
    count = MAX_TOTAL_BYTES // size + 2
    files = {f"c{i}.yaml": ("# " + "".join(rng.choices("acgt", k=size))).encode() for i in range(count)}
    total = read_upload("total.zip", _zip(files))
    assert len(_zip(files)) <= MAX_UPLOAD_BYTES  # the upload itself is within its limit
    assert any("of cases: the rest were not read" in p.message for p in total.problems)
    text = read_upload("bad.yaml", b"\xff\xfe not utf-8")
    assert "not UTF-8" in text.problems[0].message


def test_two_cases_with_one_id_in_a_zip():
    fixture = FIXTURE.read_bytes()
    out = read_upload("two.zip", _zip({"a/published_fixture.yaml": fixture, "b/published_fixture.yaml": fixture}))
    assert len(out.cases) == 1 and "already the id" in out.problems[0].message


# ------------------------------------------------------------------------------------- cases check


def test_cases_check_exit_codes(tmp_path):
    assert check_folder(tmp_path / "absent")[0] == 2
    (tmp_path / "file.txt").write_text("x")
    assert check_folder(tmp_path / "file.txt")[0] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_folder(empty)[0] == 1
    good = tmp_path / "good" / "sub"
    good.mkdir(parents=True)
    (good / "published_fixture.yaml").write_bytes(FIXTURE.read_bytes())
    code, lines = check_folder(tmp_path / "good")
    assert code == 0 and lines[0].startswith("ok    sub/published_fixture.yaml (version 2, 1 panel, published")
    (good / "broken.yaml").write_text(edit("difficulty: 1", "difficulty: 9").replace("id: sjia_flare", "id: broken"))
    code, lines = check_folder(tmp_path / "good")
    assert code == 1
    assert any(line.strip().startswith("sub/broken.yaml: line") and "field difficulty" in line for line in lines)
    assert lines[-1] == "2 case file(s): 1 pass, 1 fail"


def test_cases_check_command_line(tmp_path):
    run = [sys.executable, "-m", "mas_screen", "cases", "check"]
    ok = subprocess.run([*run, str(FIXTURE.parent)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ok.returncode == 0 and "1 pass, 0 fail" in ok.stdout
    missing = subprocess.run([*run, str(tmp_path / "nope")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert missing.returncode == 2 and missing.stdout == "" and "does not exist" in missing.stderr
    (tmp_path / "x.yaml").write_text("id: [", encoding="utf-8")
    bad = subprocess.run([*run, str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 1 and "x.yaml: line 1: not valid YAML" in bad.stdout
