"""Item cards: what one item of an instrument shows a clinician, built from the kernel's outcome.

A card says what was entered (as typed, and in the published unit), the item's rule, its result
and points, and the item's source and confirmation from the YAML. What a card shows depends on the
item's `shows` (a lab, a yes/no answer, a size, ...), never on the item's kind directly.
"""

from __future__ import annotations

import math

from mas_screen.criteria.schema import BOOLEAN_FIELDS
from mas_screen.domain.models import ItemResult
from mas_screen.domain.units import format_number, pretty_unit
from mas_screen.explain.wording import RESULT_WORDS
from mas_screen.kernel.exact import round_half_up
from mas_screen.kernel.inputs.facts import Facts, unit_spec
from mas_screen.kernel.instruments import per_criteria
from mas_screen.kernel.kinds import Item
from mas_screen.kernel.outcome import Out
from mas_screen.kernel.remember import remember

_UNIT_SHOWN = ("lab", "size", "onset")


def _number(value: float):
    return int(value) if float(value).is_integer() else value


def _yes_no(facts: Facts, names) -> str | None:
    """'marrow: yes; other site: no' for the answered fields (their shared prefix dropped)."""
    prefix = ""
    if len(names) > 1:
        first = names[0]
        shared = next((i for i, c in enumerate(first) if any(len(n) <= i or n[i] != c for n in names)), len(first))
        prefix = first[: first.rfind("_", 0, shared) + 1]
    shown = [
        f"{n.removeprefix(prefix).replace('_', ' ')}: {'yes' if facts.flags[n] else 'no'}"
        for n in names
        if facts.flags.get(n) is not None
    ]
    return "; ".join(shown) or None


def _composite_display(shows: str, parts: list[ItemResult]) -> str | None:
    """'2 of 3 low (1 not entered)' for cytopenic lineages; the entered values for an either-or item."""
    entered = [p for p in parts if p.result != "missing" or p.display]
    if not entered:
        return None
    if shows == "lineages":
        met = sum(1 for p in parts if p.result == "met")
        open_ = sum(1 for p in parts if p.result == "missing")
        return f"{met} of {len(parts)} low" + (f" ({open_} not entered)" if open_ else "")
    return "; ".join(f"{p.label} {p.display}" for p in entered if p.display)


@per_criteria
def _static() -> dict:
    """Per item, the card fields its spec alone decides, and cards shared between patients."""
    return {}


def _plan(item: Item, plans: dict) -> tuple[dict, tuple[str, ...] | None, dict]:
    """(the card's fields from the spec, the yes/no answers it reads when it reads nothing else,
    this item's shared cards); worked out once per compiled item (`plans`: the `_static()` table)."""
    found = plans.get(item)
    if found is None:
        spec = item.spec
        fields = {
            "id": item.id,
            "label": item.label,
            "unit": spec.unit if item.shows in _UNIT_SHOWN else None,
            "threshold": item.rule_text(),
            "role": spec.role,
            "counted": spec.role != "supportive",
            "source": spec.source,
            "confirmation": spec.confirmation,
            "note": spec.note,
        }
        # Only the fields that differ from the model's default (None): pydantic fills the rest,
        # and a field left out costs nothing to validate (the JSON is the same).
        fields = {k: v for k, v in fields.items() if v is not None}
        flags = tuple(sorted(item.keys)) if all(k in BOOLEAN_FIELDS for k in item.keys) else None
        found = plans[item] = (fields, flags, {})
    return found


def cards(items, outs: list, facts: Facts, places: int | None = None) -> list[ItemResult]:
    """Every item's card of one instrument for one patient (`places`: decimals of a linear contribution)."""
    plans, entered = _static(), facts.entered()
    return [_shared(item, out, facts, places, plans, entered)[0] for item, out in zip(items, outs, strict=True)]


