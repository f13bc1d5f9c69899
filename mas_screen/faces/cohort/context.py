"""Cohort screening, context cells by columns (yes/no answers, numbers, the disease), as one patient reads them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mas_screen.criteria.loading import criteria
from mas_screen.domain.fields import BOOLEAN_FIELDS, NUMERIC_CONTEXT_FIELDS
from mas_screen.faces.cohort.labs import Codes
from mas_screen.faces.cohort.plan import BatchPlan
from mas_screen.kernel.inputs import arrow
from mas_screen.kernel.inputs.columns import (
    Column,
    ColumnMap,
    convert_row,
)
from mas_screen.kernel.inputs.facts import normalise
from mas_screen.kernel.inputs.parsing import read_number_column
from mas_screen.kernel.signals import (
    DISEASES,
)

# ------------------------------------------------------------------------------------- context


@dataclass(slots=True)
class ContextValues:
    flags: dict[str, np.ndarray]  # int8: 1 yes, 0 no, -1 not known
    numbers: dict[str, np.ndarray]  # float64, NaN when not entered or left out
    number_warn: dict[str, np.ndarray]  # int16 warning code
    problems: dict[str, np.ndarray]  # int16 row-problem code per context field
    disease: np.ndarray  # int8 index into DISEASES
    biologic: np.ndarray


def _context_cells(key: str, cols: tuple[Column, ...], texts: list[pa.Array], n: int, codes: Codes):
    """(values as a Python list per distinct cell tuple, index per row) through convert_row."""
    if len(cols) == 1:
        encoded = pc.dictionary_encode(texts[0])
        dictionary = encoded.dictionary.to_pylist()
        index = arrow.to_numpy(encoded.indices, np.int64)
        keys = [(t,) for t in dictionary]
    else:
        joined = pc.binary_join_element_wise(*texts, arrow.text("\x1f"))
        encoded = pc.dictionary_encode(joined)
        index = arrow.to_numpy(encoded.indices, np.int64)
        keys = [tuple(s.split("\x1f")) for s in encoded.dictionary.to_pylist()]
    results = []
    cmap = ColumnMap(columns=list(cols))
    for cells in keys:
        rr = convert_row({c.name: t for c, t in zip(cols, cells, strict=True)}, cmap)
        problem = rr.problems[0].code if rr.problems else None
        results.append((rr.data.get("context", {}).get(key), codes(problem)))
    return results, index


def context_values(plan: BatchPlan, frame_texts: dict[str, pa.Array], n: int, codes: Codes) -> ContextValues:
    comma = plan.decimal_comma
    flags: dict[str, np.ndarray] = {}
    numbers: dict[str, np.ndarray] = {}
    number_warn: dict[str, np.ndarray] = {}
    problems: dict[str, np.ndarray] = {}
    enums: dict[str, np.ndarray] = {}
    for key, cols in plan.context.items():
        texts = [frame_texts[c.name] for c in cols]
        if key in NUMERIC_CONTEXT_FIELDS:
            numbers[key], number_warn[key], problems[key] = _numbers(key, cols, texts, n, codes, comma)
            continue
        results, index = _context_cells(key, cols, texts, n, codes)
        problems[key] = np.array([p for _, p in results], np.int16)[index] if results else np.zeros(n, np.int16)
        if key in BOOLEAN_FIELDS:
            table = np.array([-1 if v is None else int(bool(v)) for v, _ in results] or [-1], np.int8)
            flags[key] = table[index] if results else np.full(n, -1, np.int8)
        else:
            choices = DISEASES if key == "underlying_disease" else ("none", "il1", "il6", "other", "unknown")
            table = np.array([choices.index(v) if v is not None else choices.index("unknown") for v, _ in results])
            enums[key] = table[index].astype(np.int8) if results else np.full(n, choices.index("unknown"), np.int8)
    for key in BOOLEAN_FIELDS:
        flags.setdefault(key, np.full(n, -1, np.int8))
    for key in NUMERIC_CONTEXT_FIELDS:
        numbers.setdefault(key, np.full(n, np.nan))
        number_warn.setdefault(key, np.zeros(n, np.int16))
    disease = enums.get("underlying_disease", np.full(n, DISEASES.index("unknown"), np.int8))
    biologic = enums.get("biologic_therapy", np.full(n, 4, np.int8))
    return ContextValues(flags, numbers, number_warn, problems, disease, biologic)


def _numbers(key: str, cols: tuple[Column, ...], texts: list[pa.Array], n: int, codes: Codes, decimal_comma: bool):
    """A numeric context field: plain numbers by columns, anything else through the core."""
    plaus = criteria().analytes.context_numbers[key].plausible
    values = np.full(n, np.nan)
    warn = np.zeros(n, np.int16)
    problem = np.zeros(n, np.int16)
    if len(cols) == 1:
        read = read_number_column(texts[0], decimal_comma=decimal_comma)
        plain = (read.kind == 1) & (read.op == 0) & np.isnan(read.other)  # bounds and "12.500": the core
        if plain.any():
            x = read.x
            negative = plain & (x < 0)
            implausible = plain & ~negative & ~((x >= plaus.min) & (x <= plaus.max))
            warn[negative] = codes("negative")
            warn[implausible] = codes("implausible")
            good = plain & ~negative & ~implausible
            values[good] = x[good]
        slow = (read.kind != 0) & ~plain
    else:
        slow = np.zeros(n, bool)
        for t in texts:
            slow |= ~arrow.to_numpy(pc.equal(pc.binary_length(t), 0), bool)
    rows = np.flatnonzero(slow)
    if len(rows):
        sub = [pc.take(t, arrow.indices(rows)).to_pylist() for t in texts]
        cmap = ColumnMap(columns=list(cols))
        memo: dict[tuple[str, ...], tuple[float, int, int]] = {}
        for i, row in enumerate(rows.tolist()):
            cells = tuple(s[i] for s in sub)
            found = memo.get(cells)
            if found is None:
                rr = convert_row({c.name: c_t for c, c_t in zip(cols, cells, strict=True)}, cmap)
                p = codes(rr.problems[0].code) if rr.problems else 0
                raw = rr.data.get("context", {}).get(key)
                value, w = math.nan, 0
                if raw is not None:
                    data = {"context": {key: raw}, "decimal_comma": decimal_comma}
                    from mas_screen.domain.models import PatientInput  # rare: pydantic only here

                    facts, warnings = normalise(PatientInput.model_validate(data))
                    value = facts.numbers.get(key, math.nan)
                    w = codes(warnings[0].code) if warnings else 0
                found = memo[cells] = (value, w, p)
            values[row], warn[row], problem[row] = found
    return values, warn, problem
