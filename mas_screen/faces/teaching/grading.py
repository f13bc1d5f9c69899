"""Practice grading that weighs clinical judgement above arithmetic.

Per panel the trainee answers four questions, weighted in this order (WEIGHTS):

1. **Interpretation**: the clinical reading (MAS / flare / primary HLH / other HLH / not enough
   data), judged against the case author's reading and its rationale, never against the engine.
   The screen's own summary is shown beside it, as what the criteria compute.
2. **Population**: which instruments apply to this patient, i.e. the instruments built for the
   patient's underlying disease (`own_instruments`). Partial credit for overlap.
3. **Next step**: one option from the author's ranked list: best = full credit, acceptable =
   half, unhelpful = none (with the author's reason).
4. **Arithmetic**: which of the patient's own instruments are met, graded item by item against
   what the core computes. Other populations' instruments are shown as "not for this patient,
   and why", never graded.

A version-1 case has no authored answer per panel: its reading is graded only at the last panel
against `expected_interpretation`, and the next step is not graded.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.criteria.references import full_citation, link, short_citation
from mas_screen.criteria.schema import CONTRACT_IDS
from mas_screen.domain.models import (
    DISEASE_LABELS,
    Assessment,
    ClinicalContext,
    CriterionResult,
    ItemResult,
    field_label,
)
from mas_screen.domain.units import format_number
from mas_screen.explain.phrases import result_phrase
from mas_screen.explain.summary import policy, supporting_instruments
from mas_screen.faces.teaching.claims import compute
from mas_screen.faces.teaching.schema import (
    READING_LABELS,
    READING_OF_INTERPRETATION,
    Case,
    NextStep,
    Reading,
    normal_time,
)
from mas_screen.kernel.signals import own_instruments as policy_own_instruments

Skill = Literal["interpretation", "population", "next_step", "arithmetic"]
SKILLS: tuple[Skill, ...] = ("interpretation", "population", "next_step", "arithmetic")
SKILL_LABELS: dict[str, str] = {
    "interpretation": "Interpretation (the clinical reading)",
    "population": "Population (which instruments apply)",
    "next_step": "Next step",
    "arithmetic": "Arithmetic (own instruments met)",
}
WEIGHTS: dict[str, float] = {"interpretation": 4, "population": 3, "next_step": 2, "arithmetic": 1}
GRADE_CREDIT: dict[str, float] = {"best": 1.0, "acceptable": 0.5, "unhelpful": 0.0}
MasInstrument = Literal["mas2016", "ms_score", "hscore", "hlh2004", "parodi2009", "ohi"]
MAS_INSTRUMENTS: tuple[str, ...] = tuple(policy().mas_instruments)  # the instruments that can decide a screen
if set(MAS_INSTRUMENTS) != set(MasInstrument.__args__):  # the answer type must follow the policy data
    raise RuntimeError(f"criteria/policy.yaml lists mas_instruments {MAS_INSTRUMENTS}; update MasInstrument")
COMPARISON_INSTRUMENTS = tuple(i for i in CONTRACT_IDS if i not in MAS_INSTRUMENTS)  # MH score, ferritin:ESR


def own_instruments(disease: str | None) -> tuple[str, ...]:
    """The instruments built for a patient's underlying disease (contract "The patient's own
    instruments", criteria/policy.yaml `populations`): the one place practice reads that table."""
    return policy_own_instruments(disease or "unknown")


# -------------------------------------------------------------------------------------- the answer


class PracticeAnswer(BaseModel):
    """A trainee's committed answer at one panel (None: not answered)."""

    model_config = ConfigDict(extra="forbid")
    reading: Reading | None = None
    applies: set[MasInstrument] | None = None  # the instruments the trainee says apply to this patient
    next_step: str | None = None  # the id of one of the case's next steps at this panel
    met: set[MasInstrument] = Field(default_factory=set)  # which instruments the trainee says are met


# ------------------------------------------------------------------------------------- feedback


class Citation(BaseModel):
    key: str
    short: str
    full: str
    url: str | None


