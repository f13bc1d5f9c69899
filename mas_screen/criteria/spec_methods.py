"""The schema's names and what the criteria objects can answer beyond their fields, without pydantic.

The schema's models (criteria/schema.py, pydantic: they validate the YAML) and their detached copies
(criteria/detached.py, plain objects: what a batch run loads, without importing pydantic) both take
these methods from here, so a unit's factor or an instrument's item is worked out in one place. The mixins declare no
fields (pydantic would take an annotation here for a field of the model).
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from typing import Any

# contract.md "Output": these criterion ids are always present (more may be added as YAML files).
CONTRACT_IDS = ("mas2016", "ms_score", "mh_score", "hscore", "hlh2004", "ferritin_esr", "parodi2009", "ohi")
# criteria/*.yaml files that are not instruments; every other YAML file there is one instrument.
DATA_FILES = frozenset({"analytes.yaml", "policy.yaml", "cds_hooks.yaml"})

# Every value of `context.underlying_disease` (contract), in the contract's order.
DISEASES = ("sjia", "suspected_sjia", "aosd", "sle", "other", "unknown")

# The yes/no context answers (contract "Input"), in the contract's order.
BOOLEAN_FIELDS = (
    "febrile",
    "hepatomegaly",
    "splenomegaly",
    "cns_involvement",
    "hemorrhagic_manifestations",
    "active_arthritis",
    "hemophagocytosis_marrow",
    "hemophagocytosis_other_site",
    "known_immunosuppression",
    "nk_activity_low",
    "hlh_molecular_diagnosis",
    "hematologic_malignancy",
)


# "a/b" factors are divided in this context, whatever context the caller runs in (exact code raises
# its precision): a factor is one number everywhere, to 28 significant digits (Python's default).
_FACTOR_CONTEXT = Context(prec=28)


@cache  # keyed by the factor as written in analytes.yaml: one number per text, never stale
def parse_factor(value: Any) -> Decimal:
    """A conversion factor as a Decimal: exact, or an "a/b" string divided to 28 significant digits."""
    if isinstance(value, str):
        try:
            if "/" in value:
                num, den = value.split("/", 1)
                return _FACTOR_CONTEXT.divide(Decimal(num.strip()), Decimal(den.strip()))
            return Decimal(value.strip())
        except (InvalidOperation, ZeroDivisionError) as exc:
            raise ValueError(f"factor {value!r} is not a number or a ratio a/b") from exc
    if isinstance(value, Fraction):  # pragma: no cover - YAML gives no Fractions
        return _FACTOR_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Decimal(repr(value))


class UnitSpecMethods:
    @property
    def factor_decimal(self) -> Decimal:
        return parse_factor(self.factor)


class AnalyteSpecMethods:
    def unit(self, name: str):
        for u in self.units:
            if u.unit == name:
                return u
        raise KeyError(name)


class BandMethods:
    @property
    def conditions(self) -> list[tuple[str, int | float]]:
        pairs = ((">", self.gt), (">=", self.ge), ("<", self.lt), ("<=", self.le))
        return [(c, t) for c, t in pairs if t is not None]


class ItemSpecMethods:
    def sub_items(self) -> list:
        return list(self.items or [])


class InstrumentSpecMethods:
    def item(self, item_id: str):
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)


class PolicyFileMethods:
    def tier_of(self, key: str):
        """The next-test tier that lists `key` (policy.yaml: a key sits in one tier only)."""
        for tier in self.next_test_tiers:
            if key in tier.keys:
                return tier
        raise KeyError(key)
