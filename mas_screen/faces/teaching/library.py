"""The case browser: filters (population, theme, difficulty, published vs constructed), a random case
from a theme, and neutral names that do not give the answer away."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mas_screen.domain.models import DISEASE_LABELS
from mas_screen.faces.teaching.schema import THEME_LABELS, Case

Population = Literal["sjia", "aosd", "sle", "other"]
POPULATION_LABELS: dict[str, str] = {
    "sjia": "Systemic JIA (known or suspected)",
    "aosd": "Adult-onset Still's disease",
    "sle": "Lupus (SLE)",
    "other": "Other or unknown underlying disease",
}
_POPULATION_OF_DISEASE = {"sjia": "sjia", "suspected_sjia": "sjia", "aosd": "aosd", "sle": "sle"}
SourceKind = Literal["any", "published", "constructed"]
SOURCE_LABELS = {"any": "Any source", "published": "Adapted from a published report", "constructed": "Constructed"}
DIFFICULTY_LABELS = {1: "1 · introductory", 2: "2 · intermediate", 3: "3 · advanced"}


def population_of(case: Case) -> Population:
    """The patient population a case belongs to (its underlying disease at presentation)."""
    return _POPULATION_OF_DISEASE.get(case.context.disease, "other")  # type: ignore[return-value]


class CaseFilter(BaseModel):
    """What the browser shows; an empty set means 'any'."""

    model_config = ConfigDict(extra="forbid")
    populations: set[Population] = Field(default_factory=set)
    themes: set[str] = Field(default_factory=set)
    difficulties: set[int] = Field(default_factory=set)
    source: SourceKind = "any"

    def admits(self, case: Case) -> bool:
        if self.populations and population_of(case) not in self.populations:
            return False
        if self.themes and not self.themes & set(case.themes):
            return False
        if self.difficulties and case.difficulty not in self.difficulties:
            return False
        return self.source == "any" or case.source_kind == self.source


def filter_cases(cases: Iterable[Case], chosen: CaseFilter) -> list[Case]:
    return [c for c in cases if chosen.admits(c)]


def themes_in(cases: Iterable[Case]) -> dict[str, int]:
    """Each theme used by the cases with how many cases carry it, in the vocabulary's order."""
    counts: dict[str, int] = dict.fromkeys(THEME_LABELS, 0)
    for c in cases:
        for t in set(c.themes):
            counts[t] += 1
    return {t: n for t, n in counts.items() if n}


def random_case(
    cases: Sequence[Case],
    theme: str | None = None,
    *,
    avoid: Iterable[str] = (),
    rng: random.Random | None = None,
) -> Case | None:
    """A case at random (from one theme when given), preferring cases not in `avoid` (done or current)."""
    rng = rng or random.Random()
    pool = [c for c in cases if theme is None or theme in c.themes]
    if not pool:
        return None
    avoid = set(avoid)
    fresh = [c for c in pool if c.id not in avoid]
    return rng.choice(fresh or pool)


def age_words(age: object) -> str:
    try:
        years = float(age)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "age not known"
    if years < 2:
        months = round(years * 12)
        return f"{months} month{'s' if months != 1 else ''} old"
    return f"{years:g} years old"


def neutral_name(case: Case, number: int) -> str:
    """'Case 3 · 7 years old · Systemic JIA': the title would give the answer away before practice."""
    disease = case.context.disease
    words = {"other": "another underlying disease", "unknown": "underlying disease not known"}.get(
        disease, DISEASE_LABELS[disease]
    )
    return f"Case {number} · {age_words(case.context.age_years)} · {words}"


def practice_order(cases: Sequence[Case]) -> list[Case]:
    """The order a trainee meets the library: introductory first, children before adults within a
    difficulty (the library should not open on a 46-year-old), threshold near misses after the
    clinical cases of their level, then by id for stability."""

    def age(c: Case) -> float:
        try:
            return float(c.context.age_years)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 99.0

    return sorted(cases, key=lambda c: (c.difficulty or 2, age(c) >= 18, "near-miss" in c.themes, c.id))
