"""Numeric Arrow columns into numpy arrays, without pandas.

``pyarrow.Array.to_numpy`` imports pandas on its first call (about 0.2 s), which a job
or a model server would pay on its critical path only to copy numbers. Float columns
are read from their buffers instead: the values as they are, NaN where a value is null.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_FLOAT_TYPES = {pa.float32(): np.dtype(np.float32), pa.float64(): np.dtype(np.float64)}


def float_values(chunk: pa.Array) -> np.ndarray:
    """A float32 or float64 array's values (a view where it has no nulls), NaN for nulls.

    Other types go through ``Array.to_numpy``.
    """
    dtype = _FLOAT_TYPES.get(chunk.type)
    if dtype is None:
        return chunk.to_numpy(zero_copy_only=False)
    count, start = len(chunk), chunk.offset
    validity, data = chunk.buffers()
    values = np.frombuffer(data, dtype=dtype, count=count, offset=start * dtype.itemsize)
    if not chunk.null_count:
        return values
    present = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return np.where(present[start : start + count].astype(bool), values, dtype.type(np.nan))


def copy_column(column: pa.ChunkedArray | pa.Array, target: np.ndarray) -> None:
    """Writes a column's values into the 1-D array ``target`` (as long as the column)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    offset = 0
    for chunk in chunks:
        values = float_values(chunk)
        target[offset : offset + len(values)] = values
        offset += len(values)


def float64_array(values: np.ndarray) -> pa.Array:
    """A 1-D float64 Arrow array over ``values``' memory (``pa.array`` would import pandas)."""
    contiguous = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(contiguous), [None, pa.py_buffer(contiguous)])
