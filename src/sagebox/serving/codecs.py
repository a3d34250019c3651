"""Request decoding and response encoding shared by the built-in handlers.

Requests become feature rows (``Features``): a float matrix, or CSR where absent
entries are missing values. Responses are built from named output columns, each an
array with one entry (a value, or a vector) per row, e.g. ``{"score": scores}``:

- ``application/json``: ``{"predictions": [{"score": 0.5}, ...]}``
- ``application/jsonlines``: one ``{"score": 0.5}`` per line
- ``application/x-recordio-protobuf``: one record per row, each output under its
  name in the record's ``label`` map, as a Float32 tensor

CSV answers differ between algorithms, so each handler writes its own.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from sagebox.formats.arrow import copy_column
from sagebox.formats.errors import FormatError
from sagebox.serving.errors import BadRequest, UnsupportedContentType
from sagebox.serving.json_payloads import Features, decode_json, decode_jsonlines
from sagebox.serving.media import CSV, JSON, JSONLINES, LIBSVM, RECORDIO, MediaType
from sagebox.serving.text_payloads import decode_csv, decode_libsvm

PARQUET = "application/x-parquet"

# pyarrow.parquet and the RecordIO codec are imported by the functions that use them:
# most model servers never see those formats and start sooner without them.

__all__ = ["PARQUET", "Features", "decode", "encode_json", "encode_jsonlines", "encode_recordio"]


def decode(body: bytes, media: MediaType, width: int | None) -> Features:
    """The feature rows of a request body; raises ``BadRequest`` naming what is wrong.

    ``width`` is the number of features the model takes: dense rows must have exactly
    that many, sparse rows only indices below it (the result is that wide).
    """
    name = media.name
    if name == CSV:
        label_size = media.parameter("label_size")
        if label_size not in (None, "0", "1"):
            raise BadRequest(
                f"text/csv: label_size={label_size} is not supported; inference rows have "
                "no label column (label_size=0)"
            )
        return decode_csv(body, width)
    if name == LIBSVM:
        return decode_libsvm(body, width)
    if name == JSON:
        return decode_json(body, width)
    if name == JSONLINES:
        return decode_jsonlines(body, width)
    if name == RECORDIO:
        return decode_recordio(body, width)
    if name == PARQUET:
        return decode_parquet(body, width)
    raise UnsupportedContentType(name, (CSV, LIBSVM, JSON, JSONLINES, RECORDIO, PARQUET))


def decode_recordio(body: bytes, width: int | None) -> Features:
    """Features of RecordIO-protobuf records (labels, if any, are ignored)."""
    from sagebox.formats import recordio

    try:
        records = list(recordio.read_records(body, name=RECORDIO))
        if not records:
            raise BadRequest(f"{RECORDIO}: the payload holds no records")
        tensors = (record.features.get("values") for record in records)
        if any(tensor is not None and tensor.is_sparse for tensor in tensors):
            return recordio.to_sparse(records, width, dtype=np.float64, name=RECORDIO)[0]
        return recordio.to_dense(records, width, dtype=np.float64, name=RECORDIO)[0]
    except FormatError as exc:
        raise BadRequest(str(exc)) from None


def decode_parquet(body: bytes, width: int | None) -> np.ndarray:
    """Every column of a Parquet file as a feature, in column order; nulls are missing."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as exc:
        raise BadRequest(f"{PARQUET}: not a readable Parquet file ({exc})") from None
    if width is not None and table.num_columns != width:
        raise BadRequest(
            f"{PARQUET}: expected {width} features (the model's feature count), "
            f"found {table.num_columns} columns"
        )
    out = np.empty((table.num_rows, table.num_columns), dtype=np.float64)
    for index, (column_name, column) in enumerate(
        zip(table.column_names, table.columns, strict=True)
    ):
        try:
            values = column.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise BadRequest(
                f"{PARQUET}: column '{column_name}' of type {column.type} is not numeric"
            ) from None
        copy_column(values, out[:, index])
    return out


def _rows(columns: Mapping[str, np.ndarray]) -> list[dict[str, object]]:
    names = list(columns)
    values = [np.asarray(columns[name]).tolist() for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def encode_json(columns: Mapping[str, np.ndarray]) -> bytes:
    """``{"predictions": [{name: value, ...}, ...]}``, floats at full precision."""
    return json.dumps({"predictions": _rows(columns)}).encode()


def encode_jsonlines(columns: Mapping[str, np.ndarray]) -> bytes:
    """One ``{name: value, ...}`` object per line, each line ending in a newline."""
    return "".join(json.dumps(row) + "\n" for row in _rows(columns)).encode()


def encode_recordio(columns: Mapping[str, np.ndarray]) -> bytes:
    """One record per row with each output under its name in ``label``."""
    from sagebox.formats import recordio

    return recordio.write_labels(columns)
