"""An assessment of the mapped prefetch → CDS Hooks cards, by the rules of criteria/cds_hooks.yaml.

The warning and critical cards follow the patient's own instruments (contract "The patient's own
instruments"): instruments met only outside the patient's population are named in the detail as
"indicative only" and never raise a card. The first rule that holds gives the card; no rule, no
card. Card summaries stay under 140 characters (CDS Hooks `summary`); the detail is GitHub-flavoured
markdown with each instrument's status, the values that drove it (units, times), what is missing
and which tests would decide, caveats, sources and the provenance stamp.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.provenance import one_line
from mas_screen.criteria.references import link, short_citation
from mas_screen.domain.models import Assessment, CriterionResult, field_label
from mas_screen.domain.units import format_number, pretty_unit
from mas_screen.explain.phrases import STATUS_TEXT, result_phrase
from mas_screen.explain.score_display import minus
from mas_screen.faces.cds_hooks import population
from mas_screen.faces.cds_hooks.mapping import LabResult, Mapped
from mas_screen.faces.cds_hooks.rules import CardRule, cds_data

SUMMARY_LIMIT = 139  # CDS Hooks: "<140-character summary"
RHEUMATIC = ("sjia", "suspected_sjia", "aosd", "sle")
OVERRIDE_SYSTEM = "urn:mas-screen:override-reason"
EXTENSION_KEY = "mas-screen"
STATUS_WORD = {**STATUS_TEXT, "met": f"**{STATUS_TEXT['met']}**"}  # the one table of words; met in bold
MAX_PROBLEMS = 12


@dataclass
class Trigger:
    """A draft order that makes the order-sign service screen."""

    id: str  # analyte key or procedure id
    label: str
    inputs: tuple[str, ...]  # input keys it will fill (ferritin; hemophagocytosis_marrow)


@dataclass
class CardContext:
    hook: str
    assessment: Assessment
    mapped: Mapped
    triggers: list[Trigger] = field(default_factory=list)
    missing_keys: list[str] = field(default_factory=list)  # prefetch keys neither sent nor fetched
    fetch_failures: list[str] = field(default_factory=list)  # prefetch keys whose fetch failed
    bedside_url: str | None = None


# ------------------------------------------------------------------------------ own instruments


def own_instruments(a: Assessment, disease: str) -> tuple[str, ...]:
    """The instruments built for the patient's population (contract, revised 2026-12-06)."""
    return population.own_instruments(disease)


def own_met(a: Assessment, disease: str) -> list[str]:
    """The patient's own instruments that are met, in the contract's instrument order."""
    met = [i for i in population.mas_instruments() if a.criteria[i].status == "met"]
    other = getattr(a.summary, "other_population_met", None)
    if other is not None:
        return [i for i in met if i not in other]
    own = own_instruments(a, disease)
    return [i for i in met if i in own]


def other_met(a: Assessment, disease: str) -> list[str]:
    other = getattr(a.summary, "other_population_met", None)
    if other is not None:
        return list(other)
    own = own_instruments(a, disease)
    return [i for i in population.mas_instruments() if a.criteria[i].status == "met" and i not in own]


def own_signal(a: Assessment, disease: str) -> str:
    """summary.mas_signal as the contract defines it: the patient's own instruments only."""
    if hasattr(a.summary, "other_population_met"):
        return a.summary.mas_signal
    own = own_instruments(a, disease)
    if own_met(a, disease):
        return "suggestive"
    if all(a.criteria[i].status == "not_met" for i in own):
        return "not_suggestive"
    return "insufficient_data"


