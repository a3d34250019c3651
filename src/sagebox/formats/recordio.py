"""RecordIO-protobuf (``application/x-recordio-protobuf``), SageMaker's binary record format.

Data is a sequence of MXNet RecordIO frames, each carrying one serialized
``aialgs.data.Record`` protobuf message (see ``recordio_protobuf``)::

    frame = magic (uint32 LE 0xced7230a) | lrec (uint32 LE) | payload | zero padding to 4 bytes
    lrec  = cflag << 29 | length     cflag 0: a whole record; 1, 2, 3: first, middle and last
                                     part of a record that was split where its payload held
                                     the magic number (the reader puts the magic back)

A dense row is a tensor with ``values`` only; a sparse row adds ``keys`` (column
indices) and ``shape`` (``[number of columns]``). Features live under the key
``values`` of ``features``, a label under ``values`` of ``label``; model servers
answer with records whose ``label`` map holds named outputs (``score``,
``predicted_label``, ``closest_cluster``, ...).

``write_dense`` and ``write_sparse`` produce the same bytes as the SageMaker Python
SDK's ``write_numpy_to_dense_tensor`` and ``write_spmatrix_to_sparse_tensor``: one
unsplit frame per row, the tensor type chosen from the dtype (float32 -> Float32,
float64 -> Float64, integers -> Int32).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from sagebox.formats.errors import FormatError
from sagebox.formats.recordio_protobuf import (
    ProtobufError,
    Record,
    Tensor,
    decode_record,
    encode_map,
    encode_record,
    tensor_dtype,
)

__all__ = [
    "MAGIC",
    "Record",
    "Tensor",
    "frame",
    "read_records",
    "to_dense",
    "to_sparse",
    "write_dense",
    "write_labels",
    "write_records",
    "write_sparse",
]

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_HEADER = struct.Struct("<II")
_LENGTH_MASK = (1 << 29) - 1
MAX_RECORD_BYTES = _LENGTH_MASK
DEFAULT_NAME = "RecordIO-protobuf data"


def frame(payload: bytes) -> bytes:
    """One RecordIO frame around a payload, as the SageMaker SDK writes it (never split)."""
    if len(payload) > MAX_RECORD_BYTES:
        raise ValueError(f"a RecordIO record holds at most {MAX_RECORD_BYTES} bytes")
    return _HEADER.pack(MAGIC, len(payload)) + payload + b"\x00" * (-len(payload) % 4)


# ---------------------------------------------------------------- writers


def write_records(records: Iterable[Record]) -> bytes:
    """Frame and serialize any records (e.g. model outputs with several label keys)."""
    return b"".join(frame(encode_record(record)) for record in records)


def write_labels(columns: Mapping[str, np.ndarray]) -> bytes:
    """One record per row whose ``label`` maps each name to that row's value(s) as float32.

    ``columns`` maps an output name to an array of shape ``(n,)`` or ``(n, k)``, e.g.
    ``{"score": scores}`` or ``{"predicted_label": labels, "score": scores}``.
    """
    arrays = {name: np.asarray(values, dtype=np.float32) for name, values in columns.items()}
    lengths = {len(values) for values in arrays.values()}
    if len(lengths) > 1:
        raise ValueError("every output column must have one entry per record")
    count = lengths.pop() if lengths else 0
    rows = {name: values.reshape(count, -1) for name, values in arrays.items()}
    return write_records(
        Record(label={name: Tensor(values[i]) for name, values in rows.items()})
        for i in range(count)
    )


def _check_labels(labels: np.ndarray | None, rows: int) -> np.ndarray | None:
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != rows:
        raise ValueError(f"labels must be a vector of {rows} values, not shape {labels.shape}")
    tensor_dtype(labels.dtype)
    return labels


def _label_map(labels: np.ndarray | None, index: int) -> dict[str, Tensor]:
    return {} if labels is None else {"values": Tensor(labels[index : index + 1])}


def write_dense(array: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """Dense rows (and optional scalar labels), byte-identical to the SDK's dense writer."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"array must be a matrix, not shape {array.shape}")
    kind = tensor_dtype(array.dtype)
    labels = _check_labels(labels, array.shape[0])
    if array.shape[0] == 0:
        return b""
    if kind.kind == "f" and array.shape[1] and (labels is None or labels.dtype.kind == "f"):
        return _write_fixed_layout(np.asarray(array, dtype=kind), labels)
    return write_records(
        Record(features={"values": Tensor(row)}, label=_label_map(labels, i))
        for i, row in enumerate(array)
    )


