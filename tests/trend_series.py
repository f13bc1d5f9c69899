"""Hand-built TrendResults for the trend figure tests (the way trends.assess_series will build them:
one Assessment per dated panel, each lab's change in its canonical unit, first time met)."""

from __future__ import annotations

from datetime import datetime

from mas_screen import PatientInput, assess
from mas_screen.criteria.loading import criteria
from mas_screen.domain.series import Change, TrendPoint, TrendResult
from mas_screen.kernel.inputs.facts import normalise


def build_series(panels: list[tuple[str, dict]], context: dict | None = None) -> TrendResult:
    """`panels`: (ISO time, labs as in PatientInput) in time order."""
    analytes = criteria().analytes.analytes
    points: list[TrendPoint] = []
    changes: dict[str, list[Change]] = {}
    first_met: dict[str, str | None] = {}
    for row, (time, labs) in enumerate(panels):
        patient = PatientInput.model_validate({"context": context or {}, "labs": labs})
        a = assess(patient)
        points.append(TrendPoint(time=time, row=row, assessment=a))
        for iid, r in a.criteria.items():
            if first_met.get(iid) is None:
                first_met[iid] = time if r.status == "met" else None
        facts, _ = normalise(patient)
        for key, fact in facts.labs.items():
            spec = analytes[key]
            unit = spec.unit(spec.default_unit)
            value = None if fact.parsed.op else float(fact.value_in(unit))
            c = Change(
                time=time,
                value=value,
                value_text=fact.display(unit),
                unit=unit.unit,
                row=row,
                input=fact.display(),
                op=fact.parsed.op,
                bound=None if value is not None else float(fact.value_in(unit)),
            )
            earlier = changes.setdefault(key, [])
            if earlier and value is not None:
                first, prev = earlier[0], earlier[-1]
                if first.value is not None:
                    c.change_from_first = value - first.value
                    c.change_from_first_percent = (value - first.value) / first.value * 100 if first.value else None
                if prev.value is not None:
                    c.change_from_previous = value - prev.value
                    c.change_from_previous_percent = (value - prev.value) / prev.value * 100 if prev.value else None
                    days = (datetime.fromisoformat(time) - datetime.fromisoformat(prev.time)).total_seconds() / 86400
                    c.per_day_from_previous = (value - prev.value) / days if days else None
                    c.direction = "up" if value > prev.value else "down" if value < prev.value else "same"
            earlier.append(c)
    return TrendResult(points=points, changes=changes, first_met=first_met)
