"""RecordIO-protobuf: byte identity with the SageMaker SDK, round trips and errors."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sagebox.formats import recordio
from sagebox.formats.errors import FormatError
from sagebox.formats.recordio import Record, Tensor


def dense_data(rows: int = 40, columns: int = 7, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, columns))


def sparse_data(rows: int = 40, columns: int = 300, seed: int = 0) -> sp.csr_matrix:
    matrix = sp.csr_matrix(sp.random(rows, columns, density=0.05, random_state=seed))
    keep = np.ones(rows)
    keep[3] = 0  # an empty row
    matrix = sp.csr_matrix(sp.diags(keep) @ matrix)
    matrix.eliminate_zeros()
    return matrix


def test_hand_encoded_record() -> None:
    """A 1x2 float32 row [1.0, 2.0] with float32 label 3.0, encoded by hand.

    features (0a 16): entry { key (0a 06) "values", value (12 0c): Value {
    float32_tensor (12 0a): { values (0a 08): 1.0f 2.0f } } }; label (12 12) likewise.
    """
    features = "0a160a0676616c756573120c120a0a080000803f00000040"
    label = "12120a0676616c756573120812060a0400004040"
    payload = bytes.fromhex(features + label)
    expected = struct.pack("<II", 0xCED7230A, len(payload)) + payload  # 44 bytes: no padding
    data = recordio.write_dense(
        np.array([[1.0, 2.0]], dtype=np.float32), np.array([3.0], dtype=np.float32)
    )
    assert data == expected
    (record,) = recordio.read_records(data)
    np.testing.assert_array_equal(record.features["values"].values, [1.0, 2.0])
    np.testing.assert_array_equal(record.label["values"].values, [3.0])


@pytest.fixture(scope="module")
def sdk():  # noqa: ANN201 - the reference module
    pytest.importorskip("google.protobuf")
    from tests.formats import recordio_reference

    return recordio_reference


@pytest.mark.parametrize(
    ("features", "labels"),
    [
        (np.float32, None),
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float32, np.int64),
        (np.float64, np.float32),
        (np.int64, np.int64),
    ],
)
def test_dense_bytes_equal_the_sdk(sdk, features: type, labels: type | None) -> None:  # noqa: ANN001
    array = dense_data()
    if np.dtype(features).kind == "i":
        array = (array * 1000).astype(features)
    else:
        array = array.astype(features)
    y = None
    if labels is not None:
        y = (np.arange(len(array)) - 20).astype(labels)  # negative ints too
    assert recordio.write_dense(array, y) == sdk.sdk_dense(array, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_labels", [False, True])
def test_sparse_bytes_equal_the_sdk(sdk, dtype: type, with_labels: bool) -> None:  # noqa: ANN001
    matrix = sparse_data().astype(dtype)
    labels = np.arange(matrix.shape[0], dtype=np.float64) if with_labels else None
    assert recordio.write_sparse(matrix, labels) == sdk.sdk_sparse(matrix, labels)


def test_reads_what_the_sdk_writes(sdk) -> None:  # noqa: ANN001
    array = dense_data().astype(np.float32)
    labels = np.arange(len(array), dtype=np.float64)
    features, y = recordio.to_dense(recordio.read_records(sdk.sdk_dense(array, labels)))
    np.testing.assert_array_equal(features, array)
    np.testing.assert_array_equal(y, labels.astype(np.float32))


def test_sdk_parses_what_we_write(sdk) -> None:  # noqa: ANN001
    scores = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)
    data = recordio.write_labels({"score": scores, "predicted_label": np.array([1, 0])})
    view = io.BytesIO(data)
    for row in range(2):
        magic, length = struct.unpack("<II", view.read(8))
        assert magic == recordio.MAGIC
        record = sdk.Record()
        record.ParseFromString(view.read(length))
        view.read(-length % 4)
        assert list(record.label["score"].float32_tensor.values) == scores[row].tolist()
        assert list(record.label["predicted_label"].float32_tensor.values) == [1 - row]


def test_dense_round_trip_with_missing_values() -> None:
    array = dense_data().astype(np.float32)
    array[2, 3] = np.nan
    labels = np.linspace(0, 1, len(array)).astype(np.float32)
    features, y = recordio.to_dense(recordio.read_records(recordio.write_dense(array, labels)))
    np.testing.assert_array_equal(features, array)
    np.testing.assert_array_equal(y, labels)


def test_fixed_layout_matches_record_by_record_encoding() -> None:
    array = dense_data(rows=25, columns=40)
    labels = np.arange(25, dtype=np.float64)
    slow = recordio.write_records(
        Record({"values": Tensor(row)}, {"values": Tensor(labels[i : i + 1])})
        for i, row in enumerate(array)
    )
    assert recordio.write_dense(array, labels) == slow


def test_sparse_round_trip_keeps_missing_entries_absent() -> None:
    matrix = sparse_data().astype(np.float32)
    features, y = recordio.to_sparse(recordio.read_records(recordio.write_sparse(matrix)))
    assert y is None
    assert features.shape == matrix.shape
    assert (features != matrix).nnz == 0
    assert features.nnz == matrix.nnz
    dense, _ = recordio.to_dense(recordio.read_records(recordio.write_sparse(matrix)))
    np.testing.assert_array_equal(dense, matrix.toarray())


def test_dense_rows_in_to_sparse_keep_their_zeros() -> None:
    array = np.array([[0.0, 1.0], [2.0, 0.0]], dtype=np.float32)
    features, _ = recordio.to_sparse(recordio.read_records(recordio.write_dense(array)))
    assert features.nnz == 4


def test_records_with_several_labels_and_strings_round_trip() -> None:
    record = Record(
        features={"values": Tensor(np.array([1, -2, 3], dtype=np.int32))},
        label={
            "closest_cluster": Tensor(np.array([2.0], dtype=np.float32)),
            "distance_to_cluster": Tensor(np.array([0.5], dtype=np.float64)),
        },
        uid="row-1",
        metadata='{"created_at": "2024-01-01"}',
        configuration="",
    )
    (read,) = recordio.read_records(recordio.write_records([record]))
    assert read.uid == "row-1" and read.metadata == record.metadata and read.configuration == ""
    np.testing.assert_array_equal(read.features["values"].values, [1, -2, 3])
    assert read.features["values"].values.dtype == np.int32
    assert set(read.label) == {"closest_cluster", "distance_to_cluster"}
    assert read.label["distance_to_cluster"].values.dtype == np.float64


def test_write_labels_one_record_per_row() -> None:
    scores = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    records = list(recordio.read_records(recordio.write_labels({"score": scores})))
    assert [r.label["score"].values.tolist() for r in records] == [[v] for v in scores.tolist()]
    assert all(not r.features for r in records)


def test_streams_from_file_objects_and_paths(tmp_path: Path) -> None:
    array = dense_data().astype(np.float32)
    path = tmp_path / "train.rec"
    path.write_bytes(recordio.write_dense(array))
    with open(path, "rb") as handle:
        records = recordio.read_records(handle)
        first = next(records)
        np.testing.assert_array_equal(first.features["values"].values, array[0])
        assert len(list(records)) == len(array) - 1
    features, _ = recordio.to_dense(recordio.read_records(path))
    np.testing.assert_array_equal(features, array)


def dmlc_frames(payload: bytes) -> bytes:
    """Frame a payload as MXNet's RecordIOWriter does: split where it holds the magic."""
    magic = struct.pack("<I", recordio.MAGIC)
    out, start = b"", 0
    for i in range(0, len(payload) // 4 * 4, 4):
        if payload[i : i + 4] == magic:
            out += struct.pack("<II", recordio.MAGIC, (1 if start == 0 else 2) << 29 | i - start)
            out += payload[start:i]
            start = i + 4
    rest = payload[start:]
    out += struct.pack("<II", recordio.MAGIC, (3 if start else 0) << 29 | len(rest))
    return out + rest + b"\x00" * (-len(rest) % 4)


def test_reads_multi_part_records() -> None:
    """Records split where their payload held the magic number (cflag 1, 2, 3)."""
    (magic_value,) = struct.unpack("<f", struct.pack("<I", recordio.MAGIC))
    row = np.array([magic_value, 1.0, magic_value, magic_value, 2.0], dtype=np.float32)
    payload = recordio.encode_record(Record({"values": Tensor(row)}))
    framed = dmlc_frames(payload)
    assert framed.count(struct.pack("<I", recordio.MAGIC)) == 4  # a first, two middle, a last part
    plain = recordio.write_dense(np.array([[3.0]], dtype=np.float32))
    records = list(recordio.read_records(plain + framed + plain))
    assert len(records) == 3
    np.testing.assert_array_equal(records[1].features["values"].values, row)
    with pytest.raises(FormatError, match="record 1 .*ends inside a multi-part record"):
        list(recordio.read_records(framed[:24]))


def test_empty_input_has_no_records() -> None:
    assert list(recordio.read_records(b"")) == []
    assert recordio.write_dense(np.empty((0, 3), dtype=np.float32)) == b""


@pytest.mark.parametrize(
    ("cut", "problem"),
    [
        (lambda d, n: d[: n + 5], "record 2 (byte offset {n}): truncated frame header"),
        (lambda d, n: d[: n + 12], "record 2 (byte offset {n}): truncated; the header announces"),
        (lambda d, n: d[:n] + b"\x00" * 8 + d[n + 8 :], "record 2 (byte offset {n}): bad magic"),
    ],
)
def test_truncated_or_corrupt_frames_name_the_record(cut, problem: str) -> None:  # noqa: ANN001
    data = recordio.write_dense(dense_data(rows=3).astype(np.float32))
    size = len(data) // 3
    with pytest.raises(FormatError) as raised:
        list(recordio.read_records(cut(data, size), name="batch.rec"))
    assert str(raised.value).startswith("batch.rec: " + problem.format(n=size))


def test_corrupt_protobuf_names_the_record_and_file(tmp_path: Path) -> None:
    good = recordio.write_dense(dense_data(rows=2).astype(np.float32))
    bad = recordio.frame(b"\x0a\xff\xff\xff\xff\x0f")  # a length running past the end
    path = tmp_path / "part-0003.rec"
    path.write_bytes(good + bad)
    with pytest.raises(FormatError, match=r"^part-0003.rec: record 3: malformed protobuf"):
        list(recordio.read_records(path))
    with open(path, "rb") as handle, pytest.raises(FormatError, match=r"^part-0003.rec: "):
        list(recordio.read_records(handle))


def test_array_conversion_errors_name_the_record() -> None:
    short = recordio.write_dense(np.ones((2, 3), dtype=np.float32))
    longer = recordio.write_dense(np.ones((1, 4), dtype=np.float32))
    with pytest.raises(FormatError, match="record 3: expected 3 features, found 4"):
        recordio.to_dense(recordio.read_records(short + longer))
    with pytest.raises(FormatError, match="record 1: expected 5 features, found 3"):
        recordio.to_dense(recordio.read_records(short), feature_dim=5)
    labelled = recordio.write_dense(np.ones((1, 3), dtype=np.float32), np.ones(1))
    with pytest.raises(FormatError, match="record 3: labels must be on every record or none"):
        recordio.to_dense(recordio.read_records(short + labelled))
    scores = recordio.write_labels({"score": np.ones(2)})
    with pytest.raises(FormatError, match="record 1: has no 'values' feature tensor"):
        recordio.to_dense(recordio.read_records(scores))


def test_writer_argument_errors() -> None:
    with pytest.raises(ValueError, match="matrix"):
        recordio.write_dense(np.ones(3))
    with pytest.raises(ValueError, match="labels must be a vector of 2 values"):
        recordio.write_dense(np.ones((2, 3)), np.ones(3))
    with pytest.raises(TypeError, match="unsupported dtype"):
        recordio.write_dense(np.ones((2, 3), dtype=np.complex64))
    with pytest.raises(TypeError, match="scipy.sparse"):
        recordio.write_sparse(np.ones((2, 3)))
