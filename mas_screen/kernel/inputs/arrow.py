"""Arrow arrays and scalars built from numpy buffers directly, for the cohort path.

pyarrow's generic constructors (`pa.array`, `pa.scalar`, and every compute function handed a Python
value or a numpy array) first ask whether the value is a pandas object, and asking imports pandas:
0.19 s, a third of the time the least CSV -> Parquet process takes for 400,000 rows (issue 14).
Screening a file builds its Arrow values here instead; tests/test_batch_no_pandas.py checks that a
batch run from CSV or Parquet to Parquet or CSV never imports pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa

_TYPES = {
    np.dtype(np.float64): pa.float64(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.int16): pa.int16(),
    np.dtype(np.int8): pa.int8(),
    np.dtype(np.uint8): pa.uint8(),
}


def _validity(valid: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(np.ascontiguousarray(valid, bool), bitorder="little"))


def numbers(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """A numeric or boolean numpy array as an Arrow array (null where `mask` is True)."""
    values = np.ascontiguousarray(values)
    n = len(values)
    valid = None if mask is None or not mask.any() else _validity(~np.asarray(mask, bool))
    if values.dtype == np.bool_:
        return pa.Array.from_buffers(pa.bool_(), n, [valid, _validity(values)])
    kind = _TYPES.get(values.dtype)
    if kind is None:
        raise TypeError(f"no Arrow type for numpy {values.dtype}")
    return pa.Array.from_buffers(kind, n, [valid, pa.py_buffer(values)])


def texts(values: Sequence[str | None], kind: pa.DataType | None = None) -> pa.Array:
    """Python strings (None for null) as a string array (large_string unless `kind` says string)."""
    kind = kind or pa.large_string()
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int64 if kind == pa.large_string() else np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    nulls = np.fromiter((v is None for v in values), bool, len(encoded))
    valid = _validity(~nulls) if nulls.any() else None
    return pa.Array.from_buffers(kind, len(encoded), [valid, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def repeated(value: str, n: int, kind: pa.DataType | None = None) -> pa.Array:
    """`value` n times, as one string array (offsets only: no Python loop)."""
    kind = kind or pa.large_string()
    data = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64 if kind == pa.large_string() else np.int32) * len(data)
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


@lru_cache(maxsize=256)
def text(value: str | None, kind: pa.DataType | None = None) -> pa.Scalar:
    """A string scalar (None: a null of that type)."""
    return texts([value], kind)[0]


@lru_cache(maxsize=64)
def number(value: float | int, kind: pa.DataType) -> pa.Scalar:
    """A numeric scalar of the given Arrow type."""
    dtype = next(d for d, t in _TYPES.items() if t == kind)
    return numbers(np.array([value], dtype))[0]


_NUMPY = {t: d for d, t in _TYPES.items()}


def to_numpy(arr: pa.Array | pa.ChunkedArray, dtype=None) -> np.ndarray:
    """An Arrow array as numpy, read from its buffers where it can be (a numeric or boolean array
    without nulls: `Array.to_numpy` goes through pyarrow's pandas conversion, which imports pandas);
    anything else through `to_numpy`. Nulls of a numeric array read as NaN, as pyarrow gives them."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    n, start = len(arr), arr.offset
    if not arr.null_count:
        if pa.types.is_boolean(arr.type):
            bits = np.frombuffer(arr.buffers()[1], np.uint8) if n else np.zeros(0, np.uint8)
            out = np.unpackbits(bits, count=start + n, bitorder="little")[start:].view(bool)
            return out if dtype is None else out.astype(dtype, copy=False)
        kind = _NUMPY.get(arr.type)
        if kind is not None:
            out = np.frombuffer(arr.buffers()[1], kind)[start : start + n] if n else np.zeros(0, kind)
            return out if dtype is None else out.astype(dtype, copy=False)
    out = arr.to_numpy(zero_copy_only=False)
    return out if dtype is None else out.astype(dtype, copy=False)


def indices(values: np.ndarray) -> pa.Array:
    """Row positions (any integer numpy array) as an int64 Arrow array, for `pc.take`."""
    return numbers(np.asarray(values, np.int64))


__all__ = ["indices", "number", "numbers", "repeated", "text", "texts", "to_numpy"]
