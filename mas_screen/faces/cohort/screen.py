"""Cohort screening, the screen itself: every instrument over the kernel's arrays, the summary signals,
warnings, result columns and counts (one row = what `assess()` gives for that row)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.domain.fields import NUMERIC_CONTEXT_FIELDS
from mas_screen.faces.cohort.context import context_values
from mas_screen.faces.cohort.labs import Codes, cell_texts, lab_values
from mas_screen.faces.cohort.plan import (
    OTHER_SEPARATOR,
    PHLH_NAMES,
    SIGNAL_NAMES,
    STATUS_NAMES,
    WARNING_SEPARATOR,
    BatchPlan,
    plan_columns,
    range_instruments,
)
from mas_screen.kernel.cohort import CohortValues
from mas_screen.kernel.inputs import arrow
from mas_screen.kernel.inputs.facts import ORGAN_FIELDS
from mas_screen.kernel.instruments import instruments, per_criteria
from mas_screen.kernel.ops import select
from mas_screen.kernel.signals import (
    mas_instruments,
    mas_signal,
    other_population_met,
    phlh_signal,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    from mas_screen.faces.cohort.lazy_pandas import pd

# --------------------------------------------------------------------------------- instruments


@dataclass(slots=True)
class Result:
    status: np.ndarray  # int8 0/1/2
    score: np.ndarray | None = None  # float64, NaN = null
    count_met: np.ndarray | None = None
    score_min: np.ndarray | None = None
    score_max: np.ndarray | None = None


def _result(verdict) -> Result:
    """A kernel verdict over the rows as the batch's output columns need it."""
    out = Result(np.asarray(verdict.status, np.int8))
    if verdict.score is not None:
        out.score = np.asarray(verdict.score, np.float64)
    if verdict.count_met is not None:
        out.count_met = verdict.count_met
    low_high = verdict.score_range if verdict.score_range is not None else verdict.score_bounds
    if low_high is not None:
        out.score_min, out.score_max = low_high
    return out


# ---------------------------------------------------------------------------------- whole frame


@dataclass(slots=True)
class Screened:
    results: dict[str, Result]
    mas_signal: np.ndarray  # int8 index into SIGNAL_NAMES
    other_met: np.ndarray  # int8 bit set over policy mas_instruments (other_population_names())
    phlh_signal: np.ndarray
    warnings: pa.Array  # large_string: "field:code; field:code"
    slow_cells: int
    explained: dict[str, pa.Array] | None = None  # `<id>_missing`, `next_tests` (plan.explain)


def _conflicts(f: CohortValues, codes: Codes) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """`facts._conflicts` by columns, in the same order."""
    conv = criteria().analytes.fever_convention
    febrile_conflict = np.zeros(f.n, np.int16)
    if "temperature" in f.labs:
        iv = f.lab_interval("temperature", conv.unit)
        hit = (f.flag("febrile") == 0) & f.entered("temperature") & (iv.lo >= conv.threshold)
        febrile_conflict[hit] = codes("conflict")
    onset, age = f.number("age_at_onset_years"), f.number("age_years")
    with np.errstate(invalid="ignore"):
        age_conflict = select(onset > age, codes("conflict"), 0).astype(np.int16)
        organ_conflicts = [
            select((f.flag(organ) == 0) & (f.number(f"{organ}_cm") > 0), codes("conflict"), 0).astype(np.int16)
            for organ in ORGAN_FIELDS
        ]
    return febrile_conflict, age_conflict, organ_conflicts


def _join_warnings(slots: list[tuple[str, np.ndarray]], codes: Codes, n: int) -> pa.Array:
    """ "field:code; field:code" per row, built by Arrow kernels over the rows that have any ("" else)."""
    label_type = pa.large_string()
    slots = [(name, code) for name, code in slots if code.any()]
    if not slots:
        return arrow.repeated("", n, label_type)
    warned = np.zeros(n, bool)
    for _, code in slots:
        warned |= code > 0
    rows = np.flatnonzero(warned)
    # A leading empty piece that is never null: pyarrow 26 drops rows whose pieces are all null
    # when joining with null_handling="skip"; the leading separator is trimmed afterwards.
    pieces = [arrow.repeated("", len(rows), label_type)]
    for name, code in slots:
        labels = arrow.texts([None] + [f"{name}:{c}" for c in codes.names[1:]], label_type)
        pieces.append(pc.take(labels, arrow.indices(code[rows])))
    joined = pc.binary_join_element_wise(*pieces, arrow.text(WARNING_SEPARATOR, label_type), null_handling="skip")
    joined = pc.utf8_ltrim(joined, characters=WARNING_SEPARATOR)
    where = np.full(n, len(rows), np.int64)  # rows without warnings point at a final ""
    where[rows] = np.arange(len(rows))
    return pc.take(pa.concat_arrays([joined, arrow.repeated("", 1, label_type)]), arrow.indices(where))


