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

from mas_screen.explain.summary import slow_tests, tier_ranks
from mas_screen.kernel.combine import Verdict
from mas_screen.kernel.inputs import arrow
from mas_screen.kernel.instruments import Instrument
from mas_screen.kernel.ops import select
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
    arrays = [arrow.repeated("", n, kind)]  # never all-null (see batch._join_warnings)
    for key, rows in pieces:
        if rows.any():
            arrays.append(pc.if_else(arrow.numbers(rows), arrow.text(key, kind), arrow.text(None, kind)))
    if len(arrays) == 1:
        return arrays[0]
    joined = pc.binary_join_element_wise(*arrays, arrow.text(SEPARATOR, kind), null_handling="skip")
    return pc.utf8_ltrim(joined, characters=SEPARATOR)


def explain_columns(
    v, compiled: dict[str, Instrument], verdicts: dict[str, Verdict], disease: np.ndarray, phlh: np.ndarray
) -> dict[str, pa.Array]:
    """`<id>_missing` per instrument and `next_tests` per row, as explain.summary gives them: the
    inputs that can still change an open own instrument first, then the others', each by tier."""
    n = v.n
    cols: dict[str, pa.Array] = {}
    own_keys: dict[str, np.ndarray] = {}
    other_keys: dict[str, np.ndarray] = {}
    for iid, instrument in compiled.items():
        verdict = verdicts[iid]
        pairs = [pair for out in verdict.outs for pair in out.missing]
        mentions = first_mentions(pairs) + [(k, np.asarray(m, bool)) for k, m in verdict.extra_missing]
        cols[f"{iid}_missing"] = _join(mentions, n)
        listed: dict[str, np.ndarray] = {}
        for key, rows in mentions:
            listed[key] = listed.get(key, np.zeros(n, bool)) | rows
        own = _own_rows(iid, disease, n)
        for key, rows in instrument.relevant(v, verdict, listed, slow_tests()).items():
            rows = np.asarray(rows, bool)
            own_keys[key] = own_keys.get(key, np.zeros(n, bool)) | (rows & own)
            other_keys[key] = other_keys.get(key, np.zeros(n, bool)) | (rows & ~own)
    molecular = (np.asarray(phlh) == 0) & (v.flag(MOLECULAR) < 0)
    other_keys[MOLECULAR] = other_keys.get(MOLECULAR, np.zeros(n, bool)) | molecular
    ranks: dict[str, np.ndarray] = {}
    last = len(tier_ranks())
    for key in {*own_keys, *other_keys}:
        tier, place = tier_ranks().get(key, (last, 0))
        r = tier * 1000 + place
        own = own_keys.get(key, np.zeros(n, bool))
        other = other_keys.get(key, np.zeros(n, bool))
        ranks[key] = select(own, r, select(other, 10**6 + r, np.inf))
    cols["next_tests"] = _ordered(ranks, n)
    return cols


def _own_rows(iid: str, disease: np.ndarray, n: int) -> np.ndarray:
    """Rows whose population the instrument was built for (policy.yaml `populations`)."""
    out = np.zeros(n, bool)
    for position, name in enumerate(DISEASES):
        if iid in own_instruments(name):
            out |= disease == position
    return out


def _ordered(ranks: dict[str, np.ndarray], n: int) -> pa.Array:
    """Per row, the keys with a finite rank, lowest first, joined by SEPARATOR."""
    keys = [k for k, r in ranks.items() if np.isfinite(r).any()]
    if not keys:
        return arrow.repeated("", n)
    matrix = np.stack([ranks[k] for k in keys], axis=1)
    order = np.argsort(matrix, axis=1, kind="stable")
    kind = pa.large_string()
    labels = arrow.texts([None, *keys], kind)  # position 0: no key (null, skipped when joined)
    arrays = [arrow.repeated("", n, kind)]
    rows = np.arange(n)
    for p in range(len(keys)):
        idx = order[:, p]
        present = np.isfinite(matrix[rows, idx])
        if not present.any():
            break
        arrays.append(pc.take(labels, arrow.indices(select(present, idx + 1, 0))))
    joined = pc.binary_join_element_wise(*arrays, arrow.text(SEPARATOR, kind), null_handling="skip")
    return pc.utf8_ltrim(joined, characters=SEPARATOR)


__all__ = ["SEPARATOR", "explain_columns", "first_mentions"]
