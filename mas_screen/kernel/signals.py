"""The screen-wide signals from the instruments' statuses, written once for one patient and a cohort.

contract.md "The patient's own instruments" (revised 2026-12-06): the instruments built for the
patient's population (criteria/policy.yaml `populations`) alone move `mas_signal`; MAS/HLH
instruments met outside it are `other_population_met`. Statuses are codes (0 not met, 1 open, 2 met);
`disease` is the disease name (one patient) or codes into DISEASES (a cohort).
"""

from __future__ import annotations

import numpy as np

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


def _bits(ops, statuses: dict, ids: tuple[str, ...], code: int):
    """A bit per instrument of `ids` (in that order) whose status is `code`."""
    out = 0
    for bit, iid in enumerate(ids):
        out = out + ops.where(statuses[iid] == code, 1 << bit, 0)
    return out


def _own_mask(ops, disease, ids: tuple[str, ...]):
    """The bits (over `ids`) of the patient's own instruments: one int, or each row's for a cohort
    (a table by disease code; a code outside DISEASES has none)."""
    if not ops.array:
        own = own_instruments(disease)
        return sum(1 << bit for bit, iid in enumerate(ids) if iid in own)
    masks = [sum(1 << bit for bit, iid in enumerate(ids) if iid in own_instruments(name)) for name in DISEASES]
    codes = np.asarray(disease, np.int64)
    known = (codes >= 0) & (codes < len(DISEASES))
    return np.asarray([*masks, 0], np.int64)[np.where(known, codes, len(DISEASES))]


def _known_disease(ops, disease):
    """Rows whose disease code names a disease (always, for one patient)."""
    if not ops.array:
        return True
    codes = np.asarray(disease, np.int64)
    return (codes >= 0) & (codes < len(DISEASES))


def signal_of(ops, statuses: dict, own: tuple[str, ...]):
    """0 suggestive (an own instrument met), 1 not suggestive (every own instrument not met),
    2 insufficient data."""
    met = ops.count(statuses[i] == MET for i in own) > 0
    all_not_met = ops.count(statuses[i] != NOT_MET for i in own) == 0
    return ops.where(met, 0, ops.where(all_not_met, 1, 2))


def others_met_of(ops, statuses: dict, own: tuple[str, ...]):
    """A bit per MAS/HLH instrument (mas_instruments() order) met but not one of `own`."""
    return _bits(ops, statuses, mas_instruments(), MET) & ~_mask_of(own, mas_instruments())


def _mask_of(own: tuple[str, ...], ids: tuple[str, ...]) -> int:
    return sum(1 << bit for bit, iid in enumerate(ids) if iid in own)


def mas_signal(ops, statuses: dict, disease):
    """`signal_of` the patient's own instruments (each row's, for a cohort), by bit masks: an own
    instrument met, else every own instrument not met. A cohort row whose disease code names no
    disease gets 0, as it always has."""
    ids = tuple(statuses)
    own = _own_mask(ops, disease, ids)
    met = (_bits(ops, statuses, ids, MET) & own) != 0
    all_not_met = (_bits(ops, statuses, ids, NOT_MET) & own) == own
    signal = ops.where(met, 0, ops.where(all_not_met, 1, 2))
    return signal if not ops.array else ops.where(_known_disease(ops, disease), signal, 0)


def other_population_met(ops, statuses: dict, disease):
    """`others_met_of` the patient's own instruments (each row's, for a cohort)."""
    ids = mas_instruments()
    return _bits(ops, statuses, ids, MET) & ~_own_mask(ops, disease, ids)


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