def screen_arrays(plan: BatchPlan, texts: dict[str, pa.Array], n: int) -> Screened:
    """The columnar engine over cell texts (column name → text array)."""
    codes = Codes()
    labs = {
        key: lab_values(key, cols, [texts[c.name] for c in cols], n, codes, plan.decimal_comma)
        for key, cols in plan.labs.items()
    }
    ctx = context_values(plan, texts, n, codes)
    f = CohortValues(n, labs, ctx.flags, ctx.numbers, ctx.disease, explain=plan.explain)
    compiled = instruments()
    # A verdict holds every item's outcome over the rows (~1 MB per item per 50,000 rows): kept only
    # for --explain, else dropped as soon as its result columns are taken, so a slice's memory stays
    # at about half (fewer fresh pages: ~0.1 s of page clearing per 400,000 rows on two threads).
    verdicts, results = {}, {}
    for iid, instrument in compiled.items():
        verdict = instrument.evaluate(f)
        results[iid] = _result(verdict)
        if plan.explain:
            verdicts[iid] = verdict
        del verdict
    statuses = {iid: r.status for iid, r in results.items()}
    mas = mas_signal(f.ops, statuses, ctx.disease).astype(np.int8)
    phlh = phlh_signal(f.ops, statuses).astype(np.int8)
    other = np.asarray(other_population_met(f.ops, statuses, ctx.disease), np.int8)
    explained = None
    if plan.explain:  # the explanation layer (and the pydantic models it reads) only when asked for
        from mas_screen.explain.cohort import explain_columns

        explained = explain_columns(f, compiled, verdicts, ctx.disease, phlh)

    febrile_conflict, age_conflict, organ_conflicts = _conflicts(f, codes)
    slots: list[tuple[str, np.ndarray]] = [(key, labs[key].warn) for key in plan.lab_order]
    slots += [(name, ctx.number_warn[name]) for name in NUMERIC_CONTEXT_FIELDS]
    slots += [("febrile", febrile_conflict), ("age_at_onset_years", age_conflict)]
    slots += list(zip(ORGAN_FIELDS, organ_conflicts, strict=True))
    for kind, key in plan.target_order:  # row problems, in convert_row's order
        slots.append((key, labs[key].problem if kind == "lab" else ctx.problems[key]))
    warnings = _join_warnings(slots, codes, n)
    slow = sum(lab.slow_cells for lab in labs.values())
    return Screened(results, mas, other, phlh, warnings, slow, explained)


@per_criteria
def other_population_names() -> tuple[str, ...]:
    """The `other_population_met` cell for each bit set: the ids in contract order, ";"-joined."""
    ids = mas_instruments()
    return tuple(
        OTHER_SEPARATOR.join(iid for bit, iid in enumerate(ids) if code >> bit & 1) for code in range(1 << len(ids))
    )


def _dictionary(codes: np.ndarray, names: tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(arrow.numbers(codes.astype(np.int8)), arrow.texts(names, pa.string()))


def _numbers_array(values: np.ndarray | None, n: int, integer: bool) -> pa.Array:
    if values is None:
        values = np.full(n, np.nan)
    mask = np.isnan(values)
    if integer:
        return arrow.numbers(select(mask, 0, values).astype(np.int64), mask=mask)
    return arrow.numbers(np.asarray(values, np.float64), mask=mask)


def results_arrays(screened: Screened) -> dict[str, pa.Array]:
    """The output columns (contract "Batch" plus extensions) as Arrow arrays."""
    cols: dict[str, pa.Array] = {}
    ranged = range_instruments()
    for iid, instrument in instruments().items():
        r = screened.results[iid]
        n = len(r.status)
        integer = instrument.integer_points
        cols[f"{iid}_status"] = _dictionary(r.status, STATUS_NAMES)
        cols[f"{iid}_score"] = _numbers_array(r.score, n, integer)
        count = None if r.count_met is None else r.count_met.astype(np.float64)
        cols[f"{iid}_count_met"] = _numbers_array(count, n, True)
        if iid in ranged:
            cols[f"{iid}_score_min"] = _numbers_array(r.score_min, n, integer)
            cols[f"{iid}_score_max"] = _numbers_array(r.score_max, n, integer)
        if screened.explained is not None:
            cols[f"{iid}_missing"] = screened.explained[f"{iid}_missing"]
    cols["mas_signal"] = _dictionary(screened.mas_signal, SIGNAL_NAMES)
    cols["other_population_met"] = _dictionary(screened.other_met, other_population_names())
    cols["phlh_signal"] = _dictionary(screened.phlh_signal, PHLH_NAMES)
    cols["warnings"] = screened.warnings
    if screened.explained is not None:
        cols["next_tests"] = screened.explained["next_tests"]
    return cols


def results_frame(screened: Screened, index: pd.Index) -> pd.DataFrame:
    nullable = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}
    frame = pa.table(results_arrays(screened)).to_pandas(types_mapper=nullable.get)
    frame.index = index
    return frame


