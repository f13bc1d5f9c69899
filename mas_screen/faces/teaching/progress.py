"""A trainee's practice progress: one record per answered panel, summarised by skill and by theme.

Progress lives in the browser session; the trainee may download it as a small JSON file and load
it next time. Nothing is stored on the server. The file holds case ids, panel times and scores
only (no free text), and is read back with size, count and schema limits, so a hostile or
corrupt file is refused with a clear message and never half-loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mas_screen.faces.teaching.grading import SKILLS, Feedback, SkillScore
from mas_screen.faces.teaching.schema import Case, CaseId, Theme

FORMAT = "mas-screen-practice-progress"
MAX_PROGRESS_BYTES = 256_000
MAX_RECORDS = 2_000
MAX_POSITIONS = 1_000


class ProgressError(ValueError):
    """A progress file that cannot be loaded (the message says why, in words)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Score(_Strict):
    earned: float = Field(ge=0, le=100)
    possible: float = Field(ge=0, le=100)


class PanelRecord(_Strict):
    """One answered panel: which case and panel, its themes, and the score per skill."""

    case_id: CaseId
    time: Annotated[str, StringConstraints(max_length=40)]
    themes: list[Theme] = Field(default_factory=list, max_length=17)
    difficulty: Literal[1, 2, 3] | None = None
    published: bool = False
    skills: dict[Literal["interpretation", "population", "next_step", "arithmetic"], Score]


class Progress(_Strict):
    format: Literal["mas-screen-practice-progress"] = FORMAT
    version: Literal[1] = 1
    records: list[PanelRecord] = Field(default_factory=list, max_length=MAX_RECORDS)
    positions: dict[CaseId, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=dict, max_length=MAX_POSITIONS
    )  # case id -> index of the panel being answered

    def add(self, record: PanelRecord) -> None:
        """Add (or replace: a panel answered again counts once, the latest answer) one record."""
        self.records = [r for r in self.records if (r.case_id, r.time) != (record.case_id, record.time)]
        self.records.append(record)
        if len(self.records) > MAX_RECORDS:
            self.records = self.records[-MAX_RECORDS:]

    def merged(self, other: Progress) -> Progress:
        """This session's progress with a loaded file's: the same panel counts once (this session's
        answer wins), positions from the file unless this session has moved further."""
        out = Progress(records=list(other.records), positions=dict(other.positions))
        for r in self.records:
            out.add(r)
        for case_id, index in self.positions.items():
            out.positions[case_id] = max(index, out.positions.get(case_id, 0))
        if len(out.positions) > MAX_POSITIONS:
            out.positions = dict(list(out.positions.items())[-MAX_POSITIONS:])
        return out


def record(case: Case, feedback: Feedback) -> PanelRecord:
    return PanelRecord(
        case_id=case.id,
        time=feedback.time,
        themes=list(dict.fromkeys(case.themes)),
        difficulty=case.difficulty,
        published=case.published,
        skills={k: Score(earned=v.earned, possible=v.possible) for k, v in feedback.skills.items()},
    )


def dumps(progress: Progress) -> bytes:
    return progress.model_dump_json(indent=1).encode("utf-8")


def loads(raw: bytes) -> Progress:
    """Read a progress file; raises ProgressError saying what is wrong."""
    if len(raw) > MAX_PROGRESS_BYTES:
        raise ProgressError(f"the file is larger than {MAX_PROGRESS_BYTES // 1000} kB: not a progress file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProgressError("the file is not UTF-8 text: not a progress file") from exc
    except json.JSONDecodeError as exc:
        raise ProgressError(f"the file is not JSON (line {exc.lineno}: {exc.msg})") from exc
    except (RecursionError, ValueError) as exc:
        raise ProgressError("the file cannot be read as JSON") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProgressError(
            "not a MAS Screen practice progress file (it has no 'format: mas-screen-practice-progress')"
        )
    try:
        return Progress.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise ProgressError(
            f"the file does not match the progress format at {where}: {first['msg']} "
            f"({exc.error_count()} problem(s) in all); nothing was loaded"
        ) from exc


# -------------------------------------------------------------------------------------- summary


class SessionSummary(BaseModel):
    panels: int
    cases: int
    total: SkillScore
    by_skill: dict[str, SkillScore]
    by_theme: dict[str, dict[str, SkillScore]]  # theme -> skill -> score
    weakest_skill: str | None  # the skill with the lowest share earned (at least one panel graded)


def _score(s: Score) -> SkillScore:
    return SkillScore(earned=s.earned, possible=s.possible)


def summarise(records: Iterable[PanelRecord]) -> SessionSummary:
    records = list(records)
    by_skill = {k: SkillScore() for k in SKILLS}
    by_theme: dict[str, dict[str, SkillScore]] = {}
    for r in records:
        for skill, s in r.skills.items():
            by_skill[skill] = by_skill[skill].add(_score(s))
            for theme in r.themes or ["(no theme)"]:
                row = by_theme.setdefault(theme, {k: SkillScore() for k in SKILLS})
                row[skill] = row[skill].add(_score(s))
    total = SkillScore()
    for s in by_skill.values():
        total = total.add(s)
    graded = {k: s.earned / s.possible for k, s in by_skill.items() if s.possible}
    weakest = min(graded, key=lambda k: (graded[k], SKILLS.index(k))) if graded else None
    return SessionSummary(
        panels=len(records),
        cases=len({r.case_id for r in records}),
        total=total,
        by_skill=by_skill,
        by_theme=dict(sorted(by_theme.items())),
        weakest_skill=weakest,
    )