def citation(key: str) -> Citation:
    return Citation(key=key, short=short_citation(key), full=full_citation(key), url=link(key))


class SkillScore(BaseModel):
    earned: float = 0.0
    possible: float = 0.0

    def add(self, other: SkillScore) -> SkillScore:
        return SkillScore(earned=self.earned + other.earned, possible=self.possible + other.possible)

    @property
    def percent(self) -> int | None:
        return round(100 * self.earned / self.possible) if self.possible else None


class ReadingFeedback(BaseModel):
    answered: Reading | None
    expected: Reading | None  # None: the case gives no reading for this panel (not graded)
    correct: bool | None
    score: SkillScore
    rationale: str | None
    references: list[Citation]
    screen_headline: str  # what the screen computes, shown beside the author's reading
    screen_signal: str
    explanation: str


class InstrumentWhy(BaseModel):
    id: str
    name: str
    applies: bool  # one of this patient's own instruments
    chosen: bool | None  # the trainee's answer (None: not answered)
    why: str


class PopulationFeedback(BaseModel):
    answered: list[str] | None
    own: list[str]
    missed: list[str]
    extra: list[str]
    correct: bool
    score: SkillScore
    explanation: str
    instruments: list[InstrumentWhy]


class NextStepOption(BaseModel):
    id: str
    text: str
    grade: str
    rationale: str
    references: list[Citation]


class NextStepFeedback(BaseModel):
    answered: str | None
    answered_text: str | None
    grade: str | None  # the author's grade of the answer (None: not answered or not graded)
    score: SkillScore
    explanation: str
    options: list[NextStepOption]  # best first, as the author ranked them


class ItemFeedback(BaseModel):
    id: str
    label: str
    entered: str | None  # what was entered, as typed
    value_text: str | None  # in the criterion's published unit
    rule: str | None  # the item's threshold text, e.g. '> 684 ng/mL'
    result: str  # met / not_met / missing
    points: float | None
    counted: bool
    citation: Citation | None
    components: list[ItemFeedback] = Field(default_factory=list)


class InstrumentFeedback(BaseModel):
    """One of the patient's own instruments: the trainee's answer against the computation."""

    id: str
    name: str
    expected_status: str
    answered_met: bool
    correct: bool
    explanation: str
    score_text: str | None
    missing: list[str]
    items: list[ItemFeedback]
    citations: list[Citation]
    caveats: list[str]


class OtherInstrument(BaseModel):
    """An instrument that is not this patient's: computed and shown, never graded, with why."""

    id: str
    name: str
    status: str
    score_text: str | None
    answered_met: bool
    why: str


class ArithmeticFeedback(BaseModel):
    instruments: list[InstrumentFeedback]
    others: list[OtherInstrument]
    score: SkillScore


class TeachingPointOut(BaseModel):
    text: str
    citation: Citation
    claims: list[str]  # the computed findings the point relies on, in words


class Feedback(BaseModel):
    case_id: str
    time: str
    reading: ReadingFeedback
    population: PopulationFeedback
    next_step: NextStepFeedback
    arithmetic: ArithmeticFeedback
    skills: dict[str, SkillScore]
    earned: float
    possible: float
    teaching_points: list[TeachingPointOut]
    learning_objectives: list[str]

    @property
    def percent(self) -> int | None:
        return round(100 * self.earned / self.possible) if self.possible else None


# -------------------------------------------------------------------------------------- helpers


DISEASE_PHRASES = {
    "sjia": "systemic JIA",
    "suspected_sjia": "suspected systemic JIA",
    "aosd": "adult-onset Still's disease",
    "sle": "systemic lupus erythematosus",
}


