"""The screen-wide signals from the instruments' statuses, written once for one patient and a cohort.

contract.md "The patient's own instruments" (revised 2026-12-06): the instruments built for the
patient's population (criteria/policy.yaml `populations`) alone move `mas_signal`; MAS/HLH
instruments met outside it are `other_population_met`. Statuses are codes (0 not met, 1 open, 2 met);
`disease` is the disease name (one patient) or codes into DISEASES (a cohort).
"""

from __future__ import annotations

import numpy as np

from mas_screen.criteria.loading import criteria
from mas_screen.criteria.spec_methods import DISEASES
from mas_screen.kernel.ops import MET, NOT_MET, select

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
        out = out | ((statuses[iid] == code) << bit)  # a bool shifted is 0 or the bit (int64 for arrays)
    return out


def _mask_of(own: tuple[str, ...], ids: tuple[str, ...]) -> int:
    """The bits (over `ids`) of the instruments in `own`."""
    return sum(1 << bit for bit, iid in enumerate(ids) if iid in own)


def _disease_index(disease) -> np.ndarray:
    """Each cohort row's disease code; a code naming no disease as len(DISEASES) (a table's last entry)."""
    codes = np.asarray(disease, np.int64)
    return select((codes >= 0) & (codes < len(DISEASES)), codes, len(DISEASES))


def _own_mask(ops, disease, ids: tuple[str, ...]):
    """The bits (over `ids`) of the patient's own instruments: one int, or each row's for a cohort
    (a table by disease code; a code outside DISEASES has none)."""
    if not ops.array:
        return _mask_of(own_instruments(disease), ids)
    table = np.asarray([*(_mask_of(own_instruments(name), ids) for name in DISEASES), 0], np.int64)
    return table[_disease_index(disease)]


def _signal(ops, statuses: dict, ids: tuple[str, ...], own):
    """0 suggestive (an own instrument met), 1 not suggestive (every own instrument not met),
    2 insufficient data; `own` is the bit mask (over `ids`) of the own instruments."""
    met = (_bits(ops, statuses, ids, MET) & own) != 0
    all_not_met = (_bits(ops, statuses, ids, NOT_MET) & own) == own
    return ops.where(met, 0, ops.where(all_not_met, 1, 2))


def signal_of(ops, statuses: dict, own: tuple[str, ...]):
    """`_signal` for one set of own instruments."""
    ids = tuple(statuses)
    return _signal(ops, statuses, ids, _mask_of(own, ids))


def others_met_of(ops, statuses: dict, own: tuple[str, ...]):
    """A bit per MAS/HLH instrument (mas_instruments() order) met but not one of `own`."""
    ids = mas_instruments()
    return _bits(ops, statuses, ids, MET) & ~_mask_of(own, ids)


def mas_signal(ops, statuses: dict, disease):
    """`_signal` of the patient's own instruments (each row's, for a cohort). A cohort row whose
    disease code names no disease gets 0, as it always has."""
    ids = tuple(statuses)
    signal = _signal(ops, statuses, ids, _own_mask(ops, disease, ids))
    return signal if not ops.array else ops.where(_disease_index(disease) < len(DISEASES), signal, 0)


def other_population_met(ops, statuses: dict, disease):
    """`others_met_of` the patient's own instruments (each row's, for a cohort)."""
    ids = mas_instruments()
    return _bits(ops, statuses, ids, MET) & ~_own_mask(ops, disease, ids)


def phlh_instrument() -> str:
    """The instrument whose status gives the MAS-vs-primary-HLH signal (policy.yaml `phlh`)."""
    return criteria().policy.phlh.instrument


def phlh_signal(ops, statuses: dict):
    """0 favours pHLH (its instrument, the MH score, met), 1 favours MAS (not met), 2 insufficient data."""
    mh = statuses[phlh_instrument()]
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
    "phlh_instrument",
    "phlh_signal",
    "signal_of",
]
