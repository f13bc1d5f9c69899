"""The projector stage: a case as a sequence of screens, one idea each, that fit a 16:9 slide.

The stage is laid out on a fixed 1280 × 720 canvas that the browser scales to the screen (so a
1920 × 1080 projector, or a laptop at 150 % zoom, shows the same slide, never a scroll bar). What
would not fit one slide is split here, by budget, into several: a long story or rationale into
parts at sentence ends, a long lab list into tables of at most LAB_ROWS rows, each teaching point
on a screen of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mas_screen.domain.series import TREND_ANALYTES
from mas_screen.faces.teaching.schema import Case

KEY_LABS = TREND_ANALYTES[:3]  # platelets, ferritin, AST: the consensus's "change matters most"

CANVAS = (1280, 720)
TEXT_BUDGET = 620  # characters of running text on one slide at the stage's type size
STEPS_BUDGET = 760  # characters of next-step text and rationale on one slide
LAB_ROWS = 9  # rows of one lab table
LAB_COLUMNS = 4  # panels side by side (the current one and up to three before it)


@dataclass(frozen=True, slots=True)
class Screen:
    kind: str
    panel: int = 0
    part: int = 0
    parts: int = 1
    items: tuple = ()  # what this part shows (lab keys, text, step ids, a teaching point index)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.panel}:{self.part}"


def split_text(text: str, budget: int = TEXT_BUDGET) -> list[str]:
    """Text in parts of at most `budget` characters, cut at sentence ends (a sentence longer than
    the budget is cut at a word)."""
    text = " ".join(text.split())
    if len(text) <= budget:
        return [text] if text else []
    sentences = re.split(r"(?<=[.!?;:])\s+", text)
    parts: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > budget:
            cut = sentence.rfind(" ", budget // 2, budget)  # a word break in the second half, else a hard cut
            cut = cut if cut > 0 else budget
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:cut] + " …")
            sentence = "… " + sentence[cut:].strip()
        candidate = f"{current} {sentence}".strip()
        if len(candidate) > budget and current:
            parts.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _steps_parts(case: Case, index: int) -> list[list[str]]:
    panel = case.panels_in_order()[index][1]
    order = {"best": 0, "acceptable": 1, "unhelpful": 2}
    steps = sorted(panel.next_steps or [], key=lambda s: order[s.grade])
    parts: list[list[str]] = []
    current: list[str] = []
    used = 0
    for s in steps:
        size = len(s.text) + len(s.rationale) + 40
        if current and used + size > STEPS_BUDGET:
            parts.append(current)
            current, used = [], 0
        current.append(s.id)
        used += size
    if current:
        parts.append(current)
    return parts


def _parts(kind: str, panel: int, chunks: list) -> list[Screen]:
    return [Screen(kind, panel, k, len(chunks), tuple(chunk)) for k, chunk in enumerate(chunks)]


def case_screens(case: Case, lab_keys: list[list[str]]) -> list[Screen]:
    """Every screen of a case in presentation order. `lab_keys[i]`: the labs shown at panel i (in
    report order, up to and including that panel), which the stage splits into tables."""
    screens: list[Screen] = [Screen("title")]
    screens += _parts("story", 0, [[t] for t in split_text(case.story)])
    screens.append(Screen("patient"))
    panels = case.panels_in_order()
    for i, (_time, panel) in enumerate(panels):
        if i > 0 and panel.story:
            screens += _parts("panel_story", i, [[t] for t in split_text(panel.story)])
        screens += _parts("labs", i, _chunks(lab_keys[i], LAB_ROWS))
        if panel.answer is not None:
            screens.append(Screen("reading_question", i))
        if panel.next_steps:
            screens.append(Screen("step_question", i))
        screens.append(Screen("criteria", i))
        if panel.answer is not None:
            screens += _parts("reading_answer", i, [[t] for t in split_text(panel.answer.rationale)])
        if panel.next_steps:
            screens += _parts("step_answer", i, _steps_parts(case, i))
        if i > 0:
            screens.append(Screen("timeline", i))
            keys = [a for a in KEY_LABS if a in lab_keys[i]]
            screens += _parts("trend", i, [[a] for a in keys])
    last = len(panels) - 1
    for k, tp in enumerate(case.teaching_points):
        screens.append(Screen("teaching", last, k, len(case.teaching_points), (k, tp.text)))
    screens.append(Screen("objectives", last))
    return screens


NEXT_LABELS = {
    "title": "The case",
    "story": "The story",
    "patient": "The patient",
    "panel_story": "What happened since",
    "labs": "The labs",
    "reading_question": "Your reading?",
    "step_question": "What next?",
    "criteria": "What the criteria say",
    "reading_answer": "The author's reading",
    "step_answer": "Next steps, ranked",
    "timeline": "Each instrument over time",
    "trend": "Over time",
    "teaching": "Teaching point",
    "objectives": "Learning objectives",
}


def next_label(screen: Screen) -> str:
    """The Next button's words: where it leads."""
    label = NEXT_LABELS.get(screen.kind, "Next")
    if screen.kind == "trend" and screen.items:
        return f"{label}: {LAB_NAMES.get(screen.items[0], screen.items[0])}"
    if screen.parts > 1 and screen.kind != "teaching":
        label += f" ({screen.part + 1}/{screen.parts})"
    if screen.kind == "teaching":
        label += f" {screen.part + 1}/{screen.parts}"
    return label


LAB_NAMES = {"platelets": "platelets", "ferritin": "ferritin", "ast": "AST"}
EXPLORE_SCREENS = ("status", "changes", "distance", "flips")
