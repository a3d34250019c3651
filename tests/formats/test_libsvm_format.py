"""LIBSVM training data read with xgboost's semantics."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from sagebox.formats.errors import FormatError
from sagebox.formats.libsvm import read_libsvm


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def sparse_data(rows: int = 300, columns: int = 25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, columns))
    features[rng.random(size=features.shape) < 0.7] = 0.0
    return features, rng.integers(0, 4, rows).astype(np.float64)


@pytest.mark.parametrize("zero_based", [True, False])
def test_matches_sklearn(tmp_path: Path, zero_based: bool) -> None:
    features, labels = sparse_data()
    path = tmp_path / "train.libsvm"
    dump_svmlight_file(features, labels, str(path), zero_based=zero_based)
    expected_x, expected_y = load_svmlight_file(str(path), zero_based=True)
    data = read_libsvm(path)
    assert data.features.dtype == np.float32
    assert data.features.shape == expected_x.shape
    np.testing.assert_array_equal(data.features.toarray(), expected_x.astype(np.float32).toarray())
    np.testing.assert_array_equal(data.labels, expected_y.astype(np.float32))
    assert data.weights is None and data.qid is None


def test_qid_weights_comments_and_gzip(tmp_path: Path) -> None:
    text = "# header comment\n1:2 qid:1 0:1.5 3:2  # row one\n0:0.5 qid:1 2:-1e2\n\n2:1 qid:2\n"
    (tmp_path / "r.libsvm.gz").write_bytes(gzip.compress(text.encode()))
    data = read_libsvm(tmp_path / "r.libsvm.gz")
    np.testing.assert_array_equal(data.labels, [1, 0, 2])
    np.testing.assert_array_equal(data.weights, [2, 0.5, 1])
    np.testing.assert_array_equal(data.qid, [1, 1, 2])
    np.testing.assert_array_equal(
        data.features.toarray(), [[1.5, 0, 0, 2], [0, 0, -100, 0], [0, 0, 0, 0]]
    )


def test_qid_matches_sklearn(tmp_path: Path) -> None:
    features, labels = sparse_data(rows=40, columns=6)
    path = tmp_path / "rank.libsvm"
    qid = np.repeat(np.arange(8), 5)
    dump_svmlight_file(features, labels, str(path), query_id=qid, zero_based=True)
    _x, _y, expected_qid = load_svmlight_file(str(path), zero_based=True, query_id=True)
    np.testing.assert_array_equal(read_libsvm(path).qid, expected_qid)


def test_many_files_are_stacked_and_aligned(tmp_path: Path) -> None:
    write(tmp_path / "a.libsvm", "1 1:1 5:5\n")
    write(tmp_path / "b.libsvm", "0 2:2\n")
    data = read_libsvm([tmp_path / "a.libsvm", tmp_path / "b.libsvm"], min_features=8)
    assert data.features.shape == (2, 8)
    np.testing.assert_array_equal(data.features.toarray()[1], [0, 0, 2, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(data.labels, [1, 0])


def test_tabs_and_rows_without_features(tmp_path: Path) -> None:
    write(tmp_path / "t.libsvm", "1\t0:1\t2:3\n0\n")
    data = read_libsvm(tmp_path / "t.libsvm")
    np.testing.assert_array_equal(data.features.toarray(), [[1, 0, 3], [0, 0, 0]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 1:2\nx 1:2\n", "d.libsvm line 2: label 'x' is not a number"),
        ("1 1:2\n1 1:2 oops\n", "d.libsvm line 2: 'oops' is not an index:value pair"),
        ("1 1:2:3\n", "d.libsvm line 1: '1:2:3' is not an index:value pair"),
        ("1 1:23:4\n", "d.libsvm line 1: '1:23:4' is not an index:value pair"),
        ("1 -1:2\n", "d.libsvm line 1: feature index '-1' in '-1:2' is not a non-negative integer"),
        ("1 a:2\n", "d.libsvm line 1: feature index 'a' in 'a:2' is not a non-negative integer"),
        ("1 1:2\n\n0 3:x\n", "d.libsvm line 3: feature value 'x' in '3:x' is not a number"),
        ("1:w 1:2\n", "d.libsvm line 1: label weight 'w' is not a number"),
        ("1 qid:a 1:2\n", "d.libsvm line 1: 'qid:a' is not a valid qid:<integer>"),
        ("1 qid:1 1:2\n0 1:3\n", "d.libsvm line 2: this row has no qid while other rows do"),
        ("", "d.libsvm: the file is empty"),
        ("# only a comment\n", "d.libsvm: the file is empty"),
    ],
)
def test_errors_name_file_line_and_token(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "d.libsvm", text)
    with pytest.raises(FormatError) as caught:
        read_libsvm(tmp_path / "d.libsvm")
    assert str(caught.value).startswith(message)
    assert caught.value.file == "d.libsvm"


def test_files_must_agree_on_weights(tmp_path: Path) -> None:
    write(tmp_path / "a.libsvm", "1:2 1:1\n")
    write(tmp_path / "b.libsvm", "1 1:1\n")
    with pytest.raises(FormatError, match="disagree"):
        read_libsvm([tmp_path / "a.libsvm", tmp_path / "b.libsvm"])


def test_no_files() -> None:
    with pytest.raises(ValueError, match="no LIBSVM files"):
        read_libsvm([])


def test_truncated_gzip(tmp_path: Path) -> None:
    packed = gzip.compress(b"1 1:2 3:4\n" * 10_000)
    (tmp_path / "t.libsvm.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(FormatError, match=r"^t.libsvm.gz: the file cannot be read"):
        read_libsvm(tmp_path / "t.libsvm.gz")
