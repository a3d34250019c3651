"""Reference RecordIO-protobuf bytes, made the way the SageMaker Python SDK makes them.

The SDK (``sagemaker.amazon.common``) fills a generated ``Record`` protobuf class per
row, serializes it with the protobuf runtime and frames it with
``struct.pack('I', 0xced7230a) + struct.pack('I', len) + data + zero padding``. Here the
same message classes are built at run time from a descriptor of ``record.proto`` and
filled in the same order with the same calls, so the real protobuf serializer
produces the reference bytes.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import scipy.sparse as sp
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _record_class() -> Any:
    proto = descriptor_pb2.FileDescriptorProto(
        name="sagebox_test_record.proto", package="aialgs.data", syntax="proto2"
    )
    for name, kind in (
        ("Float32Tensor", _F.TYPE_FLOAT),
        ("Float64Tensor", _F.TYPE_DOUBLE),
        ("Int32Tensor", _F.TYPE_INT32),
    ):
        tensor = proto.message_type.add(name=name)
        for number, (field, field_type) in enumerate(
            (("values", kind), ("keys", _F.TYPE_UINT64), ("shape", _F.TYPE_UINT64)), start=1
        ):
            added = tensor.field.add(
                name=field, number=number, type=field_type, label=_F.LABEL_REPEATED
            )
            added.options.packed = True
    raw = proto.message_type.add(name="Bytes")
    raw.field.add(name="value", number=1, type=_F.TYPE_BYTES, label=_F.LABEL_REPEATED)
    raw.field.add(name="content_type", number=2, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    value = proto.message_type.add(name="Value")
    value.oneof_decl.add(name="value")
    for name, number, type_name in (
        ("float32_tensor", 2, "Float32Tensor"),
        ("float64_tensor", 3, "Float64Tensor"),
        ("int32_tensor", 7, "Int32Tensor"),
        ("bytes", 9, "Bytes"),
    ):
        value.field.add(
            name=name,
            number=number,
            type=_F.TYPE_MESSAGE,
            type_name=f".aialgs.data.{type_name}",
            label=_F.LABEL_OPTIONAL,
            oneof_index=0,
        )
    record = proto.message_type.add(name="Record")
    for name, number in (("features", 1), ("label", 2)):
        entry = record.nested_type.add(name=f"{name.capitalize()}Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
        entry.field.add(
            name="value",
            number=2,
            type=_F.TYPE_MESSAGE,
            type_name=".aialgs.data.Value",
            label=_F.LABEL_OPTIONAL,
        )
        record.field.add(
            name=name,
            number=number,
            type=_F.TYPE_MESSAGE,
            type_name=f".aialgs.data.Record.{entry.name}",
            label=_F.LABEL_REPEATED,
        )
    for name, number in (("uid", 3), ("metadata", 4), ("configuration", 5)):
        record.field.add(name=name, number=number, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("aialgs.data.Record"))


Record = _record_class()


def _resolve_type(dtype: np.dtype) -> str:
    if dtype == np.dtype(int):
        return "int32_tensor"
    if dtype == np.dtype(float):
        return "float64_tensor"
    if dtype == np.dtype("float32"):
        return "float32_tensor"
    raise ValueError(f"Unsupported dtype {dtype} on array")


def _write_recordio(out: list[bytes], data: bytes) -> None:
    length = len(data)
    pad = (((length + 3) >> 2) << 2) - length
    out.append(struct.pack("I", 0xCED7230A) + struct.pack("I", length) + data + b"\x00" * pad)


def sdk_dense(array: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """``write_numpy_to_dense_tensor``'s bytes."""
    kind = _resolve_type(array.dtype)
    label_kind = _resolve_type(labels.dtype) if labels is not None else None
    out: list[bytes] = []
    record = Record()
    for index, vector in enumerate(array):
        record.Clear()
        getattr(record.features["values"], kind).values.extend(vector)
        if labels is not None:
            getattr(record.label["values"], label_kind).values.extend([labels[index]])
        _write_recordio(out, record.SerializeToString())
    return b"".join(out)


def sdk_sparse(matrix: sp.spmatrix, labels: np.ndarray | None = None) -> bytes:
    """``write_spmatrix_to_sparse_tensor``'s bytes."""
    kind = _resolve_type(matrix.dtype)
    label_kind = _resolve_type(labels.dtype) if labels is not None else None
    csr = matrix.tocsr()
    rows, columns = csr.shape
    out: list[bytes] = []
    record = Record()
    for index in range(rows):
        record.Clear()
        row = csr.getrow(index)
        getattr(record.features["values"], kind).values.extend(row.data)
        getattr(record.features["values"], kind).keys.extend(row.indices.astype(np.uint64))
        if labels is not None:
            getattr(record.label["values"], label_kind).values.extend([labels[index]])
        getattr(record.features["values"], kind).shape.extend([columns])
        _write_recordio(out, record.SerializeToString())
    return b"".join(out)
