"""Loading teaching cases: from text, bytes or a file (bounded size), one folder at a time (cached),
every problem reported at once with file, field and line."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pydantic import (
    ValidationError,
)

from mas_screen.domain.series import Panel
from mas_screen.faces.teaching.cross_checks import cross_check
from mas_screen.faces.teaching.schema import (
    CASES_DIR,
    MAX_CASE_BYTES,
    Case,
    CaseDataError,
    Problem,
    validation_problems,
)
from mas_screen.faces.teaching.yaml_lines import LineMap, YamlError, load_with_lines
from mas_screen.kernel.inputs.times import TimeError

# ------------------------------------------------------------------------------------------ loading


def read_case_text(text: str, file: str, *, stem: str | None = None, reserved_ids: Iterable[str] = ()) -> Case:
    """Validate one case given as YAML text; raises CaseDataError listing every problem.

    `stem`: the file name without .yaml, which the id must equal (a folder of cases); `reserved_ids`:
    ids already taken (a case added to a session library may not shadow a library case)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_CASE_BYTES:
        raise CaseDataError([Problem(file, "", None, f"larger than {MAX_CASE_BYTES // 1000} kB: not a case file")])
    try:
        data, lines = load_with_lines(text)
    except YamlError as exc:
        raise CaseDataError([Problem(file, "", exc.line, exc.message)]) from exc
    if not isinstance(data, dict):
        raise CaseDataError([Problem(file, "", 1, "a case is a YAML mapping (id: ..., title: ..., panels: ...)")])
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, data, lines, file)
        problems += _panel_problems_from_data(data, lines, file)
        raise CaseDataError(_unique(problems)) from exc
    problems = cross_check(case, lines, file, stem=stem, reserved_ids=set(reserved_ids))
    if problems:
        raise CaseDataError(problems)
    case._lines = lines
    return case


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _panel_problems_from_data(data: dict, lines: LineMap, file: str) -> list[Problem]:
    """Labs and context of each panel read by the core's own models, even when another part of the
    case is broken (so an educator sees a misspelt lab key in the same pass)."""
    out: list[Problem] = []
    panels = data.get("panels")
    if not isinstance(panels, list):
        return out
    for i, panel in enumerate(panels):
        if isinstance(panel, dict):
            out += _core_panel_problems(i, panel, lines, file)
    return out


def _core_panel_problems(i: int, panel: dict, lines: LineMap, file: str) -> list[Problem]:
    raw = {k: panel[k] for k in ("time", "labs", "context") if k in panel and panel[k] is not None}
    if not isinstance(raw.get("time"), str):
        return []  # reported by the schema
    try:
        Panel.model_validate(raw)
    except ValidationError as exc:
        return [p for p in validation_problems(exc, raw, lines, file, ("panels", i)) if not p.field.endswith(".time")]
    except TimeError:
        return []
    return []


def lines_of(case: Case) -> LineMap:
    """Where each value of a loaded case was written (empty for a case built in code)."""
    return case._lines


def load_case_file(path: Path) -> Case:
    """Read and validate one case file; raises CaseDataError naming the file, field and line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CaseDataError([Problem(path.name, "", None, f"file not found at {path}")]) from exc
    except OSError as exc:
        raise CaseDataError([Problem(path.name, "", None, f"cannot be read: {exc.strerror or exc}")]) from exc
    return read_case_bytes(raw, path.name, stem=path.stem)


def read_case_bytes(raw: bytes, file: str, *, stem: str | None = None, reserved_ids: Iterable[str] = ()) -> Case:
    if len(raw) > MAX_CASE_BYTES:
        raise CaseDataError([Problem(file, "", None, f"larger than {MAX_CASE_BYTES // 1000} kB: not a case file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseDataError([Problem(file, "", None, "not UTF-8 text")]) from exc
    return read_case_text(text.removeprefix("\ufeff"), file, stem=stem, reserved_ids=reserved_ids)


def case_files(directory: Path) -> list[Path]:
    """Every *.yaml under `directory` (sub-folders too), in a stable order."""
    return sorted(directory.rglob("*.yaml"), key=lambda p: p.relative_to(directory).as_posix())


@cache
def _load_all(directory: Path) -> tuple[Case, ...]:
    paths = case_files(directory)
    if not paths:
        raise CaseDataError([Problem(str(directory), "", None, "no case files")])
    cases: list[Case] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for p in paths:
        try:
            case = load_case_file(p)
        except CaseDataError as exc:
            problems += exc.problems
            continue
        if case.id in seen:  # the same file name in two sub-folders
            problems.append(Problem(p.name, "id", None, f"{case.id!r} is also the id of {seen[case.id]}"))
        seen[case.id] = p
        cases.append(case)
    if problems:
        raise CaseDataError(problems)
    return tuple(cases)


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    """Every case under `directory`, validated (cached per directory; fails loudly naming file, field, line)."""
    return list(_load_all(directory))


def case_by_id(case_id: str, directory: Path = CASES_DIR) -> Case:
    for case in _load_all(directory):
        if case.id == case_id:
            return case
    raise KeyError(case_id)