def patient_words(context: ClinicalContext) -> str:
    """'a 7-year-old with systemic JIA', 'a 4-month-old, underlying disease unknown'."""
    age = context.age_years
    try:
        years = float(age) if age is not None else None
    except (TypeError, ValueError):
        years = None
    if years is None:
        who = "a patient of unknown age"
    elif years < 2:
        months = round(years * 12)
        who = f"a {months}-month-old"
    else:
        who = f"a {format_number(round(years, 1))}-year-old"
    disease = context.disease
    if disease == "unknown":
        return f"{who}, underlying disease not known"
    if disease == "other":
        return f"{who} with another underlying disease"
    return f"{who} with {DISEASE_PHRASES.get(disease, DISEASE_LABELS[disease])}"


def _population_text(iid: str) -> str:
    text = criteria().instruments[iid].population.description.rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def instrument_why(iid: str, context: ClinicalContext, result: CriterionResult | None = None) -> str:
    """Why an instrument is, or is not, one of this patient's (from its derivation population)."""
    own = own_instruments(context.underlying_disease)
    name = criteria().instruments[iid].short_name
    built = f"built for {_population_text(iid)}"
    if iid in own:
        return f"{name}: {built}. This patient's population: it decides the screen."
    if iid in supporting_instruments(context.underlying_disease or "unknown"):
        return f"{name}: supports or weighs against MAS in this population, never decides the screen alone; {built}."
    if iid in COMPARISON_INSTRUMENTS:
        purpose = criteria().instruments[iid].purpose.rstrip(".")
        return f"{name}: a comparison that never decides the screen on its own ({purpose[:1].lower() + purpose[1:]}); {built}."
    text = f"{name}: not for this patient ({patient_words(context)}); {built}."
    if result is not None and result.status == "met":
        text += " Met here, which is indicative only: in this patient the underlying disease itself may meet it."
    return text


def _score_text(r: CriterionResult) -> str | None:
    """The result as every face phrases it (explain.phrases), or None when there is none."""
    return result_phrase(r) or None


def _item_feedback(item: ItemResult) -> ItemFeedback:
    return ItemFeedback(
        id=item.id,
        label=item.label,
        entered=item.display,
        value_text=item.value_text,
        rule=item.threshold,
        result=item.result,
        points=item.points,
        counted=item.counted,
        citation=citation(item.source) if item.source else None,
        components=[_item_feedback(c) for c in item.components or []],
    )


def shuffled_next_steps(case: Case, time: str) -> list[NextStep]:
    """The panel's next steps in the order a trainee sees them: shuffled, the same on every rerun."""
    steps = list(case.panel_at(time).next_steps or [])
    random.Random(f"{case.id}@{normal_time(time)}").shuffle(steps)
    return steps


def ranked_next_steps(case: Case, time: str) -> list[NextStep]:
    """Best first, then acceptable, then unhelpful (the author's order within each grade)."""
    order = {"best": 0, "acceptable": 1, "unhelpful": 2}
    return sorted(case.panel_at(time).next_steps or [], key=lambda s: order[s.grade])


def expected_reading(case: Case, time: str) -> tuple[Reading | None, str | None, list[str]]:
    """The author's reading at a panel with its rationale and references (version 1: the case-level
    reading at the last panel only)."""
    panel = case.panel_at(time)
    if panel.answer is not None:
        return panel.answer.reading, panel.answer.rationale, list(panel.answer.references)
    if normal_time(time) == case.times[-1] and case.expected_interpretation is not None:
        declared = READING_OF_INTERPRETATION.get(case.expected_interpretation, case.expected_interpretation)
        return declared, None, []  # type: ignore[return-value]
    return None, None, []


def resolve_time(case: Case, at_time: str | None) -> str:
    times = case.times
    if at_time in (None, "last"):
        return times[-1]
    if at_time == "first":
        return times[0]
    normal = normal_time(at_time)
    if normal not in times:
        raise KeyError(f"no panel at {at_time!r} in case {case.id}")
    return normal


# -------------------------------------------------------------------------------------- grading


