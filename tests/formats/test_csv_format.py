"""SageMaker's training CSV: label first, no header, numbers only."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from sagebox.formats.csv import read_csv
from sagebox.formats.errors import FormatError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def random_csv(path: Path, rows: int = 200, columns: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(rows, columns)) * 100
    matrix[:, 0] = rng.integers(0, 3, rows)
    np.savetxt(path, matrix, delimiter=",", fmt="%.9g")
    return np.loadtxt(path, delimiter=",", dtype=np.float64).astype(np.float32)


def test_matches_numpy(tmp_path: Path) -> None:
    expected = random_csv(tmp_path / "train.csv")
    features, labels, weights = read_csv(tmp_path / "train.csv")
    assert features.dtype == np.float32 and features.flags.c_contiguous
    np.testing.assert_array_equal(features, expected[:, 1:])
    np.testing.assert_array_equal(labels, expected[:, 0])
    assert weights is None


def test_many_files_in_order_and_gzip(tmp_path: Path) -> None:
    first = random_csv(tmp_path / "a.csv", seed=1)
    second = random_csv(tmp_path / "b.csv", seed=2)
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress((tmp_path / "b.csv").read_bytes()))
    (tmp_path / "c.bin").write_bytes(gzip.compress((tmp_path / "a.csv").read_bytes()))
    data = read_csv([tmp_path / "a.csv", tmp_path / "b.csv.gz", tmp_path / "c.bin"])
    expected = np.vstack([first, second, first])
    np.testing.assert_array_equal(data.features, expected[:, 1:])
    np.testing.assert_array_equal(data.labels, expected[:, 0])


def test_weights_are_the_second_column(tmp_path: Path) -> None:
    write(tmp_path / "w.csv", "1,0.5,10,11\n0,2,20,21\n")
    features, labels, weights = read_csv(tmp_path / "w.csv", has_weights=True)
    np.testing.assert_array_equal(labels, [1, 0])
    np.testing.assert_array_equal(weights, [0.5, 2])
    np.testing.assert_array_equal(features, [[10, 11], [20, 21]])


def test_unsupervised_has_no_label(tmp_path: Path) -> None:
    write(tmp_path / "u.csv", "1,2\n3,4\n")
    features, labels, weights = read_csv(tmp_path / "u.csv", label_size=0)
    assert labels is None and weights is None
    np.testing.assert_array_equal(features, [[1, 2], [3, 4]])


def test_missing_features_blank_lines_crlf_and_quotes(tmp_path: Path) -> None:
    write(tmp_path / "m.csv", '1,,3\r\n\r\n0,"4.5", 6 \n')
    features, labels, _ = read_csv(tmp_path / "m.csv")
    np.testing.assert_array_equal(labels, [1, 0])
    assert np.isnan(features[0, 0])
    np.testing.assert_array_equal(features[1], [4.5, 6])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3\n4,5\n", "train.csv line 2: expected 3 columns, found 2"),
        ("1,2,3\n\n4,5,6,7\n", "train.csv line 3: expected 3 columns, found 4"),
        ("1,2,3\n4,abc,6\n", "train.csv line 2, column 2: 'abc' is not a number"),
        ("1,2,3\n4,5,1_000\n", "train.csv line 2, column 3: '1_000' is not a number"),
        (
            "label,x,y\n1,2,3\n",
            "train.csv line 1, column 1: 'label' is not a number (CSV training data has no header row)",
        ),
        ("1,2,3\n,5,6\n", "train.csv line 2, column 1: the label is missing"),
        ("1,2,3\nnan,5,6\n", "train.csv line 2, column 1: the label 'nan' is not a finite number"),
        ("", "train.csv: the file is empty"),
        ("\n\n", "train.csv: the file is empty"),
        (
            "1\n2\n",
            "train.csv line 1: found 1 column(s); expected the label and at least one feature column",
        ),
    ],
)
def test_errors_name_file_line_and_problem(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "train.csv", text)
    with pytest.raises(FormatError) as caught:
        read_csv(tmp_path / "train.csv")
    assert str(caught.value) == message or str(caught.value).startswith(message)
    assert caught.value.file == "train.csv"
    assert isinstance(caught.value, ValueError)


def test_bad_weight(tmp_path: Path) -> None:
    write(tmp_path / "w.csv", "1,1,2\n0,-1,3\n")
    with pytest.raises(
        FormatError, match=r"^w.csv line 2, column 2: the weight '-1' is not a finite number >= 0$"
    ):
        read_csv(tmp_path / "w.csv", has_weights=True)


def test_error_deep_in_a_large_file_is_located(tmp_path: Path) -> None:
    lines = ["1,2.5,3.5"] * 60_000
    lines[45_678] = "1,2.5,x"
    write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"^big.csv line 45679, column 3: 'x' is not a number$"):
        read_csv(tmp_path / "big.csv")


def test_error_in_gzip_file(tmp_path: Path) -> None:
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"1,2\n3,4\n5,six\n"))
    with pytest.raises(FormatError, match=r"^t.csv.gz line 3, column 2: 'six' is not a number$"):
        read_csv(tmp_path / "t.csv.gz")


def test_files_must_agree_on_columns(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "1,2,3\n")
    write(tmp_path / "sub" / "b.csv", "\n1,2\n")
    with pytest.raises(FormatError, match=r"^sub/b.csv line 2: expected 3 columns, found 2$"):
        read_csv([tmp_path / "a.csv", tmp_path / "sub" / "b.csv"], display_root=tmp_path)


def test_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no CSV files"):
        read_csv([])
    with pytest.raises(ValueError, match="label_size"):
        read_csv(tmp_path / "x.csv", label_size=2)


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes(b"1,2\n\xff\xfe,3\n")
    with pytest.raises(FormatError, match="b.csv line 2"):
        read_csv(tmp_path / "b.csv")


def test_truncated_gzip(tmp_path: Path) -> None:
    packed = gzip.compress(b"1,2,3\n" * 10_000)
    (tmp_path / "t.csv.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(FormatError, match=r"^t.csv.gz line \d+: the file cannot be read"):
        read_csv(tmp_path / "t.csv.gz")
