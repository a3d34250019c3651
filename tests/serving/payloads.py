"""Request bodies in every content type, and parsers for every response type."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from sagebox.formats import recordio


def number(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def json_row(row: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in row]


def sparse_rows(matrix: sp.csr_matrix) -> list[tuple[list[int], list[float]]]:
    return [
        (
            matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]].tolist(),
            matrix.data[matrix.indptr[i] : matrix.indptr[i + 1]].tolist(),
        )
        for i in range(matrix.shape[0])
    ]


def csv_body(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(number(v) for v in row) for row in rows).encode()


def libsvm_body(matrix: sp.csr_matrix) -> bytes:
    lines = []
    for keys, values in sparse_rows(matrix):
        pairs = " ".join(f"{k}:{v!r}" for k, v in zip(keys, values, strict=True))
        lines.append(f"0 {pairs}".rstrip())
    return "\n".join(lines).encode()


def json_sparse_instances(matrix: sp.csr_matrix) -> list[dict[str, object]]:
    width = matrix.shape[1]
    return [
        {"data": {"features": {"keys": keys, "values": values, "shape": [width]}}}
        for keys, values in sparse_rows(matrix)
    ]


def parquet_body(rows: np.ndarray) -> bytes:
    table = pa.table({f"f{i}": rows[:, i] for i in range(rows.shape[1])})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@dataclass(frozen=True)
class Payload:
    """How to send rows in one content type, and which rows the server then sees."""

    name: str
    content_type: str
    body: Callable[[np.ndarray, sp.csr_matrix], bytes]
    sees: str  # "dense", "dense32" (float32-rounded) or "sparse"


def _json(document: object) -> bytes:
    return json.dumps(document).encode()


def _lines(documents: list[object]) -> bytes:
    return "\n".join(json.dumps(d) for d in documents).encode() + b"\n"


PAYLOADS = [
    Payload("csv", "text/csv", lambda d, s: csv_body(d), "dense"),
    Payload("csv-charset", "text/csv; charset=utf-8", lambda d, s: csv_body(d), "dense"),
    Payload("csv-label-size", "text/csv;label_size=0", lambda d, s: csv_body(d), "dense"),
    Payload("libsvm", "text/libsvm", lambda d, s: libsvm_body(s), "sparse"),
    Payload("x-libsvm", "text/x-libsvm", lambda d, s: libsvm_body(s), "sparse"),
    Payload(
        "json-features",
        "application/json",
        lambda d, s: _json({"instances": [{"features": json_row(r)} for r in d]}),
        "dense",
    ),
    Payload(
        "json-instance-lists",
        "application/json",
        lambda d, s: _json({"instances": [json_row(r) for r in d]}),
        "dense",
    ),
    Payload(
        "json-lists", "application/json", lambda d, s: _json([json_row(r) for r in d]), "dense"
    ),
    Payload(
        "json-data-values",
        "application/json",
        lambda d, s: _json(
            {"instances": [{"data": {"features": {"values": json_row(r)}}} for r in d]}
        ),
        "dense",
    ),
    Payload(
        "json-sparse",
        "application/json",
        lambda d, s: _json({"instances": json_sparse_instances(s)}),
        "sparse",
    ),
    Payload(
        "jsonlines-features",
        "application/jsonlines",
        lambda d, s: _lines([{"features": json_row(r)} for r in d]),
        "dense",
    ),
    Payload(
        "jsonlines-lists",
        "application/jsonlines",
        lambda d, s: _lines([json_row(r) for r in d]),
        "dense",
    ),
    Payload(
        "jsonlines-sparse",
        "application/jsonlines",
        lambda d, s: _lines(json_sparse_instances(s)),  # type: ignore[arg-type]
        "sparse",
    ),
    Payload(
        "recordio-dense",
        "application/x-recordio-protobuf",
        lambda d, s: recordio.write_dense(d),
        "dense",
    ),
    Payload(
        "recordio-dense32",
        "application/x-recordio-protobuf",
        lambda d, s: recordio.write_dense(d.astype(np.float32)),
        "dense32",
    ),
    Payload(
        "recordio-sparse",
        "application/x-recordio-protobuf",
        lambda d, s: recordio.write_sparse(s),
        "sparse",
    ),
    Payload("parquet", "application/x-parquet", lambda d, s: parquet_body(d), "dense"),
]


def parse_csv(text: str) -> np.ndarray:
    """``0.1,0.2`` or, one list per row, ``[0.1, 0.9],[0.8, 0.2]``."""
    if text.startswith("["):
        return np.array(json.loads(f"[{text}]"), dtype=np.float64)
    return np.array([float(v) for v in text.split(",")], dtype=np.float64)


def parse_json(text: str) -> np.ndarray:
    return np.array([p["score"] for p in json.loads(text)["predictions"]], dtype=np.float64)


def parse_jsonlines(text: str) -> np.ndarray:
    assert text.endswith("\n")
    return np.array([json.loads(line)["score"] for line in text.splitlines()], dtype=np.float64)


def parse_recordio(data: bytes) -> np.ndarray:
    rows = [record.label["score"].values for record in recordio.read_records(data)]
    scores = np.stack(rows)
    return scores[:, 0] if scores.shape[1] == 1 else scores


ACCEPTS: dict[str, Callable[[bytes], np.ndarray]] = {
    "text/csv": lambda body: parse_csv(body.decode()),
    "application/json": lambda body: parse_json(body.decode()),
    "application/jsonlines": lambda body: parse_jsonlines(body.decode()),
    "application/x-recordio-protobuf": parse_recordio,
}