def deciding_tests(a: Assessment, disease: str, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What to do next for the patient's open own instruments (none once they are all decided):
    their missing laboratory tests in the order of analytes.yaml (routine bloods first, specialist
    tests after), then the other inputs that alone could decide one (fever, organ size, ...)."""
    open_own = [a.criteria[i] for i in own_instruments(a, disease) if a.criteria[i].status == "indeterminate"]
    analytes = criteria().analytes.analytes
    labs = population.by_tier(k for r in open_own for k in r.missing if k in analytes)
    others = [k for r in open_own for k in r.next_tests if k not in analytes]
    return [k for k in dict.fromkeys(labs + others) if k not in exclude]


# -------------------------------------------------------------------------------------- words


def name(key: str) -> str:
    """An input key as a word in a sentence ("platelet count", "AST", "fibrinogen")."""
    label = field_label(key).split(" (")[0]
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def key_name(key: str) -> str:
    """A prefetch key as a word: "Patient", "Conditions", or the analyte's label."""
    return {"patient": "Patient", "conditions": "Conditions"}.get(key) or name(key)


def headline(disease: str) -> str:
    if disease in RHEUMATIC:
        return "Features suggestive of MAS"
    return "Features suggestive of a haemophagocytic syndrome (HLH/MAS)"


def disease_label(disease: str) -> str:
    if disease == "suspected_sjia":
        return "suspected systemic JIA"
    spec = cds_data().conditions.diseases.get(disease)  # type: ignore[call-overload]
    return spec.label if spec is not None else "underlying disease not known"


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def fit(template: str, lists: dict[str, list[str]], values: dict[str, str]) -> str:
    """Fill a summary template, shortening its lists ("+2 more") until it fits SUMMARY_LIMIT."""
    shown = {k: list(v) for k, v in lists.items()}
    while True:
        filled = dict(values)
        for key, items in shown.items():
            hidden = len(lists[key]) - len(items)
            words = items + ([f"{hidden} more"] if hidden else [])
            filled[key] = _join(words) if key != "instruments" else ", ".join(words)
        text = template.format(**filled)
        if len(text) <= SUMMARY_LIMIT:
            return text
        longest = max(shown, key=lambda k: len(shown[k]), default=None)
        if longest is None or len(shown[longest]) <= 1:
            return text[: SUMMARY_LIMIT - 1].rstrip() + "…"
        shown[longest] = shown[longest][:-1]


# -------------------------------------------------------------------------------------- rules


def _holds(rule: CardRule, ctx: CardContext) -> bool:
    a, disease = ctx.assessment, ctx.mapped.disease
    when = rule.when
    if ctx.hook not in rule.hooks:
        return False
    if when.own_met_any is not None and not set(own_met(a, disease)) & set(when.own_met_any):
        return False
    if when.mas_signal is not None and own_signal(a, disease) not in when.mas_signal:
        return False
    if when.item_met is not None:
        iid, _, item_id = when.item_met.partition(".")
        if not any(i.id == item_id and i.result == "met" for i in a.criteria[iid].items):
            return False
    if when.disease is not None and disease not in when.disease:
        return False
    return not (when.triggered is not None and bool(ctx.triggers) != when.triggered)


def matching_rule(ctx: CardContext) -> CardRule | None:
    for rule in cds_data().card_rules:
        if _holds(rule, ctx):
            return rule
    return None


# ------------------------------------------------------------------------------------- detail


def _result_text(r: CriterionResult) -> str:
    """Score, range or count with the cut-off (as the text report shows them), else the verdict."""
    return result_phrase(r) or r.verdict


def _when(r: LabResult) -> str:
    return r.at.strftime("%Y-%m-%d") + " (date only)" if r.date_only else r.at.strftime("%Y-%m-%d %H:%M UTC")


def _drivers(r: CriterionResult, mapped: Mapped) -> str:
    """The met items of an instrument with the values (as sent) and times that met them."""
    spec = criteria().instruments[r.id]
    parts = []
    for item in r.items:
        if item.result != "met" or not item.counted:
            continue
        shown = item.display or "yes"
        analyte = next((i.analyte for i in spec.items if i.id == item.id), None)
        time = f", {_when(mapped.used[analyte])}" if analyte in mapped.used else ""
        parts.append(f"{item.label} {shown} ({item.threshold}{time})" if item.threshold else f"{item.label}: {shown}")
    return "; ".join(parts)


def _escape(text: str) -> str:
    """Table cells: a pipe would split the cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def detail(ctx: CardContext, rule: CardRule | None) -> str:
    a, m = ctx.assessment, ctx.mapped
    own = own_instruments(a, m.disease)
    lines: list[str] = []
    if rule is not None and rule.indicator in ("warning", "critical"):
        lines.append(f"**{headline(m.disease)}** — screening aid, not a diagnosis.")
    else:
        lines.append("**MAS screen** — screening aid, not a diagnosis.")
    who = f"Underlying disease: {disease_label(m.disease)}"
    if m.disease_codes:
        who += f" (from {', '.join(m.disease_codes)})"
    if m.other_diseases:
        who += f"; also coded: {', '.join(disease_label(d) for d in m.other_diseases)} (lower priority)"
    lines += [
        "",
        who + ". Instruments built for this population: " + ", ".join(a.criteria[i].short_name for i in own) + ".",
    ]
    if ctx.triggers:
        lines += ["", "Being ordered: " + _join([t.label for t in ctx.triggers]) + "."]

    lines += ["", "| Instrument | Status | Result |", "|---|---|---|"]
    for iid, r in a.criteria.items():
        mark = " (this population)" if iid in own else ""
        lines.append(f"| {_escape(r.short_name)}{mark} | {STATUS_WORD[r.status]} | {_escape(minus(_result_text(r)))} |")

    driven = [(iid, _drivers(a.criteria[iid], m)) for iid in own_met(a, m.disease)]
    if driven:
        lines += ["", "**What met them:**"]
        lines += [f"- {a.criteria[iid].short_name}: {minus(text)}" for iid, text in driven if text]
    others = other_met(a, m.disease)
    if others:
        lines += [
            "",
            "Also met by instruments built for other populations (indicative only): "
            + ", ".join(a.criteria[i].short_name for i in others)
            + ".",
        ]

    lines += ["", f"**Results used** (latest in the {format_number(m.window_hours)} h before this screen):"]
    if m.used:
        for key, r in m.used.items():
            line = f"- {field_label(key)}: {r.value} {pretty_unit(r.unit)}, {_when(r)}"
            if m.highest_of.get(key, 0) > 1:
                line += f" (the highest of {m.highest_of[key]} readings in the last 24 h)"
            older = m.older.get(key) or []
            if older:
                line += "; earlier: " + "; ".join(f"{o.value} {pretty_unit(o.unit)} ({_when(o)})" for o in older[:3])
                if len(older) > 3:
                    line += f"; {len(older) - 3} more"
            lines.append(line)
    else:
        lines.append("- none")
    if m.outside_window:
        lines.append(
            "- Not used (outside the window): "
            + ", ".join(f"{field_label(k)} ×{n}" for k, n in sorted(m.outside_window.items()))
        )

    exclude = {i for t in ctx.triggers for i in t.inputs}
    tests = deciding_tests(a, m.disease, exclude)
    if tests:
        lines += ["", "**Tests that would decide:** " + ", ".join(name(k) for k in tests) + "."]
    elif all(a.criteria[i].status != "indeterminate" for i in own):
        lines += [
            "",
            "The instruments built for this population are decided. MAS evolves over hours to days: repeat the "
            f"routine panel as the illness evolves ({short_citation('ravelli2016_dynamics')}; "
            f"{short_citation('shakoory2023')}).",
        ]
    missing = sorted({k for i in own for k in a.criteria[i].missing} - set(tests) - exclude)
    if missing:
        lines += ["", "Not available to the screen: " + ", ".join(name(k) for k in missing) + "."]

    caveats: list[str] = []
    for iid in own:
        r = a.criteria[iid]
        if r.population == "outside":
            caveats.append(
                f"{r.short_name}: the patient is outside its derivation population ({r.population_description})."
            )
    for cav_id, cav in cds_data().caveats.items():
        if cav_id == "screening":
            continue
        if cav.when_disease is None or m.disease in cav.when_disease:
            cited = "; ".join(short_citation(k) for k in cav.references)
            caveats.append(cav.text + (f" ({cited})" if cited else ""))
    caveats += [c for c in a.summary.caveats[1:] if c not in caveats]  # [0] is the screening caveat
    if caveats:
        lines += ["", "**Caveats:**"] + [f"- {c}" for c in caveats]

    notes = []
    if ctx.missing_keys:
        notes.append("Not sent by the EHR (and not fetched): " + ", ".join(map(key_name, ctx.missing_keys)) + ".")
    if ctx.fetch_failures:
        notes.append("Could not be fetched from the FHIR server: " + ", ".join(map(key_name, ctx.fetch_failures)) + ".")
    for w in a.input_warnings:
        notes.append(f"{field_label(w.field)}: {w.message}")
    notes += m.problems[:MAX_PROBLEMS]
    if len(m.problems) > MAX_PROBLEMS:
        notes.append(f"{len(m.problems) - MAX_PROBLEMS} more data problems not shown.")
    if notes:
        lines += ["", "**Data notes:**"] + [f"- {n}" for n in notes]

    keys = list(dict.fromkeys((rule.references if rule else []) + [k for i in own for k in a.criteria[i].references]))
    if keys:
        lines += ["", "**Sources:** " + "; ".join(_cite(k) for k in keys) + "."]
    lines += ["", cds_data().caveats["screening"].text]
    if a.provenance is not None:
        lines += ["", f"_Provenance: {one_line(a.provenance)}_"]
    return "\n".join(lines)


def _cite(key: str) -> str:
    url = link(key)
    return f"[{short_citation(key)}]({url})" if url else short_citation(key)


# -------------------------------------------------------------------------------------- cards


def _source(rule: CardRule, ctx: CardContext) -> dict[str, Any]:
    met = own_met(ctx.assessment, ctx.mapped.disease)
    key = ctx.assessment.criteria[met[0]].references[0] if met else rule.references[0]
    instrument = ctx.assessment.criteria[met[0]].short_name if met else None
    label = (
        f"MAS Screen — {instrument} ({short_citation(key)})" if instrument else f"MAS Screen — {short_citation(key)}"
    )
    source: dict[str, Any] = {"label": label}
    url = link(key)
    if url:
        source["url"] = url
    return source


def _extension(ctx: CardContext, rule_id: str) -> dict[str, Any]:
    a, disease = ctx.assessment, ctx.mapped.disease
    prov = a.provenance.model_dump(mode="json", exclude={"input", "data_sha256"}) if a.provenance is not None else None
    return {
        EXTENSION_KEY: {
            "rule": rule_id,
            "statuses": {iid: r.status for iid, r in a.criteria.items()},
            "mas_signal": own_signal(a, disease),
            "own_instruments": list(own_instruments(a, disease)),
            "own_met": own_met(a, disease),
            "underlying_disease": disease,
            "provenance": prov,
        }
    }


def _card(indicator: str, summary: str, text: str, source: dict, ctx: CardContext, rule_id: str) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "indicator": indicator,
        "detail": text,
        "source": source,
        "overrideReasons": [
            {"system": OVERRIDE_SYSTEM, "code": r.code, "display": r.display} for r in cds_data().override_reasons
        ],
        "extension": _extension(ctx, rule_id),
    }
    if ctx.bedside_url:
        card["links"] = [
            {
                "label": "Open MAS Screen (bedside page) to review and complete the panel",
                "url": ctx.bedside_url,
                "type": "absolute",
            }
        ]
    return card


def summary_for(rule: CardRule, ctx: CardContext) -> str:
    a, m = ctx.assessment, ctx.mapped
    exclude = {i for t in ctx.triggers for i in t.inputs}
    ferritin = next((i for i in a.criteria["mas2016"].items if i.id == "ferritin"), None)
    values = {
        "headline": headline(m.disease),
        "disease": f" ({disease_label(m.disease)})" if m.disease != "unknown" else "",
        "disease_label": disease_label(m.disease),
        "ferritin": (ferritin.display or "") if ferritin else "",
    }
    orders = [t.label for t in ctx.triggers]
    lists = {
        "instruments": [a.criteria[i].short_name for i in own_met(a, m.disease)],
        "tests": [name(k) for k in deciding_tests(a, m.disease, exclude)] or ["a repeat panel"],
        "orders": [orders[0][:1].upper() + orders[0][1:], *orders[1:]] if orders else [],
    }
    used = {k: v for k, v in lists.items() if "{" + k + "}" in rule.summary}
    return fit(rule.summary, used, values)


def cards_for(ctx: CardContext) -> list[dict[str, Any]]:
    """The cards for one service call (possibly none)."""
    out: list[dict[str, Any]] = []
    service = cds_data().service_cards
    if ctx.fetch_failures:
        spec = service["fetch_failed"]
        summary = fit(spec.summary, {"what": [key_name(k) for k in ctx.fetch_failures]}, {})
        source = {"label": "MAS Screen"}
        out.append(_card(spec.indicator, summary, detail(ctx, None), source, ctx, "fetch_failed"))
    if ctx.hook == "order-sign" and not ctx.triggers:
        return out
    if ctx.mapped.observations_seen == 0 and not ctx.fetch_failures and ctx.missing_keys and not ctx.mapped.used:
        lab_keys_missing = [k for k in ctx.missing_keys if k in criteria_keys()]
        if len(lab_keys_missing) == len(criteria_keys()):
            spec = service["nothing_sent"]
            out.append(
                _card(spec.indicator, spec.summary, detail(ctx, None), {"label": "MAS Screen"}, ctx, "nothing_sent")
            )
            return out
    rule = matching_rule(ctx)
    if rule is None:
        return out
    out.append(_card(rule.indicator, summary_for(rule, ctx), detail(ctx, rule), _source(rule, ctx), ctx, rule.id))
    return out


def criteria_keys() -> list[str]:
    """The prefetch keys of the laboratory templates (one per analyte)."""
    return list(criteria().analytes.analytes)


__all__ = [
    "CardContext",
    "Trigger",
    "cards_for",
    "deciding_tests",
    "matching_rule",
    "other_met",
    "own_instruments",
    "own_met",
    "own_signal",
]