def _grade_reading(case: Case, time: str, a: Assessment, answered: Reading | None) -> ReadingFeedback:
    expected, rationale, refs = expected_reading(case, time)
    s = a.summary
    if expected is None:
        score = SkillScore()
        correct = None
        text = "This case gives no authored reading for this panel: not graded."
    else:
        correct = answered == expected
        score = SkillScore(earned=WEIGHTS["interpretation"] if correct else 0.0, possible=WEIGHTS["interpretation"])
        said = READING_LABELS[answered] if answered else "nothing"
        if correct:
            text = f"Right: {READING_LABELS[expected]}."
        else:
            text = f"You said: {said}. The case author reads this panel as: {READING_LABELS[expected]}."
        if rationale is None:
            text += " (A version-1 case: the author gives the reading without a rationale.)"
    return ReadingFeedback(
        answered=answered,
        expected=expected,
        correct=correct,
        score=score,
        rationale=rationale,
        references=[citation(k) for k in refs],
        screen_headline=s.headline,
        screen_signal=s.mas_signal,
        explanation=text,
    )


def _grade_population(context: ClinicalContext, a: Assessment, answered: set[str] | None) -> PopulationFeedback:
    own = list(own_instruments(context.underlying_disease))
    chosen = set(answered) if answered is not None else None
    missed = [i for i in own if chosen is None or i not in chosen]
    extra = [i for i in MAS_INSTRUMENTS if chosen is not None and i in chosen and i not in own]
    if chosen is None:
        credit = 0.0
    else:
        union = set(own) | chosen
        credit = len(set(own) & chosen) / len(union) if union else 0.0
    correct = chosen is not None and chosen == set(own)
    names = [criteria().instruments[i].short_name for i in own]
    who = f"For {patient_words(context)}"
    text = f"{who}, the instruments that decide the screen are {' and '.join(names)}."
    if chosen is None:
        text = "Not answered. " + text
    else:
        if missed:
            text += " You left out " + ", ".join(criteria().instruments[i].short_name for i in missed) + "."
        if extra:
            text += (
                " You included "
                + ", ".join(criteria().instruments[i].short_name for i in extra)
                + ", built for other populations: in this patient they are indicative only."
            )
    rows = [
        InstrumentWhy(
            id=i,
            name=criteria().instruments[i].short_name,
            applies=i in own,
            chosen=None if chosen is None else i in chosen,
            why=instrument_why(i, context, a.criteria[i]),
        )
        for i in MAS_INSTRUMENTS
    ]
    return PopulationFeedback(
        answered=sorted(chosen, key=list(MAS_INSTRUMENTS).index) if chosen is not None else None,
        own=own,
        missed=missed,
        extra=extra,
        correct=correct,
        score=SkillScore(earned=round(credit * WEIGHTS["population"], 2), possible=WEIGHTS["population"]),
        explanation=text,
        instruments=rows,
    )


def _grade_next_step(case: Case, time: str, answered: str | None) -> NextStepFeedback:
    steps = ranked_next_steps(case, time)
    options = [
        NextStepOption(
            id=s.id, text=s.text, grade=s.grade, rationale=s.rationale, references=[citation(k) for k in s.references]
        )
        for s in steps
    ]
    if not steps:
        return NextStepFeedback(
            answered=answered,
            answered_text=None,
            grade=None,
            score=SkillScore(),
            explanation="This case gives no ranked next steps for this panel: not graded.",
            options=[],
        )
    chosen = next((s for s in steps if s.id == answered), None)
    possible = WEIGHTS["next_step"]
    best = [s.text for s in steps if s.grade == "best"]
    if chosen is None:
        return NextStepFeedback(
            answered=answered,
            answered_text=None,
            grade=None,
            score=SkillScore(possible=possible),
            explanation="Not answered. The author's best: " + "; ".join(best) + ".",
            options=options,
        )
    earned = GRADE_CREDIT[chosen.grade] * possible
    if chosen.grade == "best":
        text = f"Best choice. {chosen.rationale}"
    elif chosen.grade == "acceptable":
        text = f"Acceptable, not the best (half credit). {chosen.rationale} The author's best: " + "; ".join(best) + "."
    else:
        text = f"Unhelpful here (no credit). {chosen.rationale} The author's best: " + "; ".join(best) + "."
    return NextStepFeedback(
        answered=chosen.id,
        answered_text=chosen.text,
        grade=chosen.grade,
        score=SkillScore(earned=earned, possible=possible),
        explanation=text,
        options=options,
    )


