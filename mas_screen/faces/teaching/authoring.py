"""Writing a case: a starter template, a case from the guided form's fields, YAML out, and the
full check an educator sees (schema with lines, then what the core computes against the case's
claims and published values).

The guided form covers what most cases need (story, context, panels with labs, the author's reading
and ranked next steps, teaching points with citation keys); anything else (claims, a published
source, panel context changes) is written in the YAML itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import BOOLEAN_FIELDS
from mas_screen.faces.teaching.claims import check_case
from mas_screen.faces.teaching.loading import read_case_text
from mas_screen.faces.teaching.schema import Case, CaseDataError, Problem

TRI = {"unknown": None, "yes": True, "no": False}


def starter_case() -> dict[str, Any]:
    """A small valid case to start from (constructed, one panel): every field an author fills in."""
    return {
        "id": "my_new_case",
        "title": "A short title (hidden from trainees until they finish)",
        "source": {"kind": "constructed", "purpose": "What this case teaches, in one sentence."},
        "themes": ["sjia-flare"],
        "difficulty": 1,
        "driver": "rheumatic_disease",
        "story": (
            "A 6-year-old girl with systemic JIA has had a week of daily fever spikes. Her knees are swollen. "
            "She is well between spikes."
        ),
        "context": {
            "age_years": 6,
            "underlying_disease": "sjia",
            "febrile": True,
            "active_arthritis": True,
            "cns_involvement": False,
            "hemorrhagic_manifestations": False,
        },
        "panels": [
            {
                "time": "2026-01-05T08:00",
                "label": "Day 7 (admission)",
                "short_label": "Day 7",
                "labs": {
                    "ferritin": 1200,
                    "platelets": 480,
                    "fibrinogen": 550,
                    "esr": 90,
                    "ast": 30,
                    "ldh": 320,
                    "triglycerides": 140,
                },
                "answer": {
                    "reading": "flare",
                    "rationale": "High platelets, fibrinogen and ESR with a moderate ferritin: the pattern of a flare.",
                    "references": ["minoia2019"],
                },
                "next_steps": [
                    {
                        "id": "repeat_labs",
                        "text": "Treat the flare and repeat the panel in 24-48 h",
                        "grade": "best",
                        "rationale": "The direction of change matters most.",
                        "references": ["ravelli2016_dynamics"],
                    },
                    {
                        "id": "d_dimer",
                        "text": "Add D-dimer and a blood film",
                        "grade": "acceptable",
                        "rationale": "They support, never decide.",
                    },
                    {
                        "id": "marrow",
                        "text": "Bone-marrow aspirate",
                        "grade": "unhelpful",
                        "rationale": "Nothing points to MAS; an invasive test is not warranted.",
                    },
                ],
            }
        ],
        "learning_objectives": ["Recognise the laboratory pattern of an sJIA flare."],
        "teaching_points": [{"text": "The 2016 criteria are not met here.", "citation": "ravelli2016"}],
    }


def case_data(case: Case) -> dict[str, Any]:
    """A loaded case as plain data for the form and the YAML (unset and empty fields left out)."""
    data = case.model_dump(mode="json", exclude_unset=True)  # an explicit null (a claim's "never met") stays
    data["context"] = case.context.model_dump(mode="json", exclude_none=True)
    return data


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = ">" if len(value) > 90 and "\n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_case(data: dict[str, Any]) -> str:
    """YAML as the library writes it: keys in the schema's order, long texts folded."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def _number(text: str) -> int | float | str:
    t = text.strip()
    try:
        d = Decimal(t)
    except InvalidOperation:
        return t  # a bound ('>40000') or a typo: the schema and the core say what is wrong with it
    if not d.is_finite():
        return t
    return int(d) if d == d.to_integral_value() and "." not in t else float(t)


def lab_entry(analyte: str, value: object, unit: object) -> object | None:
    """One lab as the case writes it: a bare number in the lab's default unit, else {value, unit};
    None when left blank."""
    text = "" if value is None else str(value).strip()
    if not text or text.lower() == "nan":
        return None
    number = _number(text)
    unit_text = "" if unit is None else str(unit).strip()
    if not unit_text or unit_text.lower() == "nan" or unit_text == criteria().analytes.analytes[analyte].default_unit:
        return number
    return {"value": number, "unit": unit_text}


