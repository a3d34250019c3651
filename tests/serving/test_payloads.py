"""Request body decoders: CSV, LIBSVM, JSON and JSON Lines, and their error messages."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sagebox.serving.errors import BadRequest
from sagebox.serving.json_payloads import decode_json, decode_jsonlines
from sagebox.serving.text_payloads import decode_csv, decode_libsvm
from tests.serving.payloads import csv_body


def test_csv_one_row_and_missing_values() -> None:
    np.testing.assert_array_equal(decode_csv(b"1.5,2,-3e2\n", 3), [[1.5, 2.0, -300.0]])
    rows = decode_csv(b"1,,3\r\n\r\n4,5, 6 \n", 3)
    assert rows.shape == (2, 3) and math.isnan(rows[0, 1]) and rows[1, 2] == 6.0


def test_large_csv_takes_the_pyarrow_path_and_agrees() -> None:
    rows = np.random.default_rng(0).normal(size=(6000, 12))
    rows[5, 3] = np.nan
    body = csv_body(rows)
    assert len(body) > 256 * 1024
    np.testing.assert_array_equal(decode_csv(body, 12), rows)


def test_large_csv_errors_still_name_the_row() -> None:
    rows = np.ones((6000, 12))
    text = csv_body(rows).decode().splitlines()
    text[4321] = ",".join(["1"] * 11 + ["x1"])
    with pytest.raises(BadRequest, match=r"text/csv row 4322, column 12: 'x1' is not a number"):
        decode_csv("\n".join(text).encode(), 12)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "text/csv: the payload holds no rows"),
        (b"1,2\n3", "text/csv row 2: expected 2 features, found 1"),
        (b"1,1_000", "text/csv row 1, column 2: '1_000' is not a number"),
        (b'"1",2', "text/csv row 1, column 1: '\"1\"' is not a number"),
        (b"\xff\xfe", "text/csv: the payload is not UTF-8 text"),
    ],
)
def test_csv_errors(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_csv(body, None)
    assert str(raised.value) == message


def test_libsvm_ignores_labels_qids_and_comments() -> None:
    matrix = decode_libsvm(b"1 qid:3 0:1.5 3:2 # note\n\n0 2:-1\n7\n", 5)
    assert matrix.shape == (3, 5)
    np.testing.assert_array_equal(matrix.toarray()[:, :4], [[1.5, 0, 0, 2], [0, 0, -1, 0], [0] * 4])
    assert matrix.nnz == 3  # absent entries stay missing


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"0 a:1", "text/libsvm row 1: feature index 'a' in 'a:1' is not a non-negative integer"),
        (b"0 1:2:3", "text/libsvm row 1: value '2:3' in '1:2:3' is not a number"),
        (b"0 9:1", "text/libsvm: feature index 9 is out of range; the model takes 4 features"),
        (b"# only a comment", "text/libsvm: the payload holds no rows"),
    ],
)
def test_libsvm_errors(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_libsvm(body, 4)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    "document",
    [
        {"instances": [{"features": [1, 2, None]}, {"features": [4, 5, 6]}]},
        {"instances": [[1, 2, None], [4, 5, 6]]},
        [[1, 2, None], [4, 5, 6]],
        {"instances": [{"data": {"features": {"values": [1, 2, None]}}}, [4, 5, 6]]},
    ],
)
def test_json_dense_shapes(document: object) -> None:
    rows = decode_json(json.dumps(document).encode(), 3)
    assert isinstance(rows, np.ndarray) and rows.shape == (2, 3)
    assert math.isnan(rows[0, 2]) and rows[1].tolist() == [4, 5, 6]


def test_json_single_row_shapes() -> None:
    assert decode_json(b"[1, 2, 3]", 3).shape == (1, 3)
    assert decode_json(b'{"features": [1, 2, 3]}', 3).shape == (1, 3)


def test_json_sparse_and_mixed_rows() -> None:
    document = {
        "instances": [
            {"data": {"features": {"keys": [0, 3], "values": [1.5, 2], "shape": [4]}}},
            {"features": [1, 0, 0, 1]},
        ]
    }
    matrix = decode_json(json.dumps(document).encode(), None)
    assert matrix.shape == (2, 4) and matrix.nnz == 6
    np.testing.assert_array_equal(matrix.toarray(), [[1.5, 0, 0, 2], [1, 0, 0, 1]])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"instances": 3}', 'application/json: "instances" must be a list'),
        ('{"instances": []}', "application/json: the payload holds no instances"),
        (
            '{"instances": [[1, true]]}',
            "application/json instance 1, value 2: true is not a number",
        ),
        ('"text"', 'application/json: expected {"instances": [...]} or a list of instances'),
        (
            '{"instances": [{"features": {"keys": [1], "values": [1, 2]}}]}',
            'application/json instance 1: 1 "keys" but 2 "values"',
        ),
        (
            '{"instances": [{"features": {"keys": [7], "values": [1], "shape": [4]}}]}',
            "application/json instance 1: feature index 7 is out of range for 4 features",
        ),
    ],
)
def test_json_errors(document: str, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_json(document.encode(), None)
    assert str(raised.value) == message


def test_jsonlines_rows_and_errors() -> None:
    rows = decode_jsonlines(b'{"features": [1, 2]}\n\n[3, 4]\n', 2)
    np.testing.assert_array_equal(rows, [[1, 2], [3, 4]])
    with pytest.raises(BadRequest, match="application/jsonlines line 2: not valid JSON"):
        decode_jsonlines(b"[1, 2]\n[3,", 2)