def screened_counts(screened: Screened) -> dict[str, int]:
    """Status, signal and warning counts of one screened piece (summable)."""
    counts = {"rows": len(screened.mas_signal)}
    for iid in instrument_ids():
        found = np.bincount(screened.results[iid].status, minlength=3)
        for position, name in enumerate(STATUS_NAMES):
            counts[f"{iid}:{name}"] = int(found[position])
    for key, values, names in (
        ("mas_signal", screened.mas_signal, SIGNAL_NAMES),
        ("phlh_signal", screened.phlh_signal, PHLH_NAMES),
    ):
        found = np.bincount(values, minlength=len(names))
        for position, name in enumerate(names):
            counts[f"{key}:{name}"] = int(found[position])
    for bit, iid in enumerate(mas_instruments()):
        counts[f"other_population_met:{iid}"] = int(np.count_nonzero(screened.other_met & (1 << bit)))
    warned = arrow.to_numpy(pc.binary_length(screened.warnings)) > 0
    counts["rows_with_warnings"] = int(np.count_nonzero(warned))
    return counts


def screen_frame(
    df: pd.DataFrame,
    *,
    unknown: Literal["error", "ignore"] = "error",
    require_id: bool = True,
    explain: bool = False,
    decimal_comma: bool = False,
) -> pd.DataFrame:
    """Screen every row of a "Batch" table: the input columns plus every instrument's result.

    Adds `<id>_status`, `<id>_score`, `<id>_count_met` for the 8 instruments, `<id>_score_min` /
    `<id>_score_max` for HScore, MH score (score_range) and MS score (score_bounds), `mas_signal`,
    `phlh_signal` and `warnings` ("field:code; field:code", input warnings as `assess()` gives them,
    then column problems such as two_units or bad_value). With `explain`, also each instrument's
    `<id>_missing` and the row's `next_tests` (";"-joined input keys, as `assess()` gives them).
    Raises BatchError when the table cannot be screened (no id column, unknown columns unless
    unknown="ignore"). `decimal_comma`: numbers in cells use "," as the decimal mark and "." between
    thousands (contract "Number spelling").
    """
    plan = plan_columns(
        list(df.columns), unknown=unknown, require_id=require_id, explain=explain, decimal_comma=decimal_comma
    )
    return screen_with_plan(df, plan)


BLOCK_ROWS = 1 << 17  # rows screened together: arrays stay cache-sized and memory is reused
THREADS = min(4, os.cpu_count() or 1)


def screen_blocks(plan: BatchPlan, texts: dict[str, pa.Array], n: int, threads: int | None = None) -> Screened:
    """screen_arrays over row blocks, on a small thread pool (the kernels release the GIL)."""
    starts = list(range(0, n, BLOCK_ROWS)) or [0]
    if len(starts) == 1:
        return screen_arrays(plan, texts, n)

    def block(start: int) -> Screened:
        size = min(BLOCK_ROWS, n - start)
        return screen_arrays(plan, {k: v.slice(start, size) for k, v in texts.items()}, size)

    workers = min(threads or THREADS, len(starts))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(block, starts))
    else:
        parts = [block(start) for start in starts]
    return _concat(parts)


def _concat(parts: list[Screened]) -> Screened:
    def cat(get):
        values = [get(p) for p in parts]
        if values[0] is None:
            return None
        return pa.concat_arrays(values) if isinstance(values[0], pa.Array) else np.concatenate(values)

    results = {}
    for iid in parts[0].results:
        results[iid] = Result(
            cat(lambda p, i=iid: p.results[i].status),
            score=cat(lambda p, i=iid: p.results[i].score),
            count_met=cat(lambda p, i=iid: p.results[i].count_met),
            score_min=cat(lambda p, i=iid: p.results[i].score_min),
            score_max=cat(lambda p, i=iid: p.results[i].score_max),
        )
    explained = None
    if parts[0].explained is not None:
        explained = {k: cat(lambda p, k=k: p.explained[k]) for k in parts[0].explained}
    return Screened(
        results,
        cat(lambda p: p.mas_signal),
        cat(lambda p: p.other_met),
        cat(lambda p: p.phlh_signal),
        cat(lambda p: p.warnings),
        sum(p.slow_cells for p in parts),
        explained,
    )


