"""What the bedside explains, for every row of a cohort: each instrument's missing inputs and the
row's next tests, equal to `assess()` (batch `--explain`).

The same kernel answers as for one patient, as arrays: items list their missing inputs with one
condition per row, each instrument tries each missing input at its two ends (`Instrument.decides`),
and the row's keys are ordered as the single-patient summary orders them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mas_screen.explain.summary import SLOW_TESTS
from mas_screen.kernel.combine import Verdict
from mas_screen.kernel.instruments import Instrument
from mas_screen.kernel.ops import MISSING
from mas_screen.kernel.signals import DISEASES, own_instruments

SEPARATOR = ";"
MOLECULAR = "hlh_molecular_diagnosis"


def first_mentions(pairs: list) -> list[tuple[str, np.ndarray]]:
    """(key, rows where this pair is the key's first listing): a key repeated later adds only new rows."""
    seen: dict[str, np.ndarray] = {}
    out = []
    for key, listed in pairs:
        before = seen.get(key)
        emit = listed if before is None else listed & ~before
        seen[key] = listed if before is None else before | listed
        out.append((key, np.asarray(emit, bool)))
    return out


def _join(pieces: list[tuple[str, np.ndarray]], n: int) -> pa.Array:
    """Per row, the keys whose condition holds, in order, joined by SEPARATOR ('' when none)."""
    kind = pa.large_string()
    arrays = [pa.array(np.full(n, ""), kind)]  # never all-null (see batch._join_warnings)
    for key, rows in pieces:
        if rows.any():
            arrays.append(pc.if_else(pa.array(rows), pa.scalar(key, kind), pa.scalar(None, kind)))
    if len(arrays) == 1:
        return arrays[0]
    joined = pc.binary_join_element_wise(*arrays, pa.scalar(SEPARATOR, kind), null_handling="skip")
    return pc.utf8_ltrim(joined, characters=SEPARATOR)


def explain_columns(
    v, compiled: dict[str, Instrument], verdicts: dict[str, Verdict], disease: np.ndarray, phlh: np.ndarray
) -> dict[str, pa.Array]:
    """`<id>_missing` per instrument and `next_tests` per row."""
    n = v.n
    cols: dict[str, pa.Array] = {}
    chosen: dict[str, list[tuple[str, np.ndarray]]] = {}  # per instrument: (key, rows) in missing order
    for iid, instrument in compiled.items():
        verdict = verdicts[iid]
        pairs = [pair for out in verdict.outs for pair in out.missing]
        mentions = first_mentions(pairs) + [(k, np.asarray(m, bool)) for k, m in verdict.extra_missing]
        cols[f"{iid}_missing"] = _join(mentions, n)
        chosen[iid] = _decisive(v, instrument, verdict, mentions)

    # The union over instruments, the row's own instruments first (explain.summary's order).
    ranks: dict[str, np.ndarray] = {}
    order_of = {name: list(own_instruments(name)) for name in DISEASES}
    for name in order_of:
        own = order_of[name]
        order_of[name] = own + [iid for iid in compiled if iid not in own]
    for position, name in enumerate(DISEASES):
        rows = disease == position
        if not rows.any():
            continue
        for o, iid in enumerate(order_of[name]):
            for j, (key, include) in enumerate(chosen.get(iid, [])):
                rank = ranks.setdefault(key, np.full(n, np.inf))
                here = rows & include
                rank[here] = np.minimum(rank[here], o * 10_000 + j)
    rank = ranks.setdefault(MOLECULAR, np.full(n, np.inf))
    extra = (phlh == 0) & (v.flag(MOLECULAR) < 0) & np.isinf(rank)
    rank[extra] = 1e9
    cols["next_tests"] = _ordered(ranks, n)
    return cols


def _decisive(v, instrument: Instrument, verdict: Verdict, mentions) -> list[tuple[str, np.ndarray]]:
    """(key, rows where it is one of the instrument's next tests), in missing order."""
    open_ = np.asarray(verdict.status == MISSING)
    if not open_.any():
        return []
    listed: dict[str, np.ndarray] = {}
    for key, rows in mentions:
        listed[key] = listed.get(key, np.zeros(v.n, bool)) | rows
    tally = instrument.rule.tally(v.ops, verdict.outs)
    decided: dict[str, np.ndarray] = {}
    for key, rows in listed.items():
        if key in SLOW_TESTS:
            continue
        test = rows & open_
        decided[key] = test & instrument.decides(v, verdict.outs, tally, key) if test.any() else test
    found_any = np.zeros(v.n, bool)
    for rows in decided.values():
        found_any |= rows
    out = []
    for key, rows in mentions:
        if key in SLOW_TESTS:
            continue
        mine = decided.get(key, np.zeros(v.n, bool))
        out.append((key, rows & open_ & np.where(found_any, mine, True)))
    return out


def _ordered(ranks: dict[str, np.ndarray], n: int) -> pa.Array:
    """Per row, the keys with a finite rank, lowest first, joined by SEPARATOR."""
    keys = [k for k, r in ranks.items() if np.isfinite(r).any()]
    if not keys:
        return pa.array(np.full(n, ""), pa.large_string())
    matrix = np.stack([ranks[k] for k in keys], axis=1)
    order = np.argsort(matrix, axis=1, kind="stable")
    names = np.array(keys, dtype=object)
    pieces = []
    for p in range(len(keys)):
        idx = order[:, p]
        present = np.isfinite(matrix[np.arange(n), idx])
        if not present.any():
            break
        pieces.append((names[idx], present))
    kind = pa.large_string()
    arrays = [pa.array(np.full(n, ""), kind)]
    for values, present in pieces:
        arrays.append(pa.array(np.where(present, values, None), kind))
    joined = pc.binary_join_element_wise(*arrays, pa.scalar(SEPARATOR, kind), null_handling="skip")
    return pc.utf8_ltrim(joined, characters=SEPARATOR)


__all__ = ["SEPARATOR", "explain_columns", "first_mentions"]
