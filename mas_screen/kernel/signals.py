"""The screen-wide signals, from the instruments' statuses: `mas_signal` and `phlh_signal`.

Written once over statuses (codes 0 not met, 1 open, 2 met) for one patient or for every row.
"""

from __future__ import annotations

from mas_screen.kernel.ops import MET, NOT_MET

MAS_INSTRUMENTS = ("mas2016", "ms_score", "hscore", "hlh2004", "parodi2009", "ohi")
POPULATION_INSTRUMENTS = {
    "sjia": ("mas2016", "ms_score"),
    "suspected_sjia": ("mas2016", "ms_score"),
    "aosd": ("mas2016", "ms_score"),
    "sle": ("parodi2009",),
    "other": ("hscore", "hlh2004"),
    "unknown": ("hscore", "hlh2004"),
}
DISEASES = ("sjia", "suspected_sjia", "aosd", "sle", "other", "unknown")
MAS_SIGNALS = ("suggestive", "not_suggestive", "insufficient_data")
PHLH_SIGNALS = ("favours_phlh", "favours_mas", "insufficient_data")


def own_instruments(disease: str) -> tuple[str, ...]:
    """The instruments built for the patient's population."""
    return POPULATION_INSTRUMENTS.get(disease, POPULATION_INSTRUMENTS["unknown"])


def mas_signal(ops, statuses: dict, disease):
    """0 suggestive (any MAS/HLH instrument met), 1 not suggestive (every own instrument not met),
    2 insufficient data. `disease`: the disease name (one patient) or codes into DISEASES (a cohort)."""
    met_any = ops.count(statuses[iid] == MET for iid in MAS_INSTRUMENTS) > 0
    if ops.array:
        own_not_met = ops.false
        for position, name in enumerate(DISEASES):
            all_not_met = ops.count(statuses[iid] != NOT_MET for iid in own_instruments(name)) == 0
            own_not_met = own_not_met | ((disease == position) & all_not_met)
    else:
        own_not_met = all(statuses[iid] == NOT_MET for iid in own_instruments(disease))
    return ops.where(met_any, 0, ops.where(own_not_met, 1, 2))


def phlh_signal(ops, statuses: dict):
    """0 favours pHLH (MH score met), 1 favours MAS (not met), 2 insufficient data."""
    mh = statuses["mh_score"]
    return ops.where(mh == MET, 0, ops.where(mh == NOT_MET, 1, 2))


__all__ = [
    "DISEASES",
    "MAS_INSTRUMENTS",
    "MAS_SIGNALS",
    "PHLH_SIGNALS",
    "POPULATION_INSTRUMENTS",
    "mas_signal",
    "own_instruments",
    "phlh_signal",
]