def _instrument_feedback(r: CriterionResult, answered_met: bool) -> InstrumentFeedback:
    expected_met = r.status == "met"
    correct = expected_met == answered_met
    if r.status == "met":
        why = "Met." if correct else "Not ticked, but the criteria are met."
    elif r.status == "not_met":
        why = "Not met." if correct else "Ticked, but the criteria are not met."
    else:
        why = "Indeterminate: the missing inputs could still change it, so it is not met yet" + (
            f" (missing: {', '.join(field_label(k) for k in r.missing)})." if r.missing else "."
        )
        if not correct:
            why = "Ticked, but it cannot be met yet. " + why
    return InstrumentFeedback(
        id=r.id,
        name=r.name,
        expected_status=r.status,
        answered_met=answered_met,
        correct=correct,
        explanation=why,
        score_text=_score_text(r),
        missing=list(r.missing),
        items=[_item_feedback(it) for it in r.items],
        citations=[citation(k) for k in r.references],
        caveats=list(r.caveats),
    )


def _grade_arithmetic(context: ClinicalContext, a: Assessment, met: set[str]) -> ArithmeticFeedback:
    own = own_instruments(context.underlying_disease)
    graded = [_instrument_feedback(a.criteria[i], i in met) for i in own]
    others = [
        OtherInstrument(
            id=i,
            name=a.criteria[i].short_name,
            status=a.criteria[i].status,
            score_text=_score_text(a.criteria[i]),
            answered_met=i in met,
            why=instrument_why(i, context, a.criteria[i]),
        )
        for i in instrument_ids()
        if i not in own
    ]
    right = sum(f.correct for f in graded)
    possible = WEIGHTS["arithmetic"]
    earned = round(possible * right / len(graded), 2) if graded else 0.0
    return ArithmeticFeedback(instruments=graded, others=others, score=SkillScore(earned=earned, possible=possible))


def teaching_points_out(case: Case) -> list[TeachingPointOut]:
    return [
        TeachingPointOut(text=tp.text, citation=citation(tp.citation), claims=[c.describe() for c in tp.claims])
        for tp in case.teaching_points
    ]


def grade(case: Case, answer: PracticeAnswer, at_time: str | None = None) -> Feedback:
    """Grade a trainee's answer at one panel (the last by default)."""
    result = compute(case)
    time = resolve_time(case, at_time)
    a = result.at(time)
    context = result.context_at(case, time)
    reading = _grade_reading(case, time, a, answer.reading)
    population = _grade_population(context, a, answer.applies)
    step = _grade_next_step(case, time, answer.next_step)
    arithmetic = _grade_arithmetic(context, a, set(answer.met))
    skills = {
        "interpretation": reading.score,
        "population": population.score,
        "next_step": step.score,
        "arithmetic": arithmetic.score,
    }
    return Feedback(
        case_id=case.id,
        time=time,
        reading=reading,
        population=population,
        next_step=step,
        arithmetic=arithmetic,
        skills=skills,
        earned=round(sum(s.earned for s in skills.values()), 2),
        possible=sum(s.possible for s in skills.values()),
        teaching_points=teaching_points_out(case),
        learning_objectives=list(case.learning_objectives),
    )


def model_answer(case: Case, at_time: str | None = None) -> PracticeAnswer:
    """The answer that earns full credit (for 'show me' and for tests)."""
    result = compute(case)
    time = resolve_time(case, at_time)
    a = result.at(time)
    context = result.context_at(case, time)
    expected, _rationale, _refs = expected_reading(case, time)
    best = next((s.id for s in ranked_next_steps(case, time) if s.grade == "best"), None)
    own = own_instruments(context.underlying_disease)
    return PracticeAnswer(
        reading=expected,
        applies=set(own),
        next_step=best,
        met={i for i in own if a.criteria[i].status == "met"},
    )
