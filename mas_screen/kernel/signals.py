"""The screen-wide signals from the instruments' statuses, written once for one patient and a cohort.

contract.md "The patient's own instruments" (revised 2026-12-06): the instruments built for the
patient's population (criteria/policy.yaml `populations`) alone move `mas_signal`; MAS/HLH
instruments met outside it are `other_population_met`. Statuses are codes (0 not met, 1 open, 2 met);
`disease` is the disease name (one patient) or codes into DISEASES (a cohort).
"""

from __future__ import annotations

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.schema import DISEASES
from mas_screen.kernel.ops import MET, NOT_MET

MAS_SIGNALS = ("suggestive", "not_suggestive", "insufficient_data")
PHLH_SIGNALS = ("favours_phlh", "favours_mas", "insufficient_data")


def own_instruments(disease: str) -> tuple[str, ...]:
    """The instruments built for the patient's population (policy.yaml `populations`)."""
    pops = criteria().policy.populations
    return tuple((pops.get(disease) or pops["unknown"]).instruments)


def mas_instruments() -> tuple[str, ...]:
    """The MAS/HLH instruments, in the contract's order of `other_population_met`."""
    return tuple(criteria().policy.mas_instruments)


def _by_disease(ops, disease, per_disease):
    """per_disease(name) for one patient; for a cohort, each row's value for its own disease."""
    if not ops.array:
        return per_disease(disease)
    out = None
    for position, name in enumerate(DISEASES):
        rows = disease == position
        if not rows.any():
            continue
        value = per_disease(name)
        out = ops.where(rows, value, 0 if out is None else out)
    return ops.full(0) if out is None else out


def signal_of(ops, statuses: dict, own: tuple[str, ...]):
    """0 suggestive (an own instrument met), 1 not suggestive (every own instrument not met),
    2 insufficient data."""
    met = ops.count(statuses[i] == MET for i in own) > 0
    all_not_met = ops.count(statuses[i] != NOT_MET for i in own) == 0
    return ops.where(met, 0, ops.where(all_not_met, 1, 2))


def others_met_of(ops, statuses: dict, own: tuple[str, ...]):
    """A bit per MAS/HLH instrument (mas_instruments() order) met but not one of `own`."""
    out = 0
    for bit, iid in enumerate(mas_instruments()):
        if iid not in own:
            out = out + ops.where(statuses[iid] == MET, 1 << bit, 0)
    return out


def mas_signal(ops, statuses: dict, disease):
    """`signal_of` the patient's own instruments (each row's, for a cohort)."""
    return _by_disease(ops, disease, lambda name: signal_of(ops, statuses, own_instruments(name)))


def other_population_met(ops, statuses: dict, disease):
    """`others_met_of` the patient's own instruments (each row's, for a cohort)."""
    return _by_disease(ops, disease, lambda name: others_met_of(ops, statuses, own_instruments(name)))


def phlh_signal(ops, statuses: dict):
    """0 favours pHLH (MH score met), 1 favours MAS (not met), 2 insufficient data."""
    mh = statuses["mh_score"]
    return ops.where(mh == MET, 0, ops.where(mh == NOT_MET, 1, 2))


__all__ = [
    "DISEASES",
    "MAS_SIGNALS",
    "PHLH_SIGNALS",
    "mas_instruments",
    "mas_signal",
    "other_population_met",
    "others_met_of",
    "own_instruments",
    "phlh_signal",
    "signal_of",
]
