"""`python -m mas_screen cases check DIR`: validate a folder of cases for CI.

Every *.yaml under DIR (sub-folders too) is read with the schema (file, field and line in each
message), its references resolved, its claims checked against what the core computes, near misses
and expected warnings checked, and a published case's values compared with the paper's. Exit 0
when every case passes, 1 when any fails (or there is none), 2 when DIR cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mas_screen.faces.teaching.claims import check_case
from mas_screen.faces.teaching.loading import case_files, load_case_file
from mas_screen.faces.teaching.schema import Case, CaseDataError, Problem

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


@dataclass(slots=True)
class CaseReport:
    file: str
    case: Case | None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.case is not None and not self.problems


def _notes(case: Case) -> list[str]:
    notes = []
    if case.version == 1:
        notes.append("version 1: no authored reading or ranked next steps, so practice cannot grade the clinical call")
    for i, (_t, panel) in enumerate(case.panels_in_order()):
        if not case.published:
            break
        listed = {
            pv.key
            for pv in case.source.published_values  # type: ignore[union-attr]
            if pv.panel == case.panels.index(panel)
        }
        unmarked = [k for k in panel.labs if k not in listed and k not in (panel.adapted or {})]
        if unmarked:
            notes.append(
                f"panel {i} ({panel.label or panel.time}): {', '.join(unmarked)} neither in published_values "
                "nor under adapted"
            )
    return notes


def check_file(path: Path, root: Path) -> CaseReport:
    shown = path.relative_to(root).as_posix()
    try:
        case = load_case_file(path)
    except CaseDataError as exc:
        return CaseReport(shown, None, [_relabel(p, shown) for p in exc.problems])
    return CaseReport(shown, case, [_relabel(p, shown) for p in check_case(case, path.name)], _notes(case))


def _relabel(problem: Problem, shown: str) -> Problem:
    return Problem(shown, problem.field, problem.line, problem.message)


def check_folder(directory: Path) -> tuple[int, list[str]]:
    """(exit code, report lines) for every case under `directory`."""
    if not directory.exists():
        return EXIT_UNREADABLE, [f"cases check: {directory} does not exist"]
    if not directory.is_dir():
        return EXIT_UNREADABLE, [f"cases check: {directory} is not a folder"]
    try:
        paths = case_files(directory)
    except OSError as exc:
        return EXIT_UNREADABLE, [f"cases check: cannot read {directory}: {exc.strerror or exc}"]
    if not paths:
        return EXIT_FAILED, [f"cases check: no *.yaml case files under {directory}"]
    reports = [check_file(p, directory) for p in paths]
    seen: dict[str, str] = {}
    for r in reports:
        if r.case is None:
            continue
        if r.case.id in seen:
            r.problems.append(Problem(r.file, "id", None, f"{r.case.id!r} is also the id of {seen[r.case.id]}"))
        seen.setdefault(r.case.id, r.file)
    lines: list[str] = []
    for r in reports:
        if r.ok:
            c = r.case
            assert c is not None
            n = len(c.panels)
            lines.append(
                f"ok    {r.file} (version {c.version}, {n} panel{'s' if n != 1 else ''}, {c.source_kind}, "
                f"themes: {', '.join(c.themes) or '-'})"
            )
        else:
            lines.append(f"FAIL  {r.file}")
            lines += [f"      {p}" for p in r.problems]
        lines += [f"      note: {n}" for n in r.notes]
    failed = sum(not r.ok for r in reports)
    lines.append(f"{len(reports)} case file(s): {len(reports) - failed} pass, {failed} fail")
    return (EXIT_FAILED if failed else EXIT_OK), lines