def screen_with_plan(df: pd.DataFrame, plan: BatchPlan, threads: int | None = None) -> pd.DataFrame:
    n = len(df)
    used = {c.name for cols in (*plan.labs.values(), *plan.context.values()) for c in cols}
    texts = {name: cell_texts(df[name]) for name in used}
    screened = screen_blocks(plan, texts, n, threads)
    out = results_frame(screened, df.index)
    keep = df.drop(columns=[c for c in out.columns if c in df.columns])
    result = pd.concat([keep.reset_index(drop=True), out.reset_index(drop=True)], axis=1)
    result.index = df.index
    result.attrs["slow_cells"] = screened.slow_cells
    return result


@lru_cache(maxsize=64)  # bounded: keyed by the column names of the files screened
def _plan(names: tuple[str, ...], unknown: str, require_id: bool, explain: bool, decimal_comma: bool) -> BatchPlan:
    return plan_columns(names, unknown=unknown, require_id=require_id, explain=explain, decimal_comma=decimal_comma)


def screen_partition(
    df: pd.DataFrame,
    unknown: str = "error",
    require_id: bool = True,
    threads: int = 1,
    explain: bool = False,
    decimal_comma: bool = False,
) -> pd.DataFrame:
    """The per-partition function (file chunks, Dask partitions): screen_frame on one piece."""
    plan = _plan(tuple(map(str, df.columns)), unknown, require_id, explain, decimal_comma)
    return screen_with_plan(df, plan, threads)


# -------------------------------------------------------------------------------------- summary


def _value_counts(series: pd.Series, names: tuple[str, ...]) -> list[int]:
    if isinstance(series.dtype, pd.CategoricalDtype) and list(series.cat.categories) == list(names):
        return np.bincount(series.cat.codes.to_numpy()[series.cat.codes.to_numpy() >= 0], minlength=len(names)).tolist()
    values = series.astype("str")
    return [int((values == name).sum()) for name in names]


def partition_counts(df: pd.DataFrame) -> pd.DataFrame:
    """One row of counts for a screened frame (summable across chunks and partitions)."""
    counts: dict[str, int] = {"rows": len(df)}
    for iid in instrument_ids():
        for name, k in zip(STATUS_NAMES, _value_counts(df[f"{iid}_status"], STATUS_NAMES), strict=True):
            counts[f"{iid}:{name}"] = int(k)
    for column, names in (("mas_signal", SIGNAL_NAMES), ("phlh_signal", PHLH_NAMES)):
        for name, k in zip(names, _value_counts(df[column], names), strict=True):
            counts[f"{column}:{name}"] = int(k)
    other = _value_counts(df["other_population_met"], other_population_names())
    for bit, iid in enumerate(mas_instruments()):
        counts[f"other_population_met:{iid}"] = sum(k for code, k in enumerate(other) if code & (1 << bit))
    warned = df["warnings"].astype("str").fillna("")
    counts["rows_with_warnings"] = int((warned != "").sum())
    return pd.DataFrame([counts])


def summarise_counts(counts: pd.DataFrame | pd.Series | dict) -> dict:
    """Turn summed counts into the summary dict (see summarise_results)."""
    total = counts if isinstance(counts, dict) else counts.sum() if counts.ndim == 2 else counts
    out: dict[str, Any] = {
        "rows": int(total["rows"]),
        "status": {iid: {name: int(total[f"{iid}:{name}"]) for name in STATUS_NAMES} for iid in instrument_ids()},
        "mas_signal": {name: int(total[f"mas_signal:{name}"]) for name in SIGNAL_NAMES},
        "phlh_signal": {name: int(total[f"phlh_signal:{name}"]) for name in PHLH_NAMES},
        "other_population_met": {iid: int(total[f"other_population_met:{iid}"]) for iid in mas_instruments()},
        "rows_with_warnings": int(total["rows_with_warnings"]),
    }
    return out


def summarise_results(df: pd.DataFrame) -> dict:
    """Summary of a screened frame: rows, per-instrument status counts, signals, rows with warnings,
    and the count of each warning code ("field:code")."""
    summary = summarise_counts(partition_counts(df))
    warned = df["warnings"].astype("str").fillna("")
    codes = warned[warned != ""].str.split(WARNING_SEPARATOR).explode()
    summary["warnings"] = {str(k): int(v) for k, v in codes.value_counts().sort_index().items()}
    return summary