def _write_fixed_layout(array: np.ndarray, labels: np.ndarray | None) -> bytes:
    """Float rows all encode to frames of one length: assemble them with numpy in one go.

    The row's values are the last bytes of the ``features`` map (a dense tensor has no
    keys or shape), and a float label value is the last bytes of the record.
    """
    rows = array.shape[0]
    little = array.dtype.newbyteorder("<")
    data = np.ascontiguousarray(array, dtype=little).view(np.uint8).reshape(rows, -1)
    features = encode_map(1, {"values": Tensor(array[0])})
    labelled = encode_map(2, _label_map(labels, 0))
    out = np.tile(np.frombuffer(frame(features + labelled), dtype=np.uint8), (rows, 1))
    stop = _HEADER.size + len(features)
    out[:, stop - data.shape[1] : stop] = data
    if labels is not None:
        label_type = labels.dtype.newbyteorder("<")
        stop = _HEADER.size + len(features) + len(labelled)
        values = np.ascontiguousarray(labels, dtype=label_type).view(np.uint8).reshape(rows, -1)
        out[:, stop - label_type.itemsize : stop] = values
    return out.tobytes()


def write_sparse(matrix: sp.spmatrix | sp.sparray, labels: np.ndarray | None = None) -> bytes:
    """Sparse rows as keys/values/shape tensors, byte-identical to the SDK's sparse writer."""
    if not sp.issparse(matrix):
        raise TypeError("write_sparse needs a scipy.sparse matrix")
    if len(matrix.shape) != 2:
        raise ValueError(f"matrix must be 2-D, not shape {matrix.shape}")
    csr = sp.csr_matrix(matrix)
    tensor_dtype(csr.dtype)
    rows, columns = csr.shape
    labels = _check_labels(labels, rows)
    shape = (columns,)
    return write_records(
        Record(
            features={
                "values": Tensor(
                    csr.data[csr.indptr[i] : csr.indptr[i + 1]],
                    csr.indices[csr.indptr[i] : csr.indptr[i + 1]].astype(np.uint64),
                    shape,
                )
            },
            label=_label_map(labels, i),
        )
        for i in range(rows)
    )


# ---------------------------------------------------------------- reading


def _frames(stream: BinaryIO, name: str) -> Iterator[tuple[int, bytes]]:
    """(1-based record number, payload) of each record, multi-part records joined."""
    number, offset = 0, 0
    while True:
        head = stream.read(_HEADER.size)
        if not head:
            return
        number += 1
        parts: list[bytes] = []
        while True:
            where = f"record {number} (byte offset {offset})"
            if len(head) < _HEADER.size:
                raise FormatError(name, f"{where}: truncated frame header")
            magic, lrec = _HEADER.unpack(head)
            if magic != MAGIC:
                raise FormatError(name, f"{where}: bad magic number {magic:#010x}, not RecordIO")
            flag, length = lrec >> 29, lrec & _LENGTH_MASK
            padded = length + (-length % 4)
            body = stream.read(padded)
            if len(body) < padded:
                raise FormatError(
                    name,
                    f"{where}: truncated; the header announces {length} bytes"
                    f" (+{padded - length} padding) but only {len(body)} remain",
                )
            offset += _HEADER.size + padded
            parts.append(body[:length])
            if flag in (0, 3):
                break
            head = stream.read(_HEADER.size)
            if not head:
                raise FormatError(name, f"{where}: the data ends inside a multi-part record")
        yield number, _MAGIC_BYTES.join(parts)


def read_records(
    source: bytes | bytearray | memoryview | BinaryIO | Path, *, name: str | None = None
) -> Iterator[Record]:
    """Stream the records of RecordIO-protobuf data (bytes, a binary file object or a path).

    Raises ``FormatError`` naming the data (``name``, else the file's name) and the
    1-based record number on truncated or corrupt input.
    """
    if isinstance(source, Path):
        with open(source, "rb") as handle:
            yield from read_records(handle, name=name or source.name)
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        stream: BinaryIO = io.BytesIO(source)
    else:
        stream = source
        file_name = getattr(source, "name", None)
        if name is None and isinstance(file_name, str):
            name = Path(file_name).name
    label = name or DEFAULT_NAME
    for number, payload in _frames(stream, label):
        try:
            yield decode_record(payload)
        except ProtobufError as exc:
            raise FormatError(
                label, f"record {number}: malformed protobuf Record ({exc})"
            ) from None