def _refs(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [r for r in re.split(r"[,\s]+", str(value)) if r and r.lower() != "nan"]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() in ("", "nan", "None")


def from_form(
    meta: dict[str, Any],
    context: dict[str, Any],
    panels: list[dict[str, Any]],
    teaching: Iterable[dict[str, Any]],
    objectives: str,
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The case as data from the guided form's fields (blank fields left out, so the schema can say
    what is missing). `base`: the case the form started from; what the form does not cover (claims,
    tags, a published source, panel context changes, adapted values, near misses) is kept from it."""
    data = _from_form(meta, context, panels, teaching, objectives)
    if not base:
        return data
    out = {k: v for k, v in base.items() if k not in data or k == "source"}
    if isinstance(base.get("source"), dict) and base["source"].get("kind") == "published":
        data["source"] = base["source"]
    out.update(data)
    for i, panel in enumerate(out["panels"]):
        old = (base.get("panels") or [])[i] if i < len(base.get("panels") or []) else {}
        for key in ("context", "adapted"):
            if old.get(key):
                panel[key] = old[key]
    old_points = base.get("teaching_points") or []
    for i, tp in enumerate(out["teaching_points"]):
        if i < len(old_points) and old_points[i].get("text") == tp["text"] and old_points[i].get("claims"):
            tp["claims"] = old_points[i]["claims"]
    order = list(starter_case()) + [k for k in out if k not in starter_case()]
    return {k: out[k] for k in order if k in out}


def _from_form(
    meta: dict[str, Any],
    context: dict[str, Any],
    panels: list[dict[str, Any]],
    teaching: Iterable[dict[str, Any]],
    objectives: str,
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in ("id", "title"):
        if not _blank(meta.get(key)):
            data[key] = str(meta[key]).strip()
    data["source"] = {"kind": "constructed", "purpose": str(meta.get("purpose") or "").strip()}
    data["themes"] = list(meta.get("themes") or [])
    if meta.get("difficulty"):
        data["difficulty"] = int(meta["difficulty"])
    if meta.get("driver"):
        data["driver"] = meta["driver"]
    data["story"] = str(meta.get("story") or "").strip()
    ctx: dict[str, Any] = {}
    for key in ("age_years", "age_at_onset_years"):
        if context.get(key) is not None:
            value = float(context[key])
            ctx[key] = int(value) if value.is_integer() else value
    for key in ("underlying_disease", "biologic_therapy"):
        if context.get(key) and context[key] != "unknown":
            ctx[key] = context[key]
    for key in BOOLEAN_FIELDS:
        answer = TRI.get(str(context.get(key) or "unknown"))
        if answer is not None:
            ctx[key] = answer
    data["context"] = ctx
    data["panels"] = [_panel(p) for p in panels]
    data["learning_objectives"] = [line.strip() for line in objectives.splitlines() if line.strip()]
    points = []
    for row in teaching:
        if _blank(row.get("text")):
            continue
        points.append({"text": str(row["text"]).strip(), "citation": str(row.get("citation") or "").strip()})
    data["teaching_points"] = points
    return data


def _panel(p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"time": str(p.get("time") or "").strip()}
    for key in ("label", "short_label", "story"):
        if not _blank(p.get(key)):
            out[key] = str(p[key]).strip()
    labs = {}
    for analyte, (value, unit) in (p.get("labs") or {}).items():
        entry = lab_entry(analyte, value, unit)
        if entry is not None:
            labs[analyte] = entry
    out["labs"] = labs
    answer: dict[str, Any] = {}
    if p.get("reading"):
        answer["reading"] = p["reading"]
    if not _blank(p.get("rationale")):
        answer["rationale"] = str(p["rationale"]).strip()
    if p.get("references"):
        answer["references"] = _refs(p["references"])
    out["answer"] = answer
    steps = []
    for row in p.get("next_steps") or []:
        if all(_blank(row.get(k)) for k in ("id", "text", "rationale")):
            continue
        step = {k: str(row[k]).strip() for k in ("id", "text", "grade", "rationale") if not _blank(row.get(k))}
        refs = _refs(row.get("references"))
        if refs:
            step["references"] = refs
        steps.append(step)
    out["next_steps"] = steps
    return out


def check_text(text: str, *, reserved_ids: Iterable[str] = ()) -> tuple[Case | None, list[Problem]]:
    """Everything an author needs to hear about a case text: schema problems (with lines), then,
    if it loads, the computed checks (claims, published values, unexpected warnings)."""
    data_id = re.search(r"^id:\s*['\"]?([\w-]+)", text, flags=re.MULTILINE)
    file = f"{data_id.group(1) if data_id else 'case'}.yaml"
    try:
        case = read_case_text(text, file, reserved_ids=reserved_ids)
    except CaseDataError as exc:
        return None, exc.problems
    return case, check_case(case, file)