def _shared(
    item: Item, out: Out, facts: Facts, places: int | None, plans: dict, entered: frozenset[str]
) -> tuple[ItemResult, tuple | None]:
    """The card, and the key it is shared between patients under (None when it is this patient's own).

    A card is shared when nothing but the outcome could change it: none of the item's inputs
    entered, or only yes/no answers read (the key then holds them); a composite card when every
    component is shared (the key then holds theirs). Cards are frozen.
    """
    plan = plans.get(item)
    static, flag_keys, shared = plan if plan is not None else _plan(item, plans)
    parts = None
    if out.parts is not None:
        parts = [_shared(sub, o, facts, places, plans, entered) for sub, o in zip(item.parts, out.parts, strict=True)]
        keys = tuple(k for _, k in parts)
        if None in keys:
            return _card(item, out, facts, places, static, [c for c, _ in parts]), None
        key: tuple = (out.result, out.lo, out.hi, out.exact, keys)
    elif item.keys.isdisjoint(entered):
        key = (out.result, out.lo, out.hi)
    elif flag_keys is not None:
        key = (out.result, out.lo, out.hi, out.exact, *(facts.flags.get(k) for k in flag_keys))
    else:
        return _card(item, out, facts, places, static, None), None
    components = None if parts is None else [c for c, _ in parts]
    return remember(shared, key, lambda: _card(item, out, facts, places, static, components)), key


def _card(
    item: Item, out: Out, facts: Facts, places: int | None, static: dict, parts: list[ItemResult] | None
) -> ItemResult:
    spec = item.spec
    shows = item.shows
    fields = static.copy()
    fields["result"] = RESULT_WORDS[out.result]
    flags, numbers = facts.flags, facts.numbers
    if shows == "lab":
        fact = facts.labs.get(spec.analyte)
        if fact is not None:
            fields.update(fact.card_fields(unit_spec(spec.analyte, spec.unit)))
        elif spec.analyte == "temperature" and flags.get("febrile") is not None:
            fields["display"] = "febrile (no temperature entered)" if flags["febrile"] else "not febrile"
    elif shows == "answer":
        answer = flags.get(spec.field)
        if answer is not None:
            fields["input"], fields["display"] = {"value": answer}, "present" if answer else "absent"
    elif shows == "fever":
        febrile = flags.get("febrile")
        temp = facts.labs.get("temperature")
        if febrile is not None:
            fields["input"], fields["display"] = {"value": febrile}, "febrile" if febrile else "not febrile"
        elif temp is not None:
            target = unit_spec("temperature", spec.unit)
            fields["input"], fields["display"], fields["unit"] = temp.echo, temp.display(), spec.unit
            fields["value_text"] = temp.display(target)
            fields["value"] = temp.interval(target).lo if temp.exact else None
    elif shows in ("size", "onset"):
        size = numbers.get(spec.size_field or spec.field)
        if size is not None:
            fields["value"], fields["display"] = size, f"{format_number(size)} {pretty_unit(spec.unit)}"
        elif shows == "size" and flags.get(spec.field) is not None:
            fields["display"] = "present, size not given" if flags[spec.field] else "absent"
        elif shows == "onset" and "age_years" in numbers:
            fields["display"] = f"current age {format_number(numbers['age_years'])} years"
    elif shows == "ratio":
        if out.exact is not None:
            value = round_half_up(out.exact, item.places)
            finite = math.isfinite(value)  # not when the ESR is a hair above 0: the ratio has no float
            fields["value"] = value if finite else None
            fields["display"] = format_number(value) if finite else "too large to show (ESR near 0)"
        elif not item.keys.isdisjoint(facts.labs):  # no exact ratio (a bound, a missing or zero divisor):
            # what was entered, never "not entered" when something was
            shown = [
                facts.labs[k].display() if k in facts.labs else "not entered"
                for k in (spec.numerator, spec.denominator)
            ]
            fields["display"] = " ÷ ".join(shown)
    elif shows == "organs":
        fields["display"] = _yes_no(facts, ("hepatomegaly", "splenomegaly"))
    elif shows == "answers":
        fields["display"] = _yes_no(facts, spec.fields)

    if item.contributes:
        if out.exact is not None:
            fields["points"] = round_half_up(out.exact, places or 4)
    elif item.scored and out.lo == out.hi:
        fields["points"] = _number(out.lo)
    if parts is not None:
        fields["components"] = parts
        fields["display"] = _composite_display(shows, parts)
    return ItemResult.model_validate(fields)


__all__ = ["cards"]