# ---------------------------------------------------------------- arrays


def _feature_rows(
    records: Iterable[Record], feature: str, label: str, name: str, start: int = 1
) -> tuple[list[Tensor], np.ndarray | None]:
    tensors: list[Tensor] = []
    labels: list[float] = []
    labelled: bool | None = None
    for number, record in enumerate(records, start=start):
        tensor = record.features.get(feature)
        if tensor is None:
            raise FormatError(name, f"record {number}: has no '{feature}' feature tensor")
        tensors.append(tensor)
        target = record.label.get(label)
        if labelled is None:
            labelled = target is not None
        elif labelled != (target is not None):
            raise FormatError(name, f"record {number}: labels must be on every record or none")
        if target is not None:
            if len(target.values) != 1 or target.is_sparse:
                raise FormatError(name, f"record {number}: the label is not a single value")
            labels.append(float(target.values[0]))
    return tensors, (np.asarray(labels, dtype=np.float32) if labels else None)


def _declared_size(tensor: Tensor) -> int | None:
    """The row's number of features, unless it is sparse and gives no shape."""
    return tensor.size if tensor.shape or not tensor.is_sparse else None


def _width(tensors: list[Tensor], feature_dim: int | None, name: str, start: int = 1) -> int:
    """The number of feature columns: given, else the first declared size, else max key + 1."""
    sizes = [size for size in map(_declared_size, tensors) if size is not None]
    if feature_dim is not None:
        width = feature_dim
    elif sizes:
        width = sizes[0]
    else:
        width = max((int(t.keys.max()) + 1 for t in tensors if len(t.keys)), default=0)
    for number, tensor in enumerate(tensors, start=start):
        size = _declared_size(tensor)
        if size is not None and size != width:
            raise FormatError(name, f"record {number}: expected {width} features, found {size}")
        if len(tensor.keys) and int(tensor.keys.max()) >= width:
            raise FormatError(
                name,
                f"record {number}: feature index {int(tensor.keys.max())} is out of range "
                f"for {width} features",
            )
        if len(tensor.keys) != len(tensor.values) and tensor.is_sparse:
            raise FormatError(
                name, f"record {number}: {len(tensor.keys)} keys but {len(tensor.values)} values"
            )
    return width


def to_dense(
    records: Iterable[Record],
    feature_dim: int | None = None,
    *,
    feature: str = "values",
    label: str = "values",
    dtype: npt.DTypeLike = np.float32,
    name: str = DEFAULT_NAME,
    first_record: int = 1,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Features as a dense matrix (absent sparse entries are 0) and the labels, if any.

    ``first_record``: the number of the first record in error messages (for batches).
    """
    tensors, y = _feature_rows(records, feature, label, name, first_record)
    width = _width(tensors, feature_dim, name, first_record)
    out = np.zeros((len(tensors), width), dtype=dtype)
    for row, tensor in enumerate(tensors):
        if tensor.is_sparse:
            out[row, tensor.keys.astype(np.int64)] = tensor.values
        else:
            out[row] = tensor.values
    return out, y


def to_sparse(
    records: Iterable[Record],
    feature_dim: int | None = None,
    *,
    feature: str = "values",
    label: str = "values",
    dtype: npt.DTypeLike = np.float32,
    name: str = DEFAULT_NAME,
    first_record: int = 1,
) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Features as CSR (dense rows keep every value, zeros included) and the labels, if any.

    ``first_record``: the number of the first record in error messages (for batches).
    """
    tensors, y = _feature_rows(records, feature, label, name, first_record)
    width = _width(tensors, feature_dim, name, first_record)
    counts = [len(t.values) for t in tensors]
    indptr = np.zeros(len(tensors) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.concatenate(
        [t.keys.astype(np.int64) if t.is_sparse else np.arange(len(t.values)) for t in tensors]
        or [np.empty(0, dtype=np.int64)]
    )
    data = np.concatenate([t.values for t in tensors] or [np.empty(0)]).astype(dtype)
    return sp.csr_matrix((data, indices, indptr), shape=(len(tensors), width)), y
