"""The typed schema of references/*.yaml (citations, cited teaching points) and criteria/policy.yaml
(population to own instruments, next-test tiers, headline and caveat wording)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from mas_screen.criteria.schema import DISEASES, Confirmation, _Strict
from mas_screen.criteria.spec_methods import PolicyFileMethods

# ------------------------------------------------------------------------------------- references


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # see loading.CriteriaData
    authors: str
    title: str
    journal: str | None = None
    publisher: str | None = None
    year: int
    volume: str | int | None = None
    issue: str | int | None = None
    pages: str | int | None = None
    doi: str | None = None
    url: str | None = None
    confirmation: Confirmation
    note: str | None = None


class EducationPoint(_Strict):
    text: str
    citation: str


class EducationLink(_Strict):
    label: str
    url: str
    citation: str


class EducationTopic(_Strict):
    id: str
    title: str
    applies_to: list[str]
    points: list[EducationPoint]
    links: list[EducationLink] = Field(default_factory=list)


class EducationFile(_Strict):
    topics: list[EducationTopic]


# ----------------------------------------------------------------------------------------- policy


class PopulationPolicy(_Strict):
    """The instruments built for one population: they alone decide the summary's signal."""

    instruments: list[str] = Field(min_length=1)
    supporting: list[str]
    references: list[str] = Field(min_length=1)
    confirmation: Confirmation
    note: str | None = None


class HeadlineGroup(_Strict):
    diseases: list[str] = Field(min_length=1)
    syndrome: str
    label: str  # the syndrome's short name in section titles ("Supporting HLH/MAS")


class HeadlineWords(_Strict):
    rheumatic: HeadlineGroup
    other: HeadlineGroup
    suggestive: str
    not_suggestive: str
    insufficient: str
    insufficient_enter: str
    enter_shown: int = Field(ge=1)


class OtherPopulationWords(_Strict):
    line: str
    sentence: str
    caveat: str


class TestTier(_Strict):
    id: Literal["routine", "bedside", "specialist", "history"]
    label: str
    verb: str
    keys: list[str] = Field(min_length=1)
    note: str | None = None


class CitedText(_Strict):
    text: str
    references: list[str]
    confirmation: Confirmation | None = None
    note: str | None = None


class NextStepsWords(_Strict):
    empty_form: CitedText
    decide_own: str
    specialist_only: str
    own_decided: CitedText
    more_title: str
    more_specialist: str
    more_other: str


class SentenceMerge(_Strict):
    keys: list[str] = Field(min_length=2)
    label: str


class UnconfirmedValues(_Strict):
    qualifier: str
    instruments: list[str]
    note: str | None = None


class PhlhWords(_Strict):
    instrument: str  # the instrument whose status gives summary.phlh_signal (contract)
    favours_phlh: str
    favours_mas: str
    insufficient_data: str
    outside: str


class Panel(_Strict):
    """A comparison panel of the bedside and case pages (policy.yaml `panels`)."""

    id: str
    title: str
    instruments: list[str]
    caption: str
    always: bool = False  # shown for every patient; else only when one of its instruments is the patient's own
    note: str | None = None


class ScreenCaveat(_Strict):
    """A caveat of the whole screen (policy.yaml `screen_caveats`)."""

    id: str
    when: Literal["always", "biologic_il1_or_il6", "febrile_low", "met_in_population"]
    text: str
    references: list[str]
    cited: bool = True  # the references are cited in the text ({cite}) and listed with the result
    instrument: str | None = None  # met_in_population: this instrument met ...
    diseases: list[str] | None = None  # ... with one of these underlying diseases
    under_headline: bool = False  # every face prints it right under the headline, not only with the caveats
    note: str | None = None


class PolicyFile(_Strict, PolicyFileMethods):
    """criteria/policy.yaml: population -> own instruments, next-test tiers, summary wording."""

    populations: dict[str, PopulationPolicy]
    mas_instruments: list[str]
    headline: HeadlineWords
    other_population: OtherPopulationWords
    next_test_tiers: list[TestTier]
    collapsed_tiers: list[str]
    sentence_labels: dict[str, str]
    sentence_merges: list[SentenceMerge]
    next_steps: NextStepsWords
    phlh: PhlhWords
    panels: list[Panel]
    score_gauges: list[str]
    cohort_scores: list[str]
    unconfirmed_values: UnconfirmedValues
    confirmation_words: dict[Confirmation, str]
    screen_caveats: list[ScreenCaveat]
    slow_tests: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyFile:
        if set(self.populations) != set(DISEASES):
            raise ValueError(f"populations must name exactly the diseases {', '.join(DISEASES)}")
        grouped = self.headline.rheumatic.diseases + self.headline.other.diseases
        if sorted(grouped) != sorted(DISEASES):
            raise ValueError("headline: rheumatic and other diseases must together name every disease once")
        ids = [t.id for t in self.next_test_tiers]
        if len(set(ids)) != len(ids):
            raise ValueError("next_test_tiers: a tier id is listed twice")
        keys = [k for t in self.next_test_tiers for k in t.keys]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"next_test_tiers: {', '.join(twice)} in more than one tier")
        unknown_tiers = set(self.collapsed_tiers) - set(ids)
        if unknown_tiers:
            raise ValueError(f"collapsed_tiers: unknown tier(s) {', '.join(sorted(unknown_tiers))}")
        missing_words = set(Confirmation.__args__) - set(self.confirmation_words)  # type: ignore[attr-defined]
        if missing_words:
            raise ValueError(f"confirmation_words: no words for {', '.join(sorted(missing_words))}")
        return self
