"""criteria/cds_hooks.yaml as typed data: prefetch defaults, Condition code lists, order triggers,
card rules, service cards and card caveats. Loaded once, validated, citation keys cross-checked;
a malformed file raises CriteriaDataError naming the field, as for every criteria file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mas_screen.criteria.loading import _read_yaml, criteria, criteria_dir, per_load
from mas_screen.criteria.schema import CriteriaDataError
from mas_screen.criteria.validation import _validate

Indicator = Literal["info", "warning", "critical"]
Disease = Literal["sjia", "suspected_sjia", "aosd", "sle", "other", "unknown"]
Signal = Literal["suggestive", "not_suggestive", "insufficient_data"]
Confirmation = Literal["CONFIRMED-2", "CONFIRMED-1", "UNCONFIRMED", "DECISION", "ADAPTATION"]
HOOKS = ("patient-view", "order-sign")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrefetchDefaults(_Strict):
    window_hours: float = Field(gt=0)
    observation_count: int = Field(gt=0, le=1000)
    spec: str  # where the prefetch rules come from


class CodeList(_Strict):
    system: str
    codes: list[str] = Field(default_factory=list)
    prefixes: list[str] = Field(default_factory=list)
    display: str
    checked_against: str  # where the codes were checked (free text, not a citation key)
    confirmation: Confirmation

    @model_validator(mode="after")
    def _something(self) -> CodeList:
        if not self.codes and not self.prefixes:
            raise ValueError("a code list needs codes or prefixes")
        return self


class DiseaseCodes(_Strict):
    label: str
    lists: list[CodeList]


class NotMapped(_Strict):
    code: str
    reason: str


class ConditionRules(_Strict):
    priority: list[Literal["sjia", "aosd", "sle"]]
    provisional_verification: list[str]
    ignored_verification: list[str]
    diseases: dict[Literal["sjia", "aosd", "sle"], DiseaseCodes]
    not_mapped: list[NotMapped] = Field(default_factory=list)


class ProcedureTrigger(_Strict):
    id: str
    label: str
    system: str
    codes: list[str]
    display: str
    checked_against: str
    confirmation: Confirmation


class OrderTriggers(_Strict):
    analytes: list[str]
    procedures: list[ProcedureTrigger]


class When(_Strict):
    own_met_any: list[str] | None = None
    mas_signal: list[Signal] | None = None
    item_met: str | None = None  # "instrument.item"
    disease: list[Disease] | None = None
    triggered: bool | None = None


class CardRule(_Strict):
    id: str
    indicator: Indicator
    hooks: list[Literal["patient-view", "order-sign"]] = Field(default_factory=lambda: list(HOOKS))
    when: When
    summary: str
    rationale: str
    references: list[str]  # citation keys (references/references.yaml)
    confirmation: Confirmation


class ServiceCard(_Strict):
    indicator: Indicator
    summary: str


class CardCaveat(_Strict):
    text: str
    references: list[str]  # citation keys (references/references.yaml)
    when_disease: list[Disease] | None = None


class OverrideReason(_Strict):
    code: str
    display: str


class CdsHooksData(_Strict):
    version: str
    prefetch: PrefetchDefaults
    conditions: ConditionRules
    order_triggers: OrderTriggers
    card_rules: list[CardRule]
    service_cards: dict[Literal["fetch_failed", "nothing_sent"], ServiceCard]
    caveats: dict[str, CardCaveat]
    override_reasons: list[OverrideReason]


def _cross_check(data: CdsHooksData, name: str) -> None:
    data_ = criteria()

    def fail(where: str, msg: str) -> None:
        raise CriteriaDataError(f"{name}: field {where}: {msg}")

    known_refs = data_.references
    for i, rule in enumerate(data.card_rules):
        for key in rule.references:
            if key not in known_refs:
                fail(f"card_rules.{i}.references", f"unknown citation key {key!r}")
        for iid in rule.when.own_met_any or []:
            if iid not in data_.instruments:
                fail(f"card_rules.{i}.when.own_met_any", f"unknown instrument {iid!r}")
        if rule.when.item_met is not None:
            iid, _, item = rule.when.item_met.partition(".")
            if iid not in data_.instruments or item not in {it.id for it in data_.instruments[iid].items}:
                fail(f"card_rules.{i}.when.item_met", f"unknown instrument item {rule.when.item_met!r}")
    for cid, caveat in data.caveats.items():
        for key in caveat.references:
            if key not in known_refs:
                fail(f"caveats.{cid}.references", f"unknown citation key {key!r}")
    for key in data.order_triggers.analytes:
        if key not in data_.analytes.analytes:
            fail("order_triggers.analytes", f"unknown analyte {key!r}")
    ids = [r.id for r in data.card_rules]
    if len(set(ids)) != len(ids):
        fail("card_rules", "rule ids must be unique")


@per_load
def cds_data() -> CdsHooksData:
    """criteria/cds_hooks.yaml (or MAS_SCREEN_CRITERIA_DIR's copy), validated; loaded once."""
    path = criteria_dir() / "cds_hooks.yaml"
    data = _validate(CdsHooksData, path, _read_yaml(path))
    _cross_check(data, path.name)
    return data


DISEASE_WORDS = {
    "sjia": "systemic JIA",
    "suspected_sjia": "suspected systemic JIA",
    "aosd": "adult-onset Still's disease",
    "sle": "SLE",
    "other": "another disease",
    "unknown": "not known",
}


def _when_words(when: When) -> list[str]:
    data = criteria()
    parts = []
    if when.own_met_any is not None:
        names = " or ".join(data.instruments[i].short_name for i in when.own_met_any)
        parts.append(f"{names} is met and is one of the patient's own instruments")
    if when.mas_signal is not None:
        parts.append(
            "the screen on the patient's own instruments is "
            + " or ".join(s.replace("_", " ") for s in when.mas_signal)
        )
    if when.item_met is not None:
        from mas_screen.kernel.instruments import instruments

        iid, _, item_id = when.item_met.partition(".")
        spec = data.instruments[iid]
        item = next(i for i in instruments()[iid].items if i.id == item_id)
        parts.append(f"{item.label.split(' (')[0].lower()} is {item.rule_text()} (an item of the {spec.short_name})")
    if when.disease is not None:
        parts.append("the underlying disease is " + " or ".join(DISEASE_WORDS[d] for d in when.disease))
    if when.triggered:
        parts.append("a ferritin, triglyceride, fibrinogen or bone-marrow aspirate order is being signed")
    return parts


def cited(keys: list[str]) -> str:
    """Short citations; two with the same author and year get their journal."""
    from mas_screen.criteria.references import short_citation

    shorts = [short_citation(k) for k in keys]
    out = []
    for key, short in zip(keys, shorts, strict=True):
        journal = criteria().references[key].journal
        out.append(f"{short}, {journal}" if shorts.count(short) > 1 and journal else short)
    return "; ".join(out)


def card_rule_lines() -> list[str]:
    """The card rules in words, with their citations (the About page, docs/cds-hooks.md)."""
    lines = []
    for rule in cds_data().card_rules:
        hooks = "" if set(rule.hooks) == set(HOOKS) else f" ({', '.join(rule.hooks)} only)"
        words = " and ".join(_when_words(rule.when))
        lines.append(f"**{rule.indicator}**{hooks} when {words}. {rule.rationale} ({cited(rule.references)})")
    lines.append("**no card** otherwise: nothing is said when nothing points to MAS (no alert fatigue).")
    return lines


__all__ = ["HOOKS", "CardRule", "CdsHooksData", "card_rule_lines", "cds_data", "cited"]
