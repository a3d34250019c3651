"""Decoding ``application/json`` and ``application/jsonlines`` request bodies.

The shapes of SageMaker's common inference formats are accepted for each instance:
a list of numbers, ``{"features": [...]}``, ``{"features": {"values": [...]}}``,
``{"data": {"features": {"values": [...]}}}``, and the sparse form
``{"data": {"features": {"keys": [...], "values": [...], "shape": [n]}}}``.

A JSON body is ``{"instances": [instance, ...]}``, a list of instances, a single
instance, or a plain list of numbers (one row); a JSON Lines body has one instance per
line. ``null`` is a missing value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp

from sagebox.serving.errors import BadRequest

_NUMBER_TYPES = (int, float, type(None))
_SHAPES = 'a list of numbers, {"features": [...]} or {"data": {"features": {"values": [...]}}}'


class _Sparse:
    """One sparse row: column indices, values and (optionally) the declared width."""

    __slots__ = ("indices", "values", "width")

    def __init__(self, indices: np.ndarray, values: np.ndarray, width: int | None) -> None:
        self.indices = indices
        self.values = values
        self.width = width


_Row = np.ndarray | _Sparse
Features: TypeAlias = np.ndarray | sp.csr_matrix


def decode_json(body: bytes, width: int | None, name: str = "application/json") -> Features:
    """Rows of a JSON body: a float64 matrix, or CSR when any instance is sparse."""
    document = _load(body, name)
    if isinstance(document, dict) and "instances" in document:
        instances = document["instances"]
        if not isinstance(instances, list):
            raise BadRequest(f'{name}: "instances" must be a list')
    elif isinstance(document, dict) or _is_numbers(document):
        instances = [document]
    elif isinstance(document, list):
        instances = document
    else:
        raise BadRequest(f'{name}: expected {{"instances": [...]}} or a list of instances')
    if not instances:
        raise BadRequest(f"{name}: the payload holds no instances")
    rows = [_instance(item, f"{name} instance {i}") for i, item in enumerate(instances, 1)]
    return _assemble(rows, width, name, "instance")


def _is_numbers(document: Any) -> bool:
    """A plain list of numbers: one row."""
    return isinstance(document, list) and all(type(v) in _NUMBER_TYPES for v in document)


def decode_jsonlines(
    body: bytes, width: int | None, name: str = "application/jsonlines"
) -> Features:
    """Rows of a JSON Lines body, one instance per non-empty line."""
    rows: list[_Row] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            rows.append(_instance(_load(line, f"{name} line {number}"), f"{name} line {number}"))
    if not rows:
        raise BadRequest(f"{name}: the payload holds no instances")
    return _assemble(rows, width, name, "line")


def _load(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise BadRequest(f"{where}: the payload is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{where}: not valid JSON ({exc})") from None


def _instance(item: Any, where: str) -> _Row:
    if isinstance(item, list):
        return _numbers(item, where)
    if isinstance(item, dict):
        if "features" in item:
            return _tensor(item["features"], where)
        data = item.get("data")
        if isinstance(data, dict) and "features" in data:
            return _tensor(data["features"], where)
    raise BadRequest(f"{where}: expected {_SHAPES}")


def _tensor(value: Any, where: str) -> _Row:
    if isinstance(value, list):
        return _numbers(value, where)
    if not isinstance(value, dict) or "values" not in value:
        raise BadRequest(f'{where}: "features" must be a list or an object with "values"')
    values = _numbers(value["values"], where)
    if "keys" not in value:
        return values
    keys = value["keys"]
    if not isinstance(keys, list) or not all(type(k) is int and 0 <= k < 2**31 for k in keys):
        raise BadRequest(f'{where}: "keys" must be a list of non-negative integers')
    if len(keys) != len(values):
        raise BadRequest(f'{where}: {len(keys)} "keys" but {len(values)} "values"')
    shape = value.get("shape")
    if shape is not None and not (
        isinstance(shape, list) and shape and all(type(n) is int and n >= 0 for n in shape)
    ):
        raise BadRequest(f'{where}: "shape" must be a list of non-negative integers')
    declared = math.prod(shape) if shape else None
    return _Sparse(np.asarray(keys, dtype=np.int64), values, declared)


def _numbers(values: Any, where: str) -> np.ndarray:
    if not isinstance(values, list):
        raise BadRequest(f"{where}: expected a list of numbers")
    for position, value in enumerate(values, start=1):
        if type(value) not in _NUMBER_TYPES:
            raise BadRequest(f"{where}, value {position}: {json.dumps(value)} is not a number")
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        raise BadRequest(f"{where}: a value is too large for a 64-bit float") from None


def _assemble(rows: Sequence[_Row], width: int | None, name: str, unit: str) -> Features:
    """A dense matrix when every row is dense, else CSR (dense rows keep all their values)."""
    expected = width
    for number, row in enumerate(rows, start=1):
        size = len(row) if isinstance(row, np.ndarray) else row.width
        if size is None:
            continue
        if expected is None:
            expected = size
        elif size != expected:
            whose = " (the model's feature count)" if width is not None else ""
            raise BadRequest(
                f"{name} {unit} {number}: expected {expected} features{whose}, found {size}"
            )
    dense = [row for row in rows if isinstance(row, np.ndarray)]
    if len(dense) == len(rows):
        return np.stack(dense)
    columns = expected
    if columns is None:
        sparse = [row.indices for row in rows if isinstance(row, _Sparse) and len(row.indices)]
        columns = max((int(keys.max()) + 1 for keys in sparse), default=0)
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    indptr = [0]
    for number, row in enumerate(rows, start=1):
        if isinstance(row, _Sparse):
            if len(row.indices) and int(row.indices.max()) >= columns:
                raise BadRequest(
                    f"{name} {unit} {number}: feature index {int(row.indices.max())} is out of "
                    f"range for {columns} features"
                )
            indices.append(row.indices)
            values.append(row.values)
        else:
            indices.append(np.arange(len(row)))
            values.append(row)
        indptr.append(indptr[-1] + len(values[-1]))
    matrix = sp.csr_matrix(
        (np.concatenate(values), np.concatenate(indices), indptr), shape=(len(rows), columns)
    )
    matrix.sum_duplicates()
    return matrix
